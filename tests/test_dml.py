"""DML: eq. 2g and eq. 4 by hand, the difficult clusters and tau, the training of one
network per difficult cluster, the estimator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dclib import data, metrics
from dclib import functional as Fn
from dclib.estimators import DML
from dclib.methods import baselines, dml, dssl
from dclib.models import MLPAutoencoder, MultiAutoencoder
from dclib.train import PretrainConfig

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
    dssl.train_cluster_specific(
        model, torch.randn(16, 5), torch.randn(3, 2), opt, m=1.5, weight=0.1,
        interval=1, n_epochs=1, batch_size=8, seed=0,
    )  # fmt: skip
    for k, v in nets[1].state_dict().items():
        torch.testing.assert_close(v, idle[k])
    assert any(not torch.equal(v, busy[k]) for k, v in nets[0].state_dict().items())


@pytest.fixture(scope="module")
def blobs():
    return data.subset(data.load("blobs"), 400, seed=0)


def small_base() -> baselines.DCNConfig:
    pre = PretrainConfig(n_epochs=20, batch_size=64)
    return baselines.DCNConfig(n_clusters=4, hidden=(64,), latent_dim=4, n_epochs=2,
                               batch_size=64, pretrain=pre)  # fmt: skip


def small_dml(**over) -> dml.DMLConfig:
    cfg = dml.DMLConfig(n_clusters=4, base="dcn", n_epochs=3, batch_size=64, lr=1e-3)
    return dataclasses.replace(cfg, **over)


@pytest.fixture(scope="module")
def dcn(blobs):
    return baselines.fit_dcn(blobs.X, small_base(), seed=0, device="cpu")


@pytest.mark.parametrize("variant", ["paper", "code"])
def test_dml_end_to_end(blobs, dcn, variant):
    before = {k: v.clone() for k, v in dcn.model_.state_dict().items()}
    cfg = small_dml(variant=variant, n_networks=3)
    r = dml.fit_dml(blobs.X, cfg, start=(dcn.model_, dcn.mu_), device="cpu",
                    y_monitor=blobs.y)  # fmt: skip
    assert metrics.acc(blobs.y, r.labels_) >= 0.9
    assert len(r.model_.nets) == 3 and r.z_.shape == (400, 4)
    np.testing.assert_allclose(r.q_.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(r.labels_, r.q_.argmax(1))
    assert [h["stage"] for h in r.history_] == [1, 1, 1]
    for k, v in dcn.model_.state_dict().items():  # M's network is copied, not moved
        torch.testing.assert_close(v, before[k])
    again = dml.fit_dml(blobs.X, cfg, start=(dcn.model_, dcn.mu_), device="cpu")
    np.testing.assert_array_equal(r.labels_, again.labels_)


def test_config_is_validated():
    with pytest.raises(ValueError, match="base"):
        dml.DMLConfig(base="dec")
    with pytest.raises(ValueError, match="n_networks"):
        dml.DMLConfig(n_clusters=4, n_networks=5)
    with pytest.raises(ValueError, match="lambda"):
        dml.DMLConfig(lam=-1.0)
    with pytest.raises(ValueError, match="fuzziness"):
        dml.DMLConfig(m=1.0)


def test_estimator_trains_its_base_then_dml(blobs, monkeypatch):
    monkeypatch.setitem(
        dml.BASES, "dcn", (baselines.fit_dcn, lambda n_clusters: small_base())
    )
    est = DML(4, base="dcn", config=small_dml(base="dsl"))
    labels = est.fit_predict(blobs.X)
    assert est.result_config_.base == "dcn" and est.config.base == "dsl"
    assert metrics.acc(blobs.y, labels) >= 0.9
    p = est.predict_proba(blobs.X)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(est.predict(blobs.X), labels)
    assert est.transform(blobs.X).shape == (400, 4)
