from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dclib.metrics import (
    UNMATCHED,
    acc,
    ari,
    confusion,
    f1,
    hungarian_map,
    label_change,
    nmi,
    scores,
)

# three classes of two samples; c swaps the names of the first two groups and puts
# the first sample of class 2 into cluster 0
Y = [0, 0, 1, 1, 2, 2]
C = [1, 1, 0, 0, 0, 2]


def test_confusion_by_hand():
    # rows: classes 0, 1, 2; columns: clusters 0, 1, 2
    np.testing.assert_array_equal(confusion(Y, C), [[0, 2, 0], [2, 0, 0], [1, 0, 1]])
    # any label values, 2 classes x 3 clusters, columns in sorted cluster order
    np.testing.assert_array_equal(
        confusion([5, 5, -2], [42, 7, -3]), [[1, 0, 0], [0, 1, 1]]
    )


def test_acc_by_hand():
    # matching cluster 1 -> class 0, 0 -> 1 and 2 -> 2 hits 2 + 2 + 1 = 5 samples,
    # all but the 5th (class 2 in cluster 0); no matching hits 6: ACC = 5/6
    assert acc(Y, C) == pytest.approx(5 / 6)
    np.testing.assert_array_equal(hungarian_map(Y, C), [0, 0, 1, 1, 1, 2])


def test_acc_ignores_cluster_names_and_accepts_any_values():
    renamed = {0: 42, 1: -3, 2: 7}
    assert acc(Y, [renamed[c] for c in C]) == pytest.approx(5 / 6)
    np.testing.assert_array_equal(
        hungarian_map([10, 10, 20, 20, 30, 30], [renamed[c] for c in C]),
        [10, 10, 20, 20, 20, 30],
    )
    assert acc([5, 5, 9, 9], torch.tensor([1, 1, 0, 0])) == 1.0
    assert acc(torch.tensor([0.0, 1.0], requires_grad=True), [1, 0]) == 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_acc_accepts_cuda_tensors():
    assert acc(torch.tensor(Y).cuda(), torch.tensor(C).cuda()) == pytest.approx(5 / 6)


def test_acc_accepts_whole_floats_and_unsigned():
    assert acc(np.array(Y, dtype=float), np.array(C, dtype=np.uint8)) == 5 / 6


def test_label_change_ignores_renamed_clusters():
    assert label_change([0, 0, 1, 1], [1, 1, 0, 0]) == 0.0  # the same partition
    assert label_change([0, 0, 1, 1], [1, 1, 0, 1]) == pytest.approx(1 / 4)
    assert label_change([0, 0, 0, 0], [0, 1, 2, 3]) == pytest.approx(3 / 4)


def test_more_clusters_than_classes():
    # 4 clusters for 2 classes: only two clusters get a class, the others are wrong
    assert acc([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(2 / 4)
    assert list(hungarian_map([0, 0, 1, 1], [0, 1, 2, 3])).count(UNMATCHED) == 2


def test_unmatched_never_counts_as_class_minus_one():
    # -1 is a class here: unmatched clusters must still be wrong
    y, c = [-1, -1, 0, 0], [0, 1, 2, 3]
    assert acc(y, c) == pytest.approx(2 / 4)
    mapped = hungarian_map(y, c)
    assert (mapped == np.array(y)).sum() == 2
    assert sorted(mapped)[:2] == [-2, -2]


def test_fewer_clusters_than_classes():
    # 1 cluster for 2 classes: only the larger class can be right
    assert acc([0, 0, 0, 1], [4, 4, 4, 4]) == pytest.approx(3 / 4)
    # 2 clusters for 3 classes: the smallest class (2) gets no cluster
    assert acc([0, 0, 1, 1, 2], [3, 3, 8, 8, 8]) == pytest.approx(4 / 5)


def test_nmi_by_hand():
    # H(y) = ln 3 (three classes of 2/6); cluster sizes 3, 2, 1 of 6:
    # H(c) = 1/2 ln 2 + 1/3 ln 3 + 1/6 ln 6 = 2/3 ln 2 + 1/2 ln 3
    # only cluster 0 (half the samples) mixes two classes, 2:1:
    # H(y|c) = 1/2 (2/3 ln 3/2 + 1/3 ln 3) = 1/2 ln 3 - 1/3 ln 2
    # I = H(y) - H(y|c) = 1/2 ln 3 + 1/3 ln 2 ~ 0.7804
    ln2, ln3 = math.log(2), math.log(3)
    h_y, h_c = ln3, 2 / 3 * ln2 + 1 / 2 * ln3
    i = 1 / 2 * ln3 + 1 / 3 * ln2
    assert h_c < h_y  # so the max is H(y)
    assert nmi(Y, C, average="max") == pytest.approx(i / ln3)  # ~0.7103
    assert nmi(Y, C, average="arithmetic") == pytest.approx(2 * i / (h_y + h_c))
    assert nmi(Y, C) == nmi(Y, C, average="max")


def test_nmi_extremes():
    assert nmi(Y, [9, 9, 8, 8, 7, 7]) == pytest.approx(1.0)
    assert nmi(Y, [9, 9, 8, 8, 7, 7], average="arithmetic") == pytest.approx(1.0)
    # every class split evenly over both clusters: independent
    assert nmi([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)
    assert nmi([0, 0], [3, 3]) == 1.0
    assert nmi([0, 1], [3, 3]) == 0.0


def test_ari_by_hand():
    # contingency [[0,2,0],[2,0,0],[1,0,1]]: sum C(n_ij,2) = 2; rows: 3 x C(2,2) = 3;
    # columns C(3,2)+C(2,2)+C(1,2) = 4; expected = 3*4/C(6,2) = 0.8;
    # ARI = (2 - 0.8) / ((3 + 4)/2 - 0.8) = 1.2 / 2.7
    assert ari(Y, C) == pytest.approx(1.2 / 2.7)
    assert ari(Y, [9, 9, 8, 8, 7, 7]) == pytest.approx(1.0)


def test_f1_by_hand():
    # mapped [0,0,1,1,1,2]: class 0 P=1 R=1 F1=1; class 1 P=2/3 R=1 F1=0.8;
    # class 2 P=1 R=1/2 F1=2/3
    assert f1(Y, C) == pytest.approx((1 + 0.8 + 2 / 3) / 3)
    assert f1(Y, C, average="micro") == pytest.approx(5 / 6)


def test_f1_with_unmatched_clusters_by_hand():
    # mapped [0, unmatched, 1, unmatched]: each class P=1 (1 of 1) R=1/2, F1=2/3;
    # pooled: TP=2, predicted 2, true 4: P=1 R=1/2 F1=2/3, while ACC is 1/2
    y, c = [0, 0, 1, 1], [0, 1, 2, 3]
    assert f1(y, c) == pytest.approx(2 / 3)
    assert f1(y, c, average="micro") == pytest.approx(2 / 3)
    assert acc(y, c) == pytest.approx(1 / 2)


@st.composite
def labelings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Labelings with every one of k classes and at most k clusters present."""
    k = draw(st.integers(1, 5))
    n_clusters = draw(st.integers(1, k))
    extra = draw(st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, 9))))
    # the first k samples hold every class, clusters 0..n_clusters-1 among them
    first = draw(st.permutations([i % n_clusters for i in range(k)]))
    y = np.array(list(range(k)) + [a for a, _ in extra])
    c = np.array(first + [b % n_clusters for _, b in extra])
    ids = draw(st.permutations(range(-5, 5)))  # arbitrary cluster ids
    return y, np.array(ids)[c]


@settings(max_examples=60, deadline=None)
@given(labelings())
def test_micro_f1_equals_acc_without_extra_clusters(yc):
    y, c = yc
    assert f1(y, c, average="micro") == pytest.approx(acc(y, c))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=40),
    st.permutations(range(6)),
)
def test_scores_in_range_and_blind_to_cluster_names(pairs, ids):
    y, c = map(np.array, zip(*pairs, strict=True))
    before, after = scores(y, c), scores(y, np.array(ids)[c])
    # not F1: matchings tied on hits (y=[0,0,1,1], c=[0,2,0,1]) can differ in F1
    for name in ("acc", "nmi", "nmi_arithmetic", "ari"):
        assert after[name] == pytest.approx(before[name])
    for name, value in before.items():
        low = -1.0 if name == "ari" else 0.0
        assert low - 1e-12 <= value <= 1 + 1e-12
    # the best matching beats any single pair and no class beats its best cluster
    w = confusion(y, c)
    assert w.max() / y.size <= before["acc"] <= w.max(axis=1).sum() / y.size


def test_scores_keys():
    assert set(scores(Y, C)) == {"acc", "nmi", "nmi_arithmetic", "ari", "f1_macro"}
    assert scores(Y, C)["nmi_arithmetic"] == nmi(Y, C, average="arithmetic")


@pytest.mark.parametrize("fn", [acc, nmi, ari, f1, confusion, hungarian_map, scores])
@pytest.mark.parametrize(
    ("y", "c", "match"),
    [
        ([0, 1, 1, 0, 1], [0, 1, 1, 0], r"same length, got 5 and 4"),
        ([[0, 1]], [0, 1], r"y must be a non-empty 1-D array, got shape \(1, 2\)"),
        ([0, 1], 3, r"c must be a non-empty 1-D array, got shape \(\)"),
        ([], [], "non-empty"),
        ([0, 1.5], [0, 1], "y must hold integer labels, got fractions"),
        ([0, 1], [np.nan, 1], "c holds NaN or inf"),
        ([0, np.inf], [0, 1], "y holds NaN or inf"),
        (["a", "b"], [0, 1], "integer labels, got dtype"),
        ([0, None], [0, 1], "integer labels, got dtype object"),
    ],
)
def test_bad_labels_raise(fn, y, c, match):
    with pytest.raises(ValueError, match=match):
        fn(y, c)


@pytest.mark.parametrize(
    ("fn", "average", "match"),
    [
        (nmi, "geometric", r"unknown average 'geometric'; .*'max', 'arithmetic'"),
        (nmi, "macro", "unknown average"),
        (f1, "weighted", r"unknown average 'weighted'; .*'macro', 'micro'"),
        (f1, "max", "unknown average"),
    ],
)
def test_bad_average_raises(fn, average, match):
    with pytest.raises(ValueError, match=match):
        fn(Y, C, average=average)
