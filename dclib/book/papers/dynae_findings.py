"""What the DynAE page finds: the sentences of its "What we find", each built from
the claims' ledger, the committed reference or this execution's runs
(``dclib.book.papers.dynae``). Only the ledger gives verdicts; this execution's
sentences say that they are this execution's and compare numbers only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dclib.book import catalog, recipes, verdicts
from dclib.book.cache import RunResult, seed_mean
from dclib.book.grids import Grids, code_sentence
from dclib.book.papers.dynae import BASELINES, PAGE, RIVALS, RUNS, START
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.methods import stage_records
from dclib.methods.dynae import ACAI_PRETRAIN

PLAIN = next(n for n in BASELINES if catalog.entry(n).method == "ae_kmeans")
"""k-means on the plain autoencoder's codes (the baselines page's)"""

REFERENCE = ("full", "fmnist")
"""the committed reference the page reads: profile full, the full Fashion-MNIST"""


def this_execution(where: str, n_clusters: int, n_seeds: int) -> str:
    """The label that opens the sentences on this execution's runs (``where``:
    ``recipes.describe_data``; ``n_seeds``: how many seeds its means are over)."""
    word = "; means over the seeds" if n_seeds > 1 else ""
    return f"This execution ({where}, K = {n_clusters}{word}):"


def pretraining_gain(acai: float, plain: float) -> str:
    """k-means on the ACAI-pretrained codes (ACC ``acai``, a fraction) against
    k-means on the plain autoencoder's (``plain``)."""
    return (
        f"k-means on the ACAI-pretrained codes reaches ACC {100 * acai:.1f} % against "
        f"{100 * plain:.1f} % on the plain autoencoder's "
        f"({100 * (acai - plain):+.1f} points)."
    )


def versus(acc: Mapping[str, float]) -> list[str]:
    """DynAE's ACC beside each of its rivals (``RIVALS``) found in ``acc`` (run
    name -> ACC, a fraction): the numbers and their gaps, no verdict (the ledger
    gives those)."""
    out = []
    for rival in RIVALS:
        if rival in acc:
            gap = 100 * (acc["dynae"] - acc[rival])
            out.append(
                f"DynAE {100 * acc['dynae']:.1f} % against "
                f"{catalog.entry(rival).label} {100 * acc[rival]:.1f} % "
                f"({gap:+.1f} points)."
            )
    return out


def updates(checks: list[dict]) -> str:
    """How many times the centres were recomputed over ``checks``."""
    return f"{sum(r['centres_updated'] for r in checks):.0f} centre update(s)"


def ending(checks: list[dict], tol: float) -> str:
    """Where DynAE's training ended (its last check of ``checks``) against its stop
    rule tau < ``tol``."""
    last = checks[-1]
    return (
        f"DynAE ended at iteration {int(last['iteration']):,} with tau = "
        f"{100 * last['tau']:.1f} % (stop rule: tau < {100 * tol:g} %) after "
        f"{updates(checks)}."
    )


def mean_over_checks(records: list[dict], key: str) -> str:
    """The mean of ``key`` over the checks that logged it (2 decimals), or a dash."""
    found = [r[key] for r in records if np.isfinite(r.get(key, np.nan))]
    return f"{np.mean(found):.2f}" if found else "—"


def randomness(checks: Mapping[str, list[dict]]) -> str:
    """DynAE's mean Delta_FR over its checks against DC*'s (``checks`` by name)."""
    dc = next(n for n in RIVALS if catalog.entry(n).method == "dc_star")
    return (
        f"Its mean Delta_FR over the checks is "
        f"{mean_over_checks(checks['dynae'], 'fr')}, against "
        f"{mean_over_checks(checks[dc], 'fr')} for DC*."
    )


def reference_ending(checks: list[dict], tol: float) -> str:
    """Where the reference's DynAE started, stood after one check and ended
    (``checks``: its records at its checks), with its pretraining's cap."""
    first, second, last = checks[0], checks[1], checks[-1]
    if last["tau"] < tol:
        why = f"by its stop rule (tau = {100 * last['tau']:.2f} % < {100 * tol:g} %), "
    else:
        why = f"at its CPU cap with tau = {100 * last['tau']:.1f} %, "
    return (
        f"The reference's DynAE starts from k-means at {100 * first['acc']:.1f} % ACC "
        f"and is at {100 * second['acc']:.1f} % after {int(second['iteration'])} "
        f"iterations; it ended at iteration {int(last['iteration']):,} "
        + why
        + f"after {updates(checks)} (the authors' log: iteration 7,840). The "
        "reference's pretraining is capped at "
        f"{catalog.entry('dynae').cpu_pretrain_cap} of the paper's "
        f"{ACAI_PRETRAIN.n_epochs} epochs (the official log's k-means start on "
        "Fashion-MNIST is 55.7 %)."
    )


def reference_drift(checks: Mapping[str, list[dict]]) -> str:
    """Mean Delta_FR / Delta_FD of each committed reference run (``checks``: label ->
    records at its checks) beside what the paper's Figs. 11-12 show."""
    return (
        "Mean Delta_FR / Delta_FD over the checks of the committed reference's runs: "
        + "; ".join(
            f"{label} {mean_over_checks(h, 'fr')} / {mean_over_checks(h, 'fd')}"
            for label, h in checks.items()
        )
        + ". The paper's (Figs. 11-12, on MNIST): DynAE's Delta_FR higher on "
        "average than DC*'s and IDEC*'s and above 0.9 by the end; the Delta_FD of "
        "DC* and IDEC* always negative, around -0.7."
    )


def reference_dc(dc: RunResult, start: RunResult, tol: float) -> list[str]:
    """How the reference's DC* (``dc``) changed its labels and ended, and whether
    its k-means start differs from the committed k-means run's (``start``)."""
    checks = stage_records(dc.history, "checks")
    changed = [r["changed"] for r in checks if "changed" in r]
    out = [
        f"The reference's DC* changed {100 * min(changed):.1f}-"
        f"{100 * max(changed):.1f} % of its labels from one check to the next (stop "
        f"rule: under {100 * tol:g} %) and ended at iteration "
        f"{int(checks[-1]['iteration']):,}."
    ]
    if checks[0]["acc"] != start.metrics["acc"]:
        out.append(
            "Its pretraining ran apart from the other runs' (same config and seed; "
            "the provenance table gives each run's commit, date and torch threads) "
            f"and its k-means start differs: {100 * checks[0]['acc']:.1f} % ACC "
            f"against {100 * start.metrics['acc']:.1f} %."
        )
    return out


def capped(run: Run, pretrain_epochs: int) -> list[str]:
    """In a capped profile: how far this execution's ``pretrain_epochs`` of ACAI
    pretraining are from the paper's (a sentence that follows ``this_execution``'s
    label); nothing in an uncapped one."""
    if run.profile.max_epochs is None:
        return []
    return [
        f"This execution's runs use {run.profile.epoch_caps} ({pretrain_epochs} of "
        f"ACAI pretraining against the paper's 13·10^4 iterations, about "
        f"{ACAI_PRETRAIN.n_epochs} epochs of 70,000 images): the paper's "
        "numbers come from that much longer pretraining, which carries most of "
        "DynAE's result (the official logs start the clustering phase at 97.3 % ACC "
        "on MNIST)."
    ]


def reference(
    tol: float, checks: Mapping[str, list[dict]], root: Path | None = None
) -> list[str]:
    """The sentences on the committed reference (``REFERENCE``, under ``root``):
    DynAE against its rivals, how DynAE and DC* ended, and the reference runs'
    Feature Randomness and Drift (``checks``: label -> records, none when nothing
    is committed)."""
    found = store.results(*REFERENCE, RUNS, root)
    acc = {n: seed_mean(r) for n, r in found.items()}
    out = []
    if "dynae" in acc and len(acc) > 2:
        out.append("In the committed reference on the full Fashion-MNIST, ACC:")
        out += versus(acc)
    if "dynae" in found:
        history = store.first_seed(found["dynae"]).history
        out.append(reference_ending(stage_records(history, "checks"), tol))
    if checks:
        out.append(reference_drift(checks))
    dc = next(n for n in RIVALS if catalog.entry(n).method == "dc_star")
    if dc in found and START in found:
        out += reference_dc(
            store.first_seed(found[dc]), store.first_seed(found[START]), tol
        )
    return out


def spread(frame: pd.DataFrame, method: str) -> str:
    """The range of ``method``'s ACC over the settings of a study ``frame``, in %."""
    acc = 100 * frame.loc[frame.method == method, "acc"].astype(float)
    if not acc.notna().any():
        return "no finite ACC"
    low, high = acc.min(), acc.max()
    return f"{low:.1f}-{high:.1f} % ({high - low:.1f} points)"


def grid_claims(studies: Grids) -> list[str]:
    """What the committed reference's grids show (Fig. 13's gamma for DynAE and
    IDEC*, the paper's configuration against the official code's); nothing when
    ``studies`` are not the committed reference's (this execution's smoke-scale
    wiring check is no evidence)."""
    if not studies.committed:
        return []
    out = []
    if "gamma" in studies.studies:
        gamma = studies.studies["gamma"]
        out.append(
            f"In the committed reference's grids ({studies.data['sweeps']}), over "
            f"gamma from 10^-3 to 10^3 (Fig. 13) DynAE's ACC spans "
            f"{spread(gamma, 'dynae')} and IDEC*'s {spread(gamma, 'idec_star')} (the "
            "paper's Fig. 13 compares the same two sensitivities on MNIST)."
        )
    out += code_sentence(studies, "DynAE")
    return out + ([d.strip()] if (d := studies.diverged(recipes.labels(RUNS))) else [])


def findings(
    run: Run,
    cfg: Any,
    where: str,
    results: Mapping[str, dict[int, RunResult]],
    checks: Mapping[str, list[dict]],
    reference_checks: Mapping[str, list[dict]],
    studies: Grids,
) -> list[str]:
    """The page's "What we find", one paragraph per source, the ledger's verdicts
    first (``verdicts.sentences``): the committed reference (``reference_checks``:
    label -> records; its grids where ``studies`` are committed), then this
    execution, labelled as such and compared by numbers only (``results``: the
    page's and the baselines page's runs by name; ``checks``: the first seed's
    records at its checks by name; ``cfg``: DynAE's config) with the profile's
    caps."""
    acc = {n: seed_mean(results[n]) for n in RUNS}
    theirs = recipes.reference_claims(RUNS) + reference(cfg.tol, reference_checks)
    theirs += grid_claims(studies)
    ours = [
        this_execution(where, cfg.n_clusters, len(results["dynae"])),
        pretraining_gain(acc[START], seed_mean(results[PLAIN])),
        *versus(acc),
        ending(checks["dynae"], cfg.tol),
        randomness(checks),
        *capped(run, cfg.pretrain.n_epochs),
    ]
    paragraphs = ["\n".join(verdicts.sentences(PAGE)), " ".join(theirs)]
    return [p for p in (*paragraphs, " ".join(ours)) if p]
