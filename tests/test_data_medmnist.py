"""Tests of dclib.data's MedMNIST loaders (R-DC §4.1.1) and its transforms
``row_normalised``, ``standardised`` and ``noisy`` (R-DC eq. 16-17).

No test touches the network: an autouse fixture makes every connection fail. The
loaders read small fake ``<name>.npz`` files written in medmnist's layout (keys
``train_images``, ``train_labels``, ``val_images``, ... ; labels of shape (n, 1))
into a tmp data directory.
"""

from __future__ import annotations

import math
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dclib import data
from dclib.data import (
    Dataset,
    DatasetNotAvailable,
    load,
    noisy,
    row_normalised,
    standardised,
)

# name -> (the shape of one image in medmnist's file, classes, R-DC Table 1's count)
MEDMNIST = {
    "pneumoniamnist": ((28, 28), 2, 5856),
    "breastmnist": ((28, 28), 2, 780),
    "bloodmnist": ((28, 28, 3), 8, 17092),
    "vesselmnist3d": ((28, 28, 28), 2, 1908),
}
SPLITS = ("train", "val", "test")


pytestmark = pytest.mark.usefixtures("offline")


@pytest.fixture
def medmnist() -> object:
    return pytest.importorskip("medmnist")


def fake_npz(
    path: Path, name: str, sizes: tuple[int, int, int] = (5, 2, 3), seed: int = 0
) -> dict[str, np.ndarray]:
    """A small ``<name>.npz`` as medmnist ships it (uint8 pixels, (n, 1) labels)."""
    shape, k, _ = MEDMNIST[name]
    rng = np.random.default_rng(seed)
    arrays = {}
    start = 0
    for split, n in zip(SPLITS, sizes, strict=True):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
        labels = (np.arange(start, start + n) % k).astype(np.uint8)
        arrays[f"{split}_labels"] = labels[:, None]
        start += n
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return arrays


def stacked(arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    return np.concatenate([arrays[f"{split}_{key}"] for split in SPLITS])


# ------------------------------------------------------------------ the registry


def test_registry_has_the_four_medmnist_sets() -> None:
    for name in MEDMNIST:
        assert name in data.DATASETS and name not in data.OFFLINE


def test_medmnist_info_matches_the_paper_and_our_table(medmnist: object) -> None:
    """All three splits together give R-DC Table 1's sample counts; the classes and
    channels are medmnist's (BreastMNIST: 2 classes, where Table 1 says 3)."""
    for name, (_shape, k, paper_n) in MEDMNIST.items():
        info = medmnist.INFO[name]
        assert sum(info["n_samples"][split] for split in SPLITS) == paper_n
        assert len(info["label"]) == k == data.online._MEDMNIST[name].n_clusters
        assert info["n_channels"] == (3 if name == "bloodmnist" else 1)
        assert info["url"].split("?")[0].endswith(f"/{name}.npz")


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize("name", ["pneumoniamnist", "breastmnist"])
def test_grey_sets_from_fake_npz(name: str, tmp_path: Path, medmnist: object) -> None:
    arrays = fake_npz(tmp_path / name / f"{name}.npz", name)
    ds = load(name, root=tmp_path)
    assert ds.name == name and ds.n_clusters == 2 and len(ds) == 10
    assert ds.X.shape == (10, 1, 28, 28) and ds.image_shape == (1, 28, 28)
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    expected = stacked(arrays, "images")[:, None] / 255  # train, val, test
    np.testing.assert_allclose(ds.X, expected, rtol=0, atol=1e-7)
    assert np.array_equal(ds.y, np.arange(10) % 2)
    assert ds.X.min() >= 0 and ds.X.max() <= 1


def test_bloodmnist_is_rgb_channels_first(tmp_path: Path, medmnist: object) -> None:
    arrays = fake_npz(tmp_path / "bloodmnist" / "bloodmnist.npz", "bloodmnist")
    ds = load("bloodmnist", root=tmp_path)
    assert ds.X.shape == (10, 3, 28, 28) and ds.image_shape == (3, 28, 28)
    assert ds.n_clusters == 8 and np.array_equal(ds.y, np.arange(10) % 8)
    expected = stacked(arrays, "images").transpose(0, 3, 1, 2) / 255
    np.testing.assert_allclose(ds.X, expected, rtol=0, atol=1e-7)


def test_vesselmnist3d_is_flattened_volumes(tmp_path: Path, medmnist: object) -> None:
    arrays = fake_npz(tmp_path / "vesselmnist3d" / "vesselmnist3d.npz", "vesselmnist3d")
    ds = load("vesselmnist3d", root=tmp_path)
    assert ds.X.shape == (10, 28 * 28 * 28) and ds.image_shape is None
    assert ds.n_clusters == 2 and np.array_equal(ds.y, np.arange(10) % 2)
    volumes = stacked(arrays, "images") / 255
    np.testing.assert_allclose(ds.X.reshape(-1, 28, 28, 28), volumes, atol=1e-7)


def test_the_env_data_dir_and_a_subset(tmp_path: Path, medmnist: object) -> None:
    fake_npz(tmp_path / "env-data" / "breastmnist" / "breastmnist.npz", "breastmnist")
    ds = load("breastmnist", n=4, seed=1)  # $DCLIB_DATA, set by the fixture
    assert len(ds) == 4 and np.array_equal(np.bincount(ds.y), [2, 2])


# ------------------------------------------------------------------ integrity


def fake_download(name: str, seed: int = 0) -> Callable[[Any], None]:
    """Stands in for medmnist's ``download``: writes the fake file into its root."""

    def download(self: Any) -> None:
        fake_npz(Path(self.root) / f"{name}.npz", name, seed=seed)

    return download


def test_manifest_written_after_download_and_checked_on_load(
    tmp_path: Path, medmnist: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        medmnist.dataset.MedMNIST, "download", fake_download("bloodmnist")
    )
    ds = load("bloodmnist", root=tmp_path, download=True)  # makes the folder too
    directory = tmp_path / "bloodmnist"
    manifest = (directory / "SHA256SUMS").read_text()
    assert manifest.endswith("  bloodmnist.npz\n") and len(manifest.splitlines()) == 1
    again = load("bloodmnist", root=tmp_path)  # verified, then read
    assert np.array_equal(again.X, ds.X)
    fake_npz(directory / "bloodmnist.npz", "bloodmnist", seed=1)  # another file
    with pytest.raises(DatasetNotAvailable, match=r"bloodmnist\.npz is corrupt"):
        load("bloodmnist", root=tmp_path)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"not an npz file", "ValueError"),
        (b"PK\x03\x04 truncated zip", "BadZipFile"),
    ],
)
def test_unreadable_file_is_one_clear_error(
    content: bytes, error: str, tmp_path: Path, medmnist: object
) -> None:
    path = tmp_path / "pneumoniamnist" / "pneumoniamnist.npz"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(DatasetNotAvailable) as info:
        load("pneumoniamnist", root=tmp_path)
    message = str(info.value)
    assert f"{path} is not a readable MedMNIST file ({error}" in message
    assert "download=True" in message


def test_file_without_a_split_is_one_clear_error(
    tmp_path: Path, medmnist: object
) -> None:
    path = tmp_path / "breastmnist" / "breastmnist.npz"
    path.parent.mkdir()
    np.savez(path, train_images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetNotAvailable, match="not a readable MedMNIST.*KeyError"):
        load("breastmnist", root=tmp_path)


@pytest.mark.parametrize(
    ("name", "written_as", "message"),
    [
        ("pneumoniamnist", "bloodmnist", r"uint8 pixels of shape \(10, 28, 28, 3\)"),
        ("bloodmnist", "breastmnist", r"not uint8 \(n, H, W, 3\) colour images"),
        ("vesselmnist3d", "breastmnist", r"not uint8 \(n, D, H, W\) volumes"),
        ("breastmnist", "labels+3", r"labels outside \[0, 2\)"),
    ],
)
def test_file_of_another_layout_is_refused(
    name: str, written_as: str, message: str, tmp_path: Path, medmnist: object
) -> None:
    path = tmp_path / name / f"{name}.npz"
    if written_as == "labels+3":  # the right images, labels 3 and 4
        arrays = fake_npz(path, name)
        for split in SPLITS:
            arrays[f"{split}_labels"] += 3
        np.savez(path, **arrays)
    else:
        fake_npz(path, written_as)
    with pytest.raises(DatasetNotAvailable, match=message) as info:
        load(name, root=tmp_path)
    assert "not this dataset's MedMNIST file" in str(info.value)


def test_float_pixels_are_refused(tmp_path: Path, medmnist: object) -> None:
    path = tmp_path / "breastmnist" / "breastmnist.npz"
    arrays = fake_npz(path, "breastmnist")
    arrays["val_images"] = arrays["val_images"] / 255
    np.savez(path, **arrays)
    with pytest.raises(DatasetNotAvailable, match="float64 pixels"):
        load("breastmnist", root=tmp_path)


# ------------------------------------------------------------------ missing data


@pytest.mark.parametrize("folder_exists", [False, True])
@pytest.mark.parametrize("name", list(MEDMNIST))
def test_missing_file_fails_fast_and_offline(
    name: str, folder_exists: bool, tmp_path: Path, offline: list[str], medmnist: object
) -> None:
    if folder_exists:
        (tmp_path / name).mkdir()
    start = time.perf_counter()
    with pytest.raises(DatasetNotAvailable) as error:
        load(name, root=tmp_path)
    assert time.perf_counter() - start < 2
    assert offline == [], "nothing downloaded unless asked"
    message = str(error.value)
    assert f"dataset {name!r} is not available" in message
    assert f"dclib.data.load({name!r}, download=True)" in message
    assert f"medmnist's {name}.npz" in message and str(tmp_path / name) in message
    assert isinstance(error.value, FileNotFoundError)
    assert (tmp_path / name).exists() == folder_exists, "no folder made"


def test_missing_medmnist_package_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: list[str]
) -> None:
    fake_npz(tmp_path / "bloodmnist" / "bloodmnist.npz", "bloodmnist")  # not enough
    monkeypatch.setitem(sys.modules, "medmnist", None)  # import medmnist fails
    for download in (False, True):
        with pytest.raises(DatasetNotAvailable) as error:
            load("bloodmnist", root=tmp_path, download=download)
        message = str(error.value)
        assert "'bloodmnist' is read by the medmnist package" in message
        assert 'pip install "dclib[datasets]"' in message
        assert "dclib.data.load('bloodmnist', download=True)" in message
        assert isinstance(error.value.__cause__, ImportError)
    assert offline == []


def test_failed_download_is_one_clear_error(
    tmp_path: Path, offline: list[str], medmnist: object
) -> None:
    with pytest.raises(DatasetNotAvailable) as error:
        load("breastmnist", root=tmp_path, download=True)
    message = str(error.value)
    assert message.startswith("downloading dataset 'breastmnist' into")
    assert "failed: URLError: <urlopen error network disabled in tests> (" in message
    assert offline and "breastmnist.npz" in offline[0], "the download was attempted"
    assert socket.getdefaulttimeout() is None, "timeout restored"
    assert not (tmp_path / "breastmnist" / "SHA256SUMS").exists()


# ------------------------------------------------------------------ transforms


def vectors(rows: list[list[float]], y: list[int] | None = None) -> Dataset:
    X = np.array(rows, dtype=np.float32)
    labels = np.array(y if y is not None else [0] * len(rows), dtype=np.int64)
    return Dataset(X, labels, int(labels.max()) + 1, None, "toy")


def test_row_normalised_by_hand() -> None:
    ds = vectors([[3, 4], [0, 0], [1, 0]], [0, 1, 0])
    out = row_normalised(ds)
    np.testing.assert_allclose(out.X, [[0.6, 0.8], [0, 0], [1, 0]], atol=1e-7)
    assert out.name == "toy" and np.array_equal(out.y, ds.y) and out.n_clusters == 2
    assert np.array_equal(ds.X, [[3, 4], [0, 0], [1, 0]]), "input untouched"


def test_row_normalised_images_keep_their_shape() -> None:
    X = np.array([[[[3, 4]]], [[[5, 12]]]], dtype=np.float32)  # (2, 1, 1, 2)
    ds = Dataset(X, np.array([0, 1]), 2, (1, 1, 2), "img")
    out = row_normalised(ds)
    assert out.X.shape == (2, 1, 1, 2) and out.image_shape == (1, 1, 2)
    np.testing.assert_allclose(out.flat, [[0.6, 0.8], [5 / 13, 12 / 13]], atol=1e-7)
    assert out.X.dtype == np.float32 and not np.shares_memory(out.X, ds.X)


def test_standardised_by_hand() -> None:
    # column 0: mean 3, population sd sqrt(8/3), z = -+sqrt(3/2); column 1: constant
    out = standardised(vectors([[1, 5], [3, 5], [5, 5]]))
    z = math.sqrt(1.5)
    np.testing.assert_allclose(out.X, [[-z, 0], [0, 0], [z, 0]], atol=1e-6)
    two = standardised(vectors([[0, 2], [4, 2]]))  # mean 2, sd 2; constant 2 -> 0
    np.testing.assert_allclose(two.X, [[-1, 0], [1, 0]], atol=1e-7)


def test_standardised_gives_zero_mean_unit_sd_and_is_idempotent() -> None:
    rng = np.random.default_rng(0)
    X = (rng.normal(7, 3, (500, 4)) * [1, 10, 0.01, 1]).astype(np.float32)
    X[:, 3] = 2.5  # constant feature
    ds = Dataset(X.reshape(500, 1, 2, 2), np.zeros(500, np.int64), 1, (1, 2, 2), "i")
    out = standardised(ds)
    assert out.X.shape == (500, 1, 2, 2) and out.image_shape == (1, 2, 2)
    flat = out.flat.astype(np.float64)
    np.testing.assert_allclose(flat.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(flat.std(0), [1, 1, 1, 0], atol=1e-5)
    np.testing.assert_allclose(standardised(out).X, out.X, atol=1e-5)


def test_noisy_zero_sigma_and_determinism() -> None:
    ds = vectors([[1, 2], [3, 4]], [0, 1])
    same = noisy(ds, 0.0, seed=3)
    assert np.array_equal(same.X, ds.X) and not np.shares_memory(same.X, ds.X)
    a, b = noisy(ds, 0.1, seed=3), noisy(ds, 0.1, seed=3)
    assert np.array_equal(a.X, b.X), "same seed, same noise"
    assert not np.array_equal(a.X, noisy(ds, 0.1, seed=4).X)
    assert np.array_equal(a.y, ds.y) and a.name == ds.name
    assert np.array_equal(ds.X, [[1, 2], [3, 4]]), "input untouched"


def test_noisy_adds_the_same_draws_scaled_by_sigma() -> None:
    zeros = vectors([[0, 0], [0, 0]])
    ones = vectors([[1, 1], [1, 1]])
    unit = noisy(zeros, 1.0, seed=5).X
    np.testing.assert_allclose(noisy(zeros, 0.25, seed=5).X, 0.25 * unit, rtol=1e-6)
    np.testing.assert_allclose(noisy(ones, 0.25, seed=5).X, 1 + 0.25 * unit, 1e-6)


def test_noisy_statistics_on_standardised_data() -> None:
    """Eq. 16 then eq. 17: noise of sd sigma on features of sd 1."""
    rng = np.random.default_rng(1)
    ds = vectors(rng.uniform(0, 255, (20000, 3)).tolist())
    sigma = 0.25
    out = noisy(standardised(ds), sigma, seed=0)
    noise = (out.X - standardised(ds).X).astype(np.float64)
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(sigma, rel=0.02)
    np.testing.assert_allclose(out.X.std(0), math.sqrt(1 + sigma**2), rtol=0.02)


@pytest.mark.parametrize(
    "sigma", [-0.1, float("nan"), float("inf"), -float("inf"), "0.1", None, True]
)
def test_noisy_rejects_bad_sigma(sigma: object) -> None:
    with pytest.raises(ValueError, match="sigma must be a finite number >= 0"):
        noisy(vectors([[1, 2]]), sigma)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 1.5, True, None])
def test_noisy_rejects_bad_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        noisy(vectors([[1, 2]]), 0.1, seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("transform", [row_normalised, standardised, noisy])
def test_transforms_take_a_dataset(transform: object) -> None:
    args = (0.1,) if transform is noisy else ()
    with pytest.raises(TypeError, match="expected a dclib.data.Dataset, got ndarray"):
        transform(np.ones((2, 2), np.float32), *args)  # type: ignore[operator]


def test_standardised_needs_a_sample() -> None:
    empty = Dataset(np.zeros((0, 2), np.float32), np.zeros(0, np.int64), 2, None, "e")
    with pytest.raises(ValueError, match="at least one sample"):
        standardised(empty)
    assert row_normalised(empty).X.shape == (0, 2)
