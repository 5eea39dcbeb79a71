"""The pages' grid studies: sensitivity sweeps, imbalanced data, the paper's config
against the official code's. Each is many runs, so they live in the reference.

``page_grids(run, page, ds)`` gives a page its studies: from the committed reference
(``dclib reference`` runs the ``grids`` job of each page at the ``full`` profile)
when it holds them for the page's dataset and first seed, otherwise computed by this
execution at smoke scale (the ``smoke`` profile's sweep subset and epochs; the
``full`` and ``paper`` profiles compute at their own scale). ``Grids.source`` says
which, for the captions: a reader never mistakes one for the other.

A study is a frame with one row per ``setting`` (and ``method``, where it compares
several) and the run's metrics (what ``plotting.sweeps`` and ``runs.sweep_vs_paper``
take); curves are per-epoch
records of some runs (DSSL Fig. 7, DCSS Fig. 10a). Method names are run names
(``ae_kmeans``, ``dcss``); pages map them to the papers'.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dclib import committed, data, recipes
from dclib.data import Dataset
from dclib.methods._common import stage_records
from dclib.profiles import PROFILES, Run
from dclib.runs import RESULTS_DIR, RunResult, sweep, trained_start


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


def _rows(runs: dict[Any, dict[str, RunResult]], n: dict[Any, int]) -> pd.DataFrame:
    """One row per (setting, run name): the frame of a study."""
    return pd.DataFrame(
        {"method": name, "setting": s, "n": n[s], **r.metrics}
        for s, named in runs.items()
        for name, r in named.items()
    )


def _sweep_rows(method: str, cfg: Any, small: Dataset, grid: dict, **kw: Any):
    frame, runs = sweep(method, cfg, small, grid, **kw)
    return frame.assign(n=len(small)), runs


def _setting(run: Run, method: str, cfg: Any, ds: Dataset, tag: str = "") -> RunResult:
    """One setting of a study at the run's seed (``recipes.runs_of``); a setting
    whose loss diverges is a row of NaN scores (``runs.cluster``'s
    ``keep_diverged``)."""
    return recipes.runs_of(run, method, cfg, ds, run.seed, tag, keep_diverged=True)


def _imbalance(
    run: Run, runs_of: Callable[[Dataset], dict[str, RunResult]]
) -> tuple[pd.DataFrame, str]:
    """``runs_of(subset)`` on each imbalanced MNIST subset (``recipes.
    imbalanced_subsets``), and a description of the subsets."""
    parts = recipes.imbalanced_subsets(run)
    frame = _rows(
        {r: runs_of(part) for r, part in parts.items()},
        {r: len(p) for r, p in parts.items()},
    )
    source = parts[min(parts)].name.rsplit("-r", 1)[0].removesuffix("-sweep")
    sizes = f"n = {frame.n.min():,} to {frame.n.max():,}"
    rates = ", ".join(f"{r:g}" for r in parts)
    return frame, f"{source}, {sizes} for r = {rates}, seed {run.seed}"


def _dssl(run: Run, ds: Dataset) -> Grids:
    """DSSL Figs. 6-8 (zeta, the update interval T, m) and Table II (imbalance)."""
    cfg = recipes.config(run, "dssl", ds)
    small = run.sweep_subset(ds)
    kw = dict(profile=run.profile.name, seed=run.seed, device=run.device)
    t_grid = [t for t in (2, 5, 10, 25, 50) if t < cfg.n_epochs] or [1, 2]
    grids = {
        "zeta": {z: {"zeta": z} for z in (0.0, 0.1, 1.0, 5.0, 7.0)},
        "T": {t: {"update_interval": t} for t in t_grid},
        "m": {v: {"m": v} for v in (1.1, 1.3, 1.5, 1.7)},
    }
    swept = {t: _sweep_rows("dssl", cfg, small, g, **kw) for t, g in grids.items()}
    studies = {title: frame for title, (frame, _) in swept.items()}
    by_t = {
        f"T={t}": stage_records(r.history, "cluster") for t, r in swept["T"][1].items()
    }
    studies["imbalance"], imbalance = _imbalance(
        run,
        lambda part: recipes.dssl_runs(
            run, part, recipes.config(run, "dssl", part), run.seed
        ),
    )
    where = recipes.describe_data(run, small, [run.seed])
    return Grids(studies, {"T": by_t}, {"sweeps": where, "imbalance": imbalance}, "")


def _dcss(run: Run, ds: Dataset) -> Grids:
    """DCSS Figs. 9 and 10 (alpha, m, T1 in phase 1; T2 and zeta + gamma = 1 in phase
    2 from the subset's DCSS_u), Fig. 6 (imbalance) and the paper's config against
    the official code's."""
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
    studies = {
        t: _sweep_rows("dcss_u", cfg, small, g, **kw)[0] for t, g in phase1.items()
    }
    start = trained_start(recipes.runs_of(run, "dcss_u", cfg, small, run.seed))
    t2 = {t: {"t2": t} for t in sorted(t2_grid)}
    studies["T2"] = _sweep_rows("mnet", cfg, small, t2, start=start, **kw)[0]
    zetas = {
        z: {"zeta": z, "gamma": round(1 - z, 2)} for z in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    }
    studies["zeta"], zeta_runs = _sweep_rows(
        "mnet", cfg, small, zetas, start=start, **kw
    )
    pairs = {
        f"zeta={z}": stage_records(r.history, "phase2") for z, r in zeta_runs.items()
    }
    studies["imbalance"], imbalance = _imbalance(
        run,
        lambda part: recipes.dcss_runs(
            run, part, recipes.config(run, "dcss", part), run.seed
        ),
    )
    code_cfg = recipes.config(
        run, "dcss", small, **recipes.official_code_fields("dcss")
    )
    studies["official code"] = _rows(
        {
            "DCSSConfig()": recipes.dcss_runs(run, small, cfg, run.seed),
            "DCSSConfig.official_code()": recipes.dcss_runs(
                run, small, code_cfg, run.seed, tag="-code"
            ),
        },
        dict.fromkeys(("DCSSConfig()", "DCSSConfig.official_code()"), len(small)),
    )
    where = recipes.describe_data(run, small, [run.seed])
    return Grids(
        studies, {"zeta": pairs}, {"sweeps": where, "imbalance": imbalance}, ""
    )


def _dml(run: Run, ds: Dataset) -> Grids:
    """DML Table III (imbalance: AE + k-means and DML from each base; capped profiles
    DSL only), the paper's config against the official code's, and Figs. 6-8
    (lambda, the number of networks L, the latent dimension d)."""
    bases = tuple(recipes.DML_BASES)
    small = run.sweep_subset(ds)
    capped = run.profile.max_epochs is not None
    studies: dict[str, pd.DataFrame] = {}
    studies["imbalance"], imbalance = _imbalance(
        run,
        lambda part: (
            recipes.baseline_runs(run, part, run.seed, ["ae_kmeans"])
            | recipes.dml_table_runs(
                run, part, run.seed, bases[:1] if capped else bases
            )
        ),
    )

    def dml_only(**over: Any) -> dict[str, RunResult]:
        base_over = over.pop("base_over", None)
        runs = recipes.dml_table_runs(run, small, run.seed, bases, base_over, **over)
        return {k: r for k, r in runs.items() if k.startswith("dml-")}

    variants = {"paper": {}, "official code": recipes.official_code_fields("dml")}
    studies["official code"] = _rows(
        {v: dml_only(**over) for v, over in variants.items()},
        dict.fromkeys(variants, len(small)),
    )
    K = ds.n_clusters
    networks = sorted({1, 2, 4, K} if capped else {1, 2, 3, 4, 5, K})
    latent = (5, 10, 20) if capped else (5, 10, 20, 30)
    grids = {
        "lambda": {v: {"lam": v} for v in (0.0, 0.01, 0.1, 1.0)},
        "networks L": {v: {"n_networks": v} for v in networks if v <= K},
        "latent dimension d": {v: {"base_over": {"latent_dim": v}} for v in latent},
    }
    for title, grid in grids.items():
        studies[title] = _rows(
            {v: dml_only(**over) for v, over in grid.items()},
            dict.fromkeys(grid, len(small)),
        )
    where = recipes.describe_data(run, small, [run.seed])
    return Grids(studies, {}, {"sweeps": where, "imbalance": imbalance}, "")


GAMMAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
"""DynAE Fig. 13: the balancing weight gamma of L = L1 + gamma L2 (IDEC*: of its
clustering loss)"""


def _dynae(run: Run, ds: Dataset) -> Grids:
    """DynAE Fig. 13 (gamma for DynAE and IDEC*, with DynAE's learning curves) and
    the paper's config against the official code's and against eq. 9 and 12's
    squared norms (``DynAEConfig.per_element``)."""
    small = run.sweep_subset(ds)
    by_gamma: dict[Any, dict[str, RunResult]] = {}
    for g in GAMMAS:
        by_gamma[g] = {}
        for name in ("dynae", "idec_star"):
            cfg = recipes.dynae_config(run, name, small, gamma=g)
            method = recipes.DYNAE_RUNS[name]
            tag = (recipes.ACAI_TAG if name != "dynae" else "") + f"-gamma={g}"
            by_gamma[g][name] = _setting(run, method, cfg, small, tag)
    studies = {"gamma": _rows(by_gamma, dict.fromkeys(GAMMAS, len(small)))}
    curves = {
        "gamma": {
            f"gamma={g}": stage_records(r["dynae"].history, "checks")
            for g, r in by_gamma.items()
        }
    }
    code = recipes.dynae_config(
        run, "dynae", small, **recipes.official_code_fields("dynae")
    )
    variants = {
        "DynAEConfig()": _setting(
            run, "dynae", recipes.dynae_config(run, "dynae", small), small
        ),
        "DynAEConfig.official_code()": _setting(run, "dynae", code, small, "-code"),
        "DynAEConfig(per_element=False)": _setting(
            run,
            "dynae",
            recipes.dynae_config(run, "dynae", small, per_element=False),
            small,
            "-norms",
        ),
    }
    studies["official code"] = _rows(
        {v: {"dynae": r} for v, r in variants.items()},
        dict.fromkeys(variants, len(small)),
    )
    where = recipes.describe_data(run, small, [run.seed])
    return Grids(studies, curves, {"sweeps": where}, "")


RDC_ALPHAS = (0.1, 0.6, 0.8, 0.9, 1.0)
RDC_BETAS = (0.1, 0.3, 0.7, 1.0, 1.2)
"""R-DC Fig. 17: the ranges of alpha and beta (§4.2.4)"""
NOISE = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)
"""R-DC Fig. 20: the standard deviations of the added Gaussian noise (eq. 17)"""


def _rdc(run: Run, ds: Dataset) -> Grids:
    """R-DC Fig. 17 (alpha, beta), Fig. 20 (Gaussian noise on the standardised data,
    eq. 16-17), the paper's config against the official code's, and Fig. 1 (ID and
    LID of DEC's codes after reconstruction and contrastive pretraining)."""
    small = run.sweep_subset(ds)
    kw = dict(profile=run.profile.name, seed=run.seed, device=run.device)
    cfg = recipes.config(run, "rdc", small)
    grids = {
        "alpha": {a: {"alpha": a} for a in RDC_ALPHAS},
        "beta": {b: {"beta": b} for b in RDC_BETAS},
    }
    studies = {
        title: _sweep_rows("rdc", cfg, small, grid, **kw)[0].assign(method="rdc")
        for title, grid in grids.items()
    }
    code = recipes.config(run, "rdc", small, **recipes.official_code_fields("rdc"))
    variants = {
        "RDCConfig()": _setting(run, "rdc", cfg, small),
        "RDCConfig.official_code()": _setting(run, "rdc", code, small, "-code"),
    }
    studies["official code"] = _rows(
        {v: {"rdc": r} for v, r in variants.items()},
        dict.fromkeys(variants, len(small)),
    )
    norm = data.standardised(small)
    noisy = {
        s: dataclasses.replace(
            data.noisy(norm, s, seed=run.seed), name=f"{small.name}-noise{s}"
        )
        for s in NOISE
    }
    studies["noise"] = _rows(
        {s: {"rdc": _setting(run, "rdc", cfg, d)} for s, d in noisy.items()},
        dict.fromkeys(NOISE, len(small)),
    )
    twist = {
        label: recipes.runs_of(
            run,
            "dec",
            recipes.rdc_config(run, "dec", small, pretrain=pretraining),
            small,
            run.seed,
            tag,
            diagnostics=True,
        ).history
        for label, pretraining, tag in (
            ("reconstruction (ACAI)", recipes.RDC_PRETRAIN, recipes.RDC_TAG),
            ("contrastive (NT-Xent)", recipes.CONTRASTIVE_PRETRAIN, "_contrastive"),
        )
    }
    curves = {"twist": {k: stage_records(h, "checks") for k, h in twist.items()}}
    where = recipes.describe_data(run, small, [run.seed])
    return Grids(studies, curves, {"sweeps": where}, "")


COMPUTE: dict[str, Callable[[Run, Dataset], Grids]] = {
    "dssl": _dssl,
    "dcss": _dcss,
    "dml": _dml,
    "dynae": _dynae,
    "rdc": _rdc,
}

PAGES = tuple(COMPUTE)
"""the pages that have grid studies (the reference's ``grids`` jobs)"""


def compute(run: Run, page: str, ds: Dataset) -> Grids:
    """The grid studies of ``page`` on ``ds`` at ``run``'s scale (what the reference's
    ``grids`` job records)."""
    if page not in COMPUTE:
        raise ValueError(f"unknown page {page!r}; choose one of {PAGES}")
    return COMPUTE[page](run, ds)


def page_grids(run: Run, page: str, ds: Dataset) -> Grids:
    """``page``'s grid studies for a page execution: the committed reference's for
    the run's dataset and first seed when present; otherwise computed now, at smoke
    scale for the smoke and quick profiles, at the run's scale for full and paper."""
    for profile in ("paper", "full"):
        path = committed.result_path(
            RESULTS_DIR, profile, run.dataset, f"grids-{page}", run.seed
        )
        if path.exists():
            record = json.loads(path.read_text())
            p = record["provenance"]
            source = (
                f"the committed reference (profile {profile}, commit "
                f"{p['git_commit'][:12]}, {p['device']}, {p['date'][:10]})"
            )
            return Grids.from_json(record, source)
    if run.profile.name in ("full", "paper"):
        return dataclasses.replace(
            compute(run, page, ds), source=f"this execution ({run.profile.name})"
        )
    smoke = dataclasses.replace(run, profile=PROFILES["smoke"])
    scale = (
        f"this execution at smoke scale ({smoke.profile.sweep_samples} samples, "
        f"at most {smoke.profile.max_epochs} epochs per stage; no committed "
        f"reference holds this page's grids for {run.dataset}, seed {run.seed}: "
        "a check that every setting runs, not the paper's protocol)"
    )
    return dataclasses.replace(compute(smoke, page, ds), source=scale)
