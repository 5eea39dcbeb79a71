"""neighbours.knn: hand-computed cases, ties, bad input, and agreement with a brute
force over torch.cdist; functional.has_adjacent_neighbour against its definition."""

import numpy as np
import pytest
import torch

from dclib import functional as Fn
from dclib.neighbours import knn

ALGORITHMS = ["kd_tree", "brute"]


def reference(X: torch.Tensor, k: int, metric: str = "euclidean", self_too=False):
    """Every pair in float64, sorted stably: ties keep the lower index first."""
    X = X.double()
    if metric == "euclidean":
        score = torch.cdist(X, X, compute_mode="donot_use_mm_for_euclid_dist")
    else:
        score = -(X @ X.T)  # largest inner product first
    if not self_too:
        score.fill_diagonal_(torch.inf)
    values, indices = score.sort(dim=1, stable=True)
    values = values if metric == "euclidean" else -values
    return values[:, :k], indices[:, :k]


# ------------------------------------------------------------------ by hand

TOY = np.array([[0.0], [1.0], [3.0], [7.0], [8.0]])
TOY_IND = [[1, 2], [0, 2], [1, 0], [4, 2], [3, 2]]
TOY_DIST = [[1, 3], [1, 2], [2, 3], [1, 4], [1, 5]]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_one_dimensional_toy_by_hand(algorithm):
    dist, ind = knn(TOY, 2, algorithm=algorithm)
    assert isinstance(dist, np.ndarray) and isinstance(ind, np.ndarray)
    assert ind.dtype == np.int64 and dist.dtype == np.float64
    assert ind.tolist() == TOY_IND
    np.testing.assert_allclose(dist, TOY_DIST)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_self_included_comes_first(algorithm):
    dist, ind = knn(torch.tensor(TOY), 2, exclude_self=False, algorithm=algorithm)
    assert ind.tolist() == [[i, row[0]] for i, row in enumerate(TOY_IND)]
    assert dist[:, 0].tolist() == [0.0] * 5
    # every point is its own neighbour at k = n
    _, ind = knn(TOY, 5, exclude_self=False, algorithm=algorithm)
    assert sorted(ind[2].tolist()) == list(range(5)) and ind[2, 0] == 2


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_ties_go_to_the_lower_index(algorithm):
    line = np.arange(5.0)[:, None]  # each inner point has two neighbours at 1
    _, ind = knn(line, 1, algorithm=algorithm)
    assert ind[:, 0].tolist() == [1, 0, 1, 2, 3]
    dist, ind = knn(line, 2, algorithm=algorithm)
    assert ind.tolist() == [[1, 2], [0, 2], [1, 3], [2, 4], [3, 2]]
    assert dist.tolist() == [[1, 2], [1, 1], [1, 1], [1, 1], [1, 2]]
    # duplicates: the k lowest other indices, whatever the tree returns first
    dist, ind = knn(np.zeros((6, 2)), 3, algorithm=algorithm)
    assert (
        ind.tolist() == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]] + [[0, 1, 2]] * 2
    )
    assert (dist == 0).all() and not np.signbit(dist).any()
    # a duplicate of lower index precedes the point itself
    _, ind = knn(np.array([[5.0], [5.0], [1.0]]), 1, exclude_self=False)
    assert ind[:, 0].tolist() == [0, 0, 2]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_many_duplicates_widen_the_kd_tree_search(algorithm):
    g = torch.Generator().manual_seed(1)
    X = torch.cat([torch.zeros(40, 3), torch.randn(60, 3, generator=g)])
    X = X[torch.randperm(100, generator=g)]
    for k in (1, 3, 45):
        dist, ind = knn(X, k, algorithm=algorithm)
        ref_d, ref_i = reference(X, k)
        assert torch.equal(ind, ref_i)
        torch.testing.assert_close(dist.double(), ref_d, atol=1e-6, rtol=0)


def test_inner_product_by_hand():
    X = torch.tensor([[1.0, 0], [0, 1], [1, 1], [2, 0]])
    sim, ind = knn(X, 2, metric="inner_product")
    assert ind.tolist() == [[3, 2], [2, 0], [3, 0], [0, 2]]  # row 1: tie 0 / 3 -> 0
    assert sim.tolist() == [[2, 1], [1, 0], [2, 1], [2, 2]]
    sim, ind = knn(X, 2, metric="inner_product", exclude_self=False)
    assert ind[3].tolist() == [3, 0] and sim[3].tolist() == [4, 2]  # x_3.x_3 = 4
    onehot = torch.tensor([[1.0, 0], [1, 0], [1, 0], [0, 1]])
    sim, ind = knn(onehot, 2, metric="inner_product", chunk=1)
    assert ind.tolist() == [[1, 2], [0, 2], [0, 1], [0, 1]]
    assert sim.tolist() == [[1, 1], [1, 1], [1, 1], [0, 0]]


# ------------------------------------------------------------------ random data


@pytest.mark.parametrize("d", [2, 5, 40])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("algorithm", ["auto", "brute"])
def test_euclidean_agrees_with_cdist(d, dtype, algorithm):
    g = torch.Generator().manual_seed(d)
    X = torch.randn(300, d, generator=g, dtype=dtype)
    dist, ind = knn(X, 7, algorithm=algorithm, chunk=37)
    ref_d, ref_i = reference(X, 7)
    assert dist.dtype == dtype and ind.dtype == torch.int64
    assert dist.device == X.device and ind.device == X.device
    assert torch.equal(ind, ref_i)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(dist.double(), ref_d, atol=tol, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inner_product_agrees_with_the_full_matrix(dtype):
    g = torch.Generator().manual_seed(0)
    q = (3 * torch.randn(300, 6, generator=g, dtype=dtype)).softmax(1)
    for chunk in (None, 1, 64):
        sim, ind = knn(q, 5, metric="inner_product", chunk=chunk)
        ref_s, ref_i = reference(q, 5, "inner_product")
        assert torch.equal(ind, ref_i) and sim.dtype == dtype
        torch.testing.assert_close(sim.double(), ref_s)


def test_integer_input_and_numpy_output():
    dist, ind = knn(np.array([[0], [2], [3]]), 1)
    assert dist.dtype == np.float64 and dist[:, 0].tolist() == [2, 1, 1]
    assert ind[:, 0].tolist() == [1, 2, 1]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "X, k, kw, match",
    [
        (np.zeros(5), 1, {}, "2-D"),
        (torch.zeros(2, 3, 4), 1, {}, "2-D"),
        (np.array([[0.0], [np.nan]]), 1, {}, "finite"),
        (torch.tensor([[0.0], [np.inf]]), 1, {}, "finite"),
        ([[0.0], [1.0]], 1, {}, "tensor or numpy array"),
        (np.zeros((3, 2), dtype=complex), 1, {}, "real numbers"),
        (torch.zeros(3, 2, dtype=torch.bool), 1, {}, "real numbers"),
        (TOY, 0, {}, "1 <= k <= 4"),
        (TOY, 5, {}, "1 <= k <= 4"),
        (TOY, 6, {"exclude_self": False}, "1 <= k <= 5"),
        (TOY, True, {}, "k must be an integer"),
        (TOY, 1.5, {}, "k must be an integer"),
        (TOY[:1], 1, {}, "1 <= k <= 0"),
        (TOY, 1, {"metric": "cosine"}, "metric"),
        (TOY, 1, {"algorithm": "ball_tree"}, "algorithm"),
        (TOY, 1, {"metric": "inner_product", "algorithm": "kd_tree"}, "kd-tree"),
        (TOY, 1, {"chunk": 0}, "chunk"),
    ],
)
def test_bad_input_is_refused(X, k, kw, match):
    with pytest.raises(ValueError, match=match):
        knn(X, k, **kw)


# ---------------------------------------------------------- has_adjacent_neighbour


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("zeta", [0.3, 0.5, 0.8, 0.95])
def test_has_adjacent_neighbour_agrees_with_brute_force(dtype, zeta):
    g = torch.Generator().manual_seed(0)
    q = (4 * torch.randn(250, 5, generator=g, dtype=dtype)).softmax(1)
    q = torch.cat([q, q[:3]])  # duplicates are neighbours of each other
    sim = q @ q.T
    sim.fill_diagonal_(-1.0)
    expected = (sim >= zeta).any(1)
    assert torch.equal(Fn.has_adjacent_neighbour(q, zeta), expected)
    assert torch.equal(Fn.has_adjacent_neighbour(q, zeta, chunk=7), expected)


def test_has_adjacent_neighbour_without_other_points():
    assert Fn.has_adjacent_neighbour(torch.tensor([[0.6, 0.4]]), 0.1).tolist() == [
        False
    ]
    assert Fn.has_adjacent_neighbour(torch.zeros(0, 3)).shape == (0,)
