"""The method kit's target part: decoder and latent targets, shared by DynAE and R-DC.

Both methods train the autoencoder towards targets built from its own codes: some
samples are *constructed* (the decoder is asked to output a target image instead of
the input: DynAE's centroid image, R-DC's decoded neighbour centroid) and *pulled*
(their code is drawn to a latent target), while the rest are reconstructed. The two
losses are ``functional.construction_loss`` and ``functional.pull_loss``; this module
builds their targets and combines them for one batch. Each method decides which
samples to select.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dclib import functional as Fn
from dclib import geometry
from dclib.augment import random_affine
from dclib.methods._common import batched
from dclib.models import Autoencoder

CENTRE_CODES = ("kmeans", "nearest")
CENTRE_IMAGES = ("nearest", "decoded")


@dataclass(frozen=True)
class Centroids:
    """Latent centres ``codes`` (K, m) and the images ``images`` (K, *x) that the
    decoder is asked to construct for the samples assigned to them."""

    codes: Tensor
    images: Tensor


def nearest_samples(z: Tensor, centres: Tensor) -> Tensor:
    """(K,) the index of the code in ``z`` (n, m) nearest to each centre (K, m)."""
    return Fn.squared_distances(z, centres).argmin(0)


def centroids(
    model: Autoencoder,
    X: Tensor,
    z: Tensor,
    means: Tensor,
    codes: str = "kmeans",
    images: str = "nearest",
) -> Centroids:
    """The targets of DynAE §4.2.1 from k-means ``means`` (K, m) of the codes ``z``.

    ``codes``: "kmeans", the means themselves (the paper's mu_j), or "nearest", the
    code of each mean's nearest real sample (the official code). ``images``:
    "nearest", the image of that sample, which the paper substitutes for the
    blurry decoded centre, or "decoded", g applied to the centre code (the code).
    """
    if codes not in CENTRE_CODES or images not in CENTRE_IMAGES:
        raise ValueError(
            f"codes must be one of {CENTRE_CODES} and images one of {CENTRE_IMAGES}, "
            f"got {codes!r}, {images!r}"
        )
    nearest = nearest_samples(z, means)
    mu = means if codes == "kmeans" else z[nearest]
    if images == "nearest":
        pictures = X[nearest]
    else:
        model.eval()
        pictures = batched(model.decode, mu).reshape(len(mu), *X.shape[1:])
    return Centroids(mu.detach().clone(), pictures.detach().clone())


def augmented_views(
    x: Tensor, image_target: Tensor, augment: bool, augment_targets: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """``(network input, image to reconstruct, image to construct)`` of one batch.

    ``augment`` (images only): the network sees ``x`` randomly shifted and rotated.
    ``augment_targets``: both decoder targets undergo each image's own draw too, so
    the network reconstructs what it saw, as in the pretraining (DynAE §4.2 and
    R-DC §3.5: "similar to the pretraining phase, the loss ... is regularized by data
    augmentation"); False: the targets stay clean (both official codes)."""
    if not augment or x.ndim != 4:
        return x, x, image_target
    if not augment_targets:
        return random_affine(x), x, image_target
    # one draw per image, applied to the input and its centroid image alike
    both = random_affine(torch.cat([x, image_target], 1))
    seen, target = both.split(x.shape[1], 1)
    return seen, seen, target


def l1_weight(output_weight: float | None, d: int, m: int) -> float:
    """The factor on L1 of DynAE and R-DC: ``output_weight``, or None for d / m,
    which makes the element-wise means' ``output_weight`` L1 + L2 the papers' L1 +
    L2 in squared norms per sample (DynAE eq. 9, 12, 14; R-DC eq. 12-14; ``d``
    features, ``m`` code dimensions) divided by m: the papers' balance at the
    learning rate of their implementations' element-wise units."""
    return d / m if output_weight is None else output_weight


def target_losses(
    model: Autoencoder,
    x: Tensor,
    image_target: Tensor,
    construct: Tensor,
    code_target: Tensor,
    pull: Tensor,
    augment: bool,
    per_element: bool = False,
    augment_targets: bool = True,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(L1, L2, z)`` of one batch: the construction loss (DynAE eq. 9, R-DC eq. 12),
    the pull loss (DynAE eq. 12, R-DC eq. 13) and the codes they were computed on.

    The network input and the decoder targets come from ``augmented_views``; samples
    not in ``construct`` reconstruct their (clean or augmented) input.
    ``per_element``: both losses as element-wise means (the official codes).
    """
    x_in, x_self, image_target = augmented_views(
        x, image_target, augment, augment_targets
    )
    z, x_hat = model(x_in)
    l1 = Fn.construction_loss(x_hat, x_self, image_target, construct, per_element)
    l2 = Fn.pull_loss(z, code_target, pull, per_element)
    return l1, l2, z


def code_gradients(l1: Tensor, l2: Tensor, z: Tensor) -> dict[str, float]:
    """The balance of the two target losses on one batch (a start-of-phase
    diagnostic, label-free): their values, their ratio and the norms of their
    gradients with respect to the codes ``z`` the batch was encoded to."""
    norm = []
    for loss in (l1, l2):
        (g,) = torch.autograd.grad(loss, z, retain_graph=True, allow_unused=True)
        norm.append(0.0 if g is None else float(g.norm()))
    v1, v2 = float(l1.detach()), float(l2.detach())
    return {
        "l1": v1,
        "l2": v2,
        "l1_over_l2": v1 / v2 if v2 > 0 else float("inf"),
        "grad_l1": norm[0],
        "grad_l2": norm[1],
    }


START_NEIGHBOURS = 5
"""M of the neighbour distances in a start record (R-DC's M, §4.1.3)"""


def phase_start(
    z: Tensor,
    batch: tuple[Tensor, Tensor, Tensor],
    d: Tensor,
    beta: float | None = None,
) -> dict[str, float]:
    """The start-of-phase record of DynAE, DC* and R-DC, label-free: the scale of
    the codes ``z`` (n, m) seen through their neighbour distances ``d`` (n, M,
    ``functional.neighbour_distances``; ``geometry.code_scale``, with R-DC's
    ``beta`` in the units eq. 9 uses) and the balance of the two losses on one
    ``batch`` = ``target_losses(...)`` (``code_gradients``)."""
    return geometry.code_scale(d, z, beta) | code_gradients(*batch)


def assigned(z: Tensor, codes: Tensor, alpha: float = 1.0) -> tuple[Tensor, Tensor]:
    """Student-t assignments q (DynAE eq. 4) of codes ``z`` to ``codes`` and each
    sample's cluster argmax q."""
    q = Fn.student_t_assignment(z, codes, alpha)
    return q, q.argmax(1)


__all__ = [
    "CENTRE_CODES",
    "CENTRE_IMAGES",
    "Centroids",
    "assigned",
    "augmented_views",
    "centroids",
    "code_gradients",
    "l1_weight",
    "nearest_samples",
    "phase_start",
    "target_losses",
]
