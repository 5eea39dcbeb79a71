"""The datasets read from the data directory and downloaded only when asked:
torchvision's (``mnist``, ``mnist-test``, ``usps``, ``cifar10``, ``cifar100-20``,
``stl10``, and ``2mnist``: MNIST then Fashion-MNIST) and MedMNIST's, read by the
``medmnist`` package."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dclib.data.dataset import Dataset, DatasetNotAvailable, _images
from dclib.data.integrity import (
    _MANIFEST,
    _TORCHVISION_FILES,
    _fetching,
    _verify_manifest,
    _write_manifest,
)
from dclib.data.offline import _load_fmnist

# --------------------------------------------------------------------- torchvision


@dataclass(frozen=True)
class _TorchvisionSource:
    """How to read one registry entry with a torchvision dataset class."""

    cls: str  # name in torchvision.datasets
    folder: str  # sub-directory of data_dir holding its files
    splits: tuple[dict[str, Any], ...]  # keyword arguments, one dict per split
    n_clusters: int = 10
    channels_last: bool = False  # .data is (n, H, W, C)
    label_map: tuple[int, ...] | None = None  # applied to the torchvision labels


_TRAIN_TEST = ({"train": True}, {"train": False})
_STL10_LABELLED = ({"split": "train"}, {"split": "test"})

# CIFAR-100 fine label (alphabetical, as torchvision numbers them) -> superclass.
_CIFAR100_COARSE = (
    4,
    1,
    14,
    8,
    0,
    6,
    7,
    7,
    18,
    3,
    3,
    14,
    9,
    18,
    7,
    11,
    3,
    9,
    7,
    11,
    6,
    11,
    5,
    10,
    7,
    6,
    13,
    15,
    3,
    15,
    0,
    11,
    1,
    10,
    12,
    14,
    16,
    9,
    11,
    5,
    5,
    19,
    8,
    8,
    15,
    13,
    14,
    17,
    18,
    10,
    16,
    4,
    17,
    4,
    2,
    0,
    17,
    4,
    18,
    17,
    10,
    3,
    2,
    12,
    12,
    16,
    12,
    1,
    9,
    19,
    2,
    10,
    0,
    1,
    16,
    12,
    9,
    13,
    15,
    13,
    16,
    19,
    2,
    4,
    6,
    19,
    5,
    5,
    8,
    19,
    18,
    1,
    2,
    15,
    6,
    0,
    17,
    8,
    14,
    13,
)

_TORCHVISION = {
    "mnist": _TorchvisionSource("MNIST", "mnist", _TRAIN_TEST),
    "mnist-test": _TorchvisionSource("MNIST", "mnist", ({"train": False},)),
    "usps": _TorchvisionSource("USPS", "usps", _TRAIN_TEST),
    "cifar10": _TorchvisionSource("CIFAR10", "cifar10", _TRAIN_TEST, 10, True),
    "cifar100-20": _TorchvisionSource(
        "CIFAR100", "cifar100", _TRAIN_TEST, 20, True, _CIFAR100_COARSE
    ),
    "stl10": _TorchvisionSource("STL10", "stl10", _STL10_LABELLED),
}


def _open_splits(
    name: str,
    cls: Callable[..., Any],
    splits: tuple[dict[str, Any], ...],
    directory: Path,
    download: bool,
    files: str = _TORCHVISION_FILES,
) -> list[Any]:
    """``cls(root=directory, download=download, **kw)`` for each ``kw`` in ``splits``
    (a torchvision or medmnist dataset class), between the integrity checks: the
    ``SHA256SUMS`` of an earlier download is verified first, and written after a
    download that made the files."""
    _verify_manifest(directory)
    with _fetching(name, directory, download, files):
        opened = [cls(root=str(directory), download=download, **kw) for kw in splits]
    if download and not (directory / _MANIFEST).exists():
        _write_manifest(directory)
    return opened


def _nchw(data: Any, channels_last: bool) -> np.ndarray:
    """torchvision's ``.data``, (n, H, W), (n, H, W, C) or (n, C, H, W), as NCHW."""
    pixels = np.asarray(data)
    if pixels.ndim == 3:
        return pixels[:, None]
    return pixels.transpose(0, 3, 1, 2) if channels_last else pixels


def _labels(split: Any) -> Any:
    """A torchvision dataset's labels: ``.targets``, or ``.labels`` for STL10."""
    return split.targets if hasattr(split, "targets") else split.labels


def _load_torchvision(
    name: str, source: _TorchvisionSource, root: Path, download: bool
) -> Dataset:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, source.cls)
    splits = _open_splits(name, cls, source.splits, root / source.folder, download)
    pixels = np.concatenate([_nchw(s.data, source.channels_last) for s in splits])
    labels = np.concatenate([np.asarray(_labels(s)) for s in splits])
    if source.label_map is not None:
        labels = np.asarray(source.label_map)[labels]
    return _images(name, pixels, labels, 255, source.n_clusters)


def _load_2mnist(root: Path, download: bool) -> Dataset:
    """MNIST (labels 0-9) followed by Fashion-MNIST (labels 10-19)."""
    digits = _load_torchvision("mnist", _TORCHVISION["mnist"], root, download)
    fashion = _load_fmnist(root, download)
    return Dataset(
        np.concatenate([digits.X, fashion.X]),
        np.concatenate([digits.y, fashion.y + digits.n_clusters]),
        digits.n_clusters + fashion.n_clusters,
        digits.image_shape,
        "2mnist",
    )


# --------------------------------------------------------------------- MedMNIST


@dataclass(frozen=True)
class _MedMNISTSource:
    """How to read one registry entry from medmnist's 28-pixel ``<name>.npz``."""

    n_clusters: int
    channels: int = 1  # RGB files hold (n, H, W, 3), grey ones (n, H, W)
    volumes: bool = False  # (n, D, H, W) volumes, flattened to (n, D * H * W)


_MEDMNIST = {
    "pneumoniamnist": _MedMNISTSource(2),
    # R-DC's Table 1 says 3 classes; BreastMNIST is binary (malignant vs normal or
    # benign), as medmnist's INFO and the R-DC code (n_clusters=2) have it.
    "breastmnist": _MedMNISTSource(2),
    "bloodmnist": _MedMNISTSource(8, channels=3),
    "vesselmnist3d": _MedMNISTSource(2, volumes=True),
}
_MEDMNIST_SPLITS = ({"split": "train"}, {"split": "val"}, {"split": "test"})


def _medmnist_class(name: str, directory: Path) -> tuple[Any, str]:
    """medmnist's dataset class for ``name`` and the URL of its file."""
    try:
        import medmnist

        info = medmnist.INFO[name]
        cls = getattr(medmnist, info["python_class"])
    except (ImportError, AttributeError, KeyError) as err:
        raise DatasetNotAvailable(
            f"dataset {name!r} is read by the medmnist package, which could not be"
            f" imported ({type(err).__name__}: {err}). Install it with"
            ' pip install "dclib[datasets]" (or pip install medmnist); then'
            f" dclib.data.load({name!r}, download=True) fetches the file on a machine"
            f" with network access, or copy medmnist's {name}.npz into {directory}."
        ) from err
    return cls, info["url"]


def _load_medmnist(
    name: str, source: _MedMNISTSource, root: Path, download: bool
) -> Dataset:
    """train + val + test of a MedMNIST file, scaled to [0, 1]; labels 0..K-1."""
    directory = root / name
    cls, url = _medmnist_class(name, directory)
    files = (
        f"medmnist's {name}.npz (from {url}, or from ~/.medmnist where medmnist"
        " itself keeps it)"
    )

    def open_split(root: str, download: bool, split: str) -> Any:
        if not download:
            return cls(split=split, root=root, download=False)
        os.makedirs(root, exist_ok=True)  # unlike torchvision, medmnist needs it
        try:
            return cls(split=split, root=root, download=True)
        except RuntimeError as err:  # medmnist's long how-to hides the cause
            cause = err.__cause__ or err.__context__
            if cause is None:
                raise
            raise RuntimeError(f"{type(cause).__name__}: {cause} ({url})") from err

    path = directory / f"{name}.npz"
    try:
        splits = _open_splits(
            name, open_split, _MEDMNIST_SPLITS, directory, download, files
        )
        pixels = np.concatenate([np.asarray(s.imgs) for s in splits])
        labels = np.concatenate([np.asarray(s.labels).reshape(-1) for s in splits])
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetNotAvailable(
            f"{path} is not a readable MedMNIST file ({type(err).__name__}: {err})."
            " Delete it and load the dataset again with download=True."
        ) from err
    _check_medmnist(path, source, pixels, labels)
    if not source.volumes:
        return _images(name, _nchw(pixels, True), labels, 255, source.n_clusters)
    X = pixels.reshape(len(pixels), -1).astype(np.float32)
    X /= np.float32(255)
    return Dataset(X, labels.astype(np.int64), source.n_clusters, None, name)


def _check_medmnist(
    path: Path, source: _MedMNISTSource, pixels: np.ndarray, labels: np.ndarray
) -> None:
    """Raise DatasetNotAvailable unless the arrays are what ``source`` expects."""
    if source.volumes:
        expected = "(n, D, H, W) volumes"
        ok = pixels.ndim == 4
    elif source.channels == 1:
        expected = "(n, H, W) grey images"
        ok = pixels.ndim == 3
    else:
        expected = f"(n, H, W, {source.channels}) colour images"
        ok = pixels.ndim == 4 and pixels.shape[-1] == source.channels
    problem = None
    if not ok or pixels.dtype != np.uint8:
        problem = f"holds {pixels.dtype} pixels of shape {pixels.shape}"
        problem += f", not uint8 {expected}"
    elif len(labels) != len(pixels):
        problem = f"holds {len(pixels)} images but {len(labels)} labels"
    elif labels.size and (labels.min() < 0 or labels.max() >= source.n_clusters):
        problem = f"has labels outside [0, {source.n_clusters})"
    if problem is not None:
        raise DatasetNotAvailable(
            f"{path} {problem}: it is not this dataset's MedMNIST file. Delete it and"
            " load the dataset again with download=True."
        )
