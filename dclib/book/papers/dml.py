"""The DML page (Sadeghi and Armanfard, 2022): its runs, grid studies and reference
jobs. DML-M continues its base M: the DCSS page's DCSS_u (DML's "DSL") or the
baselines page's DCN and DKM_p, each on the data its own page clusters."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch

from dclib.book import catalog, grids, recipes, verdicts
from dclib.book.cache import RunResult, seed_mean, setting_tag, trained_start
from dclib.book.grids import Grids
from dclib.book.paper_tables import PAPER_DATASETS, ours_vs_paper, paper_results
from dclib.book.papers import baselines
from dclib.book.profiles import Run
from dclib.book.reference.jobs import Job, job
from dclib.data import Dataset
from dclib.methods.dml import DMLConfig, assign_networks

PAGE = "dml"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = PAGE
"""its reference jobs' recipe (``reference.Job.recipe``)"""

RUNS = catalog.names(PAGE)
"""DML Table I's runs: DML-DSL, DML-DCN, DML-DKM"""

BASES = {name.removeprefix("dml-"): catalog.entry(name).start for name in RUNS}
"""DML's base methods M (``DMLConfig.base``: its Table I) -> the runs of them"""


def runs(
    run: Run,
    ds: Dataset,
    base: str,
    seed: int,
    base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:
    """M and DML-M on ``ds`` for ``seed``, keyed by their runs' names (``BASES``
    and ``RUNS``). M is the DCSS page's DCSS_u (DSL) or the baselines page's DCN /
    DKM_p; ``base_over`` changes M's config fields, ``over`` DML's."""
    base_over = base_over or {}
    method = BASES[base]
    base_cfg = recipes.config(run, method, ds, **base_over)
    m = recipes.runs_of(run, method, base_cfg, ds, seed, setting_tag(base_over))
    e = catalog.entry(f"dml-{base}")
    cfg = recipes.config(run, e.method, ds, base=base, **over)
    settings = over | {f"base.{k}": v for k, v in base_over.items()}
    tag = e.tag + setting_tag(settings)
    ours = recipes.runs_of(run, e.method, cfg, ds, seed, tag, start=trained_start(m))
    return {method: m, e.name: ours}


def data_for(ds: Dataset, base: str) -> Dataset:
    """The data ``runs`` takes for ``base``: DSL (DCSS_u, a conv AE) clusters
    ``conv_input(ds)``, DCN and DKM_p (MLP) ``ds`` itself, so that each base is the
    run its own page caches (the DCSS page's, the baselines page's)."""
    return recipes.conv_input(ds) if BASES[base] == "dcss_u" else ds


def table_runs(
    run: Run,
    ds: Dataset,
    seed: int,
    bases: Iterable[str] = tuple(BASES),
    base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:
    """``runs`` of every base of ``bases`` on its ``data_for(ds)`` for ``seed``, in
    one dict (DML Table I's runs)."""
    out: dict[str, RunResult] = {}
    for base in bases:
        out |= runs(run, data_for(ds, base), base, seed, base_over, **over)
    return out


def table_results(
    run: Run, ds: Dataset, bases: Iterable[str] = tuple(BASES)
) -> dict[str, dict[int, RunResult]]:
    """``table_runs`` of ``bases`` for every seed of the run, ``{name: {seed:
    RunResult}}`` (what ``ours_vs_paper`` averages)."""
    return recipes.by_seed(run, partial(table_runs, run, ds, bases=tuple(bases)))


def compute_grids(run: Run, ds: Dataset, only: Sequence[str] | None = None) -> Grids:
    """DML Table III (imbalance: AE + k-means and DML from each base; capped profiles
    DSL only), the paper's config against the official code's, and Figs. 6-8
    (lambda, the number of networks L, the latent dimension d); ``only``: those
    studies alone (``grids.wanted``)."""
    bases = tuple(BASES)
    small = run.sweep_subset(ds)
    capped = run.profile.max_epochs is not None
    studies: dict[str, pd.DataFrame] = {}
    data = {"sweeps": recipes.describe_data(run, small, [run.seed])}
    if grids.wanted(only, "imbalance"):
        studies["imbalance"], data["imbalance"] = grids.imbalance(
            run,
            lambda part: (
                baselines.runs(run, part, run.seed, ["ae_kmeans"])
                | table_runs(run, part, run.seed, bases[:1] if capped else bases)
            ),
        )

    def dml_only(**over: Any) -> dict[str, RunResult]:
        base_over = over.pop("base_over", None)
        found = table_runs(run, small, run.seed, bases, base_over, **over)
        return {k: r for k, r in found.items() if k in RUNS}

    variants = {"paper": {}, "official code": recipes.official_code_fields("dml")}
    if grids.wanted(only, "official code"):
        studies["official code"] = grids.rows(
            {v: dml_only(**over) for v, over in variants.items()},
            dict.fromkeys(variants, len(small)),
        )
    K = ds.n_clusters
    networks = sorted({1, 2, 4, K} if capped else {1, 2, 3, 4, 5, K})
    latent = (5, 10, 20) if capped else (5, 10, 20, 30)
    settings = {
        "lambda": {v: {"lam": v} for v in (0.0, 0.01, 0.1, 1.0)},
        "networks L": {v: {"n_networks": v} for v in networks if v <= K},
        "latent dimension d": {v: {"base_over": {"latent_dim": v}} for v in latent},
    }
    for title, grid in settings.items():
        if grids.wanted(only, title):
            studies[title] = grids.rows(
                {v: dml_only(**over) for v, over in grid.items()},
                dict.fromkeys(grid, len(small)),
            )
    return Grids(studies, {}, data, "")


def reference_names(base: str) -> tuple[str, ...]:
    """The runs the page's reference job for ``base`` computes: its base M on the
    same data (so that DML Table I's claim DML-M > M compares runs on one dataset),
    unless another job on this data computes M already (DCSS_u: the DCSS job), then
    DML-M."""
    method = BASES[base]
    shared = method in catalog.names("dcss", reference=True)
    return (() if shared else (method,)) + (catalog.entry(f"dml-{base}").name,)


def reference_runs(
    at: Callable[[str], Run], ds: Dataset, seed: int, todo: Iterable[str], base: str
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's runs for ``base`` (``reference_names``): ``(name,
    RunResult, config)``."""
    todo = [n for n in reference_names(base) if n in todo]
    if todo:
        run = at(BASES[base])  # M's caps, which DML-M's few epochs stay under
        found = runs(run, ds, base, seed)
        cfg = recipes.config(run, "dml", ds, base=base)
        for name in todo:
            own = recipes.config(run, name, ds) if name == BASES[base] else cfg
            yield name, found[name], own


# The page's tables, figures and findings: DML's names for its runs.

SHOWN = (*RUNS, *BASES.values())
"""the page's runs of DML Table I: DML-M, then each base M"""


def paper_names() -> dict[str, str]:
    """Each base M and DML-M -> its name in the DML paper's tables: M as DML-M's
    label names it (DSL for DCSS_u, DKM for DKM_p, as the paper's tables do), bases
    first."""
    bases = {catalog.entry(n).start: catalog.entry(n).label for n in RUNS}
    return {b: label.removeprefix("DML-") for b, label in bases.items()} | {
        n: catalog.entry(n).label for n in RUNS
    }


def paper_name(name: str) -> str:
    """Catalog run ``name``'s name in the DML paper's tables (``paper_names``; the
    baselines under the name their own paper's table gives them: AE + k-means)."""
    e = catalog.entry(name)
    return paper_names().get(name) or e.paper_name or e.label


def labels(names: Iterable[str]) -> dict[str, str]:
    """Each catalog run of ``names`` -> ``paper_name``: how the page labels it."""
    return {n: paper_name(n) for n in names}


def paper_rows(
    dataset: str, names: Iterable[str], table: str = "Table I"
) -> dict[str, dict[str, str]]:
    """``ours_vs_paper``'s rows setting the runs ``names`` beside DML ``table``
    under their ``paper_name``; empty for a dataset that no paper reports."""
    if dataset not in PAPER_DATASETS:
        return {}
    return {n: {f"dml:{table}": paper_name(n)} for n in names}


def table(
    results: Mapping[str, dict[int, RunResult]], dataset: str, name: str = "Table I"
) -> pd.DataFrame:
    """Our runs ``results`` (mean ± std over seeds) beside DML table ``name``,
    labelled with the paper's names."""
    rows = paper_rows(dataset, results, name)
    return ours_vs_paper(dict(results), rows, dataset).rename(index=labels(results))


def reported(name: str) -> set[str]:
    """The methods DML table ``name`` reports (on any dataset)."""
    return set(paper_results(paper="dml", table=name).method)


def table2_names() -> tuple[str, ...]:
    """DML Table II's methods that the book runs: the baselines page's, the bases
    and DML-M that the table reports, in the baselines page's order."""
    found = reported("Table II")
    candidates = dict.fromkeys((*baselines.RUNS, *BASES.values(), *RUNS))
    return tuple(n for n in candidates if paper_name(n) in found)


def table2_results(
    run: Run, ds: Dataset, results: Mapping[str, dict[int, RunResult]]
) -> dict[str, dict[int, RunResult]]:
    """DML Table II's runs: those of ``results`` (Table I's) and the baselines
    page's runs of the others, in ``table2_names`` order."""
    names = table2_names()
    others = [n for n in names if n not in results]
    found = recipes.by_seed(run, partial(baselines.runs, run, ds, names=others))
    return {n: (found | dict(results))[n] for n in names}


def difficult(first: Mapping[str, RunResult]) -> dict[str, tuple[Any, Any]]:
    """Each base M's run (of ``first``) -> ``assign_networks`` of its centres:
    (the network of each cluster, whether it is difficult)."""
    return {
        m: assign_networks(torch.as_tensor(first[m].centres)) for m in BASES.values()
    }


def networks_table(hard: Mapping[str, tuple[Any, Any]], seed: int) -> pd.DataFrame:
    """The number of networks L and the difficult clusters of each base M
    (``difficult``)."""
    return pd.DataFrame(
        {
            paper_name(m): {
                "networks L": int(owner.max()) + 1,
                "difficult clusters": np.flatnonzero(hard_k).tolist(),
            }
            for m, (owner, hard_k) in hard.items()
        }
    ).T.rename_axis(f"M (seed {seed})")


def centre_panels(
    first: Mapping[str, RunResult], hard: Mapping[str, tuple[Any, Any]]
) -> dict[str, tuple[Any, Any, Any]]:
    """``plotting.difficult_centres``'s panels: each base M's codes, centres and
    difficult clusters."""
    return {
        paper_name(m): (first[m].codes, first[m].centres, h.numpy())
        for m, (_, h) in hard.items()
    }


def small_data_bases() -> tuple[str, ...]:
    """The bases whose DML-M the paper's Table IV (small datasets) reports."""
    found = reported("Table IV")
    return tuple(b for b in BASES if paper_name(f"dml-{b}") in found)


def small_data_runs(
    run: Run, sets: Mapping[str, Dataset]
) -> dict[str, dict[str, dict[int, RunResult]]]:
    """DML Table IV's runs: ``table_results`` of ``small_data_bases`` on each
    dataset of ``sets``."""
    return {
        key: table_results(run, part, small_data_bases()) for key, part in sets.items()
    }


def small_data_table(
    sets: Mapping[str, Dataset], found: Mapping[str, dict[str, dict[int, RunResult]]]
) -> pd.DataFrame:
    """DML Table IV: ``small_data_runs`` beside the paper's, one block per dataset
    (the data each base clusters and its size)."""
    base = small_data_bases()[0]
    frames = {
        (data_for(sets[key], base).name, f"{len(sets[key]):,}"): table(
            res, key, "Table IV"
        )
        for key, res in found.items()
    }
    return pd.concat(frames, names=["data", "n", "method"]).fillna("—")


def study_labels(studies: Grids) -> dict[str, str]:
    """The runs of the grid studies -> ``paper_name``."""
    methods = {
        m for f in studies.studies.values() if "method" in f for m in f["method"]
    }
    return labels(sorted(methods))


def named_studies(studies: Grids) -> dict[str, pd.DataFrame]:
    """The grid studies with their runs under ``paper_name``."""
    names = study_labels(studies)
    return {k: f.replace({"method": names}) for k, f in studies.studies.items()}


def code_table(versus: pd.DataFrame) -> pd.DataFrame:
    """ACC and NMI (%) of DML-M with the paper's config and the official code's
    (the grid study "official code")."""
    return (
        versus.assign(ACC=100 * versus.acc, NMI=100 * versus.nmi)
        .pivot(index="method", columns="setting", values=["ACC", "NMI"])
        .round(1)
    )


def gain_sentences(
    acc: Mapping[str, float], networks: Mapping[str, int], seed: int
) -> list[str]:
    """One sentence per DML-M of this execution: its ACC beside its base M's
    (``acc``: mean ACC per run, fractions) and the networks L it trained
    (``networks``: per base run); a description, never a verdict on the paper."""
    out = []
    for name in RUNS:
        base = catalog.entry(name).start
        gain = 100 * (acc[name] - acc[base])
        out.append(
            f"{paper_name(name)} ({networks[base]} network(s) for seed {seed}) "
            f"reached ACC {100 * acc[name]:.1f} % against {100 * acc[base]:.1f} % "
            f"for {paper_name(base)} ({gain:+.1f} points)."
        )
    return out


def single_network_sentences(networks: Mapping[str, int]) -> list[str]:
    """What it means for this execution when a base's centres gave DML a single
    network (``networks``: per base run; none with L = 1: [])."""
    single = [k for k, m in BASES.items() if networks.get(m, 2) <= 1]
    if not single:
        return []
    bases = _and([paper_name(BASES[k]) for k in single])
    ours = _and([paper_name(f"dml-{k}") for k in single])
    whose = (
        "its base's autoencoder" if len(single) == 1 else "their bases' autoencoders"
    )
    return [
        f"In this execution no cluster of {bases} was difficult (no centre closer "
        f"than tau to another), so L = 1: {ours} only continued training {whose} on "
        "the weighted losses of eq. 3 and DML did not run as the paper intends (no "
        "cluster-specific autoencoder), so these numbers say nothing about separate "
        "latent spaces."
    ]


def _and(words: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    return ", ".join(words[:-1]) + " and " * (len(words) > 1) + words[-1]


def code_sentence(versus: pd.DataFrame, where: str) -> str:
    """How far the official code's variant moves each DML-M's ACC (the grid study
    "official code", its runs labelled; ``where``: the study's data and source)."""
    acc = versus.pivot(index="method", columns="setting", values="acc")
    shift = 100 * (acc["official code"] - acc["paper"])
    return (
        "The official code's variant moves ACC by "
        + ", ".join(f"{shift[n]:+.1f} points for {n}" for n in shift.index)
        + f" ({where})."
    )


def grid_sentences(studies: Grids) -> list[str]:
    """What the grid studies show: only the committed reference's (none for this
    execution's smoke-scale wiring check)."""
    if not studies.committed:
        return []
    versus = named_studies(studies)["official code"]
    return [code_sentence(versus, f"{studies.data['sweeps']}, from {studies.source}")]


def budget_sentences(run: Run, ds: Dataset, cfg: DMLConfig) -> list[str]:
    """In a capped profile, the budget this execution's DML ran with against the
    code's (none in the full and paper profiles)."""
    if run.profile.max_epochs is None:
        return []
    return [
        f"This execution's DML ran {cfg.n_epochs} epoch(s) (the code: "
        f"{DMLConfig.official_code().n_epochs}) with Adam at lr {cfg.lr:g} and batch "
        f"{cfg.batch_size:,}, from bases trained with {run.profile.epoch_caps}, on "
        f"{len(ds):,} samples of {ds.name}; the paper's protocol is the full and "
        "paper profiles'."
    ]


def execution_sentences(
    run: Run,
    ds: Dataset,
    results: Mapping[str, dict[int, RunResult]],
    hard: Mapping[str, tuple[Any, Any]],
) -> list[str]:
    """This execution's runs, labelled as such: each DML-M beside its base, single
    networks and the budget; a check that the page runs, no verdict."""
    acc = {k: seed_mean(v) for k, v in results.items()}
    networks = {m: int(owner.max()) + 1 for m, (owner, _) in hard.items()}
    return [
        f"This execution ({recipes.describe_data(run, ds)}; K = {ds.n_clusters}; "
        "means over the seeds), a check that the page runs and not evidence on the "
        "claims above:",
        *gain_sentences(acc, networks, run.seed),
        *single_network_sentences(networks),
        *budget_sentences(run, ds, recipes.config(run, "dml", ds)),
    ]


def findings(
    run: Run,
    ds: Dataset,
    results: Mapping[str, dict[int, RunResult]],
    hard: Mapping[str, tuple[Any, Any]],
    studies: Grids,
) -> list[str]:
    """The page's "What we find", one paragraph an item: the claims' verdicts from
    the ledger, the committed reference beside the paper and its course over the
    epochs (``recipes.reference_course``; the DKM base, the grid
    studies when committed), then this execution's runs in one labelled paragraph."""
    dkm = recipes.config(run, BASES["dkm"], ds)
    return [
        *verdicts.sentences(PAGE),
        *recipes.reference_claims(RUNS),
        *recipes.reference_course(RUNS, "cluster", ds.name),
        f"DKM in the claims and tables is DKM_p (alpha held at "
        f"{dkm.constant_alpha:g} on a pretrained network), the variant the paper's "
        "DKM rows report.",
        *grid_sentences(studies),
        " ".join(execution_sentences(run, ds, results, hard)),
    ]


def reference_jobs(profile: str, seed: int) -> list[Job]:
    """The page's reference jobs: one per base M, on the conv-AE methods' data.
    Where another job computes M on this data (DCSS_u: the DCSS job), the DML job
    takes M's CPU caps, so that DML-M starts from that job's M."""
    return [job(RECIPE, "conv", profile, seed, _entries(b), {"base": b}) for b in BASES]


def _entries(base: str) -> list[catalog.Entry]:
    """The catalog entries whose caps the job for ``base`` takes: DML-M's, and M's
    where another job computes M (``reference_names`` leaves it out)."""
    shared = BASES[base] not in reference_names(base)
    return [catalog.entry(BASES[base])] * shared + [catalog.entry(f"dml-{base}")]
