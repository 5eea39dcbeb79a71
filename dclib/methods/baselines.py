"""The baselines every paper compares against: AE + k-means, DEC, IDEC, DCN and DKM.

Each method has a frozen config whose defaults are its original paper's, and a
``fit_<method>(X, cfg, seed=..., device=..., y_monitor=...)`` that pretrains (or takes)
an autoencoder, initialises centres with k-means on its codes, and trains:

- AE + k-means: k-means on the codes of an autoencoder trained to reconstruct.
- DEC (Xie et al., 2016): KL(P || Q) between Student-t assignments Q (eq. 1) and a
  sharpened target P (eq. 3) refreshed every ``update_interval`` iterations over the
  whole dataset; stops when fewer than ``tol`` of the labels change; decoder dropped.
- IDEC (Guo et al., 2017): DEC's loss times gamma plus the reconstruction loss.
- DCN (Yang et al., 2017): reconstruction + lambda/2 k-means loss with hard
  assignments and count-based centre updates (eq. 5-7).
- DKM (Fard et al., 2020): reconstruction + lambda soft k-means loss whose sharpness
  alpha is annealed (eq. 4), centres learnt by gradient descent with the network.

Labels always come from the last iterate; ``y_monitor`` only adds ACC/NMI to the
history. With ``checkpoint`` (a path), the clustering stage saves its state after
every epoch and a rerun resumes there. Book page: notebooks/01_baselines.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from torch import Tensor, nn

from dclib import functional as Fn
from dclib import metrics
from dclib.models import Autoencoder, autoencoder_for
from dclib.repro import pick_device
from dclib.train import (
    History,
    PretrainConfig,
    TensorState,
    fit_epochs,
    pretrain_autoencoder,
)

GREEDY = PretrainConfig(n_epochs=200, greedy_dropout=0.2)
"""DEC §3.2: each layer a denoising AE (dropout 0.2), then end-to-end fine-tuning.
DEC trains 50,000 iterations per layer and 100,000 end to end at batch 256 (about
180 and 370 epochs of 70,000 images); we use 200 epochs for each stage and Adam
(lr 1e-3) instead of DEC's SGD (lr 0.1 divided by 10 every 20,000 iterations)."""


@dataclass(frozen=True)
class ClusteringResult:
    """What every baseline returns (scikit-learn names: fitted values end in ``_``)."""

    labels_: np.ndarray
    """(n,) int64 cluster of each sample, from the last iterate"""
    z_: np.ndarray
    """(n, m) latent codes after training"""
    mu_: np.ndarray
    """(K, m) cluster centres in the latent space"""
    q_: np.ndarray | None
    """(n, K) soft assignments where the method has them"""
    history_: list[dict[str, float]]
    """per-epoch logs: pretraining epochs (``stage`` 0) then clustering (``stage`` 1;
    DCSS: phase 1, then ``stage`` 2 for phase 2)"""
    model_: nn.Module
    """the trained autoencoder (its encoder maps new data to the latent space); DML:
    its ``MultiAutoencoder``"""
    mnet_: nn.Module | None = None
    """DCSS's MNet (u -> q) where the method trains one"""


@dataclass(frozen=True)
class _AEConfig:
    """What every baseline shares: K, the autoencoder, its pretraining, k-means init."""

    n_clusters: int = 10
    latent_dim: int = 10
    hidden: tuple[int, ...] = (500, 500, 2000)
    """MLP widths d-500-500-2000-m (DEC §4.3)"""
    pretrain: PretrainConfig = PretrainConfig(n_epochs=200)
    """end-to-end reconstruction (DCSS/DML do not say how long; 200 epochs)"""
    n_init: int = 10
    """k-means restarts for the initial centres"""


@dataclass(frozen=True)
class AEKMeansConfig(_AEConfig):
    """AE + k-means: the baseline row of DCSS Table 1 and DML Table II."""

    autoencoder: str = "mlp"
    """"mlp", or the conv AE of "dcss" / "dssl" for images (those pages' baseline)"""


@dataclass(frozen=True)
class DECConfig(_AEConfig):
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
    n_epochs: int = 200
    """upper bound on clustering epochs (DEC stops by ``tol``)"""
    gamma: float | None = None
    """IDEC's weight of the clustering loss; None: no decoder (plain DEC)"""


@dataclass(frozen=True)
class IDECConfig(DECConfig):
    """IDEC (Guo et al., IJCAI 2017): DEC plus the reconstruction loss, Adam 1e-3."""

    lr: float = 0.001
    """Adam learning rate (IDEC §4.1)"""
    gamma: float | None = 0.1
    """L = L_r + gamma L_c (IDEC eq. 8, gamma = 0.1)"""


@dataclass(frozen=True)
class DCNConfig(_AEConfig):
    """DCN (Yang, Fu, Sidiropoulos and Hong, ICML 2017)."""

    pretrain: PretrainConfig = dataclasses.replace(GREEDY, n_epochs=50)
    """greedy layer-wise pretraining, 50 epochs (DCN §5.2.5)"""
    lam: float = 0.05
    """lambda, weight of the k-means term (DCN §5.2.5, MNIST)"""
    batch_size: int = 256
    lr: float = 0.001
    """Adam learning rate (the DCN paper does not state one we could find)"""
    n_epochs: int = 50


@dataclass(frozen=True)
class DKMConfig(_AEConfig):
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


# --- shared pieces ---------------------------------------------------------------


def as_tensor(X, device: torch.device, n_clusters: int | None = None) -> Tensor:
    """Validate data (and ``n_clusters`` for it) and move it to ``device`` once."""
    if isinstance(X, Tensor):
        X = X.detach().to(device=device, dtype=torch.float32)
    else:
        X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
    if X.ndim not in (2, 4):
        raise ValueError(
            f"X must be (n, d) or (n, C, H, W), got shape {tuple(X.shape)}"
        )
    if not torch.isfinite(X).all():
        raise ValueError("X holds NaN or inf")
    if n_clusters is not None and not 2 <= n_clusters <= X.shape[0]:
        raise ValueError(
            f"need 2 <= n_clusters <= n, got n_clusters={n_clusters} "
            f"for {X.shape[0]} sample(s)"
        )
    return X


def encode(model: Autoencoder, X: Tensor, batch_size: int = 1024) -> Tensor:
    """Latent codes of all of ``X`` in eval mode, in batches, without gradients."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model.encode(X[i : i + batch_size]) for i in
                          range(0, X.shape[0], batch_size)])  # fmt: skip


def kmeans(z: Tensor, n_clusters: int, n_init: int, seed: int) -> tuple[Tensor, Tensor]:
    """Centres (K, m) and labels (n,) of scikit-learn's k-means on codes ``z``."""
    km = KMeans(n_clusters, n_init=n_init, random_state=seed).fit(z.cpu().numpy())
    mu = torch.as_tensor(km.cluster_centers_, dtype=z.dtype, device=z.device)
    return mu, torch.as_tensor(km.labels_, device=z.device)


def pretrained(
    X: Tensor, cfg: _AEConfig, seed: int, pretrain: Callable | None = None,
    conv: str | None = None,
) -> tuple[Autoencoder, History]:  # fmt: skip
    """A fresh autoencoder for ``cfg``, pretrained on ``X`` (or by ``pretrain``),
    initialised and trained with ``seed`` unless ``cfg.pretrain.seed`` fixes one.

    Images get the ``conv`` autoencoder (``"dcss"`` or ``"dssl"``) when one is named,
    everything else the MLP with ``cfg.hidden``. ``pretrain(model, X, cfg, seed)``
    lets a caller substitute a cached run (``dclib.runs.cached_pretraining``).
    """
    seed = seed if cfg.pretrain.seed is None else cfg.pretrain.seed
    torch.manual_seed(seed)
    image = tuple(X.shape[1:]) if X.ndim == 4 else None
    kind = conv if conv is not None and image is not None else "mlp"
    latent = cfg.latent_dim or (10 if image is not None else 20)  # DCSS §6 when None
    model = autoencoder_for(image, X[0].numel(), latent, kind, cfg.hidden)
    model = model.to(X.device)
    run = pretrain or (lambda m, x, c, s: pretrain_autoencoder(m, x, c, seed=s))
    return model, run(model, X, cfg.pretrain, seed)


def label_monitor(y_monitor) -> Callable[[Tensor], dict[str, float]]:
    """ACC/NMI of labels against ``y_monitor`` for the history; empty without it."""
    if y_monitor is None:
        return lambda labels: {}
    y = np.asarray(y_monitor)
    return lambda labels: {
        "acc": metrics.acc(y, labels.cpu().numpy()),
        "nmi": metrics.nmi(y, labels.cpu().numpy()),
    }


def make_result(
    model: nn.Module, X: Tensor, mu: Tensor, q: Tensor | None, labels: Tensor,
    *stages: History, mnet: nn.Module | None = None, z: Tensor | None = None,
) -> ClusteringResult:  # fmt: skip
    """Package a fit; the i-th history in ``stages`` becomes the records of stage i.
    ``z`` defaults to the codes of ``model`` (an ``Autoencoder``)."""
    records = [r | {"stage": i} for i, h in enumerate(stages) for r in h.records]
    return ClusteringResult(
        labels_=labels.cpu().numpy().astype(np.int64),
        z_=(encode(model, X) if z is None else z).cpu().numpy(),
        mu_=mu.detach().cpu().numpy(),
        q_=None if q is None else q.detach().cpu().numpy(),
        history_=records,
        model_=model,
        mnet_=mnet,
    )


def prepare(X, cfg, seed, device, pretrain, conv=None):
    """Data on the device, the pretrained AE and k-means' centres and labels."""
    device = pick_device(device)
    X = as_tensor(X, device, cfg.n_clusters)
    model, pre = pretrained(X, cfg, seed, pretrain, conv)
    mu, labels = kmeans(encode(model, X), cfg.n_clusters, cfg.n_init, seed)
    return X, model, pre, mu, labels


# --- the methods -------------------------------------------------------------------


def fit_ae_kmeans(
    X, cfg: AEKMeansConfig = AEKMeansConfig(), *, seed: int = 0,
    device: str = "auto", y_monitor=None, pretrain: Callable | None = None,
) -> ClusteringResult:  # fmt: skip
    """AE + k-means: k-means (``n_init`` restarts) on a pretrained AE's codes."""
    conv = None if cfg.autoencoder == "mlp" else cfg.autoencoder
    X, model, pre, mu, labels = prepare(X, cfg, seed, device, pretrain, conv)
    hist = History()
    hist.append(epoch=0, **label_monitor(y_monitor)(labels))
    return make_result(model, X, mu, None, labels, pre, hist)


def fit_dec(
    X, cfg: DECConfig = DECConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """DEC, or IDEC when ``cfg.gamma`` is set (``IDECConfig``).

    Every ``update_interval`` iterations the Student-t assignments Q of the whole
    dataset give a new target P (DEC eq. 3) and new labels argmax Q; training stops
    once fewer than ``tol`` of the labels changed. Each batch minimises KL(P || Q)
    (DEC eq. 2), plus for IDEC the reconstruction MSE: L = L_r + gamma L_c.
    """
    X, model, pre, mu0, labels = prepare(X, cfg, seed, device, pretrain)
    centres = nn.ParameterDict({"mu": nn.Parameter(mu0)})
    idec = cfg.gamma is not None
    params = [*(model.parameters() if idec else model.encoder.parameters()),
              *centres.parameters()]  # fmt: skip
    opt = (torch.optim.Adam(params, lr=cfg.lr) if idec
           else torch.optim.SGD(params, lr=cfg.lr, momentum=0.9))  # fmt: skip
    s = TensorState(iteration=0, labels=labels, p=None, converged=False)
    monitor = label_monitor(y_monitor)

    def refresh() -> None:
        q = Fn.student_t_assignment(encode(model, X), centres["mu"].detach(), cfg.alpha)
        new = q.argmax(1)
        s.converged = s.p is not None and (new != s.labels).float().mean() < cfg.tol
        s.p, s.labels = Fn.target_distribution(q), new

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if s.iteration % cfg.update_interval == 0:
            refresh()
            if s.converged:
                return {}
        s.iteration += 1
        model.train()
        z = model.encode(x)
        q = Fn.student_t_assignment(z, centres["mu"], cfg.alpha)
        loss_c = Fn.kl_clustering_loss(s.p[idx], q)
        if idec:
            loss = cfg.gamma * loss_c + F.mse_loss(model.decode(z).reshape(x.shape), x)
        else:
            loss = loss_c
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "kl": loss_c.item()}

    hist = fit_epochs(
        step, X, n_epochs=cfg.n_epochs, batch_size=cfg.batch_size, seed=seed,
        state={"model": model, "centres": centres, "opt": opt, "s": s},
        on_epoch=lambda e: monitor(s.labels), stop=lambda: s.converged,
        desc="IDEC" if idec else "DEC", checkpoint=checkpoint,
        config=dataclasses.asdict(cfg),
    )  # fmt: skip
    q = Fn.student_t_assignment(encode(model, X), centres["mu"].detach(), cfg.alpha)
    return make_result(model, X, centres["mu"], q, q.argmax(1), pre, hist)


def _sum_mse(x_hat: Tensor, x: Tensor) -> Tensor:
    """||x - x_hat||^2 summed over features, averaged over the batch (DCN, DKM)."""
    return (x_hat - x).pow(2).flatten(1).sum(1).mean()


def fit_dcn(
    X, cfg: DCNConfig = DCNConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """DCN: per batch, one network step on ||x - g(f(x))||^2 + lambda/2 ||f(x) -
    mu_s||^2 with the nearest centres s fixed (eq. 5), then new assignments (eq. 6)
    and count-based centre updates (eq. 7) from the updated codes."""
    X, model, pre, mu0, labels = prepare(X, cfg, seed, device, pretrain)
    # c_k starts at the size of k-means' cluster k, so early samples move mu_k little
    counts = torch.bincount(labels, minlength=cfg.n_clusters).to(mu0.dtype)
    s = TensorState(mu=mu0, counts=counts)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    monitor = label_monitor(y_monitor)

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

    hist = fit_epochs(
        step, X, n_epochs=cfg.n_epochs, batch_size=cfg.batch_size, seed=seed,
        state={"model": model, "opt": opt, "s": s},
        on_epoch=lambda e: monitor(nearest(encode(model, X))), desc="DCN",
        checkpoint=checkpoint, config=dataclasses.asdict(cfg),
    )  # fmt: skip
    return make_result(model, X, s.mu, None, nearest(encode(model, X)), pre, hist)


def fit_dkm(
    X, cfg: DKMConfig = DKMConfig(), *, seed: int = 0, device: str = "auto",
    y_monitor=None, pretrain: Callable | None = None, checkpoint=None,
) -> ClusteringResult:  # fmt: skip
    """DKM: ||x - x_hat||^2 + lambda sum_k ||z - r_k||^2 softmax_k(-alpha ||z -
    r_k||^2) (eq. 4), network and centres r trained jointly by Adam; alpha follows
    ``dkm_alphas`` for ``epochs_per_alpha`` epochs each (or stays at
    ``constant_alpha``); label = nearest centre."""
    X, model, pre, mu0, _ = prepare(X, cfg, seed, device, pretrain)
    centres = nn.ParameterDict({"mu": nn.Parameter(mu0)})
    opt = torch.optim.Adam([*model.parameters(), *centres.parameters()], lr=cfg.lr)
    alphas = (Fn.dkm_alphas(cfg.n_alphas) if cfg.constant_alpha is None
              else [cfg.constant_alpha])  # fmt: skip
    s = TensorState(epoch=0)
    monitor = label_monitor(y_monitor)

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

    def on_epoch(epoch: int) -> dict[str, float]:
        s.epoch = epoch + 1
        return monitor(labels())

    hist = fit_epochs(
        step, X, n_epochs=cfg.n_epochs, batch_size=cfg.batch_size, seed=seed,
        state={"model": model, "centres": centres, "opt": opt, "s": s},
        on_epoch=on_epoch, desc="DKM", checkpoint=checkpoint,
        config=dataclasses.asdict(cfg),
    )  # fmt: skip
    return make_result(model, X, centres["mu"], None, labels(), pre, hist)


METHODS: dict[str, tuple[Callable[..., ClusteringResult], type]] = {
    "ae_kmeans": (fit_ae_kmeans, AEKMeansConfig),
    "dec": (fit_dec, DECConfig),
    "idec": (fit_dec, IDECConfig),
    "dcn": (fit_dcn, DCNConfig),
    "dkm": (fit_dkm, DKMConfig),
}
"""name -> (fit function, config class)"""

__all__ = [
    "METHODS",
    "AEKMeansConfig",
    "ClusteringResult",
    "DCNConfig",
    "DECConfig",
    "DKMConfig",
    "IDECConfig",
    "fit_ae_kmeans",
    "fit_dcn",
    "fit_dec",
    "fit_dkm",
]
