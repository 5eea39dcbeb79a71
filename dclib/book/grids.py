"""The pages' grid studies: sensitivity sweeps, imbalanced data, the paper's config
against the official code's. Each is many runs, so they live in the reference.

``page_grids(run, page, ds)`` gives a page its studies: from the committed reference
(``dclib reference`` runs the ``grids`` job of each page at the ``full`` profile)
when it holds them for the page's dataset and first seed, otherwise computed by this
execution at smoke scale (the ``smoke`` profile's sweep subset and epochs; the
``full`` and ``paper`` profiles compute at their own scale). ``Grids.source`` says
which, for the captions: a reader never mistakes one for the other.

A study is a frame with one row per ``setting`` (and ``method``, where it compares
several) and the run's metrics (what ``plotting.sweeps`` and
``paper_tables.sweep_vs_paper`` take); curves are per-epoch
records of some runs (DSSL Fig. 7, DCSS Fig. 10a). Method names are run names
(``ae_kmeans``, ``dcss``); pages map them to the papers'.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dclib.book import recipes
from dclib.book.cache import RESULTS_DIR, RunResult, cluster, setting_tag
from dclib.book.profiles import PROFILES, Run
from dclib.book.reference import store
from dclib.data import Dataset
from dclib.methods._common import Start


@dataclass(frozen=True)
class Grids:
    """A page's grid studies and where they come from."""

    studies: dict[str, pd.DataFrame]
    """study -> one row per setting (and method): ``setting``, ``n``, the run's
    metrics and, where a study compares several, ``method``"""
    curves: dict[str, dict[str, list[dict]]]
    """figure -> label -> per-epoch records"""
    data: dict[str, str]
    """study group ("sweeps", "imbalance") -> the data it ran on, for captions"""
    source: str
    """"the committed reference (profile full, commit ..., device, date)" or "this
    execution at smoke scale (no committed reference for ...)\""""
    committed: bool = False
    """whether the studies are the committed reference's (evidence a page may set
    beside the paper's numbers and quote), not this execution's wiring check"""

    def to_json(self) -> dict[str, Any]:
        return {
            "studies": {
                k: f.to_dict("split", index=False) for k, f in self.studies.items()
            },
            "curves": self.curves,
            "data": self.data,
        }

    def diverged(self, names: dict[str, str] | None = None) -> str:
        """A sentence naming the settings whose loss diverged (NaN scores, so no
        point in the figures), or "" when none did; ``names`` maps run names to the
        page's."""
        names = names or {}
        found = [
            f"{study} {row['setting']}"
            + (
                f" ({names.get(row['method'], row['method'])})"
                if "method" in row
                else ""
            )
            for study, frame in self.studies.items()
            if "diverged" in frame
            for _, row in frame[frame["diverged"] == 1].iterrows()
        ]
        if not found:
            return ""
        return (
            " These settings diverged (the loss was not finite: NaN scores, no point "
            f"in the figures): {'; '.join(found)}."
        )

    @classmethod
    def from_json(cls, record: dict[str, Any], source: str) -> Grids:
        studies = {
            k: pd.DataFrame(v["data"], columns=v["columns"])
            for k, v in record["studies"].items()
        }
        return cls(studies, record["curves"], record["data"], source)


def code_sentence(studies: Grids, method: str) -> list[str]:
    """The committed "official code" study in words: ``method``'s ACC with each
    config ("In the same grids, DynAE's ACC with DynAEConfig() 61.2 %; ..."), or
    nothing where the studies hold none."""
    if "official code" not in studies.studies:
        return []
    said = "; ".join(
        f"{row.setting} {100 * row.acc:.1f} %"
        if math.isfinite(row.acc)
        else f"{row.setting} diverged"
        for row in studies.studies["official code"].itertuples()
    )
    return [f"In the same grids, {method}'s ACC with {said}."]


def wanted(only: Sequence[str] | None, study: str) -> bool:
    """Whether a page's ``compute_grids`` computes ``study``: ``only`` names the
    studies a reference job asks for (a sensitivity statement of the claims ledger:
    that study alone); None: all of them."""
    return only is None or study in only


def rows(runs: dict[Any, dict[str, RunResult]], n: dict[Any, int]) -> pd.DataFrame:
    """One row per (setting, run name): the frame of a study."""
    return pd.DataFrame(
        {"method": name, "setting": s, "n": n[s], **r.metrics}
        for s, named in runs.items()
        for name, r in named.items()
    )


def sweep_rows(method: str, cfg: Any, small: Dataset, grid: dict, **kw: Any):
    frame, runs = sweep(method, cfg, small, grid, **kw)
    return frame.assign(n=len(small)), runs


def setting(run: Run, method: str, cfg: Any, ds: Dataset, tag: str = "") -> RunResult:
    """One setting of a study at the run's seed (``recipes.runs_of``); a setting
    whose loss diverges is a row of NaN scores (``cache.cluster``'s
    ``keep_diverged``)."""
    return recipes.runs_of(run, method, cfg, ds, run.seed, tag, keep_diverged=True)


def imbalance(
    run: Run, runs_of: Callable[[Dataset], dict[str, RunResult]]
) -> tuple[pd.DataFrame, str]:
    """``runs_of(subset)`` on each imbalanced MNIST subset (``recipes.
    imbalanced_subsets``), and a description of the subsets."""
    parts = recipes.imbalanced_subsets(run)
    frame = rows(
        {r: runs_of(part) for r, part in parts.items()},
        {r: len(p) for r, p in parts.items()},
    )
    source = parts[min(parts)].name.rsplit("-r", 1)[0].removesuffix("-sweep")
    sizes = f"n = {frame.n.min():,} to {frame.n.max():,}"
    rates = ", ".join(f"{r:g}" for r in parts)
    return frame, f"{source}, {sizes} for r = {rates}, seed {run.seed}"


def page_grids(
    page: str, compute: Callable[[Run, Dataset], Grids], run: Run, ds: Dataset
) -> Grids:
    """``page``'s grid studies (``compute(run, ds)``, the page's
    ``papers.<page>.grids``) for a page execution: the committed reference's for
    the run's dataset and first seed when present; otherwise computed now, at smoke
    scale for the smoke and quick profiles, at the run's scale for full and paper."""
    for profile in ("paper", "full"):
        path = store.result_path(
            RESULTS_DIR, profile, run.dataset, f"grids-{page}", run.seed
        )
        if path.exists():
            record = json.loads(path.read_text())
            p = record["provenance"]
            source = (
                f"the committed reference (profile {profile}, commit "
                f"{p['git_commit'][:12]}, {p['device']}, {p['date'][:10]})"
            )
            return dataclasses.replace(Grids.from_json(record, source), committed=True)
    if run.profile.name in ("full", "paper"):
        return dataclasses.replace(
            compute(run, ds), source=f"this execution ({run.profile.name})"
        )
    smoke = dataclasses.replace(run, profile=PROFILES["smoke"])
    scale = (
        f"this execution at smoke scale ({smoke.profile.sweep_samples} samples, "
        f"at most {smoke.profile.max_epochs} epochs per stage; no committed "
        f"reference holds this page's grids for {run.dataset}, seed {run.seed}: "
        "a check that every setting runs, not the paper's protocol)"
    )
    return dataclasses.replace(compute(smoke, ds), source=scale)


def sweep(
    method: str,
    cfg: Any,
    ds: Any,
    settings: dict[Any, dict],
    *,
    profile: str,
    seed: int,
    device: Any = "auto",
    start: Start | None = None,
) -> tuple[pd.DataFrame, dict[Any, RunResult]]:
    """``cluster`` once per setting (a label -> field overrides of ``cfg``), e.g. a
    sensitivity study; returns a frame of each label's scores and the runs. A
    setting whose loss diverges is a row of NaN scores with ``diverged = 1``
    (``cluster``'s ``keep_diverged``)."""
    kw = dict(
        profile=profile, seed=seed, device=device, start=start, keep_diverged=True
    )
    runs = {
        label: cluster(
            method, dataclasses.replace(cfg, **over), ds, tag=setting_tag(over), **kw
        )
        for label, over in settings.items()
    }
    frame = pd.DataFrame([{"setting": label, **r.metrics} for label, r in runs.items()])
    return frame, runs
