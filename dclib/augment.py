"""Batched random shifts and rotations, on the tensor's device.

DynAE and R-DC pretrain on augmented images: a uniform shift of up to ±10 % of the
height and width and a uniform rotation of up to ±10°, drawn independently for every
image (the Keras ``ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
rotation_range=10)`` of the official code). Bilinear interpolation; pixels that come
from outside the image repeat the border, like Keras' ``fill_mode="nearest"``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def random_affine(
    x: Tensor,
    *,
    shift: float = 0.1,
    degrees: float = 10.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Shift and rotate each image of ``x`` (B, C, H, W) by its own random draw.

    ``shift`` is the largest translation as a fraction of the height and width,
    ``degrees`` the largest rotation. ``generator`` (on ``x``'s device) makes the
    draws reproducible. Returns a tensor shaped like ``x``.
    """
    if x.ndim != 4:
        raise ValueError(
            f"random_affine takes images (B, C, H, W), got {tuple(x.shape)}"
        )
    if not 0 <= shift < 1 or not 0 <= degrees <= 180:
        raise ValueError(
            f"need 0 <= shift < 1 and 0 <= degrees <= 180, got {shift}, {degrees}"
        )
    b = x.shape[0]
    u = torch.rand(b, 3, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
    angle = u[:, 0] * math.radians(degrees)  # (B,)
    # affine_grid works in coordinates spanning [-1, 1]: a shift of s widths is 2s there
    t = u[:, 1:] * 2 * shift  # (B, 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1
    )  # (B, 2, 3), maps output coordinates to input coordinates
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(
        x, grid, mode="bilinear", padding_mode="border", align_corners=False
    )
