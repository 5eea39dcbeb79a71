"""The DSSL page's recipes: its table rows and its "What we find" sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from dclib.book import verdicts
from dclib.book.cache import RunResult
from dclib.book.grids import Grids
from dclib.book.paper_tables import ours_vs_paper
from dclib.book.papers import dssl
from dclib.book.profiles import PROFILES, Run
from dclib.data import Dataset
from dclib.methods.dssl import DSSLConfig


def _run(dataset: str = "mnist5k", seeds: tuple[int, ...] = (0,)) -> Run:
    return Run(PROFILES["smoke"], dataset, seeds, torch.device("cpu"))


def _data(name: str = "mnist5k", n: int = 20) -> Dataset:
    y = np.arange(n) % 2
    return Dataset(np.zeros((n, 3), np.float32), y, 2, None, name)


def _result(acc: float, nmi: float = 0.1) -> RunResult:
    return RunResult({"acc": acc, "nmi": nmi, "nmi_arithmetic": nmi}, [], {})


def _results(ae: float, own: float) -> dict[str, dict[int, RunResult]]:
    return {"ae_kmeans_dssl": {0: _result(ae)}, "dssl": {0: _result(own)}}


def _imbalance(ae: list[float], own: list[float]) -> pd.DataFrame:
    rates = (0.1, 0.2, 0.3)
    rows = [
        {"method": m, "setting": r, "n": 50, "acc": a, "nmi": 0.0}
        for m, accs in (("ae_kmeans_dssl", ae), ("dssl", own))
        for r, a in zip(rates, accs, strict=True)
    ]
    return pd.DataFrame(rows)


def _sweep(settings: list[float], accs: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"setting": settings, "acc": accs, "nmi": accs})


def test_the_page_compares_dssl_with_the_authors_baselines():
    assert dssl.RUNS == ("ae_kmeans_dssl", "dssl")
    assert dssl.COMPARED == ("dec", "idec", "dcn", "dkm_p")
    assert set(dssl.REFERENCE) == {*dssl.RUNS, *dssl.COMPARED, "ae_kmeans"}


def test_table_rows_name_every_run_as_dssl_table_i_does():
    rows = dssl.table_rows("mnist5k", ["dkm_p", "ae_kmeans_dssl", "dssl", "dec"])
    assert rows == {
        "dkm_p": {"dssl:Table I": "DKM"},
        "ae_kmeans_dssl": {"dssl:Table I": "AE + k-means"},
        "dssl": {"dssl:Table I": "DSSL"},
        "dec": {"dssl:Table I": "DEC"},
    }
    assert dssl.table_rows("digits", ["dssl"]) == {}  # no paper reports digits


def test_table_rows_give_dssl_table_i_numbers_only():
    results = {"dec": {0: _result(0.5)}, "dssl": {0: _result(0.6)}}
    table = ours_vs_paper(results, dssl.table_rows("mnist5k", results), "mnist5k")
    headings = {h for h, _ in table.columns}
    assert headings == {"ours", "DSSL Table I"}  # no DCSS or DynAE column
    assert table.loc["dec", ("DSSL Table I", "ACC")] == "84.3"
    assert table.loc["dssl", ("DSSL Table I", "ACC")] == "92.2"


def test_this_execution_is_labelled_and_gives_no_verdict():
    cfg = DSSLConfig(n_clusters=2, n_epochs=3)
    won = dssl.this_execution(_run(), _data(), cfg, _results(0.25, 0.5))
    assert won.startswith(
        "This execution (smoke profile, 20 samples of mnist5k, seed 0;"
    )
    assert "3 epoch(s) of SGD" in won
    assert "where the paper runs 100 and the official code 200)" in won
    assert "DSSL ACC 50.0 %, AE + k-means on the same autoencoder 25.0 %." in won
    lost = dssl.this_execution(_run(seeds=(0, 1)), _data(), cfg, _results(0.5, 0.25))
    assert "mean over seeds 0, 1" in lost and "DSSL ACC 25.0 %" in lost
    for said in (won, lost):
        assert not any(w in said for w in ("beat", "holds", "reproduc", "fails"))


def test_the_imbalance_gain_averages_dssl_minus_ae_kmeans():
    frame = _imbalance([0.5, 0.5, 0.5], [0.6, 0.5, 0.7])
    said = dssl.imbalance_gain(frame, "mnist5k, n = 50")
    assert "(mnist5k, n = 50)" in said
    assert "averages +10.0 points over r = 0.1, 0.2, 0.3" in said
    assert "(the paper: +5.6 on the full MNIST)" in said
    worse = dssl.imbalance_gain(_imbalance([0.5] * 3, [0.2] * 3), "x")
    assert "averages -30.0 points" in worse


def test_the_best_settings_are_the_argmax_of_each_sweep():
    studies = {
        "zeta": _sweep([0.0, 0.1, 1.0], [0.2, math.nan, 0.4]),  # a diverged row
        "T": _sweep([1, 2], [0.5, 0.3]),
        "m": _sweep([1.1, 1.5, 1.7], [0.1, 0.1, 0.9]),
        "imbalance": _imbalance([0.9] * 3, [0.9] * 3),
    }
    said = dssl.best_settings(studies, "mnist5k-sweep")
    assert "the best ACC comes at zeta = 1, T = 1 and m = 1.7" in said
    assert "(the paper's defaults: zeta = 0.1, T = 2, m = 1.5)" in said


def _studies(committed: bool) -> Grids:
    return Grids(
        {
            "zeta": _sweep([0.1, 7.0], [0.3, 0.4]),
            "T": _sweep([2], [0.3]),
            "m": _sweep([1.5], [0.3]),
            "imbalance": _imbalance([0.5] * 3, [0.6] * 3),
        },
        {},
        {"sweeps": "the sweep data", "imbalance": "the imbalance data"},
        "here",
        committed=committed,
    )


def _findings(monkeypatch, committed: bool, dataset: str = "mnist5k") -> list[str]:
    monkeypatch.setattr(dssl.verdicts, "sentences", lambda page: [f"VERDICT {page}."])
    monkeypatch.setattr(dssl.recipes, "reference_claims", lambda names: ["REF."])
    cfg = DSSLConfig(n_clusters=2)
    run, ds = _run(dataset), _data(dataset)
    return dssl.findings(run, ds, cfg, _results(0.2, 0.3), _studies(committed))


def test_the_findings_open_with_the_ledger_then_the_reference(monkeypatch):
    said = _findings(monkeypatch, committed=False)
    assert said[:2] == ["VERDICT dssl.", "REF."]
    assert said[2].startswith("This execution (smoke profile")
    real = dssl.findings(
        _run(), _data(), DSSLConfig(n_clusters=2), _results(0.2, 0.3), _studies(False)
    )
    ledger = verdicts.sentences("dssl")
    assert ledger and real[: len(ledger)] == ledger


def test_findings_say_nothing_from_grids_the_reference_does_not_hold(monkeypatch):
    said = _findings(monkeypatch, committed=False)
    assert len(said) == 3
    text = " ".join(said)
    for quoted in ("imbalanced", "sensitivity", "zeta = 7", "the sweep data"):
        assert quoted not in text
    digits = _findings(monkeypatch, committed=False, dataset="digits")
    assert len(digits) == 3 and not any("paper reports" in s for s in digits)


def test_findings_quote_the_committed_grids(monkeypatch):
    said = _findings(monkeypatch, committed=True)
    assert len(said) == 5
    assert said[3].startswith("On the imbalanced MNIST subsets (the committed ")
    assert "reference, the imbalance data) DSSL's ACC minus" in said[3]
    assert "averages +10.0 points" in said[3]
    assert "(the committed reference, the sweep data)" in said[4]
    assert "zeta = 7" in said[4]


def test_the_studies_sentence_names_the_source_and_the_diverged():
    frame = _imbalance([0.5] * 3, [0.5] * 3).assign(diverged=[0, 0, 0, 0, 1, 0])
    studies = Grids({"imbalance": frame}, {}, {"sweeps": "S"}, "the source")
    said = dssl.studies_sentence(studies)
    assert said.startswith("These studies come from the source; they ran on S.")
    assert said.endswith("in the figures): imbalance 0.2 (DSSL).")
    quiet = Grids({"imbalance": frame.assign(diverged=0)}, {}, {"sweeps": "S"}, "X")
    assert dssl.studies_sentence(quiet) == "These studies come from X; they ran on S."
