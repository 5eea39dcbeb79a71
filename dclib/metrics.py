"""Clustering scores: ACC, NMI, ARI and F1, for any integer label values.

Every function takes the true classes ``y`` and the predicted clusters ``c`` as 1-D
array-likes of integer labels (lists, NumPy arrays, torch tensors on any device;
floats are accepted when every value is a whole number). Cluster ids are arbitrary,
so ACC and F1 first match clusters to classes one to one with the Hungarian
algorithm on the confusion matrix (DynAE eq. 15, :cite:`mrabah2020dynae`). The
number of clusters may differ from the number of classes: samples in a cluster left
without a class count as wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

UNMATCHED = -1
"""Label ``hungarian_map`` gives to clusters matched to no class (unless -1 is a
class, see there)."""


def _labels(y: ArrayLike, c: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``y`` and ``c``: 1-D, same non-zero length, finite whole numbers."""
    out = []
    for name, v in (("y", y), ("c", c)):
        v = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(
                f"{name} must be a non-empty 1-D array, got shape {v.shape}"
            )
        if v.dtype.kind == "f":
            if not np.isfinite(v).all():
                raise ValueError(f"{name} holds NaN or inf")
            if not (v == np.round(v)).all():
                raise ValueError(f"{name} must hold integer labels, got fractions")
        elif v.dtype.kind not in "iub":
            raise ValueError(f"{name} must hold integer labels, got dtype {v.dtype}")
        out.append(v.astype(np.int64))
    if out[0].size != out[1].size:
        raise ValueError(
            f"y and c must have the same length, got {out[0].size} and {out[1].size}"
        )
    return out[0], out[1]


def _check_option(name: str, value: str, options: Sequence[str]) -> None:
    if value not in options:
        raise ValueError(
            f"unknown {name} {value!r}; choose one of {', '.join(map(repr, options))}"
        )


def _contingency(
    y: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sorted classes, each sample's class and cluster index, and the counts."""
    classes, yi = np.unique(y, return_inverse=True)
    clusters, ci = np.unique(c, return_inverse=True)
    shape = (classes.size, clusters.size)
    flat = np.ravel_multi_index((yi, ci), shape)
    w = np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)
    return classes, yi, ci, w


def _matching(
    y: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted classes, each sample's class index, and the index of the class its
    cluster is matched to (-1 where the cluster got none)."""
    classes, yi, ci, w = _contingency(y, c)
    rows, cols = linear_sum_assignment(w, maximize=True)
    to_class = np.full(w.shape[1], -1, dtype=np.int64)
    to_class[cols] = rows
    return classes, yi, to_class[ci]


def confusion(y: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Contingency matrix of classes against clusters.

    Returns
    -------
    numpy.ndarray
        ``w[a, b]``, the number of samples of the a-th smallest class in the b-th
        smallest cluster id; shape ``(n_classes, n_clusters)``.
    """
    return _contingency(*_labels(y, c))[3]


def hungarian_map(y: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Rename clusters to classes by the one-to-one matching with the most hits.

    Returns
    -------
    numpy.ndarray
        ``c`` with every matched cluster replaced by its class. Clusters that get no
        class (more clusters than classes) become ``UNMATCHED`` (-1), or, if -1 is
        itself a class, one less than the smallest class, so that they never count
        as right.
    """
    classes, _, matched = _matching(*_labels(y, c))
    fill = classes[0] - 1 if UNMATCHED in classes else UNMATCHED
    return np.where(matched >= 0, classes[matched], fill)


def acc(y: ArrayLike, c: ArrayLike) -> float:
    """Unsupervised clustering accuracy, in [0, 1].

    The fraction of samples right under the best one-to-one matching of clusters to
    classes (DEC :cite:`xie2016dec`; DynAE eq. 15).
    """
    _, yi, matched = _matching(*_labels(y, c))
    return float(np.mean(matched == yi))


def label_change(before: ArrayLike, after: ArrayLike) -> float:
    """Share of samples whose cluster changed between two partitions, in [0, 1]:
    ``1 - acc(before, after)``, so that renaming the clusters (a new k-means run
    numbers them anew) changes nothing."""
    return 1.0 - acc(before, after)


_NMI_AVERAGES = ("max", "arithmetic")


def nmi(
    y: ArrayLike, c: ArrayLike, *, average: Literal["max", "arithmetic"] = "max"
) -> float:
    """Normalised mutual information ``I(y, c) / mean(H(y), H(c))``.

    Parameters
    ----------
    average
        ``"max"`` divides by ``max{H(y), H(c)}``, as DCSS, DSSL and DML state
        :cite:`sadeghi2021dcss,sadeghi2021dssl,sadeghi2023dml`; ``"arithmetic"`` by
        ``(H(y) + H(c)) / 2``, as DynAE (eq. 16) and scikit-learn's default do. The
        default follows the three papers.

    Returns
    -------
    float
        In [0, 1]; scikit-learn's convention for single groups: 1.0 when ``y`` and
        ``c`` are both one group, 0.0 when only one of them is.
    """
    _check_option("average", average, _NMI_AVERAGES)
    y, c = _labels(y, c)
    return float(skm.normalized_mutual_info_score(y, c, average_method=average))


def ari(y: ArrayLike, c: ArrayLike) -> float:
    """Adjusted Rand index (Hubert and Arabie, 1985), at most 1, 0 for chance."""
    return float(skm.adjusted_rand_score(*_labels(y, c)))


_F1_AVERAGES = ("macro", "micro")


def f1(
    y: ArrayLike, c: ArrayLike, *, average: Literal["macro", "micro"] = "macro"
) -> float:
    """F1 of the classes after the Hungarian matching (R-DC :cite:`shaheen2025rdc`).

    Parameters
    ----------
    average
        ``"macro"``: the mean of the per-class F1; ``"micro"``: F1 of the pooled
        counts, which equals ACC when there are no more clusters than classes.
        Samples of unmatched clusters are misses of their class but no false
        positive of any class. A class nothing is matched to has F1 0.

    Notes
    -----
    Where several matchings tie on hits, the one SciPy's solver returns is used, so
    F1 (unlike ACC) may then depend on how the clusters are numbered.
    """
    _check_option("average", average, _F1_AVERAGES)
    classes, yi, matched = _matching(*_labels(y, c))
    return float(
        skm.f1_score(
            yi,
            matched,
            labels=np.arange(classes.size),
            average=average,
            zero_division=0,
        )
    )


def scores(y: ArrayLike, c: ArrayLike) -> dict[str, float]:
    """Every score the papers report, for tables.

    Returns
    -------
    dict
        ``acc``, ``nmi`` (max), ``nmi_arithmetic``, ``ari`` and ``f1_macro``.
    """
    return {
        "acc": acc(y, c),
        "nmi": nmi(y, c),
        "nmi_arithmetic": nmi(y, c, average="arithmetic"),
        "ari": ari(y, c),
        "f1_macro": f1(y, c),
    }
