"""DSSL and DCSS: the K successive runs, the centre schedules, the official-code
presets and their fields, phase 2, X + MNet, the estimators and the feature
extractor."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from conftest import shrink

from dclib import data, metrics
from dclib import functional as Fn
from dclib.estimators import DCSS, DSSL
from dclib.methods import FitContext, _fuzzy, dcss, dssl, get_method
from dclib.models import MLPAutoencoder
from dclib.pretrain import PretrainConfig

CPU = FitContext(device="cpu")


@pytest.mark.parametrize(
    ("rule", "after"), [("after", [1, 3, 5]), ("before", [0, 2, 4])]
)
def test_centre_schedule(rule, after):
    due = [e for e in range(6) if _fuzzy.centre_update_due(e, 2, 6, rule)]
    assert due == after  # the codes update at the start of epochs 1, 3, 5


def test_centre_schedule_before_never_runs_after_the_last_epoch():
    assert [e for e in range(5) if _fuzzy.centre_update_due(e, 1, 5, "before")] == [
        0,
        1,
        2,
        3,
    ]
    assert [e for e in range(5) if _fuzzy.centre_update_due(e, 1, 5, "after")] == [
        0,
        1,
        2,
        3,
        4,
    ]


def _replay(model, x, mu, lr, m, alpha, per_batch):
    """K successive SGD steps written out from DCSS eq. 1-2, by hand."""

    def memberships(u):
        d = ((u[:, None, :] - mu[None]) ** 2).sum(2) ** (-1 / (m - 1))
        return d / d.sum(1, keepdim=True)

    with torch.no_grad():
        fixed = memberships(model.encode(x))
    for k in range(len(mu)):
        u = model.encode(x)
        x_hat = model.decode(u).reshape(x.shape)
        p = fixed if per_batch else memberships(u.detach())
        w = p[:, k] ** m
        loss = (w * ((x - x_hat) ** 2).sum(1)).sum() + alpha * (
            w * ((u - mu[k]) ** 2).sum(1)
        ).sum()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for prm in model.parameters():
                prm -= lr * prm.grad


@pytest.mark.parametrize("per_batch", [False, True])
def test_k_successive_runs_match_a_hand_replay(per_batch):
    torch.manual_seed(0)
    x = torch.randn(8, 5)
    mu = torch.randn(3, 2)
    ours = MLPAutoencoder(5, 2, (7,))
    ref = MLPAutoencoder(5, 2, (7,))
    ref.load_state_dict(ours.state_dict())
    opt = torch.optim.SGD(ours.parameters(), lr=1e-3)
    fuzzy = _fuzzy.FuzzyConfig(m=1.5, memberships_per_batch=per_batch)
    run = _fuzzy.ClusterSpecificRun(
        fuzzy, weight=0.1, interval=5, n_epochs=1, batch_size=8
    )
    history, mu_out = _fuzzy.train_cluster_specific(ours, x, mu, opt, run, CPU, "t")
    _replay(ref, x, mu, 1e-3, 1.5, 0.1, per_batch)
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert torch.equal(mu_out, mu)  # interval 5: no centre update after one epoch
    assert history.records[0]["centres_updated"] == 0.0


def test_memberships_per_batch_changes_the_steps():
    torch.manual_seed(0)
    x, mu = torch.randn(8, 5), torch.randn(3, 2)
    start = MLPAutoencoder(5, 2, (7,))
    weights = []
    for per_batch in (False, True):
        model = copy.deepcopy(start)
        opt = torch.optim.SGD(model.parameters(), lr=1e-2)
        fuzzy = _fuzzy.FuzzyConfig(memberships_per_batch=per_batch)
        run = _fuzzy.ClusterSpecificRun(fuzzy, 0.1, 5, 1, 8)
        _fuzzy.train_cluster_specific(model, x, mu, opt, run, CPU, "t")
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert not torch.allclose(weights[0], weights[1])


def test_configs_are_validated():
    with pytest.raises(ValueError, match="centre_update"):
        dcss.DCSSConfig(centre_update="middle")
    with pytest.raises(ValueError, match="centre_update"):
        dssl.DSSLConfig.official_code(centre_update="official")
    with pytest.raises(ValueError, match="zeta"):
        dcss.DCSSConfig(zeta=0.1, gamma=0.2)
    with pytest.raises(ValueError, match="fuzziness"):
        dssl.DSSLConfig(m=1.0)
    with pytest.raises(ValueError, match="unknown method"):
        get_method("dcsss")


def test_dssl_official_code_preset():
    paper, code = dssl.DSSLConfig(), dssl.DSSLConfig.official_code()
    assert paper.n_epochs == 100 and code.n_epochs == 200
    assert not paper.memberships_per_batch and code.memberships_per_batch
    assert (paper.centre_update, code.centre_update) == ("after", "before")
    assert code == dataclasses.replace(
        paper, n_epochs=200, memberships_per_batch=True, centre_update="before"
    )
    assert dssl.DSSLConfig.official_code(n_epochs=7).n_epochs == 7


def test_dcss_official_code_preset():
    paper, code = dcss.DCSSConfig(), dcss.DCSSConfig.official_code()
    assert (paper.phase1_optimizer, paper.phase1_lr) == ("adam", 1e-5)
    assert (code.phase1_optimizer, code.phase1_lr, code.phase1_momentum) == (
        "sgd",
        1e-6,
        0.9,
    )
    assert code.memberships_per_batch and code.centre_update == "before"
    assert paper.mnet_hidden == (128, 128, 128) and code.mnet_hidden == (128, 128)
    assert paper.pairs == Fn.PairSelection()
    assert code.pairs == Fn.PairSelection.official_code()
    assert dcss.DCSSConfig.official_code(phase1_lr=1e-3).phase1_lr == 1e-3


@pytest.mark.parametrize(
    ("preset", "optimizer"),
    [
        (dcss.DCSSConfig, torch.optim.Adam),
        (dcss.DCSSConfig.official_code, torch.optim.SGD),
    ],
)
def test_phase1_optimizer_and_a_users_phase1_lr_are_honoured(
    blobs, monkeypatch, preset, optimizer
):
    made = []
    real = dcss.make_optimizer

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(dcss, "make_optimizer", recording)
    X = blobs.X / blobs.X.std()  # the code's SGD diverges on the raw blobs (±12)
    z = {}
    for lr in (None, 1e-3):
        cfg = shrink(preset(), epochs=2, pretrain_epochs=5)
        cfg = cfg if lr is None else dataclasses.replace(cfg, phase1_lr=lr)
        z[lr] = dcss.fit_dcss_u(X, cfg, CPU).z_
        assert type(made[-1]) is optimizer
        assert made[-1].param_groups[0]["lr"] == cfg.phase1_lr
        if optimizer is torch.optim.SGD:
            assert made[-1].param_groups[0]["momentum"] == 0.9
    assert not np.allclose(z[None], z[1e-3])  # another trajectory


@pytest.mark.parametrize("preset", [dcss.DCSSConfig, dcss.DCSSConfig.official_code])
def test_dcss_end_to_end(blobs, preset):
    cfg = shrink(preset(), epochs=6)
    monitored = FitContext(device="cpu", y_monitor=blobs.y)
    r = dcss.fit_dcss(blobs.X, cfg, monitored)
    assert metrics.acc(blobs.y, r.labels_) >= 0.9
    np.testing.assert_allclose(r.q_.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(r.labels_, r.q_.argmax(1))
    assert [len(r.stage(s)) for s in ("pretrain", "phase1", "phase2")] == [10, 6, 6]
    assert {h["stage"] for h in r.history_} == {"pretrain", "phase1", "phase2"}
    # the centre schedule of phase 1: after epochs 1, 3, 5 (paper) / 0, 2, 4 (code)
    updated = [h["centres_updated"] for h in r.stage("phase1")]
    code = cfg.centre_update == "before"
    assert updated == ([1, 0, 1, 0, 1, 0] if code else [0, 1, 0, 1, 0, 1])
    phase2 = r.stage("phase2")
    assert all(0 <= h["pairs"] <= 1 and 0 <= h["isolated"] <= 400 for h in phase2)
    linear = [m for m in r.heads_["mnet"].modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == len(cfg.mnet_hidden) + 1 == (3 if code else 4)
    again = dcss.fit_dcss(blobs.X, cfg, CPU)
    np.testing.assert_array_equal(r.labels_, again.labels_)  # y_monitor inert


@pytest.fixture(scope="module")
def dcss_u(blobs):
    return dcss.fit_dcss_u(blobs.X, shrink("dcss_u", epochs=1), CPU)


def _from(result):
    """A context starting from a copy of ``result``'s model (phase 2 trains it)."""
    return FitContext(device="cpu", start=(copy.deepcopy(result.model_), result.mu_))


def test_phase2_moves_centres_only_in_the_first_t2_epochs(blobs, dcss_u):
    frozen = dcss.fit_mnet(blobs.X, shrink("mnet", epochs=2, t2=0), _from(dcss_u))
    np.testing.assert_array_equal(frozen.mu_, dcss_u.mu_)
    moved = dcss.fit_mnet(blobs.X, shrink("mnet", epochs=2, t2=1), _from(dcss_u))
    assert not np.allclose(moved.mu_, dcss_u.mu_)
    assert {h["stage"] for h in moved.history_} == {"phase2"}


def test_mnet_needs_a_start(blobs):
    assert get_method("mnet").needs_start
    with pytest.raises(ValueError, match="start"):
        dcss.fit_mnet(blobs.X, shrink("mnet"), CPU)


def test_x_plus_mnet_on_a_baseline(blobs):
    base = get_method("dec").fit(
        blobs.X, shrink("dec", epochs=2, pretrain_epochs=20), CPU
    )
    r = dcss.fit_mnet(blobs.X, shrink("mnet"), _from(base))
    assert metrics.acc(blobs.y, r.labels_) >= 0.9


def test_has_adjacent_neighbour_by_hand():
    q = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])
    # q0.q1 = 0.9, q2 alone (q2.q3 = 0.5), q3.q0 = 0.5, q3.q1 = 0.5
    expected = torch.tensor([True, True, False, False])
    assert torch.equal(Fn.has_adjacent_neighbour(q, 0.8), expected)
    assert torch.equal(Fn.has_adjacent_neighbour(q, 0.8, chunk=1), expected)


def test_estimators_on_vectors_and_images(blobs, mnist5k):
    est = DCSS(n_clusters=4, config=shrink("dcss", epochs=3))
    labels = est.fit_predict(blobs.X)
    proba = est.predict_proba(blobs.X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(est.predict(blobs.X), labels)
    images = data.subset(mnist5k, 60, seed=0)
    cfg = dssl.DSSLConfig(n_clusters=3, n_epochs=1, pretrain=PretrainConfig(1, 32))
    est = DSSL(n_clusters=3, config=cfg).fit(images.X)
    assert est.transform(images.X).shape == (60, 10)  # the conv AE, d = 10
    np.testing.assert_allclose(est.predict_proba(images.X).sum(1), 1, rtol=1e-5)


def test_conv_autoencoder_refuses_other_image_sizes():
    X = np.zeros((8, 3, 32, 32), dtype=np.float32)
    cfg = shrink("dcss", n_clusters=2, latent_dim=None)
    with pytest.raises(ValueError, match="features"):
        DCSS(n_clusters=2, config=cfg).fit(X)


def test_features_random_weights_cached_and_missing_weights(
    tmp_path, monkeypatch, mnist5k
):
    ds = data.subset(mnist5k, 4, seed=0)
    feats = data.features(ds, "resnet34", pretrained=False, root=tmp_path)
    assert feats.X.shape == (4, 512) and feats.image_shape is None
    assert len(list((tmp_path / "features").glob("*.npy"))) == 1
    again = data.features(ds, "resnet34", pretrained=False, root=tmp_path)
    np.testing.assert_array_equal(again.X, feats.X)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(data.DatasetNotAvailable, match="resnet152"):
        data.features(ds, root=tmp_path)
    with pytest.raises(ValueError, match="backbone"):
        data.features(ds, "resnet18", root=tmp_path)
