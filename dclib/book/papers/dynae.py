"""The DynAE page (Mrabah et al., 2020): its runs, grid studies and reference job.

Every run starts from DynAE's augmented ACAI pretraining (``ACAI_PRETRAIN``, shared
through the run cache): "ae_kmeans_acai" is the post-pretraining k-means, DEC* and
IDEC* (DynAE §5.2.1) are DEC and IDEC on that network, DC* is DynAE's clustering
loss alone (Table 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.io.formats.style import Styler

from dclib import diagnostics
from dclib.book import catalog, grids, recipes, reconciliation
from dclib.book.cache import RunResult, trained_model
from dclib.book.grids import Grids
from dclib.book.paper_tables import PaperName, paper_results
from dclib.book.papers import baselines
from dclib.book.profiles import Run
from dclib.data import Dataset
from dclib.methods import stage_records
from dclib.methods.dynae import ACAI_PRETRAIN

PAGE = "dynae"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = PAGE
"""its reference jobs' recipe (``reference.Job.recipe``)"""

DATA = "mlp"
"""the reference data of its methods (``reference.jobs.DATA``)"""

RUNS = catalog.names(PAGE)
"""the page's runs, DynAE's own first: the reference job writes each run when it
ends, so a session that loses its run cache keeps DynAE's result even if the
ablations (DEC*, IDEC*, DC*: Table 3) have not run yet"""

START = next(n for n in RUNS if catalog.entry(n).method == "ae_kmeans")
"""k-means on the codes of the ACAI-pretrained network: every run's start"""

RIVALS = tuple(n for n in RUNS if n not in (START, "dynae"))
"""DynAE's rivals on its own network: Table 3's DEC* and IDEC*, and DC*"""

WATCHED = ("dynae", *RIVALS)
"""the runs that log Feature Randomness and Drift at each check (Figs. 11-12)"""

DYNAMIC = tuple(n for n in WATCHED if catalog.entry(n).method in ("dynae", "dc_star"))
"""the runs with a start-of-phase record (DynAE, DC*: ``_targets.phase_start``)"""

TABLE2, TABLE3 = "dynae:Table 2", "dynae:Table 3"
"""the paper's tables of results: all methods (2), one pretrained network (3)"""


def config(run: Run, name: str, ds: Dataset, **fields: Any) -> Any:
    """The config of the page's run ``name`` (a name of ``RUNS``)."""
    method = catalog.entry(name).method
    return recipes.config(run, method, ds, **({"pretrain": ACAI_PRETRAIN} | fields))


def runs(
    run: Run, ds: Dataset, seed: int, names: Iterable[str] = RUNS
) -> dict[str, RunResult]:
    """The page's runs of ``names`` on ``ds`` for ``seed``. On the run's first seed,
    which the page's figures show, DynAE, DC*, DEC* and IDEC* also log Feature
    Randomness and Drift (a few passes over the data at every check)."""
    out = {}
    for name in names:
        e = catalog.entry(name)
        watch = e.method != "ae_kmeans" and seed == run.seed
        cfg = config(run, name, ds)
        out[name] = recipes.runs_of(
            run, e.method, cfg, ds, seed, e.tag, diagnostics=watch
        )
    return out


GAMMAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
"""DynAE Fig. 13: the balancing weight gamma of L = L1 + gamma L2 (IDEC*: of its
clustering loss)"""


def compute_grids(run: Run, ds: Dataset, only: Sequence[str] | None = None) -> Grids:
    """DynAE Fig. 13 (gamma for DynAE and IDEC*, with DynAE's learning curves) and
    the paper's config against the official code's and against eq. 9 and 12's
    squared norms (``DynAEConfig.per_element``); ``only``: those studies alone
    (``grids.wanted``)."""
    small = run.sweep_subset(ds)
    where = recipes.describe_data(run, small, [run.seed])
    studies, curves = {}, {}
    if grids.wanted(only, "gamma"):
        studies["gamma"], curves["gamma"] = gamma_study(run, small)
    if grids.wanted(only, "official code"):
        studies["official code"] = code_study(run, small)
    return Grids(studies, curves, {"sweeps": where}, "")


def gamma_study(run: Run, small: Dataset) -> tuple[pd.DataFrame, dict[str, list]]:
    """Fig. 13: DynAE and IDEC* at each gamma, and DynAE's checks per gamma."""
    by_gamma: dict[Any, dict[str, RunResult]] = {}
    for g in GAMMAS:
        by_gamma[g] = {}
        for name in ("dynae", "idec_star"):
            e = catalog.entry(name)
            cfg = config(run, name, small, gamma=g)
            tag = e.tag + f"-gamma={g}"
            by_gamma[g][name] = grids.setting(run, e.method, cfg, small, tag)
    frame = grids.rows(by_gamma, dict.fromkeys(GAMMAS, len(small)))
    checks = {
        f"gamma={g}": stage_records(r["dynae"].history, "checks")
        for g, r in by_gamma.items()
    }
    return frame, checks


def code_study(run: Run, small: Dataset) -> pd.DataFrame:
    """The paper's config against the official code's and the squared norms."""
    code = config(run, "dynae", small, **recipes.official_code_fields("dynae"))
    variants = {
        "DynAEConfig()": grids.setting(
            run, "dynae", config(run, "dynae", small), small
        ),
        "DynAEConfig.official_code()": grids.setting(
            run, "dynae", code, small, "-code"
        ),
        "DynAEConfig(per_element=False)": grids.setting(
            run,
            "dynae",
            config(run, "dynae", small, per_element=False),
            small,
            "-norms",
        ),
    }
    return grids.rows(
        {v: {"dynae": r} for v, r in variants.items()},
        dict.fromkeys(variants, len(small)),
    )


def reference_runs(
    at: Callable[[str], Run], ds: Dataset, seed: int, todo: Iterable[str]
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's runs of ``todo``, ``(name, RunResult, config)`` as each
    ends, each at its own caps (``at(name)``: the job's run for that name)."""
    for name in todo:
        yield name, runs(at(name), ds, seed, [name])[name], config(at(name), name, ds)


def table_names(table: str) -> tuple[str, ...]:
    """The catalog's runs that the paper's ``table`` ("dynae:Table 2") reports."""
    return tuple(e.name for e in catalog.RUNS if table in e.paper_names)


BASELINES = tuple(n for n in table_names(TABLE2) if catalog.entry(n).page != "dynae")
"""the baselines page's runs of Table 2 (AE + k-means, DEC, IDEC, DCN), each on its
own pretraining"""


def page_runs(
    run: Run, ds: Dataset, seeds: Iterable[int]
) -> dict[str, dict[int, RunResult]]:
    """The page's runs (``runs``) and the baselines page's runs of Table 2
    (``BASELINES``, from the run cache) on ``ds`` for each of ``seeds``, by name and
    seed."""
    out: dict[str, dict[int, RunResult]] = {}
    for seed in seeds:
        found = runs(run, ds, seed) | baselines.runs(run, ds, seed, BASELINES)
        for name, result in found.items():
            out.setdefault(name, {})[seed] = result
    return out


def table_rows(
    dataset: str, table: str, names: Iterable[str]
) -> dict[str, dict[str, PaperName]]:
    """``recipes.paper_rows`` of ``names`` restricted to one ``table``."""
    return recipes.paper_rows(dataset, names, (table,))


def _beside(rows: Mapping[str, Any], dataset: str) -> str:
    return "beside the paper's" if rows else f"(no paper reports {dataset})"


def table2(
    results: Mapping[str, dict[int, RunResult]], dataset: str, where: str
) -> Styler:
    """DynAE Table 2: DynAE and the baselines of its table that dclib implements
    (``results``: the page's and the baselines page's runs by name) beside the
    paper's numbers."""
    ours = {n: results[n] for n in table_names(TABLE2)}
    rows = table_rows(dataset, TABLE2, ours)
    return recipes.labelled_table(
        ours,
        rows,
        dataset,
        (
            "DynAE Table 2 — DynAE and the deep baselines of its table that dclib "
            "implements (each on its own pretraining, the baselines page's runs): "
            f"ours ({where}; ACC and NMI in %, mean ± std) {_beside(rows, dataset)}; "
            "the paper's NMI is the arithmetic normalisation"
        ),
    )


def table3(
    results: Mapping[str, dict[int, RunResult]], dataset: str, where: str
) -> Styler:
    """DynAE Table 3: the page's runs on one pretrained network (``results``), the
    paper's numbers beside DEC*, IDEC* and DynAE."""
    ours = {n: results[n] for n in RUNS}
    rows = table_rows(dataset, TABLE3, ours)
    return recipes.labelled_table(
        ours,
        rows,
        dataset,
        (
            "DynAE Table 3 — DEC*, IDEC* and DynAE on one pretrained network, with "
            "k-means on that network's codes and DC* (rows the paper does not "
            f"have): ours ({where}) {_beside(rows, dataset)}"
        ),
    )


TIME_TABLES = ("Table 4", "Table 5")
"""the paper's tables of training times"""


def timed_names() -> dict[str, str]:
    """The runs of Tables 2 and 3 whose method the paper timed (Tables 4-5) -> its
    name there."""
    timed = paper_results(paper="dynae").query("table in @TIME_TABLES")
    out = {}
    for e in catalog.RUNS:
        for table in (TABLE2, TABLE3):
            name = e.paper_names.get(table)
            if isinstance(name, str) and name in set(timed.method):
                out.setdefault(e.name, name)
    return out


def times(
    results: Mapping[str, dict[int, RunResult]],
    dataset: str,
    where: str,
    device: str,
) -> Styler:
    """DynAE Tables 4 and 5: seconds of training of the runs the paper timed
    (``timed_names``; ``results`` by name) beside the paper's, on ``device``."""
    names = timed_names()
    found = recipes.run_times(
        {n: results[n] for n in names}, "dynae", TIME_TABLES, names, dataset
    )
    return (
        found.rename(index=recipes.labels(names))
        .style.format("{:,.0f}", na_rep="—")
        .set_caption(
            f"DynAE Tables 4 and 5 — training time in seconds: ours ({where}; "
            f"{device}) beside the paper's"
        )
    )


def start_view(first: Mapping[str, RunResult], where: str) -> Styler:
    """The start of the clustering phase of DynAE and DC* (``DYNAMIC``; ``first``:
    this execution's first seed by name) beside the committed reference's
    (``reconciliation.start_view``)."""
    labels = recipes.labels(DYNAMIC)
    return reconciliation.start_view(
        {f"{labels[n]} (this execution)": first[n] for n in DYNAMIC},
        {f"{labels[n]} (reference)": n for n in DYNAMIC},
        f"DynAE §4.2 — the start of the clustering phase ({where}; the committed "
        "reference: full Fashion-MNIST, first seed): label-free diagnostics, tau (the "
        "conflicted share) and the k-means spread in %",
    )


def one_weight_cosines(at: Iterable[float] = (3.0, 0.0)) -> list[float]:
    """``diagnostics.cosine`` of the gradients of (w - 1)^2 and (w + 1)^2 of a
    one-weight model at each ``w`` of ``at`` (``diagnostics.dataset_gradients``
    over 4 samples): 1 where they point the same way, -1 where opposite."""
    w = torch.nn.Parameter(torch.tensor([0.0]))

    def pair(idx: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"a": (w - 1).pow(2).mean(), "b": (w + 1).pow(2).mean()}

    out = []
    for value in at:
        with torch.no_grad():
            w.fill_(value)
        g = diagnostics.dataset_gradients(pair, 4, [w])
        out.append(diagnostics.cosine(g["a"], g["b"]))
    return out


def check_records(first: Mapping[str, RunResult]) -> dict[str, list[dict]]:
    """Each watched run's records at its checks (``WATCHED``; ``first``: results
    by name), by name."""
    return {n: stage_records(first[n].history, "checks") for n in WATCHED}


def labelled(by_name: Mapping[str, Any]) -> dict[str, Any]:
    """``by_name`` keyed by the runs' labels."""
    return {catalog.entry(n).label: v for n, v in by_name.items()}


def subset_curves(checks: list[dict]) -> dict[str, list[dict]]:
    """Fig. 10's curves: ACC and NMI of all, conflicted and unconflicted samples at
    each of ``checks``."""
    return {
        part.lstrip("_") or "all": [
            {
                "iteration": r["iteration"],
                "ACC": r[f"acc{part}"],
                "NMI": r[f"nmi{part}"],
            }
            for r in checks
        ]
        for part in ("", "_conflicted", "_unconflicted")
    }


def constructions(result: RunResult, ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 6: the first image of each class of ``ds`` and what ``result``'s trained
    network outputs for it (centroid construction)."""
    model = trained_model(result)
    one = np.array([np.flatnonzero(ds.y == c)[0] for c in np.unique(ds.y)])
    with torch.no_grad():
        _, out = model(torch.as_tensor(ds.X[one]))
    return ds.X[one], out.numpy()


def named_studies(studies: Grids) -> dict[str, pd.DataFrame]:
    """The grid studies with their runs' labels in the ``method`` column."""
    labels = recipes.labels(RUNS)
    return {k: f.replace({"method": labels}) for k, f in studies.studies.items()}


def grids_source(studies: Grids) -> str:
    """The sentence saying where the grid studies come from, and which diverged."""
    return f"These grid studies come from {studies.source}." + studies.diverged(
        recipes.labels(RUNS)
    )


def gamma_frame(named: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Fig. 13's study with the setting on a log10 scale."""
    gamma = named["gamma"]
    return gamma.assign(setting=np.log10(gamma.setting.astype(float)))


def official_code_table(named: Mapping[str, pd.DataFrame], studies: Grids) -> Styler:
    """DynAE with the paper's configuration, the official code's and the squared
    norms (the ``official code`` study): ACC and NMI in %."""
    code_fields = recipes.official_code_fields("dynae")
    versus = named["official code"]
    table = versus.assign(ACC=100 * versus.acc, NMI=100 * versus.nmi)
    return (
        table.set_index("setting")[["ACC", "NMI"]]
        .rename_axis(None)
        .round(1)
        .style.format("{:.1f}", na_rep="diverged")
        .set_caption(
            f"DynAE with the paper's configuration, with the official code's "
            f"(DynAEConfig.official_code(): {', '.join(code_fields)}) and with eq. 9 "
            "and 12's squared norms at the paper's learning rate "
            f"(per_element=False); {studies.data['sweeps']}, from {studies.source}; "
            "ACC and NMI in %"
        )
    )
