"""The papers' numbers reconciled with the authors' released logs and with ours.

A paper's number, the authors' own log and our run are three different things: the
DynAE and R-DC papers report numbers above their code's last iterate (DynAE's 59.1 %
on Fashion-MNIST against its released log's 56.5 % at the end; the R-DC code keeps
the best ACC over its checks, selected with the labels), and one k-means draw moves
the start of every run by several points. The reconciliation table puts them in one
row per method: the paper; the authors' log (start, best, last; where one was
released, ``results/authors_logs.csv``); our last iterate, which is the result (and,
where it is one k-means draw, the mean ± sd of ``KMEANS_SEEDS`` draws on the same
final codes); our best over the checks, an oracle (it reads the labels); and our
k-means start, the protocol's draw beside the mean ± sd of the draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from dclib.book import catalog
from dclib.book.cache import TABLES_DIR, RunResult
from dclib.book.paper_tables import PaperName, paper_acc
from dclib.book.reference import store
from dclib.methods import KMEANS_SEEDS

LOGS = TABLES_DIR / "authors_logs.csv"
"""the authors' released training logs: ACC at the start, best and last check"""


@dataclass(frozen=True)
class Line:
    """One method of a reconciliation table."""

    label: str
    run: str
    """its committed reference run"""
    start: str
    """the committed k-means run on the same pretrained network: its start"""
    paper: tuple[str, PaperName] | None = None
    """("paper:table", the method's name there)"""
    log: str | None = None
    """its name in ``LOGS``"""


def catalog_lines(page: str, table: str) -> list[Line]:
    """The lines of ``page``'s runs as the catalog names them: every run but the
    page's k-means start, each against that start, with its name in the paper's
    ``table`` ("dynae:Table 3") where it has one, and that name as its log's where
    the authors released a log under it (``LOGS``)."""
    entries = catalog.page_runs(page)
    start = next(e.name for e in entries if e.method == "ae_kmeans")
    logged = set(pd.read_csv(LOGS)["method"])
    out = []
    for e in entries:
        if e.name == start:
            continue
        name = e.paper_names.get(table)
        paper = None if name is None else (table, name)
        log = name if name in logged else None
        out.append(Line(e.label, e.name, start, paper, log))
    return out


def start_line(page: str, table: str) -> Line:
    """The line of ``page``'s k-means start itself, for a paper ``table`` that
    reports it (R-DC Table 8's P1): its own start."""
    e = next(e for e in catalog.page_runs(page) if e.method == "ae_kmeans")
    return Line(e.label, e.name, e.name, (table, e.paper_names[table]))


PAGES: dict[str, list[Line]] = {
    "dynae": catalog_lines("dynae", "dynae:Table 3"),
    "rdc": [
        start_line("rdc", "rdc:Table 8"),
        *catalog_lines("rdc", "rdc:Table 8"),
    ],
}
"""the reconciliation table's lines of the DynAE and R-DC pages (the R-DC code
released no log)"""


def authors_log(method: str, dataset: str) -> dict[str, float] | None:
    """The start, best and last ACC (in %) of ``method``'s released log on
    ``dataset``; None where the authors released none."""
    logs = pd.read_csv(LOGS)
    row = logs[(logs["method"] == method) & (logs["dataset"] == dataset)]
    if row.empty:
        return None
    return {k: float(row.iloc[0][k]) for k in ("start", "best", "last")}


def oracle_best(result: RunResult) -> float:
    """The highest ACC (a fraction) over a run's logged checks (or epochs, for a run
    without checks): a number selected with the true labels, never a result."""
    for stage in ("checks", "cluster"):
        accs = [
            r.get("acc", math.nan) for r in result.history if r.get("stage") == stage
        ]
        accs = [a for a in accs if a == a]  # NaN: a check without labels
        if accs:
            return max(accs)
    return float("nan")


def _mean(by_seed: dict[int, RunResult], value) -> float:
    return float(np.mean([value(r) for r in by_seed.values()]))


def _spread(by_seed: dict[int, RunResult]) -> str | None:
    """The k-means draws' "mean ± sd" (in %), averaged over the seeds; None for a
    run without them."""
    first = store.first_seed(by_seed).metrics
    if "kmeans_acc_mean" not in first:
        return None
    mean = _mean(by_seed, lambda r: r.metrics["kmeans_acc_mean"])
    sd = _mean(by_seed, lambda r: r.metrics["kmeans_acc_sd"])
    return f"{100 * mean:.1f} ± {100 * sd:.1f}"


def table(
    lines: list[Line], profile: str, dataset: str, root: Path | None = None
) -> pd.DataFrame:
    """The reconciliation table (ACC in %) of ``lines`` on the committed reference
    of ``profile`` and ``dataset`` (under ``root``, default ``results/``); lines
    without a committed run are left out."""
    rows = {}
    for line in lines:
        ours = store.load(profile, dataset, line.run, root)
        if not ours:
            continue
        start = store.load(profile, dataset, line.start, root)
        paper = None if line.paper is None else paper_acc(*line.paper, dataset)
        log = None if line.log is None else authors_log(line.log, dataset)
        rows[line.label] = {
            "paper": paper,
            "authors' log: start": None if log is None else log["start"],
            "authors' log: best": None if log is None else log["best"],
            "authors' log: last": None if log is None else log["last"],
            "ours: last iterate": 100 * _mean(ours, lambda r: r.metrics["acc"]),
            f"ours: last iterate, {KMEANS_SEEDS} k-means draws": _spread(ours),
            "ours: best check (oracle)": 100 * _mean(ours, oracle_best),
            "ours: k-means start, the protocol's draw": (
                100 * _mean(start, lambda r: r.metrics["acc"]) if start else None
            ),
            f"ours: k-means start, {KMEANS_SEEDS} draws": (
                _spread(start) if start else None
            ),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def summary(lines: list[Line], profile: str, dataset: str) -> str:
    """One sentence per line of ``table`` that has a committed run: its last iterate
    against its own k-means start (the mean of the draws) and, where the authors
    released a log, against that log's last iterate."""
    t = table(lines, profile, dataset)
    spread = f"ours: k-means start, {KMEANS_SEEDS} draws"
    draws = f"ours: last iterate, {KMEANS_SEEDS} k-means draws"
    out = []
    starts = {line.label for line in lines if line.run == line.start}
    for label, row in t.iterrows():
        if label in starts:  # the start itself: its draws are the table's
            continue
        last = row["ours: last iterate"]
        parts = []
        if pd.notna(row[spread]):
            start = float(row[spread].split(" ± ")[0])
            parts.append(
                f"{last - start:+.1f} points from its own k-means start "
                f"({row[spread]} % over {KMEANS_SEEDS} draws)"
            )
        if pd.notna(row[draws]) and pd.notna(row[spread]):
            end = float(row[draws].split(" ± ")[0])
            parts.append(
                f"over {KMEANS_SEEDS} k-means draws on its final codes "
                f"{row[draws]} %, {end - start:+.1f} from the start's draws"
            )
        logged = row["authors' log: last"]
        if pd.notna(logged):
            parts.append(
                f"{last - logged:+.1f} from the authors' last logged iterate "
                f"({logged:.1f} %)"
            )
        out.append(
            f"{label}'s last iterate is {last:.1f} %"
            + (": " + " and ".join(parts) if parts else "")
            + "."
        )
    return " ".join(out)


START_COLUMNS = {
    "code_norm": "mean code norm",
    "d1": "median d(1st nbr)",
    "dM": "median d(M-th nbr)",
    "gaps_under_beta": "gaps ≤ beta",
    "tau": "tau",
    "l1": "L1",
    "l2": "L2",
    "grad_l1": "|dL1/dz|",
    "grad_l2": "|dL2/dz|",
    "kmeans_acc_mean": "k-means ACC mean",
    "kmeans_acc_sd": "k-means ACC sd",
}
"""the start record's fields a table shows (``_targets.phase_start``), by heading"""


def start_table(runs: dict[str, RunResult]) -> pd.DataFrame:
    """One row per run (its label -> result) with its ``start`` record (first
    history record of that stage): the label-free diagnostics of the phase's start
    and, where logged, the k-means spread on its codes (ACC in %). Runs without a
    start record are left out."""
    rows = {}
    for label, result in runs.items():
        start = [r for r in result.history if r.get("stage") == "start"]
        if not start:
            continue
        record = dict(start[0])
        for key in ("kmeans_acc_mean", "kmeans_acc_sd", "tau", "gaps_under_beta"):
            if key in record:
                record[key] *= 100
        rows[label] = {h: record.get(k) for k, h in START_COLUMNS.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.dropna(axis=1, how="all")


def start_view(
    ours: dict[str, RunResult],
    reference: dict[str, str],
    caption: str,
    profile: str = "full",
    dataset: str = "fmnist",
) -> Styler:
    """``start_table`` as a page shows it, one column per run (3 significant
    digits): this execution's runs ``ours`` (label -> result) beside the first seed
    of the committed ``reference`` runs (label -> run name) that exist."""
    runs = dict(ours)
    for label, name in reference.items():
        found = store.load(profile, dataset, name)
        if found:
            runs[label] = store.first_seed(found)
    styled = start_table(runs).T.style.format("{:.3g}", na_rep="—")
    return styled.set_caption(caption)


TABLES = {"dynae": "DynAE Table 3", "rdc": "R-DC Table 8"}
"""the paper table each page's reconciliation stands beside"""


def view(
    page: str, profile: str = "full", dataset: str = "fmnist"
) -> tuple[str, Styler] | tuple[()]:
    """What ``page`` ("dynae", "rdc") shows of its reconciliation: the ``summary``
    sentences and the ``table`` (one column per method, ACC in %, without the
    sources no method has), captioned with the paper's table; empty when none of
    its runs is committed."""
    t = table(PAGES[page], profile, dataset)
    if t.empty:
        return ()
    styled = t.dropna(axis=1, how="all").T.style.format(precision=1, na_rep="—")
    caption = (
        f"{TABLES[page]} reconciled — {dataset}, the committed reference (profile "
        f"{profile}, ACC in %, first seed): the paper, the authors' released log "
        "where there is one, our last iterate, our best check (oracle), our k-means "
        "start"
    )
    return summary(PAGES[page], profile, dataset), styled.set_caption(caption)


__all__ = [
    "LOGS",
    "PAGES",
    "START_COLUMNS",
    "TABLES",
    "Line",
    "authors_log",
    "catalog_lines",
    "oracle_best",
    "start_line",
    "start_table",
    "start_view",
    "summary",
    "table",
    "view",
]
