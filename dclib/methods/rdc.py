"""R-DC: proximity-level self-supervision (Shaheen, Mrabah et al., "Rethinking Deep
Clustering Paradigms: Self-Supervision Is All You Need").

Phase 1 (§3.1, Algorithm 1 lines 2-10): reconstruction of randomly shifted and
rotated images with the ACAI critic game (eq. 1-2), the players updated on
alternate iterations, T1 = 10,000 iterations, Adam 1e-3. Phase 2 (§3.2-3.5): no
pseudo-labels. From the codes z = f(X) of all samples, the M = 5 nearest neighbours
of each (eq. 3) select the *core points* (eq. 4-6: nearest over farthest neighbour
distance r_i >= alpha) and, for each core point, its *reliable neighbours* (eq.
7-10: d_im - d-bar_i <= beta, beta in units of the median nearest-neighbour
distance). A core point is constructed (the decoder outputs the decoded centroid of
its reliable neighbours' codes, eq. 11-12) and pulled to that centroid in the latent
space (eq. 13); a border point is reconstructed. The neighbour graph is rebuilt every
``refresh`` iterations and the centroids follow the current encoder at every
iteration (§3.5); training stops when the share of core points tau (eq. 15),
smoothed over a few checks, stops reaching new highs (``stable``). Labels: k-means
on the final codes (DBSCAN for an unknown K, §3.5). The ablation's P3 (DEC's loss
after P1 or P2, Table 8) is DEC continuing R-DC's network (``recipes``). Book page:
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
    iteration_epochs,
    kmeans,
    kmeans_spread,
    label_monitor,
    make_result,
    monitor_check,
    prepare,
)
from dclib.methods._targets import l1_weight, phase_start, target_losses
from dclib.pretrain import PretrainConfig
from dclib.train import (
    History,
    TensorState,
    fit_epochs,
    gradient_step,
    make_optimizer,
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
BETA_SCALES = ("d1", "absolute")
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
    refresh: int = 140
    """iterations between two rebuilds of the neighbour graph: the codes of all
    samples, their kNN, the core points and the reliable neighbours (eq. 3-10), as
    the code does (every 140 iterations). 1: every iteration, a reading of §3.5 that
    re-encodes every sample at every step (6.75 s an iteration on 70,000 images and
    one CPU core)"""
    live_centroids: bool = True
    """True: each batch's targets sigma(x_i) (eq. 11) are the mean of its reliable
    neighbours' codes under the current encoder, so "we update the centroids of the
    most reliable nearest neighbors of the core points every training iteration"
    (§3.5) holds between two graph rebuilds. False: the centroids of the last
    rebuild (the code)"""
    beta_scale: str = "d1"
    """the unit of beta in eq. 9. "d1": the median distance from a code to its
    nearest neighbour at the rebuild, so that the filter means the same whatever
    the scale of the codes (the paper picks beta in [0.5, 1] for every dataset,
    §4.1.3; the codes of our networks have neighbours at about 0.06, where an
    absolute 0.6 keeps every neighbour); "absolute": eq. 9 as printed"""
    check_interval: int = 140
    """iterations between two checks of the stop rule and logged records (tau,
    neighbour rates, ACC and NMI by k-means with ``y_monitor``; logging never
    changes training): the code's and DynAE's validation interval"""
    min_checks: int = 20
    """the stop rule waits this many checks (the first at iteration 0: 2,660
    iterations, about 10 epochs of 70,000 images) before it may fire: the phase's
    start first lowers tau"""
    smooth: int = 5
    """the stop rule reads tau averaged over this many checks: it moves by about
    one point from one check to the next (Fashion-MNIST 70k: 84.8, 83.4, 84.1,
    83.5 %)"""
    patience: int = 5
    """stop once the smoothed tau has not reached a new maximum for this many
    checks (``stable``)"""
    optimizer: str = "sgd"
    """the second phase's optimiser: "sgd" (momentum 0.9) on the element-wise means
    weighed d / m, DynAE's objective and the authors' DynAE driver's optimiser;
    "adam", the paper's (§4.1.3). Chosen without labels, on Fashion-MNIST 70k from
    the pretrained network: a fresh Adam at 1e-3 on the per-sample sums, with the
    neighbour graph rebuilt every 140 iterations, ran away (L1 per image 4.0 on the
    first batch, 33 over the first epoch, then 10^3 to 10^12, the codes collapsing
    on a line); SGD on the sums diverged at iteration 681; SGD on the weighed
    means held it for the four epochs measured (L1 per image 4.0 at the start,
    3.1 to 2.8 after; tau 91.8 -> 91.2 %), the "smooth transition" of Fig. 15"""
    lr: float = 1e-3
    """the learning rate (§4.1.3: 1e-3)"""
    batch_size: int = 256
    max_iter: int = 100_000
    """a bound on the second phase (the code's maxiter; the paper stops on tau)"""
    n_epochs: int | None = None
    """None: as many epochs as ``max_iter`` iterations take; a profile caps it"""
    output_weight: float | None = None
    """factor on L1; None: d / m (``_targets.l1_weight``), eq. 14's L1 + L2 in the
    paper's units (squared norms per sample, eq. 12-13) divided by m, as DynAE
    takes it; the code: 100"""
    per_element: bool = True
    """True: L1 and L2 as element-wise means, the units of the optimiser's learning
    rate in the authors' TensorFlow code; False: squared norms per sample (eq.
    12-13), with which SGD at 1e-3 took steps 784 times longer and diverged within
    700 iterations on Fashion-MNIST 70k"""
    augment: bool = True
    """augmented network input in phase 2 too (§3.5)"""
    augment_targets: bool = True
    """True: the decoder's targets undergo the input's shift and rotation, as in the
    pretraining ("similar to the pretraining stage, the loss function L undergoes
    regularization via data augmentation", §3.5); False: clean targets (the code).
    Label-free check (mnist5k, quick pretraining, seed 0): the first batch's L1 is
    8.0 per image with augmented targets, 25.1 with clean ones"""
    final: str = "kmeans"
    """"kmeans" (§3.5), or "dbscan" on the codes for an unknown K"""
    dbscan_eps: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.border not in BORDERS or self.final not in FINAL:
            raise ValueError(
                f"border must be one of {BORDERS} and final one of {FINAL}, got "
                f"{self.border!r}, {self.final!r}"
            )
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(
                f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}"
            )
        if self.beta_scale not in BETA_SCALES:
            raise ValueError(
                f"beta_scale must be one of {BETA_SCALES}, got {self.beta_scale!r}"
            )
        if self.n_neighbours < 2 + self.include_self:
            raise ValueError("need at least 2 real neighbours (n_neighbours)")
        if self.min_checks < 0:  # the counts >= 1: check_config
            raise ValueError(f"min_checks must be >= 0, got {self.min_checks}")

    @classmethod
    def official_code(cls, **fields: Any) -> RDCConfig:
        """The official code's departures (notes §5.2-5.3): M counts the point
        itself, the running-minimum d-bar (an absolute threshold), strict
        inequalities, border points trained towards their own stale decoded code and
        pulled to it, gamma = 100 on the element-wise output term, centroids fixed
        between two rebuilds every 140 iterations, clean decoder targets, both
        players updated on every pretraining iteration."""
        code = {
            "pretrain": dataclasses.replace(RDC_PRETRAIN, acai_alternate=False),
            "include_self": True,
            "running_minimum": True,
            "strict": True,
            "border": "stale",
            "output_weight": 100.0,
            "per_element": True,
            "live_centroids": False,
            "augment_targets": False,
            "beta_scale": "absolute",
        }
        return cls(**(code | fields))

    @property
    def real_neighbours(self) -> int:
        return self.n_neighbours - self.include_self


@dataclass(frozen=True)
class Filtered:
    """The outcome of the dual filter (eq. 3-11) on all codes."""

    distance: Tensor
    """(n, M') the ascending distances to the neighbours (eq. 3)"""
    index: Tensor
    """(n, M') the neighbours' rows"""
    core: Tensor
    """(n,) bool, Omega (eq. 5)"""
    reliable: Tensor
    """(n, M') bool, Omega_nn^i (eq. 9), False outside the core"""
    centroid: Tensor
    """(n, m) the latent target: sigma(x_i) (eq. 11) for core points with a reliable
    neighbour, the point's own code otherwise"""


def stable(
    taus: Sequence[float], patience: int = 5, smooth: int = 5, min_checks: int = 20
) -> bool:
    """The end of the second phase (§3.5, §4.1.3): the share of core points tau (eq.
    15) "will increase gradually", and training goes on "until this ratio remains
    stable". ``taus``: tau at each check so far. True once at least ``min_checks``
    checks were made and tau averaged over ``smooth`` checks in a row has not
    reached a new maximum for ``patience`` checks.

    The rule reads a moving average because tau moves by about a point from one
    check to the next (Fashion-MNIST 70k, the committed reference before this rule:
    92.1, 84.8, 83.4, 84.1, 83.5 %; a rule comparing single checks stopped there on
    a 0.6-point wobble), and waits ``min_checks`` because the switch from
    pretraining to the proximity losses first lowers tau. Where tau keeps rising,
    ``max_iter`` (or a profile's epoch cap) ends the phase."""
    if len(taus) < max(min_checks, smooth + patience):
        return False
    t = np.asarray(taus, dtype=float)
    smoothed = np.convolve(t, np.ones(smooth) / smooth, mode="valid")
    return bool(smoothed[-patience:].max() <= smoothed[:-patience].max())


def running_minimum(d: Tensor, core: Tensor) -> Tensor:
    """(n,) the code's d-bar: a minimum carried over from the last point's nearest
    distance and lowered by each core point's nearest distance in index order."""
    start = d[-1, 0]
    nearest = torch.where(core, d[:, 0], start)
    return torch.cummin(torch.minimum(nearest, start), 0).values


def beta_unit(d: Tensor, cfg: RDCConfig) -> float:
    """The unit of beta (``RDCConfig.beta_scale``) for neighbour distances ``d``
    (n, M): the median nearest-neighbour distance, or 1."""
    return float(d[:, 0].median()) if cfg.beta_scale == "d1" else 1.0


def dual_filter(z: Tensor, cfg: RDCConfig) -> Filtered:
    """Core points, their reliable neighbours and the latent targets (eq. 3-11)."""
    d, index = Fn.neighbour_distances(z, cfg.real_neighbours)
    core = Fn.core_points(d, cfg.alpha, cfg.strict)
    reference = running_minimum(d, core) if cfg.running_minimum else None
    beta = cfg.beta * beta_unit(d, cfg)
    reliable = Fn.reliable_neighbours(d, beta, cfg.strict, reference)
    reliable &= core[:, None]
    has = reliable.any(1)
    sigma = Fn.neighbour_centroids(z, index, reliable)
    return Filtered(d, index, core, reliable, torch.where(has[:, None], sigma, z))


def fit_rdc(X, cfg: RDCConfig = RDCConfig(), ctx: FitContext = FitContext()):
    """R-DC's second phase on the pretrained network: see the module docstring.

    History: per-epoch ``cluster`` records and one ``checks`` record every
    ``check_interval`` iterations (iteration, tau; with ``y_monitor`` the ACC/NMI of
    k-means on the codes and the true/false neighbour rates of the core points
    before and after the second filter, Figs. 12-14; and what ``ctx.monitor.check``
    adds, handed the codes and the k-means labels: ``diagnostics.Diagnostics`` the
    ID, LID and Feature Twist of the codes per predicted cluster, Fig. 15).
    """
    if len(X) <= cfg.real_neighbours:
        raise ValueError(
            f"R-DC needs more samples than its n_neighbours (M = "
            f"{cfg.real_neighbours} real neighbours), got {len(X)} sample(s)"
        )
    X, model, pre, _, _ = prepare(X, cfg, ctx)
    n = len(X)
    n_codes = cfg.latent_size(X.ndim == 4)
    opt = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr)
    s = TensorState(iteration=0, graph=None, tau=0.0, done=False, checks=[])
    y = None if ctx.y_monitor is None else np.asarray(ctx.y_monitor)
    monitor = label_monitor(ctx, X, model)

    def refresh() -> None:
        z = encode(model, X)
        f = dual_filter(z, cfg)
        s.graph = dict(vars(f))  # plain tensors: the checkpoint loads weights only
        s.tau = Fn.share(f.core)
        if s.iteration % cfg.check_interval == 0:
            log(z, f)
            taus = [r["tau"] for r in s.checks]
            s.done = stable(taus, cfg.patience, cfg.smooth, cfg.min_checks)

    def log(z: Tensor, f: Filtered) -> None:
        record = {"iteration": s.iteration, "tau": s.tau}
        if y is not None:
            with off_the_clock():
                _, labels = kmeans(z, cfg.n_clusters, cfg.n_init, ctx.seed)
                record |= monitor(labels)
                record |= geometry.neighbour_rates(
                    y,
                    f.index.cpu().numpy(),
                    f.reliable.cpu().numpy(),
                    f.core.cpu().numpy(),
                )
                monitor_check(ctx, record, z, labels)
        s.checks.append(record)

    def centroids_of(idx: Tensor) -> Tensor:
        """The latent targets of the batch ``idx`` (eq. 11): from the neighbours'
        current codes (``live_centroids``) or from the last rebuild."""
        g = s.graph
        if not cfg.live_centroids:
            return g["centroid"][idx]
        index, reliable = g["index"][idx], g["reliable"][idx]  # (B, M)
        with torch.no_grad():
            z = model.encode(X[index.flatten()]).view(*index.shape, -1)
        w = reliable.to(z.dtype)[..., None]
        sigma = (w * z).sum(1) / w.sum(1).clamp_min(1)
        return torch.where(reliable.any(1)[:, None], sigma, g["centroid"][idx])

    def batch_terms(x: Tensor, idx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        core = s.graph["core"][idx]
        centroid = centroids_of(idx)
        stale = cfg.border == "stale"
        with torch.no_grad():
            images = model.decode(centroid).reshape(x.shape)
        construct = torch.ones_like(core) if stale else core
        return target_losses(
            model,
            x,
            images,
            construct,
            centroid,
            construct,
            cfg.augment,
            cfg.per_element,
            cfg.augment_targets,
        )

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if s.iteration % cfg.refresh == 0 or s.iteration % cfg.check_interval == 0:
            refresh()
            if s.done:
                return {}
        s.iteration += 1
        model.train()
        l1, l2, _ = batch_terms(x, idx)
        loss = l1_weight(cfg.output_weight, x[0].numel(), n_codes) * l1 + l2
        gradient_step(
            opt, loss, f"the loss diverged at iteration {s.iteration} (lr {cfg.lr:g})"
        )
        return {"loss": loss.item(), "l1": l1.item(), "l2": l2.item()}

    def start() -> dict[str, float]:
        z = encode(model, X)
        f = dual_filter(z, cfg)
        s.graph = dict(vars(f))
        first = torch.arange(min(cfg.batch_size, n), device=X.device)
        unit = beta_unit(f.distance, cfg)
        batch = batch_terms(X[first], first)
        record = phase_start(z, batch, f.distance, cfg.beta * unit)
        record |= {"tau": Fn.share(f.core), "beta_unit": unit}
        if y is not None:
            record |= kmeans_spread(z, y, cfg.n_clusters, cfg.n_init)
        return record

    first = start()
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
    stages = {
        "pretrain": pre,
        "start": History([first]),
        "cluster": hist,
        "checks": History(s.checks),
    }
    return make_result(model, X, mu, None, labels, stages, z=z)


METHODS = [
    Method(
        "rdc",
        fit_rdc,
        RDCConfig,
        "rdc",
        "R-DC: proximity-level self-supervision, no pseudo-labels (Shaheen et al.)",
        kmeans_labels=True,
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
