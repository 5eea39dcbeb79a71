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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from dclib import data
from dclib.book import catalog
from dclib.book.cache import RunResult, cluster, seed_mean
from dclib.book.paper_tables import (
    PAPER_DATASETS,
    PAPER_LABELS,
    PaperName,
    ours_vs_paper,
    paper_acc,
    paper_results,
)
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.data import Dataset
from dclib.methods import get_method
from dclib.methods._common import stage_records
from dclib.methods._fuzzy import CONV_PRETRAIN
from dclib.models import GEOMETRIES

BUDGETS: dict[str, dict[str, int]] = {
    "dssl": {"n_epochs": 1},
    "dcss_u": {"phase1_epochs": 1, "phase2_epochs": 6},
    "dcss": {"phase1_epochs": 1, "phase2_epochs": 6},
    "mnet": {"phase1_epochs": 1, "phase2_epochs": 6},
    "dml": {"n_epochs": 1},
}
"""capped profiles' epochs of the stages that take K optimiser steps per batch, ten
times the cost of an autoencoder epoch: DSSL (the paper: 100), DCSS phase 1 (200)
and DML (the code: 10). The paper profile ignores them. Measured on a slow two-core
machine (mnist5k, one seed, one torch thread per page): one DCSS phase-1 epoch takes
about 150 s, as long as 10 epochs of its conv AE's pretraining; so their learning
curves come from the committed reference (``reference_history``), which runs the
papers' epochs. DCSS phase 2 (the paper: 20 epochs, 18 s each here) gets 6: T2 = 5
in the u space, then 1 in the q space; R-DC, which recomputes the codes and
neighbours of all samples at every iteration (§3.5), the profile's 10 (200
iterations of mnist5k)."""

DATASET_FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    (m, "cifar100-20"): {"mnet_hidden": (1000, 1000, 1000)} for m in ("dcss", "mnet")
} | {
    ("rdc", name): {"alpha": alpha, "beta": beta}
    for name, alpha, beta in (
        ("pneumoniamnist", 0.8, 1.0),
        ("breastmnist", 0.6, 0.7),
        ("bloodmnist", 0.5, 0.6),
        ("vesselmnist3d", 0.3, 0.5),
        ("cifar10", 0.6, 0.6),
        ("fmnist", 0.6, 0.6),
    )
}
"""the papers' per-dataset settings: DCSS §5 widens MNet to 1000-1000-1000 for
CIFAR-100 (20 super-classes); R-DC Table 2's alpha and beta (shared/paper_results/
rdc_hyperparameters.csv; other datasets get 0.6 / 0.6, ``RDCConfig``'s defaults)"""


CONV_AUTOENCODERS = {"dssl_conv": "dssl", "dcss_conv": "dcss"}
"""the conv pretrainings of the catalog (``catalog.PRETRAININGS``) -> the
autoencoder each trains (``AEConfig.autoencoder``)"""

RGB_BACKBONE = "resnet50"
"""RGB images are clustered as ImageNet features (DCSS §5, DSSL §IV)"""


def config(run: Run, method: str, ds: Dataset, **fields: Any) -> Any:
    """The config of registered ``method`` for ``ds``: the paper's defaults (the
    method's preset), K from the data, the paper's per-dataset settings, ``fields``,
    epochs capped by the profile and the page budget."""
    source = ds.name
    for backbone in data.BACKBONES:  # features of a dataset keep its settings
        source = source.removesuffix(f"-{backbone}")
    over = DATASET_FIELDS.get((method, source), {}) | fields
    cfg = get_method(method).make_config(n_clusters=ds.n_clusters, **over)
    return run.profile.cap_epochs(cfg, BUDGETS.get(method))


def conv_baseline_config(run: Run, kind: str, ds: Dataset) -> Any:
    """AE + k-means on the conv AE ``kind`` ("dssl", "dcss") as the DSSL / DCSS code
    pretrains it (batch 500): those pages' baseline row."""
    return config(run, "ae_kmeans", ds, autoencoder=kind, pretrain=CONV_PRETRAIN)


def conv_page_config(run: Run, e: catalog.Entry, cfg: Any, ds: Dataset) -> Any:
    """The config of a conv-AE page's run ``e`` (DSSL, DCSS): ``cfg`` (the page's
    method), or the conv AE's baseline config for its AE + k-means row."""
    if e.method != "ae_kmeans":
        return cfg
    return conv_baseline_config(run, CONV_AUTOENCODERS[e.pretraining], ds)


def page_data(run: Run, name: str | None = None) -> Dataset:
    """The page's dataset, capped by the profile; RGB images (CIFAR, STL) become
    ImageNet features (``RGB_BACKBONE``) that the methods cluster with the MLP
    autoencoder, as DCSS §5 and DSSL §IV do."""
    ds = run.load(name)
    if ds.image_shape is not None and ds.image_shape[0] == 3:
        return data.features(ds, RGB_BACKBONE, device=run.device)
    return ds


def by_seed(
    run: Run,
    per_seed: Callable[[int], dict[str, RunResult]],
    seeds: Iterable[int] | None = None,
) -> dict[str, dict[int, RunResult]]:
    """``per_seed(seed)`` for every seed of the run (or of ``seeds``), regrouped as
    ``{name: {seed: RunResult}}`` (what ``ours_vs_paper`` averages)."""
    out: dict[str, dict[int, RunResult]] = {}
    for seed in run.seeds if seeds is None else seeds:
        for name, r in per_seed(seed).items():
            out.setdefault(name, {})[seed] = r
    return out


def runs_of(
    run: Run, method: str, cfg: Any, ds: Dataset, seed: int, tag: str = "", **kw: Any
) -> RunResult:
    """``cache.cluster`` with the run's profile and device. Runs on the page's own
    data (not a sweep subset, a noisy copy or another dataset) log the
    leaderboard's diagnostics atlas (``diagnostics.Diagnostics(atlas=True)``): they
    are its rows."""
    atlas = ds.name in (run.dataset, f"{run.dataset}-vectors")  # see conv_input
    return cluster(
        method,
        cfg,
        ds,
        profile=run.profile.name,
        seed=seed,
        device=run.device,
        tag=tag,
        atlas=atlas,
        **kw,
    )


def costly_seeds(run: Run) -> tuple[int, ...]:
    """The seeds of a page's costliest study: the first in capped profiles, even
    when a run asks for more (``-p seeds [0, 1]``; the quick profile has one seed
    since two put the book over its 30 minutes on a slow two-core machine: DCSS Table 3,
    X + MNet: eight phase-2 runs per seed; the DynAE and R-DC pages: their own
    augmented ACAI network and five runs per seed; the baselines page: six methods
    per seed); all of them in the full and paper profiles."""
    return run.seeds[:1] if run.profile.max_epochs is not None else run.seeds


def run_times(
    results: dict[str, dict[int, RunResult]],
    paper: str,
    tables: Iterable[str],
    names: dict[str, str],
    dataset: str,
) -> pd.DataFrame:
    """Seconds of training per run (mean over seeds; pretraining and clustering
    apart, from the histories) beside the seconds ``paper`` reports for
    ``names[run]`` in any of ``tables`` on ``dataset`` (DynAE Tables 4-5)."""

    def seconds(r: RunResult, stage: str) -> float:
        return sum(rec.get("seconds", 0.0) for rec in stage_records(r.history, stage))

    rows = {}
    for run_name, by_seed in results.items():
        pre = np.mean([seconds(r, "pretrain") for r in by_seed.values()])
        clu = np.mean([seconds(r, "cluster") for r in by_seed.values()])
        row = {"ours: pretraining": pre, "ours: clustering": clu}
        if dataset in PAPER_DATASETS:
            for table in tables:
                found = paper_results(
                    paper=paper, table=table, method=names[run_name], dataset=dataset
                )
                if len(found):
                    row[f"paper ({table})"] = float(found["value"].iloc[0])
        rows[run_name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


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


def describe_data(run: Run, ds: Dataset, seeds: Iterable[int] | None = None) -> str:
    """ "quick profile, mnist5k, n = 5,000, seeds 0, 1": what a caption says ran."""
    seeds = list(run.seeds if seeds is None else seeds)
    word = "seed" if len(seeds) == 1 else "seeds"
    listed = ", ".join(map(str, seeds))
    return f"{run.profile.name} profile, {ds.name}, n = {len(ds):,}, {word} {listed}"


def seeds_phrase(seeds: Iterable[int]) -> str:
    """ "seed 0" or "mean over seeds 0, 1": the seeds behind a sentence."""
    seeds = list(seeds)
    listed = ", ".join(map(str, seeds))
    return f"mean over seeds {listed}" if len(seeds) > 1 else f"seed {listed}"


def conv_input(ds: Dataset) -> Dataset:
    """``ds`` as a conv-AE method (DSSL, DCSS) takes it: images of a size that no
    conv AE takes (8x8 digits; see ``models.GEOMETRIES``) become flat vectors named
    ``<name>-vectors``, which the method clusters with the MLP autoencoder, as it
    does feature vectors; other data are returned as they are."""
    if ds.image_shape is None:
        return ds
    _, h, w = ds.image_shape
    if h == w and h in GEOMETRIES:
        return ds
    flat = ds.flat
    return dataclasses.replace(ds, X=flat, image_shape=None, name=f"{ds.name}-vectors")


def paper_rows(
    dataset: str, names: Iterable[str], tables: Iterable[str] | None = None
) -> dict[str, dict[str, PaperName]]:
    """``paper_tables.ours_vs_paper``'s ``rows`` for the catalog's runs ``names``:
    each run -> every table that reports it ("paper:table") -> its name there
    (``catalog.Entry.paper_names``), or only the ``tables`` named (a "paper:table"
    or a whole paper, "dcss"); empty for a dataset that no paper reports (e.g.
    digits), whose table then shows our columns alone."""
    if dataset not in PAPER_DATASETS:
        return {}
    keep = None if tables is None else set(tables)
    found = {
        name: {
            source: paper_name
            for source, paper_name in catalog.entry(name).paper_names.items()
            if keep is None or {source, source.split(":")[0]} & keep
        }
        for name in names
    }
    return {name: rows for name, rows in found.items() if rows}


def beside(dataset: str) -> str:
    """A caption's words for the paper's columns: "beside the paper's", or why
    there are none."""
    if dataset in PAPER_DATASETS:
        return "beside the paper's"
    return f"(no paper reports {dataset})"


def official_code_fields(method: str) -> dict[str, Any]:
    """The fields on which the official code of ``method`` departs from its paper:
    those where its config's ``official_code()`` differs from the default (as
    ``dml_runs(..., **fields)`` overrides, whose run names tag them apart)."""
    cls = get_method(method).config
    paper, code = cls(), cls.official_code()
    return {
        f.name: getattr(code, f.name)
        for f in dataclasses.fields(cls)
        if getattr(code, f.name) != getattr(paper, f.name)
    }


def describe_autoencoder(run: RunResult) -> str:
    """What autoencoder a cached run trained, from its stored architecture: "the
    dcss conv AE on 1x28x28 images, latent 10" or "the MLP AE 2048-500-500-2000-20"
    (a caption's or a page's words for it)."""
    arch = run.weights["arch"]
    if arch["kind"] == "mlp":
        widths = [arch["in_dim"], *arch["hidden"], arch["latent_dim"]]
        return "the MLP AE " + "-".join(map(str, widths))
    shape = "x".join(map(str, arch["image_shape"]))
    return f"the {arch['kind']} conv AE on {shape} images, latent {arch['latent_dim']}"


def labels(names: Iterable[str]) -> dict[str, str]:
    """Each catalog run of ``names`` -> its label (``catalog.Entry.label``)."""
    return {name: catalog.entry(name).label for name in names}


def labelled_table(
    results: Mapping[str, dict[int, RunResult]],
    rows: dict[str, dict[str, PaperName]],
    dataset: str,
    caption: str,
    metrics: tuple[str, ...] = ("acc", "nmi", "nmi_arithmetic"),
) -> Styler:
    """``paper_tables.ours_vs_paper`` of the catalog's runs ``results`` beside the
    papers' ``rows``, indexed by the runs' labels and captioned."""
    table = ours_vs_paper(dict(results), rows, dataset, metrics=metrics)
    return table.rename(index=labels(results)).style.set_caption(caption)


def conv_reference_runs(
    runs: Callable[..., dict[str, RunResult]],
    method: str,
    at: Callable[[str], Run],
    ds: Dataset,
    seed: int,
    todo: Iterable[str],
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference runs ``todo`` of a conv-AE page (DSSL, DCSS) whose ``runs(run,
    ds, cfg, seed)`` computes them together, ``method``'s config ``cfg``:
    ``(name, RunResult, config)``."""
    run = at(method)
    cfg = config(run, method, ds)
    found = runs(run, ds, cfg, seed)
    for name in todo:
        yield name, found[name], conv_page_config(run, catalog.entry(name), cfg, ds)


def reference_tables(
    names: Sequence[str],
    rows: Callable[[str, Iterable[str]], dict[str, dict[str, PaperName]]] = paper_rows,
    names_of: Callable[[Iterable[str]], dict[str, str]] = labels,
    needs: Sequence[str] = (),
) -> dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]]:
    """The committed reference results (``dclib reference``) of the catalog's runs
    ``names`` beside the papers', one entry per (profile, dataset) that holds any of
    them: the table (``paper_tables.ours_vs_paper`` headed by the profile) and where
    its numbers come from (``store.provenance_table``), both indexed by the runs'
    labels. ``rows`` (dataset, runs) gives the papers' columns (default
    ``paper_rows``: every table that reports a run) and ``names_of`` the labels
    (default ``labels``); a page that sets its runs beside one paper's table under
    that paper's names (DML Table I) passes its own. With ``needs`` (a page's own
    runs), a (profile, dataset) that holds none of them is left out: the baselines
    it would show alone are the baselines page's."""
    out = {}
    for profile, dataset in store.available():
        found = store.results(profile, dataset, list(names))
        if not found or (needs and not set(found) & set(needs)):
            continue
        label = f"reference ({profile})"
        table = ours_vs_paper(found, rows(dataset, found), dataset, label=label)
        where = store.provenance_table(profile, dataset, list(found))
        out[profile, dataset] = (
            table.rename(index=names_of(found)),
            where.rename(index=names_of(found)),
        )
    return out


def reference_curves(
    names: Iterable[str], dataset: str | None, stage: str
) -> dict[str, list[dict[str, Any]]]:
    """The per-epoch records of ``stage`` of the committed reference runs ``names``
    on ``dataset`` (first seed of each), for learning-curve figures, keyed by their
    labels with "(reference, <profile>)". ``dataset`` None: the reference on any
    dataset (a page whose reference runs on other data than the page), the labels
    then name it too. Empty when none is committed."""
    out = {}
    for profile, found in store.available():
        if dataset is not None and found != dataset:
            continue
        where = profile if dataset is not None else f"{profile}, {found}"
        for name, label in labels(names).items():
            seeds = store.load(profile, found, name)
            if seeds:
                history = seeds[min(seeds)].history
                out[f"{label} (reference, {where})"] = stage_records(history, stage)
    return out


def reference_course(names: Iterable[str], stage: str, dataset: str) -> list[str]:
    """Sentences on how the committed reference runs ``names`` on ``dataset`` moved
    over their ``stage`` (first seed): ACC after the first epoch and after the last,
    where the two differ by more than a point, since the reported number is the
    last iterate's."""
    out = []
    for profile, found in store.available():
        if found != dataset:
            continue
        for name, label in labels(names).items():
            seeds = store.load(profile, found, name)
            if not seeds:
                continue
            seed = min(seeds)
            acc = [r["acc"] for r in stage_records(seeds[seed].history, stage)]
            if len(acc) >= 2 and abs(acc[-1] - acc[0]) > 0.01:
                way = "falls" if acc[-1] < acc[0] else "rises"
                out.append(
                    f"In the committed reference (profile {profile}, {found}, seed "
                    f"{seed}) {label}'s ACC {way} from {100 * acc[0]:.1f} % after "
                    f"its first epoch to {100 * acc[-1]:.1f} % after the last of "
                    f"its {len(acc)}; the reported number is the last iterate's."
                )
    return out


def reference_claims(names: Sequence[str]) -> list[str]:
    """Sentences setting the committed reference's ACC of the runs ``names`` beside
    the paper's, one per (profile, dataset) and paper table: "In the committed
    reference (profile full, fmnist, seed 0), ACC beside DynAE Table 3: DynAE 45.2 %
    (paper 59.1 %, -13.9 points)." Runs without a committed result or a paper number
    are left out."""
    out = []
    for profile, dataset in store.available():
        found = store.results(profile, dataset, list(names))
        rows = paper_rows(dataset, found)
        parts: dict[str, list[str]] = {}
        seeds: set[int] = set()
        for name, by_seed in found.items():
            for source, entry in rows.get(name, {}).items():
                theirs = paper_acc(source, entry, dataset)
                if theirs is None:
                    continue
                ours = 100 * seed_mean(by_seed)
                paper, table = source.split(":")
                parts.setdefault(f"{PAPER_LABELS[paper]} {table}", []).append(
                    f"{catalog.entry(name).label} {ours:.1f} % (paper {theirs:.1f} %, "
                    f"{ours - theirs:+.1f} points)"
                )
                seeds |= set(by_seed)
        if parts:
            which = ", ".join(str(s) for s in sorted(seeds))
            out.append(
                f"In the committed reference (profile {profile}, {dataset}, seed "
                f"{which}), ACC "
                + " ".join(
                    f"{'beside' if i == 0 else 'Beside'} {label}: {'; '.join(p)}."
                    for i, (label, p) in enumerate(parts.items())
                )
            )
    return out


def paper_claim(run: Run, ds: Dataset, paper: str, table: str, method: str) -> str:
    """ "The paper reports ACC 98.0 % for DCSS on the full MNIST; this page clustered
    5,000 samples of mnist5k": a page's sentence setting its number beside the
    paper's ("" when no paper reports the run's dataset)."""
    if run.dataset not in PAPER_DATASETS:
        return ""
    where = dict(paper=paper, table=table, method=method, metric="ACC")
    theirs = paper_results(dataset=run.dataset, **where).iloc[0]
    return (
        f"The paper reports ACC {theirs.value:.1f} % for {method} on the full "
        f"{theirs.dataset}; this page clustered {len(ds):,} samples of {run.dataset}"
    )


def epoch_costs(
    results: dict[str, RunResult], stages: Iterable[str] = ("pretrain", "cluster")
) -> pd.DataFrame:
    """Epochs and mean wall-clock seconds per epoch of each run, by stage.

    ``results`` maps a method to one run; each of ``stages`` names the history
    records it counts (records without ``seconds`` are skipped).
    """
    rows = {}
    for method, run in results.items():
        row = {}
        for name in stages:
            secs = [
                r["seconds"] for r in stage_records(run.history, name) if "seconds" in r
            ]
            row[f"{name} epochs"] = len(secs)
            row[f"s / {name} epoch"] = float(np.mean(secs)) if secs else np.nan
        rows[method] = row
    return pd.DataFrame.from_dict(rows, orient="index")
