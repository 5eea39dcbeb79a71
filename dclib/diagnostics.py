"""Diagnostics of a training run that read the true labels: never part of training.

DynAE §3 measures two failure modes of deep clustering by gradient cosines on the
encoder's parameters, over the whole (unaugmented) dataset:

- Feature Randomness, eq. 1: Δ_FR = cos(∇ L(x, y_true), ∇ L(x, y_pseudo)): how far
  the method's gradient is from the gradient it would follow with the true labels.
  The supervised loss pulls each code towards the centre of its true class (the
  class's centre under the Hungarian matching of classes to clusters), as the DynAE
  code computes it (notes, addendum);
- Feature Drift, eq. 3: Δ_FD = cos(∇ L_pseudo, ∇ L_self): the competition between the
  pseudo-supervised and the self-supervised terms of a joint loss.

A method exposes its loss terms on a batch of row indices (``Terms``); the gradients
of their means over the dataset are accumulated in batches, so memory stays bounded
by the batch size. The diagnostics neither step an optimiser nor touch ``.grad``.

``Monitor`` is the fit contract's hook (``FitContext.monitor``): the methods call it
at their logging points, each epoch's scores (``Monitor.epoch``) and each target
refresh or check (``Monitor.check``), handing it what it measures; it adds keys to
the record. ``Diagnostics`` is the library's monitor: Δ_FR, Δ_FD, ID, LID and twist
at the checks, and the atlas (``atlas_point``) at every monitored epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from dclib.functional import running_mean_centres
from dclib.geometry import twist_record

BatchLoss = Callable[[Tensor], Tensor]
"""``loss(idx)``: a loss averaged over the samples ``idx`` (row indices)"""

Terms = Callable[[Tensor], dict[str, Tensor]]
"""``terms(idx)``: a method's loss terms on the samples ``idx``, averaged over them:
``"pseudo"`` and, for a joint loss, ``"self"``; the loss it minimises is their
weighted sum (``Weights``)"""

Weights = dict[str, float]
"""the weight of each term in the loss a method minimises (``{"pseudo": 1.0}``: the
pseudo-supervised term alone): its gradient is the weighted sum of the terms'
gradients, so it costs no backward pass of its own"""


def weighted(values: dict[str, Tensor], weights: Weights) -> Tensor:
    """sum of ``weights[name] * values[name]``: a method's loss from its terms, or
    that loss's gradient from the terms' gradients"""
    return sum(w * values[name] for name, w in weights.items())


def cosine(a: Tensor, b: Tensor) -> float:
    """cos(a, b) of two flat vectors; NaN (undefined) when either is zero, e.g. the
    pull loss's gradient while no sample is selected."""
    na, nb = a.norm(), b.norm()
    if na == 0 or nb == 0:
        return float("nan")
    return float(a @ b / (na * nb))


def dataset_gradients(
    terms: Terms, n: int, params: Sequence[nn.Parameter], batch_size: int = 1024
) -> dict[str, Tensor]:
    """The flattened gradient, with respect to ``params``, of each of ``terms``
    averaged over all ``n`` samples (batches weighted by their size)."""
    params = list(params)
    grads: dict[str, Tensor] = {}
    for lo in range(0, n, batch_size):
        idx = torch.arange(lo, min(lo + batch_size, n))
        values = terms(idx)
        w = len(idx) / n
        for name, loss in values.items():
            g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
            flat = torch.cat(
                [
                    (torch.zeros_like(p) if gi is None else gi).flatten()
                    for gi, p in zip(g, params, strict=True)
                ]
            )
            grads[name] = grads.get(name, 0) + w * flat
    return grads


def class_centres(y_true: np.ndarray, labels: np.ndarray, mu: Tensor) -> Tensor:
    """(n, m): for each sample, the centre of the cluster that its true class is
    matched to (Hungarian matching of classes to clusters on the current labels);
    classes left unmatched keep the centre of their most frequent cluster."""
    y = np.asarray(y_true)
    c = np.asarray(labels)
    k = max(int(y.max()), int(c.max()), mu.shape[0] - 1) + 1
    w = np.zeros((k, k), dtype=np.int64)
    np.add.at(w, (y, c), 1)
    rows, cols = linear_sum_assignment(-w)
    mapping = w.argmax(1)
    mapping[rows] = cols
    mapping = np.minimum(mapping, mu.shape[0] - 1)
    return mu[torch.as_tensor(mapping[y], device=mu.device)]


def feature_randomness_drift(
    terms: Terms,
    encode: Callable[[Tensor], Tensor],
    supervised_target: Tensor,
    params: Sequence[nn.Parameter],
    weights: Weights | None = None,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Δ_FR (DynAE eq. 1) and, when ``terms`` has a self- and a pseudo-supervised
    part, Δ_FD (eq. 3), on the encoder parameters ``params``.

    ``encode(idx)`` gives the codes of the samples ``idx`` (unaugmented);
    ``supervised_target`` (n, m) the true-class centres (``class_centres``): the
    supervised loss is their mean squared distance to the codes. ``weights``: the
    method's loss as a weighted sum of the terms (None: the pseudo term alone).
    """
    n = supervised_target.shape[0]

    def with_supervised(idx: Tensor) -> dict[str, Tensor]:
        idx_t = idx.to(supervised_target.device)
        sup = (encode(idx) - supervised_target[idx_t]).pow(2).mean()
        return terms(idx) | {"supervised": sup}

    g = dataset_gradients(with_supervised, n, params, batch_size)
    total = weighted(g, weights or {"pseudo": 1.0})
    out = {"fr": cosine(g["supervised"], total)}
    if "self" in g and "pseudo" in g:
        out["fd"] = cosine(g["pseudo"], g["self"])
    return out


def one_protocol(
    model: nn.Module,
    X: Tensor,
    labels: np.ndarray,
    y_true: np.ndarray,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Δ_FR and Δ_FD of any autoencoder and its clustering, by one loss for every
    method (the leaderboard's diagnostics atlas): the pseudo-supervised loss pulls
    each code to the mean code of its predicted cluster; the supervised one, the
    same loss with the true labels (as eq. 1 compares), to the mean code of its
    true class; the self-supervised one reconstructs. The centres are group means
    for every method, so that no method's own notion of a centre enters, and
    renaming the clusters changes nothing. Δ_FR = cos(∇ supervised, ∇ pseudo),
    Δ_FD = cos(∇ pseudo, ∇ self) (eq. 3), on the encoder's parameters over all of
    ``X``. A method's own loss may differ (DEC's KL, DynAE's construction):
    ``feature_randomness_drift`` measures that."""
    device = next(model.parameters()).device
    X = X.to(device)
    with torch.no_grad():
        parts = [
            model.encode(X[i : i + batch_size]) for i in range(0, len(X), batch_size)
        ]
        z = torch.cat(parts)

    def group_means(groups: np.ndarray) -> Tensor:
        """(n, m): each sample's group's mean code"""
        g = torch.as_tensor(np.asarray(groups), device=device)
        k = int(g.max()) + 1
        zeros = torch.zeros(k, z.shape[1], device=device)
        mu, _ = running_mean_centres(zeros, torch.zeros(k, device=device), z, g)
        return mu[g]

    pulled = group_means(labels)

    def terms(idx: Tensor) -> dict[str, Tensor]:
        x = X[idx.to(device)]
        z = model.encode(x)
        pseudo = (z - pulled[idx.to(device)]).pow(2).mean()
        recon = (model.decode(z).reshape(x.shape) - x).pow(2).mean()
        return {"pseudo": pseudo, "self": recon}

    return feature_randomness_drift(
        terms,
        lambda idx: model.encode(X[idx.to(device)]),
        group_means(y_true),
        list(model.encoder.parameters()),
        batch_size=batch_size,
    )


ATLAS_SAMPLES = 1000
"""samples (drawn once per run, seeded) on which the atlas is measured at every
logged epoch: a pass of a conv AE per loss term over all the data at every epoch
would cost more than the epoch itself on a CPU"""


def atlas_samples(n: int, seed: int) -> np.ndarray:
    """The sorted rows (at most ``ATLAS_SAMPLES`` of ``n``) that the atlas measures,
    drawn with their own generator: the run's random streams are untouched."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[: min(ATLAS_SAMPLES, n)])


def atlas_point(
    model: nn.Module, x: Tensor, labels: np.ndarray, y_true: np.ndarray
) -> dict[str, float]:
    """The atlas's diagnostics of a model and its clustering on the samples ``x``
    (labels and true labels of the same rows): Δ_FR and Δ_FD by ``one_protocol``,
    and the codes' ID, LID and twist (``geometry.twist_record``). A model of several
    networks (DML's ``MultiAutoencoder``) has no one encoder: each sample's code is
    taken in its cluster's network, and Δ_FR, Δ_FD are NaN. The model is measured
    in eval mode and left in the mode it was in (batch-norm statistics untouched)."""
    was_training = model.training
    model.eval()
    try:
        labels = np.asarray(labels)
        if hasattr(model, "nets"):
            with torch.no_grad():
                every = torch.stack([net.encode(x) for net in model.nets])
            z = model.own_codes(every, torch.as_tensor(labels, device=x.device))
            found = {"fr": float("nan"), "fd": float("nan")}
        else:
            with torch.no_grad():
                z = model.encode(x)
            found = one_protocol(model, x, labels, y_true)
        return twist_record(z.cpu().numpy(), labels) | found
    finally:
        model.train(was_training)


@dataclass(frozen=True)
class MethodLoss:
    """A method's loss as ``feature_randomness_drift`` reads it, handed to
    ``Monitor.check`` by the methods that have pseudo-labels (DynAE, DC*, DEC, IDEC)."""

    terms: Terms
    """its loss terms on row indices (``"pseudo"`` and, for a joint loss, ``"self"``)"""
    encode: Callable[[Tensor], Tensor]
    """``encode(idx)``: the (unaugmented) codes of the samples ``idx``"""
    centres: Tensor
    """(K, m) the centres its pseudo-supervised term pulls the codes to: the
    supervised loss pulls each code to its true class's matched centre
    (``class_centres``)"""
    params: Sequence[nn.Parameter]
    """the encoder's parameters, on which the gradients are compared"""
    weights: Weights | None = None
    """the loss it minimises as a weighted sum of ``terms`` (None: "pseudo" alone)"""


@dataclass(frozen=True)
class Epoch:
    """What a monitored epoch hands the monitor: ``model`` as it is now, all the
    data ``X``, the current ``labels`` and the true ``y`` (both (n,)), the seed."""

    model: nn.Module
    X: Tensor
    labels: np.ndarray
    y: np.ndarray
    seed: int


@dataclass(frozen=True)
class Check:
    """What a target refresh or check hands the monitor (DynAE, DC*, DEC, IDEC,
    R-DC): the codes ``z`` (n, m) of all samples, the current ``labels`` (n,), the
    true ``y``, and the method's loss where it has pseudo-labels."""

    z: Tensor
    labels: Tensor
    y: np.ndarray
    loss: MethodLoss | None = None


class Monitor:
    """The fit contract's monitor hook (``FitContext.monitor``). A method calls it
    at its logging points with what it measures and the true labels
    (``FitContext.y_monitor``; never without them); the hook adds keys to the
    record it is handed. It reads the model and the data, never steps, and training
    never reads what it writes: labels and codes are the same with and without it.
    This base adds nothing; ``Diagnostics`` is the library's."""

    @property
    def at_checks(self) -> bool:
        """True: ``check`` adds keys to the checks' records. A checkpoint's config
        records it (``"diagnostics"``), so that a resumed run's checks are all
        alike."""
        return False

    def epoch(self, record: dict[str, Any], at: Epoch) -> None:
        """At each monitored epoch (``record`` holds its ACC and NMI)."""

    def check(self, record: dict[str, Any], at: Check) -> None:
        """At each target refresh or check."""


@dataclass(frozen=True)
class Diagnostics(Monitor):
    """The library's monitor: the diagnostics of a run that read the true labels,
    each switched on by its field."""

    checks: bool = False
    """at every target refresh or check: Feature Randomness and Feature Drift
    (``feature_randomness_drift``, DynAE eq. 1 and 3, on the method's own loss:
    DynAE, DC*, DEC, IDEC) and the codes' ID, LID and Feature Twist
    (``geometry.twist_record``, R-DC Fig. 15; those and R-DC): a few passes over
    the data"""
    atlas: bool = False
    """at every monitored epoch: the diagnostics atlas (``atlas_point``: Δ_FR, Δ_FD
    under one loss, ID, LID, twist) on the ``ATLAS_SAMPLES`` rows of
    ``atlas_samples``, as ``atlas_fr``, ``atlas_fd``, ``atlas_id``, ``atlas_lid``,
    ``atlas_twist``"""

    @property
    def at_checks(self) -> bool:
        return self.checks

    def epoch(self, record: dict[str, Any], at: Epoch) -> None:
        if not self.atlas:
            return
        rows = atlas_samples(len(at.y), at.seed)
        x = at.X[torch.as_tensor(rows, device=at.X.device)]
        point = atlas_point(at.model, x, at.labels[rows], at.y[rows])
        record |= {f"atlas_{k}": v for k, v in point.items()}

    def check(self, record: dict[str, Any], at: Check) -> None:
        if not self.checks:
            return
        loss = at.loss
        if loss is not None:
            target = class_centres(at.y, at.labels.cpu().numpy(), loss.centres)
            record |= feature_randomness_drift(
                loss.terms, loss.encode, target.detach(), loss.params, loss.weights
            )
        record |= twist_record(at.z, at.labels)
