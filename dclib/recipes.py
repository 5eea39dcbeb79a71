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

import numpy as np
import pandas as pd

from dclib import committed, data
from dclib import functional as Fn
from dclib.data import Dataset
from dclib.methods import get_method
from dclib.methods._fuzzy import CONV_PRETRAIN
from dclib.methods.dynae import ACAI_PRETRAIN
from dclib.methods.rdc import RDC_PRETRAIN
from dclib.profiles import Run
from dclib.runs import PaperName, RunResult, cluster, setting_tag, trained_start
from dclib.train import PretrainConfig

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
    """``runs.cluster`` with the run's profile and device. Runs on the page's own
    data (not a sweep subset, a noisy copy or another dataset) log the
    leaderboard's diagnostics atlas (``FitContext.atlas``): they are its rows."""
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


def costly_seeds(run: Run) -> tuple[int, ...]:
    """The seeds of a page's costliest study: the first in capped profiles, even
    when a run asks for more (``-p seeds [0, 1]``; the quick profile has one seed
    since two put the book over its 30 minutes on a slow two-core machine: DCSS Table 3,
    X + MNet: eight phase-2 runs per seed; the DynAE and R-DC pages: their own
    augmented ACAI network and five runs per seed; the baselines page: six methods
    per seed); all of them in the full and paper profiles."""
    return run.seeds[:1] if run.profile.max_epochs is not None else run.seeds


def x_mnet_runs(
    run: Run, ds: Dataset, cfg: Any, seed: int, names: Iterable[str]
) -> dict[str, RunResult]:
    """X + MNet (DCSS §4.7): DCSS phase 2 on each baseline X's trained network."""
    out = {}
    for name in names:
        base = runs_of(run, name, config(run, name, ds), ds, seed)
        start = trained_start(base)
        out[f"{name}+mnet"] = runs_of(
            run, "mnet", cfg, ds, seed, f"-{name}", start=start
        )
    return out


DML_BASES = {"dsl": "dcss_u", "dcn": "dcn", "dkm": "dkm_p"}
"""DML's base methods M (its Table I) -> the recipes' runs of them"""


def dml_runs(
    run: Run,
    ds: Dataset,
    base: str,
    seed: int,
    base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:
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


DYNAE_RUNS = {
    "ae_kmeans": "ae_kmeans",
    "dec_star": "dec",
    "idec_star": "idec",
    "dc_star": "dc_star",
    "dynae": "dynae",
}
"""the DynAE page's runs -> the registered method each runs: every one on DynAE's
augmented ACAI pretraining (``ACAI_PRETRAIN``, shared through the run cache), so
"ae_kmeans" is the post-pretraining k-means and DEC*, IDEC* (DynAE §5.2.1) are DEC
and IDEC on that network"""

ACAI_TAG = "_acai"
"""the run-name tag of a method run on DynAE's pretraining instead of its own"""


def dynae_config(run: Run, name: str, ds: Dataset, **fields: Any) -> Any:
    """The config of the DynAE page's run ``name`` (a key of ``DYNAE_RUNS``)."""
    method = DYNAE_RUNS[name]
    return config(run, method, ds, **({"pretrain": ACAI_PRETRAIN} | fields))


def dynae_runs(
    run: Run, ds: Dataset, seed: int, names: Iterable[str] = tuple(DYNAE_RUNS)
) -> dict[str, RunResult]:
    """The DynAE page's runs of ``names`` on ``ds`` for ``seed``. On the run's first
    seed, which the page's figures show, DynAE, DC*, DEC* and IDEC* also log
    Feature Randomness and Drift (``FitContext.diagnostics``: a few passes over the
    data at every check)."""
    out = {}
    for name in names:
        method = DYNAE_RUNS[name]
        tag = ACAI_TAG if method in BASELINES else ""
        cfg = dynae_config(run, name, ds)
        watch = name != "ae_kmeans" and seed == run.seed
        out[name] = runs_of(run, method, cfg, ds, seed, tag, diagnostics=watch)
    return out


RDC_TAG = "_rdc"
"""the run-name tag of a method run on R-DC's pretraining instead of its own"""

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


def rdc_config(run: Run, method: str, ds: Dataset, **fields: Any) -> Any:
    """The config of registered ``method`` on R-DC's pretraining (``RDC_PRETRAIN``)."""
    return config(run, method, ds, **({"pretrain": RDC_PRETRAIN} | fields))


RDC_RUNS = {
    "p1": ("ae_kmeans", RDC_TAG),
    "p1_p2": ("rdc", ""),
    "p1_p3": ("dec", RDC_TAG),
    "p1_p2_p3": ("dec", RDC_TAG + "-after-rdc"),
    "dynae": ("dynae", RDC_TAG),
}
"""the R-DC page's runs -> (registered method, run-name tag), every one on R-DC's
pretraining (shared through the run cache): Table 8's P1 (k-means on the
pretrained codes), P1&P2 (R-DC), P1&P3 (DEC on the pretrained network), P1&P2&P3
(DEC continuing R-DC's network), and DynAE from the same network (Figs. 12, 15)"""


RDC_NAMES = {k: method + tag for k, (method, tag) in RDC_RUNS.items()}
"""each R-DC page run's name under ``results/`` and in the committed reference"""


def rdc_runs(
    run: Run,
    ds: Dataset,
    seed: int,
    names: Iterable[str] = tuple(RDC_RUNS),
    second: Run | None = None,
) -> dict[str, RunResult]:
    """The R-DC page's runs of ``names`` (keys of ``RDC_RUNS``) on ``ds`` for
    ``seed``. On the run's first seed, which the figures show, R-DC, DEC (P1&P3) and
    DynAE log the codes' ID and LID (``FitContext.diagnostics``). ``second``: the
    run (its profile's caps) of R-DC's second phase that P1&P2&P3 continues (the
    reference caps R-DC alone); default ``run``."""
    out: dict[str, RunResult] = {}
    for name in names:
        method, tag = RDC_RUNS[name]
        watch = seed == run.seed and name in ("p1_p2", "p1_p3", "dynae")
        start = None
        if name == "p1_p2_p3":
            p2 = run if second is None else second
            start = trained_start(rdc_runs(p2, ds, seed, ["p1_p2"])["p1_p2"])
        cfg = rdc_config(run, method, ds)
        out[name] = runs_of(
            run, method, cfg, ds, seed, tag, start=start, diagnostics=watch
        )
    return out


def curves_runs(run: Run, seed: int) -> tuple[Dataset, dict[str, RunResult]]:
    """R-DC Figs. 2 and 16: the pretrained linear autoencoder's k-means, DEC and
    R-DC on ``curves2d`` (``CURVES_FIELDS``)."""
    ds = run.load("curves2d")
    out = {
        method: runs_of(
            run, method, config(run, method, ds, **CURVES_FIELDS), ds, seed, "_curves"
        )
        for method in ("ae_kmeans", "dec", "rdc")
    }
    return ds, out


def leaderboard_runs(run: Run, ds: Dataset) -> dict[str, dict[int, RunResult]]:
    """Every run of ``leaderboard.ENTRIES`` on the pages' data ``ds``, under the
    reference's names, with the seeds and configs each page uses (so the run cache
    returns the pages' own runs once they have executed), plus k-means on the MLP
    network that DEC, IDEC and DCN pretrain greedily (``ae_kmeans_greedy``)."""
    conv = conv_input(ds)
    greedy = config(run, "ae_kmeans", ds, pretrain=config(run, "dec", ds).pretrain)
    dcss_cfg = config(run, "dcss", conv)
    x_names = BASELINE_PAPER_NAMES["dcss:Table 1"]

    def first_seeds(seed: int) -> dict[str, RunResult]:  # ``costly_seeds`` pages
        kmeans = runs_of(run, "ae_kmeans", greedy, ds, seed, "_greedy")
        x_mnet = x_mnet_runs(run, conv, dcss_cfg, seed, x_names)
        dynae = dynae_runs(run, ds, seed)
        rdc = rdc_runs(run, ds, seed, ("p1", "p1_p2", "p1_p3", "p1_p2_p3"))
        return (
            baseline_runs(run, ds, seed)
            | {"ae_kmeans_greedy": kmeans}
            | {k: v for k, v in x_mnet.items() if k != "ae_kmeans+mnet"}
            | {
                ("ae_kmeans" + ACAI_TAG if k == "ae_kmeans" else k): v
                for k, v in dynae.items()
            }
            | {"".join(RDC_RUNS[k]): v for k, v in rdc.items()}
        )

    def every_seed(seed: int) -> dict[str, RunResult]:
        dssl = dssl_runs(run, conv, config(run, "dssl", conv), seed)
        dcss = dcss_runs(run, conv, dcss_cfg, seed)
        dml = dml_table_runs(run, ds, seed)
        return (
            {"ae_kmeans_dssl": dssl["ae_kmeans"], "dssl": dssl["dssl"]}
            | {"ae_kmeans_dcss": dcss["ae_kmeans"]}
            | {k: dcss[k] for k in ("dcss_u", "dcss")}
            | {k: v for k, v in dml.items() if k.startswith("dml-")}
        )

    return by_seed(run, first_seeds, costly_seeds(run)) | by_seed(run, every_seed)


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
    from dclib.methods._common import stage_records
    from dclib.runs import PAPER_DATASETS, paper_results

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


def config_table(cfg: Any) -> pd.DataFrame:
    """Every field of a config and its value, one row each (a page's "what ran")."""
    values = {f.name: str(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    return pd.Series(values, name=type(cfg).__name__).to_frame()


def describe_data(run: Run, ds: Dataset, seeds: Iterable[int] | None = None) -> str:
    """ "quick profile, mnist5k, n = 5,000, seeds 0, 1": what a caption says ran."""
    seeds = list(run.seeds if seeds is None else seeds)
    word = "seed" if len(seeds) == 1 else "seeds"
    listed = ", ".join(map(str, seeds))
    return f"{run.profile.name} profile, {ds.name}, n = {len(ds):,}, {word} {listed}"


def conv_input(ds: Dataset) -> Dataset:
    """``ds`` as a conv-AE method (DSSL, DCSS) takes it: images of a size that no
    conv AE takes (8x8 digits; see ``models.GEOMETRIES``) become flat vectors named
    ``<name>-vectors``, which the method clusters with the MLP autoencoder, as it
    does feature vectors; other data are returned as they are."""
    from dclib.models import GEOMETRIES

    if ds.image_shape is None:
        return ds
    _, h, w = ds.image_shape
    if h == w and h in GEOMETRIES:
        return ds
    flat = ds.flat
    return dataclasses.replace(ds, X=flat, image_shape=None, name=f"{ds.name}-vectors")


def dml_input(ds: Dataset, base: str) -> Dataset:
    """The data ``dml_runs`` takes for ``base``: DSL (DCSS_u, a conv AE) clusters
    ``conv_input(ds)``, DCN and DKM_p (MLP) ``ds`` itself, so that each base is the
    run its own page caches (the DCSS page's, the baselines page's)."""
    return conv_input(ds) if DML_BASES[base] == "dcss_u" else ds


def dml_table_runs(
    run: Run,
    ds: Dataset,
    seed: int,
    bases: Iterable[str] = tuple(DML_BASES),
    base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:
    """``dml_runs`` of every base of ``bases`` on its ``dml_input(ds)`` for ``seed``,
    in one dict ``{base: M, "dml-" + base: DML-M, ...}`` (DML Table I's runs)."""
    out: dict[str, RunResult] = {}
    for base in bases:
        part = dml_input(ds, base)
        out |= dml_runs(run, part, base, seed, base_over, **over)
    return out


def paper_rows(
    dataset: str, source: str, names: dict[str, PaperName]
) -> dict[str, dict[str, PaperName]]:
    """``runs.ours_vs_paper``'s ``rows``: each run name of ``names`` -> {``source``
    ("paper:table"): the paper's name for it}; empty for a dataset that no paper
    reports (e.g. digits), whose table then shows our columns alone."""
    from dclib.runs import PAPER_DATASETS

    if dataset not in PAPER_DATASETS:
        return {}
    return {name: {source: label} for name, label in names.items()}


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


BASELINE_LABELS = {
    "ae_kmeans": "AE + k-means",
    "dec": "DEC",
    "idec": "IDEC",
    "dcn": "DCN",
    "dkm": "DKM_a",
    "dkm_p": "DKM_p",
}
"""how the baselines page names ``BASELINES``: DKM_a anneals alpha, DKM_p keeps
alpha = 1000 on a pretrained network (DKM §4)"""

BASELINE_PAPER_NAMES = {
    "dcss:Table 1": {
        "ae_kmeans": "AE + k-means",
        "dec": "DEC",
        "idec": "IDEC",
        "dcn": "DCN",
        "dkm_p": "DKM",
    },
    "dynae:Table 2": {
        "ae_kmeans": "AE + K-Means",
        "dec": "DEC",
        "idec": "IDEC",
        "dcn": "DCN",
    },
}
"""each table's name for a baseline run; the papers' DKM row is DKM_p (``dkm_p``),
so DKM_a (``dkm``) has none"""


def merged_paper_rows(
    dataset: str, tables: dict[str, dict[str, PaperName]]
) -> dict[str, dict[str, PaperName]]:
    """``paper_rows`` of several tables merged: ``tables`` maps each source
    ("paper:table") to its names, and a run named in several tables gets a paper
    column from each."""
    rows: dict[str, dict[str, PaperName]] = {}
    for source, names in tables.items():
        for name, row in paper_rows(dataset, source, names).items():
            rows.setdefault(name, {}).update(row)
    return rows


def baseline_paper_rows(dataset: str) -> dict[str, dict[str, str]]:
    """``runs.ours_vs_paper``'s ``rows`` for the baselines page: DCSS Table 1 and
    DynAE Table 2 merged; empty for a dataset that no paper reports."""
    return merged_paper_rows(dataset, BASELINE_PAPER_NAMES)


def pixel_kmeans(ds: Dataset, seed: int, n_init: int = 10) -> dict[str, float]:
    """Scores (``metrics.scores``) of scikit-learn's k-means on the flattened pixels
    of ``ds``: K from the data, ``n_init`` restarts, seeded. The floor every paper
    starts from."""
    from sklearn.cluster import KMeans

    from dclib.metrics import scores

    km = KMeans(ds.n_clusters, n_init=n_init, random_state=seed)
    return scores(ds.y, km.fit_predict(ds.flat))


def config_tables(configs: dict[str, Any]) -> pd.DataFrame:
    """``config_table`` of each named config side by side (fields in order of first
    appearance), "—" where a config has no such field."""
    columns = {name: config_table(cfg).iloc[:, 0] for name, cfg in configs.items()}
    fields = list(dict.fromkeys(f for c in columns.values() for f in c.index))
    return pd.DataFrame(columns).reindex(fields).fillna("—")


def baseline_autoencoders(run: Run, ds: Dataset) -> dict[str, tuple[Any, Any]]:
    """The baselines page's pretrained autoencoders on ``ds`` for the first seed,
    label -> (model on the run's device, pretraining ``History``), from the cache
    the methods' runs fill: the MLP AE trained end to end (AE + k-means, DKM) and
    the MLP AE pretrained greedily then end to end (DEC, IDEC, DCN)."""
    from dclib.runs import pretrained_model

    kw: dict[str, Any] = {"seed": run.seed, "device": run.device}
    end_to_end = config(run, "ae_kmeans", ds).pretrain
    greedy = config(run, "dec", ds).pretrain
    return {
        "MLP, end to end": pretrained_model(ds, end_to_end, **kw),
        "MLP, greedy then end to end": pretrained_model(ds, greedy, **kw),
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


def reference_tables(
    runs: dict[str, str],
    rows_for: Callable[[str], dict[str, dict[str, PaperName]]],
    names: dict[str, str],
) -> dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]]:
    """The committed reference results (``dclib reference``) of a page's runs beside
    the papers', one entry per (profile, dataset) that holds any of them: the table
    (``runs.ours_vs_paper`` headed by the profile) and where its numbers come from
    (``committed.provenance_table``), both indexed by the paper's names.

    ``runs`` maps a reference run name to the page's name for it (the DCSS page's
    ``{"ae_kmeans_dcss": "ae_kmeans", "dcss": "dcss"}``); ``rows_for(dataset)`` gives
    the ``ours_vs_paper`` rows of a dataset; ``names`` maps the page's names to the
    paper's ("AE + k-means")."""
    from dclib.runs import ours_vs_paper

    out = {}
    for profile, dataset in committed.available():
        found = committed.results(profile, dataset, list(runs))
        if not found:
            continue
        ours = {runs[name]: r for name, r in found.items()}
        label = f"reference ({profile})"
        table = ours_vs_paper(ours, rows_for(dataset), dataset, label=label)
        where = committed.provenance_table(profile, dataset, list(found))
        out[profile, dataset] = (
            table.rename(index=names),
            where.rename(index=lambda r: names[runs[r]]),
        )
    return out


def reference_curves(
    runs: dict[str, str], dataset: str | None, stage: str
) -> dict[str, list[dict[str, Any]]]:
    """The per-epoch records of ``stage`` of committed reference runs on ``dataset``
    (first seed of each), for learning-curve figures: ``runs`` maps a label to a
    reference run name; the labels gain "(reference, <profile>)". ``dataset`` None:
    the reference on any dataset (a page whose reference runs on other data than
    the page), the labels then name it too. Empty when none is committed."""
    from dclib.methods._common import stage_records

    out = {}
    for profile, found in committed.available():
        if dataset is not None and found != dataset:
            continue
        where = profile if dataset is not None else f"{profile}, {found}"
        for label, name in runs.items():
            seeds = committed.load(profile, found, name)
            if seeds:
                history = seeds[min(seeds)].history
                out[f"{label} (reference, {where})"] = stage_records(history, stage)
    return out


NOT_COMMITTED = (
    "No reference results are committed for these runs yet: `make reference` "
    "computes them (the `full` profile) and writes them under `results/reference/`."
)
"""what a page says where its committed reference would be"""


def committed_curves(
    runs: dict[str, str], stage: str
) -> dict[str, list[dict[str, Any]]]:
    """``reference_curves`` of the reference on whatever data it holds, for a page
    whose figures show them apart from its own runs; the page says ``NOT_COMMITTED``
    where none is committed."""
    from IPython.display import Markdown, display

    curves = reference_curves(runs, None, stage)
    if not curves:
        display(Markdown(NOT_COMMITTED))
    return curves


def reference_section(
    label: str,
    runs: dict[str, str],
    rows_for: Callable[[str], dict[str, dict[str, PaperName]]],
    names: dict[str, str],
) -> list[Any]:
    """What a page displays of its committed reference (``reference_tables``): per
    (profile, dataset), the table captioned with the paper's ``label`` ("DSSL Table
    I") and its provenance; a sentence saying how to produce it when none is
    committed."""
    from IPython.display import Markdown

    tables = reference_tables(runs, rows_for, names)
    if not tables:
        return [Markdown(NOT_COMMITTED)]
    out = []
    for (profile, dataset), (table, where) in tables.items():
        pct = "ACC and NMI in %, mean ± std over the seeds"
        out.append(
            table.style.set_caption(
                f"{label} — the committed reference (profile {profile}, {dataset}, "
                f"{pct}) beside the paper's numbers for the full dataset"
            )
        )
        out.append(
            where.style.set_caption(
                f"{label} — where the reference numbers on {dataset} come from: "
                "samples, the epochs of each stage of the run and its training time "
                "(with the logging against the true labels; a run that continues "
                "another, such as DCSS after DCSS_u or X + MNet after X, counts its "
                "own stages only), the CPU caps of its job "
                "where the paper's count did not fit, seeds, commit, device, date"
            )
        )
    return out


def reference_claims(
    runs: dict[str, str],
    rows_for: Callable[[str], dict[str, dict[str, PaperName]]],
    names: dict[str, str],
) -> list[str]:
    """Sentences setting the committed reference's ACC of a page's runs beside the
    paper's, one per (profile, dataset) and paper table, with the arguments of
    ``reference_section``: "In the committed reference (profile full, fmnist, seed
    0), ACC beside DynAE Table 3: DynAE 45.2 % (paper 59.1 %, -13.9 points)." Runs
    without a committed result or a paper number are left out."""
    from dclib.runs import PAPER_LABELS, paper_acc, seed_mean

    out = []
    for profile, dataset in committed.available():
        found = committed.results(profile, dataset, list(runs))
        parts: dict[str, list[str]] = {}
        seeds: set[int] = set()
        for name, by_seed in found.items():
            for source, entry in rows_for(dataset).get(runs[name], {}).items():
                theirs = paper_acc(source, entry, dataset)
                if theirs is None:
                    continue
                ours = 100 * seed_mean(by_seed)
                paper, table = source.split(":")
                parts.setdefault(f"{PAPER_LABELS[paper]} {table}", []).append(
                    f"{names[runs[name]]} {ours:.1f} % (paper {theirs:.1f} %, "
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


def annealing_cut(label: str) -> list[Any]:
    """What the baselines page says of committed DKM_a references (``dkm``) whose
    clustering cap ended alpha's annealing (DKM §4: ``n_alphas`` values,
    ``epochs_per_alpha`` epochs each) before its last value: a sentence each, since
    their row then measures a truncated schedule, not the method."""
    from IPython.display import Markdown

    from dclib.methods._common import stage_records

    schedule = Fn.dkm_alphas(get_method("dkm").config().n_alphas)
    out = []
    for profile, dataset in committed.available():
        for seed, r in committed.load(profile, dataset, "dkm").items():
            reached = [h["alpha"] for h in stage_records(r.history, "cluster")]
            if reached and reached[-1] < schedule[-1]:
                out.append(
                    Markdown(
                        f"The reference's {label} on {dataset} (profile {profile}, "
                        f"seed {seed}) ran into its clustering cap with alpha at "
                        f"{reached[-1]:.2f}, value {len(set(reached))} of the "
                        f"schedule's {len(schedule)} (the last is {schedule[-1]:.1f}): "
                        f"its row measures a truncated annealing, not {label}."
                    )
                )
    return out


def paper_claim(run: Run, ds: Dataset, paper: str, table: str, method: str) -> str:
    """ "The paper reports ACC 98.0 % for DCSS on the full MNIST; this page clustered
    5,000 samples of mnist5k": a page's sentence setting its number beside the
    paper's ("" when no paper reports the run's dataset)."""
    from dclib.runs import PAPER_DATASETS, paper_results

    if run.dataset not in PAPER_DATASETS:
        return ""
    where = dict(paper=paper, table=table, method=method, metric="ACC")
    theirs = paper_results(dataset=run.dataset, **where).iloc[0]
    return (
        f"The paper reports ACC {theirs.value:.1f} % for {method} on the full "
        f"{theirs.dataset}; this page clustered {len(ds):,} samples of {run.dataset}"
    )
