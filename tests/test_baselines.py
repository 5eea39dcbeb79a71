"""Each method clusters blobs, deterministically, learns, and validates input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dclib import metrics
from dclib.data import load, subset
from dclib.methods import METHODS
from dclib.train import PretrainConfig


def tiny(name: str, **over):
    """The method's paper config shrunk to seconds: a 10-64-4 AE, few epochs."""
    cfg = METHODS[name][1]()
    pre = dataclasses.replace(cfg.pretrain, n_epochs=20, batch_size=64)
    fields = {f.name for f in dataclasses.fields(cfg)}
    small = {"n_clusters": 4, "hidden": (64,), "latent_dim": 4, "pretrain": pre}
    small |= {k: v for k, v in {"n_epochs": 10, "batch_size": 64,
                                "update_interval": 5, "epochs_per_alpha": 2,
                                "phase1_epochs": 4, "phase2_epochs": 6,
                                "t2": 2}.items()
              if k in fields}  # fmt: skip
    return dataclasses.replace(cfg, **small | over)


@pytest.fixture(scope="module")
def blobs():
    return subset(load("blobs"), 400, seed=0)


FROM_DATA = sorted(set(METHODS) - {"dml"})  # DML starts from a base: test_dml.py


@pytest.mark.parametrize("name", FROM_DATA)
def test_clusters_blobs_and_is_deterministic(blobs, name):
    fit = METHODS[name][0]
    first = fit(blobs.X, tiny(name), seed=0, device="cpu")
    assert metrics.acc(blobs.y, first.labels_) >= 0.9  # k-means on raw blobs: 1.0
    again = fit(blobs.X, tiny(name), seed=0, device="cpu", y_monitor=blobs.y)
    np.testing.assert_array_equal(first.labels_, again.labels_)  # y_monitor inert
    assert "acc" in again.history_[-1] and "acc" not in first.history_[-1]
    assert first.labels_.dtype == np.int64 and first.z_.shape == (400, 4)


@pytest.mark.parametrize(
    ("X", "k", "match"),
    [
        (np.full((10, 3), np.nan), 2, "NaN"),
        (np.zeros((10, 3, 3)), 2, "shape"),
        (np.zeros((10, 3)), 1, "n_clusters"),
        (np.zeros((3, 3)), 4, "n_clusters"),
    ],
)
def test_bad_input_raises(X, k, match):
    with pytest.raises(ValueError, match=match):
        METHODS["dec"][0](X, tiny("dec", n_clusters=k), device="cpu")


def test_dec_stops_when_labels_settle(blobs):
    result = METHODS["dec"][0](
        blobs.X, tiny("dec", n_epochs=200, tol=0.5), device="cpu"
    )
    clustering = [r for r in result.history_ if r["stage"] == 1]
    assert len(clustering) < 200  # converged by tol long before the epoch cap


def test_pretraining_config_is_used(blobs):
    cfg = tiny("ae_kmeans", pretrain=PretrainConfig(n_epochs=3, batch_size=64))
    result = METHODS["ae_kmeans"][0](blobs.X, cfg, device="cpu")
    assert sum(r["stage"] == 0 for r in result.history_) == 3


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("dec", "kl"),
        ("idec", "loss"),
        ("dcn", "loss"),
        ("dkm", "loss"),
        ("dssl", "loss"),
        ("dcss_u", "loss"),
    ],
)
def test_clustering_loss_decreases(blobs, name, key):
    result = METHODS[name][0](blobs.X, tiny(name, tol=0.0) if "dec" in name
                              else tiny(name), device="cpu")  # fmt: skip
    losses = [r[key] for r in result.history_ if r["stage"] == 1 and key in r]
    assert len(losses) >= 2 and losses[-1] < losses[0]


@pytest.mark.parametrize("name", ["dec", "dcn", "dkm"])
def test_interrupted_clustering_resumes_to_the_same_labels(blobs, name, tmp_path,
                                                           monkeypatch):  # fmt: skip
    from dclib.methods import baselines

    fit, cfg = METHODS[name][0], tiny(name, n_epochs=4, tol=0.0) if name == "dec" \
        else tiny(name, n_epochs=4)  # fmt: skip
    reference = fit(blobs.X, cfg, seed=0, device="cpu")
    real, calls = baselines.fit_epochs, []

    def crash_in_epoch_three(step, *args, **kwargs):
        def crashing(x, idx):
            calls.append(1)
            if len(calls) == 2 * 7 + 3:  # 7 batches of 64 per epoch: inside epoch 3
                raise KeyboardInterrupt
            return step(x, idx)

        return real(crashing, *args, **kwargs)

    monkeypatch.setattr(baselines, "fit_epochs", crash_in_epoch_three)
    with pytest.raises(KeyboardInterrupt):
        fit(blobs.X, cfg, seed=0, device="cpu", checkpoint=tmp_path / "c.pt")
    monkeypatch.undo()
    resumed = fit(blobs.X, cfg, seed=0, device="cpu", checkpoint=tmp_path / "c.pt")
    np.testing.assert_array_equal(resumed.labels_, reference.labels_)
    np.testing.assert_array_equal(resumed.z_, reference.z_)
    assert [r["epoch"] for r in resumed.history_ if r["stage"] == 1] == [0, 1, 2, 3]


def test_dkm_anneals_alpha_unless_constant(blobs):
    fit = METHODS["dkm"][0]
    annealed = fit(blobs.X, tiny("dkm", n_epochs=4), device="cpu").history_
    alphas = [r["alpha"] for r in annealed if r["stage"] == 1]
    assert alphas[0] == pytest.approx(0.1) and alphas[-1] > alphas[0]
    fixed = fit(blobs.X, tiny("dkm", n_epochs=2, constant_alpha=1000.0), device="cpu")
    assert {r["alpha"] for r in fixed.history_ if r["stage"] == 1} == {1000.0}
