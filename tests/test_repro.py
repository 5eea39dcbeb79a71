from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from dclib.repro import pick_device, seed_everything


def _draws() -> tuple[float, np.ndarray, torch.Tensor]:
    return random.random(), np.random.rand(3), torch.randn(3)


@pytest.mark.parametrize("seed", [0, 7, np.int64(2**32 - 1)])
def test_same_seed_same_draws(seed):
    seed_everything(seed)
    a = _draws()
    seed_everything(seed)
    b = _draws()
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    torch.testing.assert_close(a[2], b[2], rtol=0, atol=0)


def test_other_seed_other_draws():
    seed_everything(7)
    a = _draws()
    seed_everything(8)
    b = _draws()
    assert a[0] != b[0]
    assert not np.array_equal(a[1], b[1])
    assert not torch.equal(a[2], b[2])


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, 1.0, "0", True, None])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
        seed_everything(seed)


def test_pick_device_auto_and_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", torch.device("cuda:1")])
def test_pick_device_cuda_without_cuda_raises(name):
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_pick_device_cuda():
    assert pick_device("cuda") == torch.device("cuda")
    assert pick_device("cuda:0") == torch.device("cuda:0")
    n = torch.cuda.device_count()
    with pytest.raises(ValueError, match=f"only {n} CUDA device"):
        pick_device(f"cuda:{n}")


@pytest.mark.parametrize("name", ["tpu", "CPU", "cuda:", "cuda:x", "gpu", "", 0, None])
def test_pick_device_unknown_raises(name):
    with pytest.raises(ValueError, match=r"unknown device .*'auto', 'cpu', 'cuda'"):
        pick_device(name)
