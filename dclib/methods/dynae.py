"""DynAE: deep clustering with a dynamic autoencoder (Mrabah et al., Neural Networks
2020), and its ablation DC*.

Pretraining (§4.1): reconstruction of randomly shifted and rotated images with the
ACAI critic game (eq. 6-7). Clustering (§4.2): k-means centres on the codes; every
batch, the samples whose Student-t assignment (eq. 4) is confident (eq. 13: top
assignment h_i1 >= beta1 and gap h_i1 - h_i2 >= beta2) are *constructed* (the
decoder outputs their centroid image, eq. 9) and *pulled* to their centre in the
latent space (eq. 12); the conflicted ones (eq. 8) are reconstructed. Every
``update_interval`` iterations the conflicted share tau (eq. 11) is measured: when
the number of conflicted samples stopped decreasing, the centres are recomputed and
the thresholds lowered; training ends when tau < ``tol`` (§4.3) or after
``max_iter`` iterations. Labels: argmax q.

DC* (§5.2.3) is the same network and pretraining trained on reconstruction plus
embedded k-means (``dynamic=False``). DEC* and IDEC* are DEC and IDEC on DynAE's
pretraining (``recipes``). Book page: notebooks/06_dynae.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from dclib import diagnostics, metrics
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
    kmeans_spread,
    label_monitor,
    make_result,
    monitor_check,
    prepare,
)
from dclib.methods._targets import (
    START_NEIGHBOURS,
    Centroids,
    assigned,
    centroids,
    l1_weight,
    phase_start,
    target_losses,
)
from dclib.pretrain import PretrainConfig
from dclib.train import (
    History,
    TensorState,
    fit_epochs,
    gradient_step,
    make_optimizer,
    off_the_clock,
)

ACAI_PRETRAIN = PretrainConfig(
    n_epochs=475, lr=1e-4, augment=True, acai_lambda=0.5, recon_sum=True
)
"""DynAE §4.1 and §5.1.3: reconstruction of augmented images with the ACAI critic
(eq. 6-7: lambda = 0.5, alpha ~ U(0, 1), the squared error summed over each image's
pixels), Adam 1e-4, batch 256, 13·10^4 iterations: 475 epochs of 70,000 images (we
count epochs on every dataset)"""

BETA_UPDATES = ("eq10", "code")


@dataclass(frozen=True)
class DynAEConfig(AEConfig):
    """DynAE's hyperparameters: the paper's values (§5.1.3) by default.

    ``official_code()`` gathers the code's departures (official-code notes §4.3).
    """

    pretrain: PretrainConfig = ACAI_PRETRAIN
    alpha: float = 1.0
    """Student-t degrees of freedom (eq. 4)"""
    kappa: float | None = None
    """confidence threshold kappa of eq. 10; None: 0.3 K (§5.1.3)"""
    kappa_drop: float = 0.3
    """the dropping rate: Delta kappa = 0.3 kappa (§5.1.3)"""
    beta_update: str = "eq10"
    """how the thresholds drop at a centre update. "eq10": kappa -= Delta kappa, then
    beta1 = kappa / K and beta2 = beta1 / 2 again (eq. 10 keeps holding; our reading
    of §4.2.1); "code": beta1 and beta2 both lowered by Delta kappa / K, then
    Delta kappa = 0.3 kappa and kappa = Delta kappa (beta2 turns negative)"""
    lr: float = 1e-3
    """SGD learning rate, momentum 0.9 (§5.1.3)"""
    batch_size: int = 256
    update_interval: int = 140
    """iterations between two measurements of tau and the centre-update test (the
    code's ``validate_interval``; the paper gives none)"""
    tol: float = 0.01
    """stop when tau < tol (§4.3: 1 %)"""
    max_iter: int = 100_000
    """MaxIter (§5.1.3)"""
    n_epochs: int | None = None
    """None: as many epochs as ``max_iter`` iterations take; a profile caps it"""
    gamma: float = 1.0
    """the balance of Fig. 13 (§5.2.4): L = 2 / (1 + gamma) (L1 + gamma L2); 1 is eq.
    14's "hyperparameter-free" L1 + L2. The factor 2 / (1 + gamma), 1 at gamma = 1,
    keeps the step's scale while gamma moves weight from one term to the other, so
    that a sweep of gamma at the paper's learning rate measures the balance, not the
    step size"""
    output_weight: float | None = None
    """factor on L1. None: d / m (784 / 10 = 78.4 for 28 x 28 images and 10-d
    codes), which with ``per_element`` makes the objective eq. 14's L1 + L2 in the
    paper's units (eq. 9 and 12: squared norms per image, d and m times the
    element-wise means) divided by m: the paper's balance at the paper's learning
    rate in its implementation's units. The code: 100. Chosen without labels, from
    the start record (mnist5k, quick pretraining, seed 0): at output weight 1 the
    pull's gradient at the codes is 26 times the construction's (0.0157 against
    0.0006), where the paper's units make it a third of it; at d / m the two stand
    as in eq. 14"""
    per_element: bool = True
    """True: L1 and L2 as element-wise mean squared errors, as TensorFlow's MSE in
    the paper's implementation computes them: the units of its SGD learning rate
    (1e-3, momentum 0.9). False: squared norms per sample averaged over the batch,
    as eq. 9 and 12 are written, d = 784 (L1) and m = 10 (L2) times larger on 28 x
    28 images: at the paper's learning rate, steps 78 to 784 times longer (measured
    on the full Fashion-MNIST: tau 34 % -> 1 % within 140 iterations, the codes on a
    line)"""
    augment: bool = True
    """random shifts and rotations of the network's input (§4.2.3)"""
    augment_targets: bool = True
    """True: the decoder's targets (the sample itself, or its centroid image) undergo
    the same shift and rotation as its input, as in the pretraining, which
    reconstructs the augmented image (§4.2: "similar to the pretraining phase, the
    loss function L is regularized by data augmentation"). False: the network maps
    an augmented input to the clean target (the code). Chosen from the text and a
    label-free check, the start record's L1 against the pretraining's last loss
    (mnist5k, quick pretraining, seed 0: the pretraining ends at 21.7 per image; the
    first batch's L1 is 23.0 with augmented targets, 51.2 with clean ones: the clean
    targets start the phase on an objective the network was never trained for)"""
    dynamic: bool = True
    """False: DC* (§5.2.3), every sample reconstructed and pulled to its nearest
    centre, new k-means centres at every check, stop when fewer than ``tol`` of the
    samples changed cluster between checks (``metrics.label_change``: each k-means
    run numbers its clusters anew; the record's ``changed``)"""
    strict: bool = False
    """True: the code's h_i1 > beta1 and gap > beta2 instead of eq. 13's >="""
    pull_conflicted: bool = False
    """True: conflicted samples are pulled to their own clean code (the code's
    augmentation-consistency term); the paper leaves them out of L2"""
    centre_codes: str = "kmeans"
    """"kmeans": the k-means means are the centres (§4.2); "nearest": the code of the
    nearest real sample to each mean (the code)"""
    centre_images: str = "nearest"
    """"nearest": the nearest real sample's image is the centroid image (§4.2.1);
    "decoded": the decoded centre code (the code)"""
    shuffle: bool = True
    """False: the same sequential batches every epoch (the code)"""
    final_kmeans: bool = False
    """True: labels from k-means on the final codes (the official notebook's last
    cell) instead of argmax q"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta_update not in BETA_UPDATES:
            raise ValueError(
                f"beta_update must be one of {BETA_UPDATES}, got {self.beta_update!r}"
            )
        if not 0 < self.kappa_drop < 1:  # update_interval >= 1: check_config
            raise ValueError(f"need 0 < kappa_drop < 1, got {self.kappa_drop}")
        bad_weight = self.output_weight is not None and not self.output_weight > 0
        if not self.gamma >= 0 or bad_weight:
            raise ValueError(
                f"need gamma >= 0 and output_weight > 0, got {self.gamma}, "
                f"{self.output_weight}"
            )

    @classmethod
    def official_code(cls, **fields: Any) -> DynAEConfig:
        """The official code's departures (notes §4.2-4.3): a frozen critic and the
        element-wise mean in pretraining, gamma = 100 on the output term, both
        thresholds lowered by the same amount, the conflicted samples pulled to
        their own code, strict inequalities, centres and centroid images from the
        nearest sample's code, unshuffled batches."""
        code = {
            "pretrain": dataclasses.replace(
                ACAI_PRETRAIN, critic_trainable=False, recon_sum=False
            ),
            "output_weight": 100.0,
            "beta_update": "code",
            "pull_conflicted": True,
            "strict": True,
            "centre_codes": "nearest",
            "centre_images": "decoded",
            "shuffle": False,
            "augment_targets": False,
        }
        return cls(**(code | fields))

    def loss_weights(self, d: int, m: int) -> dict[str, float]:
        """The factors on L1 ("self") and L2 ("pseudo") of the loss minimised on
        inputs of ``d`` features and codes of ``m``: ``output_weight`` (None: d / m)
        and ``gamma``, both times 2 / (1 + gamma) (eq. 14)."""
        scale = 2 / (1 + self.gamma)
        w = l1_weight(self.output_weight, d, m)
        return {"self": scale * w, "pseudo": scale * self.gamma}

    def initial_kappa(self) -> float:
        return 0.3 * self.n_clusters if self.kappa is None else self.kappa


def dc_star(**fields: Any) -> DynAEConfig:
    """DC* (DynAE §5.2.3): DynAE's network, pretraining and optimiser on joint
    reconstruction and embedded k-means, without the dynamics."""
    return DynAEConfig(**({"dynamic": False} | fields))


def lowered(cfg: DynAEConfig, s: TensorState) -> None:
    """Drop the thresholds once (§4.2.1), in place on ``s``."""
    k = cfg.n_clusters
    if cfg.beta_update == "eq10":
        s.kappa -= cfg.kappa_drop * s.kappa
        s.beta1, s.beta2 = Fn.confidence_thresholds(s.kappa, k)
    else:
        s.beta1 -= s.delta / k
        s.beta2 -= s.delta / k
        s.delta = cfg.kappa_drop * s.kappa
        s.kappa = s.delta


def subset_scores(
    y: np.ndarray, labels: np.ndarray, conflicted: np.ndarray
) -> dict[str, float]:
    """ACC and NMI of all samples (``acc``, ``nmi``) and of the conflicted and the
    unconflicted ones apart (``acc_conflicted``, ...; NaN for an empty set): DynAE
    Fig. 10. Each set is matched to the classes on its own."""
    out = {}
    for name, mask in (
        ("", np.ones_like(conflicted)),
        ("_conflicted", conflicted),
        ("_unconflicted", ~conflicted),
    ):
        some = bool(mask.any())
        nan = float("nan")
        out[f"acc{name}"] = metrics.acc(y[mask], labels[mask]) if some else nan
        out[f"nmi{name}"] = metrics.nmi(y[mask], labels[mask]) if some else nan
    return out


def fit_dynae(
    X, cfg: DynAEConfig = DynAEConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """DynAE (or DC* with ``dynamic=False``): see the module docstring.

    Besides the per-epoch ``cluster`` records, the history has one ``start`` record
    (``phase_start``: the codes' scale and the two losses' balance on the first batch,
    tau at the k-means centres and, with ``y_monitor``, the spread of k-means over
    ``KMEANS_SEEDS`` draws on the pretrained codes) and one ``checks``
    record per measurement (every ``update_interval`` iterations): the iteration,
    tau, the thresholds, whether the centres were renewed, and with ``y_monitor``
    the ACC/NMI of all, conflicted and unconflicted samples (Figs. 9-10), and what
    ``ctx.monitor.check`` adds, handed the codes, the labels and the loss
    (``diagnostics.Diagnostics``: Δ_FR and Δ_FD, Figs. 11-12).
    """
    X, model, pre, means, _ = prepare(X, cfg, ctx)
    n = len(X)
    kappa = cfg.initial_kappa()
    beta1, beta2 = Fn.confidence_thresholds(kappa, cfg.n_clusters)
    targets = centroids(
        model, X, encode(model, X), means, cfg.centre_codes, cfg.centre_images
    )
    opt = make_optimizer(model.parameters(), "sgd", cfg.lr)
    s = TensorState(
        iteration=0,
        codes=targets.codes,
        images=targets.images,
        beta1=beta1,
        beta2=beta2,
        kappa=kappa,
        delta=cfg.kappa_drop * kappa,
        n_conflicted=n + 1,
        labels=None,
        updates=0,
        done=False,
        checks=[],
    )
    y = None if ctx.y_monitor is None else np.asarray(ctx.y_monitor)
    weights = cfg.loss_weights(X[0].numel(), s.codes.shape[1])
    monitor = label_monitor(ctx, X, model)

    def selected(q: Tensor) -> Tensor:
        if not cfg.dynamic:
            return torch.ones(len(q), dtype=torch.bool, device=q.device)
        return Fn.unconflicted(q, s.beta1, s.beta2, cfg.strict)

    def batch_terms(x: Tensor, augment: bool) -> tuple[Tensor, Tensor, Tensor]:
        with torch.no_grad():
            z_clean = model.encode(x)
            q, k = assigned(z_clean, s.codes, cfg.alpha)
            sure = selected(q)
        construct = sure if cfg.dynamic else torch.zeros_like(sure)
        pull = sure | cfg.pull_conflicted
        code_target = torch.where(sure[:, None], s.codes[k], z_clean)
        return target_losses(
            model,
            x,
            s.images[k],
            construct,
            code_target,
            pull,
            augment,
            cfg.per_element,
            cfg.augment_targets,
        )

    def renew_centres(z: Tensor) -> None:
        """New centres from the codes ``z`` of the check that asked for them."""
        mu, _ = kmeans(z, cfg.n_clusters, cfg.n_init, ctx.seed + s.updates + 1)
        new: Centroids = centroids(model, X, z, mu, cfg.centre_codes, cfg.centre_images)
        s.codes, s.images, s.updates = new.codes, new.images, s.updates + 1

    def check(final: bool = False) -> None:
        z = encode(model, X)
        q, labels = assigned(z, s.codes, cfg.alpha)
        conflicted = ~selected(q)
        n_conf = int(conflicted.sum())
        record = {
            "iteration": s.iteration,
            "tau": Fn.share(conflicted),
            "beta1": s.beta1,
            "beta2": s.beta2,
        }
        if y is not None:
            with off_the_clock():
                found = labels.cpu().numpy()
                record |= subset_scores(y, found, conflicted.cpu().numpy())
                monitor_check(ctx, record, z, labels, method_loss())
        update = False
        if not final and cfg.dynamic:
            s.done = record["tau"] < cfg.tol
            update = s.iteration > 0 and n_conf >= s.n_conflicted and not s.done
        elif not final:
            if s.labels is not None:
                record["changed"] = metrics.label_change(s.labels, labels)
                s.done = record["changed"] < cfg.tol
            update = s.iteration > 0 and not s.done
        s.checks.append(record | {"centres_updated": float(update)})
        s.n_conflicted, s.labels = n_conf, labels
        if update:
            renew_centres(z)
            if cfg.dynamic:
                lowered(cfg, s)

    def method_loss() -> diagnostics.MethodLoss:
        """eq. 14's terms on unaugmented rows, towards the current centres"""

        def terms(idx: Tensor) -> dict[str, Tensor]:
            l1, l2, _ = batch_terms(X[idx.to(X.device)], augment=False)
            return {"self": l1, "pseudo": l2}

        return diagnostics.MethodLoss(
            terms,
            lambda idx: model.encode(X[idx.to(X.device)]),
            s.codes,
            list(model.encoder.parameters()),
            weights,
        )

    @off_the_clock()
    def epoch_scores() -> dict[str, float]:
        if y is None:
            return {}
        return monitor(assigned(encode(model, X), s.codes, cfg.alpha)[1])

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        if s.iteration % cfg.update_interval == 0:
            check()
            if s.done:
                return {}
        s.iteration += 1
        model.train()
        l1, l2, _ = batch_terms(x, cfg.augment)
        loss = diagnostics.weighted({"self": l1, "pseudo": l2}, weights)
        gradient_step(
            opt,
            loss,
            f"the loss diverged at iteration {s.iteration} (lr {cfg.lr:g}, "
            f"L1 weight {weights['self']:g}): scale the data to [0, 1] as the "
            "paper does, or lower them",
        )
        return {"loss": loss.item(), "l1": l1.item(), "l2": l2.item()}

    def start() -> dict[str, float]:
        z = encode(model, X)
        d, _ = Fn.neighbour_distances(z, START_NEIGHBOURS)
        record = phase_start(z, batch_terms(X[: cfg.batch_size], cfg.augment), d)
        record["tau"] = Fn.share(~selected(assigned(z, s.codes, cfg.alpha)[0]))
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
        on_epoch=lambda e: {"iteration": s.iteration} | epoch_scores(),
        stop=lambda: s.done or s.iteration >= cfg.max_iter,
        desc="DynAE" if cfg.dynamic else "DC*",
        checkpoint=ctx.checkpoint,
        config=checkpoint_config(cfg, ctx),
        shuffle=cfg.shuffle,
    )
    if not s.done:
        check(final=True)
    z = encode(model, X)
    q, labels = assigned(z, s.codes, cfg.alpha)
    codes = s.codes
    if cfg.final_kmeans:
        codes, labels = kmeans(z, cfg.n_clusters, 20, ctx.seed)
    stages = {
        "pretrain": pre,
        "start": History([first]),
        "cluster": hist,
        "checks": History(s.checks),
    }
    return make_result(model, X, codes, q, labels, stages, z=z)


METHODS = [
    Method(
        "dynae",
        fit_dynae,
        DynAEConfig,
        "dynae",
        "DynAE: from reconstruction to centroid construction (Mrabah et al., 2020)",
    ),
    Method(
        "dc_star",
        fit_dynae,
        DynAEConfig,
        "dynae",
        "DC*: DynAE's network and pretraining on reconstruction + embedded k-means",
        preset=dc_star,
    ),
]
"""the registry records of the DynAE paper"""

__all__ = [
    "ACAI_PRETRAIN",
    "METHODS",
    "DynAEConfig",
    "dc_star",
    "fit_dynae",
    "lowered",
]
