"""DynAE as a method: its threshold schedules, targets, stop rule, presets, checks
history, diagnostics blind to training, and resumption."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import resumed_after_a_kill, shrink

from dclib import metrics
from dclib.diagnostics import Diagnostics, Monitor
from dclib.methods import FitContext, dynae, get_method
from dclib.methods._targets import centroids
from dclib.models import MLPAutoencoder
from dclib.train import TensorState

CPU = FitContext(device="cpu")


@pytest.fixture(scope="module")
def unit(blobs):
    """The blobs at unit standard deviation: DynAE's SGD on per-sample squared norms
    diverges on the raw blobs (±12), as the paper's images lie in [0, 1]."""
    return dataclasses.replace(blobs, X=(blobs.X / blobs.X.std()).astype(np.float32))


def _schedule(cfg: dynae.DynAEConfig, drops: int) -> list[tuple[float, float]]:
    kappa = cfg.initial_kappa()
    s = TensorState(kappa=kappa, delta=cfg.kappa_drop * kappa)
    s.beta1, s.beta2 = 0.3, 0.15
    out = []
    for _ in range(drops):
        dynae.lowered(cfg, s)
        out.append((round(s.beta1, 6), round(s.beta2, 6)))
    return out


def test_thresholds_drop_by_eq10_or_as_the_code_does():
    # the paper (our reading): kappa 3 -> 2.1 -> 1.47, beta1 = kappa / 10, beta2 half
    assert _schedule(dynae.DynAEConfig(), 2) == [(0.21, 0.105), (0.147, 0.0735)]
    # the code: both lowered by 0.09, 0.09, 0.027 (notes §4.3): beta2 goes negative
    code = dynae.DynAEConfig.official_code()
    assert _schedule(code, 3) == [(0.21, 0.06), (0.12, -0.03), (0.093, -0.057)]


def test_presets_and_validation():
    code = dynae.DynAEConfig.official_code()
    assert code.output_weight == 100 and code.strict and not code.shuffle
    assert code.pretrain.critic_trainable is False
    assert dynae.DynAEConfig().pretrain.critic_trainable is True
    assert dynae.DynAEConfig().initial_kappa() == pytest.approx(3.0)  # 0.3 K
    assert get_method("dc_star").make_config().dynamic is False
    with pytest.raises(ValueError, match="beta_update"):
        dynae.DynAEConfig(beta_update="sometimes")


def test_centroid_targets_by_hand():
    torch.manual_seed(0)
    model = MLPAutoencoder(2, latent_dim=2, hidden=(3,))
    X = torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    means = torch.tensor([[0.8, 0.8], [4.0, 4.0]])
    paper = centroids(model, X, z, means)  # means as centres, nearest images
    torch.testing.assert_close(paper.codes, means)
    torch.testing.assert_close(paper.images, X[[1, 2]])
    code = centroids(model, X, z, means, codes="nearest", images="decoded")
    torch.testing.assert_close(code.codes, z[[1, 2]])
    with torch.no_grad():
        torch.testing.assert_close(code.images, model.decode(z[[1, 2]]))
    with pytest.raises(ValueError, match="codes must be"):
        centroids(model, X, z, means, codes="mean")


def test_stop_rule_and_checks(unit):
    # tol above 1: tau < tol at the first check, before any step
    cfg = shrink("dynae", epochs=20, tol=1.01, pretrain_epochs=50)
    early = dynae.fit_dynae(unit.X, cfg, CPU)
    assert [r["iteration"] for r in early.stage("checks")] == [0]
    assert len(early.stage("cluster")) == 1  # stopped within the first epoch
    # tol = 0 never fires: max_iter iterations, a check every 5
    cfg = shrink("dynae", n_epochs=None, max_iter=30, tol=0.0, pretrain_epochs=50)
    full = dynae.fit_dynae(unit.X, cfg, CPU)
    its = [r["iteration"] for r in full.stage("checks")]
    assert its == [0, 5, 10, 15, 20, 25, 30]
    assert full.stage("cluster")[-1]["iteration"] == 30
    taus = [r["tau"] for r in full.stage("checks")]
    assert all(0 <= t <= 1 for t in taus)


def test_dynae_learns_blobs_and_diagnostics_never_touch_training(unit):
    cfg = shrink("dynae", epochs=8, tol=0.0, pretrain_epochs=50)
    blind = dynae.fit_dynae(unit.X, cfg, CPU)
    assert metrics.acc(unit.y, blind.labels_) >= 0.9
    seen = FitContext(device="cpu", y_monitor=unit.y, monitor=Diagnostics(checks=True))
    watched = dynae.fit_dynae(unit.X, cfg, seen)
    np.testing.assert_array_equal(blind.labels_, watched.labels_)
    np.testing.assert_array_equal(blind.z_, watched.z_)
    check = watched.stage("checks")[-1]
    assert -1 <= check["fr"] <= 1 and -1 <= check["fd"] <= 1
    assert {"acc_conflicted", "acc_unconflicted", "acc"} <= set(check)
    assert "fr" not in blind.stage("checks")[-1]


def test_idec_logs_feature_randomness_and_drift(blobs):
    seen = FitContext(device="cpu", y_monitor=blobs.y, monitor=Diagnostics(checks=True))
    cfg = shrink("idec", epochs=3, tol=0.0)
    idec = get_method("idec").fit(blobs.X, cfg, seen)
    checks = idec.stage("checks")
    assert checks and all(-1 <= r["fr"] <= 1 and -1 <= r["fd"] <= 1 for r in checks)
    dec = get_method("dec").fit(blobs.X, shrink("dec", epochs=3, tol=0.0), seen)
    assert "fd" not in dec.stage("checks")[0]  # DEC has no self-supervised term
    plain = get_method("idec").fit(blobs.X, cfg, CPU)
    np.testing.assert_array_equal(plain.labels_, idec.labels_)


class Recording(Monitor):
    """A monitor that logs its calls and writes a key into every record it is
    handed: training must not read what it writes."""

    def __init__(self):
        self.calls = []

    def epoch(self, record, at):
        self.calls.append("epoch")
        record["seen"] = float(len(at.labels))

    def check(self, record, at):
        self.calls.append(("check", at.loss is not None))
        record["seen"] = float(len(at.labels))


@pytest.mark.parametrize("name", ["idec", "dynae", "rdc"])
def test_a_monitor_is_called_at_the_logging_points_and_never_steers(unit, name):
    tol = {"tol": 0.0} if name != "rdc" else {}  # DEC, DynAE: every check runs
    cfg = shrink(name, epochs=3, pretrain_epochs=5, **tol)
    fit = get_method(name).fit
    plain = fit(unit.X, cfg, FitContext(device="cpu", y_monitor=unit.y))
    hook = Recording()
    ctx = FitContext(device="cpu", y_monitor=unit.y, monitor=hook)
    seen = fit(unit.X, cfg, ctx)
    np.testing.assert_array_equal(plain.labels_, seen.labels_)
    np.testing.assert_array_equal(plain.z_, seen.z_)
    checks = [c for c in hook.calls if c != "epoch"]
    assert checks and all(c == ("check", name != "rdc") for c in checks)
    assert all(r["seen"] == len(unit.y) for r in seen.stage("checks"))
    if name != "rdc":  # R-DC scores its checks, not its epochs
        assert "epoch" in hook.calls
        assert all("seen" in r for r in seen.stage("cluster"))
    unlabelled = fit(unit.X, cfg, FitContext(device="cpu", monitor=Recording()))
    np.testing.assert_array_equal(plain.labels_, unlabelled.labels_)
    assert not any("seen" in r for r in unlabelled.history_)  # no y_monitor: no call


def test_official_code_and_dc_star_run(blobs, unit):
    code = dynae.DynAEConfig.official_code()
    cfg = shrink(code, epochs=4, tol=0.0, pretrain_epochs=50)
    assert cfg.pretrain.critic_trainable is False
    with pytest.raises(FloatingPointError, match="diverged"):  # blobs span ±12
        dynae.fit_dynae(blobs.X, cfg, CPU)
    result = dynae.fit_dynae(unit.X, cfg, CPU)
    assert metrics.acc(unit.y, result.labels_) >= 0.9
    dc = get_method("dc_star")
    star = dc.fit(unit.X, shrink(dc.make_config(), epochs=4, pretrain_epochs=50), CPU)
    assert metrics.acc(unit.y, star.labels_) >= 0.9
    checks = star.stage("checks")
    assert all(r["tau"] == 0.0 for r in checks)  # nobody conflicted
    # every check runs a new k-means, which numbers the clusters anew: the stop rule
    # compares partitions, so the stable blobs end DC* at its second check
    assert checks[-1]["changed"] < 0.01 and len(checks) == 2


def test_interrupted_dynae_resumes_to_the_same_labels(unit, tmp_path, monkeypatch):
    cfg = shrink("dynae", epochs=4, tol=0.0, pretrain_epochs=50)
    reference, resumed = resumed_after_a_kill(
        dynae, dynae.fit_dynae, unit.X, cfg, tmp_path, monkeypatch
    )
    assert resumed.stage("checks") == reference.stage("checks")


def test_final_kmeans_option(unit):
    cfg = shrink("dynae", epochs=2, final_kmeans=True, pretrain_epochs=50)
    result = dynae.fit_dynae(unit.X, cfg, CPU)
    assert metrics.acc(unit.y, result.labels_) >= 0.9
    assert dataclasses.replace(cfg, final_kmeans=False) != cfg


def test_gamma_moves_weight_between_the_terms_at_a_fixed_scale():
    # eq. 14 in the paper's units: element-wise means weighed d / m to one
    assert dynae.DynAEConfig().loss_weights(784, 10) == {"self": 78.4, "pseudo": 1.0}
    one = dynae.DynAEConfig(output_weight=1.0)
    assert one.loss_weights(784, 10) == {"self": 1.0, "pseudo": 1.0}
    low = dataclasses.replace(one, gamma=0.01).loss_weights(784, 10)
    assert low["self"] == pytest.approx(2 / 1.01)
    assert low["pseudo"] == pytest.approx(0.02 / 1.01)
    for g in (1e-3, 1.0, 1e3):  # the weights sum to 2: a balance, not a step size
        w = dataclasses.replace(one, gamma=g).loss_weights(784, 10)
        assert w["self"] + w["pseudo"] == pytest.approx(2.0)
    for bad in ({"gamma": -1.0}, {"output_weight": 0.0}):
        with pytest.raises(ValueError, match="output_weight"):
            dynae.DynAEConfig(**bad)


def test_augmented_targets_share_the_inputs_draw():
    from dclib.methods._targets import augmented_views

    torch.manual_seed(0)
    x = torch.rand(8, 1, 12, 12)
    seen, own, target = augmented_views(x, x.clone(), True, True)
    torch.testing.assert_close(seen, own)  # the input reconstructs itself
    torch.testing.assert_close(target, seen)  # the same draw on the other target
    assert not torch.allclose(seen, x)
    seen, own, target = augmented_views(x, x.clone(), True, False)
    assert own is x and torch.equal(target, x) and not torch.allclose(seen, x)
    flat = torch.rand(8, 5)  # vectors are never augmented
    assert all(v is flat for v in augmented_views(flat, flat, True, True)[:2])


def test_the_start_record_measures_scale_balance_and_the_kmeans_spread(unit):
    cfg = shrink("dynae", epochs=1, tol=0.0, pretrain_epochs=30)
    seen = dynae.fit_dynae(unit.X, cfg, FitContext(device="cpu", y_monitor=unit.y))
    (start,) = seen.stage("start")
    assert start["code_norm"] > 0 and 0 < start["d1"] <= start["dM"]
    assert start["tau"] == seen.stage("checks")[0]["tau"]
    assert start["grad_l1"] > 0 and start["grad_l2"] >= 0  # none pulled: 0
    # DC* pulls every sample: both losses act on the codes
    (star,) = dynae.fit_dynae(unit.X, shrink(dynae.dc_star(), epochs=1), CPU).stage(
        "start"
    )
    assert star["grad_l2"] > 0 and star["l1_over_l2"] == star["l1"] / star["l2"]
    assert 0.25 <= start["kmeans_acc_min"] <= start["kmeans_acc_max"] <= 1
    (blind,) = dynae.fit_dynae(unit.X, cfg, CPU).stage("start")
    assert "kmeans_acc_mean" not in blind and blind["l1"] == start["l1"]
