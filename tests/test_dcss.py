"""DSSL and DCSS: the K successive runs, the centre schedules, phase 2, the registry,
the estimators and the feature extractor."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from dclib import data, metrics
from dclib import functional as Fn
from dclib.estimators import DCSS, DSSL
from dclib.methods import dcss, dssl, get_method
from dclib.models import MLPAutoencoder
from dclib.train import PretrainConfig


@pytest.fixture(scope="module")
def blobs():
    return data.subset(data.load("blobs"), 400, seed=0)


def small_dcss(**over) -> dcss.DCSSConfig:
    cfg = dcss.DCSSConfig(
        n_clusters=4, hidden=(64,), latent_dim=4, batch_size=64,
        pretrain=PretrainConfig(n_epochs=20, batch_size=64),
        phase1_epochs=3, phase2_epochs=6, t2=2,
    )  # fmt: skip
    return dataclasses.replace(cfg, **over)


@pytest.mark.parametrize(
    ("variant", "after"), [("paper", [1, 3, 5]), ("code", [0, 2, 4])]
)
def test_centre_schedule(variant, after):
    due = [e for e in range(6) if dssl.centre_update_due(e, 2, 6, variant)]
    assert due == after  # the code updates at the start of epochs 1, 3, 5


def _replay(model, x, mu, lr, m, alpha, variant):
    """K successive SGD steps written out from DCSS eq. 1-2, by hand."""

    def memberships(u):
        d = ((u[:, None, :] - mu[None]) ** 2).sum(2) ** (-1 / (m - 1))
        return d / d.sum(1, keepdim=True)

    with torch.no_grad():
        fixed = memberships(model.encode(x))
    for k in range(len(mu)):
        u = model.encode(x)
        x_hat = model.decode(u).reshape(x.shape)
        p = fixed if variant == "code" else memberships(u.detach())
        w = p[:, k] ** m
        loss = (w * ((x - x_hat) ** 2).sum(1)).sum() + alpha * (
            w * ((u - mu[k]) ** 2).sum(1)
        ).sum()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for prm in model.parameters():
                prm -= lr * prm.grad


@pytest.mark.parametrize("variant", ["paper", "code"])
def test_k_successive_runs_match_a_hand_replay(variant):
    torch.manual_seed(0)
    x = torch.randn(8, 5)
    mu = torch.randn(3, 2)
    ours = MLPAutoencoder(5, 2, (7,))
    ref = MLPAutoencoder(5, 2, (7,))
    ref.load_state_dict(ours.state_dict())
    opt = torch.optim.SGD(ours.parameters(), lr=1e-3)
    history, mu_out = dssl.train_cluster_specific(
        ours, x, mu, opt, m=1.5, weight=0.1, interval=5, n_epochs=1, batch_size=8,
        seed=0, variant=variant,
    )  # fmt: skip
    _replay(ref, x, mu, 1e-3, 1.5, 0.1, variant)
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert torch.equal(mu_out, mu)  # interval 5: no centre update after one epoch
    assert history.records[0]["centres_updated"] == 0.0


def test_variants_differ_and_are_validated():
    with pytest.raises(ValueError, match="variant"):
        dcss.DCSSConfig(variant="official")
    with pytest.raises(ValueError, match="zeta"):
        dcss.DCSSConfig(zeta=0.1, gamma=0.2)
    with pytest.raises(ValueError, match="fuzziness"):
        dssl.DSSLConfig(m=1.0)
    with pytest.raises(ValueError, match="unknown method"):
        get_method("dcsss")


@pytest.mark.parametrize("variant", ["paper", "code"])
def test_dcss_end_to_end(blobs, variant):
    cfg = small_dcss(variant=variant)
    r = dcss.fit_dcss(blobs.X, cfg, seed=0, device="cpu", y_monitor=blobs.y)
    assert metrics.acc(blobs.y, r.labels_) >= 0.9
    np.testing.assert_allclose(r.q_.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(r.labels_, r.q_.argmax(1))
    stages = [h["stage"] for h in r.history_]
    assert stages.count(0) == 20 and stages.count(1) == 3 and stages.count(2) == 6
    phase2 = [h for h in r.history_ if h["stage"] == 2]
    assert all(0 <= h["pairs"] <= 1 and 0 <= h["isolated"] <= 400 for h in phase2)
    hidden = [m for m in r.mnet_.modules() if isinstance(m, torch.nn.Linear)]
    assert len(hidden) == (3 if variant == "code" else 4)
    again = dcss.fit_dcss(blobs.X, cfg, seed=0, device="cpu")
    np.testing.assert_array_equal(r.labels_, again.labels_)  # y_monitor inert


def test_phase2_moves_centres_only_in_the_first_t2_epochs(blobs):
    u = dcss.fit_dcss_u(blobs.X, small_dcss(phase1_epochs=1), device="cpu")
    frozen = dcss.fit_mnet(blobs.X, small_dcss(t2=0, phase2_epochs=2),
                           start=(u.model_, u.mu_), device="cpu")  # fmt: skip
    np.testing.assert_array_equal(frozen.mu_, u.mu_)
    moved = dcss.fit_mnet(blobs.X, small_dcss(t2=1, phase2_epochs=2),
                          start=(u.model_, u.mu_), device="cpu")  # fmt: skip
    assert not np.allclose(moved.mu_, u.mu_)


def test_x_plus_mnet_on_a_baseline(blobs):
    fit, cfg_class = get_method("dec")
    pre = PretrainConfig(n_epochs=20, batch_size=64)
    base_cfg = cfg_class(n_clusters=4, hidden=(64,), latent_dim=4, n_epochs=2,
                         pretrain=pre)  # fmt: skip
    base = fit(blobs.X, base_cfg, device="cpu")
    r = dcss.fit_mnet(blobs.X, small_dcss(), start=(base.model_, base.mu_),
                      device="cpu")  # fmt: skip
    assert metrics.acc(blobs.y, r.labels_) >= 0.9


def test_has_adjacent_neighbour_by_hand():
    q = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])
    # q0.q1 = 0.9, q2 alone (q2.q3 = 0.5), q3.q0 = 0.5, q3.q1 = 0.5
    expected = torch.tensor([True, True, False, False])
    assert torch.equal(Fn.has_adjacent_neighbour(q, 0.8), expected)
    assert torch.equal(Fn.has_adjacent_neighbour(q, 0.8, chunk=1), expected)


def test_estimators_on_vectors_and_images(blobs):
    est = DCSS(n_clusters=4, config=small_dcss(phase2_epochs=3))
    labels = est.fit_predict(blobs.X)
    proba = est.predict_proba(blobs.X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(est.predict(blobs.X), labels)
    images = data.subset(data.load("mnist5k"), 60, seed=0)
    cfg = dssl.DSSLConfig(n_clusters=3, n_epochs=1, pretrain=PretrainConfig(1, 32))
    est = DSSL(n_clusters=3, config=cfg).fit(images.X)
    assert est.transform(images.X).shape == (60, 10)  # the conv AE, d = 10
    np.testing.assert_allclose(est.predict_proba(images.X).sum(1), 1, rtol=1e-5)


def test_conv_autoencoder_refuses_other_image_sizes():
    X = np.zeros((8, 3, 32, 32), dtype=np.float32)
    with pytest.raises(ValueError, match="features"):
        DCSS(n_clusters=2, config=small_dcss(n_clusters=2)).fit(X)


def test_features_random_weights_cached_and_missing_weights(tmp_path, monkeypatch):
    ds = data.subset(data.load("mnist5k"), 10, seed=0)
    feats = data.features(ds, "resnet34", pretrained=False, root=tmp_path)
    assert feats.X.shape == (10, 512) and feats.image_shape is None
    assert len(list((tmp_path / "features").glob("*.npy"))) == 1
    again = data.features(ds, "resnet34", pretrained=False, root=tmp_path)
    np.testing.assert_array_equal(again.X, feats.X)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(data.DatasetNotAvailable, match="resnet152"):
        data.features(ds, root=tmp_path)
    with pytest.raises(ValueError, match="backbone"):
        data.features(ds, "resnet18", root=tmp_path)
