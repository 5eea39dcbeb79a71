"""R-DC's filtering equations (eq. 3-11, 15) on a hand-drawn 2-D set."""

from __future__ import annotations

import pytest
import torch

from dclib.functional import (
    core_points,
    neighbour_centroids,
    neighbour_distances,
    neighbour_gaps,
    reliable_neighbours,
    share,
)

# a tight square of four points and one far point
Z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [10.0, 0.0]])


def test_eq3_distances_by_hand():
    d, idx = neighbour_distances(Z, 3)
    # point 0: 1 (point 1), 1 (point 2), sqrt 2 (point 3); ties to the lower index
    torch.testing.assert_close(d[0], torch.tensor([1.0, 1.0, 2**0.5]))
    assert idx[0].tolist() == [1, 2, 3]
    # point 4: 9 (point 1), sqrt 82 (point 3), 10 (point 0)
    torch.testing.assert_close(d[4], torch.tensor([9.0, 82**0.5, 10.0]))
    with_self, idx_self = neighbour_distances(Z, 3, include_self=True)
    assert with_self[0, 0] == 0 and idx_self[0, 0] == 0


def test_eq4_5_core_points_by_hand():
    d, _ = neighbour_distances(Z, 3)
    # square corners: r = 1 / sqrt 2 = 0.707; the far point: 9 / 10 = 0.9
    assert core_points(d, 0.7).tolist() == [True] * 5
    assert core_points(d, 0.8).tolist() == [False] * 4 + [True]
    assert core_points(torch.zeros(2, 3), 0.9).tolist() == [True, True]
    assert share(core_points(d, 0.8)) == pytest.approx(0.2)  # eq. 15


def test_eq7_9_reliable_neighbours_by_hand():
    d, _ = neighbour_distances(Z, 3)
    # point 0: h = (0, 0, 0.414); point 4: h = (0, 0.055, 1)
    got = reliable_neighbours(d, 0.1)
    assert got[0].tolist() == [True, True, False]
    assert got[4].tolist() == [True, True, False]
    assert reliable_neighbours(d, 0.0)[4].tolist() == [True, False, False]
    h = neighbour_gaps(d)
    torch.testing.assert_close(h[0], torch.tensor([0.0, 0.0, 2**0.5 - 1]))
    torch.testing.assert_close(h[4], torch.tensor([0.0, 82**0.5 - 9, 1.0]))


def test_eq11_neighbour_centroids_by_hand():
    d, idx = neighbour_distances(Z, 3)
    sigma = neighbour_centroids(Z, idx, reliable_neighbours(d, 0.1))
    # point 0: the mean of points 1 and 2; point 4: of points 1 and 3
    torch.testing.assert_close(sigma[0], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(sigma[4], torch.tensor([1.0, 0.5]))
    with pytest.raises(ValueError, match="reliable"):
        neighbour_centroids(Z, idx, torch.ones(5, 2, dtype=torch.bool))


def test_the_codes_strict_tests_and_absolute_reference():
    d = torch.tensor([[1.0, 2.0], [0.5, 0.75]])
    # r = (0.5, 0.666): >= 0.5 keeps both, the code's > 0.5 only the second
    assert core_points(d, 0.5).tolist() == [True, True]
    assert core_points(d, 0.5, strict=True).tolist() == [False, True]
    # h = (0, 1) and (0, 0.25): <= 1 keeps both of row 0, < 1 drops the second
    assert reliable_neighbours(d, 1.0)[0].tolist() == [True, True]
    assert reliable_neighbours(d, 1.0, strict=True)[0].tolist() == [True, False]
    # a reference d-bar of 0.25 for both rows (an absolute threshold 0.25 + beta)
    ref = torch.tensor([0.25, 0.25])
    got = reliable_neighbours(d, 0.5, reference=ref)
    assert got.tolist() == [[False, False], [True, True]]
    with pytest.raises(ValueError, match="reference"):
        reliable_neighbours(d, 0.5, reference=torch.zeros(3))


def test_nt_xent_by_hand():
    from dclib.functional import nt_xent

    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # every code: its partner at cosine 1, the two others at 0: -log(e / (e + 2))
    expected = torch.log(torch.tensor(torch.e + 2)) - 1
    torch.testing.assert_close(nt_xent(a, 3 * a, temperature=1.0), expected)
    # swapped views: each partner now at cosine 0, one negative at 1
    swapped = nt_xent(a, a.flip(0), temperature=1.0)
    assert swapped > expected
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(a, a, temperature=0.0)
    with pytest.raises(ValueError, match="two views"):
        nt_xent(a, a[:1])
