"""The committed reference results: where each lives, reading them, and where they
came from.

``dclib reference`` (``dclib.book.reference.runner``) writes one JSON per run and
seed under
``results/reference/<profile>/<dataset>/<run>/seed=<s>.json``; pages, grids and the
leaderboard read them here with ``results`` and say where they came from with
``provenance_table``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dclib.book.cache import RESULTS_DIR, RunResult


def result_path(root: Path, profile: str, dataset: str, run: str, seed: int) -> Path:
    """Where the result of ``run`` (one seed) lives under ``root``."""
    return root / "reference" / profile / dataset / run / f"seed={seed}.json"


def load(
    profile: str, dataset: str, run: str, root: Path | None = None
) -> dict[int, RunResult]:
    """The committed reference results of one run: ``{seed: RunResult}`` (arrays:
    none; the provenance under ``metrics``' sibling ``RunResult.arrays`` is empty),
    empty when absent."""
    root = RESULTS_DIR if root is None else root
    folder = root / "reference" / profile / dataset / run
    out = {}
    for path in sorted(folder.glob("seed=*.json")):
        rec = json.loads(path.read_text())
        out[rec["seed"]] = RunResult(rec["metrics"], rec["history"], {}, None)
    return out


def results(
    profile: str, dataset: str, names: Sequence[str], root: Path | None = None
) -> dict[str, dict[int, RunResult]]:
    """``{run: {seed: RunResult}}`` of the named runs that have committed results
    (what ``paper_tables.ours_vs_paper`` takes, with ``label="reference"``)."""
    found = {name: load(profile, dataset, name, root) for name in names}
    return {name: r for name, r in found.items() if r}


def first_seed(by_seed: dict[int, RunResult]) -> RunResult:
    """The lowest seed's result of ``{seed: RunResult}`` (the run a page's figures
    show)."""
    return by_seed[min(by_seed)]


def available(root: Path | None = None) -> list[tuple[str, str]]:
    """The (profile, dataset) pairs that hold committed results (``paper`` first,
    smoke results left out)."""
    root = RESULTS_DIR if root is None else root
    return [
        (profile, folder.name)
        for profile in ("paper", "full")
        for folder in sorted((root / "reference" / profile).glob("*"))
        if folder.is_dir() and not folder.name.startswith(".")
    ]


def provenance_table(
    profile: str, dataset: str, names: Sequence[str], root: Path | None = None
) -> pd.DataFrame:
    """Where each committed result of ``names`` comes from: data size, epochs per
    stage, the CPU cap on them where the paper's count did not fit, seeds, training
    time (with the logging against the true labels, which results committed before
    ``train.off_the_clock`` did not separate), commit, device and date (one row per
    run)."""
    root = RESULTS_DIR if root is None else root
    rows = {}
    for name in names:
        records = [
            json.loads(p.read_text())
            for p in sorted(
                (root / "reference" / profile / dataset / name).glob("*.json")
            )
        ]
        if not records:
            continue
        first, p = records[0], records[0]["provenance"]
        rows[name] = {
            "n": f"{first['n_samples']:,}",
            "epochs": ", ".join(
                f"{k} {v}" for k, v in epochs_by_stage(first["history"]).items()
            ),
            "seeds": ", ".join(str(r["seed"]) for r in records),
            "CPU cap": caps(first),
            "train time": format_seconds(
                first["train_seconds"] + first.get("monitor_seconds", 0.0)
            ),
            "commit": p["git_commit"][:12],
            "device": p["device"],
            "date": p["date"][:10],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def caps(record: dict[str, Any]) -> str:
    """A result's CPU caps in words: "pretraining ≤ 50 epochs, clustering ≤ 50
    epochs per stage", or "none"."""
    caps = [
        f"{what} ≤ {record[key]} epochs{per}"
        for what, key, per in (
            ("pretraining", "pretrain_cap", ""),
            ("clustering", "clustering_cap", " per stage"),
        )
        if record.get(key)
    ]
    return ", ".join(caps) or "none"


def epochs_by_stage(history: list[dict]) -> dict[str, int]:
    """How many records each stage of ``history`` has (its logged epochs)."""
    counts: dict[str, int] = {}
    for r in history:
        counts[r.get("stage", "?")] = counts.get(r.get("stage", "?"), 0) + 1
    return counts


def format_seconds(s: float) -> str:
    """``s`` seconds as "1h05m" or "4m09s"."""
    s = int(s)
    return (
        f"{s // 3600}h{s % 3600 // 60:02d}m"
        if s >= 3600
        else f"{s // 60}m{s % 60:02d}s"
    )
