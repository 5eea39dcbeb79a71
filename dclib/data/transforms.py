"""Pure transforms of a :class:`Dataset` (a new one, the input untouched): the
stratified :func:`subset`, :func:`imbalanced` subsampling, and R-DC's
:func:`row_normalised`, :func:`standardised` and :func:`noisy`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from dclib.data.dataset import Dataset, _check_int


def subset(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """A stratified random subset of ``n`` samples, in the original order.

    Each class keeps its share of ``n`` (the largest remainders round up); which
    samples of a class are kept is random under ``seed`` and deterministic.

    Parameters
    ----------
    ds : Dataset of N samples.
    n : 1 <= n <= N.
    seed : non-negative int.

    Returns
    -------
    Dataset with X of shape (n, ...) and the same ``n_clusters`` and ``name``.
    """
    _check_int(n, "n", 1)
    _check_int(seed, "seed", 0)
    if n > len(ds):
        raise ValueError(f"n={n} exceeds the {len(ds)} samples of dataset {ds.name!r}")
    counts = np.bincount(ds.y, minlength=ds.n_clusters)
    quota = counts * n // len(ds)
    leftover = counts * n % len(ds)
    quota[np.argsort(-leftover, kind="stable")[: n - quota.sum()]] += 1
    rng = np.random.default_rng(seed)
    by_class = np.lexsort((rng.random(len(ds)), ds.y))
    rank = np.empty(len(ds), dtype=np.int64)
    rank[by_class] = np.arange(len(ds)) - np.repeat(np.cumsum(counts) - counts, counts)
    return _take(ds, rank < quota[ds.y])


def imbalanced(ds: Dataset, r: float, seed: int = 0) -> Dataset:
    """Subsample class ``c`` with keep probability ``r + (1 - r) c / (K - 1)``.

    The protocol of DCSS §4.8 and DSSL §IV-C: class 0 keeps a fraction ``r`` of its
    samples, class ``K - 1`` keeps all of them.

    Parameters
    ----------
    ds : Dataset with K = ``ds.n_clusters`` >= 2 classes.
    r : the keep probability of class 0, ``0 < r <= 1``.
    seed : non-negative int; the draw is deterministic under it.

    Returns
    -------
    Dataset with the kept samples in their original order, same ``n_clusters``.
    """
    if isinstance(r, bool) or not isinstance(r, numbers.Real) or not 0 < r <= 1:
        raise ValueError(f"r must be a number in (0, 1], got {r!r}")
    _check_int(seed, "seed", 0)
    if ds.n_clusters < 2:
        raise ValueError(f"imbalanced needs at least 2 classes, got {ds.n_clusters}")
    keep = r + (1 - r) * np.arange(ds.n_clusters) / (ds.n_clusters - 1)
    return _take(ds, np.random.default_rng(seed).random(len(ds)) < keep[ds.y])


def _take(ds: Dataset, mask: np.ndarray) -> Dataset:
    return replace(ds, X=ds.X[mask], y=ds.y[mask])


_BLOCK_VALUES = 1 << 22
"""About how many values a transform holds in float64 at once (32 MiB)."""


def row_normalised(ds: Dataset) -> Dataset:
    """Each sample scaled to unit Euclidean (L2) norm: R-DC's "row normalization".

    R-DC §4.1.1 standardises the data matrix X "through row normalization" before
    the network and defines it no further; this is the usual meaning (scikit-learn's
    ``normalize``): row ``x_i`` becomes ``x_i / ||x_i||_2``, the norm taken over all
    of a sample's values (every pixel of every channel). An all-zero row stays zero.

    Parameters
    ----------
    ds : Dataset of images (n, C, H, W) or vectors (n, d).

    Returns
    -------
    Dataset of the same shape, labels, ``image_shape`` and ``name``; values are no
    longer in [0, 1] but each row has norm 1 (0 for a zero row).
    """
    flat = _flat_of(ds)
    out = np.empty_like(flat)
    for block in _blocks(flat):
        rows = flat[block].astype(np.float64)
        norm = np.sqrt(np.einsum("ij,ij->i", rows, rows))
        out[block] = rows / np.where(norm > 0, norm, 1.0)[:, None]
    return replace(ds, X=out.reshape(ds.X.shape))


def standardised(ds: Dataset) -> Dataset:
    """Feature-wise z-scores, R-DC eq. 16: ``x_ij <- (x_ij - mu_j) / sigma_j``.

    ``mu_j`` and ``sigma_j`` are the mean and the population standard deviation
    (ddof 0, as scikit-learn's ``StandardScaler``; the paper does not say which) of
    feature ``j`` (one pixel of one channel for images) over the ``n`` samples, so
    every non-constant feature ends with mean 0 and standard deviation 1. A constant
    feature (``sigma_j = 0``) gets ``sigma_j = 1``: it becomes 0 everywhere. The
    statistics are computed in float64.

    Parameters
    ----------
    ds : Dataset of images (n, C, H, W) or vectors (n, d).

    Returns
    -------
    Dataset of the same shape, labels, ``image_shape`` and ``name``.
    """
    flat = _flat_of(ds)
    if not len(flat):
        raise ValueError(f"standardised needs at least one sample; {ds!r} has none")
    mean = flat.mean(axis=0, dtype=np.float64)
    squares = np.zeros(flat.shape[1])
    for block in _blocks(flat):
        centred = flat[block] - mean
        squares += np.einsum("ij,ij->j", centred, centred)
    sigma = np.sqrt(squares / len(flat))
    sigma[sigma == 0] = 1.0
    out = np.empty_like(flat)
    for block in _blocks(flat):
        out[block] = (flat[block] - mean) / sigma
    return replace(ds, X=out.reshape(ds.X.shape))


def noisy(ds: Dataset, sigma: float, seed: int = 0) -> Dataset:
    """Additive Gaussian noise, R-DC eq. 17: ``X_noisy = X + N(0, sigma^2)``.

    Each value of X gets its own independent draw. The paper's robustness test
    (§4.2.5) adds it to the standardised data, whose standard deviation is 1, with
    ``sigma`` in {0, 0.05, 0.1, 0.15, 0.2, 0.25}: ``noisy(standardised(ds), 0.1)``.
    This function does not standardise; it adds noise to whatever ``ds`` holds.

    Parameters
    ----------
    ds : Dataset of images (n, C, H, W) or vectors (n, d).
    sigma : the noise's standard deviation, a finite number >= 0 (0: X unchanged).
    seed : non-negative int; the noise is the same for the same seed and shape.

    Returns
    -------
    Dataset of the same shape, labels, ``image_shape`` and ``name``.
    """
    flat = _flat_of(ds)
    real = isinstance(sigma, numbers.Real) and not isinstance(sigma, bool)
    if not real or not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    _check_int(seed, "seed", 0)
    noise = np.random.default_rng(seed).standard_normal(flat.shape, dtype=np.float32)
    noise *= np.float32(sigma)
    noise += flat
    return replace(ds, X=noise.reshape(ds.X.shape))


def _flat_of(ds: Any) -> np.ndarray:
    if not isinstance(ds, Dataset):
        raise TypeError(f"expected a dclib.data.Dataset, got {type(ds).__name__}")
    return ds.flat


def _blocks(flat: np.ndarray) -> Iterator[slice]:
    """Consecutive row slices of ``flat`` of about _BLOCK_VALUES values each."""
    step = max(1, _BLOCK_VALUES // max(1, flat.shape[1]))
    for lo in range(0, len(flat), step):
        yield slice(lo, lo + step)
