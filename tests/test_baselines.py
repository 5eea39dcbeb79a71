"""Every registered method clusters blobs through the one fit contract,
deterministically and blind to the monitor labels, with named history stages; the
baselines learn, validate input, resume, and honour their options (DEC's budget,
DCN's code options, DKM_a / DKM_p)."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
from conftest import resumed_after_a_kill, shrink
from sklearn.cluster import KMeans

from dclib import metrics
from dclib.diagnostics import Diagnostics
from dclib.methods import REGISTRY, FitContext, baselines, get_method
from dclib.pretrain import PretrainConfig

CPU = FitContext(device="cpu")

STAGES = {
    "ae_kmeans": {"pretrain", "cluster"},
    "dec": {"pretrain", "cluster"},
    "idec": {"pretrain", "cluster"},
    "dcn": {"pretrain", "cluster"},
    "dkm": {"pretrain", "cluster"},
    "dkm_p": {"pretrain", "cluster"},
    "dssl": {"pretrain", "cluster"},
    "dcss_u": {"pretrain", "phase1"},
    "dcss": {"pretrain", "phase1", "phase2"},
    "mnet": {"phase2"},
    "dml": {"cluster"},
    "dynae": {"pretrain", "start", "cluster", "checks"},
    "dc_star": {"pretrain", "start", "cluster", "checks"},
    "rdc": {"pretrain", "start", "cluster", "checks"},
}
"""the stages each method's history names"""


def test_every_registered_method_is_covered():
    assert set(REGISTRY) == set(STAGES)


@pytest.fixture(scope="module")
def start(blobs):
    """A trained autoencoder and centres (DCSS_u) for the methods that continue one."""
    u = get_method("dcss_u").fit(blobs.X, shrink("dcss_u", epochs=2), CPU)
    return u.model_, u.mu_


def _fit(name, X, ctx, start):
    method = get_method(name)
    cfg = shrink(name, lr=1e-3) if name == "dml" else shrink(name)
    if name in ("dynae", "dc_star", "rdc"):  # ACAI pretraining (DynAE: Adam at 1e-4)
        cfg = shrink(name, pretrain_epochs=50)
        if name != "rdc":  # SGD: the per-sample norms' longer steps fit 6 epochs
            cfg = dataclasses.replace(cfg, per_element=False)
        X = (X - X.min()) / (
            X.max() - X.min()
        )  # SGD on per-sample norms: data in [0, 1]
    if method.needs_start or name == "dml":  # fit_mnet trains the start in place
        ctx = dataclasses.replace(ctx, start=copy.deepcopy(start))
    return method.fit(X, cfg, ctx)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_clusters_blobs_deterministically_and_blind_to_y_monitor(blobs, start, name):
    first = _fit(name, blobs.X, FitContext(seed=0, device="cpu"), start)
    assert metrics.acc(blobs.y, first.labels_) >= 0.9  # k-means on raw blobs: 1.0
    atlas_only = Diagnostics(atlas=True)
    monitored = FitContext(seed=0, device="cpu", y_monitor=blobs.y, monitor=atlas_only)
    again = _fit(name, blobs.X, monitored, start)
    np.testing.assert_array_equal(first.labels_, again.labels_)  # y_monitor inert
    np.testing.assert_array_equal(first.z_, again.z_)  # the atlas too
    assert "acc" in again.history_[-1] and "acc" not in first.history_[-1]
    atlas = {"atlas_fr", "atlas_fd", "atlas_id", "atlas_lid"}
    assert any(atlas <= set(r) for r in again.history_)
    assert not any(k.startswith("atlas") for r in first.history_ for k in r)
    assert first.labels_.dtype == np.int64 and first.z_.shape == (400, 4)
    assert {r["stage"] for r in first.history_} == STAGES[name]
    assert all(first.stage(stage) for stage in STAGES[name])


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
        baselines.fit_dec(X, shrink("dec", n_clusters=k), CPU)


def test_dec_stops_when_labels_settle(blobs):
    result = baselines.fit_dec(blobs.X, shrink("dec", epochs=200, tol=0.5), CPU)
    assert len(result.stage("cluster")) < 200  # converged by tol before the cap


def test_dec_budget_is_max_iter_iterations(blobs):
    # tol = 0 never fires: training runs exactly max_iter iterations, over as many
    # epochs as they take (n_epochs=None), 7 batches of 64 per epoch of 400
    cfg = shrink("dec", n_epochs=None, max_iter=10, tol=0.0)
    assert cfg.epochs_for(400) == math.ceil(10 / math.ceil(400 / 64)) == 2
    cluster = baselines.fit_dec(blobs.X, cfg, CPU).stage("cluster")
    assert len(cluster) == 2 and cluster[-1]["iteration"] == 10
    assert [r["iteration"] for r in cluster] == [7, 10]


def test_dec_epochs_for():
    cfg = baselines.DECConfig()
    assert cfg.max_iter == 20_000 and cfg.n_epochs is None
    assert cfg.epochs_for(70_000) == math.ceil(20_000 / math.ceil(70_000 / 256)) == 73
    assert baselines.DECConfig(max_iter=100).epochs_for(1000) == 25  # 4 per epoch
    assert baselines.DECConfig(max_iter=101).epochs_for(1000) == 26
    assert baselines.DECConfig(max_iter=100, n_epochs=3).epochs_for(1000) == 3
    assert baselines.DECConfig(max_iter=100, n_epochs=99).epochs_for(1000) == 25


def test_pretraining_config_is_used(blobs):
    pre = PretrainConfig(n_epochs=3, batch_size=64)
    result = baselines.fit_ae_kmeans(blobs.X, shrink("ae_kmeans", pretrain=pre), CPU)
    assert len(result.stage("pretrain")) == 3


@pytest.mark.parametrize(
    ("name", "key", "stage"),
    [
        ("dec", "kl", "cluster"),
        ("idec", "loss", "cluster"),
        ("dcn", "loss", "cluster"),
        ("dkm", "loss", "cluster"),
        ("dssl", "loss", "cluster"),
        ("dcss_u", "loss", "phase1"),
    ],
)
def test_clustering_loss_decreases(blobs, name, key, stage):
    over = {"tol": 0.0} if name in ("dec", "idec") else {}
    result = get_method(name).fit(blobs.X, shrink(name, epochs=10, **over), CPU)
    losses = [r[key] for r in result.stage(stage) if key in r]
    assert len(losses) >= 2 and losses[-1] < losses[0]


@pytest.mark.parametrize("name", ["dec", "dcn", "dkm"])
def test_interrupted_clustering_resumes_to_the_same_labels(
    blobs, name, tmp_path, monkeypatch
):
    fit = get_method(name).fit
    cfg = shrink(name, epochs=4, **({"tol": 0.0} if name == "dec" else {}))
    _, resumed = resumed_after_a_kill(
        baselines, fit, blobs.X, cfg, tmp_path, monkeypatch
    )
    assert [r["epoch"] for r in resumed.stage("cluster")] == [0, 1, 2, 3]


def test_dkm_anneals_alpha_and_dkm_p_keeps_it_at_1000(blobs):
    annealed = get_method("dkm").fit(blobs.X, shrink("dkm", epochs=4), CPU)
    alphas = [r["alpha"] for r in annealed.stage("cluster")]
    assert alphas[0] == pytest.approx(0.1) and alphas[-1] > alphas[0]
    dkm_p = get_method("dkm_p")
    assert dkm_p.make_config().constant_alpha == 1000
    assert get_method("dkm").make_config().constant_alpha is None
    fixed = dkm_p.fit(blobs.X, shrink("dkm_p", epochs=3), CPU)
    assert [r["alpha"] for r in fixed.stage("cluster")] == [1000.0] * 3


def test_dcn_official_code_preset():
    code = baselines.DCNConfig.official_code()
    assert (code.initial_count, code.kmeans_every, code.final_kmeans) == (100, 10, True)
    paper = baselines.DCNConfig()
    assert (paper.initial_count, paper.kmeans_every, paper.final_kmeans) == (
        None,
        None,
        False,
    )
    assert baselines.DCNConfig.official_code(kmeans_every=3).kmeans_every == 3


@pytest.mark.parametrize(
    ("every", "restarts"), [(None, [0] * 4), (1, [1] * 4), (2, [0, 1, 0, 1])]
)
def test_dcn_kmeans_every_restarts_kmeans(blobs, every, restarts):
    cfg = shrink("dcn", epochs=4, kmeans_every=every)
    r = baselines.fit_dcn(blobs.X, cfg, CPU)
    assert [h["kmeans_restart"] for h in r.stage("cluster")] == restarts


def test_dcn_final_kmeans_labels_are_kmeans_of_the_codes(blobs):
    cfg = shrink("dcn", epochs=2, final_kmeans=True)
    final = baselines.fit_dcn(blobs.X, cfg, CPU)
    km = KMeans(cfg.n_clusters, n_init=cfg.n_init, random_state=0).fit(final.z_)
    np.testing.assert_array_equal(final.labels_, km.labels_)
    np.testing.assert_allclose(final.mu_, km.cluster_centers_, rtol=1e-5, atol=1e-5)
    nearest = baselines.fit_dcn(blobs.X, shrink("dcn", epochs=2), CPU)  # eq. 6
    d2 = ((nearest.z_[:, None] - nearest.mu_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(nearest.labels_, d2.argmin(1))


def test_dcn_initial_count_sets_the_counts_before_the_first_update(blobs):
    fit = baselines.fit_dcn
    mu0 = fit(blobs.X, shrink("dcn", epochs=0), CPU).mu_  # k-means' centres
    # counts of 10^12 make eq. 7's steps 1 / c_k vanish: the centres stay put
    frozen = fit(blobs.X, shrink("dcn", epochs=2, initial_count=1e12), CPU).mu_
    np.testing.assert_allclose(frozen, mu0, atol=1e-4)
    # None: k-means' cluster sizes (100 each on these blobs, = the code's 100)
    moved = fit(blobs.X, shrink("dcn", epochs=2), CPU).mu_
    light = fit(blobs.X, shrink("dcn", epochs=2, initial_count=5.0), CPU).mu_
    assert not np.allclose(moved, mu0, atol=1e-3)
    assert not np.allclose(light, moved, atol=1e-3)


def test_dec_drops_the_decoder_and_idec_keeps_it(blobs):
    dec = baselines.fit_dec(blobs.X, shrink("dec", epochs=2, tol=0.0), CPU)
    idec = baselines.fit_dec(blobs.X, shrink("idec", epochs=2, tol=0.0), CPU)
    pre = baselines.fit_ae_kmeans(
        blobs.X, shrink("ae_kmeans", pretrain=shrink("dec").pretrain), CPU
    )
    # DEC trains the encoder only: its decoder is the pretrained one
    pretrained = list(pre.model_.decoder.parameters())
    dec_decoder = list(dec.model_.decoder.parameters())
    idec_decoder = list(idec.model_.decoder.parameters())
    assert all(torch.equal(a, b) for a, b in zip(dec_decoder, pretrained, strict=True))
    assert not all(
        torch.equal(a, b) for a, b in zip(idec_decoder, pretrained, strict=True)
    )


def test_kmeans_spread_is_the_protocols_draw_repeated_over_seeds():
    from dclib.methods import KMEANS_SEEDS, kmeans_spread
    from dclib.methods._common import kmeans

    rng = np.random.default_rng(0)
    z = torch.as_tensor(rng.normal(size=(300, 2)), dtype=torch.float32)
    y = (z[:, 0] > 0).numpy().astype(int) + 2 * (z[:, 1] > 0).numpy().astype(int)
    spread = kmeans_spread(z, y, 4, n_init=1)
    by_hand = [metrics.acc(y, kmeans(z, 4, 1, s)[1].numpy()) for s in range(10)]
    assert KMEANS_SEEDS == 10
    assert spread["kmeans_acc_mean"] == pytest.approx(np.mean(by_hand))
    assert spread["kmeans_acc_sd"] == pytest.approx(np.std(by_hand, ddof=1))
    assert spread["kmeans_acc_min"] == min(by_hand)
    assert spread["kmeans_acc_max"] == max(by_hand)
    assert spread["kmeans_acc_sd"] > 0  # one init on a blob: the draws differ


def test_a_kmeans_labelled_run_reports_its_spread(run_dirs, blobs):
    from dclib.book.cache import cluster

    cfg = shrink("ae_kmeans", pretrain_epochs=2)
    r = cluster("ae_kmeans", cfg, blobs, profile="smoke", seed=0, device="cpu")
    lo, hi = r.metrics["kmeans_acc_min"], r.metrics["kmeans_acc_max"]
    assert lo <= r.metrics["kmeans_acc_mean"] <= hi
    dec = cluster("dec", shrink("dec", epochs=1), blobs, profile="smoke", seed=0)
    assert "kmeans_acc_mean" not in dec.metrics  # labels from its own q
