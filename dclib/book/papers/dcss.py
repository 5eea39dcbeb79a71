"""The DCSS page (Sadeghi and Armanfard, 2021b): its runs, grid studies and
reference job: AE + k-means on DCSS's conv autoencoder, DCSS_u (phase 1) and DCSS
(phase 2 from DCSS_u), and X + MNet (DCSS phase 2 on a baseline X's network, §4.7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import pandas as pd

from dclib.book import catalog, grids, recipes, verdicts
from dclib.book.cache import RunResult, seed_mean, seed_table, trained_start
from dclib.book.catalog import PaperName
from dclib.book.grids import Grids
from dclib.book.paper_tables import ours_vs_paper, paper_results
from dclib.book.papers import baselines
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.book.reference.jobs import Job, job
from dclib.data import Dataset
from dclib.methods import stage_records
from dclib.methods.dcss import DCSSConfig

PAGE = "dcss"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = PAGE
"""its reference jobs' recipe (``reference.Job.recipe``)"""

DATA = "conv"
"""the reference data of its methods (``reference.jobs.DATA``)"""

X_MNET = catalog.x_mnet()
"""X + MNet (DCSS Table 3): DCSS phase 2 on each baseline X's trained network, on
the MLP methods' reference data (one job per X)"""

RUNS = tuple(n for n in catalog.names(PAGE) if n not in {e.name for e in X_MNET})
"""the page's runs on DCSS's conv AE: AE + k-means, DCSS_u, DCSS"""

TABLE3 = tuple(name for e in X_MNET for name in (e.start, e.name))
"""DCSS Table 3's rows: each X above X + MNet"""

X_MNET_RUNS = tuple(e.name for e in X_MNET)
"""DCSS Table 3's X + MNet rows (the page's own; the X are the baselines page's)"""

BASES = tuple(e.start for e in X_MNET)
"""the baselines X of DCSS Table 3 (DEC, IDEC, DCN, DKM_p), the baselines page's
runs"""


def runs(
    run: Run, ds: Dataset, cfg: Any, seed: int, tag: str = ""
) -> dict[str, RunResult]:
    """AE + k-means, DCSS_u and DCSS (phase 2 started from DCSS_u) on ``ds`` for
    ``seed``; ``tag`` keeps another config's DCSS_u and DCSS apart in the cache."""
    out: dict[str, RunResult] = {}
    for name in RUNS:
        e = catalog.entry(name)
        e_cfg = recipes.conv_page_config(run, e, cfg, ds)
        start = None if e.start is None else trained_start(out[e.start])
        extra = "" if e.method == "ae_kmeans" else tag
        out[name] = recipes.runs_of(
            run, e.method, e_cfg, ds, seed, e.tag + extra, start=start
        )
    return out


def x_mnet_runs(run: Run, ds: Dataset, cfg: Any, seed: int) -> dict[str, RunResult]:
    """X + MNet (DCSS §4.7, ``X_MNET``): each baseline X on ``ds``, then DCSS phase
    2 (``cfg``) on its trained network."""
    out = {}
    for e in X_MNET:
        base = recipes.runs_of(run, e.start, recipes.config(run, e.start, ds), ds, seed)
        out[e.name] = recipes.runs_of(
            run, e.method, cfg, ds, seed, e.tag, start=trained_start(base)
        )
    return out


def page_runs(run: Run, ds: Dataset, cfg: Any) -> dict[str, dict[int, RunResult]]:
    """``runs`` (``cfg``) on ``ds`` for every seed, ``{name: {seed: RunResult}}``."""
    return recipes.by_seed(run, partial(runs, run, ds, cfg))


def table3_runs(run: Run, ds: Dataset, cfg: Any) -> dict[str, dict[int, RunResult]]:
    """DCSS Table 3's runs, ``{name: {seed: RunResult}}``: each baseline X of
    ``BASES`` (read through the run cache), then X + MNet (``x_mnet_runs``), on the
    seeds of ``recipes.costly_seeds``."""
    return recipes.by_seed(
        run, partial(_table3_seed, run, ds, cfg), recipes.costly_seeds(run)
    )


def _table3_seed(run: Run, ds: Dataset, cfg: Any, seed: int) -> dict[str, RunResult]:
    return baselines.runs(run, ds, seed, BASES) | x_mnet_runs(run, ds, cfg, seed)


def compute_grids(run: Run, ds: Dataset, only: Sequence[str] | None = None) -> Grids:
    """DCSS Figs. 9 and 10 (alpha, m, T1 in phase 1; T2 and zeta + gamma = 1 in phase
    2 from the subset's DCSS_u), Fig. 6 (imbalance) and the paper's config against
    the official code's; ``only``: those studies alone (``grids.wanted``)."""
    cfg = recipes.config(run, "dcss", ds)
    small = run.sweep_subset(ds)
    kw = dict(profile=run.profile.name, seed=run.seed, device=run.device)
    t1_grid = [t for t in (2, 5, 10, 15) if t < cfg.phase1_epochs] or [1, 2]
    t2_grid = {1, cfg.phase2_epochs} | {
        t for t in (1, 5, 10, 20) if t <= cfg.phase2_epochs
    }
    phase1 = {
        "alpha": {a: {"alpha": a} for a in (0.0, 0.01, 0.1, 1.0)},
        "m": {v: {"m": v} for v in (1.1, 1.3, 1.5, 1.7)},
        "T1": {t: {"t1": t} for t in t1_grid},
    }
    phase2 = {
        "T2": {t: {"t2": t} for t in sorted(t2_grid)},
        "zeta": {
            z: {"zeta": z, "gamma": round(1 - z, 2)}
            for z in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
        },
    }
    studies = {
        t: grids.sweep_rows("dcss_u", cfg, small, g, **kw)[0]
        for t, g in phase1.items()
        if grids.wanted(only, t)
    }
    data = {"sweeps": recipes.describe_data(run, small, [run.seed])}
    curves = {}
    second = [t for t in phase2 if grids.wanted(only, t)]
    if second:  # phase 2 continues the subset's DCSS_u
        start = trained_start(recipes.runs_of(run, "dcss_u", cfg, small, run.seed))
    for t in second:
        studies[t], found = grids.sweep_rows(
            "mnet", cfg, small, phase2[t], start=start, **kw
        )
        if t == "zeta":
            curves[t] = {
                f"zeta={z}": stage_records(r.history, "phase2")
                for z, r in found.items()
            }
    if grids.wanted(only, "imbalance"):
        studies["imbalance"], data["imbalance"] = grids.imbalance(
            run,
            lambda part: runs(run, part, recipes.config(run, "dcss", part), run.seed),
        )
    if not grids.wanted(only, "official code"):
        return Grids(studies, curves, data, "")
    code_cfg = recipes.config(
        run, "dcss", small, **recipes.official_code_fields("dcss")
    )
    studies["official code"] = grids.rows(
        {
            "DCSSConfig()": runs(run, small, cfg, run.seed),
            "DCSSConfig.official_code()": runs(
                run, small, code_cfg, run.seed, tag="-code"
            ),
        },
        dict.fromkeys(("DCSSConfig()", "DCSSConfig.official_code()"), len(small)),
    )
    return Grids(studies, curves, data, "")


def reference_jobs(profile: str, seed: int) -> list[Job]:
    """The page's reference jobs: its runs on the conv AE (``RUNS``, the conv-AE
    methods' data) and one job per baseline X of Table 3 computing X + MNet on the
    MLP methods' data, at X's caps for X (the baselines job's X, shared through the
    run cache) and its own for phase 2."""
    conv = job(RECIPE, DATA, profile, seed, [catalog.entry(n) for n in RUNS])
    return [conv] + [
        job(
            RECIPE, "mlp", profile, seed, [catalog.entry(e.start), e], {"base": e.start}
        )
        for e in X_MNET
    ]


def reference_names(base: str | None = None) -> tuple[str, ...]:
    """The runs a reference job writes: ``RUNS``, or with ``base`` that X's X + MNet
    (X itself is the baselines page's job's)."""
    return RUNS if base is None else (f"{base}+mnet",)


def reference_runs(
    at: Callable[[str], Run],
    ds: Dataset,
    seed: int,
    todo: Iterable[str],
    base: str | None = None,
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's runs of ``todo``, ``(name, RunResult, config)``: the
    conv-AE runs, or X + MNet after X (at X's caps, ``at(base)``)."""
    if base is None:
        yield from recipes.conv_reference_runs(runs, PAGE, at, ds, seed, todo)
        return
    for name in todo:
        e = catalog.entry(name)
        x = recipes.runs_of(
            at(base), base, recipes.config(at(base), base, ds), ds, seed
        )
        cfg = recipes.config(at(name), "dcss", ds)
        start = trained_start(x)
        found = recipes.runs_of(at(name), e.method, cfg, ds, seed, e.tag, start=start)
        yield name, found, cfg


def table_rows(dataset: str, names: Iterable[str]) -> dict[str, dict[str, PaperName]]:
    """``recipes.paper_rows`` of the runs ``names`` in DCSS's own tables only (the
    baselines' DynAE columns left out)."""
    return recipes.paper_rows(dataset, names, (PAGE,))


def table3(x_mnet: dict[str, dict[int, RunResult]], dataset: str) -> pd.DataFrame:
    """DCSS Table 3, ours beside the paper's: each X (``table3_runs``) above X +
    MNet, labelled, with DCSS Table 1's numbers for X and Table 3's for X + MNet."""
    order = list(TABLE3)
    table = ours_vs_paper(x_mnet, table_rows(dataset, x_mnet), dataset)
    return table.loc[order].rename(index=recipes.labels(order))


def table2_setting() -> str:
    """The column of DCSS Table 2 (one per ResNet) of the book's backbone."""
    return "Resnet-" + recipes.RGB_BACKBONE.removeprefix("resnet")


def table2(dataset: str, results: dict[str, dict[int, RunResult]]) -> pd.DataFrame:
    """DCSS Table 2's ``table2_setting`` column on ``dataset`` (RGB features): our
    runs among ``RUNS`` and ``BASES`` (ACC and NMI, mean ± std in %), under the
    table's names, beside the paper's."""
    names = {
        name: str(catalog.entry(name).paper_entry).replace(" + ", "+")
        for name in RUNS + BASES
    }  # Table 2 writes "AE+k-means"
    ours = {names[k]: seed_table(v) for k, v in results.items() if k in names}
    setting = table2_setting()
    where = dict(paper="dcss", table="Table 2", dataset=dataset, setting=setting)
    theirs = paper_results(**where).pivot(
        index="method", columns="metric", values="value"
    )
    parts = {
        "ours": pd.DataFrame(ours).T.rename(columns=str.upper),
        f"DCSS Table 2 ({setting})": theirs.map("{:.1f}".format),
    }
    return pd.concat(parts, axis=1).fillna("—")


def no_table2(dataset: str) -> str:
    """What the page says instead of Table 2 when its data are not RGB images."""
    backbone = recipes.RGB_BACKBONE
    return (
        "**DCSS Table 2** clusters ResNet-34/50/101/152 ImageNet features of "
        f"CIFAR-10, CIFAR-100-20 and STL-10; this run's data ({dataset}) are not "
        "RGB images, so the table is not regenerated here. With `-p dataset cifar10` "
        "(or `stl10`, `cifar100-20`), on a machine that holds those images and the "
        f"ImageNet weights of {backbone}, `recipes.page_data` turns the "
        f"images into {backbone} features and this page shows its runs "
        f"beside the paper's {table2_setting()} column."
    )


def official_code_table(frame: pd.DataFrame) -> pd.DataFrame:
    """ACC and NMI (%) of DCSS_u and DCSS under each config of the grids' "official
    code" study (``frame``, methods by run name), methods labelled."""
    versus = frame[frame.method != RUNS[0]]
    table = versus.assign(ACC=100 * versus.acc, NMI=100 * versus.nmi).pivot(
        index="setting", columns="method", values=["ACC", "NMI"]
    )
    return table.rename(columns=recipes.labels(RUNS), level="method")


def networks(run: Run, ds: Dataset, cfg: Any, first: dict[str, RunResult]) -> str:
    """What networks this execution trained (``first``: the first seed's ``runs``):
    DCSS's autoencoder and MNet, and the autoencoder of AE + k-means."""
    ae, _, own = RUNS
    latent = first[own].weights["arch"]["latent_dim"]
    mnet = "-".join(map(str, (latent, *cfg.mnet_hidden, cfg.n_clusters)))
    return (
        f"This run ({recipes.describe_data(run, ds)}): DCSS trains "
        f"{recipes.describe_autoencoder(first[own])} and MNet {mnet}; AE + k-means "
        f"clusters the codes of {recipes.describe_autoencoder(first[ae])}."
    )


def grids_sentence(studies: Grids) -> str:
    """Where the grid studies come from, the data they ran on and their settings,
    and the settings that diverged."""
    listed = {
        k: ", ".join(f"{v:g}" for v in studies.studies[k].setting)
        for k in ("alpha", "m", "T1", "T2", "zeta")
    }
    return (
        f"These studies come from {studies.source}. The sweeps ran on "
        f"{studies.data['sweeps']} (alpha ∈ {{{listed['alpha']}}}, m ∈ "
        f"{{{listed['m']}}}, T1 ∈ {{{listed['T1']}}}, T2 ∈ {{{listed['T2']}}}, zeta ∈ "
        f"{{{listed['zeta']}}} with gamma = 1 - zeta); the imbalance study on "
        f"{studies.data['imbalance']}.{studies.diverged(recipes.labels(RUNS))}"
    )


def this_execution(run: Run, ds: Dataset, cfg: Any, acc: dict[str, float]) -> str:
    """What this execution's runs reached (``acc``: run name -> mean ACC over the
    seeds, a fraction): AE + k-means, DCSS_u and DCSS, with the epochs of ``cfg``
    beside the paper's; labelled as this execution's and never a verdict on the
    paper's claims (the ledger's sentences give those)."""
    ae, phase1, own = RUNS
    paper = DCSSConfig()
    return (
        f"This execution ({run.profile.name} profile, {len(ds):,} samples of "
        f"{ds.name}, {recipes.seeds_phrase(run.seeds)}; phase 1 "
        f"{cfg.phase1_epochs} of the "
        f"paper's {paper.phase1_epochs} epochs, {cfg.phase1_optimizer} at lr "
        f"{cfg.phase1_lr:g}, phase 2 {cfg.phase2_epochs} of its "
        f"{paper.phase2_epochs}): AE + k-means ACC {100 * acc[ae]:.1f} %, DCSS_u "
        f"{100 * acc[phase1]:.1f} %, DCSS {100 * acc[own]:.1f} %. It checks that "
        "the page runs; the verdicts above come from the committed reference."
    )


def x_mnet_sentence(run: Run, acc: dict[str, float]) -> str:
    """This execution's Table 3 runs: each baseline X's ACC and X + MNet's (``acc``:
    run name -> mean ACC, a fraction), labelled as this execution's, no verdict."""
    pairs = "; ".join(
        f"{catalog.entry(e.start).label} {100 * acc[e.start]:.1f} %, "
        f"{catalog.entry(e.name).label} {100 * acc[e.name]:.1f} %"
        for e in X_MNET
    )
    seeds = recipes.seeds_phrase(recipes.costly_seeds(run))
    return (
        f"This execution's Table 3 runs ({run.profile.name} profile, {seeds}), "
        f"X and X + MNet (phase 2 on X's network): {pairs}."
    )


def reference_sentence(ref: dict[str, dict[int, RunResult]], dataset: str) -> list[str]:
    """Whether the committed reference (``ref``: ``RUNS`` of the full profile on
    ``dataset``) orders AE + k-means < DCSS_u < DCSS as the paper does; nothing
    unless all three are committed."""
    if any(name not in ref for name in RUNS):
        return []
    ae, phase1, own = RUNS
    acc = {name: seed_mean(ref[name]) for name in RUNS}
    ran = store.epochs_by_stage(store.first_seed(ref[phase1]).history)
    ordered = acc[own] > acc[phase1] > acc[ae]
    return [
        f"The committed reference (full profile, {dataset}, phase 1 at "
        f"{ran['phase1']} of the paper's {DCSSConfig().phase1_epochs} epochs) "
        + ("orders" if ordered else "does not order")
        + f" the three as the paper does: DCSS {100 * acc[own]:.1f} %, DCSS_u "
        f"{100 * acc[phase1]:.1f} %, AE + k-means {100 * acc[ae]:.1f} %. All three "
        "stay below the paper's MNIST column, whose networks train on the 70,000 "
        "images (fourteen times mnist5k's) with phase 1 in full."
    ]


def imbalance_gap(frame: pd.DataFrame, where: str) -> str:
    """Fig. 6's finding: DCSS's ACC minus AE + k-means' on the imbalanced subsets
    (``frame``: the grids' imbalance study, methods by run name; ``where``: its
    data), averaged over the rates r."""
    ae, _, own = RUNS
    acc = frame.pivot(index="setting", columns="method", values="acc")
    gap = 100 * (acc[own] - acc[ae])
    return (
        f"On the imbalanced MNIST subsets ({where}) DCSS's ACC minus AE + k-means' "
        f"averages {gap.mean():+.1f} points over r = "
        f"{', '.join(f'{r:g}' for r in gap.index)}."
    )


def code_gap(frame: pd.DataFrame, where: str) -> str:
    """The official-code study's finding: how much DCSSConfig.official_code()
    changes DCSS's ACC against DCSSConfig() (``frame``: the study, methods by run
    name; ``where``: its data)."""
    own = RUNS[-1]
    acc = frame[frame.method == own].set_index("setting").acc
    gap = 100 * (acc["DCSSConfig.official_code()"] - acc["DCSSConfig()"])
    return (
        f"On {where}, the official code's config changes DCSS's ACC by {gap:+.1f} "
        "points against the paper's."
    )


def findings(
    run: Run,
    ds: Dataset,
    cfg: Any,
    results: dict[str, dict[int, RunResult]],
    x_mnet: dict[str, dict[int, RunResult]],
    studies: Grids,
) -> list[str]:
    """The page's "What we find": the verdicts of the paper's claims
    (``verdicts.sentences``), the committed reference of ``RUNS`` beside DCSS
    Table 1, this execution's runs (``page_runs``, ``table3_runs``), and from the
    grids ``imbalance_gap`` and ``code_gap`` only where the committed reference
    holds them (smoke-scale grids are a wiring check, never a finding)."""
    acc = {name: seed_mean(r) for name, r in (x_mnet | results).items()}
    says = verdicts.sentences(PAGE) + recipes.reference_claims(RUNS)
    says += reference_sentence(store.results("full", run.dataset, RUNS), run.dataset)
    says += [this_execution(run, ds, cfg, acc), x_mnet_sentence(run, acc)]
    if studies.committed:
        where = {k: f"the committed reference, {v}" for k, v in studies.data.items()}
        says.append(imbalance_gap(studies.studies["imbalance"], where["imbalance"]))
        says.append(code_gap(studies.studies["official code"], where["sweeps"]))
    return says
