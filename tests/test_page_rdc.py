"""The R-DC page's recipes: its tables from the catalog and every sentence of its
"What we find", on hand-built results."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from dclib.book import recipes, reconciliation
from dclib.book.cache import RunResult
from dclib.book.grids import Grids
from dclib.book.papers import rdc, rdc_findings
from dclib.methods.rdc import RDCConfig

CFG = RDCConfig()  # checks every 140 iterations, stop rule after 20 checks

P1, P2, P3, P23 = (rdc.phase(s) for s in ("P1", "P1 & P2", "P1 & P3", "P1 & P2 & P3"))


def _result(acc: float, **metrics: float) -> dict[int, RunResult]:
    return {0: RunResult({"acc": acc, "f1_macro": acc - 0.01} | metrics, [], {})}


def _checks(taus: list[float], **last: float) -> list[dict[str, float]]:
    """One check record per tau at the check interval, ``last`` on the final one."""
    records = [
        {"stage": "checks", "iteration": 140 * i, "tau": t, "acc": 0.5 + 0.01 * i}
        for i, t in enumerate(taus)
    ]
    records[-1] |= last
    return records


def test_table8_phases_are_the_catalogs_runs_in_the_papers_order():
    assert list(rdc.PHASES.values()) == ["P1", "P1 & P2", "P1 & P3", "P1 & P2 & P3"]
    assert (P1, P2, P3, P23) == ("ae_kmeans_rdc", "rdc", "dec_rdc", "dec_rdc-after-rdc")
    assert rdc.DYNAE == "dynae_rdc"
    assert rdc.REFERENCE_CURVES == ("rdc", "dec_rdc")  # Figs. 12-15: R-DC, DEC
    assert rdc.table_runs(rdc.TABLE3) == (P1, P2, P3, rdc.DYNAE)


def test_the_reference_tables_set_each_run_beside_tables_3_and_8():
    rows = recipes.paper_rows("fmnist", rdc.PHASES)
    assert rows[P1] == {
        "rdc:Table 8": ("R-DC", "P1"),
        "rdc:Table 3": "AE + K-means",
    }
    assert rows[P2]["rdc:Table 8"] == ("R-DC", "P1 & P2")
    assert rows[P3]["rdc:Table 3"] == "DEC"
    assert set(rows[P23]) == {"rdc:Table 8"}


def test_tables_3_to_5_name_the_same_methods_and_no_paper_reports_digits():
    rows = rdc.tables_rows("fmnist")
    assert rows[rdc.DYNAE] == dict.fromkeys(
        ("rdc:Table 3", "rdc:Table 4", "rdc:Table 5"), "DynAE"
    )
    assert rdc.tables_rows("digits") == {} == rdc.table8_rows("digits")
    assert recipes.beside("digits") == "(no paper reports digits)"
    assert recipes.beside("fmnist") == "beside the paper's"


def test_the_paper_tables_show_ours_beside_the_papers_rows():
    results = {n: _result(0.5) for n in rdc.RUNS}
    t3 = rdc.paper_table(results, "fmnist", "here").data
    assert list(t3.index) == [
        "P1: AE + k-means (R-DC's ACAI)",
        "R-DC (P1 & P2)",
        "P1 & P3: DEC (R-DC's ACAI)",
        "DynAE (R-DC's ACAI)",
    ]
    assert t3.loc["R-DC (P1 & P2)", ("R-DC Table 3", "ACC")] == "66.6"
    assert t3.loc["P1 & P3: DEC (R-DC's ACAI)", ("ours", "F1 Macro")] == "49.0"
    t8 = rdc.ablation_table(results, "fmnist", "here").data
    assert t8[("R-DC Table 8", "ACC")].tolist() == ["55.6", "66.6", "58.8", "63.8"]
    assert "R-DC Table 3" not in t8.columns.get_level_values(0)


def test_the_times_table_reads_table_6_in_its_own_spelling():
    history = [
        {"stage": "pretrain", "seconds": 3.0},
        {"stage": "cluster", "seconds": 2.0},
    ]
    results = {n: {0: RunResult({}, history, {})} for n in rdc.RUNS}
    shown = rdc.times_table(results, "fmnist", "here", "a CPU")
    t = shown.data
    assert t.loc["P1: AE + k-means (R-DC's ACAI)", "paper (Table 6)"] == 108
    assert t.loc["R-DC (P1 & P2)", "ours: clustering"] == 2.0
    assert "beside the paper's" in shown.caption
    mnist = rdc.times_table(results, "mnist5k", "here", "a CPU")
    assert not [c for c in mnist.data.columns if c.startswith("paper")]
    assert "reports no times for mnist5k" in mnist.caption


def test_the_separation_of_the_toy_curves():
    y = np.array([0, 0, 1, 1])
    apart = np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 0.0], [5.0, 0.1]])
    mixed = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 0.1], [5.0, 0.1]])
    runs = {
        "ae_kmeans": RunResult({"acc": 1.0}, [], {"z": apart}),
        "rdc": RunResult({"acc": 0.5}, [], {"z": mixed}),
    }
    frame = rdc.separation(runs, y)
    assert frame.loc["ae_kmeans", rdc.SILHOUETTE] > 0.9
    assert frame.loc["rdc", rdc.SILHOUETTE] < 0
    assert frame.loc["rdc", "ACC (%)"] == 50.0
    assert list(rdc.curves_table(frame, 4, 0).data.index) == [
        "pretrained (k-means)",
        "R-DC",
    ]


def test_phase_claims_are_this_executions_numbers_without_a_verdict():
    acc = {P1: 0.5, P2: 0.6, P3: 0.55, P23: 0.58, rdc.DYNAE: 0.52}
    said = rdc_findings.phase_claims(acc, "mnist5k", 10, 1)
    assert said[0] == "This execution (mnist5k, K = 10):"
    assert said[1] == (
        "R-DC's second phase takes k-means on the pretrained codes from 50.0 % to "
        "60.0 % ACC (+10.0 points)."
    )
    assert said[2] == (
        "DEC from the same network reaches 55.0 % and DynAE 52.0 %; DEC after R-DC "
        "58.0 %."
    )
    worse = rdc_findings.phase_claims(acc | {P2: 0.45}, "x", 10, 2)
    assert worse[0] == "This execution (x, K = 10; means over the seeds):"
    assert worse[1].endswith("(-5.0 points).")
    assert not any(w in " ".join(said + worse) for w in ("beat", "help", "as in"))


def test_the_stop_claim_tells_the_rule_from_the_cap():
    flat = _checks([0.9] * 30, true_after=0.8, true_before=0.7)
    flat.append({"stage": "checks", "iteration": 4201, "tau": 0.5})  # off the grid
    assert rdc_findings.taus(flat, CFG) == [0.9] * 30
    assert rdc_findings.fired(flat, CFG)
    short = _checks([0.9] * 3, true_after=0.25, true_before=0.2)
    (said,) = rdc_findings.stop_claims(short, CFG)
    assert said == (
        "R-DC (first seed) ended at its epoch or iteration cap, before the stop rule "
        "fired, at iteration 280, with tau = 90.0 % core points; 25.0 % of their "
        "reliable neighbours share their class, against 20.0 % of all their "
        "neighbours."
    )
    rising = _checks([0.5 + 0.01 * i for i in range(30)], true_after=1, true_before=1)
    assert "ended when its smoothed tau" not in rdc_findings.stop_claims(rising, CFG)[0]
    assert rdc_findings.stop_claims([], CFG) == []


def test_the_filter_claim_measures_the_second_filter_on_the_final_codes():
    z = torch.tensor([[0.0], [1.0], [10.0], [11.0], [30.0]])  # one core point: 4
    cfg = RDCConfig(n_neighbours=2, alpha=0.5, beta=0.5, beta_scale="absolute")
    (said,) = rdc_findings.filter_claims(z, cfg)
    assert "(beta = 0.5 times the median nearest-neighbour distance, 1.000)" in said
    assert "keeps 50.0 % of the core points' neighbours" in said  # 3 of (3, 2)
    none = RDCConfig(n_neighbours=2, alpha=0.99)
    assert rdc_findings.filter_claims(z.numpy(), none) == []


def test_the_curves_claim_compares_r_dc_with_dec_by_numbers():
    said = rdc_findings.curves_claim({"ae_kmeans": 0.2, "dec": 0.1, "rdc": 0.3})
    assert said == (
        "On curves2d the silhouette of the true curves is 0.100 after DEC and 0.300 "
        "after R-DC (0.200 after pretraining; R-DC minus DEC: +0.200)."
    )
    worse = rdc_findings.curves_claim({"ae_kmeans": 0.2, "dec": 0.3, "rdc": 0.1})
    assert worse.endswith("R-DC minus DEC: -0.200).") and "keep" not in worse


def _reference(draws: tuple[float, float] | None) -> dict[str, dict[int, RunResult]]:
    spread = [{}, {}] if draws is None else [{"kmeans_acc_mean": d} for d in draws]
    history = _checks([0.92] + [0.9] * 29, true_after=0.8, true_before=0.7)
    return {
        P1: {0: RunResult({"acc": 0.51} | spread[0], [], {})},
        P2: {0: RunResult({"acc": 0.60} | spread[1], history, {})},
        P3: {0: RunResult({"acc": 0.55}, [], {})},  # no draws: not read
    }


def test_the_reference_claims_set_r_dc_beside_p1_and_table_8():
    paper = {P1: 55.6, P2: 66.6}
    first, draws = rdc_findings.reference_claims(_reference((0.55, 0.56)), paper, CFG)
    assert first == (
        "There R-DC ends at 60.0 % ACC, +9.0 points from P1's k-means on the same "
        "pretrained codes (51.0 %; Table 8: +11.0); its ACC at the checks ranged over "
        "50.0-79.0 %. Its tau went from 92.0 % to 90.0 % over 30 checks, and the stop "
        "rule fired at iteration 4,060. It stays 6.6 points below the paper's "
        "number, which the code selects as the best check by the labels (the "
        "reconciliation table above)."
    )
    assert draws == (
        "Over 10 k-means draws on each network's codes the two stand at 55.0 % and "
        "56.0 % (+1.0 points): most of the gap between their single draws is the "
        "draw, not R-DC's second phase."
    )
    far = rdc_findings.reference_claims(_reference((0.50, 0.60)), paper, CFG)
    assert far[1].endswith("(+10.0 points).")
    assert len(rdc_findings.reference_claims(_reference(None), paper, CFG)) == 1
    assert rdc_findings.reference_claims({P1: _reference(None)[P1]}, paper, CFG) == []


def test_the_ranking_claim_needs_every_setting():
    ours = {P1: 50.9, P2: 60.8, P3: 55.1, P23: 55.4}
    paper = {P1: 55.6, P2: 66.6, P3: 58.8, P23: 63.8}
    (said,) = rdc_findings.ranking_claims(ours, paper)
    assert said == (
        "The reference ranks Table 8's settings P1 & P2 (60.8 %) > P1 & P2 & P3 "
        "(55.4 %) > P1 & P3 (55.1 %) > P1 (50.9 %); the paper ranks them P1 & P2 "
        "(66.6 %) > P1 & P2 & P3 (63.8 %) > P1 & P3 (58.8 %) > P1 (55.6 %)."
    )
    assert rdc_findings.ranking_claims({P1: 50.9}, paper) == []
    assert rdc_findings.table8_acc() == paper


def test_the_caps_claim_only_for_capped_profiles():
    assert rdc_findings.caps_claims(None, 37) == []
    (said,) = rdc_findings.caps_claims("at most 2 epochs", 2)
    assert said.startswith(
        "This execution's runs use at most 2 epochs (2 epochs of pretraining"
    )
    assert "the paper's T1 is 37 epochs" in said


def _studies(committed: bool) -> Grids:
    sweep = pd.DataFrame({"setting": [0.1, 0.6], "acc": [0.5, 0.62], "nmi": [0, 0]})
    code = pd.DataFrame(
        {
            "setting": ["RDCConfig()", "RDCConfig.official_code()"],
            "method": ["rdc", "rdc"],
            "acc": [0.512, np.nan],
            "nmi": [0.4, np.nan],
        }
    )
    studies = {"alpha": sweep, "noise": sweep, "official code": code}
    return Grids(studies, {}, {"sweeps": "smoke, 128 samples"}, "there", committed)


def test_the_grid_claims_speak_only_from_the_committed_reference():
    assert rdc_findings.grid_claims(_studies(False)) == []  # a wiring check
    spans, code = rdc_findings.grid_claims(_studies(True))
    assert spans == (
        "In the committed reference's grids (smoke, 128 samples), R-DC's ACC spans "
        "50.0-62.0 % (12.0 points) over alpha (Fig. 17); 50.0-62.0 % (12.0 points) "
        "over the noise's sigma (Fig. 20) (the paper's Figs. 17 and 20: "
        "PneumoniaMNIST, BloodMNIST and VesselMNIST3D)."
    )
    assert code == (
        "In the same grids, R-DC's ACC with RDCConfig() 51.2 %; "
        "RDCConfig.official_code() diverged."
    )


def _findings(monkeypatch, studies, profile):
    monkeypatch.setattr(rdc_findings.store, "results", lambda *a, **k: {})
    monkeypatch.setattr(rdc_findings.recipes, "reference_claims", lambda names: [])
    monkeypatch.setattr(rdc_findings.verdicts, "sentences", lambda page: [page + "!"])
    z = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]], dtype=np.float32)
    history = _checks([0.9] * 3, true_after=0.5, true_before=0.4)
    results = {n: _result(0.5) for n in rdc.RUNS}
    results[P2] = {0: RunResult({"acc": 0.6}, history, {"z": z})}
    results[rdc.DYNAE] = {0: RunResult({"acc": 0.5}, [], {})}
    run = SimpleNamespace(seed=0, profile=profile)
    curves = pd.DataFrame({rdc.SILHOUETTE: {"ae_kmeans": 0.2, "dec": 0.1, "rdc": 0.3}})
    cfg = RDCConfig(n_neighbours=2, alpha=0.5, beta=0.5, beta_scale="absolute")
    ds = SimpleNamespace(n_clusters=4)
    return rdc_findings.findings(run, ds, results, cfg, curves, "the blobs", studies)


def test_the_findings_open_with_the_ledger_and_label_this_execution(monkeypatch):
    uncapped = SimpleNamespace(max_epochs=None, epoch_caps="")
    ledger, said = _findings(monkeypatch, _studies(False), uncapped)
    assert ledger == "rdc!"  # verdicts.sentences(PAGE), first
    assert said.startswith("This execution (the blobs, K = 4): R-DC's second phase")
    order = ["DEC from the same", "R-DC (first seed)", "second filter", "curves2d"]
    assert [said.index(s) for s in order] == sorted(said.index(s) for s in order)
    assert "There R-DC" not in said and "runs use" not in said
    assert "grids" not in said and "beats" not in said and "help" not in said
    capped = SimpleNamespace(max_epochs=2, epoch_caps="at most 2 epochs")
    _, said = _findings(monkeypatch, _studies(False), capped)
    assert said.endswith(
        "the reference above runs the paper's protocol on Fashion-MNIST."
    )


def test_only_committed_grids_reach_the_findings(monkeypatch):
    uncapped = SimpleNamespace(max_epochs=None, epoch_caps="")
    ledger, reference, ours = _findings(monkeypatch, _studies(True), uncapped)
    assert reference.startswith("In the committed reference's grids (smoke, 128")
    assert ours.startswith("This execution (") and "grids" not in ours


def test_the_reconciliation_sets_every_table_8_phase_against_p1():
    lines = reconciliation.PAGES["rdc"]
    committed = [line for line in lines if line.paper is not None]
    assert [line.run for line in committed] == list(rdc.PHASES)[:2] + [P23, P3]
    assert {line.start for line in lines} == {P1}
    assert [line.paper for line in committed] == [
        ("rdc:Table 8", ("R-DC", s))
        for s in ("P1", "P1 & P2", "P1 & P2 & P3", "P1 & P3")
    ]
