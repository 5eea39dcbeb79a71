"""The baselines every paper compares against: AE + k-means, DEC, IDEC, DCN and DKM.

Each method has a frozen config whose defaults are its original paper's, and a
``fit_<method>(X, cfg, ctx)`` (the kit's one fit contract, ``FitContext``) that
pretrains (or takes) an autoencoder, initialises centres with k-means on its codes,
and trains:

- AE + k-means: k-means on the codes of an autoencoder trained to reconstruct.
- DEC (Xie et al., 2016): KL(P || Q) between Student-t assignments Q (eq. 1) and a
  sharpened target P (eq. 3) refreshed every ``update_interval`` iterations over the
  whole dataset; stops when fewer than ``tol`` of the labels change; decoder dropped.
- IDEC (Guo et al., 2017): DEC's loss times gamma plus the reconstruction loss.
- DCN (Yang et al., 2017): reconstruction + lambda/2 k-means loss with hard
  assignments and count-based centre updates (eq. 5-7).
- DKM (Fard et al., 2020): reconstruction + lambda soft k-means loss whose sharpness
  alpha is annealed (eq. 4), centres learnt by gradient descent with the network.

Labels always come from the last iterate; ``ctx.y_monitor`` only adds ACC/NMI to
the history, and ``ctx.monitor`` what it logs (DEC, IDEC: at every target refresh).
With ``ctx.checkpoint`` (a path), the clustering stage saves its state after every
epoch and a rerun resumes there. Book page: notebooks/01_baselines.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dclib import diagnostics
from dclib import functional as Fn
from dclib.methods._common import (
    AEConfig,
    ClusteringResult,
    FitContext,
    Method,
    checkpoint_config,
    encode,
    iteration_epochs,
    kmeans,
    label_monitor,
    make_result,
    monitor_check,
    prepare,
)
from dclib.pretrain import PretrainConfig
from dclib.train import (
    History,
    TensorState,
    fit_epochs,
    make_optimizer,
    off_the_clock,
)

GREEDY = PretrainConfig(n_epochs=200, greedy_dropout=0.2)
"""DEC §3.2: each layer a denoising AE (dropout 0.2), then end-to-end fine-tuning.
DEC trains 50,000 iterations per layer and 100,000 end to end at batch 256 (about
180 and 370 epochs of 70,000 images); we use 200 epochs for each stage and Adam
(lr 1e-3) instead of DEC's SGD (lr 0.1 divided by 10 every 20,000 iterations)."""


@dataclass(frozen=True)
class AEKMeansConfig(AEConfig):
    """AE + k-means: the baseline row of DCSS Table 1 and DML Table II (the DCSS
    page uses its conv AE: ``autoencoder="dcss"``)."""


@dataclass(frozen=True)
class DECConfig(AEConfig):
    """DEC (Xie, Girshick and Farhadi, ICML 2016)."""

    pretrain: PretrainConfig = GREEDY
    alpha: float = 1.0
    """degrees of freedom of the Student-t kernel (eq. 1)"""
    n_init: int = 20
    """k-means restarts for the initial centres (DEC §3.3)"""
    batch_size: int = 256
    lr: float = 0.01
    """SGD learning rate of the clustering stage, momentum 0.9 (DEC §4.3)"""
    update_interval: int = 140
    """iterations between refreshes of P (IDEC §4.1: T = 140 for MNIST; DEC's text
    gives none)"""
    tol: float = 0.001
    """stop when fewer than this fraction of labels change between refreshes"""
    max_iter: int = 20_000
    """the budget in iterations when ``tol`` never fires (the IDEC code's 2·10^4)"""
    n_epochs: int | None = None
    """None: as many epochs as ``max_iter`` iterations take; a profile caps it"""
    gamma: float | None = None
    """IDEC's weight of the clustering loss; None: no decoder (plain DEC)"""

    def epochs_for(self, n: int) -> int:
        """Epochs of ``n`` samples that hold ``max_iter`` iterations (or fewer when
        ``n_epochs`` caps them)."""
        return iteration_epochs(self.max_iter, n, self.batch_size, self.n_epochs)


@dataclass(frozen=True)
class IDECConfig(DECConfig):
    """IDEC (Guo et al., IJCAI 2017): DEC plus the reconstruction loss, Adam 1e-3."""

    lr: float = 0.001
    """Adam learning rate (IDEC §4.1)"""
    gamma: float | None = 0.1
    """L = L_r + gamma L_c (IDEC eq. 8, gamma = 0.1)"""


@dataclass(frozen=True)
class DCNConfig(AEConfig):
    """DCN (Yang, Fu, Sidiropoulos and Hong, ICML 2017)."""

    pretrain: PretrainConfig = dataclasses.replace(GREEDY, n_epochs=50)
    """greedy layer-wise pretraining, 50 epochs (DCN §5.2.5)"""
    lam: float = 0.05
    """lambda, weight of the k-means term (DCN §5.2.5, MNIST)"""
    batch_size: int = 256
    lr: float = 0.001
    """Adam learning rate (the DCN paper does not state one we could find)"""
    n_epochs: int = 50
    initial_count: float | None = None
    """c_k before the first update (eq. 7). None: the size of k-means' cluster k,
    so that early samples move mu_k little (eq. 7 counts the samples assigned so
    far, k-means' included); the official code starts every c_k at 100"""
    kmeans_every: int | None = None
    """None (the paper): centres only move by eq. 7; an int: k-means on all codes
    replaces centres and counts every that many epochs (the code: 10)"""
    final_kmeans: bool = False
    """False (the paper, eq. 6): label = nearest centre; True (the code): labels and
    centres of a final k-means on the codes"""

    @classmethod
    def official_code(cls, **fields) -> DCNConfig:
        """The official DCN code's choices."""
        code = {"initial_count": 100.0, "kmeans_every": 10, "final_kmeans": True}
        return cls(**(code | fields))


@dataclass(frozen=True)
class DKMConfig(AEConfig):
    """DKM (Moradi Fard, Thonet and Gaussier, Pattern Recognition Letters 2020)."""

    pretrain: PretrainConfig = PretrainConfig(n_epochs=50)
    """end-to-end pretraining, 50 epochs, Adam 1e-3 (DKM §4)"""
    lam: float = 1.0
    """lambda, weight of the soft k-means term (DKM §4, MNIST)"""
    batch_size: int = 256
    lr: float = 0.001
    n_alphas: int = 40
    """length of the annealing schedule alpha_1 = 0.1, ... (DKM §4)"""
    constant_alpha: float | None = None
    """None: anneal alpha (DKM_a); a number keeps alpha fixed, as DKM_p does after
    pretraining (alpha = 1000, DKM §4)"""
    epochs_per_alpha: int = 5
    n_epochs: int = 200
    """= n_alphas x epochs_per_alpha; a profile may cap it"""

    @classmethod
    def pretrained_variant(cls, **fields) -> DKMConfig:
        """DKM_p: pretrained network, alpha fixed at 1000 (DKM §4). The papers' DKM
        rows (DCSS Table 1, DML Table I) are this variant; the DKM code refuses to
        anneal a pretrained network."""
        return cls(**({"constant_alpha": 1000.0} | fields))


# --- the methods -------------------------------------------------------------------


def fit_ae_kmeans(
    X, cfg: AEKMeansConfig = AEKMeansConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """AE + k-means: k-means (``n_init`` restarts) on a pretrained AE's codes."""
    X, model, pre, mu, labels = prepare(X, cfg, ctx)
    hist = History()
    hist.append(epoch=0, **label_monitor(ctx, X, model)(labels))
    return make_result(model, X, mu, None, labels, {"pretrain": pre, "cluster": hist})


def fit_dec(
    X, cfg: DECConfig = DECConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """DEC, or IDEC when ``cfg.gamma`` is set (``IDECConfig``).

    Every ``update_interval`` iterations the Student-t assignments Q of the whole
    dataset give a new target P (DEC eq. 3) and new labels argmax Q; training stops
    once fewer than ``tol`` of the labels changed, or after ``max_iter`` iterations.
    Each batch minimises KL(P || Q) (DEC eq. 2), plus for IDEC the reconstruction
    MSE: L = L_r + gamma L_c (IDEC eq. 8). At each refresh ``ctx.monitor.check``
    gets the codes, the new labels and this loss; what it adds is a ``checks``
    record (``diagnostics.Diagnostics``: Δ_FR, Δ_FD, ID, LID, twist).
    """
    X, model, pre, mu0, labels = prepare(X, cfg, ctx)
    centres = nn.ParameterDict({"mu": nn.Parameter(mu0)})
    idec = cfg.gamma is not None
    net = model if idec else model.encoder
    params = [*net.parameters(), *centres.parameters()]
    opt = make_optimizer(params, "adam" if idec else "sgd", cfg.lr)
    s = TensorState(iteration=0, labels=labels, p=None, converged=False, checks=[])
    monitor = label_monitor(ctx, X, model)

    # the loss minimised: gamma L_c + L_r (IDEC eq. 7), L_c alone for DEC
    weights = {"pseudo": cfg.gamma, "self": 1.0} if idec else {"pseudo": 1.0}

    def terms(x: Tensor, idx: Tensor) -> dict[str, Tensor]:
        z = model.encode(x)
        q = Fn.student_t_assignment(z, centres["mu"], cfg.alpha)
        loss_c = Fn.kl_clustering_loss(s.p[idx], q)
        if not idec:
            return {"pseudo": loss_c}
        loss_r = F.mse_loss(model.decode(z).reshape(x.shape), x)
        return {"pseudo": loss_c, "self": loss_r}

    def refresh() -> None:
        z = encode(model, X)
        q = Fn.student_t_assignment(z, centres["mu"].detach(), cfg.alpha)
        new = q.argmax(1)
        s.converged = s.p is not None and (new != s.labels).float().mean() < cfg.tol
        s.p, s.labels = Fn.target_distribution(q), new
        loss = diagnostics.MethodLoss(
            lambda i: terms(X[i.to(X.device)], i.to(X.device)),
            lambda i: model.encode(X[i.to(X.device)]),
            centres["mu"],
            list(model.encoder.parameters()),
            weights,
        )
        record = {"iteration": s.iteration}
        monitor_check(ctx, record, z, new, loss)
        if len(record) > 1:  # the monitor logged this refresh
            s.checks.append(record)

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if s.iteration % cfg.update_interval == 0:
            refresh()
            if s.converged:
                return {}
        s.iteration += 1
        model.train()
        t = terms(x, idx)
        loss = diagnostics.weighted(t, weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "kl": t["pseudo"].item()}

    hist = fit_epochs(
        step,
        X,
        n_epochs=cfg.epochs_for(len(X)),
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        state={"model": model, "centres": centres, "opt": opt, "s": s},
        on_epoch=lambda e: {"iteration": s.iteration} | monitor(s.labels),
        stop=lambda: s.converged or s.iteration >= cfg.max_iter,
        desc="IDEC" if idec else "DEC",
        checkpoint=ctx.checkpoint,
        config=checkpoint_config(cfg, ctx),
    )
    q = Fn.student_t_assignment(encode(model, X), centres["mu"].detach(), cfg.alpha)
    stages = {"pretrain": pre, "cluster": hist}
    if s.checks:
        stages["checks"] = History(s.checks)
    return make_result(model, X, centres["mu"], q, q.argmax(1), stages)


def _sum_mse(x_hat: Tensor, x: Tensor) -> Tensor:
    """||x - x_hat||^2 summed over features, averaged over the batch (DCN, DKM)."""
    return (x_hat - x).pow(2).flatten(1).sum(1).mean()


def fit_dcn(
    X, cfg: DCNConfig = DCNConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """DCN: per batch, one network step on ||x - g(f(x))||^2 + lambda/2 ||f(x) -
    mu_s||^2 with the nearest centres s fixed (eq. 5), then new assignments (eq. 6)
    and count-based centre updates (eq. 7) from the updated codes. The official
    code's k-means restarts and final k-means are options (``DCNConfig``)."""
    X, model, pre, mu0, labels = prepare(X, cfg, ctx)

    def counts_of(labels: Tensor) -> Tensor:
        if cfg.initial_count is not None:
            return torch.full((cfg.n_clusters,), cfg.initial_count, device=X.device)
        return torch.bincount(labels, minlength=cfg.n_clusters).to(mu0.dtype)

    s = TensorState(mu=mu0, counts=counts_of(labels))
    opt = make_optimizer(model.parameters(), "adam", cfg.lr)
    monitor = label_monitor(ctx, X, model)

    def nearest(z: Tensor) -> Tensor:
        return Fn.squared_distances(z, s.mu).argmin(1)

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        z, x_hat = model(x)
        loss_c = Fn.kmeans_loss(z, s.mu, nearest(z.detach()))
        loss = _sum_mse(x_hat, x) + cfg.lam / 2 * loss_c
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            z = model.encode(x)
            s.mu, s.counts = Fn.running_mean_centres(s.mu, s.counts, z, nearest(z))
        return {"loss": loss.item(), "kmeans": loss_c.item()}

    def on_epoch(epoch: int) -> dict[str, float]:
        restart = cfg.kmeans_every is not None and (epoch + 1) % cfg.kmeans_every == 0
        if restart:
            s.mu, labels = kmeans(
                encode(model, X), cfg.n_clusters, cfg.n_init, ctx.seed
            )
            s.counts = counts_of(labels)
        return {"kmeans_restart": float(restart)} | scores()

    @off_the_clock()
    def scores() -> dict[str, float]:
        return monitor(nearest(encode(model, X))) if ctx.y_monitor is not None else {}

    hist = fit_epochs(
        step,
        X,
        n_epochs=cfg.n_epochs,
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        state={"model": model, "opt": opt, "s": s},
        on_epoch=on_epoch,
        desc="DCN",
        checkpoint=ctx.checkpoint,
        config=dataclasses.asdict(cfg),
    )
    z = encode(model, X)
    if cfg.final_kmeans:
        s.mu, labels = kmeans(z, cfg.n_clusters, cfg.n_init, ctx.seed)
    else:
        labels = nearest(z)
    return make_result(model, X, s.mu, None, labels, {"pretrain": pre, "cluster": hist})


def fit_dkm(
    X, cfg: DKMConfig = DKMConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """DKM: ||x - x_hat||^2 + lambda sum_k ||z - r_k||^2 softmax_k(-alpha ||z -
    r_k||^2) (eq. 4), network and centres r trained jointly by Adam; alpha follows
    ``dkm_alphas`` for ``epochs_per_alpha`` epochs each (or stays at
    ``constant_alpha``); label = nearest centre."""
    X, model, pre, mu0, _ = prepare(X, cfg, ctx)
    centres = nn.ParameterDict({"mu": nn.Parameter(mu0)})
    opt = make_optimizer([*model.parameters(), *centres.parameters()], "adam", cfg.lr)
    if cfg.constant_alpha is None:
        alphas = Fn.dkm_alphas(cfg.n_alphas)
    else:
        alphas = [cfg.constant_alpha]
    s = TensorState(epoch=0)
    monitor = label_monitor(ctx, X, model)

    def labels() -> Tensor:
        return Fn.squared_distances(encode(model, X), centres["mu"].detach()).argmin(1)

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        alpha = alphas[min(s.epoch // cfg.epochs_per_alpha, len(alphas) - 1)]
        z, x_hat = model(x)
        loss_c = Fn.soft_kmeans_loss(z, centres["mu"], alpha)
        loss = _sum_mse(x_hat, x) + cfg.lam * loss_c
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "kmeans": loss_c.item(), "alpha": alpha}

    @off_the_clock()
    def on_epoch(epoch: int) -> dict[str, float]:
        s.epoch = epoch + 1
        return monitor(labels()) if ctx.y_monitor is not None else {}

    hist = fit_epochs(
        step,
        X,
        n_epochs=cfg.n_epochs,
        batch_size=cfg.batch_size,
        seed=ctx.seed,
        state={"model": model, "centres": centres, "opt": opt, "s": s},
        on_epoch=on_epoch,
        desc="DKM",
        checkpoint=ctx.checkpoint,
        config=dataclasses.asdict(cfg),
    )
    stages = {"pretrain": pre, "cluster": hist}
    return make_result(model, X, centres["mu"], None, labels(), stages)


METHODS = [
    Method(
        "ae_kmeans",
        fit_ae_kmeans,
        AEKMeansConfig,
        "baselines",
        "k-means on a pretrained autoencoder's codes",
        kmeans_labels=True,
    ),
    Method("dec", fit_dec, DECConfig, "baselines", "DEC (Xie et al., 2016)"),
    Method("idec", fit_dec, IDECConfig, "baselines", "IDEC (Guo et al., 2017)"),
    Method("dcn", fit_dcn, DCNConfig, "baselines", "DCN (Yang et al., 2017)"),
    Method(
        "dkm",
        fit_dkm,
        DKMConfig,
        "baselines",
        "DKM_a: DKM with alpha annealed (Moradi Fard et al., 2020)",
    ),
    Method(
        "dkm_p",
        fit_dkm,
        DKMConfig,
        "baselines",
        "DKM_p: DKM on a pretrained network, alpha = 1000 (the papers' DKM row)",
        preset=DKMConfig.pretrained_variant,
    ),
]
"""the registry records of the baselines"""

__all__ = [
    "GREEDY",
    "METHODS",
    "AEKMeansConfig",
    "DCNConfig",
    "DECConfig",
    "DKMConfig",
    "IDECConfig",
    "fit_ae_kmeans",
    "fit_dcn",
    "fit_dec",
    "fit_dkm",
]
