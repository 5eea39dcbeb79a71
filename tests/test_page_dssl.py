"""The DSSL page's recipes: its table rows and its "What we find" sentences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

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


def test_the_headline_says_whether_dssl_beats_ae_kmeans():
    cfg = DSSLConfig(n_clusters=2, n_epochs=3)
    won = dssl.headline(_run(), _data(), cfg, _results(0.25, 0.5))
    assert "DSSL reaches ACC 50.0 % and beats AE + k-means" in won
    assert "(25.0 %)" in won and "after 3 epoch(s) of SGD" in won
    assert "(the paper: 100 epochs; the official code: 200)" in won
    assert "20 samples, smoke profile, seed 0)" in won
    lost = dssl.headline(_run(seeds=(0, 1)), _data(), cfg, _results(0.5, 0.25))
    assert "and does not beat AE + k-means" in lost
    assert "mean over seeds 0, 1" in lost


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


def test_the_findings_set_the_paper_beside_a_reported_dataset_only():
    studies = Grids(
        {
            "zeta": _sweep([0.1], [0.3]),
            "T": _sweep([2], [0.3]),
            "m": _sweep([1.5], [0.3]),
            "imbalance": _imbalance([0.5] * 3, [0.5] * 3),
        },
        {},
        {"sweeps": "the sweep data", "imbalance": "the imbalance data"},
        "here",
    )
    cfg = DSSLConfig(n_clusters=2)
    said = dssl.findings(_run(), _data(), cfg, _results(0.2, 0.3), studies)
    assert len(said) == 4
    assert said[1].startswith("The paper reports ACC 92.2 % for DSSL on the full")
    assert said[1].endswith("20 samples of mnist5k.")
    assert "(the imbalance data)" in said[2] and "(the sweep data)" in said[3]
    digits = dssl.findings(
        _run("digits"), _data("digits"), cfg, _results(0.2, 0.3), studies
    )
    assert len(digits) == 3 and not any("paper reports" in s for s in digits)


def test_the_studies_sentence_names_the_source_and_the_diverged():
    frame = _imbalance([0.5] * 3, [0.5] * 3).assign(diverged=[0, 0, 0, 0, 1, 0])
    studies = Grids({"imbalance": frame}, {}, {"sweeps": "S"}, "the source")
    said = dssl.studies_sentence(studies)
    assert said.startswith("These studies come from the source; they ran on S.")
    assert said.endswith("in the figures): imbalance 0.2 (DSSL).")
    quiet = Grids({"imbalance": frame.assign(diverged=0)}, {}, {"sweeps": "S"}, "X")
    assert dssl.studies_sentence(quiet) == "These studies come from X; they ran on S."
