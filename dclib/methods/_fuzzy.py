"""The method kit's fuzzy cluster-specific runs: DSSL, DCSS phase 1 and DML.

An autoencoder (DML: one per difficult cluster plus a general one) is trained in K
successive runs per batch, one per cluster: run k takes one optimiser step on the
k-th cluster-specific loss (DSSL eq. 1, DCSS eq. 1, DML eq. 3), the reconstruction
and centring errors of the batch weighted by the fuzzy memberships p_ik^m (DCSS
eq. 2, DML eq. 2g). Every T epochs the centres move to the weighted means of the
codes (DCSS eq. 3, DML eq. 4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from dclib import functional as Fn
from dclib.methods._common import FitContext, encode, label_monitor
from dclib.models import Autoencoder, MultiAutoencoder
from dclib.pretrain import PretrainConfig
from dclib.train import History, TensorState, check_config, fit_epochs

CONV_PRETRAIN = PretrainConfig(n_epochs=200, batch_size=500)
"""Pretraining of the DSSL and DCSS code: MSE, Adam 1e-3, batch 500, 200 epochs (the
papers only say "Adam with the parameters of the original paper")."""

CENTRE_UPDATES = ("after", "before")


@dataclass(frozen=True)
class FuzzyConfig:
    """The fields of the fuzzy memberships and their schedule (DSSL, DCSS, DML)."""

    m: float = 1.5
    """level of fuzziness of the memberships (eq. 2)"""
    memberships_per_batch: bool = False
    """False (the papers): the memberships p are recomputed before each of the K runs
    from the current network; True (both official codes): once per batch"""
    centre_update: str = "after"
    """"after" (the papers): eq. 3 after every T-th epoch; "before" (the official
    codes): at the start of epochs 1, 1 + T, 1 + 2T, ... (0-based), so never after
    the last epoch"""

    def __post_init__(self) -> None:
        check_config(self)
        if not self.m > 1:
            raise ValueError(f"the fuzziness m must be > 1, got {self.m}")
        if self.centre_update not in CENTRE_UPDATES:
            raise ValueError(
                f"centre_update must be one of {CENTRE_UPDATES}, "
                f"got {self.centre_update!r}"
            )


@dataclass(frozen=True)
class ClusterSpecificRun:
    """One paper's settings of ``train_cluster_specific``, by its role."""

    fuzzy: FuzzyConfig
    weight: float
    """weight of the centring loss L_c (DSSL zeta, DCSS alpha, DML lambda)"""
    interval: int
    """T: epochs between centre updates"""
    n_epochs: int
    batch_size: int
    recon: float = 1.0
    """weight of the reconstruction loss L_r (1 in the papers, 0.1 in the DML code)"""


def centre_update_due(epoch: int, interval: int, n_epochs: int, rule: str) -> bool:
    """Whether eq. 3 runs after 0-based ``epoch`` under ``FuzzyConfig.centre_update``:
    "after" every ``interval`` epochs; "before" (the codes: at the start of epochs
    1, 1 + T, ...): after epochs 0, T, 2T, ... but not after the last."""
    if rule == "before":
        return epoch % interval == 0 and epoch < n_epochs - 1
    return (epoch + 1) % interval == 0


def all_codes(nets: Sequence[Autoencoder], X: Tensor) -> Tensor:
    """(L, n, d): the codes of all of ``X`` in each network's latent space."""
    return torch.stack([encode(net, X) for net in nets])


def networks(model: Autoencoder | MultiAutoencoder, n_clusters: int, device):
    """The list of networks and each cluster's owner (K,) of one AE or DML's L."""
    if isinstance(model, MultiAutoencoder):
        return list(model.nets), model.owner.to(device)
    return [model], torch.zeros(n_clusters, dtype=torch.long, device=device)


def train_cluster_specific(
    model: Autoencoder | MultiAutoencoder,
    X: Tensor,
    mu: Tensor,
    opt: torch.optim.Optimizer,
    run: ClusterSpecificRun,
    ctx: FitContext,
    desc: str,
) -> tuple[History, Tensor]:
    """K successive runs per batch on the cluster-specific losses (DSSL Alg. 1, DCSS
    Alg. 1 lines 1-8, DML Alg. 1); returns the history and the final centres (K, d).

    ``model`` is one autoencoder (DSSL, DCSS) or the L autoencoders of DML, whose
    ``owner[k]`` = l_k is the one that cluster k trains (DML eq. 1). Run k forwards
    AE^(l_k), recomputes the memberships p of the batch (eq. 2; DML eq. 2g, each
    distance in its cluster's latent space, from codes that are current: those of
    a network stepped since its last forward are recomputed), then takes one ``opt``
    step on L^(k) = recon L_r^(k) + weight L_c^(k) (eq. 1, DML eq. 3), which moves
    AE^(l_k) only. ``memberships_per_batch`` computes p once per batch, as both
    official codes do. After the epochs that ``centre_update_due`` names, the centres
    move to eq. 3 (DML eq. 4) over all of ``X``. Logs per epoch the mean over the K
    runs of ``loss``, ``l_r`` and ``l_c`` (batch sums), and the scores of the
    nearest-centre labels (= argmax p) against ``ctx.y_monitor``.
    """
    fz, monitor = run.fuzzy, label_monitor(ctx, X, model)
    nets, owner = networks(model, mu.shape[0], mu.device)
    spaces = owner.tolist()
    s = TensorState(mu=mu.detach().clone())

    def batch_codes(x: Tensor, nets: Sequence[Autoencoder]) -> list[Tensor]:
        with torch.no_grad():
            return [net.encode(x) for net in nets]

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        for net in nets:
            net.train()
        codes: list[Tensor | None] = [None] * len(nets)  # None: to (re)compute
        if fz.memberships_per_batch:
            codes = batch_codes(x, nets)
            p_batch = Fn.multi_space_memberships(torch.stack(codes), s.mu, owner, fz.m)
        total = torch.zeros(3, device=x.device)
        for k, space in enumerate(spaces):  # the K successive runs, one step each
            u, x_hat = nets[space](x)
            if not fz.memberships_per_batch:  # the papers: p recomputed every run
                codes[space] = u.detach()
                for j, c in enumerate(codes):
                    if c is None:
                        codes[j] = batch_codes(x, [nets[j]])[0]
                p_batch = Fn.multi_space_memberships(
                    torch.stack(codes), s.mu, owner, fz.m
                )
            loss, l_r, l_c = Fn.cluster_specific_loss(
                x,
                x_hat,
                u,
                s.mu[k],
                p_batch[:, k],
                m=fz.m,
                alpha=run.weight,
                recon=run.recon,
            )
            opt.zero_grad()  # grads to None: the other networks' parameters stay
            loss.backward()
            opt.step()
            if not fz.memberships_per_batch:
                codes[space] = None  # stepped: its codes are stale
            total += torch.stack([loss, l_r, l_c]).detach()
        loss, l_r, l_c = (total / len(spaces)).tolist()
        return {"loss": loss, "l_r": l_r, "l_c": l_c}

    def on_epoch(epoch: int) -> dict[str, float]:
        codes = all_codes(nets, X)
        rule = fz.centre_update
        updated = centre_update_due(epoch, run.interval, run.n_epochs, rule)
        if updated:
            p = Fn.multi_space_memberships(codes, s.mu, owner, fz.m)
            s.mu = Fn.multi_space_centres(codes, p, owner, fz.m)
        labels = Fn.latent_distances(codes, s.mu, owner).argmin(1)
        return {"centres_updated": float(updated)} | monitor(labels)

    history = fit_epochs(
        step,
        X,
        n_epochs=run.n_epochs,
        batch_size=run.batch_size,
        seed=ctx.seed,
        state={"model": model, "opt": opt, "s": s},
        on_epoch=on_epoch,
        checkpoint=ctx.checkpoint,
        config=dataclasses.asdict(run),
        desc=desc,
    )
    return history, s.mu
