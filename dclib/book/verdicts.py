"""The one verdict rule: does a paper's claim hold on the committed reference?

A claim (``catalog.Claim``) says run ``better`` reaches a higher ACC than run
``worse``. Its evidence is the committed reference (profile ``full`` or ``paper``,
never a page's quick run) of both runs on the claim's data, paired by seed:

- with two or more seeds, the mean paired difference in ACC points and its 95 %
  Student-t interval (``t_{0.975, n-1} * sd / sqrt(n)``): the claim **holds** when
  the interval lies above 0, **fails** when it lies below, and is **inconclusive**
  when it contains 0;
- with one seed, the claim is **inconclusive** unless the difference exceeds the
  k-means spread (the range of ``KMEANS_SEEDS`` draws on the final codes) of both
  runs: then it holds or fails by its sign. A run whose labels are no k-means draw
  reports no spread, so one seed of it decides nothing;
- without a committed seed of both runs there is **no evidence**.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dclib.book import catalog
from dclib.book.cache import RunResult
from dclib.book.catalog import Claim
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
    effect = float(d.mean())
    if len(seeds) == 1:
        return _one_seed(effect, better[seeds[0]], worse[seeds[0]], seeds)
    half = float(
        stats.t.ppf(0.5 + LEVEL / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    )
    low, high = effect - half, effect + half
    verdict = HOLDS if low > 0 else FAILS if high < 0 else INCONCLUSIVE
    how = f"paired difference over {len(seeds)} seeds, {LEVEL:.0%} t interval"
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


def ledger(
    claims: Iterable[Claim] = catalog.CLAIMS, profile: str = "full"
) -> pd.DataFrame:
    """Every claim's verdict on the committed reference of ``profile``: one row a
    claim (paper, claim, where the paper makes it, data, seeds, effect and its
    interval in ACC points, verdict, how), indexed by ``Claim.key``. The same rows
    feed the intro's status table, each page's box and the leaderboard."""
    rows = {}
    for c in claims:
        dataset, better, worse = evidence(c, profile)
        v = paired(better, worse)
        rows[c.key] = {
            "paper": catalog.PAGE_LABELS[c.paper],
            "claim": c.statement,
            "where": c.source,
            "data": f"{dataset} ({profile})",
            "seeds": ", ".join(map(str, v.seeds)) or "—",
            "effect (ACC points)": _effect(v),
            "verdict": v.verdict,
            "how": v.how,
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=LEDGER_COLUMNS)


LEDGER_COLUMNS = [
    "paper",
    "claim",
    "where",
    "data",
    "seeds",
    "effect (ACC points)",
    "verdict",
    "how",
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
    with its verdict and evidence, from the same ledger as its box."""
    out = []
    for r in ledger(catalog.page_claims(page)).to_dict("records"):
        effect = r["effect (ACC points)"]
        why = r["how"] if effect == "—" else f"{effect} ACC points ({r['how']})"
        out.append(
            f"{r['claim']} ({r['where']}) **{r['verdict']}** on the committed "
            f"reference, {r['data']}, seeds {r['seeds']}: {why}."
        )
    return out
