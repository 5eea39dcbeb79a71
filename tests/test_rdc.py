"""R-DC as a method: the dual filter, the code's running minimum, the stop rule,
presets, learning a small set, labels blind to the monitor, resumption."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import resumed_after_a_kill, shrink

from dclib import metrics
from dclib.methods import FitContext, get_method, rdc
from dclib.pretrain import PretrainConfig

CPU = FitContext(device="cpu")

# two tight pairs and a loose point (1-D codes): hand-computable filters
Z = torch.tensor([[0.0], [1.0], [10.0], [11.0], [30.0]])


def test_dual_filter_by_hand():
    cfg = rdc.RDCConfig(n_neighbours=2, alpha=0.5, beta=0.5, beta_scale="absolute")
    f = rdc.dual_filter(Z, cfg)
    # point 0: d = (1, 10) -> r = 0.1; point 2: (1, 9) -> 0.11; point 4: (19, 20)
    assert f.core.tolist() == [False, False, False, False, True]
    # point 4's neighbours 3 (19) and 2 (20): h = (0, 1), only point 3 is reliable
    assert f.reliable[4].tolist() == [True, False]
    torch.testing.assert_close(f.centroid[4], torch.tensor([11.0]))
    torch.testing.assert_close(f.centroid[:4], Z[:4])  # border points: own codes
    assert not f.reliable[:4].any()
    wide = rdc.dual_filter(Z, dataclasses.replace(cfg, beta=1.0))
    torch.testing.assert_close(wide.centroid[4], torch.tensor([10.5]))


def test_beta_in_units_of_the_median_nearest_distance_is_scale_free():
    # nearest distances 1, 1, 1, 1, 19: median 1, so beta = 0.5 is 0.5 as above
    cfg = rdc.RDCConfig(n_neighbours=2, alpha=0.5, beta=0.5)
    assert cfg.beta_scale == "d1"
    d, _ = rdc.Fn.neighbour_distances(Z, 2)
    assert rdc.beta_unit(d, cfg) == 1.0
    for c in (1e-3, 1.0, 1e3):
        f = rdc.dual_filter(c * Z, cfg)
        assert f.core.tolist() == [False, False, False, False, True]
        assert f.reliable[4].tolist() == [True, False]
    # absolute: shrunk codes keep every neighbour, grown ones none but the nearest
    absolute = dataclasses.replace(cfg, beta_scale="absolute")
    assert rdc.dual_filter(1e-3 * Z, absolute).reliable[4].tolist() == [True, True]


def test_running_minimum_is_the_codes_carried_minimum():
    d = torch.tensor([[3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [2.0, 9.0]])
    core = torch.tensor([True, False, True, True])
    # starts at the last row's nearest distance (2), lowered by core rows only
    assert rdc.running_minimum(d, core).tolist() == [2.0, 2.0, 2.0, 2.0]
    core = torch.tensor([True, True, False, True])
    assert rdc.running_minimum(d, core).tolist() == [2.0, 1.0, 1.0, 1.0]


def test_presets_and_validation():
    paper, code = rdc.RDCConfig(), rdc.RDCConfig.official_code()
    assert paper.pretrain.acai_alternate and not code.pretrain.acai_alternate
    assert (paper.n_neighbours, paper.alpha, paper.beta, paper.refresh) == (
        5,
        0.6,
        0.6,
        140,
    )
    assert paper.live_centroids and paper.augment_targets and paper.optimizer == "sgd"
    assert paper.per_element and paper.output_weight is None  # d / m
    from dclib.methods._targets import l1_weight

    assert l1_weight(None, 784, 10) == 78.4 and l1_weight(100.0, 784, 10) == 100
    assert (paper.min_checks, paper.smooth, paper.patience) == (20, 5, 5)
    assert code.real_neighbours == 4 and code.border == "stale"
    assert code.output_weight == 100 and code.refresh == 140 and code.strict
    assert not code.live_centroids and not code.augment_targets
    assert code.beta_scale == "absolute"
    with pytest.raises(ValueError, match="beta_scale"):
        rdc.RDCConfig(beta_scale="relative")
    with pytest.raises(ValueError, match="smooth"):
        rdc.RDCConfig(smooth=0)
    with pytest.raises(ValueError, match="optimizer"):
        rdc.RDCConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="border"):
        rdc.RDCConfig(border="ignore")
    with pytest.raises(ValueError, match="neighbours"):
        rdc.RDCConfig(n_neighbours=1)


@pytest.fixture(scope="module")
def unit(blobs):
    return dataclasses.replace(blobs, X=(blobs.X / blobs.X.std()).astype(np.float32))


def test_rdc_learns_blobs_and_the_monitor_never_touches_training(unit):
    cfg = shrink("rdc", epochs=4, pretrain_epochs=40, patience=100)
    blind = rdc.fit_rdc(unit.X, cfg, CPU)
    assert metrics.acc(unit.y, blind.labels_) >= 0.9
    seen = rdc.fit_rdc(unit.X, cfg, FitContext(device="cpu", y_monitor=unit.y))
    np.testing.assert_array_equal(blind.labels_, seen.labels_)
    np.testing.assert_array_equal(blind.z_, seen.z_)
    checks = seen.stage("checks")
    assert [r["iteration"] for r in checks] == [0, 5, 10, 15, 20, 25, 28]  # + the end
    assert all(0 <= r["tau"] <= 1 and 0 <= r["true_after"] <= 1 for r in checks)
    assert "acc" in checks[-1] and "acc" not in blind.stage("checks")[-1]


NOISE = np.random.default_rng(0).normal(0, 0.007, 60)
"""check-to-check noise of tau as measured on Fashion-MNIST 70k (about 0.7 points)"""


@pytest.mark.parametrize(
    ("taus", "done"),
    [
        ([0.92], False),
        # the reference's trace that the single-check rule stopped on: too short
        ([0.921, 0.848, 0.834, 0.841, 0.835], False),
        # flat noise around 84 % after a fall: stops once the minimum length is run
        (list(0.84 + NOISE[:19]), False),
        (list(0.84 + NOISE[:30]), True),
        # a slow rise under the noise keeps making new smoothed highs: goes on
        (list(0.80 + np.linspace(0, 0.1, 40) + NOISE[:40]), False),
        # the rise levels off: stops
        (list(0.80 + np.minimum(np.linspace(0, 0.2, 60), 0.1) + NOISE[:60]), True),
    ],
)
def test_stop_rule_reads_a_smoothed_tau_after_a_minimum_length(taus, done):
    assert rdc.stable(taus) is done


def test_stop_rule_patience_counts_checks_without_a_new_smoothed_high():
    rising = [0.1 * i for i in range(10)]
    assert not rdc.stable(rising, patience=2, smooth=1, min_checks=0)
    assert not rdc.stable(rising + [0.85], patience=2, smooth=1, min_checks=0)
    assert rdc.stable(rising + [0.85, 0.8], patience=2, smooth=1, min_checks=0)
    # smoothing over 3 checks: one high check among low ones is no new high
    flat = [0.5] * 10 + [0.6, 0.5, 0.5]
    assert rdc.stable(flat, patience=3, smooth=3, min_checks=0) is False
    assert rdc.stable(flat + [0.5, 0.5, 0.5], patience=3, smooth=3, min_checks=0)


def test_a_tau_that_never_rises_runs_to_the_epoch_cap(unit):
    cfg = shrink("rdc", epochs=3, pretrain_epochs=40, alpha=1.0)
    # alpha = 1: no core point ever (tau = 0 at every check): never stable
    result = rdc.fit_rdc(unit.X, cfg, CPU)
    checks = [r["iteration"] for r in result.stage("checks")]
    assert len(result.stage("cluster")) == 3 and checks[:3] == [0, 5, 10]
    assert checks[-1] == result.stage("cluster")[-1]["iteration"] > 15
    assert all(r["tau"] == 0 for r in result.stage("checks"))


def test_official_code_and_dbscan_run(unit):
    code = shrink(rdc.RDCConfig.official_code(), epochs=3, pretrain_epochs=40)
    result = rdc.fit_rdc(unit.X, dataclasses.replace(code, refresh=5), CPU)
    assert metrics.acc(unit.y, result.labels_) >= 0.9
    cfg = shrink("rdc", epochs=2, pretrain_epochs=40, final="dbscan", dbscan_eps=2.0)
    found = rdc.fit_rdc(unit.X, cfg, CPU)
    assert found.labels_.min() >= 0 and len(found.mu_) == len(np.unique(found.labels_))


def test_interrupted_rdc_resumes_to_the_same_labels(unit, tmp_path, monkeypatch):
    cfg = shrink("rdc", epochs=4, pretrain_epochs=40, patience=100)
    resumed_after_a_kill(rdc, rdc.fit_rdc, unit.X, cfg, tmp_path, monkeypatch)


def test_alternating_acai_updates_one_player_per_iteration(unit):
    from dclib.models import MLPAutoencoder
    from dclib.pretrain import pretrain_autoencoder

    X = torch.as_tensor(unit.X[:64])
    cfg = PretrainConfig(n_epochs=1, batch_size=64, acai_lambda=0.5)
    torch.manual_seed(0)
    model = MLPAutoencoder(10, latent_dim=2, hidden=(8,))
    before = [p.clone() for p in model.parameters()]
    # one batch = iteration 1: the critic's turn, the autoencoder stays
    pretrain_autoencoder(model, X, dataclasses.replace(cfg, acai_alternate=True))
    assert all(map(torch.equal, before, model.parameters()))
    pretrain_autoencoder(model, X, cfg)
    assert not all(map(torch.equal, before, model.parameters()))


def test_registered_and_continues_a_trained_network(unit):
    method = get_method("rdc")
    assert method.make_config().alpha == 0.6
    first = rdc.fit_rdc(unit.X, shrink("rdc", epochs=1, pretrain_epochs=40), CPU)
    ctx = FitContext(device="cpu", start=(first.model_, first.mu_))
    dec = get_method("dec").fit(unit.X, shrink("dec", epochs=1), ctx)
    assert dec.stage("pretrain") == []  # DEC continued R-DC's network (Table 8)
    assert metrics.acc(unit.y, dec.labels_) >= 0.9


def test_contrastive_pretraining_pulls_views_together():
    from dclib.functional import nt_xent
    from dclib.models import MLPAutoencoder
    from dclib.pretrain import pretrain_autoencoder

    torch.manual_seed(0)
    X = torch.rand(128, 1, 8, 8)
    model = MLPAutoencoder(64, latent_dim=4, hidden=(32,))
    cfg = PretrainConfig(n_epochs=15, batch_size=64, contrastive_temperature=0.5)
    hist = pretrain_autoencoder(model, X, cfg)
    losses = [r["loss"] for r in hist.records]
    assert losses[-1] < losses[0]
    assert losses[0] == pytest.approx(float(nt_xent(*torch.randn(2, 64, 4))), rel=0.3)
    with pytest.raises(ValueError, match="contrastive"):
        pretrain_autoencoder(model, X.flatten(1), cfg)


def test_the_graph_is_rebuilt_every_refresh_and_at_every_check(unit, monkeypatch):
    calls = []
    real = rdc.dual_filter
    monkeypatch.setattr(
        rdc, "dual_filter", lambda z, cfg: calls.append(1) or real(z, cfg)
    )
    cfg = shrink("rdc", epochs=2, pretrain_epochs=5, refresh=3, patience=100)
    rdc.fit_rdc(unit.X, cfg, CPU)  # 14 iterations: 7 batches of 64 an epoch
    # the start, iterations 0, 3, 5, 6, 9, 10, 12 (refresh 3, checks every 5), the end
    assert len(calls) == 1 + 7 + 1


def test_the_start_record_measures_scale_balance_and_the_kmeans_spread(unit):
    cfg = shrink("rdc", epochs=1, pretrain_epochs=20)
    seen = rdc.fit_rdc(unit.X, cfg, FitContext(device="cpu", y_monitor=unit.y))
    (start,) = seen.stage("start")
    assert start["code_norm"] > 0 and 0 < start["d1"] <= start["dM"]
    assert 0 <= start["gaps_under_beta"] <= 1 and 0 <= start["tau"] <= 1
    assert start["beta_unit"] == pytest.approx(start["d1"])
    assert start["l1"] > 0 and start["grad_l1"] > 0 and start["grad_l2"] >= 0
    assert start["l1_over_l2"] == pytest.approx(start["l1"] / start["l2"])
    lo, hi = start["kmeans_acc_min"], start["kmeans_acc_max"]
    assert 0.25 <= lo <= start["kmeans_acc_mean"] <= hi <= 1
    assert start["kmeans_acc_sd"] >= 0
    (blind,) = rdc.fit_rdc(unit.X, cfg, CPU).stage("start")
    assert "kmeans_acc_mean" not in blind and blind["l1"] == start["l1"]
