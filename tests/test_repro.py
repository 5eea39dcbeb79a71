from __future__ import annotations

import numpy as np
import pytest
import torch

from dclib.repro import pick_device, seed_everything


def test_same_seed_same_draws():
    seed_everything(7)
    a = (torch.randn(3), np.random.rand(3))
    seed_everything(7)
    b = (torch.randn(3), np.random.rand(3))
    torch.testing.assert_close(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    seed_everything(8)
    assert not torch.equal(torch.randn(3), a[0])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_pick_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
