"""DSSL (Sadeghi and Armanfard, IJCNN 2021): deep successive subspace learning.

An autoencoder is trained in K successive runs per batch, one per cluster: run k
takes one optimiser step on the k-th cluster-specific loss (DSSL eq. 1, DCSS eq. 1),
the reconstruction and centring errors of the batch weighted by the fuzzy
memberships p_ik^m (eq. 2). Every T epochs the centres move to the weighted means of
the codes (eq. 3). A sample's cluster is its nearest centre (§III-B).

``train_cluster_specific`` is the mechanism DSSL shares with DCSS phase 1 (and DML);
``fit_dssl`` is DSSL itself. Book page: notebooks/02_dssl.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from dclib import functional as Fn
from dclib.methods.baselines import (
    ClusteringResult,
    _AEConfig,
    encode,
    label_monitor,
    make_result,
    prepare,
)
from dclib.models import Autoencoder, MultiAutoencoder
from dclib.train import History, PretrainConfig, TensorState, fit_epochs

CONV_PRETRAIN = PretrainConfig(n_epochs=200, batch_size=500)
"""Pretraining of the DSSL and DCSS code: MSE, Adam 1e-3, batch 500, 200 epochs (the
papers only say "Adam with the parameters of the original paper")."""

VARIANTS = ("paper", "code")


def check_fuzzy_config(variant: str, m: float) -> None:
    """A ValueError for an unknown variant or a fuzziness m <= 1 (eq. 2 needs m > 1)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if not m > 1:
        raise ValueError(f"the fuzziness m must be > 1, got {m}")


@dataclass(frozen=True)
class DSSLConfig(_AEConfig):
    """DSSL's hyperparameters (§IV-G unless noted)."""

    pretrain: PretrainConfig = CONV_PRETRAIN
    zeta: float = 0.1
    """weight of the clustering loss, L = L_r + zeta L_c (eq. 1a)"""
    m: float = 1.5
    """level of fuzziness of the memberships (eq. 2)"""
    update_interval: int = 2
    """T: epochs between centre updates (eq. 3)"""
    n_epochs: int = 100
    """MaxIter (§IV-G; the official code runs 200)"""
    batch_size: int = 500
    """the official code's (the paper gives none)"""
    lr: float = 1e-6
    """SGD learning rate (the paper says SGD with momentum, no rate; the code's 1e-6:
    the losses are sums over the batch and the pixels)"""
    momentum: float = 0.9
    variant: str = "paper"
    """"code": memberships computed once per batch before the K runs and centres
    updated at the start of epochs 2, 4, ... (official-code notes §1.3, §2.2)"""

    def __post_init__(self) -> None:
        check_fuzzy_config(self.variant, self.m)


def centre_update_due(epoch: int, interval: int, n_epochs: int, variant: str) -> bool:
    """Whether eq. 3 runs after 0-based ``epoch``: every ``interval`` epochs (paper);
    the code updates at the start of epochs 1, 3, ... (for T = 2), i.e. after epochs
    0, 2, ... but not after the last."""
    if variant == "code":
        return epoch % interval == 0 and epoch < n_epochs - 1
    return (epoch + 1) % interval == 0


def all_codes(nets: Sequence[Autoencoder], X: Tensor) -> Tensor:
    """(L, n, d): the codes of all of ``X`` in each network's latent space."""
    return torch.stack([encode(net, X) for net in nets])


def train_cluster_specific(
    model: Autoencoder | MultiAutoencoder, X: Tensor, mu: Tensor,
    opt: torch.optim.Optimizer, *, m: float, weight: float, interval: int,
    n_epochs: int, batch_size: int, seed: int, recon: float = 1.0,
    variant: str = "paper", monitor: Callable | None = None, checkpoint=None,
    config: dict | None = None, desc: str = "phase 1",
) -> tuple[History, Tensor]:  # fmt: skip
    """K successive runs per batch on the cluster-specific losses (DSSL Alg. 1, DCSS
    Alg. 1 lines 1-8, DML Alg. 1); returns the history and the final centres (K, d).

    ``model`` is one autoencoder (DSSL, DCSS) or the L autoencoders of DML, whose
    ``owner[k]`` = l_k is the one that cluster k trains (DML eq. 1). Run k forwards
    AE^(l_k), recomputes the memberships p of the batch (eq. 2; DML eq. 2g, each
    distance in its cluster's latent space, from codes that are current: those of
    a network stepped since its last forward are recomputed), then takes one ``opt``
    step on L^(k) = recon L_r^(k) + weight L_c^(k) (eq. 1, DML eq. 3), which moves
    AE^(l_k) only. ``variant="code"`` computes p once per batch, as both official
    codes do. After the epochs that ``centre_update_due`` names, the centres move to
    eq. 3 (DML eq. 4) over all of ``X``. Logs per epoch the mean over the K runs of
    ``loss``, ``l_r`` and ``l_c`` (batch sums), and the scores of the nearest-centre
    labels (= argmax p) from ``monitor``.
    """
    n_clusters, monitor = mu.shape[0], monitor or label_monitor(None)
    if isinstance(model, MultiAutoencoder):
        nets, owner = list(model.nets), model.owner.to(mu.device)
    else:
        nets = [model]
        owner = torch.zeros(n_clusters, dtype=torch.long, device=mu.device)
    spaces = owner.tolist()
    s = TensorState(mu=mu.detach().clone())

    def batch_codes(x: Tensor, nets: Sequence[Autoencoder]) -> list[Tensor]:
        with torch.no_grad():
            return [net.encode(x) for net in nets]

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        for net in nets:
            net.train()
        codes: list[Tensor | None] = [None] * len(nets)  # None: to (re)compute
        if variant == "code":
            codes = batch_codes(x, nets)
            p_batch = Fn.multi_space_memberships(torch.stack(codes), s.mu, owner, m)
        total = torch.zeros(3, device=x.device)
        for k, space in enumerate(spaces):  # the K successive runs, one step each
            u, x_hat = nets[space](x)
            if variant != "code":  # the papers: memberships recomputed every run
                codes[space] = u.detach()
                for j, c in enumerate(codes):
                    if c is None:
                        codes[j] = batch_codes(x, [nets[j]])[0]
                p_batch = Fn.multi_space_memberships(torch.stack(codes), s.mu, owner, m)
            loss, l_r, l_c = Fn.cluster_specific_loss(
                x, x_hat, u, s.mu[k], p_batch[:, k], m=m, alpha=weight, recon=recon
            )
            opt.zero_grad()  # grads to None: the other networks' parameters stay
            loss.backward()
            opt.step()
            if variant != "code":
                codes[space] = None  # stepped: its codes are stale
            total += torch.stack([loss, l_r, l_c]).detach()
        loss, l_r, l_c = (total / n_clusters).tolist()
        return {"loss": loss, "l_r": l_r, "l_c": l_c}

    def on_epoch(epoch: int) -> dict[str, float]:
        codes = all_codes(nets, X)
        updated = centre_update_due(epoch, interval, n_epochs, variant)
        if updated:
            p = Fn.multi_space_memberships(codes, s.mu, owner, m)
            s.mu = Fn.multi_space_centres(codes, p, owner, m)
        labels = Fn.latent_distances(codes, s.mu, owner).argmin(1)
        return {"centres_updated": float(updated)} | monitor(labels)

    history = fit_epochs(
        step, X, n_epochs=n_epochs, batch_size=batch_size, seed=seed,
        state={"model": model, "opt": opt, "s": s}, on_epoch=on_epoch,
        checkpoint=checkpoint, config=config, desc=desc,
    )  # fmt: skip
    return history, s.mu


def fit_dssl(
    X, cfg: DSSLConfig = DSSLConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """DSSL: pretrain the symmetric conv AE (the MLP for feature vectors), k-means on
    its codes, then ``n_epochs`` of K successive runs with SGD + momentum; labels are
    the nearest centres, ``q_`` the memberships p (eq. 2)."""
    X, model, pre, mu0, _ = prepare(X, cfg, seed, device, pretrain, conv="dssl")
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    hist, mu = train_cluster_specific(
        model, X, mu0, opt, m=cfg.m, weight=cfg.zeta, interval=cfg.update_interval,
        n_epochs=cfg.n_epochs, batch_size=cfg.batch_size, seed=seed,
        variant=cfg.variant, monitor=label_monitor(y_monitor), checkpoint=checkpoint,
        config=dataclasses.asdict(cfg), desc="DSSL",
    )  # fmt: skip
    p = Fn.fuzzy_memberships(encode(model, X), mu, cfg.m)
    return make_result(model, X, mu, p, p.argmax(1), pre, hist)


__all__ = [
    "CONV_PRETRAIN",
    "DSSLConfig",
    "all_codes",
    "centre_update_due",
    "fit_dssl",
    "train_cluster_specific",
]
