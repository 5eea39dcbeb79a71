"""R-DC: proximity-level self-supervision (Shaheen, Mrabah et al., "Rethinking Deep
Clustering Paradigms: Self-Supervision Is All You Need").

Phase 1 (§3.1, Algorithm 1 lines 2-10): reconstruction of randomly shifted and
rotated images with the ACAI critic game (eq. 1-2), the players updated on
alternate iterations, T1 = 10,000 iterations, Adam 1e-3. Phase 2 (§3.2-3.5): no
pseudo-labels. From the codes z = f(X) of all samples, the M = 5 nearest neighbours
of each (eq. 3) select the *core points* (eq. 4-6: nearest over farthest neighbour
distance r_i >= alpha) and, for each core point, its *reliable neighbours* (eq.
7-10: d_im - d-bar_i <= beta). A core point is constructed (the decoder outputs the
decoded centroid of its reliable neighbours' codes, eq. 11-12) and pulled to that
centroid in the latent space (eq. 13); a border point is reconstructed. The targets
are refreshed every iteration (§3.5); training stops when the share of core points
tau (eq. 15) stops increasing after it has risen (``stable``). Labels: k-means on the
final codes (DBSCAN for an unknown K, §3.5). The ablation's P3 (DEC's loss after P1 or
P2, Table 8) is DEC continuing R-DC's network (``recipes``). Book page:
notebooks/07_rdc.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.cluster import DBSCAN
from torch import Tensor

from dclib import functional as Fn
from dclib import geometry
from dclib.methods._common import (
    AEConfig,
    FitContext,
    Method,
    encode,
    gradient_step,
    iteration_epochs,
    kmeans,
    label_monitor,
    make_optimizer,
    make_result,
    prepare,
)
from dclib.methods._targets import target_losses
from dclib.train import (
    History,
    PretrainConfig,
    TensorState,
    fit_epochs,
    off_the_clock,
)

RDC_PRETRAIN = PretrainConfig(
    n_epochs=37,
    lr=1e-3,
    augment=True,
    acai_lambda=0.5,
    recon_sum=True,
    acai_alternate=True,
)
"""R-DC §3.1 and §4.1.3: ACAI on augmented images (eq. 1-2, each image's squared
error summed), the autoencoder and the critic updated on alternate iterations
(Algorithm 1), Adam 1e-3, T1 = 10,000 iterations: 37 epochs of Fashion-MNIST's
70,000 images at batch 256 (we count epochs on every dataset). The paper gives no
lambda_t: 0.5, DynAE's"""

BORDERS = ("reconstruct", "stale")
FINAL = ("kmeans", "dbscan")


@dataclass(frozen=True)
class RDCConfig(AEConfig):
    """R-DC's hyperparameters: the paper's values by default (§4.1.3; alpha and beta
    per dataset from Table 2, ``recipes.DATASET_FIELDS``; 0.6 / 0.6 is Fashion-MNIST's
    and CIFAR-10's). ``official_code()`` gathers the code's departures."""

    pretrain: PretrainConfig = RDC_PRETRAIN
    n_neighbours: int = 5
    """M (§4.1.3)"""
    alpha: float = 0.6
    """core-point threshold on r_i (eq. 5)"""
    beta: float = 0.6
    """reliable-neighbour threshold on h_im (eq. 9)"""
    include_self: bool = False
    """True: M counts the point itself, so M - 1 real neighbours (the code)"""
    running_minimum: bool = False
    """True: d-bar is the running minimum of the nearest-neighbour distance over the
    core points in index order, never reset (the code's bug), not each point's own
    (eq. 7)"""
    strict: bool = False
    """True: the code's r_i > alpha and h_im < beta instead of eq. 5 and 9's >=, <="""
    border: str = "reconstruct"
    """"reconstruct": border points reconstruct their input and are not pulled (eq.
    12-13); "stale": like core points without reliable neighbours, they are trained
    towards the decoding of their own code at the last refresh and pulled to that
    code (the code)"""
    refresh: int = 1
    """iterations between two target refreshes (codes, kNN, filters): every
    iteration (§3.5); the code: 140"""
    check_interval: int = 140
    """iterations between two checks of the stop rule and logged records (tau,
    neighbour rates, ACC and NMI by k-means with ``y_monitor``; logging never
    changes training). §3.5 trains "until updating the centroids does not bring any
    further increase in the number of core points"; tau moves by tenths of a
    percent from one mini-batch to the next, so the rule compares tau every
    ``check_interval`` iterations (the code's and DynAE's validation interval)"""
    patience: int = 1
    """stop after this many checks in a row where tau did not rise above the
    previous check's, once it has risen (``stable``)"""
    lr: float = 1e-3
    """Adam (§4.1.3)"""
    batch_size: int = 256
    max_iter: int = 100_000
    """a bound on the second phase (the code's maxiter; the paper stops on tau)"""
    n_epochs: int | None = None
    """None: as many epochs as ``max_iter`` iterations take; a profile caps it"""
    output_weight: float = 1.0
    """factor on L1 (the code's gamma = 100; eq. 14: 1)"""
    per_element: bool = False
    """True: L1 and L2 as element-wise means (the code) instead of per-sample sums"""
    augment: bool = True
    """augmented network input in phase 2 too (§3.5); targets from the clean image"""
    final: str = "kmeans"
    """"kmeans" (§3.5), or "dbscan" on the codes for an unknown K"""
    dbscan_eps: float = 0.5

    def __post_init__(self) -> None:
        if self.border not in BORDERS or self.final not in FINAL:
            raise ValueError(
                f"border must be one of {BORDERS} and final one of {FINAL}, got "
                f"{self.border!r}, {self.final!r}"
            )
        if self.n_neighbours < 2 + self.include_self:
            raise ValueError("need at least 2 real neighbours (n_neighbours)")
        if min(self.refresh, self.patience, self.check_interval) < 1:
            raise ValueError("refresh, patience and check_interval must be >= 1")

    @classmethod
    def official_code(cls, **fields: Any) -> RDCConfig:
        """The official code's departures (notes §5.2-5.3): M counts the point
        itself, the running-minimum d-bar (an absolute threshold), strict
        inequalities, border points trained towards their own stale decoded code and
        pulled to it, gamma = 100 on the element-wise output term, targets refreshed
        every 140 iterations, both players updated on every pretraining iteration."""
        code = {
            "pretrain": dataclasses.replace(RDC_PRETRAIN, acai_alternate=False),
            "include_self": True,
            "running_minimum": True,
            "strict": True,
            "border": "stale",
            "output_weight": 100.0,
            "per_element": True,
            "refresh": 140,
        }
        return cls(**(code | fields))

    @property
    def real_neighbours(self) -> int:
        return self.n_neighbours - self.include_self


@dataclass(frozen=True)
class Filtered:
    """The outcome of the dual filter (eq. 3-11) on all codes."""

    index: Tensor
    """(n, M') the neighbours' rows"""
    core: Tensor
    """(n,) bool, Omega (eq. 5)"""
    reliable: Tensor
    """(n, M') bool, Omega_nn^i (eq. 9), False outside the core"""
    centroid: Tensor
    """(n, m) the latent target: sigma(x_i) (eq. 11) for core points with a reliable
    neighbour, the point's own code otherwise"""


def stable(taus: Sequence[float], patience: int = 1) -> bool:
    """The end of the second phase (§3.5, §4.1.3): the share of core points tau (eq.
    15) "will increase gradually", and training goes on "until updating the
    centroids does not bring any further increase in the number of core points".
    ``taus``: tau at each check so far. True once tau has risen from one check to the
    next at least once and has then not risen for ``patience`` checks in a row.

    A fall before the first rise does not end the phase: the switch from
    pretraining to the proximity losses first lowers tau (measured: mnist5k 80 % of
    core points after pretraining, 71 % after 140 iterations, then rising;
    Fashion-MNIST 70k 92 %, 86 %, 85 % at iterations 0, 140, 280). Where tau never
    rises, ``max_iter`` (or a profile's epoch cap) ends the phase."""
    rises = [b > a for a, b in zip(taus, taus[1:], strict=False)]
    if not any(rises):
        return False
    last = max(i for i, rose in enumerate(rises) if rose)
    return len(rises) - 1 - last >= patience


def running_minimum(d: Tensor, core: Tensor) -> Tensor:
    """(n,) the code's d-bar: a minimum carried over from the last point's nearest
    distance and lowered by each core point's nearest distance in index order."""
    start = d[-1, 0]
    nearest = torch.where(core, d[:, 0], start)
    return torch.cummin(torch.minimum(nearest, start), 0).values


def dual_filter(z: Tensor, cfg: RDCConfig) -> Filtered:
    """Core points, their reliable neighbours and the latent targets (eq. 3-11)."""
    d, index = Fn.neighbour_distances(z, cfg.real_neighbours)
    core = Fn.core_points(d, cfg.alpha, cfg.strict)
    reference = running_minimum(d, core) if cfg.running_minimum else None
    reliable = Fn.reliable_neighbours(d, cfg.beta, cfg.strict, reference)
    reliable &= core[:, None]
    has = reliable.any(1)
    sigma = Fn.neighbour_centroids(z, index, reliable)
    return Filtered(index, core, reliable, torch.where(has[:, None], sigma, z))


def fit_rdc(X, cfg: RDCConfig = RDCConfig(), ctx: FitContext = FitContext()):
    """R-DC's second phase on the pretrained network: see the module docstring.

    History: per-epoch ``cluster`` records and one ``checks`` record every
    ``check_interval`` iterations (iteration, tau; with ``y_monitor`` the ACC/NMI of
    k-means on the codes and the true/false neighbour rates of the core points
    before and after the second filter, Figs. 12-14; with ``ctx.diagnostics`` the
    ID, LID and Feature Twist of the codes per predicted cluster, Fig. 15).
    """
    X, model, pre, _, _ = prepare(X, cfg, ctx)
    n = len(X)
    opt = make_optimizer(model.parameters(), "adam", cfg.lr)
    s = TensorState(iteration=0, targets=None, tau=0.0, done=False, checks=[])
    y = None if ctx.y_monitor is None else np.asarray(ctx.y_monitor)
    monitor = label_monitor(ctx, X, model)

    def refresh() -> None:
        z = encode(model, X)
        f = dual_filter(z, cfg)
        s.targets = {"centroid": f.centroid, "core": f.core}
        s.tau = Fn.share(f.core)
        if s.iteration % cfg.check_interval == 0:
            log(z, f)
            s.done = stable([r["tau"] for r in s.checks], cfg.patience)

    def log(z: Tensor, f: Filtered) -> None:
        record = {"iteration": s.iteration, "tau": s.tau}
        if y is not None:
            with off_the_clock():
                _, labels = kmeans(z, cfg.n_clusters, 1, ctx.seed)
                record |= monitor(labels)
                record |= geometry.neighbour_rates(
                    y,
                    f.index.cpu().numpy(),
                    f.reliable.cpu().numpy(),
                    f.core.cpu().numpy(),
                )
                if ctx.diagnostics:
                    record |= geometry.twist_record(z, labels)
        s.checks.append(record)

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if s.iteration % cfg.refresh == 0 or s.iteration % cfg.check_interval == 0:
            refresh()
            if s.done:
                return {}
        s.iteration += 1
        model.train()
        core = s.targets["core"][idx]
        centroid = s.targets["centroid"][idx]
        stale = cfg.border == "stale"
        with torch.no_grad():
            images = model.decode(centroid).reshape(x.shape)
        construct = torch.ones_like(core) if stale else core
        l1, l2 = target_losses(
            model,
            x,
            images,
            construct,
            centroid,
            construct,
            cfg.augment,
            cfg.per_element,
        )
        loss = cfg.output_weight * l1 + l2
        gradient_step(
            opt, loss, f"the loss diverged at iteration {s.iteration} (lr {cfg.lr:g})"
        )
        return {"loss": loss.item(), "l1": l1.item(), "l2": l2.item()}

    hist = fit_epochs(
        step,
        X,
        n_epochs=iteration_epochs(cfg.max_iter, n, cfg.batch_size, cfg.n_epochs),
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        state={"model": model, "opt": opt, "s": s},
        on_epoch=lambda e: {"iteration": s.iteration, "tau": s.tau},
        stop=lambda: s.done or s.iteration >= cfg.max_iter,
        desc="R-DC",
        checkpoint=ctx.checkpoint,
        config=dataclasses.asdict(cfg),
    )
    z = encode(model, X)
    if not s.checks or s.checks[-1]["iteration"] != s.iteration:
        log(z, dual_filter(z, cfg))
    if cfg.final == "kmeans":
        mu, labels = kmeans(z, cfg.n_clusters, cfg.n_init, ctx.seed)
    else:
        found = DBSCAN(eps=cfg.dbscan_eps, min_samples=cfg.n_neighbours)
        raw = found.fit_predict(z.cpu().numpy())
        labels = torch.as_tensor(np.where(raw < 0, raw.max() + 1, raw), device=z.device)
        mu = torch.stack([z[labels == k].mean(0) for k in labels.unique()])
    stages = {"pretrain": pre, "cluster": hist, "checks": History(s.checks)}
    return make_result(model, X, mu, None, labels, stages, z=z)


METHODS = [
    Method(
        "rdc",
        fit_rdc,
        RDCConfig,
        "rdc",
        "R-DC: proximity-level self-supervision, no pseudo-labels (Shaheen et al.)",
    ),
]
"""the registry records of the R-DC paper"""

__all__ = [
    "METHODS",
    "RDC_PRETRAIN",
    "Filtered",
    "RDCConfig",
    "dual_filter",
    "fit_rdc",
    "running_minimum",
]
