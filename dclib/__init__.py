"""dclib: a thin PyTorch library for five deep-clustering papers (DCSS, DSSL, DML,
DynAE, R-DC) and the companion Jupyter Book that reproduces them."""

from __future__ import annotations

from importlib.metadata import version

from dclib.data import Dataset, load
from dclib.metrics import acc, ari, f1, nmi
from dclib.networks import pretrained
from dclib.repro import pick_device, seed_everything

__version__ = version("dclib")
"""the installed distribution's version (pyproject.toml)"""

__all__ = [
    "Dataset",
    "acc",
    "ari",
    "f1",
    "load",
    "nmi",
    "pick_device",
    "pretrained",
    "seed_everything",
]
