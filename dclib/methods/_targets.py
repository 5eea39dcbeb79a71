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

from torch import Tensor

from dclib import functional as Fn
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


def target_losses(
    model: Autoencoder,
    x: Tensor,
    image_target: Tensor,
    construct: Tensor,
    code_target: Tensor,
    pull: Tensor,
    augment: bool,
    per_element: bool = False,
) -> tuple[Tensor, Tensor]:
    """``(L1, L2)`` of one batch: the construction loss (DynAE eq. 9, R-DC eq. 12) and
    the pull loss (DynAE eq. 12, R-DC eq. 13).

    The network sees the batch ``x`` randomly shifted and rotated when ``augment``
    (images only); samples not in ``construct`` reconstruct the clean ``x``.
    ``per_element``: both losses as element-wise means (the official codes).
    """
    x_in = random_affine(x) if augment and x.ndim == 4 else x
    z, x_hat = model(x_in)
    l1 = Fn.construction_loss(x_hat, x, image_target, construct, per_element)
    l2 = Fn.pull_loss(z, code_target, pull, per_element)
    return l1, l2


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
    "centroids",
    "nearest_samples",
    "target_losses",
]
