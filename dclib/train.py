"""Generic training loops that know no paper.

- ``fit_epochs``: the mini-batch loop every method plugs a step function into, with
  per-epoch history, a progress bar, and a checkpoint after each epoch from which an
  interrupted run resumes in exactly the state it would have reached.
- ``off_the_clock``: marks logging against the true labels, which the epochs' times
  leave out.
- ``pretrain_autoencoder``: MSE reconstruction with Adam, optionally on augmented
  images and with the ACAI critic game (DynAE eq. 6-7, R-DC eq. 1-2).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from dclib.augment import random_affine
from dclib.functional import nt_xent
from dclib.models import Autoencoder, Critic, MLPAutoencoder
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


@dataclass(frozen=True)
class PretrainConfig:
    """Autoencoder pretraining: MSE reconstruction with Adam."""

    n_epochs: int = 50
    """passes over the data (the papers count iterations; see each method's page)"""
    batch_size: int = 256
    lr: float = 1e-3
    """Adam's learning rate (1e-3: Adam's default, the DCSS/DSSL code's choice)"""
    augment: bool = False
    """random ±10 % shifts and ±10° rotations per image (DynAE §4.2, R-DC §4); feature
    vectors are never augmented"""
    acai_lambda: float | None = None
    """weight λ of the ACAI term (DynAE eq. 6; 0.5 in its code); None: no critic"""
    recon_sum: bool = False
    """True: the squared error summed over each image's features, averaged over the
    batch, as DynAE eq. 6 and R-DC eq. 1 write it (it sets how much the ACAI term
    weighs against reconstruction); False: the mean over all elements (the DynAE
    code; with a trained critic it lets the critic term collapse the codes)"""
    acai_alpha_max: float = 1.0
    """interpolation coefficients alpha ~ U(0, acai_alpha_max): 1 as DynAE §4.1 and its
    code draw them (the original ACAI paper: 0.5)"""
    acai_alternate: bool = False
    """True: the autoencoder and the critic are updated on alternate iterations (R-DC
    Algorithm 1: even iterations the autoencoder, odd ones the critic); False: both
    on every iteration (DynAE §4.1, both official codes)"""
    critic_trainable: bool = True
    """False reproduces the DynAE code, whose critic is compiled frozen (notes §4.2)"""
    contrastive_temperature: float | None = None
    """instead of reconstruction, the instance-level contrastive loss (NT-Xent,
    ``functional.nt_xent``) between the codes of two augmented views of each image,
    at this temperature (R-DC Fig. 1's second pretraining; SimCLR's 0.5); images
    only, no critic; the decoder stays untrained"""
    greedy_dropout: float | None = None
    """input dropout of greedy layer-wise denoising pretraining before the end-to-end
    epochs (DEC §3.2: 0.2); None: end to end only. MLP autoencoders only"""
    seed: int | None = None
    """None: the run's seed initialises and pretrains the autoencoder; an int: this
    seed does, so runs with different seeds share one pretrained autoencoder (the
    quick profile's saving; the official DCSS and DML code ship one)"""

    def __post_init__(self) -> None:
        check_config(self)


def _fresh_copy(module: nn.Module) -> nn.Module:
    clone = copy.deepcopy(module)
    for m in clone.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    return clone


def acai_losses(
    model: Autoencoder,
    critic: Critic,
    x: Tensor,
    z: Tensor,
    x_hat: Tensor,
    alpha_max: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """The ACAI game of DynAE eq. 6-7 (R-DC eq. 1-2) for one batch.

    Each code is mixed with the code of the batch read backwards,
    ``z_a = a z + (1 - a) z[::-1]`` with ``a ~ U(0, alpha_max)`` per image, and
    decoded to ``x_a``. Returns ``(regulariser, critic_loss)``: the autoencoder
    minimises ``||c(x_a)||^2`` (the regulariser λ multiplies); the critic minimises
    ``||c(x_a) - a||^2 + ||c(g x + (1 - g) x_hat)||^2`` with one ``g ~ U(0, 1)``.
    Both share the graph of ``c(x_a)``: back-propagate each into its own player's
    parameters only (``backward(inputs=...)``), the critic's before any step.
    """
    b = x.shape[0]
    a = alpha_max * torch.rand(b, 1, device=x.device)  # (B, 1)
    x_a = model.decode(a * z + (1 - a) * z.flip(0)).reshape(x.shape)
    c_a = critic(x_a)  # (B,): one pass serves both players
    regulariser = c_a.pow(2).mean()
    g = torch.rand((), device=x.device)
    c_mix = critic(g * x.detach() + (1 - g) * x_hat.detach())
    critic_loss = (c_a - a.squeeze(1)).pow(2).mean() + c_mix.pow(2).mean()
    return regulariser, critic_loss


def _linear_pairs(model: Autoencoder) -> list[tuple[nn.Linear, nn.Linear]]:
    """(encoder layer i, its mirror decoder layer) of an MLP AE, outermost first."""
    enc = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    dec = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)]
    if not isinstance(model, MLPAutoencoder) or len(enc) != len(dec):
        raise ValueError("greedy layer-wise pretraining needs an MLPAutoencoder")
    return list(zip(enc, reversed(dec), strict=True))


def _reconstruction_step(
    net: nn.Module, opt: torch.optim.Optimizer
) -> Callable[[Tensor, Tensor], dict[str, float]]:
    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        loss = F.mse_loss(net(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    return step


def pretrain_greedy(
    model: Autoencoder,
    X: Tensor,
    cfg: PretrainConfig,
    *,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
) -> History:
    """Greedy layer-wise denoising pretraining of a stacked autoencoder (DEC §3.2).

    Layer by layer, outermost first, a one-hidden-layer autoencoder (encoder layer i
    and its mirror decoder layer) learns to reconstruct the previous layer's codes;
    as DEC §3.2 writes it, both its input and its hidden code are corrupted by
    dropout (rate ``cfg.greedy_dropout``): x~ = Dropout(x), h = g1(W1 x~ + b1),
    h~ = Dropout(h), y = g2(W2 h~ + b2). Hidden layers use
    ReLU; the innermost code and the outermost reconstruction are linear, as in the
    full network. Logs ``loss`` and ``layer`` per epoch.
    """
    pairs, history = _linear_pairs(model), History()
    h = X.flatten(1)
    for i, (enc, dec) in enumerate(pairs):
        act_enc = nn.Identity() if i == len(pairs) - 1 else nn.ReLU()
        act_dec = nn.Identity() if i == 0 else nn.ReLU()
        drop = cfg.greedy_dropout
        net = nn.Sequential(
            nn.Dropout(drop), enc, act_enc, nn.Dropout(drop), dec, act_dec
        )
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        torch.manual_seed(seed + i)  # the dropout masks
        part = fit_epochs(
            _reconstruction_step(net, opt),
            h,
            n_epochs=cfg.n_epochs,
            batch_size=cfg.batch_size,
            seed=seed + i,
            state={"net": net, "opt": opt},
            checkpoint=None if checkpoint is None else f"{checkpoint}.layer{i}",
            config=asdict(cfg),
            desc=f"layer {i + 1}/{len(pairs)}",
        )
        for r in part.records:
            history.append(**r, layer=i)
        with torch.no_grad():
            h = act_enc(enc(h))
    return history


def pretrain_autoencoder(
    model: Autoencoder,
    X: Tensor,
    cfg: PretrainConfig = PretrainConfig(),
    *,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
) -> History:
    """Train ``model`` to reconstruct ``X`` (already on the model's device).

    Loss: mean squared error between the (augmented) batch and its reconstruction,
    plus ``acai_lambda`` times the ACAI regulariser when a critic is used; the critic
    is trained by its own Adam on every batch. With ``cfg.greedy_dropout`` the
    end-to-end epochs follow ``pretrain_greedy``. Logs ``loss`` (and ``critic``) per
    epoch, greedy epochs first with their ``layer``; resumes from ``checkpoint``.
    """
    greedy = History()
    if cfg.greedy_dropout is not None:
        greedy = pretrain_greedy(model, X, cfg, seed=seed, checkpoint=checkpoint)
    torch.manual_seed(seed)  # dropout-free nets: this seeds augmentation and ACAI draws
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    turn = TensorState(i=0)
    state: dict[str, Stateful] = {"model": model, "opt": opt, "turn": turn}
    critic = critic_opt = None
    if cfg.acai_lambda is not None:
        critic = Critic(_fresh_copy(model.encoder)).to(X.device)
        critic.requires_grad_(cfg.critic_trainable)
        critic_opt = torch.optim.Adam(critic.parameters(), lr=cfg.lr)
        state |= {"critic": critic, "critic_opt": critic_opt}

    def contrastive_step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        loss = nt_xent(
            model.encode(random_affine(x)),
            model.encode(random_affine(x)),
            cfg.contrastive_temperature,
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    def step(x: Tensor, idx: Tensor) -> dict[str, float]:
        model.train()
        if cfg.augment and x.ndim == 4:
            x = random_affine(x)
        z, x_hat = model(x)
        if cfg.recon_sum:
            loss = (x_hat - x).pow(2).flatten(1).sum(1).mean()
        else:
            loss = F.mse_loss(x_hat, x)
        logs = {"loss": loss.item()}
        if critic is not None:
            regulariser, critic_loss = acai_losses(
                model, critic, x, z, x_hat, cfg.acai_alpha_max
            )
            loss = loss + cfg.acai_lambda * regulariser
            logs["critic"] = critic_loss.item()
        turn.i += 1  # Algorithm 1 counts from 1: odd iterations the critic's
        both = not cfg.acai_alternate
        train_ae = both or turn.i % 2 == 0
        train_critic = critic is not None and cfg.critic_trainable
        train_critic = train_critic and (both or turn.i % 2 == 1)
        if train_ae:
            opt.zero_grad()
            loss.backward(inputs=list(model.parameters()), retain_graph=train_critic)
        if train_critic:
            critic_opt.zero_grad()
            critic_loss.backward(inputs=list(critic.parameters()))
            critic_opt.step()
        if train_ae:
            opt.step()
        return logs

    contrastive = cfg.contrastive_temperature is not None
    if contrastive and (X.ndim != 4 or critic is not None):
        raise ValueError("contrastive pretraining needs images and no ACAI critic")
    history = fit_epochs(
        contrastive_step if contrastive else step,
        X,
        n_epochs=cfg.n_epochs,
        batch_size=cfg.batch_size,
        seed=seed,
        state=state,
        checkpoint=checkpoint,
        config=asdict(cfg),
        desc="pretrain",
    )
    return History(greedy.records + history.records)
