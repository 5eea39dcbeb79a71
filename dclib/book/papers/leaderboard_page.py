"""The leaderboard page's words and its committed-reference section: the sentences
it shows beside ``leaderboard.table`` and the tables of every committed reference
(the tables themselves are ``dclib.book.leaderboard``'s, which ``dclib scoreboard``
prints too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from dclib.book import leaderboard, tables
from dclib.book.paper_tables import PAPER_DATASETS
from dclib.book.reference import store

ATLAS_NAMES = {"final acc": "ACC", "fr": "Δ_FR", "fd": "Δ_FD", "id": "ID", "lid": "LID"}
"""``leaderboard.atlas_end``'s columns as the page heads them"""


def paper_note(dataset: str, protocol: str, board: pd.DataFrame) -> str:
    """What the papers' columns of ``board`` (``leaderboard.table`` on ``dataset``)
    compare with ours (``protocol``) and which tables they come from."""
    paper_data = PAPER_DATASETS.get(dataset)
    if paper_data:
        size = "the full 70,000 images" if dataset == "mnist5k" else "the same data"
        note = (
            f"The papers' numbers are for {paper_data[0]} ({size}), with the papers' "
            f"epochs and seeds; ours are {protocol}. "
        )
        if dataset == "mnist5k":
            note += (
                "The data differ (5,000 of 70,000 images), so the difference column "
            )
            note += "measures protocol as much as method. "
    else:
        note = f"No paper reports {dataset}: the paper columns are empty. "
    sources = board["paper's table"].replace("—", pd.NA).dropna().unique()
    return note + "Paper columns from: " + ", ".join(f"`{s}`" for s in sources) + "."


def gap_sentence(board: pd.DataFrame) -> str:
    """The mean and largest oracle gap over ``board``'s rows that logged a
    monitored curve, and the row of the largest."""
    gaps = pd.to_numeric(board["oracle gap (pp)"], errors="coerce").dropna()
    if not len(gaps):
        return "No row logged a monitored curve."
    return (
        f"Over the {len(gaps)} rows with a monitored curve the oracle gap is "
        f"{gaps.mean():.1f} points on average, at most {gaps.max():.1f} "
        f"({gaps.idxmax()})."
    )


def held(claims: pd.DataFrame) -> str:
    """ "3 of 5 ordered so here": how many of ``leaderboard.orderings``'s
    orderings this execution's runs show (not a verdict)."""
    n = int((claims["same order here"] == "yes").sum()) if len(claims) else 0
    return f"{n} of {len(claims)} ordered so here"


def atlas_end(found: pd.DataFrame) -> pd.DataFrame:
    """``leaderboard.atlas_end`` headed as the page shows it (``ATLAS_NAMES``)."""
    return leaderboard.atlas_end(found).rename(columns=ATLAS_NAMES)


def correlations(end: pd.DataFrame) -> str:
    """ "Δ_FR +0.12, Δ_FD -0.30, ID +0.05, LID +0.41": each diagnostic's correlation
    with ACC over the rows of ``atlas_end``."""
    return ", ".join(
        f"{k} {end[k].corr(end['ACC']):+.2f}" for k in ("Δ_FR", "Δ_FD", "ID", "LID")
    )


def reference_boards(root: Path | None = None) -> Iterator[Any]:
    """What the page shows of each committed reference (``store.available``): its
    leaderboard's compared columns, then folded (``tables.Folded``) its details,
    where its results come from and, where its runs logged the atlas, the atlas at
    their end; each a captioned table."""
    labels = {e.name: e.label for e in leaderboard.ENTRIES}
    for profile, data in store.available(root):
        ref = leaderboard.from_results(profile, data, root)
        board = leaderboard.table(ref, data, f"reference {profile}")
        yield leaderboard.compared(board).style.set_caption(
            f"Leaderboard (reference) — {data}, profile {profile}: the committed "
            "results' ACC (%, mean ± std over seeds) beside their papers' for the "
            "same dataset, ours − paper (points, with its 95 % t interval where "
            "there are two or more seeds) and the oracle gap (points)."
        )
        scores, networks = leaderboard.details(board)
        shown = [
            scores.style.set_caption(
                f"Leaderboard (reference) — {data}: NMI (max and arithmetic "
                "normalisation) beside the paper's, ARI (in %) and the seeds."
            ),
            networks.style.set_caption(
                f"Leaderboard (reference) — {data}: training seconds per seed, the "
                "network each row starts from, its k-means ACC and what clustering "
                "adds to it."
            ),
            store.provenance_table(profile, data, list(ref), root)
            .rename(index=labels)
            .style.set_caption(
                f"Leaderboard (reference) — where the {data} results come from."
            ),
        ]
        ends = leaderboard.atlas(ref)
        if len(ends):
            shown.append(
                leaderboard.atlas_end(ends)
                .style.format("{:.2f}", na_rep="—")
                .format("{:.1f}", subset=["final acc"])
                .set_caption(
                    f"Atlas (reference) — {data}, profile {profile}: the four "
                    "diagnostics at the last logged epoch beside the reported ACC (%)."
                )
            )
        yield tables.Folded(
            f"Details of the {data} reference: NMI, ARI, networks, provenance"
            + (", atlas" if len(ends) else ""),
            *shown,
        )
