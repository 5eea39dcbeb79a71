"""DCSS (Sadeghi and Armanfard, 2021): deep clustering with self-supervision using
pairwise data similarities.

- Phase 1 (DCSS_u, ``fit_dcss_u``): DSSL's K successive cluster-specific runs
  (eq. 1-3, ``dssl.train_cluster_specific``) on the asymmetric conv AE, with Adam.
- Phase 2 (``fit_mnet``): the decoder is dropped and MNet maps the codes u to q on
  the simplex. For the first T2 epochs pairs are chosen by p_i . p_j in the u space
  (eq. 4) and the centres follow eq. 3; afterwards by q_i . q_j (eq. 5). Encoder and
  MNet train end to end; a sample's cluster is argmax q (§3.3).
- ``fit_dcss`` runs both phases. ``fit_mnet`` also runs on top of any trained
  autoencoder and its centres: DCSS as a general framework (X + MNet, §4.7).

``variant="code"`` reproduces the official code where it departs from the paper
(official-code notes §1.3-1.4): phase 1 with SGD lr 1e-6 and momentum 0.9 and
memberships computed once per batch; centres updated at the start of epochs 1, 3, ...;
MNet with two hidden layers; the pairwise loss with strict inequalities, q clamped at
0.99 / 0.01 and 0.001 times the sum over all ordered pairs, diagonal included.
Book page: notebooks/03_dcss.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from dclib import functional as Fn
from dclib.methods.baselines import (
    ClusteringResult,
    _AEConfig,
    as_tensor,
    encode,
    label_monitor,
    make_result,
    prepare,
)
from dclib.methods.dssl import (
    CONV_PRETRAIN,
    check_fuzzy_config,
    train_cluster_specific,
)
from dclib.models import Autoencoder, MNet
from dclib.repro import pick_device
from dclib.train import History, PretrainConfig, TensorState, fit_epochs


@dataclass(frozen=True)
class DCSSConfig(_AEConfig):
    """DCSS's hyperparameters (§6 unless noted), the same for every dataset."""

    latent_dim: int | None = None
    """d: None picks 10 for images and 20 for feature vectors (§6)"""
    pretrain: PretrainConfig = CONV_PRETRAIN
    batch_size: int = 500
    """the official code's, both phases (the paper gives none)"""
    alpha: float = 0.1
    """weight of the centring loss, L_u = L_r + alpha L_c (eq. 1a)"""
    m: float = 1.5
    """level of fuzziness (eq. 2)"""
    t1: int = 2
    """T1: epochs between phase-1 centre updates (eq. 3)"""
    phase1_epochs: int = 200
    """MaxIter1"""
    phase1_lr: float = 1e-5
    """Adam learning rate of the AE in phase 1"""
    zeta: float = 0.8
    """pairs with similarity >= zeta are pulled together (eq. 4-5)"""
    gamma: float = 0.2
    """pairs with similarity <= gamma are pushed apart (eq. 4-5)"""
    t2: int = 5
    """T2: phase-2 epochs that choose pairs in the u space (eq. 4) before q (eq. 5)"""
    phase2_epochs: int = 20
    """MaxIter2"""
    encoder_lr: float = 1e-5
    """Adam learning rate of the encoder in phase 2"""
    mnet_lr: float = 1e-3
    """Adam learning rate of MNet"""
    mnet_hidden: tuple[int, ...] = (128, 128, 128)
    """MNet widths d-128-128-128-K (§5; CIFAR-100: (1000, 1000, 1000))"""
    variant: str = "paper"
    """"paper" or "code" (the official code; see the module docstring)"""

    def __post_init__(self) -> None:
        check_fuzzy_config(self.variant, self.m)
        if not 0 <= self.gamma <= self.zeta <= 1:
            raise ValueError(
                f"need 0 <= gamma <= zeta <= 1, got gamma={self.gamma}, "
                f"zeta={self.zeta}"
            )


def soft_assignments(
    model: Autoencoder, mnet: nn.Module, X: Tensor, batch_size: int = 1024
) -> Tensor:
    """q = MNet(f(x)) (n, K) for all of ``X``, in eval mode and batches."""
    mnet.eval()
    u = encode(model, X, batch_size)
    with torch.no_grad():
        return torch.cat([mnet(u[i : i + batch_size])
                          for i in range(0, len(u), batch_size)])  # fmt: skip


def fit_dcss_u(
    X, cfg: DCSSConfig = DCSSConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """Phase 1 (DCSS_u, Alg. 1 lines 1-8): pretrained AE, k-means centres, then
    ``phase1_epochs`` of K successive runs of eq. 1; label = argmax p (nearest
    centre), ``q_`` = the memberships p."""
    X, model, pre, mu0, _ = prepare(X, cfg, seed, device, pretrain, conv="dcss")
    if cfg.variant == "code":
        opt = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.phase1_lr)
    hist, mu = train_cluster_specific(
        model, X, mu0, opt, m=cfg.m, weight=cfg.alpha, interval=cfg.t1,
        n_epochs=cfg.phase1_epochs, batch_size=cfg.batch_size, seed=seed,
        variant=cfg.variant, monitor=label_monitor(y_monitor), checkpoint=checkpoint,
        config=dataclasses.asdict(cfg), desc="DCSS phase 1",
    )  # fmt: skip
    p = Fn.fuzzy_memberships(encode(model, X), mu, cfg.m)
    return make_result(model, X, mu, p, p.argmax(1), pre, hist)


def fit_mnet(
    X, cfg: DCSSConfig = DCSSConfig(), *, start: tuple[Autoencoder, np.ndarray],
    seed: int = 0, device: str = "auto", y_monitor=None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """Phase 2 (Alg. 1 lines 9-21) from ``start = (autoencoder, centres)``.

    Per batch: u = f(x), q = MNet(u); similarities s = p p^T (p from eq. 2 and the
    current centres) during the first ``t2`` epochs, q q^T afterwards; one step of
    both Adam optimisers on the pairwise loss (eq. 4 / eq. 5). After each of the first
    ``t2`` epochs the centres follow eq. 3. Logs per epoch the loss, the fraction of
    the batch's pairs that contribute (Fig. 10a), the number of points of ``X``
    without an adjacent neighbour (q_i . q_j >= zeta, Fig. 13) and the scores of
    argmax q from ``y_monitor``. Returns stage-2 history only; labels = argmax q.
    """
    device = pick_device(device)
    X = as_tensor(X, device, cfg.n_clusters)
    model, mu = start
    model = model.to(device)
    mu = torch.as_tensor(mu, dtype=torch.float32, device=device)
    if mu.shape[0] != cfg.n_clusters:
        raise ValueError(f"start has {mu.shape[0]} centres, cfg {cfg.n_clusters}")
    torch.manual_seed(seed)
    hidden = (128, 128) if cfg.variant == "code" else cfg.mnet_hidden
    mnet = MNet(mu.shape[1], cfg.n_clusters, hidden).to(device)
    opt_e = torch.optim.Adam(model.encoder.parameters(), lr=cfg.encoder_lr)
    opt_m = torch.optim.Adam(mnet.parameters(), lr=cfg.mnet_lr)
    s = TensorState(mu=mu.clone(), epoch=0)
    monitor = label_monitor(y_monitor)

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if len(x) < 2:
            return {}  # a lone sample has no pairs (and BN needs two)
        model.train()
        mnet.train()
        u = model.encode(x)
        q = mnet(u)  # (B, K)
        if s.epoch < cfg.t2:  # eq. 4: pairs chosen in the u space
            p = Fn.fuzzy_memberships(u.detach(), s.mu, cfg.m)
            sim = p @ p.T
        else:  # eq. 5: pairs chosen in the q space
            sim = q @ q.T
        loss, pairs = Fn.pairwise_similarity_loss(
            q, sim, zeta=cfg.zeta, gamma=cfg.gamma, variant=cfg.variant
        )
        opt_e.zero_grad()
        opt_m.zero_grad()
        loss.backward()
        opt_e.step()
        opt_m.step()
        b = len(x)
        summed = b * b if cfg.variant == "code" else b * (b - 1) // 2
        return {"loss": loss.item(), "pairs": pairs.item() / max(summed, 1)}

    def on_epoch(epoch: int) -> dict[str, float]:
        if epoch < cfg.t2:
            u = encode(model, X)
            s.mu = Fn.fuzzy_centres(u, Fn.fuzzy_memberships(u, s.mu, cfg.m), cfg.m)
        s.epoch = epoch + 1
        q = soft_assignments(model, mnet, X)
        alone = (~Fn.has_adjacent_neighbour(q, cfg.zeta)).sum().item()
        return {"isolated": float(alone)} | monitor(q.argmax(1))

    hist = fit_epochs(
        step, X, n_epochs=cfg.phase2_epochs, batch_size=cfg.batch_size, seed=seed,
        state={"model": model, "mnet": mnet, "opt_e": opt_e, "opt_m": opt_m, "s": s},
        on_epoch=on_epoch, checkpoint=checkpoint, config=dataclasses.asdict(cfg),
        desc="DCSS phase 2",
    )  # fmt: skip
    q = soft_assignments(model, mnet, X)
    return make_result(model, X, s.mu, q, q.argmax(1), History(), History(), hist,
                       mnet=mnet)  # fmt: skip


def fit_dcss(
    X, cfg: DCSSConfig = DCSSConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """Both phases (Alg. 1); history stages 0 (pretraining), 1 and 2 (the phases)."""
    part = (lambda name: None) if checkpoint is None else (
        lambda name: f"{checkpoint}.{name}")  # fmt: skip
    first = fit_dcss_u(X, cfg, seed=seed, device=device, y_monitor=y_monitor,
                       pretrain=pretrain, checkpoint=part("phase1"))  # fmt: skip
    second = fit_mnet(
        X, cfg, start=(first.model_, first.mu_), seed=seed, device=device,
        y_monitor=y_monitor, checkpoint=part("phase2"),
    )  # fmt: skip
    return dataclasses.replace(second, history_=first.history_ + second.history_)


__all__ = ["DCSSConfig", "fit_dcss", "fit_dcss_u", "fit_mnet", "soft_assignments"]
