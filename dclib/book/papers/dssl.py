"""The DSSL page (Sadeghi and Armanfard, 2021a): its runs, grid studies and
reference job: AE + k-means on DSSL's conv autoencoder and DSSL on the same
pretrained network."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import pandas as pd

from dclib.book import catalog, grids, recipes, verdicts
from dclib.book.cache import RunResult, seed_mean
from dclib.book.catalog import PaperName
from dclib.book.grids import Grids
from dclib.book.paper_tables import PAPER_DATASETS, paper_results
from dclib.book.papers import baselines
from dclib.book.profiles import Run
from dclib.data import Dataset
from dclib.methods import stage_records
from dclib.methods.dssl import DSSLConfig

PAGE = "dssl"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = PAGE
"""its reference jobs' recipe (``reference.Job.recipe``)"""

DATA = "conv"
"""the reference data of its methods (``reference.jobs.DATA``)"""

RUNS = catalog.names(PAGE)
"""the page's runs: AE + k-means on DSSL's conv AE, then DSSL"""

TABLE = "dssl:Table I"
"""the paper's table of results, which the page regenerates"""

COMPARED = tuple(
    e.name
    for e in catalog.page_runs("baselines")
    if e.paper == "dcss:Table 1" and e.method != "ae_kmeans"
)
"""the baselines page's runs that DSSL Table I sets beside DSSL (DEC, IDEC, DCN and
DKM_p, the DKM row of the authors' tables)"""

REFERENCE = RUNS + tuple(
    e.name for e in catalog.page_runs("baselines") if e.paper == "dcss:Table 1"
)
"""the committed runs the page shows beside DSSL Table I: its own and the
baselines' (AE + k-means on the MLP AE too, under the table's AE + k-means)"""

PAPER_NAMES: dict[str, PaperName] = {
    name: catalog.entry(name).paper_entry for name in RUNS + REFERENCE
}
"""run -> its name in DSSL's tables (Tables I and II name the methods alike; the
authors name the baselines as in DCSS Table 1, the catalog's entry)"""


def runs(run: Run, ds: Dataset, cfg: Any, seed: int) -> dict[str, RunResult]:
    """AE + k-means on DSSL's conv AE and DSSL (``cfg``) on ``ds`` for ``seed``."""
    out = {}
    for e in catalog.page_runs(PAGE):
        e_cfg = recipes.conv_page_config(run, e, cfg, ds)
        out[e.name] = recipes.runs_of(run, e.method, e_cfg, ds, seed, e.tag)
    return out


def page_runs(
    run: Run, page: Dataset, ds: Dataset, cfg: Any
) -> dict[str, dict[int, RunResult]]:
    """The page's runs for every seed, ``{name: {seed: RunResult}}``: the baselines
    of ``COMPARED`` on ``page`` (the baselines page's data, read through the run
    cache), then ``runs`` (``cfg``) on ``ds``."""
    return recipes.by_seed(run, partial(_seed_runs, run, page, ds, cfg))


def _seed_runs(
    run: Run, page: Dataset, ds: Dataset, cfg: Any, seed: int
) -> dict[str, RunResult]:
    return baselines.runs(run, page, seed, COMPARED) | runs(run, ds, cfg, seed)


def table_rows(dataset: str, names: Iterable[str]) -> dict[str, dict[str, PaperName]]:
    """``paper_tables.ours_vs_paper``'s rows of DSSL Table I for the runs ``names``
    (each under its ``PAPER_NAMES`` entry); empty where no paper reports
    ``dataset``."""
    if dataset not in PAPER_DATASETS:
        return {}
    return {name: {TABLE: PAPER_NAMES[name]} for name in names if name in PAPER_NAMES}


def compute_grids(run: Run, ds: Dataset, only: Sequence[str] | None = None) -> Grids:
    """DSSL Figs. 6-8 (zeta, the update interval T, m) and Table II (imbalance);
    ``only``: those studies alone (``grids.wanted``)."""
    cfg = recipes.config(run, "dssl", ds)
    small = run.sweep_subset(ds)
    kw = dict(profile=run.profile.name, seed=run.seed, device=run.device)
    t_grid = [t for t in (2, 5, 10, 25, 50) if t < cfg.n_epochs] or [1, 2]
    settings = {
        "zeta": {z: {"zeta": z} for z in (0.0, 0.1, 1.0, 5.0, 7.0)},
        "T": {t: {"update_interval": t} for t in t_grid},
        "m": {v: {"m": v} for v in (1.1, 1.3, 1.5, 1.7)},
    }
    swept = {
        t: grids.sweep_rows("dssl", cfg, small, g, **kw)
        for t, g in settings.items()
        if grids.wanted(only, t)
    }
    studies = {title: frame for title, (frame, _) in swept.items()}
    curves = {}
    if "T" in swept:
        by_t = swept["T"][1].items()
        curves["T"] = {f"T={t}": stage_records(r.history, "cluster") for t, r in by_t}
    data = {"sweeps": recipes.describe_data(run, small, [run.seed])}
    if grids.wanted(only, "imbalance"):
        studies["imbalance"], data["imbalance"] = grids.imbalance(
            run,
            lambda part: runs(run, part, recipes.config(run, "dssl", part), run.seed),
        )
    return Grids(studies, curves, data, "")


def reference_runs(
    at: Callable[[str], Run], ds: Dataset, seed: int, todo: Iterable[str]
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's runs of ``todo``, ``(name, RunResult, config)``."""
    return recipes.conv_reference_runs(runs, PAGE, at, ds, seed, todo)


def studies_sentence(studies: Grids) -> str:
    """Where the sensitivity studies come from and the data they ran on, and the
    settings that diverged."""
    return (
        f"These studies come from {studies.source}; they ran on "
        f"{studies.data['sweeps']}.{studies.diverged(recipes.labels(RUNS))}"
    )


def this_execution(
    run: Run, ds: Dataset, cfg: Any, results: dict[str, dict[int, RunResult]]
) -> str:
    """What this execution's runs reached: DSSL's ACC (mean over seeds) and AE +
    k-means' on the same autoencoder after the epochs of ``cfg`` (beside the
    paper's and the official code's epochs), labelled as this execution's and
    never a verdict on the paper's claim (the ledger's sentences give those)."""
    ae, own = RUNS
    acc = {name: seed_mean(results[name]) for name in RUNS}
    paper_cfg, code_cfg = DSSLConfig(), DSSLConfig.official_code()
    return (
        f"This execution ({run.profile.name} profile, {len(ds):,} samples of "
        f"{ds.name}, {recipes.seeds_phrase(run.seeds)}; {cfg.n_epochs} epoch(s) "
        f"of SGD at "
        f"lr {cfg.lr:g} with momentum {cfg.momentum:g}, where the paper runs "
        f"{paper_cfg.n_epochs} and the official code {code_cfg.n_epochs}): DSSL "
        f"ACC {100 * acc[own]:.1f} %, AE + k-means on the same autoencoder "
        f"{100 * acc[ae]:.1f} %. It checks that the page runs; the verdicts above "
        "come from the committed reference."
    )


def imbalance_gain(frame: pd.DataFrame, where: str) -> str:
    """DSSL Table II's finding: DSSL's ACC minus AE + k-means' on the imbalanced
    subsets (``frame``: the grids' imbalance study, methods by run name; ``where``:
    its data), averaged over the rates r, beside the paper's average gain."""
    ae, own = RUNS
    acc = frame.pivot(index="setting", columns="method", values="acc")
    gain = 100 * (acc[own] - acc[ae])
    paper = paper_results(paper="dssl", table="Table II", metric="ACC")
    paper = paper.pivot(index="setting", columns="method", values="value")
    paper_gain = (paper[PAPER_NAMES[own]] - paper[PAPER_NAMES[ae]]).mean()
    return (
        f"On the imbalanced MNIST subsets ({where}) DSSL's ACC minus AE + k-means' "
        f"averages {gain.mean():+.1f} points over r = "
        f"{', '.join(f'{r:g}' for r in gain.index)} (the paper: {paper_gain:+.1f} on "
        "the full MNIST)."
    )


def best_settings(studies: dict[str, pd.DataFrame], where: str) -> str:
    """Figs. 6-8's finding: the zeta, T and m of the best ACC in the sensitivity
    studies (``where``: their data) beside the paper's defaults."""
    best = {
        t: studies[t].loc[studies[t].acc.idxmax(), "setting"]
        for t in "zeta T m".split()
    }
    paper_cfg = DSSLConfig()
    return (
        f"In the sensitivity studies ({where}) the best ACC comes at zeta = "
        f"{best['zeta']:g}, T = {best['T']:g} and m = {best['m']:g} (the paper's "
        f"defaults: zeta = {paper_cfg.zeta:g}, T = {paper_cfg.update_interval}, "
        f"m = {paper_cfg.m:g})."
    )


def findings(
    run: Run,
    ds: Dataset,
    cfg: Any,
    results: dict[str, dict[int, RunResult]],
    studies: Grids,
) -> list[str]:
    """The page's "What we find": the verdicts of the paper's claims
    (``verdicts.sentences``), the committed reference of ``RUNS`` beside DSSL
    Table I, this execution's runs (``this_execution``), and from the grids
    ``imbalance_gain`` and ``best_settings`` only where the committed reference
    holds them (smoke-scale grids are a wiring check, never a finding)."""
    says = verdicts.sentences(PAGE) + recipes.reference_claims(RUNS)
    says.append(this_execution(run, ds, cfg, results))
    if studies.committed:
        where = {k: f"the committed reference, {v}" for k, v in studies.data.items()}
        says.append(imbalance_gain(studies.studies["imbalance"], where["imbalance"]))
        says.append(best_settings(studies.studies, where["sweeps"]))
    return says
