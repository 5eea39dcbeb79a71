"""Shared fixtures: the blobs data, isolated result/cache directories, and ``shrink``,
the one way a test makes a registered method's config small enough for seconds."""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from dclib import data
from dclib.data import load, subset
from dclib.methods import get_method
from dclib.methods._common import FitContext

torch.set_num_threads(1)
"""The tests' networks are tiny: one thread is faster than several and does not
slow to a crawl when other jobs share the cores."""


def shrink(
    cfg: Any,
    *,
    epochs: int = 6,
    pretrain_epochs: int = 10,
    width: int = 64,
    latent: int = 4,
    **fields: Any,
) -> Any:
    """``cfg`` (a config, or the name of a registered method for its default config)
    with every size that makes a fit slow made small, then ``fields`` set.

    Whatever of these fields the config has: K = 4 (the blobs), an MLP of one hidden
    layer of ``width`` and a latent space of ``latent``, batches of 64, pretraining of
    ``pretrain_epochs`` epochs at batch 64 (its other fields, e.g. DEC's greedy
    dropout, kept), ``epochs`` for every training stage (``n_epochs``,
    ``phase1_epochs``, ``phase2_epochs``), DCSS's T2 at half of them (both pair
    selections run), DEC's target refresh (and DynAE's, R-DC's checks) every 5
    iterations, DKM's alpha every 2 epochs and 3 k-means restarts. Every other
    field (optimisers, learning rates, the official-code switches, MNet's depth)
    keeps ``cfg``'s value.
    """
    if isinstance(cfg, str):
        cfg = get_method(cfg).make_config()
    small: dict[str, Any] = {
        "n_clusters": 4,
        "hidden": (width,),
        "latent_dim": latent,
        "batch_size": 64,
        "n_epochs": epochs,
        "phase1_epochs": epochs,
        "phase2_epochs": epochs,
        "t2": epochs // 2,
        "update_interval": 5,
        "check_interval": 5,
        "epochs_per_alpha": 2,
        "n_init": 3,
    }
    names = {f.name for f in dataclasses.fields(cfg)}
    small = {k: v for k, v in small.items() if k in names}
    if "pretrain" in names:
        small["pretrain"] = dataclasses.replace(
            cfg.pretrain, n_epochs=pretrain_epochs, batch_size=64
        )
    return dataclasses.replace(cfg, **(small | fields))


def crash_in_epoch_three(module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``module.fit_epochs`` raise KeyboardInterrupt at the third batch of the
    third epoch (7 batches of 64 per epoch of the 400 blobs): a kill mid-run, for the
    resumption tests (``monkeypatch.undo()`` restores it)."""
    real, calls = module.fit_epochs, []

    def crashing_fit(step, *args, **kwargs):
        def crashing(x, idx):
            calls.append(1)
            if len(calls) == 2 * 7 + 3:
                raise KeyboardInterrupt
            return step(x, idx)

        return real(crashing, *args, **kwargs)

    monkeypatch.setattr(module, "fit_epochs", crashing_fit)


def resumed_after_a_kill(module, fit, X, cfg, tmp_path, monkeypatch):
    """Fit once uninterrupted, once killed in epoch three (``crash_in_epoch_three``)
    and resumed from its checkpoint; assert both give the same labels and codes and
    return both results (uninterrupted, resumed)."""
    reference = fit(X, cfg, FitContext(device="cpu"))
    ctx = FitContext(device="cpu", checkpoint=tmp_path / "c.pt")
    crash_in_epoch_three(module, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        fit(X, cfg, ctx)
    monkeypatch.undo()
    resumed = fit(X, cfg, ctx)
    np.testing.assert_array_equal(resumed.labels_, reference.labels_)
    np.testing.assert_array_equal(resumed.z_, reference.z_)
    return reference, resumed


@pytest.fixture(scope="session")
def blobs():
    """400 samples of the offline blobs: 4 clusters in 10 dimensions."""
    return subset(load("blobs"), 400, seed=0)


_LOADED: dict[tuple, data.Dataset] = {}


def _load_once(name: str, **kwargs: Any) -> data.Dataset:
    key = (name, *sorted(kwargs.items()))
    if key not in _LOADED:
        _LOADED[key] = _real_load(name, **kwargs)
    return _LOADED[key]


_real_load = data.load


@pytest.fixture
def loaded_once(monkeypatch):
    """``dclib.data.load`` reads each dataset once per session (``mnist5k`` takes
    seconds to parse), so ``Run.load`` and the recipes get it at once."""
    monkeypatch.setattr(data, "load", _load_once)


@pytest.fixture(scope="session")
def mnist5k():
    """The offline 5,000 MNIST images (1, 28, 28), read once."""
    return _load_once("mnist5k")


@pytest.fixture
def run_dirs(tmp_path, monkeypatch):
    """The run cache writes its results and arrays, and a reference profile its
    committed networks, under ``tmp_path``, not the checkout."""
    from dclib import networks
    from dclib.book import cache

    monkeypatch.setattr(cache, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(networks, "DIRECTORY", tmp_path / "pretrained")
    return tmp_path


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Refuse every connection, count urlopen calls, and point $DCLIB_DATA at tmp
    (the data tests: ``pytestmark = pytest.mark.usefixtures("offline")``)."""
    attempts: list[str] = []

    def refuse_url(url: object, *args: object, **kwargs: object) -> None:
        attempts.append(str(getattr(url, "full_url", url)))
        raise urllib.error.URLError("network disabled in tests")

    def refuse_socket(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse_url)
    monkeypatch.setattr(socket.socket, "connect", refuse_socket)
    monkeypatch.setenv("DCLIB_DATA", str(tmp_path / "env-data"))
    return attempts
