"""The DynAE page's helpers (``dclib.book.papers.dynae``) and its "What we find"
sentences (``dynae_findings``), on hand-built runs and committed results."""

from __future__ import annotations

import dataclasses
import json
import math
import types

import numpy as np
import pandas as pd

from dclib.book import reconciliation
from dclib.book.cache import RunResult
from dclib.book.grids import Grids
from dclib.book.papers import dynae
from dclib.book.papers import dynae_findings as findings
from dclib.book.profiles import PROFILES
from dclib.book.reference.store import result_path


def _result(acc: float, history: list[dict] | None = None) -> RunResult:
    metrics = {"acc": acc, "nmi": acc / 2, "nmi_arithmetic": acc / 3}
    return RunResult(metrics, history or [], {})


def _commit(root, run, metrics, history):
    path = result_path(root, "full", "fmnist", run, 0)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"seed": 0, "metrics": metrics, "history": history}))


def _check(iteration, **values):
    return {"stage": "checks", "iteration": iteration} | values


# the page's runs, read from the catalog


def test_the_page_names_its_runs_from_the_catalog():
    assert dynae.START == "ae_kmeans_acai"
    assert dynae.RIVALS == ("dec_star", "idec_star", "dc_star")
    assert dynae.WATCHED == ("dynae", "dec_star", "idec_star", "dc_star")
    assert dynae.DYNAMIC == ("dynae", "dc_star")
    assert set(dynae.table_names(dynae.TABLE2)) == {
        "ae_kmeans",
        "dec",
        "idec",
        "dcn",
        "dynae",
    }
    assert dynae.table_names(dynae.TABLE3) == ("dynae", "dec_star", "idec_star")
    assert dynae.BASELINES == ("ae_kmeans", "dec", "idec", "dcn")


def test_timed_runs_are_those_the_paper_timed_by_their_names_there():
    assert dynae.timed_names() == {
        "dec": "DEC",
        "idec": "IDEC",
        "dcn": "DCN",
        "dynae": "DynAE",
        "dec_star": "DEC*",
        "idec_star": "IDEC*",
    }  # AE + k-means: not in Tables 4-5


def test_table_rows_keep_one_table_only():
    rows = dynae.table_rows("fmnist", dynae.TABLE3, ["dynae", "dec", "dc_star"])
    assert rows == {"dynae": {"dynae:Table 3": "DynAE"}}
    assert dynae.table_rows("digits", dynae.TABLE3, ["dynae"]) == {}


def test_the_reconciliation_lines_come_from_the_catalog():
    lines = reconciliation.catalog_lines("dynae", dynae.TABLE3)
    assert lines == [
        reconciliation.Line(
            "DynAE", "dynae", "ae_kmeans_acai", ("dynae:Table 3", "DynAE"), "DynAE"
        ),
        reconciliation.Line(
            "DEC*", "dec_star", "ae_kmeans_acai", (dynae.TABLE3, "DEC*")
        ),
        reconciliation.Line(
            "IDEC*", "idec_star", "ae_kmeans_acai", (dynae.TABLE3, "IDEC*")
        ),
        reconciliation.Line("DC*", "dc_star", "ae_kmeans_acai"),
    ]
    assert reconciliation.PAGES["dynae"] == lines


# tables


def _page_results():
    accs = dict(
        zip(dynae.RUNS + dynae.BASELINES, np.linspace(0.3, 0.8, 9), strict=True)
    )
    return {n: {0: _result(a)} for n, a in accs.items()}


def test_table2_sets_dynae_and_its_baselines_beside_the_paper():
    html = dynae.table2(_page_results(), "fmnist", "here").to_html()
    assert "DynAE Table 2" in html and "beside the paper's" in html
    assert "59.1" in html  # DynAE on Fashion-MNIST in the paper's Table 2
    assert "DEC*" not in html  # Table 3's
    html = dynae.table2(_page_results(), "digits", "here").to_html()
    assert "(no paper reports digits)" in html


def test_table3_shows_every_run_of_the_page():
    styled = dynae.table3(_page_results(), "fmnist", "here")
    assert list(styled.data.index) == [
        "AE + k-means (DynAE's ACAI)",
        "DynAE",
        "DEC*",
        "IDEC*",
        "DC*",
    ]
    assert styled.data.loc["DC*", ("DynAE Table 3", "ACC")] == "—"
    assert styled.data.loc["DEC*", ("DynAE Table 3", "ACC")] == "57.5"


def test_times_read_each_runs_stages_and_the_paper():
    history = [
        {"stage": "pretrain", "seconds": 10.0},
        {"stage": "cluster", "seconds": 2.0},
        {"stage": "cluster", "seconds": 3.0},
    ]
    results = {n: {0: _result(0.5, history)} for n in dynae.timed_names()}
    styled = dynae.times(results, "fmnist", "here", "a CPU")
    assert styled.data.loc["DynAE", "ours: clustering"] == 5.0
    assert styled.data.loc["DEC*", "ours: pretraining"] == 10.0
    assert "a CPU" in styled.to_html()


# figures


def test_one_weight_gradients_agree_or_oppose():
    assert dynae.one_weight_cosines((3.0, 0.0, -3.0)) == [1.0, -1.0, 1.0]


def test_subset_curves_split_each_check_by_subset():
    checks = [
        _check(140, acc=0.5, nmi=0.4, acc_conflicted=0.3, nmi_conflicted=0.2)
        | {"acc_unconflicted": 0.9, "nmi_unconflicted": 0.8}
    ]
    curves = dynae.subset_curves(checks)
    assert curves["all"] == [{"iteration": 140, "ACC": 0.5, "NMI": 0.4}]
    assert curves["conflicted"][0]["ACC"] == 0.3
    assert curves["unconflicted"][0]["NMI"] == 0.8
    assert list(curves) == ["all", "conflicted", "unconflicted"]  # none hidden by "_"


def test_labelled_and_check_records_use_the_catalog():
    first = {
        n: RunResult({}, [_check(1, fr=0.5), {"stage": "x"}], {}) for n in dynae.RUNS
    }
    checks = dynae.check_records(first)
    assert list(checks) == list(dynae.WATCHED)
    assert checks["dynae"] == [_check(1, fr=0.5)]
    assert list(dynae.labelled(checks)) == ["DynAE", "DEC*", "IDEC*", "DC*"]


def _studies():
    gamma = pd.DataFrame(
        {"setting": [0.01, 1.0], "method": ["dynae", "idec_star"], "acc": [0.5, 0.6]}
    )
    code = pd.DataFrame(
        {
            "setting": ["DynAEConfig()", "DynAEConfig(per_element=False)"],
            "method": ["dynae", "dynae"],
            "acc": [0.512, np.nan],
            "nmi": [0.401, np.nan],
            "diverged": [0, 1],
        }
    )
    studies = {"gamma": gamma, "official code": code}
    return Grids(studies, {}, {"sweeps": "smoke, 128 samples"}, "somewhere")


def test_the_grid_studies_are_shown_with_labels_and_log_gamma():
    studies = _studies()
    named = dynae.named_studies(studies)
    assert list(named["gamma"].method) == ["DynAE", "IDEC*"]
    assert list(dynae.gamma_frame(named).setting) == [-2.0, 0.0]
    said = dynae.grids_source(studies)
    assert said.startswith("These grid studies come from somewhere.")
    assert "official code DynAEConfig(per_element=False) (DynAE)" in said
    styled = dynae.official_code_table(named, studies)
    assert styled.data.loc["DynAEConfig()", "ACC"] == 51.2
    html = styled.to_html()
    assert "diverged" in html and "smoke, 128 samples, from somewhere" in html


# What we find


def test_the_pretraining_gain_compares_numbers_without_a_verdict():
    said = findings.pretraining_gain(0.277, 0.23)
    assert said == (
        "k-means on the ACAI-pretrained codes reaches ACC 27.7 % against 23.0 % on "
        "the plain autoencoder's (+4.7 points)."
    )
    assert "help" not in findings.pretraining_gain(0.2, 0.23)
    assert findings.this_execution("smoke", 10, 2) == (
        "This execution (smoke, K = 10; means over the seeds):"
    )
    assert findings.this_execution("smoke", 10, 1) == "This execution (smoke, K = 10):"


def test_dynae_is_set_against_each_rival_found_by_its_numbers():
    said = findings.versus({"dynae": 0.281, "dec_star": 0.277, "dc_star": 0.281})
    assert said == [
        "DynAE 28.1 % against DEC* 27.7 % (+0.4 points).",
        "DynAE 28.1 % against DC* 28.1 % (+0.0 points).",
    ]


def test_the_ending_counts_iterations_tau_and_updates():
    checks = [
        _check(0, tau=0.5, centres_updated=0),
        _check(1400, tau=0.009, centres_updated=1),
        _check(2800, tau=0.2, centres_updated=1),
    ]
    said = findings.ending(checks, 0.01)
    assert said == (
        "DynAE ended at iteration 2,800 with tau = 20.0 % (stop rule: tau < 1 %) "
        "after 2 centre update(s)."
    )


def test_means_over_checks_skip_what_was_not_logged():
    records = [{"fr": 0.5}, {"fr": math.nan}, {}, {"fr": 0.7}]
    assert findings.mean_over_checks(records, "fr") == "0.60"
    assert findings.mean_over_checks(records, "fd") == "—"
    checks = {"dynae": [{"fr": 0.9}], "dc_star": [{"fr": 0.1}, {"fr": 0.2}]}
    assert findings.randomness(checks) == (
        "Its mean Delta_FR over the checks is 0.90, against 0.15 for DC*."
    )


def test_the_reference_ending_tells_the_stop_rule_from_the_cap():
    checks = [
        _check(0, acc=0.532, tau=0.3, centres_updated=0),
        _check(140, acc=0.534, tau=0.2, centres_updated=1),
        _check(5320, acc=0.6, tau=0.0098, centres_updated=1),
    ]
    said = findings.reference_ending(checks, 0.01)
    assert said.startswith(
        "The reference's DynAE starts from k-means at 53.2 % ACC and is at 53.4 % "
        "after 140 iterations; it ended at iteration 5,320 by its stop rule "
        "(tau = 0.98 % < 1 %), after 2 centre update(s)"
    )
    assert "capped at 50 of the paper's 475 epochs" in said
    said = findings.reference_ending(checks, 0.005)
    assert "at its CPU cap with tau = 1.0 %, after 2" in said


def test_the_reference_drift_lists_each_run():
    said = findings.reference_drift({"A": [{"fr": 0.1, "fd": -0.2}], "B": [{}]})
    assert said.startswith(
        "Mean Delta_FR / Delta_FD over the checks of the committed reference's runs: "
        "A 0.10 / -0.20; B — / —. The paper's"
    )


def test_the_reference_dc_star_says_whether_its_start_differs():
    checks = [_check(0, acc=0.5), _check(140, changed=0.05), _check(840, changed=0.004)]
    dc = RunResult({}, checks, {})
    said = findings.reference_dc(dc, _result(0.5), 0.01)
    assert said == [
        "The reference's DC* changed 0.4-5.0 % of its labels from one check to the "
        "next (stop rule: under 1 %) and ended at iteration 840."
    ]
    said = findings.reference_dc(dc, _result(0.52), 0.01)
    assert len(said) == 2 and said[1].endswith("50.0 % ACC against 52.0 %.")


def test_capped_profiles_say_how_far_their_pretraining_is():
    smoke = types.SimpleNamespace(profile=PROFILES["smoke"])
    (said,) = findings.capped(smoke, 2)
    caps = PROFILES["smoke"].epoch_caps
    assert said.startswith(f"This execution's runs use {caps} (2 of ACAI")
    assert findings.capped(types.SimpleNamespace(profile=PROFILES["full"]), 2) == []


def test_the_reference_sentences_read_what_is_committed(tmp_path):
    assert findings.reference(0.01, {}, tmp_path) == []
    checks = [
        _check(0, acc=0.53, tau=0.3, centres_updated=0),
        _check(140, acc=0.54, tau=0.005, centres_updated=1, changed=0.02),
    ]
    _commit(tmp_path, "dynae", {"acc": 0.6}, checks)
    said = findings.reference(0.01, {}, tmp_path)
    assert len(said) == 1 and said[0].startswith("The reference's DynAE starts")
    _commit(tmp_path, "dc_star", {"acc": 0.5}, checks)
    _commit(tmp_path, "ae_kmeans_acai", {"acc": 0.53}, [])
    said = findings.reference(0.01, {"DynAE": [{"fr": 0.1}]}, tmp_path)
    assert said[:3] == [
        "In the committed reference on the full Fashion-MNIST, ACC:",
        "DynAE 60.0 % against DC* 50.0 % (+10.0 points).",
        said[2],
    ]
    assert said[2].startswith("The reference's DynAE starts")
    assert said[3].startswith("Mean Delta_FR / Delta_FD")
    assert said[4].startswith("The reference's DC* changed 2.0-2.0 %")
    assert len(said) == 5  # same k-means start: no sentence on it


def _committed(studies: Grids) -> Grids:
    return dataclasses.replace(
        studies, source="the committed reference", committed=True
    )


def test_the_grid_claims_speak_only_from_the_committed_reference():
    assert findings.grid_claims(_studies()) == []  # a smoke-scale wiring check
    said = findings.grid_claims(_committed(_studies()))
    assert said[0] == (
        "In the committed reference's grids (smoke, 128 samples), over gamma from "
        "10^-3 to 10^3 (Fig. 13) DynAE's ACC spans 50.0-50.0 % (0.0 points) and "
        "IDEC*'s 60.0-60.0 % (0.0 points) (the paper's Fig. 13 compares the same two "
        "sensitivities on MNIST)."
    )
    assert said[1] == (
        "In the same grids, DynAE's ACC with DynAEConfig() 51.2 %; "
        "DynAEConfig(per_element=False) diverged."
    )
    assert said[2].startswith("These settings diverged")


def _findings(monkeypatch, studies, profile="full"):
    monkeypatch.setattr(findings.verdicts, "sentences", lambda page: [f"{page} V."])
    monkeypatch.setattr(findings.recipes, "reference_claims", lambda names: ["CLAIM."])
    monkeypatch.setattr(findings, "reference", lambda tol, checks: ["REF."])
    checks = {
        n: [_check(140, tau=0.5, centres_updated=0, fr=0.5)] for n in dynae.WATCHED
    }
    cfg = types.SimpleNamespace(
        n_clusters=10, tol=0.01, pretrain=types.SimpleNamespace(n_epochs=2)
    )
    run = types.SimpleNamespace(profile=PROFILES[profile])
    return findings.findings(run, cfg, "here", _page_results(), checks, {}, studies)


def test_the_findings_open_with_the_ledger_then_the_reference(monkeypatch):
    said = _findings(monkeypatch, _studies())
    assert said[:2] == ["dynae V.", "CLAIM. REF."]  # no grid sentence: not committed
    assert len(said) == 3
    committed = _findings(monkeypatch, _committed(_studies()))
    assert committed[1].startswith("CLAIM. REF. In the committed reference's grids")
    assert committed[2] == said[2]


def test_this_executions_paragraph_says_so_and_gives_no_verdict(monkeypatch):
    ours = _findings(monkeypatch, _studies())[2]
    assert ours.startswith("This execution (here, K = 10): k-means on the ACAI")
    assert "DynAE 36.2 % against DEC* 42.5 % (-6.2 points)." in ours
    assert "Its mean Delta_FR over the checks is 0.50, against 0.50 for DC*." in ours
    for verdict in ("beat", "help", "holds", "reproduce"):
        assert verdict not in ours
    smoke = _findings(monkeypatch, _studies(), "smoke")[2]
    assert smoke.startswith("This execution (") and "This execution's runs use" in smoke
