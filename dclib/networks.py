"""Pretrained autoencoders as safetensors files: the reference's networks, committed
so that no machine redoes their pretraining and a clustering stage can start
anywhere.

A network lives at ``<directory>/<dataset>/<pretraining>/seed=<s>.safetensors``
(``directory``: the repository's ``results/pretrained``, or ``$DCLIB_PRETRAINED``).
Its safetensors metadata holds, as JSON: the architecture (``models.build``
rebuilds it), the pretraining config, the seed, a hash of the data, its
pretraining history and the provenance of the run that trained it, and its
``key`` (``network_key``): the identity a run looks a network up by, which
leaves out the code's hash so that a committed network outlives code changes.

>>> model = pretrained("fmnist", "acai", seed=0)  # DynAE's ACAI network, 70k images
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from dclib.models import Autoencoder, build
from dclib.storage import atomic_write, json_hash

DIRECTORY = Path(
    os.environ.get(
        "DCLIB_PRETRAINED",
        Path(__file__).resolve().parent.parent / "results" / "pretrained",
    )
)
"""where committed networks live (``$DCLIB_PRETRAINED``)"""

SUFFIX = ".safetensors"


def network_key(
    cfg: Any, arch: dict, data: str, seed: int, precision: str = "fp32"
) -> str:
    """The identity of a pretrained network: its pretraining config (``seed``
    field cleared), architecture, data hash, the seed that initialised and
    trained it and, where not fp32, the precision it computed in; two runs that
    pretrain alike share one network."""
    if dataclasses.is_dataclass(cfg):
        cfg = dataclasses.asdict(cfg)
    cfg = dict(cfg) | {"seed": None}
    who = {"config": cfg, "arch": arch, "data": data, "seed": seed}
    return json_hash(who if precision == "fp32" else who | {"precision": precision})


def path_of(
    dataset: str, pretraining: str, seed: int, directory: Path | None = None
) -> Path:
    """Where the network ``pretraining`` of ``dataset`` and ``seed`` lives."""
    root = DIRECTORY if directory is None else Path(directory)
    return root / dataset / pretraining / f"seed={seed}{SUFFIX}"


def save(path: str | os.PathLike, model: Autoencoder, meta: dict[str, Any]) -> None:
    """Write ``model``'s weights and ``meta`` (with its ``.arch``) atomically."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if not all(torch.isfinite(t).all() for t in state.values()):
        raise ValueError(f"refusing to save {path}: its weights hold NaN or inf")
    header = {"dclib": json.dumps(meta | {"arch": model.arch}, sort_keys=True)}
    atomic_write(path, lambda p: save_file(state, str(p), metadata=header))


def describe(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of the network at ``path`` (its header only, not its weights)."""
    with safe_open(str(path), framework="pt") as f:
        header = f.metadata() or {}
    if "dclib" not in header:
        raise ValueError(f"{path} is not a dclib network (no 'dclib' metadata)")
    return json.loads(header["dclib"])


def load(path: str | os.PathLike) -> tuple[Autoencoder, dict[str, Any]]:
    """The network at ``path`` (CPU) and its metadata."""
    meta = describe(path)
    model = build(meta["arch"])
    model.load_state_dict(load_file(str(path)))
    return model, meta


def find(key: str, dataset: str, directory: Path | None = None) -> Path | None:
    """The committed network of ``dataset`` whose ``network_key`` is ``key``."""
    root = (DIRECTORY if directory is None else Path(directory)) / dataset
    for path in sorted(root.glob(f"*/*{SUFFIX}")):
        if describe(path).get("key") == key:
            return path
    return None


def available(directory: Path | None = None) -> list[tuple[str, str, int]]:
    """``(dataset, pretraining, seed)`` of every committed network."""
    root = DIRECTORY if directory is None else Path(directory)
    found = []
    for path in sorted(root.glob(f"*/*/seed=*{SUFFIX}")):
        seed = int(path.name.removeprefix("seed=").removesuffix(SUFFIX))
        found.append((path.parent.parent.name, path.parent.name, seed))
    return found


def pretrained(
    dataset: str, pretraining: str, seed: int = 0, directory: Path | None = None
) -> Autoencoder:
    """The committed network ``pretraining`` of ``dataset`` pretrained with ``seed``
    (``available()`` lists them), in eval mode on the CPU."""
    path = path_of(dataset, pretraining, seed, directory)
    if not path.exists():
        names = ", ".join(f"{d}/{p}/seed={s}" for d, p, s in available(directory))
        raise ValueError(
            f"no committed network {dataset}/{pretraining}/seed={seed}; "
            f"available: {names or 'none'}"
        )
    model, _ = load(path)
    return model.eval()
