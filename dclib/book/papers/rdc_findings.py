"""What the R-DC page finds: its closing sentences, each built by a pure function of
the page's runs (or the committed reference's) and tested on hand-built results.

``findings`` assembles them for the page: the claims' verdicts from the ledger
(``verdicts.sentences``), the committed reference (Fashion-MNIST at the paper's
protocol) beside the paper's Tables 3 and 8 and, when it holds them, its grids;
then this execution's phases (Table 8's settings), how R-DC's second phase ended,
its second filter on the final codes and the toy curves' separation, labelled as
this execution's and compared by numbers only: only the ledger gives verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from dclib.book import catalog, recipes, verdicts
from dclib.book.cache import RunResult, seed_mean
from dclib.book.grids import Grids, code_sentence
from dclib.book.paper_tables import paper_acc
from dclib.book.papers.rdc import (
    DYNAE,
    PAGE,
    PHASES,
    SILHOUETTE,
    TABLE8,
    checks,
    phase,
)
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.data import Dataset
from dclib.methods import rdc, stage_records
from dclib.methods.rdc import RDC_PRETRAIN, RDCConfig


def phase_claims(
    acc: Mapping[str, float], where: str, n_clusters: int, n_seeds: int
) -> list[str]:
    """This execution's Table 8 settings and DynAE (``acc``: run name -> ACC, a
    fraction, the mean over ``n_seeds`` seeds) on the data ``where`` describes:
    labelled as this execution's, numbers without a verdict."""
    p1, p2 = acc[phase("P1")], acc[phase("P1 & P2")]
    word = "; means over the seeds" if n_seeds > 1 else ""
    return [
        f"This execution ({where}, K = {n_clusters}{word}):",
        f"R-DC's second phase takes k-means on the pretrained codes from "
        f"{100 * p1:.1f} % to {100 * p2:.1f} % ACC ({100 * (p2 - p1):+.1f} points).",
        f"DEC from the same network reaches {100 * acc[phase('P1 & P3')]:.1f} % and "
        f"DynAE {100 * acc[DYNAE]:.1f} %; DEC after R-DC "
        f"{100 * acc[phase('P1 & P2 & P3')]:.1f} %.",
    ]


def taus(records: Sequence[Mapping[str, float]], cfg: RDCConfig) -> list[float]:
    """tau at each check of R-DC's second phase (the records at multiples of
    ``cfg.check_interval``: what ``rdc.stable`` reads)."""
    return [r["tau"] for r in records if r["iteration"] % cfg.check_interval == 0]


def fired(records: Sequence[Mapping[str, float]], cfg: RDCConfig) -> bool:
    """Whether the stop rule (``rdc.stable``) ended the phase these checks log."""
    return rdc.stable(taus(records, cfg), cfg.patience, cfg.smooth, cfg.min_checks)


def stop_claims(records: Sequence[Mapping[str, float]], cfg: RDCConfig) -> list[str]:
    """How R-DC's second phase ended (its check ``records``, first seed): the stop
    rule or a cap, tau and the purity of the core points' neighbours at the end."""
    if not records:
        return []
    last = records[-1]
    ended = (
        "when its smoothed tau stopped rising"
        if fired(records, cfg)
        else "at its epoch or iteration cap, before the stop rule fired"
    )
    return [
        f"R-DC (first seed) ended {ended}, at iteration {int(last['iteration']):,}, "
        f"with tau = {100 * last['tau']:.1f} % core points; "
        f"{100 * last['true_after']:.1f} % of their reliable neighbours share their "
        f"class, against {100 * last['true_before']:.1f} % of all their neighbours."
    ]


def filter_claims(z: torch.Tensor | np.ndarray, cfg: RDCConfig) -> list[str]:
    """The share of the core points' neighbours that the second filter (eq. 9) keeps
    on R-DC's final codes ``z``; nothing when no point is a core point."""
    final = rdc.dual_filter(torch.as_tensor(z), cfg)
    if not final.core.any():
        return []
    unit = rdc.beta_unit(final.distance, cfg)
    share = final.reliable[final.core].float().mean().item()
    return [
        f"On R-DC's final codes the second filter (beta = {cfg.beta} times the "
        f"median nearest-neighbour distance, {unit:.3f}) keeps {100 * share:.1f} % "
        "of the core points' neighbours."
    ]


def curves_claim(silhouette: Mapping[str, float]) -> str:
    """Figs. 2 and 16 in a number: the silhouette of the true curves after DEC and
    after R-DC (``silhouette``: ``curves_runs``' method -> its silhouette)."""
    dec, ours, start = silhouette["dec"], silhouette["rdc"], silhouette["ae_kmeans"]
    return (
        f"On curves2d the silhouette of the true curves is {dec:.3f} after DEC and "
        f"{ours:.3f} after R-DC ({start:.3f} after pretraining; R-DC minus DEC: "
        f"{ours - dec:+.3f})."
    )


def table8_acc(dataset: str = "fmnist") -> dict[str, float | None]:
    """The paper's Table 8 ACC (%) of each phase's run on ``dataset``."""
    return {
        name: paper_acc(TABLE8, catalog.entry(name).paper_names[TABLE8], dataset)
        for name in PHASES
    }


def reference_claims(
    ref: Mapping[str, dict[int, RunResult]],
    paper: Mapping[str, float],
    cfg: RDCConfig,
) -> list[str]:
    """R-DC in the committed reference (``ref``: run name -> its seeds) against P1's
    k-means on the same codes and the paper's Table 8 (``paper``: run name -> ACC
    in %): its end, its checks' range, its tau, how the phase ended, and, where both
    logged them, the two networks' k-means draws; nothing without both runs."""
    pair = start, ours = phase("P1"), phase("P1 & P2")
    if start not in ref or ours not in ref:
        return []
    p1, p2 = (100 * seed_mean(ref[k]) for k in pair)
    at = stage_records(store.first_seed(ref[ours]).history, "checks")
    tau = taus(at, cfg)
    end = int(at[-1]["iteration"])
    accs = [100 * r["acc"] for r in at]
    says = [
        f"There R-DC ends at {p2:.1f} % ACC, {p2 - p1:+.1f} points from P1's k-means "
        f"on the same pretrained codes ({p1:.1f} %; Table 8: "
        f"{paper[ours] - paper[start]:+.1f}); its ACC at the checks ranged over "
        f"{min(accs):.1f}-{max(accs):.1f} %. Its tau went from {100 * tau[0]:.1f} % "
        f"to {100 * tau[-1]:.1f} % over {len(tau)} checks, and "
        + (
            f"the stop rule fired at iteration {end:,}."
            if fired(at, cfg)
            else f"the CPU cap ended the phase at iteration {end:,} before the stop "
            "rule fired."
        )
        + f" It stays {paper[ours] - p2:.1f} points below the paper's number, which "
        "the code selects as the best check by the labels (the reconciliation table "
        "above)."
    ]
    if all("kmeans_acc_mean" in store.first_seed(ref[k]).metrics for k in pair):
        m1, m2 = (100 * seed_mean(ref[k], "kmeans_acc_mean") for k in pair)
        draws = (
            f"Over 10 k-means draws on each network's codes the two stand at "
            f"{m1:.1f} % and {m2:.1f} % ({m2 - m1:+.1f} points)"
        )
        says.append(
            f"{draws}: most of the gap between their single draws is the draw, not "
            "R-DC's second phase."
            if abs(m2 - m1) < abs(p2 - p1) / 2
            else f"{draws}."
        )
    return says


def ranked(accs: Mapping[str, float]) -> str:
    """Table 8's settings by ACC (``accs``: run name -> ACC in %), best first."""
    order = sorted(accs, key=accs.__getitem__, reverse=True)
    return " > ".join(f"{PHASES[k]} ({accs[k]:.1f} %)" for k in order)


def ranking_claims(ours: Mapping[str, float], paper: Mapping[str, float]) -> list[str]:
    """Table 8's settings as the reference (``ours``) and the paper rank them; run
    name -> ACC in %; nothing unless the reference holds every setting."""
    if set(ours) != set(PHASES):
        return []
    return [
        f"The reference ranks Table 8's settings {ranked(ours)}; the paper ranks "
        f"them {ranked(paper)}."
    ]


def caps_claims(epoch_caps: str | None, pretrain_epochs: int) -> list[str]:
    """What a capped profile (``epoch_caps``: ``Profile.epoch_caps``; None: not
    capped) changes against the paper's protocol."""
    if epoch_caps is None:
        return []
    return [
        f"This execution's runs use {epoch_caps} ({pretrain_epochs} epochs of "
        f"pretraining, the paper's T1 is {RDC_PRETRAIN.n_epochs} epochs of 70,000 "
        "images); the reference above runs the paper's protocol on Fashion-MNIST."
    ]


def spread(frame: pd.DataFrame) -> str:
    """The range of a study ``frame``'s ACC over its settings, in %."""
    acc = 100 * frame["acc"].astype(float)
    if not acc.notna().any():
        return "no finite ACC"
    return f"{acc.min():.1f}-{acc.max():.1f} % ({acc.max() - acc.min():.1f} points)"


GRID_FIGURES = {
    "alpha": "alpha (Fig. 17)",
    "beta": "beta (Fig. 17)",
    "noise": "the noise's sigma (Fig. 20)",
}
"""the studies whose ACC range ``grid_claims`` states -> how it names them"""


def grid_claims(studies: Grids) -> list[str]:
    """What the committed reference's grids show: R-DC's ACC range over alpha, beta
    and the noise, and the paper's configuration against the official code's;
    nothing when ``studies`` are not the committed reference's (this execution's
    smoke-scale wiring check is no evidence)."""
    if not studies.committed:
        return []
    found = {k: v for k, v in GRID_FIGURES.items() if k in studies.studies}
    out = []
    if found:
        out.append(
            f"In the committed reference's grids ({studies.data['sweeps']}), R-DC's "
            "ACC spans "
            + "; ".join(
                f"{spread(studies.studies[k])} over {v}" for k, v in found.items()
            )
            + " (the paper's Figs. 17 and 20: PneumoniaMNIST, BloodMNIST and "
            "VesselMNIST3D)."
        )
    out += code_sentence(studies, "R-DC")
    return out + ([d.strip()] if (d := studies.diverged()) else [])


def findings(
    run: Run,
    ds: Dataset,
    results: Mapping[str, dict[int, RunResult]],
    cfg: RDCConfig,
    curves: pd.DataFrame,
    where: str,
    studies: Grids,
) -> list[str]:
    """The page's "What we find", one paragraph per source: the ledger's verdicts
    (``verdicts.sentences``); the committed reference (profile full, Fashion-MNIST)
    where it holds R-DC's runs, and its grids where ``studies`` are committed; then
    this execution, labelled as such: its ``results`` (run name -> seeds) on ``ds``
    (``where`` describes them), R-DC's ``cfg``, the toy curves' ``separation``
    table ``curves`` and the profile's caps."""
    acc = {name: seed_mean(by_seed) for name, by_seed in results.items()}
    n_seeds = len(next(iter(results.values())))
    first = {name: by_seed[run.seed] for name, by_seed in results.items()}
    ours = phase("P1 & P2")
    paper = table8_acc()
    ref = store.results("full", "fmnist", list(PHASES))
    theirs = (
        recipes.reference_claims(catalog.names(PAGE, reference=True))
        + reference_claims(ref, paper, cfg)
        + ranking_claims({k: 100 * seed_mean(v) for k, v in ref.items()}, paper)
        + grid_claims(studies)
    )
    caps = run.profile.epoch_caps if run.profile.max_epochs is not None else None
    this = (
        phase_claims(acc, where, ds.n_clusters, n_seeds)
        + stop_claims(checks(first)[ours], cfg)
        + filter_claims(first[ours].codes, cfg)
        + [curves_claim(curves[SILHOUETTE])]
        + caps_claims(caps, cfg.pretrain.n_epochs)
    )
    paragraphs = ("\n".join(verdicts.sentences(PAGE)), " ".join(theirs))
    return [p for p in (*paragraphs, " ".join(this)) if p]
