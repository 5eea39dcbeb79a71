"""Geometric diagnostics of R-DC (Shaheen, Mrabah et al., "Rethinking Deep Clustering
Paradigms"): intrinsic dimension, linear intrinsic dimension, Feature Twist, and the
neighbour rates of Fig. 14. They read the embedding (and, for the rates, the true
labels) and are never part of training.

- §1.2.1 "Feature Twist": ID is the number of dimensions needed to represent the
  points, LID the dimension of the smallest linear subspace holding them; LID - ID
  counts the coordinates a curved manifold needs on top of its own to become flat
  (the larger, the more curved). Fig. 1 averages both over the clusters and defines
  LID as the number of principal components that capture 90 % of the variance.
- §4.1.2 "Intrinsic Dimension and Linear Intrinsic Dimension": ID by TwoNN (Facco et
  al. 2017, ``intrinsic_dimension``), LID by PCA as in Ansuini et al. 2019
  (``linear_dimension``).
- §4.2.2 "Geometric Study": ID and LID over training (Fig. 15, ``feature_twist``),
  and Fig. 14, the share of true and false neighbours of the core points before and
  after R-DC's filtering (``neighbour_rates``).

The official R-DC code (official-code notes, addendum) computes both per *predicted*
cluster and averages over the clusters, with TwoNN kept on all ratios
(``fraction=1``) and "LID" as the 0-based index of the first principal component at
which the explained variance of the standardised features exceeds 99.99 %, i.e. the
number of components minus one. ``feature_twist(..., official=True)`` sets these.

Inputs may be NumPy arrays or torch tensors (any device); they are read as CPU NumPy
float64.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

__all__ = [
    "PAPER",
    "OFFICIAL_CODE",
    "code_scale",
    "feature_twist",
    "intrinsic_dimension",
    "linear_dimension",
    "neighbour_rates",
    "per_cluster",
    "twist_record",
]

Array = np.ndarray | torch.Tensor

PAPER: Mapping[str, Any] = MappingProxyType(
    {
        "fraction": 0.9,
        "variance": 0.9,
        "standardise": False,
        "code_index": False,
    }
)
"""``feature_twist``'s settings by default: TwoNN on the smallest 90 % of the ratios
(Facco et al.), LID = components for 90 % of the variance (Fig. 1 caption)."""

OFFICIAL_CODE: Mapping[str, Any] = MappingProxyType(
    {
        "fraction": 1.0,
        "variance": 0.9999,
        "standardise": True,
        "code_index": True,
    }
)
"""``feature_twist(..., official=True)``: the official R-DC code's settings."""

_DUPLICATES = r"Dropping \d+ points with zero distance to their nearest neighbour"
"""skdim's warning when points coincide (r1 = 0); such points are dropped, as in the
reference TwoNN of Ansuini et al., and the book must show no warnings."""


def _numpy(x: Array, name: str) -> np.ndarray:
    """``x`` as a CPU NumPy array (tensors detached), dtype kept."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise ValueError(f"{name} must be a numpy array or torch tensor, got {type(x)}")


def _points(z: Array, min_n: int) -> np.ndarray:
    """``z`` as a finite (n, m) float64 array with n >= ``min_n``."""
    if isinstance(z, torch.Tensor) and (z.is_complex() or z.dtype == torch.bool):
        raise ValueError(f"z must hold real numbers, got dtype {z.dtype}")
    z = _numpy(z, "z")
    if z.dtype.kind not in "iuf":
        raise ValueError(f"z must hold real numbers, got dtype {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"z must be 2-D (n points, m features), got shape {z.shape}")
    n, m = z.shape
    if n < min_n or m < 1:
        raise ValueError(
            f"z needs at least {min_n} points and 1 feature, got shape {z.shape}"
        )
    z = z.astype(np.float64, copy=False)
    if not np.isfinite(z).all():
        raise ValueError("z must be finite (it contains NaN or infinite values)")
    return z


def _labels(labels: Array, n: int, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D array of length ``n``."""
    labels = _numpy(labels, name)
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {labels.shape}")
    return labels


def intrinsic_dimension(z: Array, fraction: float = 0.9) -> float:
    """TwoNN intrinsic dimension (Facco et al. 2017) of the points ``z`` (n, m).

    For each point, mu = r2 / r1, the ratio of the distances to its second and first
    nearest neighbours, follows a Pareto law of shape d; d is the slope, through the
    origin, of -log(1 - F(mu)) against log(mu), F the empirical distribution, fitted on
    the smallest ``fraction`` of the ratios (the largest are the noisiest).

    Computed by scikit-dimension as
    ``skdim.id.TwoNN(discard_fraction=max(1 - fraction, 0.5 / n)).fit(z).dimension_``
    (``method="linear"``, the fit of Facco et al.). skdim keeps the
    ``int(N (1 - discard_fraction))`` smallest of the N ratios: ``floor(N fraction)``
    of them, but never the largest, whose F = 1 makes -log(1 - F) infinite (skdim
    would fail on it; the reference TwoNN of Ansuini et al. leaves it out too). So
    ``fraction=1`` (the official R-DC code's call, on whole clusters) fits all ratios
    but the largest. Coinciding points (r1 = 0) are dropped, silently; unlike the
    reference code, ties r1 = r2 are kept (they add a point at log mu = 0).

    ``fraction`` in (0, 1]; ``z`` needs n >= 3 finite points. A single feature is
    padded with a zero column (skdim wants two; distances are unchanged). Raises
    ValueError when fewer than 2 ratios are left to fit.
    """
    z = _points(z, min_n=3)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if z.shape[1] == 1:
        z = np.hstack([z, np.zeros_like(z)])
    from skdim.id import TwoNN  # imported here: numba makes `import skdim` slow

    discard = max(1.0 - fraction, 0.5 / len(z))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_DUPLICATES, category=UserWarning)
        return float(TwoNN(discard_fraction=discard).fit(z).dimension_)


def linear_dimension(
    z: Array,
    variance: float = 0.9,
    standardise: bool = False,
    code_index: bool = False,
) -> int:
    """The "LID": the number of principal components of ``z`` (n, m) needed to
    explain more than ``variance`` of its variance (Ansuini et al. 2019; R-DC Fig. 1:
    90 %).

    That is the smallest k with cumsum(EVR)[k - 1] > ``variance``, EVR the explained
    variance ratios (squared singular values of the centred data over their sum).
    ``standardise`` first scales every feature to unit variance (scikit-learn's
    ``StandardScaler``; constant features stay 0), as the official R-DC code does.
    ``code_index`` returns the official code's number, the 0-based index
    ``argwhere(cumsum(EVR) > variance)[0][0]``, i.e. k - 1; the official code uses it
    with ``variance=0.9999`` and ``standardise=True``.

    ``variance`` in (0, 1); ``z`` needs n >= 2 finite points. Points with no variance
    at all (all equal) give 0, also with ``code_index`` (the official code fails
    there).
    """
    z = _points(z, min_n=2)
    if not 0 < variance < 1:
        raise ValueError(f"variance must be in (0, 1), got {variance}")
    if standardise:
        z = StandardScaler().fit_transform(z)
    s = np.linalg.svd(z - z.mean(axis=0), compute_uv=False)
    power = s**2
    total = power.sum()
    if total == 0:
        return 0
    k = int(np.argmax(np.cumsum(power / total) > variance)) + 1
    # cumsum reaches 1 (up to rounding) > variance, so argmax finds a True entry
    return k - 1 if code_index else k


def per_cluster(
    fn: Callable[[np.ndarray], float],
    z: Array,
    labels: Array,
    min_size: int = 3,
) -> float:
    """The mean of ``fn(z[labels == k])`` over the clusters k (the distinct values of
    ``labels``, e.g. predicted clusters) with at least ``min_size`` points; NaN when
    none has. Every cluster counts once, whatever its size (R-DC averages ID and LID
    over the predicted clusters). ``fn`` receives a float64 NumPy array."""
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, got {min_size}")
    z = _points(z, min_n=1)
    labels = _labels(labels, len(z))
    values, counts = np.unique(labels, return_counts=True)
    results = [float(fn(z[labels == k])) for k in values[counts >= min_size]]
    return float(np.mean(results)) if results else math.nan


def feature_twist(
    z: Array,
    labels: Array,
    variance: float | None = None,
    fraction: float | None = None,
    official: bool = False,
    min_size: int = 3,
) -> dict[str, float]:
    """Feature Twist of the embedding ``z`` (n, m) under the clustering ``labels``
    (R-DC §1.2.1, Fig. 1 and 15): ``{"id": mean per-cluster TwoNN ID, "lid": mean
    per-cluster LID, "twist": lid - id}`` (``per_cluster``, clusters of fewer than
    ``min_size`` points skipped).

    By default the paper's settings (``PAPER``): ``fraction=0.9`` for TwoNN, LID =
    components for ``variance=0.9`` of the raw codes. ``official=True`` switches to
    the official code's (``OFFICIAL_CODE``): ``fraction=1``, ``variance=0.9999``,
    standardised features and the 0-based index (components - 1). ``variance`` or
    ``fraction``, when given, replace the preset's value.
    """
    settings = dict(OFFICIAL_CODE if official else PAPER)
    if variance is not None:
        settings["variance"] = variance
    if fraction is not None:
        settings["fraction"] = fraction
    z = _points(z, min_n=1)
    labels = _labels(labels, len(z))

    def id_(x: np.ndarray) -> float:
        return intrinsic_dimension(x, fraction=settings["fraction"])

    def lid(x: np.ndarray) -> float:
        return linear_dimension(
            x,
            variance=settings["variance"],
            standardise=settings["standardise"],
            code_index=settings["code_index"],
        )

    ids = per_cluster(id_, z, labels, min_size)
    lids = per_cluster(lid, z, labels, min_size)
    return {"id": ids, "lid": lids, "twist": lids - ids}


def neighbour_rates(
    y: Array, index: Array, kept: Array, core: Array
) -> dict[str, float]:
    """R-DC Fig. 14: how many of the core points' neighbours share their true class,
    before and after the filtering of neighbours.

    ``y`` (n,) true labels; ``index`` (n, M) the rows of each point's M nearest
    neighbours (itself excluded); ``kept`` (n, M) bool, the neighbours the filtering
    keeps; ``core`` (n,) bool, the core points. Over the (core point, neighbour)
    pairs, ``"true_before"`` is the share of all M neighbours with the point's label
    and ``"true_after"`` the share among the kept ones; ``"false_before"`` and
    ``"false_after"`` are 1 minus them. Shares are pooled over pairs (a core point
    with more kept neighbours weighs more; core points with none kept are left out
    after filtering). NaN when there is no core point, and after filtering when no
    core point keeps a neighbour.
    """
    y = _numpy(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n,), got shape {y.shape}")
    n = len(y)
    index = _numpy(index, "index")
    if index.ndim != 2 or index.shape[0] != n or index.dtype.kind not in "iu":
        raise ValueError(
            f"index must be an integer array of shape ({n}, M), got "
            f"{index.dtype} {index.shape}"
        )
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"index must hold rows in [0, {n})")
    kept = _numpy(kept, "kept")
    if kept.shape != index.shape or kept.dtype != np.bool_:
        raise ValueError(
            f"kept must be a bool array of shape {index.shape}, got "
            f"{kept.dtype} {kept.shape}"
        )
    core = _labels(core, n, "core")
    if core.dtype != np.bool_:
        raise ValueError(f"core must be a bool array, got {core.dtype}")

    same = y[index[core]] == y[core][:, None]  # (n_core, M)
    kept = kept[core]
    before = float(same.mean()) if same.size else math.nan
    n_kept = int(kept.sum())
    after = float((same & kept).sum() / n_kept) if n_kept else math.nan
    return {
        "true_before": before,
        "false_before": 1.0 - before,
        "true_after": after,
        "false_after": 1.0 - after,
    }


def code_scale(
    d: torch.Tensor, z: torch.Tensor, beta: float | None = None
) -> dict[str, float]:
    """The scale of an embedding seen by its neighbours (a start-of-phase
    diagnostic, label-free): the mean code norm ``code_norm``, the median distance
    to the first and to the M-th nearest neighbour (``d1``, ``dM``) and, given
    R-DC's ``beta``, the share of neighbour gaps h_im = d_im - d_i1 (eq. 7-8) at most
    beta (``gaps_under_beta``): 1 means eq. 9 keeps every neighbour. ``d`` (n, M)
    the ascending neighbour distances of the codes ``z`` (n, m)."""
    if d.ndim != 2 or z.ndim != 2 or len(d) != len(z):
        raise ValueError(
            f"need d (n, M) and z (n, m), got {tuple(d.shape)}, {tuple(z.shape)}"
        )
    out = {
        "code_norm": float(z.norm(dim=1).mean()),
        "d1": float(d[:, 0].median()),
        "dM": float(d[:, -1].median()),
    }
    if beta is not None:
        out["gaps_under_beta"] = float(((d - d[:, :1]) <= beta).float().mean())
    return out


def twist_record(z: Array, labels: Array) -> dict[str, float]:
    """``feature_twist`` for a training log (DEC, DynAE and R-DC with
    ``diagnostics.Diagnostics(checks=True)``): NaN where TwoNN cannot fit a
    cluster (its codes collapsed onto a few points), so that a diagnostic never
    stops a run."""
    try:
        return feature_twist(z, labels)
    except ValueError:
        return {"id": math.nan, "lid": math.nan, "twist": math.nan}
