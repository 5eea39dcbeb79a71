"""The cross-paper leaderboard: every method of the library under one protocol.

Each paper compares against its own tables, pretrained and selected its own way.
Here every method runs through the same data, profile, seeds and run cache, and
one table per dataset puts them side by side (``table``), beside

- the k-means of the same pretrained network (how much each clustering phase adds
  over its pretraining: runs share a network when their pretraining histories are
  identical, i.e. the run cache gave them one pretraining);
- the number the method's own paper reports for that dataset (``paper_results.csv``),
  the difference, and the protocol the two numbers come from;
- the label-selection gap (``oracle_gap``): how much higher the best epoch by true
  labels scores than the last one. The official code of DSSL, DCSS and R-DC keeps
  that checkpoint; no user can, since it needs the labels. Our methods report the
  last iterate and never read the monitor (``tests/test_baselines.py`` checks that
  labels and codes are identical with and without it).

``verdicts`` checks the orderings the papers claim. Every number is read from runs
(``RunResult``) or ``paper_results.csv``; none is typed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from dclib.book import catalog, claims, recipes, verdicts
from dclib.book.cache import RESULTS_DIR, TABLES_DIR, RunResult, seed_mean, seed_table
from dclib.book.paper_tables import (
    PAPER_DATASETS,
    PAPER_LABELS,
    in_percent,
    paper_results,
)
from dclib.book.papers import baselines, dcss, dml, dssl, dynae, rdc
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.data import Dataset
from dclib.storage import json_hash

ENTRIES = catalog.BOARD
"""the leaderboard's rows, in the order of the book's pages"""

BY_NAME = catalog.BY_NAME


def oracle_gap(run: RunResult) -> float | None:
    """Best monitored ACC over the epochs of the last training stage minus the
    reported ACC, in percentage points: what selecting the checkpoint with the true
    labels (as the official DSSL, DCSS and R-DC code does) would add. An oracle no
    user can apply; None when the run logged no monitored ACC."""
    monitored = [r for r in run.history if "acc" in r and r.get("stage") != "pretrain"]
    if not monitored:
        return None
    last = monitored[-1].get("stage")
    best = max(r["acc"] for r in monitored if r.get("stage") == last)
    return 100 * (max(best, run.metrics["acc"]) - run.metrics["acc"])


def network_id(name: str, results: dict[str, dict[int, RunResult]]) -> str | None:
    """A hash of the pretrained network ``name``'s first seed starts from: its
    pretraining history (identical for runs the run cache gave one pretraining),
    or that of the run it continues. None when unknown."""
    entry = BY_NAME.get(name)
    if entry is not None and entry.start is not None:
        return network_id(entry.start, results)
    runs = results.get(name)
    if not runs:
        return None
    first = runs[min(runs)]
    pre = [r for r in first.history if r.get("stage") == "pretrain"]
    if not pre:
        return None
    keep = ("loss", "layer", "epoch", "stage")
    return json_hash([{k: r[k] for k in keep if k in r} for r in pre], length=8)


def _paper_number(entry: catalog.Entry, dataset: str, metric: str) -> float | None:
    if entry.paper is None or dataset not in PAPER_DATASETS:
        return None
    paper, table = entry.paper.split(":")
    found = paper_results(
        paper=paper,
        table=table,
        method=entry.paper_name or entry.label,
        dataset=dataset,
        metric=metric,
    )
    found = found[found["setting"].fillna("") == entry.setting]
    return None if found.empty else in_percent(found.iloc[0])


def _kmeans_rows(results: dict[str, dict[int, RunResult]]) -> dict[str, str]:
    """network hash -> the name of the k-means row on that network"""
    found: dict[str, str] = {}
    for e in ENTRIES:
        net = network_id(e.name, results) if e.name.startswith("ae_kmeans") else None
        if net is not None:
            found.setdefault(net, e.name)
    return found


def _difference(runs: dict[int, RunResult], paper_acc: float | None) -> str:
    """Our ACC minus the paper's, in points: the mean over seeds with its 95 % t
    interval where there are two or more (``verdicts.t_interval``)."""
    if paper_acc is None:
        return "—"
    d = [100 * r.metrics["acc"] - paper_acc for r in runs.values()]
    if len(d) == 1:
        return f"{d[0]:+.1f}"
    mean, low, high = verdicts.t_interval(d)
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]"


COMPARED = ("page", "ACC", "paper ACC", "ours − paper (ACC)", "oracle gap (pp)")
"""the columns of ``table`` a reader compares; ``details`` gives the others"""

SCORES = ("NMI", "NMI (arith.)", "paper NMI", "ARI", "seeds")
"""``details``' first table: the other scores"""


def compared(board: pd.DataFrame) -> pd.DataFrame:
    """What a reader compares in ``table``'s ``board``: ACC (%, mean ± std over
    seeds), the paper's ACC, ours − paper (with its interval over seeds) and the
    label-selection oracle gap."""
    return board[list(COMPARED)]


def details(board: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rest of ``table``'s ``board`` in two tables that fit the column: the
    other scores (NMI, the paper's NMI, ARI, seeds), then the training time, the
    network each row starts from, its k-means ACC and what clustering adds (the
    protocol and the paper's table go in the text)."""
    rest = [c for c in board.columns if c not in (*COMPARED, *SCORES)]
    rest = [c for c in rest if c not in ("our protocol", "paper's table")]
    return board[list(SCORES)], board[rest]


def table(
    results: dict[str, dict[int, RunResult]], dataset: str, protocol: str
) -> pd.DataFrame:
    """One row per entry of ``ENTRIES`` that ``results`` ({name: {seed: run}})
    holds: ACC, NMI (max and arithmetic normalisation), ARI (%, mean ± std over
    seeds), seeds, training seconds per seed, the network it starts from (a short
    hash; rows with the same one share a pretrained network) and that network's
    k-means ACC, what the clustering phase adds over it, its own paper's ACC and NMI
    for ``dataset`` with the difference, ``protocol`` (ours, in words) and the
    label-selection oracle gap."""
    kmeans_of = _kmeans_rows(results)
    rows = {}
    for e in ENTRIES:
        runs = results.get(e.name)
        if not runs:
            continue
        acc = 100 * seed_mean(runs)
        net = network_id(e.name, results)
        base = kmeans_of.get(net) if net is not None else None
        base_acc = 100 * seed_mean(results[base]) if base is not None else None
        paper_acc = _paper_number(e, dataset, "ACC")
        paper_nmi = _paper_number(e, dataset, "NMI")
        gaps = [g for g in map(oracle_gap, runs.values()) if g is not None]
        seconds = np.mean(
            [sum(h.get("seconds", 0.0) for h in r.history) for r in runs.values()]
        )
        scores = seed_table(runs, ("acc", "nmi", "nmi_arithmetic", "ari"))
        rows[e.label] = {
            "page": catalog.PAGE_LABELS[e.page],
            "ACC": scores["acc"],
            "NMI": scores["nmi"],
            "NMI (arith.)": scores["nmi_arithmetic"],
            "ARI": scores["ari"],
            "seeds": ", ".join(map(str, sorted(runs))),
            "train s/seed": f"{seconds:.0f}",
            "network": net or "—",
            "k-means on it": "—" if base_acc is None else f"{base_acc:.1f}",
            "clustering adds": "—"
            if base_acc is None or base == e.name
            else f"{acc - base_acc:+.1f}",
            "paper ACC": "—" if paper_acc is None else f"{paper_acc:.1f}",
            "paper NMI": "—" if paper_nmi is None else f"{paper_nmi:.1f}",
            "ours − paper (ACC)": _difference(runs, paper_acc),
            "paper's table": e.paper or "—",
            "our protocol": protocol,
            "oracle gap (pp)": f"{np.mean(gaps):.1f}" if gaps else "—",
        }
    return pd.DataFrame.from_dict(rows, orient="index")


ATLAS_KEYS = ("fr", "fd", "id", "lid", "twist")
"""the atlas's diagnostics, logged as ``atlas_<key>`` (the fit's monitor,
``diagnostics.Diagnostics(atlas=True)``)"""


def _atlas_points(run: RunResult) -> list[dict[str, float]]:
    """The monitored records of ``run`` that carry the atlas, in training order."""
    return [
        {k: r[f"atlas_{k}"] for k in ATLAS_KEYS} | {"acc": 100 * r["acc"]}
        for r in run.history
        if "atlas_fr" in r
    ]


def _atlas_curve(
    name: str, seed: int, results: dict[str, dict[int, RunResult]], kmeans_of
) -> list[dict[str, float]]:
    """The atlas along the whole training of run ``name``: the run it continues
    (its own curve) or the k-means of its pretrained network (after pretraining),
    then its own points."""
    entry = BY_NAME[name]
    before: list[dict[str, float]] = []
    if entry.start is not None and seed in results.get(entry.start, {}):
        before = _atlas_curve(entry.start, seed, results, kmeans_of)
    else:
        base = kmeans_of.get(network_id(name, results) or "")
        if base not in (None, name) and seed in results[base]:
            before = _atlas_points(results[base][seed])[:1]
    return before + _atlas_points(results[name][seed])


def atlas(results: dict[str, dict[int, RunResult]]) -> pd.DataFrame:
    """The diagnostics atlas along training: for each row's first seed, Δ_FR and
    Δ_FD under one loss (``diagnostics.one_protocol``), the codes' ID, LID and
    twist, and the monitored ACC, at every logged epoch (the fit's monitor,
    ``diagnostics.Diagnostics(atlas=True)``), from
    the point after pretraining (the k-means run on the same network) or from the
    start of the run it continues, to the end. ``step`` counts the points,
    ``progress`` scales them to [0, 1]; ``final acc`` is the run's reported ACC.
    Rows whose runs logged no atlas (e.g. older committed results) are absent."""
    kmeans_of = _kmeans_rows(results)
    rows = []
    for e in ENTRIES:
        runs = results.get(e.name)
        if not runs:
            continue
        seed = min(runs)
        if not _atlas_points(runs[seed]):
            continue
        curve = _atlas_curve(e.name, seed, results, kmeans_of)
        final = 100 * runs[seed].metrics["acc"]
        for step, point in enumerate(curve):
            progress = step / max(len(curve) - 1, 1)
            where = {
                "method": e.label,
                "page": catalog.PAGE_LABELS[e.page],
                "step": step,
            }
            rows.append(where | {"progress": progress, "final acc": final} | point)
    return pd.DataFrame(rows)


def atlas_end(frame: pd.DataFrame) -> pd.DataFrame:
    """The last point of each method's curve in ``atlas`` (indexed by method): its
    diagnostics at the end of training beside its reported ACC; a diagnostic that a
    method has not (DML's Δ_FR, Δ_FD) stays NaN, never an earlier point's value."""
    end = frame.groupby("method", sort=False).tail(1).set_index("method")
    return end[["final acc", *ATLAS_KEYS]]


def orderings(results: dict[str, dict[int, RunResult]]) -> pd.DataFrame:
    """Each ordering of the claims ledger (``claims.CLAIMS``) whose two runs
    ``results`` holds: both mean ACCs and whether this execution's runs come in
    the claimed order (a comparison, not a verdict: ``verdicts`` judges claims)."""
    rows = []
    for c in [c for c in claims.CLAIMS if isinstance(c, claims.Claim)]:
        if not results.get(c.better) or not results.get(c.worse):
            continue
        a, b = (100 * seed_mean(results[n]) for n in (c.better, c.worse))
        rows.append(
            {
                "claim": c.statement,
                "where": c.source,
                "ours (ACC)": f"{a:.1f} vs {b:.1f}",
                "same order here": "yes" if a > b else "no",
            }
        )
    return pd.DataFrame(rows)


def records(datasets: Iterable[str], top: int = 5) -> pd.DataFrame:
    """The ``top`` highest ACC per dataset among every row of the five papers'
    tables (``paper_results.csv``: their methods and the competitors they
    report), one row per method (its best), with the NMI of the same table row
    and where it is reported."""
    out = []
    for dataset in datasets:
        found = paper_results(dataset=dataset)
        found = found.assign(
            pct=found.apply(in_percent, axis=1), setting=found["setting"].fillna("")
        )
        key = ["paper", "table", "method", "dataset", "setting"]
        acc = found[found["metric"] == "ACC"]
        nmi = found[found["metric"] == "NMI"].set_index(key)["pct"]
        best = acc.sort_values("pct", ascending=False).drop_duplicates("method")
        for _, r in best.head(top).iterrows():
            at = tuple(r[k] for k in key)
            out.append(
                {
                    "dataset": r["dataset"],
                    "method": r["method"]
                    + (f" ({r['setting']})" if r["setting"] else ""),
                    "ACC": f"{r['pct']:.1f}",
                    "NMI": f"{nmi[at]:.1f}" if at in nmi.index else "—",
                    "reported in": f"{PAPER_LABELS[r['paper']]} {r['table']}",
                }
            )
    return pd.DataFrame(out)


def published(datasets: Iterable[str], root: Path | None = None) -> pd.DataFrame:
    """Records from outside the five papers (``results/published_records.csv``:
    method, family, ACC, NMI, the data and checkpoint protocol, the source), for
    ``datasets`` (our names), so that a reader can place the five papers. The file
    holds only numbers that two public listings agree on; a row added needs its
    source and protocol."""
    root = TABLES_DIR if root is None else root
    found = pd.read_csv(root / "published_records.csv")
    spellings = {s for d in datasets for s in PAPER_DATASETS.get(d, ())}
    return found[found["dataset"].isin(spellings)].reset_index(drop=True)


def from_results(
    profile: str, dataset: str, root: Path | None = None
) -> dict[str, dict[int, RunResult]]:
    """The entries' runs on disk for ``profile`` and ``dataset``: the committed
    reference (``full``, ``paper``) or, for other profiles, the latest run of each
    name that a page executed (``results/<run>/<dataset>/<profile>/seed=*``)."""
    root = RESULTS_DIR if root is None else root
    if profile in ("full", "paper"):
        return store.results(profile, dataset, [e.name for e in ENTRIES], root)
    out: dict[str, dict[int, RunResult]] = {}
    for e in ENTRIES:
        folder = root / e.cache_name / dataset / profile
        for seed_dir in sorted(folder.glob("seed=*")):
            if not (seed_dir / "metrics.json").exists():
                continue
            seed = int(seed_dir.name.removeprefix("seed="))
            history = [json.loads(s) for s in (seed_dir / "history.jsonl").open()]
            metrics = json.loads((seed_dir / "metrics.json").read_text())
            out.setdefault(e.name, {})[seed] = RunResult(metrics, history, {})
    return out


def scoreboards(root: Path | None = None) -> Iterable[tuple[str, str, pd.DataFrame]]:
    """(profile, dataset, ``table``) for every profile and dataset with results on
    disk: the reference's, then those of executed pages."""
    root = RESULTS_DIR if root is None else root
    pairs = list(store.available(root))
    for profile in ("quick", "smoke"):
        found = {p.parent.name for p in root.glob(f"*/*/{profile}")}
        pairs += [(profile, d) for d in sorted(found)]
    for profile, dataset in pairs:
        results = from_results(profile, dataset, root)
        if results:
            yield profile, dataset, table(results, dataset, f"profile {profile}")


def leaderboard_runs(run: Run, ds: Dataset) -> dict[str, dict[int, RunResult]]:
    """Every run of ``catalog.BOARD`` on the pages' data ``ds``, under the catalog's
    names, with the seeds and configs each page uses (so the run cache returns the
    pages' own runs once they have executed), including k-means on the MLP network
    that DEC, IDEC and DCN pretrain greedily (``ae_kmeans_greedy``)."""
    conv = recipes.conv_input(ds)
    greedy = catalog.entry("ae_kmeans_greedy")
    greedy_cfg = recipes.config(
        run, greedy.method, ds, pretrain=recipes.config(run, "dec", ds).pretrain
    )
    dcss_cfg = recipes.config(run, "dcss", conv)
    rdc_names = [e.name for e in catalog.page_runs("rdc") if e.board]

    def first_seeds(seed: int) -> dict[str, RunResult]:  # ``costly_seeds`` pages
        kmeans = recipes.runs_of(run, greedy.method, greedy_cfg, ds, seed, greedy.tag)
        return (
            baselines.runs(run, ds, seed)
            | {greedy.name: kmeans}
            | dcss.x_mnet_runs(run, conv, dcss_cfg, seed)
            | dynae.runs(run, ds, seed)
            | rdc.runs(run, ds, seed, rdc_names)
        )

    def every_seed(seed: int) -> dict[str, RunResult]:
        bases_and_dml = dml.table_runs(run, ds, seed)
        return (
            dssl.runs(run, conv, recipes.config(run, "dssl", conv), seed)
            | dcss.runs(run, conv, dcss_cfg, seed)
            | {k: v for k, v in bases_and_dml.items() if k in dml.RUNS}
        )

    return recipes.by_seed(run, first_seeds, recipes.costly_seeds(run)) | (
        recipes.by_seed(run, every_seed)
    )
