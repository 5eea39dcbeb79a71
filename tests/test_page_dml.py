"""The DML page's names, tables and "What we find" sentences
(``dclib.book.papers.dml``), on hand-made runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dclib import book, data
from dclib.book import recipes
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


def _studies(paper: float, code: float) -> Grids:
    versus = pd.DataFrame(
        {
            "method": ["dml-dsl", "dml-dsl"],
            "setting": ["paper", "official code"],
            "acc": [paper, code],
            "nmi": [0.2, 0.3],
        }
    )
    return Grids({"official code": versus}, {}, {"sweeps": "128 samples"}, "now")


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


def test_each_dml_run_is_set_beside_its_base():
    acc = {"dcss_u": 0.5, "dml-dsl": 0.6, "dcn": 0.4, "dml-dcn": 0.3}
    acc |= {"dkm_p": 0.2, "dml-dkm": 0.2}
    networks = {"dcss_u": 3, "dcn": 1, "dkm_p": 10}
    says = dml.gain_sentences(acc, networks, seed=0)
    assert says[0] == (
        "DML-DSL (3 network(s) for seed 0) reaches ACC 60.0 % against 50.0 % for "
        "DSL (+10.0 points)."
    )
    assert says[1].endswith("(-10.0 points); here DML does not improve on its base.")
    assert says[2].endswith("(+0.0 points).")
    assert dml.single_network_sentences(networks)[0].startswith("With a single")
    assert dml.single_network_sentences({"dcn": 2, "dkm_p": 4}) == []


def test_the_findings_of_a_capped_profile_state_its_budget():
    run = book.start_run(profile="smoke", dataset="digits", seeds=[0], device="cpu")
    ds = data.load("digits")
    results = {n: {0: _run(0.5)} for n in dml.SHOWN}
    results["dml-dcn"] = {0: _run(0.7)}
    eye = torch.eye(ds.n_clusters)
    hard = {m: (torch.arange(ds.n_clusters), eye[0] > 0) for m in dml.BASES.values()}
    says = dml.findings(run, ds, results, hard, _studies(0.5, 0.5))
    assert says[0].startswith("With smoke profile, digits, n = 1,797, seed 0 (K = 10")
    assert any("DML-DCN" in s and "70.0 % against 50.0 % for DCN" in s for s in says)
    assert any("alpha held at 1000" in s for s in says)
    assert not any(s.startswith("With a single network") for s in says)
    assert any("+0.0 points for DML-DSL (128 samples, from now)" in s for s in says)
    assert says[-1].startswith("DML ran 1 epoch(s) (the code: 10)")
