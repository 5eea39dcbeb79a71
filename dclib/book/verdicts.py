"""The one verdict rule: does a paper's claim hold on the committed reference?

Each claim of the ledger (``claims.CLAIMS``) comes down to one number per seed of
the committed reference (profile ``full`` or ``paper``, never a page's quick run):

- an ordering (``claims.Claim``: run ``better`` reaches a higher ACC than
  ``worse``, both on the claim's data): the difference in ACC points, paired by
  seed;
- a sensitivity statement (``claims.Robustness``): the margin by which the run's
  ACC range over the paper's settings (the page's grid study) stays under
  ``claims.ROBUSTNESS_TOLERANCE``, or under another run's range.

With two or more seeds, the mean and its 95 % Student-t interval
(``t_{0.975, n-1} * sd / sqrt(n)``): the claim **holds** when the interval lies
above 0, **fails** when it lies below, and is **inconclusive** when it contains 0.
With one seed an ordering is **inconclusive** unless the difference exceeds the
k-means spread (the range of ``KMEANS_SEEDS`` draws on the final codes) of both
runs: then it holds or fails by its sign (a run whose labels are no k-means draw
reports no spread, so one seed of it decides nothing); a range needs seeds to be
told from noise, so one seed of a grid decides nothing. Without a committed seed
there is **no evidence**. DCSS's theorems (``claims.Theorems``) are statements of
mathematics: checked on exhaustive simplex grids, they hold when no input meeting
a statement's premises breaks it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dclib import theory
from dclib.book import catalog, claims
from dclib.book.cache import RunResult
from dclib.book.claims import Claim, Robustness, Theorems
from dclib.book.grids import Grids
from dclib.book.reference import jobs, store

HOLDS, FAILS, INCONCLUSIVE, NO_EVIDENCE = (
    "holds",
    "fails",
    "inconclusive",
    "no evidence",
)

LEVEL = 0.95
"""the interval's coverage"""


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict and the evidence behind it (ACC in percentage points)."""

    verdict: str
    """``HOLDS``, ``FAILS``, ``INCONCLUSIVE`` or ``NO_EVIDENCE``"""
    effect: float | None = None
    """mean over the paired seeds of ACC(better) - ACC(worse)"""
    low: float | None = None
    """the interval's lower end (one seed: the difference less the larger spread)"""
    high: float | None = None
    seeds: tuple[int, ...] = ()
    how: str = ""
    """how the verdict was reached, for the reader"""


def spread(run: RunResult) -> float | None:
    """The range of a run's k-means draws on its final codes, in ACC points (None:
    its labels are no k-means draw)."""
    m = run.metrics
    if "kmeans_acc_max" not in m or "kmeans_acc_min" not in m:
        return None
    return 100 * (m["kmeans_acc_max"] - m["kmeans_acc_min"])


def paired(better: Mapping[int, RunResult], worse: Mapping[int, RunResult]) -> Verdict:
    """The verdict on "``better`` > ``worse``" from their runs by seed."""
    seeds = tuple(sorted(set(better) & set(worse)))
    if not seeds:
        return Verdict(NO_EVIDENCE, how="no seed of both runs is committed")
    d = np.array(
        [100 * (better[s].metrics["acc"] - worse[s].metrics["acc"]) for s in seeds]
    )
    if len(seeds) == 1:
        return _one_seed(float(d[0]), better[seeds[0]], worse[seeds[0]], seeds)
    return _interval(d, seeds, "paired difference")


def t_interval(d: Iterable[float]) -> tuple[float, float, float]:
    """The mean of per-seed numbers ``d`` (two or more) and its ``LEVEL`` Student-t
    interval: ``(mean, low, high)``."""
    d = np.asarray(list(d), dtype=float)
    if len(d) < 2:
        raise ValueError(f"a t interval needs two or more values, got {len(d)}")
    effect = float(d.mean())
    half = float(
        stats.t.ppf(0.5 + LEVEL / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    )
    return effect, effect - half, effect + half


def _interval(d: np.ndarray, seeds: tuple[int, ...], what: str) -> Verdict:
    """The verdict of per-seed numbers ``d`` (two or more) by their mean's t
    interval: holds above 0, fails below, inconclusive across."""
    effect, low, high = t_interval(d)
    verdict = HOLDS if low > 0 else FAILS if high < 0 else INCONCLUSIVE
    how = f"{what} over {len(seeds)} seeds, {LEVEL:.0%} t interval"
    return Verdict(verdict, effect, low, high, seeds, how)


def _one_seed(
    effect: float, better: RunResult, worse: RunResult, seeds: tuple[int, ...]
) -> Verdict:
    """One seed: decided only by a difference beyond both runs' k-means spread."""
    spreads = [spread(better), spread(worse)]
    if None in spreads:
        how = "one seed, and a run without a k-means spread to measure it against"
        return Verdict(INCONCLUSIVE, effect, seeds=seeds, how=how)
    widest = max(spreads)
    low, high = effect - widest, effect + widest
    verdict = HOLDS if low > 0 else FAILS if high < 0 else INCONCLUSIVE
    how = f"one seed against the k-means spread of both runs ({widest:.1f} points)"
    return Verdict(verdict, effect, low, high, seeds, how)


def evidence(
    claim: Claim, profile: str = "full"
) -> tuple[str, dict[int, RunResult], dict[int, RunResult]]:
    """The committed reference of a claim's two runs in ``profile`` on its data:
    ``(dataset, better by seed, worse by seed)``."""
    dataset = jobs.dataset(profile, claim.data)
    found = store.results(profile, dataset, [claim.better, claim.worse])
    return dataset, found.get(claim.better, {}), found.get(claim.worse, {})


def grid_studies(claim: Robustness, dataset: str, profile: str) -> dict[int, Grids]:
    """The committed grid studies of ``claim``'s page on ``dataset`` by seed: the
    page's whole grids job, where committed, and its ledger job of the claim's
    study alone (``jobs.grids_name``), which takes precedence."""
    found: dict[int, Grids] = {}
    whole, alone = (jobs.grids_name(claim.paper, s) for s in (None, claim.study))
    for run in (whole, alone):
        folder = store.result_path(store.RESULTS_DIR, profile, dataset, run, 0).parent
        for path in sorted(folder.glob("seed=*.json")):
            record = json.loads(path.read_text())
            found[int(record["seed"])] = Grids.from_json(record, "the reference")
    return found


def ranges(claim: Robustness, studies: Mapping[int, Grids]) -> dict[int, float]:
    """Per seed, the margin of ``claim``: the tolerance (or the ``than`` method's
    ACC range) less its method's ACC range over the paper's settings, in ACC points.
    A seed whose study lacks a setting or diverged on one is left out."""
    margins = {}
    for seed, grids in studies.items():
        frame = grids.studies.get(claim.study)
        if frame is None:
            continue
        bound = claims.ROBUSTNESS_TOLERANCE
        if claim.than is not None:
            bound = _span(frame, claim.settings, claim.than)
        margin = bound - _span(frame, claim.settings, claim.method)
        if not math.isnan(margin):
            margins[seed] = margin
    return margins


def _span(
    frame: pd.DataFrame, settings: tuple[float, ...], method: str | None
) -> float:
    """The range of ``method``'s ACC (points) over ``settings`` in a study's frame
    (NaN when a setting is missing or diverged)."""
    rows = frame if method is None else frame[frame["method"] == method]
    at = rows["setting"].astype(float).to_numpy()[:, None]
    rows = rows[np.isclose(at, np.asarray(settings)[None, :]).any(axis=1)]
    acc = 100 * rows["acc"].astype(float)
    if len(acc) != len(settings) or acc.isna().any():
        return math.nan
    return float(acc.max() - acc.min())


def robust(claim: Robustness, studies: Mapping[int, Grids]) -> Verdict:
    """The verdict on a sensitivity statement from its page's grid studies."""
    margins = ranges(claim, studies)
    seeds = tuple(sorted(margins))
    if not seeds:
        how = f"the reference holds no complete grid study {claim.study!r} yet"
        return Verdict(NO_EVIDENCE, how=how)
    d = np.array([margins[s] for s in seeds])
    if len(seeds) == 1:
        how = "one seed: a range is told from noise only over seeds"
        return Verdict(INCONCLUSIVE, float(d[0]), seeds=seeds, how=how)
    return _interval(d, seeds, "margin under the bound")


@functools.cache
def proved() -> Verdict:
    """DCSS's seven statements on the exhaustive simplex grids of K = 2 and 3 at
    the paper's zeta = 0.8, gamma = 0.2 (the theory page checks many more)."""
    tested = broke = 0
    for k, points in ((2, 200), (3, 20)):
        found = theory.check_set(theory.simplex_grid(k, points), 0.8, 0.2, seed=0)
        tested += sum(c.tested for c in found.values() if c.premise)
        broke += sum(c.violated for c in found.values() if c.premise)
    verdict = HOLDS if tested and not broke else FAILS if broke else NO_EVIDENCE
    how = (
        f"checked on exhaustive simplex grids (K = 2, 3): {tested:,} inputs met "
        f"the premises, {broke} broke a statement; no data, no seeds"
    )
    return Verdict(verdict, how=how)


def judge(claim: Claim | Robustness | Theorems, profile: str) -> tuple[str, Verdict]:
    """A claim's data (in words) and verdict on the committed reference of
    ``profile``."""
    if isinstance(claim, Theorems):
        return "simplex grids", proved()
    dataset = jobs.dataset(profile, claim.data)
    where = f"{dataset} ({profile})"
    if isinstance(claim, Robustness):
        return where, robust(claim, grid_studies(claim, dataset, profile))
    _, better, worse = evidence(claim, profile)
    return where, paired(better, worse)


def ledger(
    claims_: Iterable[Claim | Robustness | Theorems] = claims.CLAIMS,
    profile: str = "full",
) -> pd.DataFrame:
    """Every claim's verdict on the committed reference of ``profile``: one row a
    claim (paper, claim, where the paper makes it, data, seeds, effect and its
    interval in ACC points, verdict, how, the page that shows its evidence),
    indexed by the claim's key, in the book's order of papers. The same rows feed
    the intro's status table, each page's box and the leaderboard."""
    rows = {}
    for c in sorted(claims_, key=lambda c: catalog.PAGES.index(c.paper)):
        data, v = judge(c, profile)
        rows[c.key] = {
            "paper": catalog.PAGE_LABELS[c.paper],
            "claim": c.statement,
            "where": c.source,
            "data": data,
            "seeds": _seeds(c, v),
            "effect (ACC points)": _effect(v),
            "verdict": v.verdict,
            "how": v.how,
            "evidence": evidence_page(c),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=LEDGER_COLUMNS)


def _seeds(claim: Claim | Robustness | Theorems, v: Verdict) -> str:
    """ "0, 1, 2 (one pretraining)": the seeds and their design: clustering seeds
    on one committed pretraining (``jobs.SHARED_NETWORKS``), or a pretraining of
    its own per seed."""
    if not v.seeds:
        return "—"
    shared = isinstance(claim, Claim) and all(
        catalog.entry(n).pretraining in jobs.SHARED_NETWORKS
        for n in (claim.better, claim.worse)
    )
    design = "one pretraining" if shared else "own pretraining"
    return f"{', '.join(map(str, v.seeds))} ({design})"


def evidence_page(claim: Claim | Robustness | Theorems) -> str:
    """The executed page (stem) that shows a claim's evidence."""
    if isinstance(claim, Theorems):
        return claim.page
    return PAGE_STEMS[claim.paper]


PAGE_STEMS = {
    "baselines": "01_baselines",
    "dssl": "02_dssl",
    "dcss": "03_dcss",
    "dml": "05_dml",
    "dynae": "06_dynae",
    "rdc": "07_rdc",
}
"""each paper page's notebook stem (``_toc.yml``)"""


LEDGER_COLUMNS = [
    "paper",
    "claim",
    "where",
    "data",
    "seeds",
    "effect (ACC points)",
    "verdict",
    "how",
    "evidence",
]
"""the ledger's columns (``ledger``)"""


def _effect(v: Verdict) -> str:
    """ "+3.0 [+0.5, +5.5]": the effect and its interval ("—": none)."""
    if v.effect is None:
        return "—"
    if v.low is None or v.high is None:
        return f"{v.effect:+.1f}"
    return f"{v.effect:+.1f} [{v.low:+.1f}, {v.high:+.1f}]"


def sentences(page: str) -> list[str]:
    """What a page's "What we find" says first: each of paper ``page``'s claims
    with its verdict and evidence, from the same ledger as its box, as Markdown
    list items ("- ..."; a page shows them one a line)."""
    out = []
    for r in ledger(claims.page_claims(page)).to_dict("records"):
        effect = r["effect (ACC points)"]
        why = r["how"] if effect == "—" else f"{effect} ACC points ({r['how']})"
        out.append(
            f"- {r['claim']} ({r['where']}) **{r['verdict']}** on the committed "
            f"reference, {r['data']}, seeds {r['seeds']}: {why}."
        )
    return out
