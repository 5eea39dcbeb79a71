"""The :class:`Dataset` type and its validation, the data directory
(:func:`data_dir`), and :class:`DatasetNotAvailable`, the error every loader raises
for files that are missing, corrupt or could not be downloaded."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class DatasetNotAvailable(FileNotFoundError):
    """The dataset's files are missing, corrupt, or could not be downloaded."""


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A labelled dataset held in memory.

    Attributes
    ----------
    X : ndarray of float32, shape (n, C, H, W) for images (values in [0, 1]) or
        (n, d) for feature vectors.
    y : ndarray of int64, shape (n,), class labels in ``[0, n_clusters)``.
    n_clusters : int, the number of classes.
    image_shape : ``(C, H, W)`` for images, None for feature vectors.
    name : str, the registry name the data came from.
    """

    X: np.ndarray
    y: np.ndarray
    n_clusters: int
    image_shape: tuple[int, int, int] | None
    name: str

    def __post_init__(self) -> None:
        _check_features(self.X, self.image_shape)
        _check_labels(self.y, self.n_clusters)
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} samples but y has {len(self.y)}")
        if not np.isfinite(self.X).all():
            raise ValueError("X contains NaN or infinite values")

    @property
    def flat(self) -> np.ndarray:
        """X as one row per sample, shape (n, d) (a view)."""
        return self.X.reshape(len(self.X), math.prod(self.X.shape[1:]))

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n={len(self)}, n_clusters={self.n_clusters},"
            f" image_shape={self.image_shape})"
        )


def _check_features(X: Any, image_shape: Any) -> None:
    if not isinstance(X, np.ndarray) or X.dtype != np.float32:
        got = f"dtype {X.dtype}" if isinstance(X, np.ndarray) else type(X).__name__
        raise ValueError(f"X must be a float32 numpy array, got {got}")
    if image_shape is None:
        if X.ndim != 2:
            raise ValueError(f"feature vectors X must be (n, d), got shape {X.shape}")
        return
    if not isinstance(image_shape, tuple) or len(image_shape) != 3:
        raise ValueError(f"image_shape must be a tuple (C, H, W), got {image_shape!r}")
    if X.shape[1:] != image_shape:
        raise ValueError(f"images X of shape {X.shape} do not match {image_shape}")


def _check_labels(y: Any, n_clusters: Any) -> None:
    if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.ndim != 1:
        got = (
            f"{y.dtype} of shape {y.shape}"
            if isinstance(y, np.ndarray)
            else type(y).__name__
        )
        raise ValueError(f"y must be a 1-D int64 numpy array, got {got}")
    _check_int(n_clusters, "n_clusters", 1)
    if y.size and (y.min() < 0 or y.max() >= n_clusters):
        raise ValueError(
            f"labels must lie in [0, {n_clusters}), got [{y.min()}, {y.max()}]"
        )


def _check_int(value: Any, what: str, minimum: int) -> None:
    integer = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not integer or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")


def data_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``root``, else ``$DCLIB_DATA``, else ``~/.cache/dclib``."""
    if root is None:
        root = os.environ.get("DCLIB_DATA") or Path.home() / ".cache" / "dclib"
    return Path(root).expanduser()


def _images(name: str, pixels: np.ndarray, y: Any, top: float, k: int) -> Dataset:
    """Images from ``pixels`` of shape (n, C, H, W) with values in [0, top]."""
    X = pixels.astype(np.float32, order="C")
    X /= np.float32(top)
    image_shape = (X.shape[1], X.shape[2], X.shape[3])
    return Dataset(X, np.asarray(y, dtype=np.int64), k, image_shape, name)


def _vectors(name: str, X: np.ndarray, y: np.ndarray, k: int) -> Dataset:
    return Dataset(X.astype(np.float32), y.astype(np.int64), k, None, name)
