"""The R-DC page (Mrabah et al., 2022): its runs, grid studies and reference job.

Every run starts from R-DC's augmented ACAI pretraining (``RDC_PRETRAIN``, shared
through the run cache): Table 8's P1 (k-means on the pretrained codes), P1 & P2
(R-DC), P1 & P3 (DEC on the pretrained network), P1 & P2 & P3 (DEC continuing
R-DC's network), and DynAE from the same network (Figs. 12, 15).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler
from sklearn.metrics import silhouette_score

from dclib import data
from dclib.book import catalog, grids, recipes
from dclib.book.cache import RunResult, trained_start
from dclib.book.grids import Grids
from dclib.book.paper_tables import PAPER_DATASETS, PaperName
from dclib.book.profiles import Run
from dclib.data import Dataset
from dclib.methods import stage_records
from dclib.methods.rdc import RDC_PRETRAIN
from dclib.pretrain import PretrainConfig

PAGE = "rdc"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = PAGE
"""its reference jobs' recipe (``reference.Job.recipe``)"""

DATA = "mlp"
"""the reference data of its methods (``reference.jobs.DATA``)"""

RUNS = catalog.names(PAGE)
"""the page's runs, in the order the reference job computes them: Table 3's k-means
after R-DC's pretraining and R-DC, then Table 8's ablation, DEC continuing R-DC's
network (while R-DC's result is in the run cache: R-DC's second phase recomputes the
neighbours of all codes at every refresh, §3.5, the costly part on a CPU) and DEC
from the pretrained network; DynAE from R-DC's pretraining (Figs. 12-13, 15) runs in
the page only"""


def watched(e: catalog.Entry) -> bool:
    """Whether the figures show run ``e``'s codes' ID and LID (logged on the first
    seed): the runs that train from the pretrained network (R-DC, DEC, DynAE), not
    its k-means or DEC continuing R-DC."""
    return e.method != "ae_kmeans" and e.start is None


CONTRASTIVE_PRETRAIN = dataclasses.replace(
    RDC_PRETRAIN, acai_lambda=None, acai_alternate=False, contrastive_temperature=0.5
)
"""R-DC Fig. 1's second pretraining: instance-level contrastive learning (NT-Xent at
SimCLR's temperature 0.5) on the same augmented images, epochs and optimiser"""


CURVES_FIELDS = {
    "hidden": (),
    "latent_dim": 2,
    "pretrain": PretrainConfig(n_epochs=200),
}
"""R-DC Figs. 2 and 16: a linear two-layer autoencoder (2-2-2) pretrained by vanilla
reconstruction for 200 epochs, on ``curves2d``"""


def config(run: Run, method: str, ds: Dataset, **fields: Any) -> Any:
    """The config of registered ``method`` on R-DC's pretraining (``RDC_PRETRAIN``)."""
    return recipes.config(run, method, ds, **({"pretrain": RDC_PRETRAIN} | fields))


def runs(
    run: Run,
    ds: Dataset,
    seed: int,
    names: Iterable[str] = RUNS,
    second: Run | None = None,
) -> dict[str, RunResult]:
    """The page's runs of ``names`` (of ``RUNS``) on ``ds`` for ``seed``. On the
    run's first seed, which the figures show, the runs ``watched`` names log the codes'
    ID and LID. ``second``: the run (its profile's caps) of R-DC's second phase that
    P1 & P2 & P3 continues (the reference caps R-DC alone); default ``run``."""
    out: dict[str, RunResult] = {}
    for name in names:
        e = catalog.entry(name)
        start = None
        if e.start is not None:
            p2 = run if second is None else second
            start = trained_start(runs(p2, ds, seed, [e.start])[e.start])
        out[name] = recipes.runs_of(
            run,
            e.method,
            config(run, e.method, ds),
            ds,
            seed,
            e.tag,
            start=start,
            diagnostics=seed == run.seed and watched(e),
        )
    return out


def curves_runs(run: Run, seed: int) -> tuple[Dataset, dict[str, RunResult]]:
    """R-DC Figs. 2 and 16: the pretrained linear autoencoder's k-means, DEC and
    R-DC on ``curves2d`` (``CURVES_FIELDS``)."""
    ds = run.load("curves2d")
    out = {
        method: recipes.runs_of(
            run,
            method,
            recipes.config(run, method, ds, **CURVES_FIELDS),
            ds,
            seed,
            "_curves",
        )
        for method in ("ae_kmeans", "dec", "rdc")
    }
    return ds, out


def page_runs(
    run: Run, ds: Dataset, seeds: Iterable[int]
) -> dict[str, dict[int, RunResult]]:
    """``runs`` of every page run for each of ``seeds``, as ``{name: {seed:
    RunResult}}`` (``recipes.by_seed``)."""
    return recipes.by_seed(run, functools.partial(runs, run, ds), seeds)


TABLE3 = "rdc:Table 3"
"""R-DC Table 3 (Fashion-MNIST, CIFAR-10): Tables 4 and 5 (the MedMNIST sets) name
the same methods the same way"""

TABLE8 = "rdc:Table 8"
"""R-DC Table 8, the ablation: its rows are settings (phases) of R-DC"""

PHASES: dict[str, str] = dict(
    sorted(
        (
            (e.name, e.paper_names[TABLE8][1])
            for e in catalog.page_runs(PAGE)
            if TABLE8 in e.paper_names
        ),
        key=lambda row: (len(row[1]), row[1]),
    )
)
"""Table 8's runs, in its order -> their phases ("P1", "P1 & P2", "P1 & P3",
"P1 & P2 & P3")"""


def phase(setting: str) -> str:
    """The run of Table 8's ``setting`` ("P1 & P2": R-DC)."""
    return {s: name for name, s in PHASES.items()}[setting]


DYNAE = next(e.name for e in catalog.page_runs(PAGE) if e.method == "dynae")
"""DynAE from R-DC's pretraining (Figs. 12, 13, 15)"""

TIMES_SPELLING = {"AE + K-means": "AE+K-means"}
"""Table 6's spelling of Table 3's names, where it differs"""


def table_runs(source: str) -> tuple[str, ...]:
    """The page's runs that the paper's table ``source`` reports, in catalog
    order."""
    return tuple(e.name for e in catalog.page_runs(PAGE) if source in e.paper_names)


def tables_rows(dataset: str, tables: Iterable[int] = (3, 4, 5)) -> dict[str, dict]:
    """``ours_vs_paper``'s rows of Table 3's runs in R-DC ``tables`` (Tables 3-5 name
    the same methods); empty for a dataset that no paper reports."""
    if dataset not in PAPER_DATASETS:
        return {}
    return {
        name: {
            f"rdc:Table {t}": catalog.entry(name).paper_names[TABLE3] for t in tables
        }
        for name in table_runs(TABLE3)
    }


def table8_rows(dataset: str) -> dict[str, dict[str, PaperName]]:
    """``ours_vs_paper``'s rows of Table 8's runs, Table 8's columns alone."""
    return recipes.paper_rows(dataset, PHASES, (TABLE8,))


ACC_F1 = ("acc", "f1_macro")
"""the metrics of R-DC's tables"""


def paper_table(
    results: Mapping[str, dict[int, RunResult]], dataset: str, where: str
) -> Styler:
    """R-DC Tables 3-5: ours (ACC and F1 macro) for Table 3's runs beside the
    paper's, labelled from the catalog."""
    return recipes.labelled_table(
        {n: results[n] for n in table_runs(TABLE3)},
        tables_rows(dataset),
        dataset,
        f"R-DC Tables 3-5 — R-DC and the baselines of its tables that run from "
        f"R-DC's pretraining here: ours ({where}; ACC and F1 macro in %) "
        f"{recipes.beside(dataset)}. The paper's AE + K-means, DEC and DynAE rows used "
        "their own pretraining",
        ACC_F1,
    )


def ablation_table(
    results: Mapping[str, dict[int, RunResult]], dataset: str, where: str
) -> Styler:
    """R-DC Table 8: ours (ACC and F1 macro) for each phase beside the paper's."""
    return recipes.labelled_table(
        {n: results[n] for n in PHASES},
        table8_rows(dataset),
        dataset,
        f"R-DC Table 8 — the phases: P1 pretraining (k-means on its codes), P2 R-DC's "
        f"second phase, P3 DEC's loss: ours ({where}; ACC and F1 macro in %) "
        f"{recipes.beside(dataset)}",
        ACC_F1,
    )


def times_table(
    results: Mapping[str, dict[int, RunResult]], dataset: str, where: str, device: str
) -> Styler:
    """R-DC Table 6: our seconds of training of Table 3's runs (on ``device``, its
    name) beside the paper's."""
    names = {
        n: TIMES_SPELLING.get(p := catalog.entry(n).paper_names[TABLE3], p)
        for n in table_runs(TABLE3)
    }
    table = recipes.run_times(
        {n: results[n] for n in names}, "rdc", ("Table 6",), names, dataset
    )
    paper = (
        "beside the paper's (a Tesla T4)"
        if any(str(c).startswith("paper") for c in table.columns)
        else f"(the paper reports no times for {dataset}, so no paper column)"
    )
    return (
        table.rename(index=recipes.labels(names))
        .style.format("{:,.0f}", na_rep="—")
        .set_caption(
            f"R-DC Table 6 — training time in seconds: ours ({where}; {device}; the "
            "pretraining is one shared network, so it is counted in every row) " + paper
        )
    )


CURVE_LABELS = {"ae_kmeans": "pretrained (k-means)", "dec": "DEC", "rdc": "R-DC"}
"""``curves_runs``' methods as Figs. 2 and 16 name them"""

SILHOUETTE = "silhouette of the true curves"


def separation(curve_runs: Mapping[str, RunResult], y: np.ndarray) -> pd.DataFrame:
    """Per ``curves_runs`` method: its ACC (%) and the silhouette of the true curves
    ``y`` in its latent space (near 1: the curves apart; near 0 or below: merged)."""
    return pd.DataFrame.from_dict(
        {
            method: {
                "ACC (%)": 100 * r.metrics["acc"],
                SILHOUETTE: silhouette_score(r.codes, y),
            }
            for method, r in curve_runs.items()
        },
        orient="index",
    )


def curves_table(frame: pd.DataFrame, n: int, seed: int) -> Styler:
    """``separation`` as Figs. 2 and 16's table (``n`` points, ``seed``)."""
    return (
        frame.rename(index=CURVE_LABELS)
        .style.format({"ACC (%)": "{:.1f}", SILHOUETTE: "{:.3f}"})
        .set_caption(
            f"R-DC Figs. 2 and 16 — curves2d ({n:,} points, seed {seed}): "
            "k-means after pretraining, DEC and R-DC from that network"
        )
    )


def curve_codes(curve_runs: Mapping[str, RunResult]) -> dict[str, np.ndarray]:
    """Each ``curves_runs`` method's label -> its final codes (Figs. 2 and 16)."""
    return {CURVE_LABELS[k]: r.codes for k, r in curve_runs.items()}


def checks(first: Mapping[str, RunResult]) -> dict[str, list[dict]]:
    """The check records of R-DC and of DynAE from the same network (Figs. 12-15)
    among ``first`` (the first seed's runs by name)."""
    return {
        n: stage_records(first[n].history, "checks") for n in (phase("P1 & P2"), DYNAE)
    }


def labelled(by_name: Mapping[str, Any]) -> dict[str, Any]:
    """``by_name``'s values keyed by the runs' catalog labels."""
    return {catalog.entry(n).label: v for n, v in by_name.items()}


REFERENCE_CURVES = tuple(
    e.name for e in catalog.page_runs(PAGE) if e.reference and watched(e)
)
"""the committed reference's runs whose dynamics the page shows (Figs. 12-15): R-DC
and DEC from the same pretrained network (P1 & P3)"""


def official_code_table(studies: Grids) -> Styler:
    """R-DC with the paper's config beside the official code's (ACC and NMI in %)."""
    versus = studies.studies["official code"]
    fields = ", ".join(recipes.official_code_fields("rdc"))
    return (
        versus.assign(ACC=100 * versus.acc, NMI=100 * versus.nmi)
        .set_index("setting")[["ACC", "NMI"]]
        .rename_axis(None)
        .round(1)
        .style.format("{:.1f}", na_rep="diverged")
        .set_caption(
            f"R-DC with the paper's configuration and with the official code's "
            f"(RDCConfig.official_code(): {fields}); {studies.data['sweeps']}, from "
            f"{studies.source}; ACC and NMI in %"
        )
    )


RDC_ALPHAS = (0.1, 0.6, 0.8, 0.9, 1.0)


RDC_BETAS = (0.1, 0.3, 0.7, 1.0, 1.2)
"""R-DC Fig. 17: the ranges of alpha and beta (§4.2.4)"""


NOISE = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)
"""R-DC Fig. 20: the standard deviations of the added Gaussian noise (eq. 17)"""


def compute_grids(run: Run, ds: Dataset, only: Sequence[str] | None = None) -> Grids:
    """R-DC Fig. 17 (alpha, beta), Fig. 20 (Gaussian noise on the standardised data,
    eq. 16-17), the paper's config against the official code's, and Fig. 1 (ID and
    LID of DEC's codes after reconstruction and contrastive pretraining); ``only``:
    those studies alone (``grids.wanted``, Fig. 1: "twist")."""
    small = run.sweep_subset(ds)
    kw = dict(profile=run.profile.name, seed=run.seed, device=run.device)
    cfg = recipes.config(run, "rdc", small)
    settings = {
        "alpha": {a: {"alpha": a} for a in RDC_ALPHAS},
        "beta": {b: {"beta": b} for b in RDC_BETAS},
    }
    studies = {
        title: grids.sweep_rows("rdc", cfg, small, grid, **kw)[0].assign(method="rdc")
        for title, grid in settings.items()
        if grids.wanted(only, title)
    }
    data = {"sweeps": recipes.describe_data(run, small, [run.seed])}
    if grids.wanted(only, "official code"):
        studies["official code"] = code_study(run, small, cfg)
    if grids.wanted(only, "noise"):
        studies["noise"] = noise_study(run, small, cfg)
    curves = {"twist": twist_curves(run, small)} if grids.wanted(only, "twist") else {}
    return Grids(studies, curves, data, "")


def code_study(run: Run, small: Dataset, cfg: Any) -> pd.DataFrame:
    """R-DC's paper config against the official code's."""
    code = recipes.config(run, "rdc", small, **recipes.official_code_fields("rdc"))
    variants = {
        "RDCConfig()": grids.setting(run, "rdc", cfg, small),
        "RDCConfig.official_code()": grids.setting(run, "rdc", code, small, "-code"),
    }
    return grids.rows(
        {v: {"rdc": r} for v, r in variants.items()},
        dict.fromkeys(variants, len(small)),
    )


def noise_study(run: Run, small: Dataset, cfg: Any) -> pd.DataFrame:
    """Fig. 20: R-DC on the standardised data with Gaussian noise of each sigma."""
    norm = data.standardised(small)
    noisy = {
        s: dataclasses.replace(
            data.noisy(norm, s, seed=run.seed), name=f"{small.name}-noise{s}"
        )
        for s in NOISE
    }
    return grids.rows(
        {s: {"rdc": grids.setting(run, "rdc", cfg, d)} for s, d in noisy.items()},
        dict.fromkeys(NOISE, len(small)),
    )


def twist_curves(run: Run, small: Dataset) -> dict[str, list]:
    """Fig. 1: ID and LID checks of DEC's codes after R-DC's reconstruction (ACAI)
    pretraining and after contrastive pretraining."""
    twist = {
        label: recipes.runs_of(
            run,
            "dec",
            config(run, "dec", small, pretrain=pretraining),
            small,
            run.seed,
            tag,
            diagnostics=True,
        ).history
        for label, pretraining, tag in (
            ("reconstruction (ACAI)", RDC_PRETRAIN, catalog.entry("dec_rdc").tag),
            ("contrastive (NT-Xent)", CONTRASTIVE_PRETRAIN, "_contrastive"),
        )
    }
    return {k: stage_records(h, "checks") for k, h in twist.items()}


def reference_runs(
    at: Callable[[str], Run], ds: Dataset, seed: int, todo: Iterable[str]
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's runs of ``todo``, ``(name, RunResult, config)`` as each
    ends, each at its own caps (``at(name)``; P1 & P2 & P3 continues R-DC at R-DC's)."""
    for name in todo:
        e = catalog.entry(name)
        second = at(e.start) if e.start is not None else None
        result = runs(at(name), ds, seed, [name], second)[name]
        yield name, result, config(at(name), e.method, ds)
