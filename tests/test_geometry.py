"""dclib.geometry: TwoNN recovers the dimension of flat sets, LID by hand, the
per-cluster average, Feature Twist and its official-code preset, the neighbour rates
of R-DC Fig. 14 by hand, and bad input."""

import math
import warnings

import numpy as np
import pytest
import torch

from dclib.geometry import (
    OFFICIAL_CODE,
    feature_twist,
    intrinsic_dimension,
    linear_dimension,
    neighbour_rates,
    per_cluster,
)


def flat(n: int, d: int, m: int = 10, seed: int = 0) -> np.ndarray:
    """n uniform points of the unit d-cube, embedded in R^m by a random orthonormal
    map: a flat set of dimension d."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(m, d)))  # (m, d), orthonormal columns
    return rng.uniform(size=(n, d)) @ basis.T


def variances_10_5_1(m: int = 10) -> np.ndarray:
    """8 points (the corners of a cube, scaled) with orthogonal, centred coordinates
    of variances proportional to 10, 5, 1, rotated into R^m: EVR = 10/16, 5/16, 1/16,
    cumulated 0.625, 0.9375, 1."""
    corners = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)])
    basis, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(m, 3)))
    return (corners * np.sqrt([10.0, 5.0, 1.0])) @ basis.T


# ------------------------------------------------------------- intrinsic dimension


@pytest.mark.parametrize("d", [2, 5])
def test_twonn_recovers_the_dimension_of_a_flat_set(d):
    z = flat(2000, d)
    assert intrinsic_dimension(z) == pytest.approx(d, rel=0.1)
    assert intrinsic_dimension(z, fraction=1.0) == pytest.approx(d, rel=0.1)


def test_twonn_is_skdims_with_the_documented_discard_fraction():
    from skdim.id import TwoNN

    z = flat(500, 3, seed=2)
    assert intrinsic_dimension(z, 0.8) == TwoNN(discard_fraction=0.2).fit(z).dimension_
    # fraction=1 keeps every ratio but the largest (where -log(1 - F) is infinite)
    whole = intrinsic_dimension(z, 1.0)
    assert whole == TwoNN(discard_fraction=1 / 1000).fit(z).dimension_
    assert whole != intrinsic_dimension(z, 0.9)


def test_twonn_takes_tensors_one_feature_and_duplicates_without_warnings():
    z = flat(300, 2, seed=3)
    assert intrinsic_dimension(torch.tensor(z, dtype=torch.float32)) == pytest.approx(
        intrinsic_dimension(z.astype(np.float32)), rel=1e-6
    )
    line = np.random.default_rng(4).uniform(size=(400, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert intrinsic_dimension(line) == pytest.approx(1, rel=0.15)
        twice = np.vstack([z, z[:20]])  # 40 points with r1 = 0 are dropped
        assert intrinsic_dimension(twice) == pytest.approx(2, rel=0.15)


@pytest.mark.parametrize(
    "z, match",
    [
        (np.zeros(10), "2-D"),
        (np.zeros((4, 2, 2)), "2-D"),
        (np.zeros((2, 3)), "at least 3 points"),
        (np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.0], [3.0, 1.0]]), "finite"),
        (np.array([[0.0, 1.0], [1.0, np.inf], [2.0, 0.0], [3.0, 1.0]]), "finite"),
        (np.array([["a", "b"]] * 4), "real numbers"),
    ],
)
def test_intrinsic_dimension_rejects_bad_points(z, match):
    with pytest.raises(ValueError, match=match):
        intrinsic_dimension(z)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_intrinsic_dimension_rejects_a_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        intrinsic_dimension(flat(20, 2), fraction)


# ------------------------------------------------------ linear intrinsic dimension


def test_a_plane_in_10d_has_two_components_at_90_percent():
    assert linear_dimension(flat(2000, 2)) == 2
    assert linear_dimension(flat(2000, 2), code_index=True) == 1


@pytest.mark.parametrize(
    "variance, components", [(0.5, 1), (0.6, 1), (0.7, 2), (0.9, 2), (0.95, 3)]
)
def test_linear_dimension_by_hand(variance, components):
    z = variances_10_5_1()
    assert linear_dimension(z, variance) == components
    assert linear_dimension(z, variance, code_index=True) == components - 1
    assert linear_dimension(torch.tensor(z), variance) == components


def test_standardising_equalises_a_large_and_a_small_feature():
    # centred, uncorrelated columns of variances 100 and 1: EVR (100, 1) / 101 raw,
    # (1/2, 1/2) standardised
    z = np.array([[10.0, 1.0], [-10.0, 1.0], [10.0, -1.0], [-10.0, -1.0]])
    assert linear_dimension(z, 0.9) == 1
    assert linear_dimension(z, 0.9, standardise=True) == 2
    assert linear_dimension(z, 0.9, standardise=True, code_index=True) == 1


def test_linear_dimension_of_equal_points_is_zero():
    assert linear_dimension(np.ones((5, 3))) == 0
    assert linear_dimension(np.ones((5, 3)), standardise=True, code_index=True) == 0


@pytest.mark.parametrize("variance", [0.0, 1.0, 1.2])
def test_linear_dimension_rejects_a_bad_variance(variance):
    with pytest.raises(ValueError, match="variance"):
        linear_dimension(flat(20, 2), variance)


def test_linear_dimension_rejects_bad_points():
    with pytest.raises(ValueError, match="2-D"):
        linear_dimension(np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        linear_dimension(np.array([[0.0, 1.0], [np.nan, 2.0]]))
    with pytest.raises(ValueError, match="at least 2 points"):
        linear_dimension(np.zeros((1, 3)))


# ------------------------------------------------------------------- per cluster

Z = np.arange(20.0).reshape(10, 2)  # row i = (2i, 2i + 1)
LABELS = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2])  # sizes 3, 5, 2


def test_per_cluster_averages_over_clusters_and_skips_small_ones():
    assert per_cluster(len, Z, LABELS) == 4.0  # (3 + 5) / 2; cluster 2 too small
    assert per_cluster(len, Z, LABELS, min_size=2) == pytest.approx(10 / 3)
    assert per_cluster(len, Z, LABELS, min_size=4) == 5.0
    # fn sees exactly its cluster's rows: first coordinates sum 0+2+4 and 6+...+14
    assert per_cluster(lambda x: x[:, 0].sum(), Z, LABELS) == (6 + 50) / 2
    assert per_cluster(len, torch.tensor(Z), torch.tensor(LABELS)) == 4.0


def test_per_cluster_is_nan_when_no_cluster_qualifies():
    assert math.isnan(per_cluster(len, Z, LABELS, min_size=6))


def test_per_cluster_rejects_mismatched_labels_and_min_size():
    with pytest.raises(ValueError, match="labels must have shape"):
        per_cluster(len, Z, LABELS[:-1])
    with pytest.raises(ValueError, match="labels must have shape"):
        per_cluster(len, Z, LABELS[:, None])
    with pytest.raises(ValueError, match="min_size"):
        per_cluster(len, Z, LABELS, min_size=0)


# ----------------------------------------------------------------- feature twist


def two_planes() -> tuple[np.ndarray, np.ndarray]:
    """Two clusters, each a flat 2-D set in R^10 (different planes), and a
    3-point cluster that min_size=4 skips."""
    z = np.vstack([flat(400, 2, seed=5), flat(400, 2, seed=6) + 5, flat(3, 2) - 5])
    return z, np.repeat([0, 1, 2], [400, 400, 3])


def test_feature_twist_is_lid_minus_id_per_cluster():
    z, labels = two_planes()
    ft = feature_twist(z, labels, min_size=4)
    assert set(ft) == {"id", "lid", "twist"}
    assert ft["lid"] == 2.0
    assert ft["id"] == pytest.approx(2, rel=0.15)
    assert ft["twist"] == ft["lid"] - ft["id"]
    assert ft["id"] == per_cluster(intrinsic_dimension, z, labels, min_size=4)


def test_feature_twist_official_preset():
    z, labels = two_planes()
    ft = feature_twist(z, labels, official=True, min_size=4)
    # standardised plane: still rank 2, so 99.99 % needs 2 components, index 1
    assert ft["lid"] == 1.0
    assert ft["id"] == per_cluster(
        lambda x: intrinsic_dimension(x, fraction=1.0), z, labels, min_size=4
    )
    assert ft["twist"] == ft["lid"] - ft["id"]
    assert dict(OFFICIAL_CODE) == {
        "fraction": 1.0,
        "variance": 0.9999,
        "standardise": True,
        "code_index": True,
    }
    # an explicit variance replaces the preset's: the 10/5/1 set at 0.5 needs 1
    # component, index 0; standardised (rotated into R^10) it still needs at most 3
    cube = variances_10_5_1()
    ft = feature_twist(cube, np.zeros(8, int), variance=0.5)
    assert ft["lid"] == 1.0
    assert feature_twist(cube, np.zeros(8, int), variance=0.5, official=True)[
        "lid"
    ] == linear_dimension(cube, 0.5, standardise=True, code_index=True)


def test_feature_twist_is_nan_without_a_large_enough_cluster():
    z, labels = two_planes()
    ft = feature_twist(z, labels, min_size=1000)
    assert all(math.isnan(v) for v in ft.values())


# ------------------------------------------------------------------- Fig. 14

Y = np.array([0, 0, 1, 1])
INDEX = np.array([[1, 2], [2, 3], [3, 0], [2, 1]])
# same label as the point: [[T, F], [F, F], [T, F], [T, F]]
KEPT = np.array([[True, True], [False, False], [True, False], [True, True]])
CORE = np.array([True, True, True, False])


def test_neighbour_rates_by_hand():
    rates = neighbour_rates(Y, INDEX, KEPT, CORE)
    # before: core rows 0-2, 2 of 6 neighbours true; after: kept (0, 1), (0, 2),
    # (2, 3): 2 of 3 true, pooled (point 1 keeps none; point 3 is no core point)
    assert rates == pytest.approx(
        {
            "true_before": 1 / 3,
            "false_before": 2 / 3,
            "true_after": 2 / 3,
            "false_after": 1 / 3,
        }
    )
    as_tensors = [torch.tensor(a) for a in (Y, INDEX, KEPT, CORE)]
    assert neighbour_rates(*as_tensors) == rates


def test_neighbour_rates_nan_without_core_points_or_kept_neighbours():
    rates = neighbour_rates(Y, INDEX, KEPT, np.zeros(4, bool))
    assert all(math.isnan(v) for v in rates.values())
    rates = neighbour_rates(Y, INDEX, np.zeros((4, 2), bool), CORE)
    assert rates["true_before"] == pytest.approx(1 / 3)
    assert math.isnan(rates["true_after"]) and math.isnan(rates["false_after"])


@pytest.mark.parametrize(
    "args, match",
    [
        ((Y[:, None], INDEX, KEPT, CORE), "y must be 1-D"),
        ((Y, INDEX[:3], KEPT, CORE), "index must be"),
        ((Y, INDEX.astype(float), KEPT, CORE), "index must be"),
        ((Y, INDEX + 1, KEPT, CORE), r"rows in \[0, 4\)"),
        ((Y, INDEX, KEPT[:, :1], CORE), "kept must be"),
        ((Y, INDEX, KEPT.astype(int), CORE), "kept must be"),
        ((Y, INDEX, KEPT, CORE[:3]), "core must have shape"),
        ((Y, INDEX, KEPT, CORE.astype(int)), "core must be a bool"),
    ],
)
def test_neighbour_rates_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        neighbour_rates(*args)
