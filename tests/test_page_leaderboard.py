"""The leaderboard page's sentences and reference section
(``dclib.book.papers.leaderboard_page``), on hand-made tables and runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from dclib.book.papers import leaderboard_page as page
from dclib.book.reference import store


def _board(gaps, tables):
    return pd.DataFrame(
        {"oracle gap (pp)": gaps, "paper's table": tables},
        index=[f"M{i}" for i in range(len(gaps))],
    )


def test_the_paper_note_says_what_data_the_papers_numbers_are_for():
    board = _board(["—", "—", "—"], ["dcss:Table 1", "—", "dcss:Table 1"])
    note = page.paper_note("mnist5k", "smoke profile", board)
    assert note.startswith("The papers' numbers are for MNIST (the full 70,000 images)")
    assert "ours are smoke profile. The data differ (5,000 of 70,000 images)" in note
    assert note.endswith("Paper columns from: `dcss:Table 1`.")
    fm = page.paper_note("fmnist", "p", _board(["—"], ["dml:Table I"]))
    assert "(the same data)" in fm and "The data differ" not in fm
    none = page.paper_note("digits", "p", _board(["—"], ["—"]))
    assert none == "No paper reports digits: the paper columns are empty. " + (
        "Paper columns from: ."
    )


def test_the_gap_sentence_averages_the_rows_with_a_monitored_curve():
    board = _board(["1.0", "—", "4.0"], ["—"] * 3)
    assert page.gap_sentence(board) == (
        "Over the 2 rows with a monitored curve the oracle gap is 2.5 points on "
        "average, at most 4.0 (M2)."
    )
    assert page.gap_sentence(_board(["—"], ["—"])) == (
        "No row logged a monitored curve."
    )


def test_held_counts_the_claims_that_hold():
    claims = pd.DataFrame({"same order here": ["yes", "no", "yes"]})
    assert page.held(claims) == "2 of 3 ordered so here"
    assert page.held(pd.DataFrame()) == "0 of 0 ordered so here"


def test_the_atlas_end_is_headed_as_the_page_shows_it_and_correlated_with_acc():
    found = pd.DataFrame(
        {
            "method": ["A", "A", "B", "C"],
            "final acc": [50.0, 50.0, 60.0, 70.0],
            "fr": [0.0, 0.1, 0.2, 0.3],
            "fd": [0.0, 0.3, 0.2, 0.1],
            "id": [1.0, 2.0, 4.0, 6.0],
            "lid": [3.0, 3.0, np.nan, 5.0],
            "twist": [0.0] * 4,
        }
    )
    end = page.atlas_end(found)
    assert list(end.columns[:5]) == ["ACC", "Δ_FR", "Δ_FD", "ID", "LID"]
    assert end.loc["A", "Δ_FR"] == 0.1  # the last point of A's curve
    assert page.correlations(end) == "Δ_FR +1.00, Δ_FD -1.00, ID +1.00, LID +1.00"


def _committed(root, run: str, acc: float) -> None:
    """A committed result as the reference job writes it (fmnist, full, seed 0)."""
    path = store.result_path(root, "full", "fmnist", run, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    rec = {
        "run": run,
        "n_samples": 70000,
        "seed": 0,
        "metrics": {"acc": acc, "nmi": 0.5, "nmi_arithmetic": 0.5, "ari": 0.3},
        "history": [{"stage": "pretrain"}, {"stage": "cluster"}],
        "epochs": {"pretrain": 1, "cluster": 1},
        "train_seconds": 60.0,
        "provenance": {"git_commit": "0123", "device": "CPU", "date": "2026-12-02"},
    }
    path.write_text(json.dumps(rec))


def test_the_reference_section_shows_each_committed_reference(tmp_path):
    assert list(page.reference_boards(tmp_path)) == []
    _committed(tmp_path, "dec", 0.512)
    shown = list(page.reference_boards(tmp_path))
    assert len(shown) == 2  # the compared board, then its details folded
    assert "fmnist, profile full" in shown[0].caption
    assert shown[0].data.loc["DEC", "ACC"].startswith("51.2")
    folded = shown[1]
    assert len(folded.shown) == 3  # no atlas logged: two details, provenance
    assert "atlas" not in folded.summary
    scores, networks, provenance = (s.data for s in folded.shown)
    assert "NMI" in scores and "ACC" not in scores and "network" in networks
    assert list(provenance.index) == ["DEC"]
    assert provenance.loc["DEC", "n"] == "70,000"
    assert folded._repr_html_().startswith("<details><summary>Details of the fmnist")
