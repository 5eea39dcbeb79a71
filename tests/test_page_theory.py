"""The DCSS theory page's book module (``dclib.book.papers.theory``) and the two
library checks it added to ``dclib.theory``: hand-built counts and q-vectors, each
sentence checked against what it must say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from dclib import theory as T
from dclib.book.cache import RunResult
from dclib.book.papers import theory as page


def check(statement="Theorem 2", premise=True, n=10, tested=4, violated=0, fails=3):
    return T.Check(statement, premise, n, tested, violated, fails)


def q(*rows):
    return torch.tensor(rows, dtype=torch.float64)


# --- dclib.theory: the two readings of r in the proof of Theorem 1 ----------------


def test_mass_move_gain_is_the_change_of_the_inner_product():
    qi, qj = q([0.2, 0.8]), q([0.6, 0.4])
    r = torch.tensor([0])  # q_j's own peak, as eq. (9) writes it
    gain = T.mass_move_gain(qi, qj, r)
    moved = q([1.0, 0.0])  # q_j's mass all on entry 0
    assert torch.allclose(gain.sum(1), T.dot(qi, moved) - T.dot(qi, qj))
    assert gain[0, 1] < 0  # 0.2 < 0.44: the move lowers the product


def test_proof_readings_counts_pairs_lowered_by_each_reading():
    pairs, as_used, as_written = T.proof_readings(q([0.2, 0.8], [0.6, 0.4]))
    assert (pairs, as_used, as_written) == (1, 0, 1)
    grid = T.simplex_grid(3, 6)
    pairs, as_used, as_written = T.proof_readings(grid)
    assert pairs == len(grid) * (len(grid) - 1) // 2
    assert as_used == 0 and as_written > 0
    # the chunked count equals one block over every pair
    assert T.proof_readings(grid, chunk=5) == (pairs, as_used, as_written)


def test_proof_readings_agree_when_both_peaks_coincide():
    # q_i and q_j peak at the same entry: both readings move mass onto it
    assert T.proof_readings(q([0.7, 0.2, 0.1], [0.5, 0.1, 0.4]))[1:] == (0, 0)


# --- the samples and the count table ---------------------------------------------


def test_dirichlet_sets_are_seeded_and_leave_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    sets = page.dirichlet_sets(5, seed=0)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert list(sets) == [(K, a) for K in page.KS for a in page.CONCENTRATIONS]
    assert all(v.shape == (5, K) for (K, _), v in sets.items())
    again = page.dirichlet_sets(5, seed=0)
    assert all(torch.equal(sets[k], again[k]) for k in sets)
    torch.manual_seed(0)  # as the page's start_run leaves it: the global stream
    first = torch.distributions.Dirichlet(
        torch.full((2,), 0.01, dtype=torch.float64)
    ).sample((5,))
    assert torch.equal(sets[2, 0.01], first)


def test_checks_sum_counts_per_sample_and_tabulate_them():
    checks = page.Checks(n_triples=64, seed=0)
    a, b = page.dirichlet_sets(20, 0)[3, 1.0], page.dirichlet_sets(30, 1)[3, 1.0]
    checks.add("s", a)
    checks.add("s", b)
    checks.add("low", a, 0.45, 0.2)
    assert checks["Theorem 1", "s"].n == 20 * 19 // 2 + 30 * 29 // 2
    assert checks["Corollary 1.2", "s"].n == 50
    assert not checks["Theorem 2", "low"].premise
    table = checks.table()
    assert len(table) == 2 * len(T.STATEMENTS)
    assert table.loc[("Theorem 1", "s"), "n"] == 625
    row = table.loc[("Theorem 2", "s")]
    assert row["satisfied"] == row["tested"] - row["violated"]
    assert list(page.counts(table, "Theorem 1").index) == ["s", "low"]
    both = page.counts(table, "Corollary 1.3", "Theorem 3")
    assert list(both.index.get_level_values(0).unique()) == [
        "Corollary 1.3",
        "Theorem 3",
    ]
    folded = page.count_table(table, "note", "Theorem 1")
    tested = int(table.loc[("Theorem 1", "s"), "tested"]) + int(
        table.loc[("Theorem 1", "low"), "tested"]
    )
    assert folded.summary.startswith(f"Theorem 1: {tested:,} inputs meet the premises")
    assert "0 break the conclusion" in folded.summary  # Theorem 1 always holds
    assert "625" in folded._repr_html_()  # the table under it, n of sample s


def test_sample_note_names_the_samples():
    note = page.sample_note("smoke", 200, 4096, 400, "mnist5k", 0)
    assert note.startswith("counts per sample (smoke profile; random sets of 200 ")
    assert "4,096 random triples" in note and "400 q-vectors of DCSS on mnist5k" in note


def test_trained_q_renormalises_the_stored_softmax():
    stored = np.array([[0.5, 0.5001], [0.2, 0.8]], dtype=np.float32)
    result = RunResult({}, [], {"q": stored})
    out = page.trained_q(result)
    assert out.dtype == torch.float64
    assert torch.allclose(out.sum(1), torch.ones(2, dtype=torch.float64))


# --- the extremal searches ---------------------------------------------------------


def test_cross_cluster_rows_per_search():
    grids = {2: T.simplex_grid(2, 10), 3: T.simplex_grid(3, 6)}
    cross = page.cross_cluster(grids, (2,), steps=20, seed=0)
    assert list(cross.index) == [
        "grid K = 2 (11 points)",
        "grid K = 3 (28 points)",
        "ascent K = 2",
    ]
    assert (cross["sup"] < 0.5).all()
    assert cross.loc["grid K = 2 (11 points)", "sup"] == pytest.approx(0.48)


def test_zeta_scan_and_the_smallest_clean_zeta():
    grid = T.simplex_grid(2, 10)
    scan = page.zeta_scan([grid], (0.4, 0.45, 0.5, 0.6))
    assert scan[0.4] > 0 and scan[0.6] == 0
    # (0.5, 0.5) . (0.4, 0.6) = 0.5: adjacent at zeta = 0.5, clusters 0 and 1
    assert scan[0.5] > 0 and page.smallest_zeta(scan) == 0.6
    # a zeta clean below a dirty one does not count
    assert page.smallest_zeta(pd.Series({0.4: 0, 0.5: 3, 0.6: 0})) == 0.6
    with pytest.raises(ValueError):
        page.smallest_zeta(pd.Series({0.4: 1, 0.5: 3}))


def test_same_cluster_minimum_attains_the_bounds():
    grids = {2: T.simplex_grid(2, 20), 3: T.simplex_grid(3, 20)}
    same = page.same_cluster_minimum(grids, 0.75)
    assert same.loc[2, "min q_i.q_k"] == pytest.approx(0.75**2 + 0.25**2)
    assert same.loc[3, "min q_i.q_k"] == pytest.approx(0.75**2)
    assert same.loc[3, "zeta^2"] == 0.5625


def test_sample_pairs_and_plane_bounds():
    g = torch.Generator().manual_seed(0)
    qi, qj = page.sample_pairs(T.simplex_grid(3, 4), g, n=7)
    assert qi.shape == qj.shape == (7, 3)
    bounds = page.plane_bounds(0.8, 0.2)
    assert bounds["zeta = 0.8"] == 0.8 and bounds["gamma = 0.2"] == 0.2
    assert bounds["paper's threshold: 2/3"] == pytest.approx(2 / 3)


# --- the sentences ------------------------------------------------------------------


def test_off_simplex_sentence():
    (s,) = page.off_simplex(check("Theorem 1", False, n=231, violated=94))
    assert "94 of 231 pairs break the bound" in s


def test_proof_readings_sentence_follows_the_counts():
    (s,) = page.proof_readings(26565, 0, 16043)
    assert "26,565 pairs" in s and "no move lowers q_i . q_j" in s
    assert "some move lowers it for 16,043 pairs" in s
    (bad,) = page.proof_readings(10, 3, 0)
    assert "no move lowers q_i . q_j" not in bad
    assert "for 3 pairs" in bad and "no move lowers it either" in bad


def test_low_zeta_sentence():
    c13 = check("Corollary 1.3", tested=5200, violated=0)
    t2, t3 = check(violated=3610), check("Theorem 3", violated=16)
    (s,) = page.low_zeta(c13, t2, t3)
    assert "tested 5,200 pairs with 0 violations" in s
    assert "failed on 3,610 adjacent pairs" in s and "on 16 triples" in s


def test_trained_findings_say_what_the_q_vectors_show():
    qs = q([0.9, 0.1], [0.85, 0.15], [0.5, 0.5], [0.3, 0.7])
    adjacent = check(tested=5, violated=1)
    points = check("Corollary 1.2", n=4, tested=2, violated=0)
    says = page.trained_findings(qs, adjacent, points, 4, (1, 2), "smoke")
    assert len(says) == 4
    assert "4 of 5 adjacent pairs (4 q-vectors" in says[0] and "1 do not" in says[0]
    assert "50.0 % of all 4 points" in says[1]
    assert "2 of 4; all of them have a peak >= zeta (0 violations" in says[2]
    assert "phase 1 for 1 epoch(s) and phase 2 for 2 (smoke profile)" in says[3]
    broken = check("Corollary 1.2", n=4, tested=2, violated=1)
    (_, _, s, _) = page.trained_findings(qs, adjacent, broken, 4, (1, 2), "smoke")
    assert "not all of them" in s and "(1 violations" in s


def table_of(rows):
    return pd.DataFrame(rows, columns=["premise", "tested", "violated"])


def test_findings_sum_the_table_with_and_without_premises():
    table = table_of([(True, 100, 0), (True, 50, 0), (False, 30, 7), (False, 9, 2)])
    c13 = check("Corollary 1.3", tested=5200)
    says = page.findings(table, 0.49999974, 0.501, c13)
    assert len(says) == 6
    assert says[0].startswith("With their premises, the seven statements held")
    assert "150 pairs, triples and points" in says[0] and "and 0 broke" in says[0]
    assert "Weakened, they fail: 9 violations" in says[1]
    assert "is 0.49999974, at most the proven supremum 1/2" in says[2]
    assert "no violation from zeta = 0.501" in says[2]
    assert "tested 5,200 pairs of the grids with 0 violations" in says[4]


def test_findings_report_a_broken_claim_and_a_search_above_one_half():
    table = table_of([(True, 100, 2), (False, 30, 7)])
    says = page.findings(table, 0.6, 0.7, check("Corollary 1.3"))
    assert "did not all hold" in says[0] and "and 2 broke a claim" in says[0]
    assert "above the supremum 1/2" in says[2]
