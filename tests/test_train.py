from __future__ import annotations

import json
import time

import pytest
import torch

from dclib.models import MLPAutoencoder
from dclib.pretrain import PretrainConfig, pretrain_autoencoder
from dclib.train import History, fit_epochs, load_checkpoint, off_the_clock


def _data(n=64, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g) @ torch.randn(2, d, generator=g)


def _small_ae(seed=0):
    torch.manual_seed(seed)
    return MLPAutoencoder(12, latent_dim=2, hidden=(16,))


def test_fit_epochs_visits_every_sample_once_per_epoch():
    seen = []
    X = torch.arange(10.0)[:, None]
    hist = fit_epochs(
        lambda x, idx: seen.append(idx) or {"n": len(idx)},
        X,
        n_epochs=2,
        batch_size=4,
        seed=0,
    )
    assert [len(i) for i in seen] == [4, 4, 2] * 2
    assert sorted(torch.cat(seen[:3]).tolist()) == list(range(10))
    assert [r["epoch"] for r in hist.records] == [0, 1]
    assert all(r["seconds"] >= 0 for r in hist.records)
    assert hist.records[0]["n"] == pytest.approx((16 + 16 + 4) / 10)  # weighted mean


def test_logging_off_the_clock_is_left_out_of_the_epochs_seconds():
    def step(x, idx):
        time.sleep(0.02)  # training
        with off_the_clock():
            time.sleep(0.05)  # logging against the true labels
            with off_the_clock():  # nested: counted once
                time.sleep(0.05)
        return {}

    hist = fit_epochs(step, torch.zeros(4, 1), n_epochs=1, batch_size=2, seed=0)
    (record,) = hist.records
    assert 0.04 <= record["seconds"] < 0.15  # all of it would be 0.24
    assert 0.2 <= record["monitor_seconds"] < 0.35


def test_pretraining_reduces_the_reconstruction_error():
    X = _data()
    hist = pretrain_autoencoder(
        _small_ae(), X, PretrainConfig(n_epochs=30, batch_size=16)
    )
    losses = hist.frame()["loss"]
    assert losses.iloc[-1] < 0.5 * losses.iloc[0]


def test_same_seed_same_weights():
    X = _data()
    cfg = PretrainConfig(n_epochs=3, batch_size=16, acai_lambda=0.5)
    a, b = _small_ae(), _small_ae()
    pretrain_autoencoder(a, X, cfg, seed=1)
    pretrain_autoencoder(b, X, cfg, seed=1)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("acai", [None, 0.5])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, acai):
    X = _data()
    full = PretrainConfig(n_epochs=4, batch_size=16, acai_lambda=acai)
    ref = _small_ae()
    ref_hist = pretrain_autoencoder(ref, X, full, seed=3)

    ckpt = tmp_path / "ckpt.pt"
    model = _small_ae()

    # run two epochs and "crash"; then restart in a fresh state from the checkpoint
    head = PretrainConfig(n_epochs=2, batch_size=16, acai_lambda=acai)
    pretrain_autoencoder(model, X, head, seed=3, checkpoint=ckpt)
    saved = load_checkpoint(ckpt)
    assert saved["epoch"] == 1
    saved["config"]["n_epochs"] = 4  # pretend the crash happened in the 4-epoch run
    torch.save(saved, ckpt)
    torch.manual_seed(12345)  # a fresh process would have another RNG state
    resumed = _small_ae(seed=99)  # and fresh weights: the checkpoint must restore them
    hist = pretrain_autoencoder(resumed, X, full, seed=3, checkpoint=ckpt)
    assert [r["epoch"] for r in hist.records] == [0, 1, 2, 3]
    clocks = ("seconds", "monitor_seconds")
    untimed = lambda h: [{k: v for k, v in r.items() if k not in clocks} for r in h]  # noqa: E731
    assert untimed(hist.records) == untimed(ref_hist.records)
    for p, q in zip(ref.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_checkpoint_of_another_config_is_refused(tmp_path):
    X, ckpt = _data(), tmp_path / "c.pt"
    pretrain_autoencoder(_small_ae(), X, PretrainConfig(n_epochs=1), checkpoint=ckpt)
    with pytest.raises(ValueError, match="another configuration"):
        pretrain_autoencoder(
            _small_ae(), X, PretrainConfig(n_epochs=1, lr=1e-4), checkpoint=ckpt
        )


@pytest.mark.parametrize("trainable", [True, False])
def test_critic_learns_unless_frozen(tmp_path, trainable):
    X, critics = _data(), []
    for n_epochs in (1, 2):
        cfg = PretrainConfig(
            n_epochs=n_epochs,
            batch_size=16,
            acai_lambda=0.5,
            critic_trainable=trainable,
        )
        pretrain_autoencoder(
            _small_ae(), X, cfg, checkpoint=tmp_path / f"{n_epochs}.pt"
        )
        critics.append(load_checkpoint(tmp_path / f"{n_epochs}.pt")["state"]["critic"])
    same = all(torch.equal(critics[0][k], critics[1][k]) for k in critics[0])
    assert same != trainable


def test_history_jsonl_roundtrip(tmp_path):
    h = History()
    h.append(epoch=0, loss=1.5)
    h.append(epoch=1, loss=0.5)
    h.to_jsonl(tmp_path / "h.jsonl")
    lines = (tmp_path / "h.jsonl").read_text().splitlines()
    assert [json.loads(s) for s in lines] == h.records
    assert list(tmp_path.iterdir()) == [tmp_path / "h.jsonl"]  # no temporary left


def test_bad_loop_arguments_raise():
    with pytest.raises(ValueError, match="batch_size"):
        fit_epochs(lambda x, i: {}, torch.zeros(3, 1), n_epochs=1, batch_size=0, seed=0)


def test_greedy_pretraining_trains_each_layer_then_end_to_end():
    X = _data()
    cfg = PretrainConfig(n_epochs=3, batch_size=16, greedy_dropout=0.2)
    model = _small_ae()
    hist = pretrain_autoencoder(model, X, cfg).frame()
    greedy = hist[hist["layer"].notna()]
    assert sorted(set(greedy["layer"])) == [0.0, 1.0]  # two layers: 12-16 and 16-2
    assert len(greedy) == 6 and len(hist) == 9  # 3 epochs per layer + 3 end to end
    for _, layer in greedy.groupby("layer"):
        assert layer["loss"].iloc[-1] < layer["loss"].iloc[0]


def test_greedy_pretraining_needs_an_mlp():
    from dclib.models import ConvAutoencoder

    with pytest.raises(ValueError, match="MLPAutoencoder"):
        pretrain_autoencoder(
            ConvAutoencoder((1, 16, 16)),
            torch.rand(8, 1, 16, 16),
            PretrainConfig(n_epochs=1, greedy_dropout=0.2),
        )


def test_stop_ends_the_run_early():
    calls = []
    hist = fit_epochs(
        lambda x, idx: calls.append(1) or {},
        torch.zeros(10, 1),
        n_epochs=5,
        batch_size=2,
        seed=0,
        stop=lambda: len(calls) >= 7,
    )
    assert len(calls) == 7 and len(hist.records) == 2  # stopped inside epoch 1


def test_greedy_pretraining_drops_out_the_hidden_code_too():
    # DEC §3.2: h~ = Dropout(h). The innermost layer's code is linear, so it is
    # exactly zero only where dropout zeroed it: the decoder layer that reads it
    # must see about half of its inputs zeroed at rate 0.5 during the greedy stage
    # (input dropout alone would leave none), and none end to end.
    from torch import nn

    X = _data()
    model = _small_ae()  # 12-16-2: layer 1 is 16 -> 2 -> 16
    reader = next(m for m in model.decoder.modules() if isinstance(m, nn.Linear))
    seen = []
    reader.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    cfg = PretrainConfig(n_epochs=2, batch_size=16, greedy_dropout=0.5)
    pretrain_autoencoder(model, X, cfg)
    # 4 batches x 2 epochs of the greedy layer 1, then 4 x 2 end to end
    greedy, end_to_end = torch.cat(seen[:8]), torch.cat(seen[-8:])
    assert len(seen) == 16 and greedy.shape == (128, 2)
    zeroed = (greedy == 0).float().mean().item()
    assert 0.35 < zeroed < 0.65
    assert (end_to_end != 0).all()


def test_greedy_dropout_rate_zero_keeps_every_code():
    from torch import nn

    model = _small_ae()
    reader = next(m for m in model.decoder.modules() if isinstance(m, nn.Linear))
    seen = []
    reader.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    cfg = PretrainConfig(n_epochs=1, batch_size=16, greedy_dropout=0.0)
    pretrain_autoencoder(model, _data(), cfg)
    assert (torch.cat(seen) != 0).all()
