from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dclib.metrics import UNMATCHED, acc, ari, confusion, f1, hungarian_map, nmi, scores

# y: three classes of two; c swaps the names of the first two groups, misplaces one
Y = [0, 0, 1, 1, 2, 2]
C = [1, 1, 0, 0, 0, 2]


def test_acc_by_hand():
    # matching 1->0, 0->1, 2->2 gets samples 1-5 right but sample 5 (class 2 in
    # cluster 0) wrong: 5/6
    assert acc(Y, C) == pytest.approx(5 / 6)
    assert list(hungarian_map(Y, C)) == [0, 0, 1, 1, 1, 2]


def test_acc_ignores_cluster_names_and_accepts_any_values():
    renamed = {0: 42, 1: -3, 2: 7}
    assert acc(Y, [renamed[c] for c in C]) == pytest.approx(5 / 6)
    assert acc([5, 5, 9, 9], torch.tensor([1, 1, 0, 0])) == 1.0


def test_acc_with_more_or_fewer_clusters_than_classes():
    # 4 clusters for 2 classes: two clusters stay unmatched and count as wrong
    assert acc([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(2 / 4)
    assert UNMATCHED in hungarian_map([0, 0, 1, 1], [0, 1, 2, 3])
    # 1 cluster for 2 classes: only the larger class can be right
    assert acc([0, 0, 0, 1], [4, 4, 4, 4]) == pytest.approx(3 / 4)


def test_confusion_by_hand():
    np.testing.assert_array_equal(confusion(Y, C), [[0, 2, 0], [2, 0, 0], [1, 0, 1]])


def test_nmi_by_hand():
    h_y = math.log(3)
    h_c = -(0.5 * math.log(0.5) + 1 / 3 * math.log(1 / 3) + 1 / 6 * math.log(1 / 6))
    # only cluster 0 (half the samples) mixes two classes, in proportion 2:1
    h_y_given_c = 0.5 * -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    i = h_y - h_y_given_c
    assert nmi(Y, C, average="max") == pytest.approx(i / max(h_y, h_c))
    assert nmi(Y, C, average="arithmetic") == pytest.approx(i / ((h_y + h_c) / 2))
    assert nmi(Y, C) == nmi(Y, C, average="max")


def test_nmi_extremes():
    assert nmi(Y, [9, 9, 8, 8, 7, 7]) == pytest.approx(1.0)
    assert nmi([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)


def test_ari_by_hand():
    # contingency [[0,2,0],[2,0,0],[1,0,1]]: sum C(n_ij,2) = 2; rows: 3 x C(2,2) = 3;
    # columns C(3,2)+C(2,2)+C(1,2) = 4; expected = 3*4/C(6,2) = 0.8;
    # ARI = (2 - 0.8) / ((3 + 4)/2 - 0.8) = 1.2 / 2.7
    assert ari(Y, C) == pytest.approx(1.2 / 2.7)


def test_f1_by_hand():
    # after mapping: class 0 P=1 R=1 F1=1; class 1 P=2/3 R=1 F1=0.8; class 2 P=1 R=1/2
    # F1=2/3
    assert f1(Y, C) == pytest.approx((1 + 0.8 + 2 / 3) / 3)
    assert f1(Y, C, average="micro") == pytest.approx(5 / 6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40)
)
def test_micro_f1_equals_acc_and_scores_are_in_range(pairs):
    y, c = map(np.array, zip(*pairs, strict=True))
    assert f1(y, c, average="micro") == pytest.approx(acc(y, c))
    for name, value in scores(y, c).items():
        low = -1.0 if name == "ari" else 0.0
        assert low - 1e-12 <= value <= 1 + 1e-12


@pytest.mark.parametrize(
    ("y", "c", "kwargs", "match"),
    [
        ([0, 1], [0, 1, 1], {}, "same length"),
        ([[0, 1]], [0, 1], {}, "1-D"),
        ([], [], {}, "non-empty"),
        ([0, 1.5], [0, 1], {}, "integer"),
        ([0, np.nan], [0, 1], {}, "NaN"),
        (["a", "b"], [0, 1], {}, "dtype"),
        ([0, 1], [0, 1], {"average": "geometric"}, "average"),
    ],
)
def test_bad_input_raises(y, c, kwargs, match):
    fn = nmi if kwargs else acc
    with pytest.raises(ValueError, match=match):
        fn(y, c, **kwargs)


def test_bad_f1_average_raises():
    with pytest.raises(ValueError, match="average"):
        f1(Y, C, average="weighted")
