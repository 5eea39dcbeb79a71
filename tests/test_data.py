"""Tests of dclib.data: offline loaders, subsets, integrity checks and clear errors.

No test touches the network: an autouse fixture makes every connection fail, and the
torchvision-backed loaders are exercised on tiny fake files written to tmp_path.
"""

from __future__ import annotations

import bz2
import importlib.util
import io
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dclib import data
from dclib.data import Dataset, DatasetNotAvailable, imbalanced, load, subset

DEBIAN_FMNIST = data.offline._FMNIST_SYSTEM_DIR
FMNIST_INSTALLED = data.offline._fmnist_files(DEBIAN_FMNIST) is not None
NO_FMNIST = f"Debian's dataset-fashion-mnist is not installed ({DEBIAN_FMNIST})"
needs_debian_fmnist = pytest.mark.skipif(not FMNIST_INSTALLED, reason=NO_FMNIST)
ONLINE = ("mnist", "mnist-test", "usps", "cifar10", "cifar100-20", "stl10")


pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture(scope="module")
def mnist5k() -> Dataset:
    return load("mnist5k")


@pytest.fixture(scope="module")
def fmnist() -> Dataset:
    if not FMNIST_INSTALLED:
        pytest.skip(NO_FMNIST)
    return load("fmnist")


def toy(y: np.ndarray, n_clusters: int) -> Dataset:
    """Feature vectors whose single feature is the sample's index."""
    X = np.arange(len(y), dtype=np.float32)[:, None]
    return Dataset(X, y.astype(np.int64), n_clusters, None, "toy")


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an (uncompressed) IDX file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_mnist(root: Path, n_train: int = 12, n_test: int = 8) -> Dataset:
    """Tiny MNIST files where torchvision looks for them; returns what they hold."""
    rng = np.random.default_rng(1)
    raw = root / "mnist" / "MNIST" / "raw"
    pixels, labels = [], []
    for split, n in (("train", n_train), ("t10k", n_test)):
        images, y = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", y)
        pixels.append(images)
        labels.append(y)
    X = (np.concatenate(pixels)[:, None] / 255).astype(np.float32)
    return Dataset(X, np.concatenate(labels), 10, (1, 28, 28), "mnist")


# ------------------------------------------------------------------ offline loaders


def test_mnist5k_is_real_balanced_and_fixed(mnist5k: Dataset) -> None:
    assert mnist5k.X.shape == (5000, 1, 28, 28) and mnist5k.image_shape == (1, 28, 28)
    assert mnist5k.X.dtype == np.float32 and mnist5k.y.dtype == np.int64
    assert mnist5k.X.min() == 0 and mnist5k.X.max() == 1
    assert np.array_equal(np.bincount(mnist5k.y), [500] * 10)
    assert np.count_nonzero(np.diff(mnist5k.y)) > 1000, "shuffled, not sorted"
    again = load("mnist5k", seed=7)
    assert np.array_equal(again.X, mnist5k.X) and np.array_equal(again.y, mnist5k.y)


@pytest.mark.parametrize(
    ("name", "shape", "n_clusters", "image_shape"),
    [
        ("digits", (1797, 1, 8, 8), 10, (1, 8, 8)),
        ("blobs", (1000, 10), 4, None),
        ("curves2d", (1000, 2), 4, None),
    ],
)
def test_small_offline_sets(
    name: str, shape: tuple[int, ...], n_clusters: int, image_shape: tuple | None
) -> None:
    ds = load(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float32
    assert ds.n_clusters == n_clusters and ds.image_shape == image_shape
    assert ds.name == name and len(ds) == shape[0] and ds.flat.shape[0] == shape[0]
    assert set(np.unique(ds.y)) == set(range(n_clusters))
    assert np.array_equal(load(name).X, ds.X)
    if image_shape is not None:
        assert 0 <= ds.X.min() and ds.X.max() == 1


@needs_debian_fmnist
def test_fmnist_full_from_debian(fmnist: Dataset) -> None:
    assert fmnist.X.shape == (70000, 1, 28, 28) and fmnist.n_clusters == 10
    assert np.array_equal(np.bincount(fmnist.y), [7000] * 10)
    assert fmnist.X.min() == 0 and fmnist.X.max() == 1
    test_labels = data.offline._read_idx(DEBIAN_FMNIST / "t10k-labels-idx1-ubyte.gz")
    assert np.array_equal(fmnist.y[60000:], test_labels), "train first, then test"


def test_read_idx_checks_the_header(tmp_path: Path) -> None:
    array = np.arange(24).reshape(2, 3, 4)
    write_idx(tmp_path / "ok", array)
    assert np.array_equal(data.offline._read_idx(tmp_path / "ok"), array)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + bytes(8))
    with pytest.raises(ValueError, match="not a uint8 IDX file"):
        data.offline._read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes((tmp_path / "ok").read_bytes()[:-1])
    with pytest.raises(ValueError, match="its header says"):
        data.offline._read_idx(tmp_path / "short")


# ------------------------------------------------------------------ subsets


def test_load_n_is_stratified_and_seeded(mnist5k: Dataset) -> None:
    a = load("mnist5k", n=1000, seed=3)
    assert len(a) == 1000 and np.array_equal(np.bincount(a.y), [100] * 10)
    b = subset(mnist5k, 1000, seed=3)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    c = subset(mnist5k, 1000, seed=4)
    assert not np.array_equal(a.X, c.X)
    assert np.array_equal(subset(mnist5k, 5000).X, mnist5k.X), "order is kept"


def test_subset_keeps_uneven_proportions() -> None:
    ds = load("digits", n=500, seed=1)
    full = np.bincount(load("digits").y)
    assert len(ds) == 500
    assert np.all(np.abs(np.bincount(ds.y) - full * 500 / full.sum()) < 1)


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=200),
    draws=st.data(),
)
def test_subset_property(labels: list[int], draws: st.DataObject) -> None:
    ds = toy(np.array(labels), 5)
    n = draws.draw(st.integers(1, len(ds)), label="n")
    sub = subset(ds, n, seed=draws.draw(st.integers(0, 2**32), label="seed"))
    exact = np.bincount(ds.y, minlength=5) * n / len(ds)
    assert len(sub) == n
    assert np.all(np.abs(np.bincount(sub.y, minlength=5) - exact) < 1)
    index = sub.X[:, 0].astype(int)
    assert np.all(np.diff(index) > 0) and np.array_equal(ds.y[index], sub.y)


def test_imbalanced_keeps_the_protocol_fractions() -> None:
    k, per_class, r = 5, 20000, 0.1
    ds = toy(np.repeat(np.arange(k), per_class), k)
    kept = np.bincount(imbalanced(ds, r, seed=2).y, minlength=k) / per_class
    expected = r + (1 - r) * np.arange(k) / (k - 1)
    assert np.allclose(kept, expected, atol=0.015)
    assert kept[-1] == 1
    assert len(imbalanced(ds, 1.0)) == len(ds)
    first, second = imbalanced(ds, r, seed=2), imbalanced(ds, r, seed=3)
    assert np.array_equal(first.X, imbalanced(ds, r, seed=2).X)
    assert not np.array_equal(first.X, second.X)


@pytest.mark.parametrize("r", [0, -0.5, 1.5, float("nan"), True, "0.5"])
def test_imbalanced_rejects_bad_r(r: object) -> None:
    with pytest.raises(ValueError, match=r"r must be a number in \(0, 1\]"):
        imbalanced(toy(np.array([0, 1, 2]), 3), r)  # type: ignore[arg-type]


# ------------------------------------------------------------------ torchvision sets


def test_mnist_from_fake_torchvision_files(tmp_path: Path) -> None:
    expected = fake_mnist(tmp_path)
    ds = load("mnist", root=tmp_path)
    assert ds.X.shape == (20, 1, 28, 28) and ds.image_shape == (1, 28, 28)
    assert np.array_equal(ds.X, expected.X) and np.array_equal(ds.y, expected.y)
    test = load("mnist-test", root=tmp_path)
    assert np.array_equal(test.y, expected.y[12:]) and test.name == "mnist-test"


def test_usps_from_fake_torchvision_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    values = rng.choice([-1.0, -0.5, 0.0, 0.25, 1.0], (8, 256))
    labels = rng.integers(1, 11, 8)  # libsvm labels 1..10
    for name, rows in (("usps.bz2", slice(0, 5)), ("usps.t.bz2", slice(5, 8))):
        lines = [
            f"{label} " + " ".join(f"{i + 1}:{v}" for i, v in enumerate(pixels))
            for label, pixels in zip(labels[rows], values[rows], strict=True)
        ]
        (tmp_path / "usps").mkdir(exist_ok=True)
        (tmp_path / "usps" / name).write_bytes(bz2.compress("\n".join(lines).encode()))
    ds = load("usps", root=tmp_path)
    as_uint8 = ((values.astype(np.float32) + 1) / 2 * 255).astype(np.uint8)
    assert ds.X.shape == (8, 1, 16, 16) and ds.n_clusters == 10
    assert np.array_equal(ds.X, (as_uint8.reshape(8, 1, 16, 16) / 255).astype("f4"))
    assert np.array_equal(ds.y, labels - 1)


class FakeCIFAR100:
    """Stands in for torchvision's CIFAR100: (n, H, W, C) uint8 and fine labels."""

    def __init__(self, root: str, download: bool, train: bool) -> None:
        rng = np.random.default_rng(int(train))
        self.data = rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
        self.targets = list(rng.integers(0, 100, 6))


class FakeSTL10:
    """Stands in for torchvision's STL10: (n, C, H, W) uint8 and ``.labels``."""

    def __init__(self, root: str, download: bool, split: str) -> None:
        self.data = np.full((3, 3, 5, 5), 51 if split == "train" else 255, np.uint8)
        self.labels = np.array([0, 9, 4], dtype=np.uint8)


def test_channels_last_and_superclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR100", FakeCIFAR100)
    ds = load("cifar100-20")
    train, test = FakeCIFAR100("", False, True), FakeCIFAR100("", False, False)
    pixels = np.concatenate([train.data, test.data]).transpose(0, 3, 1, 2)
    assert ds.image_shape == (3, 4, 4) and ds.n_clusters == 20
    assert np.array_equal(ds.X, (pixels / 255).astype(np.float32))
    coarse = np.array(data.online._CIFAR100_COARSE)
    assert np.array_equal(ds.y, coarse[train.targets + test.targets])


def test_stl10_labels_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "STL10", FakeSTL10)
    ds = load("stl10")
    assert ds.X.shape == (6, 3, 5, 5) and np.array_equal(ds.y, [0, 9, 4] * 2)
    assert ds.X[0].max() == pytest.approx(0.2) and ds.X[3].min() == 1


def test_cifar100_superclass_table() -> None:
    coarse = np.array(data.online._CIFAR100_COARSE)
    assert coarse.shape == (100,)
    assert np.array_equal(np.bincount(coarse), [5] * 20)
    # apple -> fruit and vegetables, whale -> aquatic mammals, worm -> invertebrates
    assert (coarse[0], coarse[95], coarse[99]) == (4, 0, 13)


def test_2mnist_stacks_digits_then_fashion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digits = fake_mnist(tmp_path)
    fashion = Dataset(digits.X[:5], np.arange(5), 10, (1, 28, 28), "fmnist")
    monkeypatch.setattr(data.online, "_load_fmnist", lambda root, download: fashion)
    ds = load("2mnist", root=tmp_path)
    assert len(ds) == 25 and ds.n_clusters == 20 and ds.name == "2mnist"
    assert np.array_equal(ds.y, np.concatenate([digits.y, np.arange(10, 15)]))


# ------------------------------------------------------------------ integrity


def test_manifest_detects_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "images").write_bytes(bytes(range(256)))
    (tmp_path / "labels").write_bytes(b"0123")
    manifest = data.integrity._write_manifest(tmp_path)
    assert "raw/images" in manifest.read_text()
    data.integrity._verify_manifest(tmp_path)
    (tmp_path / "raw" / "images").write_bytes(bytes([1]) + bytes(range(1, 256)))
    with pytest.raises(DatasetNotAvailable, match=r"raw/images is corrupt.*[Dd]elete"):
        data.integrity._verify_manifest(tmp_path)
    (tmp_path / "raw" / "images").unlink()
    with pytest.raises(DatasetNotAvailable, match="missing"):
        data.integrity._verify_manifest(tmp_path)


def test_manifest_written_after_download_and_checked_on_load(
    tmp_path: Path, offline: list[str]
) -> None:
    fake_mnist(tmp_path)
    load("mnist", root=tmp_path, download=True)  # files present: nothing fetched
    assert offline == []
    manifest = (tmp_path / "mnist" / "SHA256SUMS").read_text()
    assert "MNIST/raw/train-images-idx3-ubyte" in manifest
    image_file = tmp_path / "mnist" / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    content = bytearray(image_file.read_bytes())
    content[-1] ^= 0xFF
    image_file.write_bytes(bytes(content))
    with pytest.raises(DatasetNotAvailable, match="t10k-images-idx3-ubyte is corrupt"):
        load("mnist", root=tmp_path)


# ------------------------------------------------------------------ missing data


@pytest.mark.parametrize("name", ONLINE)
def test_missing_online_set_fails_fast_and_offline(
    name: str, tmp_path: Path, offline: list[str]
) -> None:
    pytest.importorskip("torchvision.datasets")  # import time is not the loader's
    start = time.perf_counter()
    with pytest.raises(DatasetNotAvailable) as error:
        load(name, root=tmp_path)
    assert time.perf_counter() - start < 2
    assert offline == []
    message = str(error.value)
    assert repr(name) in message and "download=True" in message
    assert str(tmp_path) in message
    assert isinstance(error.value, FileNotFoundError)


def test_missing_2mnist_names_its_part(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotAvailable, match="'mnist'.*download=True"):
        load("2mnist", root=tmp_path)


@pytest.mark.parametrize("name", ["mnist", "usps", "cifar10"])
def test_failed_download_is_one_clear_error(
    name: str, tmp_path: Path, offline: list[str]
) -> None:
    with pytest.raises(DatasetNotAvailable, match=f"downloading dataset '{name}'"):
        load(name, root=tmp_path, download=True)
    assert offline, "the download was attempted"
    assert socket.getdefaulttimeout() is None, "timeout restored"


@pytest.mark.parametrize(
    ("name", "match", "cause"),
    [
        ("usps", "timed out", TimeoutError),
        pytest.param(  # MedMNIST: read by the medmnist package, which wraps the error
            "vesselmnist3d",
            "TimeoutError: timed out",
            Exception,
            marks=pytest.mark.skipif(
                importlib.util.find_spec("medmnist") is None, reason="no medmnist"
            ),
        ),
    ],
)
def test_download_runs_under_a_socket_timeout(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    match: str,
    cause: type,
) -> None:
    seen: list[float | None] = []

    def slow(*args: object, **kwargs: object) -> None:
        seen.append(socket.getdefaulttimeout())
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", slow)
    with pytest.raises(DatasetNotAvailable, match=match) as error:
        load(name, root=tmp_path, download=True)
    assert seen and set(seen) == {data.integrity._TIMEOUT_S}
    assert isinstance(error.value.__cause__, cause)
    assert socket.getdefaulttimeout() is None


@pytest.fixture
def no_debian_fmnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(data.offline, "_FMNIST_SYSTEM_DIR", tmp_path / "not-installed")
    return tmp_path / "data"


def test_fmnist_missing(no_debian_fmnist: Path, offline: list[str]) -> None:
    with pytest.raises(DatasetNotAvailable) as error:
        load("fmnist", root=no_debian_fmnist)
    message = str(error.value)
    assert "'fmnist'" in message and "download=True" in message
    assert "dataset-fashion-mnist" in message and str(no_debian_fmnist) in message
    assert offline == []
    with pytest.raises(DatasetNotAvailable, match="downloading dataset 'fmnist'"):
        load("fmnist", root=no_debian_fmnist, download=True)
    assert offline[0].startswith(data.offline._FMNIST_URL)


def test_fmnist_download_with_wrong_content(
    no_debian_fmnist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda url: io.BytesIO(b"junk"))
    with pytest.raises(DatasetNotAvailable, match="pinned SHA-256"):
        load("fmnist", root=no_debian_fmnist, download=True)
    assert list((no_debian_fmnist / "fmnist").iterdir()) == []


def test_fmnist_corrupt_copy_in_data_dir(no_debian_fmnist: Path) -> None:
    for stem in data.offline._FMNIST_STEMS:
        write_idx(no_debian_fmnist / "fmnist" / stem, np.zeros((2, 28, 28)))
    with pytest.raises(DatasetNotAvailable, match="is corrupt"):
        load("fmnist", root=no_debian_fmnist)


@needs_debian_fmnist
def test_fmnist_download_path(
    no_debian_fmnist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def serve(url: str) -> io.BytesIO:
        return io.BytesIO(
            (DEBIAN_FMNIST / url.removeprefix(data.offline._FMNIST_URL)).read_bytes()
        )

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    ds = load("fmnist", root=no_debian_fmnist, download=True, n=700)
    assert np.array_equal(np.bincount(ds.y), [70] * 10)
    assert sorted(p.name for p in (no_debian_fmnist / "fmnist").iterdir()) == sorted(
        f"{stem}.gz" for stem in data.offline._FMNIST_STEMS
    )


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mnist6k"}, r"unknown dataset 'mnist6k'.*'mnist5k'"),
        ({"name": "digits", "n": 0}, r"n must be an integer >= 1, got 0"),
        ({"name": "digits", "n": 1798}, r"n=1798 exceeds the 1797 samples"),
        ({"name": "digits", "n": 2.5}, r"n must be an integer"),
        ({"name": "digits", "seed": -1}, r"seed must be an integer >= 0, got -1"),
        ({"name": "digits", "seed": 1.5}, r"seed must be an integer >= 0"),
        ({"name": "digits", "seed": True}, r"seed must be an integer >= 0"),
    ],
)
def test_load_rejects_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load(**kwargs)


def test_dataset_validation() -> None:
    X, y = np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 1, 0])
    Dataset(X, y, 2, (1, 2, 2), "ok")
    nan = X.copy()
    nan[1, 0, 0, 0] = np.nan
    cases = [
        ((nan, y, 2, (1, 2, 2)), "NaN or infinite"),
        ((X.astype(np.float64), y, 2, (1, 2, 2)), "float32.*float64"),
        ((X, y.astype(np.int32), 2, (1, 2, 2)), "int64"),
        ((X, y[:3], 2, (1, 2, 2)), "X has 4 samples but y has 3"),
        ((X, y, 2, (1, 4, 1)), r"do not match \(1, 4, 1\)"),
        ((X, y, 2, None), r"must be \(n, d\)"),
        ((X, y, 1, (1, 2, 2)), r"labels must lie in \[0, 1\)"),
        ((X, y, 0, (1, 2, 2)), "n_clusters must be an integer >= 1"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            Dataset(*args, "bad")


def test_dataset_conveniences(mnist5k: Dataset) -> None:
    assert len(mnist5k) == 5000 and mnist5k.flat.shape == (5000, 784)
    assert repr(mnist5k) == (
        "Dataset(name='mnist5k', n=5000, n_clusters=10, image_shape=(1, 28, 28))"
    )


def test_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data.data_dir(tmp_path) == tmp_path
    assert data.data_dir() == tmp_path / "env-data"
    monkeypatch.delenv("DCLIB_DATA")
    assert data.data_dir() == Path.home() / ".cache" / "dclib"


def test_registry_lists_every_name() -> None:
    offline = ("mnist5k", "digits", "fmnist", "blobs", "curves2d")
    medmnist = ("pneumoniamnist", "breastmnist", "bloodmnist", "vesselmnist3d")
    assert set(data.DATASETS) == {*offline, *ONLINE, "2mnist", *medmnist}
