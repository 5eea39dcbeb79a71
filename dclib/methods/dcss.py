"""DCSS (Sadeghi and Armanfard, 2021): deep clustering with self-supervision using
pairwise data similarities.

- Phase 1 (DCSS_u, ``fit_dcss_u``): DSSL's K successive cluster-specific runs
  (eq. 1-3, the kit's ``_fuzzy.train_cluster_specific``) on the asymmetric conv AE,
  with Adam.
- Phase 2 (``fit_mnet``): the decoder is dropped and MNet maps the codes u to q on
  the simplex. For the first T2 epochs pairs are chosen by p_i . p_j in the u space
  (eq. 4) and the centres follow eq. 3; afterwards by q_i . q_j (eq. 5). Encoder and
  MNet train end to end; a sample's cluster is argmax q (§3.3).
- ``fit_dcss`` runs both phases. ``fit_mnet`` also runs on top of any trained
  autoencoder and its centres (``ctx.start``): DCSS as a general framework
  (X + MNet, §4.7).

Where the official code departs from the paper (official-code notes §1.3-1.4), a
config field holds the code's behaviour and ``DCSSConfig.official_code()`` sets them
all. Book page: notebooks/03_dcss.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dclib import functional as Fn
from dclib.methods._common import (
    AEConfig,
    ClusteringResult,
    FitContext,
    Method,
    batched,
    encode,
    label_monitor,
    make_result,
    prepare,
    start_on,
)
from dclib.methods._fuzzy import (
    CONV_PRETRAIN,
    ClusterSpecificRun,
    FuzzyConfig,
    train_cluster_specific,
)
from dclib.models import Autoencoder, MNet
from dclib.pretrain import PretrainConfig
from dclib.train import TensorState, fit_epochs, make_optimizer


@dataclass(frozen=True)
class DCSSConfig(AEConfig, FuzzyConfig):
    """DCSS's hyperparameters (§6 unless noted), the same for every dataset."""

    autoencoder: str = "dcss"
    """the asymmetric conv AE for images (the MLP for feature vectors)"""
    latent_dim: int | None = None
    """d: None picks 10 for images and 20 for feature vectors (§6)"""
    pretrain: PretrainConfig = CONV_PRETRAIN
    batch_size: int = 500
    """the official code's, both phases (the paper gives none)"""
    alpha: float = 0.1
    """weight of the centring loss, L_u = L_r + alpha L_c (eq. 1a)"""
    t1: int = 2
    """T1: epochs between phase-1 centre updates (eq. 3)"""
    phase1_epochs: int = 200
    """MaxIter1"""
    phase1_optimizer: str = "adam"
    """"adam" (the paper) or "sgd" with ``phase1_momentum`` (the official code)"""
    phase1_lr: float = 1e-5
    """learning rate of the AE in phase 1 (the paper's Adam 1e-5; the code's SGD
    1e-6)"""
    phase1_momentum: float = 0.9
    """SGD momentum (``phase1_optimizer="sgd"`` only)"""
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
    """MNet widths d-128-128-128-K (§5; CIFAR-100: (1000, 1000, 1000); the official
    code: two hidden layers)"""
    pairs: Fn.PairSelection = Fn.PairSelection()
    """how eq. 4-5 select and sum pairs (``functional.PairSelection``)"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.gamma <= self.zeta <= 1:
            raise ValueError(
                f"need 0 <= gamma <= zeta <= 1, got gamma={self.gamma}, "
                f"zeta={self.zeta}"
            )

    def latent_size(self, images: bool) -> int:
        if self.latent_dim is not None:
            return self.latent_dim
        return 10 if images else 20

    @classmethod
    def official_code(cls, **fields) -> DCSSConfig:
        """The official code's departures (official-code notes §1.3-1.4): phase 1
        with SGD lr 1e-6 and momentum 0.9 and memberships once per batch, centres
        updated at the start of epochs, MNet with two hidden layers, and the
        pairwise loss with strict inequalities, q clamped at 0.99 / 0.01 and 0.001
        times the sum over all ordered pairs, diagonal included."""
        code = {
            "phase1_optimizer": "sgd",
            "phase1_lr": 1e-6,
            "memberships_per_batch": True,
            "centre_update": "before",
            "mnet_hidden": (128, 128),
            "pairs": Fn.PairSelection.official_code(),
        }
        return cls(**(code | fields))

    def cluster_specific(self) -> ClusterSpecificRun:
        return ClusterSpecificRun(
            self, self.alpha, self.t1, self.phase1_epochs, self.batch_size
        )


def soft_assignments(
    model: Autoencoder, mnet: nn.Module, X: Tensor, batch_size: int = 1024
) -> Tensor:
    """q = MNet(f(x)) (n, K) for all of ``X``, in eval mode and batches (``mnet``: a
    fit's ``heads_["mnet"]``)."""
    mnet.eval()
    return batched(mnet, encode(model, X, batch_size), batch_size)


def fit_dcss_u(
    X, cfg: DCSSConfig = DCSSConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """Phase 1 (DCSS_u, Alg. 1 lines 1-8): pretrained AE, k-means centres, then
    ``phase1_epochs`` of K successive runs of eq. 1; label = argmax p (nearest
    centre), ``q_`` = the memberships p. History stages "pretrain", "phase1"."""
    X, model, pre, mu0, _ = prepare(X, cfg, ctx)
    opt = make_optimizer(
        model.parameters(), cfg.phase1_optimizer, cfg.phase1_lr, cfg.phase1_momentum
    )
    run = cfg.cluster_specific()
    hist, mu = train_cluster_specific(model, X, mu0, opt, run, ctx, "DCSS phase 1")
    p = Fn.fuzzy_memberships(encode(model, X), mu, cfg.m)
    return make_result(model, X, mu, p, p.argmax(1), {"pretrain": pre, "phase1": hist})


def fit_mnet(
    X, cfg: DCSSConfig = DCSSConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """Phase 2 (Alg. 1 lines 9-21) from ``ctx.start = (autoencoder, centres)``.

    Per batch: u = f(x), q = MNet(u); similarities s = p p^T (p from eq. 2 and the
    current centres) during the first ``t2`` epochs, q q^T afterwards; one step of
    both Adam optimisers on the pairwise loss (eq. 4 / eq. 5). After each of the first
    ``t2`` epochs the centres follow eq. 3. Logs per epoch the loss, the fraction of
    the batch's pairs that contribute (Fig. 10a), the number of points of ``X``
    without an adjacent neighbour (q_i . q_j >= zeta, Fig. 13) and the scores of
    argmax q from ``ctx.y_monitor``. History stage "phase2"; labels = argmax q;
    MNet is the result's ``heads_["mnet"]``.
    """
    X, model, mu = start_on(X, cfg.n_clusters, ctx)
    torch.manual_seed(ctx.seed)
    mnet = MNet(mu.shape[1], cfg.n_clusters, cfg.mnet_hidden).to(X.device)
    opt_e = make_optimizer(model.encoder.parameters(), "adam", cfg.encoder_lr)
    opt_m = make_optimizer(mnet.parameters(), "adam", cfg.mnet_lr)
    s = TensorState(mu=mu.clone(), epoch=0)
    monitor = label_monitor(ctx, X, model)

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
            q, sim, cfg.zeta, cfg.gamma, cfg.pairs
        )
        opt_e.zero_grad()
        opt_m.zero_grad()
        loss.backward()
        opt_e.step()
        opt_m.step()
        return {"loss": loss.item(), "pairs": pairs.item() / cfg.pairs.count(len(x))}

    def on_epoch(epoch: int) -> dict[str, float]:
        if epoch < cfg.t2:
            u = encode(model, X)
            s.mu = Fn.fuzzy_centres(u, Fn.fuzzy_memberships(u, s.mu, cfg.m), cfg.m)
        s.epoch = epoch + 1
        q = soft_assignments(model, mnet, X)
        alone = (~Fn.has_adjacent_neighbour(q, cfg.zeta)).sum().item()
        return {"isolated": float(alone)} | monitor(q.argmax(1))

    hist = fit_epochs(
        step,
        X,
        n_epochs=cfg.phase2_epochs,
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        state={"model": model, "mnet": mnet, "opt_e": opt_e, "opt_m": opt_m, "s": s},
        on_epoch=on_epoch,
        checkpoint=ctx.checkpoint,
        config=dataclasses.asdict(cfg),
        desc="DCSS phase 2",
    )
    q = soft_assignments(model, mnet, X)
    return make_result(
        model, X, s.mu, q, q.argmax(1), {"phase2": hist}, heads={"mnet": mnet}
    )


def fit_dcss(
    X, cfg: DCSSConfig = DCSSConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """Both phases (Alg. 1); history stages "pretrain", "phase1" and "phase2"."""
    first = fit_dcss_u(X, cfg, ctx.part("phase1"))
    start = dataclasses.replace(ctx.part("phase2"), start=(first.model_, first.mu_))
    second = fit_mnet(X, cfg, start)
    return dataclasses.replace(second, history_=first.history_ + second.history_)


METHODS = [
    Method(
        "dcss_u",
        fit_dcss_u,
        DCSSConfig,
        "dcss",
        "DCSS phase 1 (DCSS_u; DML's DSL): cluster-specific runs, Adam",
    ),
    Method("dcss", fit_dcss, DCSSConfig, "dcss", "DCSS: both phases"),
    Method(
        "mnet",
        fit_mnet,
        DCSSConfig,
        "dcss",
        "DCSS phase 2 on a trained model: X + MNet",
        needs_start=True,
    ),
]

__all__ = [
    "METHODS",
    "DCSSConfig",
    "fit_dcss",
    "fit_dcss_u",
    "fit_mnet",
    "soft_assignments",
]
