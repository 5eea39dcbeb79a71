"""Every dataset by name (:data:`DATASETS`, :data:`OFFLINE`) and :func:`load`."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dclib.data.dataset import Dataset, _check_int, data_dir
from dclib.data.offline import (
    _load_blobs,
    _load_curves2d,
    _load_digits,
    _load_fmnist,
    _load_mnist5k,
)
from dclib.data.online import (
    _MEDMNIST,
    _TORCHVISION,
    _load_2mnist,
    _load_medmnist,
    _load_torchvision,
)
from dclib.data.transforms import subset


def _offline(make: Callable[[], Dataset]) -> Callable[[Path, bool], Dataset]:
    return lambda root, download: make()


_LOADERS: dict[str, Callable[[Path, bool], Dataset]] = {
    "mnist5k": _offline(_load_mnist5k),
    "digits": _offline(_load_digits),
    "fmnist": _load_fmnist,
    "blobs": _offline(_load_blobs),
    "curves2d": _offline(_load_curves2d),
    **{
        name: partial(_load_torchvision, name, source)
        for name, source in _TORCHVISION.items()
    },
    "2mnist": _load_2mnist,
    **{
        name: partial(_load_medmnist, name, source)
        for name, source in _MEDMNIST.items()
    },
}
DATASETS: tuple[str, ...] = tuple(_LOADERS)
"""Every name :func:`load` accepts."""
OFFLINE: tuple[str, ...] = ("mnist5k", "digits", "fmnist", "blobs", "curves2d")
"""The datasets that need no download (``fmnist``: with Debian's package)."""


def load(
    name: str,
    *,
    root: str | os.PathLike[str] | None = None,
    n: int | None = None,
    seed: int = 0,
    download: bool = False,
) -> Dataset:
    """Load the dataset ``name`` (one of :data:`DATASETS`).

    Parameters
    ----------
    name : the registry name.
    root : data directory for files on disk (see :func:`data_dir`).
    n : if given, return a stratified subset of ``n`` samples (see :func:`subset`).
    seed : seeds the subset only; the full dataset is the same for every seed.
    download : fetch missing files from the network (online datasets only).

    Returns
    -------
    Dataset with X of shape (n, C, H, W) or (n, d).

    Raises
    ------
    ValueError for an unknown name or a bad ``n``/``seed``;
    DatasetNotAvailable when the files are missing or corrupt.
    """
    if not isinstance(name, str) or name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    _check_int(seed, "seed", 0)
    if n is not None:
        _check_int(n, "n", 1)
    ds = _LOADERS[name](data_dir(root), download)
    return ds if n is None else subset(ds, n, seed)
