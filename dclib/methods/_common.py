"""The method kit's common part: what every method shares.

- ``FitContext``: the run controls every ``fit`` takes (seed, device, monitor labels
  and a monitor hook, a pretraining substitute, a checkpoint, a trained start), so
  that all methods have one signature, ``fit(X, cfg, ctx) -> ClusteringResult``;
- ``Method``: a registry record naming a method's fit, config and paper;
- ``AEConfig``: the config fields every autoencoder-based method shares;
- ``prepare``: data on the device, the pretrained autoencoder, k-means' centres;
- ``make_result``: a fit packaged as a ``ClusteringResult`` whose history records
  name their stage;
- ``label_monitor``, ``monitor_check``, ``checkpoint_config``: the logging points
  where a fit scores ``y_monitor`` and calls ``FitContext.monitor``.

Paper files (``baselines``, ``dssl``, ``dcss``, ``dml``, ...) import from the kit
(this module, ``_fuzzy``) and never from each other.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import Tensor, nn

from dclib import metrics
from dclib.diagnostics import Check, Epoch, MethodLoss, Monitor
from dclib.models import (
    Autoencoder,
    autoencoder_for,
    check_precision,
    set_precision,
)
from dclib.pretrain import PretrainConfig, pretrain_autoencoder
from dclib.repro import pick_device
from dclib.train import History, check_config, off_the_clock


@dataclass(frozen=True)
class ClusteringResult:
    """What every method returns (scikit-learn names: fitted values end in ``_``)."""

    labels_: np.ndarray
    """(n,) int64 cluster of each sample, from the last iterate"""
    z_: np.ndarray
    """(n, m) latent codes after training"""
    mu_: np.ndarray
    """(K, m) cluster centres in the latent space"""
    q_: np.ndarray | None
    """(n, K) soft assignments where the method has them"""
    history_: list[dict[str, Any]]
    """per-epoch logs, each naming its ``stage`` ("pretrain", "cluster"; DCSS:
    "phase1", "phase2")"""
    model_: nn.Module
    """the trained autoencoder (its encoder maps new data to the latent space); DML:
    its ``MultiAutoencoder``"""
    heads_: dict[str, nn.Module] = dataclasses.field(default_factory=dict)
    """the trained networks beyond the autoencoder, by name, that map its codes to
    the output (DCSS: ``"mnet"``, MNet u -> q); empty for most methods"""

    def stage(self, name: str) -> list[dict[str, Any]]:
        """The history records of one stage."""
        return stage_records(self.history_, name)


def stage_records(history: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The records of ``history`` whose ``stage`` is ``name``."""
    return [r for r in history if r.get("stage") == name]


Start = tuple[nn.Module, np.ndarray]
"""A trained model and its centres (K, m): where DCSS phase 2 and DML begin."""


@dataclass(frozen=True)
class FitContext:
    """The run controls of one ``fit``: everything but the data and the config."""

    seed: int = 0
    """seeds the initialisation, the batch order and every random draw"""
    device: str | torch.device = "auto"
    y_monitor: Any = None
    """true labels, read only to log ACC/NMI per epoch; training never sees them"""
    pretrain: Callable | None = None
    """``pretrain(model, X, pretrain_cfg, seed) -> History`` replacing the
    autoencoder's pretraining (the run cache's shared, cached pretraining)"""
    checkpoint: str | os.PathLike | None = None
    """path of a per-epoch checkpoint from which an interrupted fit resumes"""
    start: Start | None = None
    """a trained autoencoder and centres to continue from (DCSS phase 2, DML)"""
    monitor: Monitor | None = None
    """the hook called at the logging points with ``y_monitor`` (each monitored
    epoch, each target refresh or check), which adds keys to their records
    (``diagnostics.Monitor``; ``diagnostics.Diagnostics``: Feature Randomness and
    Drift, ID, LID, twist, the atlas); never feeds training"""
    precision: str = "fp32"
    """how the networks compute (``models.PRECISIONS``): "bf16" runs their layers in
    bfloat16 with fp32 weights and losses (``models.Network``), 1.9× as fast for
    the MLP autoencoder on a CPU with AVX-512 BF16; a run control like ``device``,
    not a hyperparameter: the committed reference is fp32"""

    def __post_init__(self) -> None:
        check_precision(self.precision)

    def part(self, name: str) -> FitContext:
        """This context for one part of a multi-stage fit: its own checkpoint file."""
        ckpt = None if self.checkpoint is None else f"{self.checkpoint}.{name}"
        return dataclasses.replace(self, checkpoint=ckpt)


Fit = Callable[[Any, Any, FitContext], ClusteringResult]


@dataclass(frozen=True)
class Method:
    """A registry record: one named method."""

    name: str
    fit: Fit
    config: type
    paper: str
    """the paper that defines it (a key of ``paper_tables.PAPER_LABELS``, or
    "baselines")"""
    summary: str
    needs_start: bool = False
    """True: ``ctx.start`` (a trained model and centres) is required"""
    preset: Callable[..., Any] | None = None
    """builds the default config from keyword fields (default: ``config``)"""
    kmeans_labels: bool = False
    """True: the final labels are one k-means draw on the final codes, so that
    ``cache.cluster`` reports the spread of ``KMEANS_SEEDS`` draws beside them"""

    def make_config(self, **fields: Any) -> Any:
        """The method's default config with ``fields`` set."""
        return (self.preset or self.config)(**fields)


AUTOENCODERS = ("mlp", "dcss", "dssl")
"""the autoencoders a method can run on (``models.autoencoder_for``)"""


@dataclass(frozen=True)
class AEConfig:
    """What every autoencoder-based method shares: K, the autoencoder, its
    pretraining and the k-means initialisation."""

    n_clusters: int = 10
    autoencoder: str = "mlp"
    """"mlp" (d-``hidden``-m), or the conv AE "dcss" / "dssl" for 28x28 and 16x16
    images; feature vectors always get the MLP"""
    latent_dim: int = 10
    hidden: tuple[int, ...] = (500, 500, 2000)
    """MLP widths d-500-500-2000-m (DEC §4.3)"""
    pretrain: PretrainConfig = PretrainConfig(n_epochs=200)
    """end-to-end reconstruction (DCSS/DML do not say how long; 200 epochs)"""
    n_init: int = 10
    """k-means restarts for the initial centres"""

    def __post_init__(self) -> None:
        check_config(self)
        after = getattr(super(), "__post_init__", None)  # a mixin's checks (fuzzy)
        if after is not None:
            after()
        if self.autoencoder not in AUTOENCODERS:
            raise ValueError(
                f"autoencoder must be one of {AUTOENCODERS}, got {self.autoencoder!r}"
            )

    def latent_size(self, images: bool) -> int:
        """The latent dimension for images or feature vectors."""
        return self.latent_dim


def iteration_epochs(max_iter: int, n: int, batch_size: int, cap: int | None) -> int:
    """Epochs of ``n`` samples that hold ``max_iter`` iterations of ``batch_size``, or
    ``cap`` when that is fewer (the methods that count iterations: DEC, DynAE)."""
    needed = math.ceil(max_iter / math.ceil(n / batch_size))
    return needed if cap is None else min(needed, cap)


MAX_INPUT = 1e12
"""the largest absolute input value accepted: float32 squares overflow near 1.8e38,
and a network's activations and k-means' squared distances grow faster than the
input"""


def as_tensor(X, device: torch.device, n_clusters: int | None = None) -> Tensor:
    """Validate data (and ``n_clusters`` for it) and move it to ``device`` once."""
    if isinstance(X, Tensor):
        X = X.detach().to(device=device, dtype=torch.float32)
    else:
        X = np.asarray(X, dtype=np.float32)
        if not X.flags.writeable:  # pandas' copy-on-write views: torch warns
            X = X.copy()
        X = torch.as_tensor(X, device=device)
    if X.ndim not in (2, 4):
        raise ValueError(
            f"X must be (n, d) or (n, C, H, W), got shape {tuple(X.shape)}"
        )
    if not torch.isfinite(X).all():
        raise ValueError("X holds NaN or inf")
    if X.numel() and X.abs().max() > MAX_INPUT:
        raise ValueError(
            f"X's values reach {X.abs().max().item():.3g}: scale the data (the "
            f"papers' images lie in [0, 1]); above {MAX_INPUT:g} the squared "
            "distances of float32 overflow"
        )
    if n_clusters is not None and not 2 <= n_clusters <= X.shape[0]:
        raise ValueError(
            f"need 2 <= n_clusters <= n, got n_clusters={n_clusters} "
            f"for {X.shape[0]} sample(s)"
        )
    return X


def batched(fn: Callable[[Tensor], Tensor], X: Tensor, batch_size: int = 1024):
    """``fn`` applied to ``X`` in batches in inference mode (no autograd records,
    no version counters), concatenated."""
    with torch.inference_mode():
        parts = [fn(X[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)]
    return torch.cat(parts)


def encode(model: Autoencoder, X: Tensor, batch_size: int = 1024) -> Tensor:
    """Latent codes of all of ``X`` in eval mode, in batches, without gradients."""
    model.eval()
    return batched(model.encode, X, batch_size)


def kmeans(z: Tensor, n_clusters: int, n_init: int, seed: int) -> tuple[Tensor, Tensor]:
    """Centres (K, m) and labels (n,) of scikit-learn's k-means on codes ``z``."""
    km = KMeans(n_clusters, n_init=n_init, random_state=seed).fit(z.cpu().numpy())
    mu = torch.as_tensor(km.cluster_centers_, dtype=z.dtype, device=z.device)
    return mu, torch.as_tensor(km.labels_, device=z.device)


KMEANS_SEEDS = 10
"""k-means draws behind every spread: one draw moves ACC by up to 5 points on the
same codes (Fashion-MNIST 70k: 50.9-55.9 %)"""


def kmeans_spread(
    z: Tensor, y: np.ndarray, n_clusters: int, n_init: int, seeds: int = KMEANS_SEEDS
) -> dict[str, float]:
    """ACC and NMI of k-means on the codes ``z`` over ``seeds`` draws (seeds 0, 1,
    ...; ``n_init`` restarts each, the protocol's): their mean, standard deviation,
    minimum and maximum (``kmeans_acc_mean``, ``kmeans_acc_sd``, ...). Reads the
    true labels ``y``: for logs and tables only, never for training."""
    scores: dict[str, list[float]] = {"acc": [], "nmi": []}
    with off_the_clock():
        for seed in range(seeds):
            found = kmeans(z, n_clusters, n_init, seed)[1].cpu().numpy()
            scores["acc"].append(metrics.acc(y, found))
            scores["nmi"].append(metrics.nmi(y, found))
    out = {}
    for name, v in scores.items():
        a = np.array(v)
        out |= {
            f"kmeans_{name}_mean": float(a.mean()),
            f"kmeans_{name}_sd": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
            f"kmeans_{name}_min": float(a.min()),
            f"kmeans_{name}_max": float(a.max()),
        }
    return out


def pretrained(
    X: Tensor, cfg: AEConfig, ctx: FitContext
) -> tuple[Autoencoder, History]:
    """A fresh autoencoder for ``cfg``, pretrained on ``X`` (or by ``ctx.pretrain``),
    initialised and trained with ``ctx.seed`` unless ``cfg.pretrain.seed`` fixes one.
    """
    seed = ctx.seed if cfg.pretrain.seed is None else cfg.pretrain.seed
    torch.manual_seed(seed)
    image = tuple(X.shape[1:]) if X.ndim == 4 else None
    kind = cfg.autoencoder if image is not None else "mlp"
    latent = cfg.latent_size(image is not None)
    model = autoencoder_for(image, X[0].numel(), latent, kind, cfg.hidden)
    model = model.to(X.device)
    set_precision(model, ctx.precision)
    run = ctx.pretrain or (lambda m, x, c, s: pretrain_autoencoder(m, x, c, seed=s))
    return model, run(model, X, cfg.pretrain, seed)


def label_monitor(
    ctx: FitContext, X: Tensor | None = None, model: nn.Module | None = None
) -> Callable[[Tensor], dict[str, float]]:
    """Scores of labels against ``ctx.y_monitor`` for the history (empty without
    it): ACC and NMI, then what ``ctx.monitor.epoch`` adds, handed ``model`` (as it
    is when the scores are taken), ``X`` and the labels (``diagnostics.Diagnostics``:
    the atlas)."""
    if ctx.y_monitor is None:
        return lambda labels: {}
    y = np.asarray(ctx.y_monitor)
    hook = ctx.monitor if model is not None and X is not None else None

    @off_the_clock()
    def scores(labels: Tensor) -> dict[str, float]:
        found = labels.cpu().numpy()
        out = {"acc": metrics.acc(y, found), "nmi": metrics.nmi(y, found)}
        if hook is not None:
            hook.epoch(out, Epoch(model, X, found, y, ctx.seed))
        return out

    return scores


def monitor_check(
    ctx: FitContext,
    record: dict[str, Any],
    z: Tensor,
    labels: Tensor,
    loss: MethodLoss | None = None,
) -> None:
    """Hand a target refresh's or check's ``record`` to ``ctx.monitor.check`` with
    the codes ``z``, the labels, ``ctx.y_monitor`` and the method's ``loss``, off the
    clock; nothing without a monitor or ``y_monitor``."""
    if ctx.monitor is None or ctx.y_monitor is None:
        return
    with off_the_clock():
        y = np.asarray(ctx.y_monitor)
        ctx.monitor.check(record, Check(z, labels, y, loss))


def checkpoint_config(cfg: Any, ctx: FitContext) -> dict[str, Any]:
    """The config a checkpoint records (``train.fit_epochs``) for a method whose
    checks the monitor logs at: ``cfg``'s fields and ``"diagnostics"``, whether
    ``ctx.monitor`` adds keys to the checks (``Monitor.at_checks``)."""
    logs = ctx.monitor is not None and ctx.monitor.at_checks
    return dataclasses.asdict(cfg) | {"diagnostics": logs}


def make_result(
    model: nn.Module,
    X: Tensor,
    mu: Tensor,
    q: Tensor | None,
    labels: Tensor,
    stages: dict[str, History],
    **extra: Any,
) -> ClusteringResult:
    """Package a fit; each record of ``stages[name]`` gets ``stage = name``. ``extra``
    sets ``z`` (default: the codes of ``model``, an ``Autoencoder``) and ``heads``
    (``ClusteringResult.heads_``)."""
    z = extra.pop("z", None)
    z = (encode(model, X) if z is None else z).detach().cpu().numpy()
    q = None if q is None else q.detach().cpu().numpy()
    mu = mu.detach().cpu().numpy()
    for what, values in (("codes", z), ("centres", mu), ("soft assignments", q)):
        if values is not None and not np.isfinite(values).all():
            raise FloatingPointError(
                f"the run diverged: its final {what} hold NaN or inf (the loss stayed "
                "finite); lower the learning rate, or scale the data to [0, 1]"
            )
    records = [r | {"stage": name} for name, h in stages.items() for r in h.records]
    return ClusteringResult(
        labels_=labels.cpu().numpy().astype(np.int64),
        z_=z,
        mu_=mu,
        q_=q,
        history_=records,
        model_=model,
        heads_=extra.pop("heads", {}),
    )


def prepare(X, cfg: AEConfig, ctx: FitContext):
    """Data on the device, the pretrained AE (or a copy of ``ctx.start``'s trained
    one: a method continuing another, R-DC Table 8's P3 after P2), its history and
    k-means' centres and labels on its codes."""
    if ctx.start is not None:
        X, model, _ = start_on(X, cfg.n_clusters, ctx)
        pre = History()
    else:
        X = as_tensor(X, pick_device(ctx.device), cfg.n_clusters)
        model, pre = pretrained(X, cfg, ctx)
    z = encode(model, X)
    if not torch.isfinite(z).all():
        raise FloatingPointError(
            "the pretrained autoencoder's codes hold NaN or inf: its pretraining "
            f"diverged (pretrain.lr {cfg.pretrain.lr:g}, inputs up to "
            f"{X.abs().max().item():.3g}); lower pretrain.lr or scale the data to "
            "[0, 1]"
        )
    mu, labels = kmeans(z, cfg.n_clusters, cfg.n_init, ctx.seed)
    return X, model, pre, mu, labels


def start_on(X, n_clusters: int, ctx: FitContext) -> tuple[Tensor, nn.Module, Tensor]:
    """Data, a copy of the model and the centres of ``ctx.start`` on the device,
    checked against K."""
    if ctx.start is None:
        raise ValueError("this method continues a trained model: pass ctx.start")
    device = pick_device(ctx.device)
    X = as_tensor(X, device, n_clusters)
    model, mu = ctx.start
    mu = torch.as_tensor(mu, dtype=torch.float32, device=device)
    if mu.shape[0] != n_clusters:
        raise ValueError(f"start has {mu.shape[0]} centres, cfg {n_clusters}")
    model = copy.deepcopy(model).to(device)  # the caller's model stays as it was
    set_precision(model, ctx.precision)
    return X, model, mu
