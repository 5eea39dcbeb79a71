"""The DCSS theory page: the q-vector statements of DCSS Appendix A (``dclib.theory``)
checked on random, adversarial and trained q-vectors, as count tables, extremal
searches and the sentences the page shows.

The trained q-vectors are those of the DCSS page's DCSS run (``papers.dcss.runs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from dclib import theory as T
from dclib.book import recipes, tables
from dclib.book.cache import RunResult
from dclib.book.papers import dcss
from dclib.book.profiles import Run
from dclib.data import Dataset

ZETA, GAMMA = 0.8, 0.2
"""the paper's thresholds of the pairwise loss"""

KS = (2, 3, 10, 20)
"""the numbers of clusters of the random sets and the ascent"""

CONCENTRATIONS = (0.01, 0.1, 1.0, 10.0, 100.0)
"""the symmetric Dirichlet concentrations of the random sets, peaked to flat"""

RANDOM, GRIDS, TRAINED = "random (Dirichlet)", "grid K = 2, 3", "trained DCSS"
"""the samples' labels in the count table"""

LOW = "grid, zeta = 0.45 (<= 1/2)"
"""the grids with zeta below 1/2 (gamma = 0.2 < 0.45^2 = 0.2025)"""

WEAKENED = {
    LOW: (0.45, GAMMA),
    "grid, zeta = 0.75, gamma = zeta^2": (0.75, 0.75**2),
}
"""sample label -> (zeta, gamma) with a hypothesis weakened, checked on the grids"""

ZETA_SCAN = (0.4, 0.45, 0.5, 0.501, 0.55, 0.6, 0.65, 2 / 3, 0.8)
"""the zetas at which Theorem 2 is scanned"""


def dirichlet_sets(n: int, seed: int) -> dict[tuple[int, float], Tensor]:
    """(K, concentration) -> ``n`` q-vectors drawn from the symmetric Dirichlet, for
    every K of ``KS`` and concentration of ``CONCENTRATIONS`` in that order, from
    torch's global generator seeded with ``seed`` (its state is restored after)."""
    out = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for K in KS:
            for a in CONCENTRATIONS:
                alpha = torch.full((K,), a, dtype=torch.float64)
                out[K, a] = torch.distributions.Dirichlet(alpha).sample((n,))
    return out


@dataclass
class Checks:
    """Every statement's counts (``theory.check_set``) per sample label, summed over
    the sets added under that label."""

    n_triples: int
    """random triples per set"""
    seed: int
    counts: dict[tuple[str, str], T.Check] = field(default_factory=dict)
    """(statement, sample) -> counts"""

    def add(
        self, sample: str, q: Tensor, zeta: float = ZETA, gamma: float = GAMMA
    ) -> None:
        """Check every statement on ``q`` and add its counts under ``sample``."""
        found = T.check_set(q, zeta, gamma, n_triples=self.n_triples, seed=self.seed)
        for name, c in found.items():
            key = name, sample
            self.counts[key] = self.counts[key] + c if key in self.counts else c

    def __getitem__(self, key: tuple[str, str]) -> T.Check:
        return self.counts[key]

    def table(self) -> pd.DataFrame:
        """The counts, one row per (statement, sample)."""
        return pd.DataFrame(
            [
                {
                    "statement": s,
                    "sample": src,
                    "premise": c.premise,
                    "n": c.n,
                    "tested": c.tested,
                    "satisfied": c.satisfied,
                    "violated": c.violated,
                    "conclusion false, premise dropped": c.claim_fails,
                }
                for (s, src), c in self.counts.items()
            ]
        ).set_index(["statement", "sample"])


def counts(table: pd.DataFrame, *statements: str) -> pd.DataFrame:
    """The rows of ``Checks.table`` for one statement (indexed by sample), or for
    several (indexed by statement and sample)."""
    if len(statements) == 1:
        return table.loc[statements[0]]
    return pd.concat({s: table.loc[s] for s in statements})


def count_table(table: pd.DataFrame, note: str, *statements: str) -> tables.Folded:
    """``counts`` of ``statements`` folded under one sentence: how many inputs met
    their premises and how many of those broke the conclusion, over all samples;
    the table (thousands separators) is captioned with ``note``."""
    shown = counts(table, *statements)
    tested, violated = int(shown["tested"].sum()), int(shown["violated"].sum())
    names = " and ".join(statements)
    summary = (
        f"{names}: {tested:,} inputs meet the premises, {violated:,} break the "
        "conclusion (counts per sample)"
    )
    return tables.Folded(
        summary, tables.book_style(shown).set_caption(f"{names} — {note}")
    )


def sample_note(
    profile: str, n_set: int, n_triples: int, n_trained: int, data: str, seed: int
) -> str:
    """What a count table's caption says of the samples behind it."""
    return (
        f"counts per sample ({profile} profile; random sets of {n_set} points per "
        f"(K, concentration); {n_triples:,} random triples per set; trained: "
        f"{n_trained:,} q-vectors of DCSS on {data}, seed {seed}). 'premise' says "
        "whether the statement's conditions on zeta and gamma hold."
    )


def trained_dcss(run: Run) -> tuple[RunResult, Any, Dataset]:
    """The DCSS run of the DCSS page (its data, config and ``run``'s first seed),
    with its config and data."""
    ds = recipes.conv_input(recipes.page_data(run))
    cfg = recipes.config(run, "dcss", ds)
    return dcss.runs(run, ds, cfg, run.seed)["dcss"], cfg, ds


def trained_q(result: RunResult) -> Tensor:
    """A run's q-vectors in float64, renormalised (a float32 softmax sums to one
    only up to rounding)."""
    q = torch.from_numpy(result.soft).double()
    return q / q.sum(1, keepdim=True)


def _pair_row(search: str, value: float, qi: Tensor, qj: Tensor) -> dict[str, Any]:
    return {
        "search": search,
        "sup": value,
        "q_i": np.round(qi.numpy(), 4),
        "q_j": np.round(qj.numpy(), 4),
    }


def cross_cluster(
    grids: dict[int, Tensor], ks: Iterable[int], *, steps: int, seed: int
) -> pd.DataFrame:
    """The largest inner product of two q-vectors with different argmax that each
    search finds, with the pair: the exhaustive ``grids`` (K -> grid) and gradient
    ascent (``theory.ascend_cross_cluster``) for each K of ``ks``."""
    rows = []
    for K, grid in grids.items():
        found = T.extremal_pair(grid, same_cluster=False, largest=True)
        rows.append(_pair_row(f"grid K = {K} ({len(grid):,} points)", *found))
    for K in ks:
        found = T.ascend_cross_cluster(K, steps=steps, seed=seed)
        rows.append(_pair_row(f"ascent K = {K}", *found))
    return pd.DataFrame(rows).set_index("search")


def zeta_scan(sets: Sequence[Tensor], zetas: Iterable[float] = ZETA_SCAN) -> pd.Series:
    """Theorem 2's violations (adjacent pairs in different clusters) over all pairs
    of all ``sets`` together, per zeta (rounded to 3 places)."""
    scan = {}
    for z in zetas:
        found = 0
        for q in sets:
            for i, j in T.pair_blocks(len(q)):
                found += T.theorem_2(q[i], q[j], z).violated
        scan[round(z, 3)] = found
    return pd.Series(scan, name="adjacent pairs in different clusters").rename_axis("ζ")


def smallest_zeta(scan: pd.Series) -> float:
    """The smallest zeta of ``scan`` from which no zeta of the scan has a violation
    (``ValueError`` where even the largest has one)."""
    clean = [z for z in scan.index if (scan[scan.index >= z] == 0).all()]
    if not clean:
        raise ValueError("Theorem 2 fails at every zeta of the scan")
    return min(clean)


def same_cluster_minimum(grids: dict[int, Tensor], zeta: float) -> pd.DataFrame:
    """Per K of ``grids``: the smallest inner product of two same-cluster q-vectors
    of the grid with peaks at least ``zeta``, the pair attaining it, zeta^2 and
    zeta^2 + (1 - zeta)^2."""
    rows = []
    for K, grid in grids.items():
        v, qi, qj = T.extremal_pair(
            grid, same_cluster=True, largest=False, min_peak=zeta
        )
        rows.append(
            {
                "K": K,
                "min q_i.q_k": v,
                "zeta^2": zeta**2,
                "zeta^2 + (1 - zeta)^2": zeta**2 + (1 - zeta) ** 2,
                "q_i": qi.numpy().round(4),
                "q_k": qj.numpy().round(4),
            }
        )
    return pd.DataFrame(rows).set_index("K")


def sample_pairs(
    q: Tensor, generator: torch.Generator, n: int = 4000
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random pairs of rows of ``q`` (with replacement), as aligned arrays for
    ``plotting.q_plane``."""
    i, j = torch.randint(len(q), (2, n), generator=generator)
    return q[i].numpy(), q[j].numpy()


def plane_bounds(zeta: float = ZETA, gamma: float = GAMMA) -> dict[str, float]:
    """The vertical lines of the (q_i . q_j, min peak) plane."""
    return {
        "sup, different clusters: 1/2": 0.5,
        "paper's threshold: 2/3": 2 / 3,
        f"zeta = {zeta}": zeta,
        f"gamma = {gamma}": gamma,
    }


def off_simplex(check: T.Check) -> list[str]:
    """What Theorem 1's check says with the simplex dropped (every grid vector
    doubled)."""
    return [
        "Dropping the simplex (every grid vector doubled, so it sums to 2): "
        f"{check.violated:,} of {check.n:,} pairs break the bound."
    ]


def proof_readings(pairs: int, as_used: int, as_written: int) -> list[str]:
    """What ``theory.proof_readings`` on the K = 3 grid says of the two readings of
    r in the proof of Theorem 1."""
    used = (
        "no move lowers q_i . q_j"
        if as_used == 0
        else f"some move lowers q_i . q_j for {as_used:,} pairs"
    )
    written = (
        f"some move lowers it for {as_written:,} pairs (e.g. q_i = (0.2, 0.8), "
        "q_j = (0.6, 0.4): moving q_j's mass onto its own peak gives 0.2 < 0.44)"
        if as_written
        else "no move lowers it either"
    )
    return [
        f"Eq. (11)'s move on the {pairs:,} pairs of the K = 3 grid: with r = argmax "
        f"q_i {used}; with r = argmax q_j, as eq. (9) writes it, {written}."
    ]


def low_zeta(c13: T.Check, t2: T.Check, t3: T.Check) -> list[str]:
    """Corollary 1.3 against Theorems 2 and 3 on the grids at zeta = 0.45."""
    return [
        f"At zeta = 0.45 <= 1/2 on the grids: Corollary 1.3 tested {c13.tested:,} "
        f"pairs with {c13.violated} violations, while Theorem 2 failed on "
        f"{t2.violated:,} adjacent pairs and Theorem 3 on {t3.violated:,} triples."
    ]


def trained_findings(
    q: Tensor,
    adjacent: T.Check,
    points: T.Check,
    n_picked: int,
    epochs: tuple[int, int],
    profile: str,
    zeta: float = ZETA,
) -> list[str]:
    """What the trained q-vectors ``q`` say of the hypotheses: Theorem 2's counts on
    the ``n_picked`` checked ones (``adjacent``), the share of peaks at least
    ``zeta``, Corollary 1.2 on every point (``points``) and the (phase 1, phase 2)
    ``epochs`` of the run."""
    peaked = float((T.peak(q) >= zeta).double().mean())
    return [
        f"**Adjacent pairs sharing an argmax:** {adjacent.satisfied:,} of "
        f"{adjacent.tested:,} adjacent pairs ({n_picked:,} q-vectors, all their "
        f"pairs) share their cluster; {adjacent.violated} do not.",
        f"**Points with max q >= zeta = {zeta}:** {100 * peaked:.1f} % of all "
        f"{len(q):,} points.",
        f"**Points with an adjacent neighbour:** {points.tested:,} of {points.n:,}; "
        + (
            "all of them have a peak >= zeta"
            if points.violated == 0
            else "not all of them have a peak >= zeta"
        )
        + f" ({points.violated} violations of Corollary 1.2).",
        f"DCSS ran phase 1 for {epochs[0]} epoch(s) and phase 2 for {epochs[1]} "
        f"({profile} profile).",
    ]


def findings(
    table: pd.DataFrame, cross_sup: float, smallest: float, c13: T.Check
) -> list[str]:
    """The page's conclusions: the counts of ``Checks.table`` with and without the
    premises, the largest cross-cluster inner product ``cross_sup`` the searches
    found, the ``smallest`` zeta of the scan without violations, and Corollary 1.3
    at zeta = 0.45 (``c13``)."""
    held, weak = table[table["premise"]], table[~table["premise"]]
    broke = int(held["violated"].sum())
    first = (
        "With their premises, the seven statements held on every input we tried"
        if broke == 0
        else "With their premises, the seven statements did not all hold"
    )
    within = (
        "at most the proven supremum 1/2"
        if cross_sup <= 0.5 + T.TOL
        else "above the supremum 1/2 derived above"
    )
    return [
        f"{first}: {int(held['tested'].sum()):,} pairs, triples and points met the "
        f"hypotheses and {broke} broke a claim.",
        f"Weakened, they fail: {int(weak['violated'].sum()):,} violations came from "
        "the grids with zeta <= 1/2 or gamma = zeta^2.",
        "The largest inner product of two q-vectors in different clusters that the "
        f"searches found is {cross_sup:.8f}, {within}; Theorem 2 and Corollary 2.1 "
        f"therefore hold for every zeta > 1/2 (the scan: no violation from zeta = "
        f"{smallest}), not only from the paper's 2/3.",
        "gamma < zeta^2 is tight for K >= 3 (the grid attains zeta^2); for K = 2 and "
        "zeta > 1/2 the tight value is zeta^2 + (1 - zeta)^2 (for zeta <= 1/2 it is "
        "1/2).",
        f"Corollary 1.3 needs no zeta > 1/2: at zeta = 0.45 it tested {c13.tested:,} "
        f"pairs of the grids with {c13.violated} violations; Theorem 3 and "
        "Corollary 2.1 do need it.",
        "The paper's proof of Theorem 1 defines r as the argmax of q_j (eq. 9) but "
        "uses it as the argmax of q_i; only the second reading proves the bound.",
    ]
