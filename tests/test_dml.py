"""DML: eq. 2g and eq. 4 by hand, the difficult clusters and tau, the training of one
network per difficult cluster, its bases M (DKM is DKM_p), the official-code preset
and its fields, the estimator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import shrink

from dclib import functional as Fn
from dclib import metrics
from dclib.estimators import DML
from dclib.methods import REGISTRY, FitContext, _fuzzy, baselines, dml, get_method
from dclib.models import MLPAutoencoder, MultiAutoencoder

CPU = FitContext(device="cpu")

# two latent spaces, three clusters: clusters 0 and 2 live in space 0, cluster 1 in 1
CODES = torch.tensor([[[0.0, 0.0]], [[1.0, 1.0]]])  # (L=2, n=1, d=2)
MU = torch.tensor([[1.0, 0.0], [1.0, 3.0], [0.0, 2.0]])
OWNER = torch.tensor([0, 1, 0])


def test_eq_2g_measures_each_cluster_in_its_own_space():
    # d = (|(0,0)-(1,0)|^2, |(1,1)-(1,3)|^2, |(0,0)-(0,2)|^2) = (1, 4, 4)
    torch.testing.assert_close(
        Fn.latent_distances(CODES, MU, OWNER), torch.tensor([[1.0, 4.0, 4.0]])
    )
    # m = 2: p ~ 1/d; m = 1.5: p ~ 1/d^2
    torch.testing.assert_close(
        Fn.multi_space_memberships(CODES, MU, OWNER, m=2.0),
        torch.tensor([[2 / 3, 1 / 6, 1 / 6]]),
    )
    torch.testing.assert_close(
        Fn.multi_space_memberships(CODES, MU, OWNER, m=1.5),
        torch.tensor([[8 / 9, 1 / 18, 1 / 18]]),
    )
    # one space: eq. 2g is DCSS eq. 2
    torch.testing.assert_close(
        Fn.multi_space_memberships(CODES[:1], MU, torch.zeros(3, dtype=torch.long)),
        Fn.fuzzy_memberships(CODES[0], MU),
    )


def test_eq_4_averages_each_centre_in_its_own_space():
    codes = torch.tensor([[[0.0, 0.0], [2.0, 0.0]], [[0.0, 4.0], [0.0, 8.0]]])
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]])  # 2 points, 2 clusters
    owner = torch.tensor([0, 1])
    # m = 2: w = p^2 = [[.25, .25], [1, 0]]; mu_0 in space 0: (0 * .25 + 2 * 1) / 1.25
    # mu_1 in space 1: point 0 only -> (0, 4)
    torch.testing.assert_close(
        Fn.multi_space_centres(codes, p, owner, m=2.0),
        torch.tensor([[1.6, 0.0], [0.0, 4.0]]),
    )


def test_bad_owner_is_refused():
    with pytest.raises(ValueError, match="owner"):
        Fn.latent_distances(CODES, MU, torch.tensor([0, 2, 0]))
    with pytest.raises(ValueError, match="codes"):
        Fn.latent_distances(CODES[0], MU, OWNER)
    with pytest.raises(ValueError, match="owner"):
        MultiAutoencoder([MLPAutoencoder(3, 2, (4,))], torch.tensor([0, 1]))


@pytest.mark.parametrize(
    ("centres", "n_networks", "owner", "difficult"),
    [
        # gaps (1, 1, 9, 10, 10); tau = (1 + 30) / 4: clusters 0, 1 are difficult
        ([0, 1, 10, 20, 30], None, [0, 1, 2, 2, 2], [0, 1]),
        ([0, 1, 10, 20, 30], 2, [0, 1, 1, 1, 1], [0]),  # the closest one only
        ([0, 1, 10, 20, 30], 1, [0, 0, 0, 0, 0], []),  # one general network
        ([0, 10, 20, 30], None, [0, 0, 0, 0], []),  # tau = 15: all easy
        ([0, 1, 100, 101], None, [0, 1, 2, 3], [0, 1, 2, 3]),  # no general network
    ],
)
def test_difficult_clusters_get_their_own_network(
    centres, n_networks, owner, difficult
):
    mu = torch.tensor(centres, dtype=torch.float32)[:, None]
    got, hard = dml.assign_networks(mu, n_networks)
    assert got.tolist() == owner
    assert torch.nonzero(hard).flatten().tolist() == difficult


def test_tau_is_a_quarter_of_d_min_plus_d_max():
    gaps, tau = dml.centre_gaps(torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]]))
    # pair distances 5, 8, 5: tau = (5 + 8) / 4
    assert tau == pytest.approx(13 / 4)
    assert gaps.tolist() == [5.0, 5.0, 5.0]


def test_a_network_without_clusters_is_never_stepped():
    torch.manual_seed(0)
    nets = [MLPAutoencoder(5, 2, (7,)) for _ in range(2)]
    idle = {k: v.clone() for k, v in nets[1].state_dict().items()}
    busy = {k: v.clone() for k, v in nets[0].state_dict().items()}
    model = MultiAutoencoder(nets, torch.zeros(3, dtype=torch.long))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    run = _fuzzy.ClusterSpecificRun(
        _fuzzy.FuzzyConfig(), weight=0.1, interval=1, n_epochs=1, batch_size=8
    )
    _fuzzy.train_cluster_specific(
        model, torch.randn(16, 5), torch.randn(3, 2), opt, run, CPU, "t"
    )
    for k, v in nets[1].state_dict().items():
        torch.testing.assert_close(v, idle[k])
    assert any(not torch.equal(v, busy[k]) for k, v in nets[0].state_dict().items())


def test_bases_are_registry_methods_and_dkm_is_dkm_p():
    assert dml.BASES == {"dsl": "dcss_u", "dcn": "dcn", "dkm": "dkm_p"}
    assert get_method(dml.BASES["dkm"]).make_config().constant_alpha == 1000


def test_official_code_preset():
    paper, code = dml.DMLConfig(), dml.DMLConfig.official_code()
    assert (paper.recon, code.recon) == (1.0, 0.1)
    assert not paper.memberships_per_batch and code.memberships_per_batch
    assert (paper.centre_update, code.centre_update) == ("after", "before")
    assert not paper.update_before_training and code.update_before_training
    assert dml.DMLConfig.official_code(recon=0.5).recon == 0.5


@pytest.fixture(scope="module")
def dcn(blobs):
    return baselines.fit_dcn(blobs.X, shrink("dcn", epochs=2), CPU)


def _dml(**over) -> dml.DMLConfig:
    return shrink(dml.DMLConfig(base="dcn"), **({"epochs": 3, "lr": 1e-3} | over))


@pytest.mark.parametrize("preset", [dml.DMLConfig, dml.DMLConfig.official_code])
def test_dml_end_to_end(blobs, dcn, preset):
    before = {k: v.clone() for k, v in dcn.model_.state_dict().items()}
    cfg = shrink(preset(base="dcn"), epochs=3, lr=1e-3, n_networks=3)
    start = (dcn.model_, dcn.mu_)
    ctx = FitContext(device="cpu", y_monitor=blobs.y, start=start)
    r = dml.fit_dml(blobs.X, cfg, ctx)
    assert metrics.acc(blobs.y, r.labels_) >= 0.9
    assert len(r.model_.nets) == 3 and r.z_.shape == (400, 4)
    np.testing.assert_allclose(r.q_.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(r.labels_, r.q_.argmax(1))
    assert [h["stage"] for h in r.history_] == ["cluster"] * 3
    # eq. 4 after every epoch (paper) / at the start of each but the first (code)
    code = cfg.centre_update == "before"
    updated = [h["centres_updated"] for h in r.history_]
    assert updated == ([1, 1, 0] if code else [1, 1, 1])
    for k, v in dcn.model_.state_dict().items():  # M's network is copied, not moved
        torch.testing.assert_close(v, before[k])
    again = dml.fit_dml(blobs.X, cfg, FitContext(device="cpu", start=start))
    np.testing.assert_array_equal(r.labels_, again.labels_)


def test_update_before_training_moves_the_centres_by_eq_4(blobs, dcn):
    ctx = FitContext(device="cpu", start=(dcn.model_, dcn.mu_))
    kept = dml.fit_dml(blobs.X, _dml(epochs=0), ctx)
    np.testing.assert_allclose(kept.mu_, dcn.mu_, rtol=0, atol=1e-6)
    moved = dml.fit_dml(blobs.X, _dml(epochs=0, update_before_training=True), ctx)
    # no training: eq. 4 on M's codes and memberships, with one network of M's
    z = torch.as_tensor(dcn.z_)
    p = Fn.fuzzy_memberships(z, torch.as_tensor(dcn.mu_))
    expected = Fn.fuzzy_centres(z, p).numpy()
    np.testing.assert_allclose(moved.mu_, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(moved.mu_, dcn.mu_, atol=1e-4)


def test_recon_weights_the_reconstruction_term(blobs, dcn):
    ctx = FitContext(device="cpu", start=(dcn.model_, dcn.mu_))
    full = dml.fit_dml(blobs.X, _dml(epochs=1), ctx).stage("cluster")[0]
    tenth = dml.fit_dml(blobs.X, _dml(epochs=1, recon=0.1), ctx).stage("cluster")[0]
    assert full["loss"] == pytest.approx(full["l_r"] + 0.1 * full["l_c"], rel=1e-4)
    assert tenth["loss"] == pytest.approx(
        0.1 * tenth["l_r"] + 0.1 * tenth["l_c"], rel=1e-4
    )


def test_config_is_validated():
    with pytest.raises(ValueError, match="base"):
        dml.DMLConfig(base="dec")
    with pytest.raises(ValueError, match="n_networks"):
        dml.DMLConfig(n_clusters=4, n_networks=5)
    with pytest.raises(ValueError, match="lambda"):
        dml.DMLConfig(lam=-1.0)
    with pytest.raises(ValueError, match="fuzziness"):
        dml.DMLConfig(m=1.0)
    with pytest.raises(ValueError, match="centre_update"):
        dml.DMLConfig(centre_update="never")


def _shrunk_base(monkeypatch, name, seen):
    """The registry's ``name`` with its paper config shrunk, recording each fit."""
    method = REGISTRY[name]

    def fit(X, cfg, ctx):
        seen.append(cfg)
        return method.fit(X, cfg, ctx)

    def preset(**fields):
        return shrink(method.make_config(), epochs=2, **fields)

    shrunk = dataclasses.replace(method, fit=fit, preset=preset)
    monkeypatch.setitem(REGISTRY, name, shrunk)


def test_without_a_start_dml_trains_dkm_p_for_base_dkm(blobs, monkeypatch):
    seen = []
    _shrunk_base(monkeypatch, "dkm_p", seen)
    r = get_method("dml").fit(blobs.X, _dml(base="dkm", epochs=1), CPU)
    assert len(seen) == 1 and seen[0].constant_alpha == 1000
    assert seen[0].n_clusters == 4
    assert metrics.acc(blobs.y, r.labels_) >= 0.9


def test_fit_dml_gets_its_base_from_its_caller(blobs):
    with pytest.raises(ValueError, match="ctx.start, or base"):
        dml.fit_dml(blobs.X, _dml(), CPU)
    with pytest.raises(ValueError, match="'dcn', got 'dkm_p'"):
        dml.fit_dml(blobs.X, _dml(), CPU, base=get_method("dkm_p"))


def test_estimator_trains_its_base_then_dml(blobs, monkeypatch):
    seen = []
    _shrunk_base(monkeypatch, "dcn", seen)
    est = DML(4, base="dcn", config=_dml(base="dsl"))
    labels = est.fit_predict(blobs.X)
    assert len(seen) == 1 and isinstance(seen[0], baselines.DCNConfig)
    assert est.result_config_.base == "dcn" and est.config.base == "dsl"
    assert metrics.acc(blobs.y, labels) >= 0.9
    p = est.predict_proba(blobs.X)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(est.predict(blobs.X), labels)
    assert est.transform(blobs.X).shape == (400, 4)
