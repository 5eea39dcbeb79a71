from __future__ import annotations

import pytest
import torch

from dclib.augment import random_affine


def test_zero_ranges_are_the_identity():
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(random_affine(x, shift=0.0, degrees=0.0), x)


def test_each_image_gets_its_own_draw_and_a_seed_repeats_it():
    x = torch.rand(1, 1, 28, 28).expand(8, 1, 28, 28).contiguous()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a, b = random_affine(x, generator=g()), random_affine(x, generator=g())
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a[0], a[1])


def test_a_centred_square_moves_by_at_most_ten_percent():
    x = torch.zeros(256, 1, 40, 40)
    x[:, :, 16:24, 16:24] = 1.0
    y = random_affine(x, generator=torch.Generator().manual_seed(1))
    coords = torch.arange(40.0)
    mass = y.sum((1, 2, 3))
    cy = (y.sum((1, 3)) * coords).sum(1) / mass
    cx = (y.sum((1, 2)) * coords).sum(1) / mass
    shift = torch.stack([cx - 19.5, cy - 19.5], 1).abs()
    assert shift.max() <= 0.1 * 40 + 0.5  # ±10 % of the width, up to interpolation
    assert shift.max() > 0.05 * 40  # and the range is really used


def test_rotation_only_turns_a_bar_by_at_most_ten_degrees():
    x = torch.zeros(64, 1, 41, 41)
    x[:, :, 20, 4:37] = 1.0  # a horizontal bar through the centre
    y = random_affine(x, shift=0.0, generator=torch.Generator().manual_seed(2))
    c = torch.arange(41.0) - 20
    w = y[:, 0]
    cov_xy = (w * c[None, :, None] * c[None, None, :]).sum((1, 2))
    var_x = (w * c[None, None, :] ** 2).sum((1, 2))
    angle = torch.rad2deg(torch.atan2(cov_xy, var_x)).abs()
    assert angle.max() <= 10.5 and angle.max() > 5


def test_bad_input_raises():
    with pytest.raises(ValueError, match="B, C, H, W"):
        random_affine(torch.rand(3, 28, 28))
    with pytest.raises(ValueError, match="shift"):
        random_affine(torch.rand(1, 1, 8, 8), shift=1.5)
