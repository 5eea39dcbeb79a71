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
from dclib.train import PretrainConfig

CPU = FitContext(device="cpu")

# two tight pairs and a loose point (1-D codes): hand-computable filters
Z = torch.tensor([[0.0], [1.0], [10.0], [11.0], [30.0]])


def test_dual_filter_by_hand():
    cfg = rdc.RDCConfig(n_neighbours=2, alpha=0.5, beta=0.5)
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
        1,
    )
    assert code.real_neighbours == 4 and code.border == "stale"
    assert code.output_weight == 100 and code.refresh == 140 and code.strict
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


@pytest.mark.parametrize(
    ("taus", "patience", "done"),
    [
        ([0.92], 1, False),
        ([0.92, 0.86, 0.85], 1, False),  # falling from the start: no rise yet
        ([0.80, 0.71, 0.75], 1, False),  # rising
        ([0.80, 0.71, 0.75, 0.74], 1, True),  # no further increase
        ([0.80, 0.71, 0.75, 0.75], 1, True),  # equal is no increase
        ([0.80, 0.71, 0.75, 0.74], 2, False),
        ([0.80, 0.71, 0.75, 0.74, 0.76, 0.70], 2, False),  # the rise reset the count
        ([0.80, 0.71, 0.75, 0.74, 0.76, 0.70, 0.70], 2, True),
    ],
)
def test_stop_rule_ends_when_tau_stops_rising_after_a_rise(taus, patience, done):
    assert rdc.stable(taus, patience) is done


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
    from dclib.train import pretrain_autoencoder

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
    from dclib.train import pretrain_autoencoder

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
