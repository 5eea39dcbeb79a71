"""The DML page's names, tables and "What we find" sentences
(``dclib.book.papers.dml``), on hand-made runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dclib import book, data
from dclib.book import recipes, verdicts
from dclib.book.cache import RunResult
from dclib.book.grids import Grids
from dclib.book.paper_tables import paper_results
from dclib.book.papers import dml


def _run(acc: float, mu=None, nmi: float = 0.5) -> RunResult:
    metrics = {"acc": acc, "nmi": nmi, "nmi_arithmetic": nmi}
    arrays = {} if mu is None else {"mu": np.asarray(mu, dtype=np.float32)}
    return RunResult(metrics, [], arrays)


def test_the_page_names_each_run_as_the_dml_paper_does():
    names = dml.paper_names()
    assert names == {
        "dcss_u": "DSL",
        "dcn": "DCN",
        "dkm_p": "DKM",
        "dml-dsl": "DML-DSL",
        "dml-dcn": "DML-DCN",
        "dml-dkm": "DML-DKM",
    }
    assert dml.paper_name("ae_kmeans") == "AE + k-means"
    assert dml.paper_name("dec") == "DEC"
    assert set(dml.SHOWN) == set(names)


def test_table_ii_holds_the_runs_the_paper_reports_in_the_baselines_order():
    assert dml.table2_names() == (
        "ae_kmeans",
        "dec",
        "idec",
        "dcn",
        "dkm_p",
        "dcss_u",
        "dml-dsl",
    )
    assert dml.small_data_bases() == ("dsl",)


def test_table_i_sets_ours_beside_the_paper_under_its_names():
    results = {"dcss_u": {0: _run(0.5)}, "dml-dsl": {0: _run(0.6), 1: _run(0.8)}}
    table = dml.table(results, "mnist5k")
    assert list(table.index) == ["DSL", "DML-DSL"]
    assert table.loc["DML-DSL", ("ours", "ACC")].startswith("70.0")
    theirs = paper_results(
        paper="dml", table="Table I", method="DML-DSL", dataset="mnist", metric="ACC"
    ).value.iloc[0]
    assert table.loc["DML-DSL", ("DML Table I", "ACC")] == f"{theirs:.1f}"
    assert dml.paper_rows("digits", results) == {}  # no paper reports digits
    assert "DML Table I" not in dml.table(results, "digits").columns.get_level_values(0)
    assert recipes.beside("mnist5k") == "beside the paper's"
    assert recipes.beside("digits") == "(no paper reports digits)"


def test_the_difficult_clusters_and_their_networks():
    mu = [[0.0], [10.0], [11.0], [30.0]]  # the paper's example: clusters 1, 2
    first = {m: _run(0.5, mu) for m in dml.BASES.values()}
    hard = dml.difficult(first)
    table = dml.networks_table(hard, seed=3)
    assert table.index.name == "M (seed 3)"
    assert table.loc["DSL", "networks L"] == 3
    assert table.loc["DKM", "difficult clusters"] == [1, 2]
    first["dcn"].arrays["z"] = np.zeros((2, 1))
    panels = dml.centre_panels({"dcn": first["dcn"]}, {"dcn": hard["dcn"]})
    assert list(panels) == ["DCN"] and panels["DCN"][2].tolist() == [0, 1, 1, 0]


def _studies(paper: float, code: float, committed: bool = False) -> Grids:
    versus = pd.DataFrame(
        {
            "method": ["dml-dsl", "dml-dsl"],
            "setting": ["paper", "official code"],
            "acc": [paper, code],
            "nmi": [0.2, 0.3],
        }
    )
    where = {"sweeps": "128 samples"}
    return Grids({"official code": versus}, {}, where, "now", committed)


def test_grid_studies_and_the_code_table_use_the_papers_names():
    studies = _studies(0.5, 0.4)
    named = dml.named_studies(studies)["official code"]
    assert set(named.method) == {"DML-DSL"}
    table = dml.code_table(named)
    assert table.loc["DML-DSL", ("ACC", "official code")] == 40.0
    assert table.loc["DML-DSL", ("NMI", "paper")] == 20.0
    assert dml.code_sentence(named, "here") == (
        "The official code's variant moves ACC by -10.0 points for DML-DSL (here)."
    )


VERDICT_WORDS = ("improve", "does not", "beat", "reproduce", "holds", "fails")


def test_each_dml_run_is_set_beside_its_base_without_a_verdict():
    acc = {"dcss_u": 0.5, "dml-dsl": 0.6, "dcn": 0.4, "dml-dcn": 0.3}
    acc |= {"dkm_p": 0.2, "dml-dkm": 0.2}
    networks = {"dcss_u": 3, "dcn": 1, "dkm_p": 10}
    says = dml.gain_sentences(acc, networks, seed=0)
    assert says[0] == (
        "DML-DSL (3 network(s) for seed 0) reached ACC 60.0 % against 50.0 % for "
        "DSL (+10.0 points)."
    )
    assert says[1].endswith("for DCN (-10.0 points).")
    assert says[2].endswith("(+0.0 points).")
    assert not any(w in s for s in says for w in VERDICT_WORDS)


def test_a_single_network_is_said_to_be_this_execution_and_not_dml_as_intended():
    (one,) = dml.single_network_sentences({"dcss_u": 1, "dcn": 2, "dkm_p": 2})
    assert "no cluster of DSL was difficult" in one
    assert "DML-DSL only continued training its base's autoencoder" in one
    (said,) = dml.single_network_sentences({"dcss_u": 3, "dcn": 1, "dkm_p": 1})
    assert said.startswith("In this execution no cluster of DCN and DKM was difficult")
    assert "L = 1: DML-DCN and DML-DKM only continued training their bases'" in said
    assert "DML did not run as the paper intends" in said
    assert "DSL" not in said
    assert dml.single_network_sentences({"dcn": 2, "dkm_p": 4}) == []


def _findings(studies: Grids, networks: int = 2) -> list[str]:
    run = book.start_run(profile="smoke", dataset="digits", seeds=[0], device="cpu")
    ds = data.load("digits")
    results = {n: {0: _run(0.5)} for n in dml.SHOWN}
    results["dml-dcn"] = {0: _run(0.7)}
    owner = torch.arange(ds.n_clusters).clamp(max=networks - 1)
    hard = {m: (owner, owner < networks - 1) for m in dml.BASES.values()}
    return dml.findings(run, ds, results, hard, studies)


def test_the_findings_open_with_the_ledgers_verdicts_then_the_reference():
    says = _findings(_studies(0.5, 0.5))
    ledger = verdicts.sentences("dml")
    assert len(ledger) == len(dml.RUNS)
    assert says[: len(ledger)] == ledger
    reference = recipes.reference_claims(dml.RUNS)
    assert says[len(ledger) : len(ledger) + len(reference)] == reference
    assert any("alpha held at 1000" in s for s in says)


def test_this_executions_runs_are_one_labelled_paragraph_with_no_verdict():
    says = _findings(_studies(0.5, 0.5))
    execution = says[-1]
    assert execution.startswith(
        "This execution (smoke profile, digits, n = 1,797, seed 0; K = 10;"
    )
    assert "not evidence on the claims above" in execution
    assert "DML-DCN (2 network(s) for seed 0) reached ACC 70.0 % against 50.0 %" in (
        execution
    )
    assert "This execution's DML ran 1 epoch(s) (the code: 10)" in execution
    assert not any(w in execution for w in VERDICT_WORDS)
    assert "In this execution no cluster" not in execution
    assert not any("reached ACC" in s or "This execution" in s for s in says[:-1])


def test_a_single_network_of_this_execution_is_said_in_its_paragraph():
    says = _findings(_studies(0.5, 0.5), networks=1)
    assert "In this execution no cluster of DSL, DCN and DKM was difficult" in says[-1]
    assert "DML-DSL, DML-DCN and DML-DKM only continued" in says[-1]
    assert sum("no cluster of" in s for s in says) == 1


def test_the_findings_say_nothing_from_grids_that_are_not_committed():
    says = _findings(_studies(0.5, 0.4))
    assert not any("official code" in s or "128 samples" in s for s in says)
    assert dml.grid_sentences(_studies(0.5, 0.4)) == []
    committed = _findings(_studies(0.5, 0.4, committed=True))
    assert (
        "The official code's variant moves ACC by -10.0 points for DML-DSL "
        "(128 samples, from now)."
    ) in committed
    (code,) = dml.grid_sentences(_studies(0.5, 0.4, committed=True))
    assert committed.index(code) < len(committed) - 1  # before this execution's
