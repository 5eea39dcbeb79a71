"""Clustering scores: ACC, NMI, ARI and F1, for any label values.

Cluster ids are arbitrary, so ACC and F1 first match clusters to classes one to one
with the Hungarian algorithm on the confusion matrix (DynAE eq. 15). The number of
clusters may differ from the number of classes: clusters left without a class count
as wrong.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

UNMATCHED = -1
"""Label given by ``hungarian_map`` to clusters matched to no class."""


def _labels(y, c) -> tuple[np.ndarray, np.ndarray]:
    """Validate two label vectors: 1-D, same non-zero length, finite integers."""
    out = []
    for name, v in (("y", y), ("c", c)):
        v = np.asarray(v.cpu() if hasattr(v, "cpu") else v)
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


def confusion(y, c) -> np.ndarray:
    """Counts ``w[a, b]`` of the a-th class in the b-th cluster (ids sorted)."""
    y, c = _labels(y, c)
    _, yi = np.unique(y, return_inverse=True)
    _, ci = np.unique(c, return_inverse=True)
    w = np.zeros((yi.max() + 1, ci.max() + 1), dtype=np.int64)
    np.add.at(w, (yi, ci), 1)
    return w


def hungarian_map(y, c) -> np.ndarray:
    """``c`` renamed by the one-to-one cluster -> class matching with most hits.

    Clusters that get no class (more clusters than classes) become ``UNMATCHED``.
    """
    y, c = _labels(y, c)
    classes, clusters = np.unique(y), np.unique(c)
    rows, cols = linear_sum_assignment(confusion(y, c), maximize=True)
    lookup = np.full(clusters.size, UNMATCHED, dtype=np.int64)
    lookup[cols] = classes[rows]
    return lookup[np.searchsorted(clusters, c)]


def acc(y, c) -> float:
    """Unsupervised clustering accuracy, in [0, 1] (DEC; DynAE eq. 15)."""
    y, c = _labels(y, c)
    return float((hungarian_map(y, c) == y).mean())


_NMI_AVERAGES = ("max", "arithmetic")


def nmi(y, c, average: str = "max") -> float:
    """Normalised mutual information I(y, c) / mean(H(y), H(c)).

    ``average="max"`` divides by max{H(y), H(c)}, as DCSS, DSSL and DML state;
    ``"arithmetic"`` by (H(y) + H(c)) / 2, as DynAE (eq. 16) and scikit-learn's
    default do. The default follows the three Armanfard-lab papers.
    """
    if average not in _NMI_AVERAGES:
        raise ValueError(f"unknown average {average!r}; choose one of {_NMI_AVERAGES}")
    y, c = _labels(y, c)
    return float(skm.normalized_mutual_info_score(y, c, average_method=average))


def ari(y, c) -> float:
    """Adjusted Rand index."""
    return float(skm.adjusted_rand_score(*_labels(y, c)))


def f1(y, c, average: str = "macro") -> float:
    """F1 after the Hungarian matching (R-DC); ``"micro"`` equals ACC."""
    if average not in ("macro", "micro"):
        raise ValueError(f"unknown average {average!r}; choose 'macro' or 'micro'")
    y, c = _labels(y, c)
    mapped = hungarian_map(y, c)
    if average == "micro":
        return float((mapped == y).mean())
    return float(
        skm.f1_score(y, mapped, labels=np.unique(y), average="macro", zero_division=0)
    )


def scores(y, c) -> dict[str, float]:
    """Every score the papers report, for tables."""
    return {
        "acc": acc(y, c),
        "nmi": nmi(y, c),
        "nmi_arithmetic": nmi(y, c, average="arithmetic"),
        "ari": ari(y, c),
        "f1_macro": f1(y, c),
    }
