"""The run cache: every run of the book computed once, then read.

``run_or_load`` keys a run by its method, config, dataset, profile, seed and a hash of
the dclib source. Its small text results go to
``results/<method>/<dataset>/<profile>/seed=<s>/`` (``config.json``, ``metrics.json``,
``history.jsonl``); its arrays (labels, latent codes, soft assignments) go to the cache
directory ``$DCLIB_CACHE`` (default ``~/.cache/dclib/runs``), never to git.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dclib import networks, storage
from dclib.book import catalog, provenance
from dclib.diagnostics import Diagnostics
from dclib.methods import FitContext, get_method, kmeans_spread
from dclib.methods._common import Start, stage_records
from dclib.models import Autoencoder, build
from dclib.pretrain import pretrain_autoencoder
from dclib.storage import array_hash
from dclib.train import History, load_checkpoint, save_checkpoint

PACKAGE_DIR = Path(__file__).parents[1]
"""the dclib package, whose source the run cache's keys hash"""

RESULTS_DIR = Path(
    os.environ.get("DCLIB_RESULTS", Path(__file__).parents[2] / "results")
)
"""Directory of results (``$DCLIB_RESULTS``, default ``results/`` of the checkout)."""

TABLES_DIR = Path(__file__).parents[2] / "results"
"""the committed inputs of the book (the papers' tables, published records, the
authors' logs): read from the checkout even when ``$DCLIB_RESULTS`` moves the
results"""

CACHE_DIR = Path(
    os.environ.get("DCLIB_CACHE", Path.home() / ".cache" / "dclib" / "runs")
)
"""Where run arrays and model weights are cached (``$DCLIB_CACHE``)."""


def source_hash() -> str:
    """Hash of the dclib source tree: any change to the code invalidates cached runs."""
    return storage.files_hash(sorted(PACKAGE_DIR.glob("**/*.py")), PACKAGE_DIR)


PRETRAINING_SOURCES = (
    "train.py",
    "pretrain.py",
    "models.py",
    "augment.py",
    "functional.py",
)
"""the modules an autoencoder's pretraining executes (``pretrain.pretrain_autoencoder``
and what it imports from dclib besides file writing)"""


def pretraining_source_hash() -> str:
    """Hash of ``PRETRAINING_SOURCES``: a change to a clustering method leaves the
    cached pretrained networks valid (an ACAI pretraining of 70,000 images takes
    CPU hours), a change to the pretraining code invalidates them."""
    files = [PACKAGE_DIR / name for name in PRETRAINING_SOURCES]
    return storage.files_hash(files, PACKAGE_DIR)


@dataclasses.dataclass
class RunResult:
    """What a cached run keeps: scores, per-epoch history, named arrays and, where
    a later stage starts from this run (DCSS phase 2, X + MNet), model weights."""

    metrics: dict[str, float]
    history: list[dict[str, float]]
    arrays: dict[str, np.ndarray]
    """the stored arrays by their file names ("labels", "z", "mu", "q"); read them
    through the typed fields below"""
    weights: dict[str, torch.Tensor] | None = None

    @property
    def labels(self) -> np.ndarray:
        """The final cluster labels, ``(n,)``."""
        return self._array("labels")

    @property
    def codes(self) -> np.ndarray:
        """The final latent codes, ``(n, d)``."""
        return self._array("z")

    @property
    def centres(self) -> np.ndarray:
        """The final cluster centres in the latent space, ``(K, d)``."""
        return self._array("mu")

    @property
    def soft(self) -> np.ndarray | None:
        """The final soft assignments, ``(n, K)`` (None: the method has none)."""
        return self.arrays.get("q")

    def stage(self, name: str) -> list[dict[str, Any]]:
        """The history's records of stage ``name`` ("pretrain", "cluster", ...)."""
        return stage_records(self.history, name)

    def _array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            raise ValueError(
                f"this run kept no {name!r} array (a committed reference result "
                "keeps scores and history only; its arrays are in the run cache)"
            )
        return self.arrays[name]


def run_key(method: str, config: Any, source: str | None = None, **where: Any) -> str:
    """Hash of a run's identity: method, config, ``where`` and the dclib source
    (``source``: a hash of the part of it the run executes; default all of it)."""
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    source = source_hash() if source is None else source
    return storage.json_hash(
        {"method": method, "config": cfg, **where, "source": source}
    )


def run_dir(method: str, dataset: str, profile: str, seed: int) -> Path:
    return RESULTS_DIR / method / dataset / profile / f"seed={seed}"


def run_or_load(
    method: str,
    config: Any,
    fit: Callable[[], RunResult],
    *,
    dataset: str,
    profile: str,
    seed: int,
) -> RunResult:
    """Return the cached result of this run, or ``fit()`` it and cache it atomically.

    Each cached file's SHA-256 is recorded where it lives: the arrays' and weights'
    in a manifest beside them in the run cache (which checkouts share), the scores'
    and history's in the run's config; a file that was changed, truncated or cannot
    be read is discarded with a message naming it, and the run is recomputed."""
    key = run_key(method, config, dataset=dataset, profile=profile, seed=seed)
    out = run_dir(method, dataset, profile, seed)
    cached = {"arrays": CACHE_DIR / f"{key}.npz", "weights": CACHE_DIR / f"{key}.pt"}
    results = {"metrics": out / "metrics.json", "history": out / "history.jsonl"}
    manifest = CACHE_DIR / f"{key}.sha256.json"
    found = _cached(key, out / "config.json", manifest, cached | results)
    if found is not None:
        return found
    writable(out.parent, CACHE_DIR)  # before hours of training, not after
    result = fit()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    if result.weights is not None:
        save_checkpoint(cached["weights"], result.weights)
    storage.atomic_write(
        cached["arrays"], lambda p: np.savez_compressed(p, **result.arrays)
    )
    storage.write_json(manifest, _sums(cached))
    cfg = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
    meta = {
        "key": key,
        "method": method,
        "dataset": dataset,
        "profile": profile,
        "seed": seed,
        "config": cfg,
    }

    def fill(tmp: Path) -> None:
        storage.write_json(tmp / "metrics.json", result.metrics)
        History(result.history).to_jsonl(tmp / "history.jsonl")
        sums = _sums({k: tmp / p.name for k, p in results.items()})
        storage.write_json(tmp / "config.json", meta | {"sha256": sums})

    storage.write_dir(out, fill)
    return result


def _sums(files: dict[str, Path]) -> dict[str, str]:
    """The SHA-256 of each of ``files`` that exists."""
    return {k: storage.file_sha256(p) for k, p in files.items() if p.exists()}


def writable(*folders: Path) -> None:
    """Make ``folders`` (if missing) and check that files can be written there; a
    PermissionError naming the folder otherwise."""
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".writable."):
                pass
        except OSError as err:
            raise PermissionError(
                f"cannot write to {folder} ({err.strerror or err}): set $DCLIB_RESULTS "
                "and $DCLIB_CACHE to folders you can write"
            ) from err


def _cached(
    key: str, cfg_file: Path, manifest: Path, files: dict[str, Path]
) -> RunResult | None:
    """The cached run of ``key`` when its files are all there and intact; None to
    recompute it (a damaged file is discarded, ``storage.discard``). ``manifest``
    and the config hold the recorded SHA-256 of ``files``."""
    if not (cfg_file.exists() and files["arrays"].exists()):
        return None
    reading = cfg_file
    try:
        meta = json.loads(reading.read_text())
        reading = manifest
        sums = json.loads(reading.read_text()) if reading.exists() else {}
    except storage.UNREADABLE as err:
        storage.discard(reading, err)
        return None
    if meta.get("key") != key:
        return None
    sums |= meta.get("sha256", {})
    for name, path in files.items():
        if name in sums and (
            not path.exists() or storage.file_sha256(path) != sums[name]
        ):
            storage.discard(path, ValueError("its SHA-256 differs from the record"))
            return None
    reading = files["history"]
    try:
        history = [json.loads(line) for line in reading.open()]
        reading = files["arrays"]
        with np.load(reading) as npz:
            arrays = dict(npz)
        reading = files["metrics"]
        metrics = json.loads(reading.read_text())
        reading = files["weights"]
        weights = load_checkpoint(reading) if reading.exists() else None
    except storage.UNREADABLE as err:
        storage.discard(reading, err)
        return None
    return RunResult(metrics, history, arrays, weights)


def seed_mean(results: dict[int, RunResult], metric: str = "acc") -> float:
    """The mean over seeds of one metric of a run's ``{seed: result}`` (a fraction)."""
    return float(np.mean([r.metrics[metric] for r in results.values()]))


def seed_table(
    results: dict[int, RunResult], metrics: Iterable[str] = ("acc", "nmi")
) -> dict[str, str]:
    """``mean ± std`` (in %) over seeds of each metric, for "ours vs paper" tables."""
    table = {}
    for m in metrics:
        v = 100 * np.array([r.metrics[m] for r in results.values()])
        table[m] = f"{v.mean():.1f} ± {v.std():.1f}" if len(v) > 1 else f"{v[0]:.1f}"
    return table


def remove_checkpoints(path: Path) -> None:
    """Remove the checkpoint ``path`` and its stages' (``path.<stage>``); a
    concurrent twin of the run may have removed them already."""
    for found in path.parent.glob(f"{path.name}*"):
        found.unlink(missing_ok=True)


def cached_pretraining(
    data_id: str, dataset: str = "", commit_as: str | None = None
) -> Callable:
    """A ``pretrain(model, X, cfg, seed)`` that caches the trained weights.

    A network committed for ``dataset`` with the same identity
    (``networks.network_key``: config, architecture, ``data_id``, seed; not the
    code's hash) is loaded and nothing is trained. Otherwise weights are stored in
    ``CACHE_DIR`` under a key of the architecture, the pretraining config,
    ``data_id`` (e.g. ``array_hash(X)``), the seed and the source of the pretraining
    code (``pretraining_source_hash``), so every method whose autoencoder config
    matches shares one pretraining. An interrupted pretraining resumes from its
    checkpoint.

    ``commit_as`` (a reference run's pretraining, a key of
    ``catalog.PRETRAININGS``) commits the network under that name
    (``networks.path_of``) with its provenance; a different network committed
    there is refused before any training.
    """

    def pretrain(model, X, cfg, seed):
        key = networks.network_key(cfg, model.arch, data_id, seed, model.precision)
        committed = networks.find(key, dataset) if dataset else None
        if committed is not None:
            found, meta = networks.load(committed)
            model.load_state_dict(found.state_dict())
            return History(meta["history"])
        fp32 = model.precision == "fp32"  # the reference commits fp32 networks only
        target = networks.path_of(dataset, commit_as, seed) if commit_as else None
        target = target if fp32 else None
        if target is not None and target.exists():
            raise ValueError(
                f"{target} holds another network than this run pretrains (its key "
                f"{networks.describe(target).get('key')}, this run's {key}); remove "
                "it to commit the new one"
            )
        history = cache_pretraining(model, X, cfg, seed)
        if target is not None:
            device = next(model.parameters()).device
            meta = {
                "key": key,
                "dataset": dataset,
                "pretraining": commit_as,
                "seed": seed,
                "data": data_id,
                "config": dataclasses.asdict(cfg),
                "history": history.records,
                "provenance": provenance.stamp(device),
            }
            networks.save(target, model, meta)
        return history

    def cache_pretraining(model, X, cfg, seed):
        arch = [(name, tuple(p.shape)) for name, p in model.state_dict().items()]
        key = run_key(
            "ae",
            cfg,
            pretraining_source_hash(),
            arch=str(arch),
            data=data_id,
            seed=seed,
            **({} if model.precision == "fp32" else {"precision": model.precision}),
        )
        weights = CACHE_DIR / f"ae-{key}.pt"
        if weights.exists():
            try:
                saved = load_checkpoint(weights)
                model.load_state_dict(saved["model"])
                finite = all(torch.isfinite(t).all() for t in saved["model"].values())
                if not finite:
                    raise ValueError("its weights hold NaN or inf")
                return History(saved["history"])
            except storage.UNREADABLE as err:
                storage.discard(weights, err)
        ckpt = CACHE_DIR / f"ae-{key}.ckpt"
        try:
            history = pretrain_autoencoder(model, X, cfg, seed=seed, checkpoint=ckpt)
        except FloatingPointError:
            remove_checkpoints(ckpt)  # a rerun would only diverge again
            raise
        remove_checkpoints(ckpt)
        if not all(torch.isfinite(t).all() for t in model.state_dict().values()):
            raise FloatingPointError(
                f"the autoencoder's pretraining diverged (lr {cfg.lr:g}): its weights "
                "hold NaN or inf, and are not cached; lower pretrain.lr or scale the "
                "data to [0, 1]"
            )
        save_checkpoint(
            weights, {"model": model.state_dict(), "history": history.records}
        )
        return history

    return pretrain


COMMITTING_PROFILES = ("full", "paper")
"""the profiles whose pretrained networks are committed (the reference's: a run of
a catalog entry commits its network as the entry's pretraining)"""


def cluster(
    method: str,
    cfg: Any,
    ds: Any,
    *,
    profile: str,
    seed: int,
    device: Any = "auto",
    start: Start | None = None,
    tag: str = "",
    diagnostics: bool = False,
    atlas: bool = False,
    keep_diverged: bool = False,
    precision: str = "fp32",
) -> RunResult:
    """Run (or load from the cache) the registered ``method`` on a ``Dataset``.

    The autoencoder pretraining is shared through ``cached_pretraining``; the true
    labels are passed only as ``y_monitor`` (learning curves) and to score the final
    labels (and, for a method whose labels are one k-means draw, ``kmeans_spread``
    of ``KMEANS_SEEDS`` draws on the final codes). Keeps the scores, the history,
    the labels, the latent codes, the centres, the soft assignments and the
    trained model (its architecture beside its weights, so ``trained_model``
    rebuilds it from the cache alone). An interrupted run
    resumes from its checkpoint in the cache. ``start`` (a trained model and its
    centres) goes to methods that continue one (DCSS phase 2, DML); the run's key
    then includes a hash of its weights. ``tag`` names a setting of the method
    (``method + tag`` is the run's name under ``results/``). ``diagnostics`` logs
    Feature Randomness and Drift where the method has them, ``atlas`` the
    leaderboard's diagnostics atlas at every monitored epoch (the fit's monitor,
    ``diagnostics.Diagnostics``).
    ``keep_diverged`` (grid studies, where a setting that diverges is a finding):
    a fit whose loss diverges (``FloatingPointError``) is kept as a result with NaN
    scores, ``diverged = 1`` and the error as its history, instead of raising.
    ``precision`` ("fp32", "bf16": ``FitContext.precision``) is part of the run's
    key, and of its pretraining's, where it is not fp32.
    """
    from dclib.metrics import scores

    registered = get_method(method)
    data_id = array_hash(ds.X, ds.y)
    config = {"method": dataclasses.asdict(cfg), "data": data_id}
    if start is not None:
        model, mu = start
        tensors = [t.detach().cpu().numpy() for t in model.state_dict().values()]
        config["start"] = array_hash(*tensors, np.asarray(mu, dtype=np.float32))
    if diagnostics:
        config["diagnostics"] = True
    if atlas:
        config["atlas"] = True
    if precision != "fp32":
        config["precision"] = precision
    name = method + tag
    key = run_key(name, config, dataset=ds.name, profile=profile, seed=seed)
    ckpt = CACHE_DIR / f"{key}.ckpt"
    committing = profile in COMMITTING_PROFILES
    commit_as = catalog.pretraining_of(name) if committing else None
    ctx = FitContext(
        seed=seed,
        device=device,
        y_monitor=ds.y,
        pretrain=cached_pretraining(data_id, ds.name, commit_as),
        checkpoint=ckpt,
        start=start,
        precision=precision,
        monitor=Diagnostics(checks=diagnostics, atlas=atlas)
        if diagnostics or atlas
        else None,
    )

    def go() -> RunResult:
        try:
            r = registered.fit(ds.X, cfg, ctx)
        except FloatingPointError as err:
            remove_checkpoints(ckpt)  # a rerun would only diverge again
            if not keep_diverged:
                raise
            nan = dict.fromkeys(scores(ds.y, ds.y), math.nan)  # the score names
            history = [{"stage": "diverged", "error": str(err)}]
            result = RunResult(nan | {"diverged": 1.0}, history, {})
        else:
            arrays = {"labels": r.labels_, "z": r.z_, "mu": r.mu_}
            if r.q_ is not None:
                arrays["q"] = r.q_
            state = {k: v.detach().cpu() for k, v in r.model_.state_dict().items()}
            weights = {"arch": r.model_.arch, "state": state}
            found = scores(ds.y, r.labels_)
            if registered.kmeans_labels:
                z = torch.as_tensor(r.z_)
                found |= kmeans_spread(z, ds.y, cfg.n_clusters, cfg.n_init)
            result = RunResult(found, r.history_, arrays, weights)
        remove_checkpoints(ckpt)  # finished: the result replaces them
        return result

    found = run_or_load(name, config, go, dataset=ds.name, profile=profile, seed=seed)
    if found.metrics.get("diverged") and not keep_diverged:  # cached by a grid
        raise FloatingPointError(found.history[0]["error"])
    return found


def setting_tag(over: dict[str, Any]) -> str:
    """The run-name suffix of a setting: ``-field=value`` per overridden field."""
    return "".join(f"-{k}={v}" for k, v in over.items())


def trained_model(run: RunResult) -> Autoencoder:
    """The model of a cached ``cluster`` run, rebuilt from its stored architecture
    and loaded (CPU)."""
    if run.weights is None:
        raise ValueError("this run kept no weights; rerun it through cache.cluster")
    model = build(run.weights["arch"])
    model.load_state_dict(run.weights["state"])
    return model


def trained_start(run: RunResult) -> Start:
    """``(model, centres)`` of a cached run: where a method continuing it starts."""
    return trained_model(run), run.centres
