"""DML (Sadeghi and Armanfard, 2022): deep multi-representation learning.

DML improves a trained autoencoder-based clustering method M (DCN, DKM or DSL, the
DCSS phase 1). Clusters whose centre lies closer than tau = (d_min + d_max) / 4 to
another centre are *difficult* (§III-A, §IV-C); each gets its own autoencoder, and
one general autoencoder serves the easy clusters: L networks, all initialised from
M's (Alg. 1 lines 1-2). Training is the kit's cluster-specific mechanism with one
latent space per cluster (``_fuzzy.train_cluster_specific`` on a
``MultiAutoencoder``): per batch, run k takes one step of AE^(l_k) on the weighted
loss of eq. 3, with the memberships of eq. 2g, each distance measured in its
cluster's latent space. The centres follow eq. 4 once per epoch: the paper's
Algorithm 1 has no step for it; the official code runs it at the start of each
epoch, we after each. A sample's cluster is argmax p (§III-D).

The paper gives no optimiser, learning rate, batch size or MaxIter: the defaults are
the official code's (Adam 1e-5, batch 1000, 10 epochs; official-code notes §3). It
picks lambda in {0.001, 0.01, 0.1} on a labelled validation set, which an
unsupervised run cannot; the default is the code's 0.1. ``DMLConfig.official_code()``
adds the code's departures. M's record comes from the caller (``fit_dml``'s
``base``; the registry's "dml" looks up the record ``BASES`` names), so this file
imports no other paper's file.
Book page: notebooks/05_dml.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from dclib import functional as Fn
from dclib.methods._common import (
    ClusteringResult,
    FitContext,
    Method,
    as_tensor,
    make_result,
)
from dclib.methods._fuzzy import (
    ClusterSpecificRun,
    FuzzyConfig,
    all_codes,
    train_cluster_specific,
)
from dclib.models import MultiAutoencoder, set_precision
from dclib.repro import pick_device
from dclib.train import make_optimizer

BASES: dict[str, str] = {"dsl": "dcss_u", "dcn": "dcn", "dkm": "dkm_p"}
"""the base methods M of DML Table I -> their registry names: DSL is DCSS_u, DKM the
pretrained variant DKM_p (alpha = 1000) that the papers' DKM rows report"""


@dataclass(frozen=True)
class DMLConfig(FuzzyConfig):
    """DML's hyperparameters (§IV-C; the official code's where the paper is silent)."""

    n_clusters: int = 10
    base: str = "dsl"
    """M: "dsl", "dcn" or "dkm" (trained first when ``ctx.start`` is None)"""
    lam: float = 0.1
    """lambda, the weight of the clustering loss (eq. 3a)"""
    n_epochs: int = 10
    """MaxIter (the code's; the paper gives none)"""
    batch_size: int = 1000
    lr: float = 1e-5
    """Adam, one optimiser state per autoencoder (the code's)"""
    n_networks: int | None = None
    """L; None: one network per cluster closer than tau to another, plus the general
    one. An int keeps the L - 1 clusters with the closest neighbours (Fig. 7)."""
    recon: float = 1.0
    """weight of the reconstruction term L_r (eq. 3a: 1; the code: 0.1)"""
    update_before_training: bool = False
    """True (the code): eq. 4 also runs at the start of the first epoch"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.base not in BASES:
            raise ValueError(f"unknown base {self.base!r}; choose one of {list(BASES)}")
        if self.lam < 0:
            raise ValueError(f"lambda must be >= 0, got {self.lam}")
        if self.n_networks is not None and not 1 <= self.n_networks <= self.n_clusters:
            raise ValueError(
                f"need 1 <= n_networks <= n_clusters, got {self.n_networks}"
            )

    @classmethod
    def official_code(cls, **fields) -> DMLConfig:
        """The official code's departures (official-code notes §3): 0.1 times the
        reconstruction term, memberships once per batch, and centres updated at
        the start of every epoch, the first included."""
        code = {
            "recon": 0.1,
            "memberships_per_batch": True,
            "centre_update": "before",
            "update_before_training": True,
        }
        return cls(**(code | fields))

    def cluster_specific(self) -> ClusterSpecificRun:
        return ClusterSpecificRun(
            self, self.lam, 1, self.n_epochs, self.batch_size, self.recon
        )


def centre_gaps(mu: Tensor) -> tuple[Tensor, float]:
    """Each centre's distance to its closest other centre (K,), and tau =
    (d_min + d_max) / 4 over all pairs of centres (DML §IV-C)."""
    if mu.ndim != 2 or mu.shape[0] < 2:
        raise ValueError(f"need centres (K >= 2, d), got {tuple(mu.shape)}")
    d = torch.cdist(mu.double(), mu.double())
    off = ~torch.eye(len(mu), dtype=torch.bool, device=mu.device)
    pairs = d[off]
    tau = float((pairs.min() + pairs.max()) / 4)
    return d.masked_fill(~off, float("inf")).min(1).values, tau


def assign_networks(mu: Tensor, n_networks: int | None = None) -> tuple[Tensor, Tensor]:
    """(owner, difficult), both (K,): l_k of DML eq. 1, 0-based, and which clusters
    are difficult (closest other centre nearer than tau; or, given ``n_networks`` =
    L, the L - 1 clusters with the nearest neighbours). Difficult clusters get
    networks 0, 1, ... in increasing cluster index (the code's order), the easy ones
    share the last. If every cluster is difficult there is no general network."""
    gaps, tau = centre_gaps(mu)
    if n_networks is None:
        difficult = gaps < tau
    else:
        difficult = torch.zeros(len(mu), dtype=torch.bool, device=mu.device)
        difficult[gaps.argsort(stable=True)[: n_networks - 1]] = True
    rank = difficult.long().cumsum(0) - 1
    owner = torch.where(difficult, rank, int(difficult.sum()))
    return owner.cpu(), difficult.cpu()


def base_start(X, cfg: DMLConfig, ctx: FitContext, base: Method | None):
    """M's (AE, centres): ``ctx.start``, or ``base`` (the record of M =
    ``cfg.base``) trained on ``X`` with its paper defaults."""
    if ctx.start is not None:
        return ctx.start
    if base is None:
        raise ValueError(
            "DML continues a trained base method M: pass ctx.start, or base, the "
            f"record of M ({BASES[cfg.base]!r} for base {cfg.base!r}), as "
            "dclib.methods.get_method('dml').fit does"
        )
    if base.name != BASES[cfg.base]:
        raise ValueError(
            f"base {cfg.base!r} is the method {BASES[cfg.base]!r}, got {base.name!r}"
        )
    first = base.fit(X, base.make_config(n_clusters=cfg.n_clusters), ctx.part("base"))
    return first.model_, first.mu_


def fit_dml(
    X,
    cfg: DMLConfig = DMLConfig(),
    ctx: FitContext = FitContext(),
    base: Method | None = None,
) -> ClusteringResult:
    """DML (Alg. 1) from ``ctx.start = (M's autoencoder, M's centres)``; without it,
    M is trained first with its paper defaults: ``base``, its registry record (the
    one ``BASES[cfg.base]`` names), comes from the caller (the registry's "dml"
    passes it). Labels are argmax p; ``z_`` holds each sample's code in the latent
    space of its most probable cluster (the view of Fig. 2); ``q_`` the memberships
    p (eq. 2g). History: stage "cluster" only."""
    device = pick_device(ctx.device)
    X = as_tensor(X, device, cfg.n_clusters)
    trained, mu = base_start(X, cfg, ctx, base)
    mu = torch.as_tensor(mu, dtype=torch.float32, device=device)
    if mu.shape[0] != cfg.n_clusters:
        raise ValueError(f"start has {mu.shape[0]} centres, cfg {cfg.n_clusters}")
    owner, _ = assign_networks(mu, cfg.n_networks)
    nets = [copy.deepcopy(trained) for _ in range(int(owner.max()) + 1)]
    model = MultiAutoencoder(nets, owner).to(device)
    set_precision(model, ctx.precision)
    torch.manual_seed(ctx.seed)
    opt = make_optimizer(model.parameters(), "adam", cfg.lr)
    if cfg.update_before_training:
        codes = all_codes(model.nets, X)
        p = Fn.multi_space_memberships(codes, mu, model.owner, cfg.m)
        mu = Fn.multi_space_centres(codes, p, model.owner, cfg.m)
    run = cfg.cluster_specific()
    hist, mu = train_cluster_specific(model, X, mu, opt, run, ctx, "DML")
    codes = all_codes(model.nets, X)  # (L, n, d)
    p = Fn.multi_space_memberships(codes, mu, model.owner, cfg.m)
    labels = p.argmax(1)
    z = model.own_codes(codes, labels)
    return make_result(model, X, mu, p, labels, {"cluster": hist}, z=z)


def methods(registry: Callable[[str], Method]) -> list[Method]:
    """DML's registry records, given ``registry(name)``, the record of a method by
    its registry name: the record's fit looks up M = ``BASES[cfg.base]`` there when
    it trains M (no ``ctx.start``), and hands it to ``fit_dml``."""

    def fit(
        X, cfg: DMLConfig = DMLConfig(), ctx: FitContext = FitContext()
    ) -> ClusteringResult:
        base = registry(BASES[cfg.base]) if ctx.start is None else None
        return fit_dml(X, cfg, ctx, base)

    return [
        Method(
            "dml",
            fit,
            DMLConfig,
            "dml",
            "DML: one autoencoder per difficult cluster, on top of a base method M",
        ),
    ]


__all__ = [
    "BASES",
    "DMLConfig",
    "assign_networks",
    "centre_gaps",
    "fit_dml",
    "methods",
]
