"""The experiment recipes of the book's pages, defined once.

Each page asks this module for its configs (the paper's defaults, K from the data,
epochs capped by the profile and by the page's budget), its data (RGB images as
feature vectors, MNIST for the imbalance studies) and its runs. Runs that several
pages show are built here, so their configs, and hence their cache keys, agree and
the later pages only read the cache: the DCSS page trains AE + k-means, DCSS_u and
DCSS, the theory page checks the q vectors of the same runs, and the DML page starts
from DCSS_u (its "DSL") and from the baselines page's DCN and DKM_p.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from dclib import data
from dclib.data import Dataset
from dclib.methods import get_method
from dclib.methods._fuzzy import CONV_PRETRAIN
from dclib.profiles import Run
from dclib.runs import RunResult, cluster, setting_tag, trained_start

BUDGETS: dict[str, dict[str, int]] = {
    "dssl": {"n_epochs": 2},
    "dcss_u": {"phase1_epochs": 2, "phase2_epochs": 10},
    "dcss": {"phase1_epochs": 2, "phase2_epochs": 10},
    "mnet": {"phase1_epochs": 2, "phase2_epochs": 10},
    "dml": {"n_epochs": 1},
}
"""capped profiles' epochs of the stages that take K optimiser steps per batch, ten
times the cost of an autoencoder epoch: DSSL (the paper: 100), DCSS phase 1 (200)
and DML (the code: 10); DCSS phase 2 (20) keeps T2 = 5 epochs in the u space and 5
in the q space. The paper profile ignores them."""

DATASET_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    (m, "cifar100-20"): {"mnet_hidden": (1000, 1000, 1000)}
    for m in ("dcss", "mnet")
}
"""the papers' per-dataset settings: DCSS §5 widens MNet to 1000-1000-1000 for
CIFAR-100 (20 super-classes)"""

BASELINES = ("ae_kmeans", "dec", "idec", "dcn", "dkm", "dkm_p")
"""the baselines page's methods, every one on the MLP autoencoder"""

CONV_BASELINE = {"dssl": "_dssl", "dcss": "_dcss"}
"""AE + k-means on the conv AE of DSSL / DCSS: its run-name tag"""

RGB_BACKBONE = "resnet50"
"""RGB images are clustered as ImageNet features (DCSS §5, DSSL §IV)"""


def config(run: Run, method: str, ds: Dataset, **fields: Any) -> Any:
    """The config of registered ``method`` for ``ds``: the paper's defaults (the
    method's preset), K from the data, the paper's per-dataset settings, ``fields``,
    epochs capped by the profile and the page budget."""
    over = DATASET_FIELDS.get((method, ds.name.split("-features")[0]), {}) | fields
    cfg = get_method(method).make_config(n_clusters=ds.n_clusters, **over)
    return run.profile.cap_epochs(cfg, BUDGETS.get(method))


def conv_baseline_config(run: Run, kind: str, ds: Dataset) -> Any:
    """AE + k-means on the conv AE ``kind`` ("dssl", "dcss") as the DSSL / DCSS code
    pretrains it (batch 500): those pages' baseline row."""
    return config(run, "ae_kmeans", ds, autoencoder=kind, pretrain=CONV_PRETRAIN)


def page_data(run: Run, name: str | None = None) -> Dataset:
    """The page's dataset, capped by the profile; RGB images (CIFAR, STL) become
    ImageNet features (``RGB_BACKBONE``) that the methods cluster with the MLP
    autoencoder, as DCSS §5 and DSSL §IV do."""
    ds = run.load(name)
    if ds.image_shape is not None and ds.image_shape[0] == 3:
        return data.features(ds, RGB_BACKBONE, device=run.device)
    return ds


def by_seed(
    run: Run, per_seed: Callable[[int], dict[str, RunResult]]
) -> dict[str, dict[int, RunResult]]:
    """``per_seed(seed)`` for every seed of the run, regrouped as
    ``{name: {seed: RunResult}}`` (what ``ours_vs_paper`` averages)."""
    out: dict[str, dict[int, RunResult]] = {}
    for seed in run.seeds:
        for name, r in per_seed(seed).items():
            out.setdefault(name, {})[seed] = r
    return out


def runs_of(
    run: Run, method: str, cfg: Any, ds: Dataset, seed: int, tag: str = "", **kw: Any
) -> RunResult:
    """``runs.cluster`` with the run's profile and device."""
    return cluster(
        method, cfg, ds, profile=run.profile.name, seed=seed, device=run.device,
        tag=tag, **kw,
    )  # fmt: skip


def baseline_runs(
    run: Run, ds: Dataset, seed: int, names: Iterable[str] = BASELINES
) -> dict[str, RunResult]:
    """The baselines page's runs of ``names`` on ``ds`` for ``seed``."""
    return {m: runs_of(run, m, config(run, m, ds), ds, seed) for m in names}


def dssl_runs(run: Run, ds: Dataset, cfg: Any, seed: int) -> dict[str, RunResult]:
    """AE + k-means on DSSL's conv AE and DSSL on ``ds`` for ``seed``."""
    ae_cfg = conv_baseline_config(run, "dssl", ds)
    return {
        "ae_kmeans": runs_of(run, "ae_kmeans", ae_cfg, ds, seed, CONV_BASELINE["dssl"]),
        "dssl": runs_of(run, "dssl", cfg, ds, seed),
    }


def dcss_runs(
    run: Run, ds: Dataset, cfg: Any, seed: int, tag: str = ""
) -> dict[str, RunResult]:
    """AE + k-means, DCSS_u and DCSS (phase 2 started from DCSS_u) on ``ds`` for
    ``seed``; ``tag`` keeps another config's runs apart in the cache."""
    ae_cfg = conv_baseline_config(run, "dcss", ds)
    ae = runs_of(run, "ae_kmeans", ae_cfg, ds, seed, CONV_BASELINE["dcss"])
    u = runs_of(run, "dcss_u", cfg, ds, seed, tag)
    mnet = runs_of(run, "mnet", cfg, ds, seed, tag, start=trained_start(u))
    return {"ae_kmeans": ae, "dcss_u": u, "dcss": mnet}


def x_mnet_runs(
    run: Run, ds: Dataset, cfg: Any, seed: int, names: Iterable[str]
) -> dict[str, RunResult]:
    """X + MNet (DCSS §4.7): DCSS phase 2 on each baseline X's trained network."""
    out = {}
    for name in names:
        base = runs_of(run, name, config(run, name, ds), ds, seed)
        start = trained_start(base)
        out[f"{name}+mnet"] = runs_of(run, "mnet", cfg, ds, seed, f"-{name}", start=start)
    return out


DML_BASES = {"dsl": "dcss_u", "dcn": "dcn", "dkm": "dkm_p"}
"""DML's base methods M (its Table I) -> the recipes' runs of them"""


def dml_runs(
    run: Run, ds: Dataset, base: str, seed: int, base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:  # fmt: skip
    """M and DML-M on ``ds`` for ``seed``: ``{base: M, "dml-" + base: DML-M}``. M is
    the DCSS page's DCSS_u (DSL) or the baselines page's DCN / DKM_p; ``base_over``
    changes M's config fields, ``over`` DML's."""
    base_over = base_over or {}
    method = DML_BASES[base]
    base_cfg = config(run, method, ds, **base_over)
    m = runs_of(run, method, base_cfg, ds, seed, setting_tag(base_over))
    cfg = config(run, "dml", ds, base=base, **over)
    settings = over | {f"base.{k}": v for k, v in base_over.items()}
    tag = f"-{base}" + setting_tag(settings)
    ours = runs_of(run, "dml", cfg, ds, seed, tag, start=trained_start(m))
    return {base: m, f"dml-{base}": ours}


IMBALANCE_RATES = (0.1, 0.2, 0.3, 0.4, 0.5)
"""the retention rates r of DSSL Table II, DCSS Fig. 6 and DML Table III"""


def imbalanced_subsets(
    run: Run, rates: Iterable[float] = IMBALANCE_RATES
) -> dict[float, Dataset]:
    """The imbalanced-data studies' subsets, one per rate r: class c of MNIST kept
    with probability r + (1 - r) c / (K - 1) (DCSS §4.8, DSSL §IV-C). The papers use
    MNIST, whatever a page's dataset: full MNIST when it is on disk, else the offline
    ``mnist5k``; the profile's sweep subset of it; each named by its rate so its
    cached runs stay apart."""
    try:
        source = run.load("mnist")
    except data.DatasetNotAvailable:
        source = run.load("mnist5k")
    small = run.sweep_subset(source)
    return {
        r: dataclasses.replace(
            data.imbalanced(small, r, seed=run.seed), name=f"{small.name}-r{r}"
        )
        for r in rates
    }


def config_table(cfg: Any) -> pd.DataFrame:
    """Every field of a config and its value, one row each (a page's "what ran")."""
    values = {f.name: str(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    return pd.Series(values, name=type(cfg).__name__).to_frame()


def describe_data(run: Run, ds: Dataset, seeds: Iterable[int] | None = None) -> str:
    """"quick profile, mnist5k, n = 5,000, seeds 0, 1": what a caption says ran."""
    seeds = list(run.seeds if seeds is None else seeds)
    word = "seed" if len(seeds) == 1 else "seeds"
    listed = ", ".join(map(str, seeds))
    return f"{run.profile.name} profile, {ds.name}, n = {len(ds):,}, {word} {listed}"
