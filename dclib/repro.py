"""Seeds and devices."""

from __future__ import annotations

import random
import re

import numpy as np
import torch

_CUDA = re.compile(r"cuda(?::(\d+))?")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Parameters
    ----------
    seed
        An integer in ``[0, 2**32)``, the range NumPy's global generator takes.
    """
    if (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not 0 <= seed < 2**32
    ):
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve a device name.

    Parameters
    ----------
    device
        ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"``, or a ``torch.device`` of those.

    Raises
    ------
    ValueError
        For any other name, or for a CUDA device this machine does not have.
    """
    name = str(device) if isinstance(device, torch.device) else device
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    cuda = _CUDA.fullmatch(name) if isinstance(name, str) else None
    if cuda is None:
        raise ValueError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
        )
    if not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available")
    count = torch.cuda.device_count()
    if int(cuda[1] or 0) >= count:
        raise ValueError(f"device {name!r} asked for, but only {count} CUDA device(s)")
    return torch.device(name)
