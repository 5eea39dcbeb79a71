"""``dclib bench``: what training costs, measured and committed.

One run writes ``results/bench/<device kind>.json`` (atomically) with its provenance
(commit, device, torch threads, date) and four studies, which the performance page
reads:

- ``autoencoder``: the seconds of one epoch of the MLP autoencoder 784-500-500-2000-10
  on mnist5k (batch 256, Adam 1e-3, MSE), dclib in fp32 and bf16 beside ClustPy's
  ``FeedforwardAutoencoder`` (ReLU, the same widths), interleaved in one run;
- ``methods``: every method's seconds per epoch of each training stage, in fp32 and
  bf16, on a stratified subset of mnist5k, beside ClustPy's AE, DEC, IDEC, DCN and
  DKM on the same network and data where ClustPy is installed;
- ``precision``: fp32 against bf16 for AE + k-means and IDEC on mnist5k: time, ACC,
  NMI and the agreement (ARI) of the two label sets;
- ``scaling``: how the cost of an encode pass, an epoch, DCSS's pairwise loss over an
  epoch's batches, k-means and the kNN graph grows with N (1,000 to 70,000
  Fashion-MNIST images), with each one's peak memory (a fresh process per
  measurement: the growth of its peak resident memory).

ClustPy is a benchmark extra (``pip install -e ".[bench]"``), never imported by the
library; without it the ClustPy columns stay empty.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dclib import data, functional, metrics, neighbours
from dclib.book.cache import TABLES_DIR
from dclib.book.profiles import get_profile
from dclib.book.provenance import stamp
from dclib.book.recipes import conv_input
from dclib.methods import FitContext, get_method
from dclib.methods._common import encode, kmeans
from dclib.models import MLPAutoencoder, set_precision
from dclib.storage import write_json
from dclib.train import make_optimizer

BENCH_DIR = TABLES_DIR / "bench"
"""the committed benchmarks, one JSON per device kind (``cpu.json``, ``cuda.json``)"""
CPU_FILE = BENCH_DIR / "cpu.json"
"""the committed CPU benchmark (what ``run`` writes by default, the page reads)"""

HIDDEN = (500, 500, 2000)
CLUSTPY_METHODS = ("dec", "idec", "dcn", "dkm")
"""dclib's methods that ClustPy has too (and the autoencoder)"""
METHODS = ("dec", "idec", "dcn", "dkm", "dssl", "dcss", "dynae", "rdc", "dml")
"""every method whose training stages the ``methods`` study times (DML on DSSL)"""
SIZES = (1_000, 5_000, 20_000, 70_000)
OPERATIONS = ("encode", "epoch", "pairwise", "kmeans", "knn")


@dataclasses.dataclass(frozen=True)
class Scale:
    """How much a benchmark run measures (``FULL``; ``SMOKE``: the test's)."""

    repeats: int
    """epochs timed per library in the autoencoder study (the median is kept)"""
    subset: int
    """images of mnist5k in the methods study"""
    epochs: int
    """clustering epochs per method in the methods study (the median is kept)"""
    clustpy_epochs: int
    """ClustPy's: the difference of two fits, of 1 and 1 + this many epochs"""
    precision_epochs: int
    """pretraining epochs in the precision study (its clustering: a fifth)"""
    sizes: tuple[int, ...]


FULL = Scale(
    repeats=5,
    subset=1_000,
    epochs=2,
    clustpy_epochs=5,
    precision_epochs=50,
    sizes=SIZES,
)
SMOKE = Scale(
    repeats=1, subset=200, epochs=1, clustpy_epochs=1, precision_epochs=1, sizes=(600,)
)


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    ds = data.load("mnist5k")
    return ds.flat.astype(np.float32), ds.y


def _dclib_epoch(X: torch.Tensor, precision: str) -> Any:
    """One epoch of dclib's pretraining step (``pretrain``'s MSE, fused Adam)."""
    torch.manual_seed(0)
    model = MLPAutoencoder(X.shape[1], 10, HIDDEN)
    set_precision(model, precision)
    opt = make_optimizer(model.parameters(), "adam", 1e-3)
    gen = torch.Generator().manual_seed(0)

    def train_one() -> None:
        model.train()
        for idx in torch.randperm(len(X), generator=gen).split(256):
            x = X[idx]
            loss = F.mse_loss(model(x)[1], x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()

    return train_one


def _products_epoch(X: torch.Tensor) -> Any:
    """The matrix products of one epoch of that training step alone, on random
    operands of the same shapes made beforehand: per batch and layer the forward
    product, the weight's gradient and (but for the first layer) the input's
    gradient. No library's epoch of this network can take less."""
    dims = [X.shape[1], *HIDDEN, 10]
    dims += dims[-2::-1]  # the mirrored decoder
    sizes = [len(b) for b in torch.arange(len(X)).split(256)]
    operands = {
        (size, i): (torch.randn(size, d_in), torch.randn(size, d_out), w)
        for size in set(sizes)
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True))
        for w in [torch.randn(d_out, d_in)]
    }

    def train_one() -> None:
        for size in sizes:
            for i in range(len(dims) - 1):
                x, g, w = operands[size, i]
                x @ w.T, g.T @ x
                if i:
                    g @ w

    return train_one


def _clustpy_network(d: int) -> Any:
    from clustpy.deep.neural_networks import FeedforwardAutoencoder

    layers = [d, *HIDDEN, 10]
    return FeedforwardAutoencoder(layers, activation_fn=torch.nn.ReLU, random_state=0)


def _clustpy_epoch(X: np.ndarray) -> Any:
    """One epoch of ClustPy's autoencoder training (its ``fit``: a DataLoader of
    shuffled batches, Adam 1e-3, MSE)."""
    net = _clustpy_network(X.shape[1])
    return lambda: net.fit(n_epochs=1, batch_size=256, data=X)


def has_clustpy() -> bool:
    try:
        import clustpy  # noqa: F401
    except ImportError:
        return False
    return True


def autoencoder(scale: Scale) -> dict[str, float]:
    """Seconds per MLP-autoencoder epoch on mnist5k: dclib fp32, dclib bf16,
    ClustPy and the epoch's fp32 matrix products alone, their medians over
    ``scale.repeats`` epochs, taking turns epoch by epoch so that a change in the
    machine's load meets them all."""
    Xn, _ = _mnist()
    X = torch.as_tensor(Xn)
    runs = {
        "dclib fp32": _dclib_epoch(X, "fp32"),
        "dclib bf16": _dclib_epoch(X, "bf16"),
        "matrix products alone": _products_epoch(X),
    }
    if has_clustpy():
        runs["ClustPy fp32"] = _clustpy_epoch(Xn)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for train_one in runs.values():
        train_one()  # warm-up
    for _ in range(scale.repeats):
        for name, train_one in runs.items():
            tic = time.perf_counter()
            train_one()
            times[name].append(time.perf_counter() - tic)
    return {name: statistics.median(t) for name, t in times.items()} | {"n": len(X)}


def _capped(method: str, epochs: int) -> Any:
    """``method``'s paper config with one pretraining epoch and ``epochs`` per
    clustering stage (the profiles' epoch caps)."""
    caps = dataclasses.replace(
        get_profile("smoke"), max_epochs=epochs, pretrain_epochs=1, pretrain_seed=None
    )
    return caps.cap_epochs(get_method(method).make_config(n_clusters=10))


def _stage_seconds(history: list[dict[str, Any]]) -> dict[str, float]:
    """The median seconds per epoch of each stage of a fit's history."""
    stages: dict[str, list[float]] = {}
    for r in history:
        if "seconds" in r and "layer" not in r:
            stages.setdefault(r["stage"], []).append(r["seconds"])
    return {name: statistics.median(s) for name, s in stages.items()}


def methods(scale: Scale) -> list[dict[str, Any]]:
    """Rows (method, stage, precision, seconds per epoch, library) of every method
    in ``METHODS`` and of ClustPy's counterparts, on ``scale.subset`` images of
    mnist5k (conv autoencoders for DSSL, DCSS and DML-DSL; the MLP for the rest)."""
    ds = data.subset(data.load("mnist5k"), scale.subset)
    rows = []
    for precision in ("fp32", "bf16"):
        ctx = FitContext(seed=0, device="cpu", precision=precision)
        dssl = None
        for name in METHODS:
            cfg = _capped(name, scale.epochs)
            X = conv_input(ds).X if name in ("dssl", "dcss") else ds.flat
            if name == "dml":
                X, fit_ctx = conv_input(ds).X, dataclasses.replace(ctx, start=dssl)
                cfg = dataclasses.replace(cfg, base="dsl")
            else:
                fit_ctx = ctx
            result = get_method(name).fit(X, cfg, fit_ctx)
            if name == "dssl":
                dssl = (result.model_, result.mu_)
            for stage, seconds in _stage_seconds(result.history_).items():
                rows.append(
                    {"method": name, "stage": stage, "precision": precision}
                    | {"seconds": seconds, "library": "dclib", "n": len(ds)}
                )
    if has_clustpy():
        rows += _clustpy_methods(ds.flat.astype(np.float32), scale)
    return rows


def _clustpy_methods(X: np.ndarray, scale: Scale) -> list[dict[str, Any]]:
    """ClustPy's DEC, IDEC, DCN and DKM on an untrained copy of the same network
    (marked as pretrained, so that ``fit`` goes straight to clustering): the seconds
    per epoch are the difference of two fits, of 1 and 1 + ``scale.clustpy_epochs``
    epochs, over ``scale.clustpy_epochs`` (what a fit does once, k-means and the
    final prediction, cancels out)."""
    from clustpy.deep import DCN, DEC, DKM, IDEC

    classes = {"dec": DEC, "idec": IDEC, "dcn": DCN, "dkm": DKM}
    rows = []
    for name in CLUSTPY_METHODS:
        total = []
        for epochs in (1, 1 + scale.clustpy_epochs):
            net = _clustpy_network(X.shape[1])
            net.fitted = True
            algo = classes[name](
                n_clusters=10,
                batch_size=256,
                clustering_epochs=epochs,
                neural_network=net,
                random_state=0,
            )
            tic = time.perf_counter()
            algo.fit(X)
            total.append(time.perf_counter() - tic)
        rows.append(
            {"method": name, "stage": "cluster", "precision": "fp32"}
            | {"seconds": (total[1] - total[0]) / scale.clustpy_epochs}
            | {"library": "ClustPy"}
            | {"n": len(X)}
        )
    return rows


def precision(scale: Scale) -> list[dict[str, Any]]:
    """AE + k-means and IDEC on mnist5k in fp32 and bf16 (seed 0, the MLP pretrained
    for ``scale.precision_epochs`` epochs, IDEC clustering a fifth of that): wall
    time, ACC, NMI and the ARI of each bf16 label set against its fp32 one."""
    Xn, y = _mnist()
    rows = []
    for name in ("ae_kmeans", "idec"):
        method = get_method(name)
        labels = {}
        for p in ("fp32", "bf16"):
            cfg = _capped(name, max(1, scale.precision_epochs // 5))
            pre = dataclasses.replace(cfg.pretrain, n_epochs=scale.precision_epochs)
            cfg = dataclasses.replace(cfg, pretrain=pre)
            tic = time.perf_counter()
            found = method.fit(Xn, cfg, FitContext(seed=0, device="cpu", precision=p))
            seconds = time.perf_counter() - tic
            labels[p] = found.labels_
            rows.append(
                {"method": name, "precision": p, "seconds": seconds}
                | metrics.scores(y, found.labels_)
                | {"ari_to_fp32": metrics.ari(labels["fp32"], found.labels_)}
            )
    return rows


def _memory_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak since the last reset) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} in /proc/self/status")


def _operate(operation: str, model: MLPAutoencoder, X: torch.Tensor, z: torch.Tensor):
    if operation == "encode":
        encode(model, X)
    elif operation == "epoch":
        _dclib_epoch(X, "fp32")()
    elif operation == "pairwise":  # DCSS eq. 4 on every batch of an epoch
        for q in torch.softmax(z, 1).split(256):
            functional.pairwise_similarity_loss(q, q @ q.T)
    elif operation == "kmeans":
        kmeans(z, 10, 10, 0)
    elif operation == "knn":
        neighbours.knn(z, 10)
    else:
        raise ValueError(f"unknown operation {operation!r}; one of {OPERATIONS}")


def measure(operation: str, n: int, what: str = "seconds") -> float:
    """The seconds (``what="seconds"``) or the peak memory (``"peak_mb"``: MB above
    the resident memory before it) of one ``operation`` on ``n`` images of
    Fashion-MNIST (mnist5k where it is not installed), after a warm-up on 512 of
    them. ``scaling`` runs each in a fresh process, the memory's with glibc told to
    map every block of 64 kB or more on its own (``MALLOC_MMAP_THRESHOLD_``), so that
    freed memory leaves the process and the peak (Linux's ``VmHWM``, reset before
    the operation) is what the operation holds at once."""
    try:
        ds = data.load("fmnist")
    except (FileNotFoundError, RuntimeError, ValueError):
        ds = data.load("mnist5k")
    ds = data.subset(ds, n) if n < len(ds) else ds
    X = torch.as_tensor(ds.flat.astype(np.float32))
    torch.manual_seed(0)
    model = MLPAutoencoder(X.shape[1], 10, HIDDEN)
    z = encode(model, X)
    _operate(operation, model, X[:512], z[:512])  # warm-up
    Path("/proc/self/clear_refs").write_text("5")  # the peak restarts here
    before = _memory_mb("VmRSS")
    tic = time.perf_counter()
    _operate(operation, model, X, z)
    if what == "seconds":
        return time.perf_counter() - tic
    return _memory_mb("VmHWM") - before


def _measured(operation: str, n: int, what: str, threads: int) -> float:
    code = (
        "import torch; from dclib.book import bench; "
        f"torch.set_num_threads({threads}); "
        f"print(bench.measure({operation!r}, {n}, {what!r}))"
    )
    env = dict(os.environ)
    if what == "peak_mb":
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


def scaling(scale: Scale, threads: int) -> list[dict[str, Any]]:
    """``measure`` of every operation at every size, each in its own processes."""
    return [
        {"operation": op, "n": n}
        | {what: _measured(op, n, what, threads) for what in ("seconds", "peak_mb")}
        for n in scale.sizes
        for op in OPERATIONS
    ]


def run(
    scale: Scale = FULL, threads: int = 2, out: Path | None = None, log: Any = print
) -> Path:
    """Every study at ``scale`` on the CPU with ``threads`` torch threads, written
    with its provenance to ``out`` (default ``BENCH_DIR/cpu.json``)."""
    torch.set_num_threads(threads)
    out = CPU_FILE if out is None else Path(out)
    result: dict[str, Any] = {
        "provenance": stamp("cpu") | {"threads": threads},
        "scale": dataclasses.asdict(scale),
        "clustpy": _clustpy_version(),
    }
    for name, study in (
        ("autoencoder", lambda: autoencoder(scale)),
        ("methods", lambda: methods(scale)),
        ("precision", lambda: precision(scale)),
        ("scaling", lambda: scaling(scale, threads)),
    ):
        tic = time.perf_counter()
        result[name] = study()
        log(f"{name}: {time.perf_counter() - tic:.0f} s")
    write_json(out, result)
    return out


def _clustpy_version() -> str | None:
    if not has_clustpy():
        return None
    from importlib.metadata import version

    return version("clustpy")


def load(path: Path | None = None) -> dict[str, Any]:
    """The committed benchmark (default ``BENCH_DIR/cpu.json``)."""
    path = CPU_FILE if path is None else Path(path)
    return json.loads(path.read_text())
