"""Generic training loops that know no paper.

- ``fit_epochs``: the mini-batch loop every method plugs a step function into, with
  per-epoch history, a progress bar, and a checkpoint after each epoch from which an
  interrupted run resumes in exactly the state it would have reached.
- ``off_the_clock``: marks logging against the true labels, which the epochs' times
  leave out.
- ``check_config``: the counts and rates of a config checked once, by name;
- ``make_optimizer`` and ``gradient_step``: the papers' two optimisers, fused, and
  one guarded step.

Autoencoder pretraining, which runs through ``fit_epochs``, is ``dclib.pretrain``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm import tqdm

from dclib.storage import UNREADABLE, atomic_write, discard, write_json, write_text

_OFF_CLOCK = {"seconds": 0.0, "depth": 0}


@contextmanager
def off_the_clock() -> Iterator[None]:
    """Time spent inside is logging (scores and diagnostics against the true labels),
    not training: ``fit_epochs`` leaves it out of each epoch's ``seconds`` and
    records it as ``monitor_seconds``, so that run times compare with the papers'.
    Nested uses count once."""
    _OFF_CLOCK["depth"] += 1
    tic = time.perf_counter()
    try:
        yield
    finally:
        _OFF_CLOCK["depth"] -= 1
        if _OFF_CLOCK["depth"] == 0:
            _OFF_CLOCK["seconds"] += time.perf_counter() - tic


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


class TensorState:
    """Named tensors and numbers that a method keeps between batches (targets,
    counts, iteration counters), saved and restored with the checkpoints."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def state_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


@dataclass
class History:
    """One record of logged values per epoch."""

    records: list[dict[str, float]] = field(default_factory=list)

    def append(self, **logs: float) -> None:
        self.records.append({k: float(v) for k, v in logs.items()})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records)

    def to_jsonl(self, path: str | os.PathLike) -> None:
        write_text(path, "".join(json.dumps(r) + "\n" for r in self.records))


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """``torch.save`` atomically (tensors, numbers, strings, dicts and lists only)."""
    atomic_write(path, lambda p: torch.save(payload, p))


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint written by ``save_checkpoint`` (``weights_only=True``)."""
    return torch.load(path, map_location=map_location, weights_only=True)


def _check_finite(state: dict[str, Stateful], desc: str, epoch: int) -> None:
    """A FloatingPointError naming the stage and epoch when a network of ``state``
    holds NaN or inf weights (a divergence the loss did not show), so that nothing
    of it is checkpointed or cached."""
    for name, obj in state.items():
        if isinstance(obj, nn.Module) and not all(
            torch.isfinite(p).all() for p in obj.parameters()
        ):
            raise FloatingPointError(
                f"{desc} diverged in epoch {epoch}: the weights of its {name} hold "
                "NaN or inf; lower its learning rate, or scale the data to [0, 1]"
            )


def _resumable(
    checkpoint: str | os.PathLike | None, config: dict[str, Any], device
) -> dict[str, Any] | None:
    """The saved state of ``checkpoint`` to resume from, or None: none there, or
    unreadable (removed with a message, ``storage.discard``: the run starts afresh).
    A checkpoint of another configuration is an error that names it."""
    if checkpoint is None or not Path(checkpoint).exists():
        return None
    try:
        saved = load_checkpoint(checkpoint, map_location=device)
        keys = {"config", "state", "generator", "torch_rng", "history", "epoch"}
        if not isinstance(saved, dict) or not keys <= saved.keys():
            raise KeyError(f"not a dclib checkpoint (needs {sorted(keys)})")
    except UNREADABLE as err:
        discard(Path(checkpoint), err)
        return None
    if saved["config"] != config:
        raise ValueError(
            f"checkpoint {checkpoint} was written by another configuration; "
            "delete it to start afresh"
        )
    return saved


PROGRESS_ENV = "DCLIB_PROGRESS"
"""Environment variable naming a JSON file that ``fit_epochs`` rewrites after every
epoch (stage, epoch, epochs, seconds): how ``dclib reference`` follows a job that
runs in another process."""


def report_progress(
    desc: str, done: int, total: int, records: list[dict[str, float]]
) -> None:
    """Write the progress of the running stage to ``$DCLIB_PROGRESS``, if set: at its
    start and after each epoch."""
    path = os.environ.get(PROGRESS_ENV)
    if path:
        seconds = sum(
            r.get("seconds", 0.0) + r.get("monitor_seconds", 0.0) for r in records
        )
        write_json(
            path, {"stage": desc, "epoch": done, "epochs": total, "seconds": seconds}
        )


def fit_epochs(
    step: Callable[[Tensor, Tensor], dict[str, float]],
    X: Tensor,
    *,
    n_epochs: int,
    batch_size: int,
    seed: int,
    state: dict[str, Stateful] | None = None,
    on_epoch: Callable[[int], dict[str, float]] | None = None,
    checkpoint: str | os.PathLike | None = None,
    config: dict[str, Any] | None = None,
    desc: str = "train",
    stop: Callable[[], bool] | None = None,
    shuffle: bool = True,
) -> History:
    """Run ``n_epochs`` passes of shuffled mini-batches of ``X`` through ``step``.

    ``step(x, idx)`` gets a batch and its row indices into ``X`` and returns the batch's
    logs (losses); the epoch's record is their batch-size-weighted mean, plus whatever
    ``on_epoch(epoch)`` returns (e.g. a centre update or monitoring scores). The order
    of the batches comes from a generator seeded by ``seed`` (``shuffle=False``: the
    same sequential slices every epoch, as the DynAE and R-DC code batches).

    ``stop()``, checked after every batch, ends the run early (a convergence test);
    each record also holds the epoch's wall-clock ``seconds`` of training and the
    ``monitor_seconds`` spent in ``off_the_clock`` logging, which ``seconds`` leaves
    out.

    With ``checkpoint``, the objects in ``state`` (models, optimisers, centres holders),
    the random generators and the history are saved after every epoch; a later call
    with the same ``config`` resumes from there and ends in the same state as an
    uninterrupted run.
    """
    if n_epochs < 0 or batch_size < 1:
        raise ValueError(
            f"need n_epochs >= 0 and batch_size >= 1, got {n_epochs}, {batch_size}"
        )
    state = state or {}
    config = json.loads(json.dumps(config or {}))  # as stored: tuples become lists
    gen = torch.Generator().manual_seed(seed)
    history, start = History(), 0
    saved = _resumable(checkpoint, config, X.device)
    if saved is not None:
        try:
            for name, obj in state.items():
                obj.load_state_dict(saved["state"][name])
            gen.set_state(saved["generator"].cpu())
            torch.set_rng_state(saved["torch_rng"].cpu())
            if torch.cuda.is_available() and "cuda_rng" in saved:
                torch.cuda.set_rng_state_all(saved["cuda_rng"])
            history, start = History(saved["history"]), saved["epoch"] + 1
        except UNREADABLE as err:  # a checkpoint of another structure
            discard(Path(checkpoint), err)
            raise ValueError(
                f"checkpoint {checkpoint} did not fit this run and was removed: run "
                "again to start afresh"
            ) from err

    n = X.shape[0]
    report_progress(desc, start, n_epochs, history.records)  # the stage has begun
    bar = tqdm(
        range(start, n_epochs),
        desc=desc,
        initial=start,
        total=n_epochs,
        disable=None,
        leave=False,
    )
    for epoch in bar:
        if stop is not None and stop():
            break
        tic, off = time.perf_counter(), _OFF_CLOCK["seconds"]
        perm = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
        perm = perm.to(X.device)
        sums: dict[str, float] = {}
        seen = 0
        for lo in range(0, n, batch_size):
            idx = perm[lo : lo + batch_size]
            for k, v in step(X[idx], idx).items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
            seen += len(idx)
            if stop is not None and stop():
                break
        logs = {k: v / seen for k, v in sums.items()}
        logs |= on_epoch(epoch) if on_epoch else {}
        monitor = _OFF_CLOCK["seconds"] - off
        seconds = time.perf_counter() - tic - monitor
        history.append(epoch=epoch, **logs, seconds=seconds, monitor_seconds=monitor)
        _check_finite(state, desc, epoch)
        bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
        report_progress(desc, epoch + 1, n_epochs, history.records)
        if checkpoint is not None:
            payload = {
                "config": config,
                "epoch": epoch,
                "state": {name: obj.state_dict() for name, obj in state.items()},
                "generator": gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "history": history.records,
            }
            if torch.cuda.is_available():
                payload["cuda_rng"] = torch.cuda.get_rng_state_all()
            save_checkpoint(checkpoint, payload)
    return history


def make_optimizer(
    params, name: str, lr: float, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """Adam, or SGD with ``momentum``: the two optimisers the papers name, in
    PyTorch's fused implementation (one kernel updates every parameter, on CPU and
    CUDA: 10 % of an MLP-autoencoder epoch on a 2-core CPU, the performance page).
    It computes the same update as the per-parameter loop in another order of
    rounding (weights differ by about 1e-4 after 40 Adam steps), so a result
    committed before it (its commit is stamped) reruns to nearby, not identical,
    numbers."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, fused=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=True)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def gradient_step(opt: torch.optim.Optimizer, loss: Tensor, diverged: str) -> None:
    """One optimiser step on ``loss``; a FloatingPointError saying ``diverged`` (what
    went wrong and what to try) when the loss is not finite."""
    if not torch.isfinite(loss):
        raise FloatingPointError(diverged)
    opt.zero_grad()
    loss.backward()
    opt.step()


COUNTS = (
    "batch_size",
    "n_init",
    "latent_dim",
    "update_interval",
    "check_interval",
    "refresh",
    "patience",
    "smooth",
    "max_iter",
    "n_neighbours",
)
"""config fields that count something and must be integers >= 1"""


def _whole(v: Any, least: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= least


RULES: tuple[tuple[Callable[[str], bool], Callable[[Any], bool], str], ...] = (
    (lambda n: n in COUNTS, lambda v: v is None or _whole(v, 1), "an integer >= 1"),
    (
        lambda n: n.endswith("epochs"),
        lambda v: v is None or _whole(v, 0),
        "an integer >= 0",
    ),
    (lambda n: n == "n_clusters", lambda v: _whole(v, 2), "an integer >= 2"),
    (
        lambda n: n == "lr" or n.endswith("_lr"),
        lambda v: isinstance(v, float | int) and math.isfinite(v) and v > 0,
        "a finite number > 0",
    ),
    (
        lambda n: n == "hidden",
        lambda v: all(_whole(w, 1) for w in v),
        "widths that are integers >= 1",
    ),
)
"""(which fields, what they must be, how to say it) for ``check_config``"""


def check_config(cfg: Any) -> None:
    """The checks every config of dclib shares, run when it is made (``RULES``):
    counts (``COUNTS``) are integers >= 1 and ``*epochs`` integers >= 0 (either None
    where a method allows it), ``n_clusters`` an integer >= 2, learning rates finite
    and > 0, ``hidden`` widths integers >= 1. A ValueError names the field, its
    value and what it must be."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        for applies, holds, must in RULES:
            if applies(f.name) and not holds(value):
                raise ValueError(
                    f"{type(cfg).__name__}.{f.name} must be {must}, got {value!r}"
                )
