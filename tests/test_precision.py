"""bf16: the opt-in precision (``FitContext.precision``, ``models.Network``) and the
fused optimisers (``train.make_optimizer``)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dclib import metrics
from dclib.data import load
from dclib.methods import FitContext, get_method
from dclib.models import Critic, MLPAutoencoder, set_precision
from dclib.pretrain import PretrainConfig
from dclib.train import make_optimizer


def test_bf16_layers_compute_in_bf16_with_fp32_weights_and_outputs():
    torch.manual_seed(0)
    model = MLPAutoencoder(64, 4, (32,))
    x = torch.rand(8, 64)
    z32, x32 = model(x)
    set_precision(model, "bf16")
    z16, x16 = model(x)
    assert z16.dtype == x16.dtype == torch.float32  # losses are fp32
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master copy
    assert not torch.equal(z16, z32)  # the layers did run in bf16 ...
    assert torch.allclose(z16, z32, atol=0.05, rtol=0.05)  # ... to bf16's precision
    z16.sum().backward()
    assert all(p.grad.dtype == torch.float32 for p in model.encoder.parameters())


def test_set_precision_reaches_nested_networks_and_refuses_unknown_ones():
    critic = Critic(MLPAutoencoder(16, 2, (8,)).encoder)
    both = torch.nn.ModuleList([MLPAutoencoder(16, 2, (8,)), critic])
    set_precision(both, "bf16")
    assert both[0].precision == critic.precision == "bf16"
    with pytest.raises(ValueError, match="precision must be one of"):
        set_precision(both, "fp16")
    with pytest.raises(ValueError, match="'half'"):
        FitContext(precision="half")


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_optimisers_are_fused_and_unknown_ones_refused(name):
    opt = make_optimizer(torch.nn.Linear(3, 2).parameters(), name, 0.1)
    assert opt.param_groups[0]["fused"] is True
    with pytest.raises(ValueError, match="'adagrad'"):
        make_optimizer(torch.nn.Linear(3, 2).parameters(), "adagrad", 0.1)


AGREEMENT = 0.6
"""the least ARI between the labels of a bf16 run and its fp32 twin on the digits
(measured: 0.73 to 0.80 for AE + k-means, DEC, IDEC and DCN, 30 pretraining epochs;
two fp32 runs of AE + k-means whose Adam differs only in its order of rounding,
fused against per-parameter, agree at 0.81: runs drift apart over training)"""


@pytest.mark.parametrize("name", ["ae_kmeans", "idec"])
def test_bf16_labels_agree_with_fp32_and_cluster_as_well(name):
    ds = load("digits")
    method = get_method(name)
    cfg = method.make_config(n_clusters=10, pretrain=PretrainConfig(n_epochs=30))
    if hasattr(cfg, "max_iter"):
        cfg = dataclasses.replace(cfg, max_iter=500)
    found = {
        p: method.fit(ds.X, cfg, FitContext(seed=0, device="cpu", precision=p)).labels_
        for p in ("fp32", "bf16")
    }
    assert metrics.ari(found["fp32"], found["bf16"]) >= AGREEMENT
    acc = {p: metrics.acc(ds.y, labels) for p, labels in found.items()}
    assert acc["bf16"] >= acc["fp32"] - 0.05, acc
