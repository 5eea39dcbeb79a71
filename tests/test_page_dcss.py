"""The DCSS page's recipes: its tables and its sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dclib.book import verdicts
from dclib.book.cache import RunResult
from dclib.book.grids import Grids
from dclib.book.paper_tables import ours_vs_paper
from dclib.book.papers import dcss
from dclib.book.profiles import PROFILES, Run
from dclib.data import Dataset
from dclib.methods.dcss import DCSSConfig

AE, PHASE1, DCSS = "ae_kmeans_dcss", "dcss_u", "dcss"


def _run(dataset: str = "mnist5k", seeds: tuple[int, ...] = (0,)) -> Run:
    return Run(PROFILES["smoke"], dataset, seeds, torch.device("cpu"))


def _data(name: str = "mnist5k", n: int = 20) -> Dataset:
    return Dataset(np.zeros((n, 3), np.float32), np.arange(n) % 2, 2, None, name)


def _result(acc: float, nmi: float = 0.1, **kw) -> RunResult:
    return RunResult({"acc": acc, "nmi": nmi, "nmi_arithmetic": nmi}, [], {}, **kw)


def _by_seed(accs: dict[str, float]) -> dict[str, dict[int, RunResult]]:
    return {name: {0: _result(a)} for name, a in accs.items()}


def _table3_results(base: float, plus: float) -> dict[str, dict[int, RunResult]]:
    return _by_seed(
        {e.start: base for e in dcss.X_MNET} | {e.name: plus for e in dcss.X_MNET}
    )


def _study(values: dict[tuple[str, object], float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"method": m, "setting": s, "n": 50, "acc": a, "nmi": a / 2}
        for (m, s), a in values.items()
    )


def _sweep(settings: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"setting": settings, "acc": 0.1, "nmi": 0.1})


CFG = DCSSConfig(n_clusters=2, phase1_epochs=1, phase2_epochs=2)


def test_the_page_runs_and_table_3_bases_come_from_the_catalog():
    assert dcss.RUNS == (AE, PHASE1, DCSS)
    assert dcss.BASES == ("dec", "idec", "dcn", "dkm_p")
    assert [e.name for e in dcss.X_MNET] == [f"{b}+mnet" for b in dcss.BASES]


def test_table_rows_keep_dcss_tables_only():
    rows = dcss.table_rows("mnist5k", ["dec", "dec+mnet", DCSS])
    assert rows == {
        "dec": {"dcss:Table 1": "DEC"},  # not its DynAE Table 2 entry
        "dec+mnet": {"dcss:Table 3": "DEC+MNet"},
        DCSS: {"dcss:Table 1": "DCSS"},
    }
    assert dcss.table_rows("digits", [DCSS]) == {}


def test_table_3_puts_each_x_above_x_plus_mnet_with_the_papers_numbers():
    table = dcss.table3(_table3_results(0.3, 0.4), "mnist5k")
    assert list(table.index) == [
        "DEC",
        "DEC + MNet",
        "IDEC",
        "IDEC + MNet",
        "DCN",
        "DCN + MNet",
        "DKM_p",
        "DKM + MNet",
    ]
    assert table.loc["DEC", ("DCSS Table 1", "ACC")] == "84.3"
    assert table.loc["DEC + MNet", ("DCSS Table 3", "ACC")] == "89.1"
    assert table.loc["DEC + MNet", ("DCSS Table 1", "ACC")] == "—"
    assert table.loc["DKM + MNet", ("ours", "ACC")] == "40.0"


def test_table_1_rows_label_the_page_runs():
    results = _by_seed({AE: 0.3, PHASE1: 0.4, DCSS: 0.5})
    table = ours_vs_paper(results, dcss.table_rows("mnist5k", results), "mnist5k")
    assert table.loc[DCSS, ("DCSS Table 1", "ACC")] == "98.0"
    assert table.loc[AE, ("DCSS Table 1", "ACC")] == "86.0"


def test_table_2_names_the_runs_as_its_column_does():
    results = _by_seed({AE: 0.7, PHASE1: 0.75, DCSS: 0.8}) | _table3_results(0.6, 0.1)
    table = dcss.table2("cifar10", results)
    assert dcss.table2_setting() == "Resnet-50"
    column = "DCSS Table 2 (Resnet-50)"
    assert table.loc["AE+k-means", ("ours", "ACC")] == "70.0"
    assert table.loc["AE+k-means", (column, "ACC")] == "75.6"
    assert table.loc["DKM", ("ours", "ACC")] == "60.0"
    assert table.loc["DCSS", (column, "NMI")] == "64.2"
    assert not any("MNet" in name for name in table.index)  # Table 2 has no X + MNet


def test_without_rgb_data_the_page_says_how_to_get_table_2():
    said = dcss.no_table2("mnist5k")
    assert "this run's data (mnist5k) are not RGB images" in said
    assert "the paper's Resnet-50 column" in said


def test_the_official_code_table_compares_dcss_u_and_dcss_in_percent():
    frame = _study(
        {
            (AE, "DCSSConfig()"): 0.9,
            (PHASE1, "DCSSConfig()"): 0.2,
            (DCSS, "DCSSConfig()"): 0.5,
            (AE, "DCSSConfig.official_code()"): 0.9,
            (PHASE1, "DCSSConfig.official_code()"): 0.1,
            (DCSS, "DCSSConfig.official_code()"): 0.25,
        }
    )
    table = dcss.official_code_table(frame)
    assert list(table.columns) == [
        ("ACC", "DCSS"),
        ("ACC", "DCSS_u"),
        ("NMI", "DCSS"),
        ("NMI", "DCSS_u"),
    ]
    assert table.loc["DCSSConfig.official_code()", ("ACC", "DCSS")] == 25.0
    assert table.loc["DCSSConfig()", ("NMI", "DCSS_u")] == 10.0
    said = dcss.code_gap(frame, "the sweep data")
    assert said == (
        "On the sweep data, the official code's config changes DCSS's ACC by -25.0 "
        "points against the paper's."
    )


def test_the_networks_sentence_reads_the_stored_architectures():
    conv = {"kind": "dcss", "image_shape": [1, 28, 28], "latent_dim": 10}
    mlp = {"kind": "mlp", "in_dim": 784, "hidden": [500], "latent_dim": 20}
    first = {
        AE: _result(0.1, weights={"arch": mlp}),
        DCSS: _result(0.1, weights={"arch": conv}),
    }
    said = dcss.networks(_run(), _data(), CFG, first)
    assert "DCSS trains the dcss conv AE on 1x28x28 images, latent 10" in said
    assert "and MNet 10-128-128-128-2;" in said
    assert "AE + k-means clusters the codes of the MLP AE 784-500-20." in said
    assert said.startswith("This run (smoke profile, mnist5k, n = 20, seed 0)")


def test_the_grids_sentence_lists_each_sweep_and_the_diverged():
    studies = {k: _sweep([1.0, 2.0]) for k in ("alpha", "m", "T1", "T2")}
    studies["zeta"] = _sweep([0.5, 1.0])
    studies["official code"] = _study({(PHASE1, "DCSSConfig()"): 0.1}).assign(
        diverged=1
    )
    grids = Grids(studies, {}, {"sweeps": "S", "imbalance": "I"}, "the source")
    said = dcss.grids_sentence(grids)
    assert said.startswith("These studies come from the source. The sweeps ran on S")
    assert "T2 ∈ {1, 2}, zeta ∈ {0.5, 1} with gamma = 1 - zeta" in said
    assert "the imbalance study on I." in said
    assert "official code DCSSConfig() (DCSS_u)" in said  # diverged, labelled


VERDICT_WORDS = ("beat", "holds", "reproduc", "fails", "improves", "raises")


def test_this_execution_is_labelled_and_gives_no_verdict():
    acc = {AE: 0.3, PHASE1: 0.2, DCSS: 0.25}
    said = dcss.this_execution(_run(seeds=(0, 1)), _data(), CFG, acc)
    assert said.startswith(
        "This execution (smoke profile, 20 samples of mnist5k, mean over seeds 0, 1;"
    )
    assert "phase 1 1 of the paper's 200 epochs, adam at lr 1e-05" in said
    assert "phase 2 2 of its 20)" in said
    assert "AE + k-means ACC 30.0 %, DCSS_u 20.0 %, DCSS 25.0 %." in said
    assert not any(w in said for w in VERDICT_WORDS)
    one = dcss.this_execution(_run(), _data(), CFG, acc)
    assert one.startswith(
        "This execution (smoke profile, 20 samples of mnist5k, seed 0;"
    )


def test_the_x_mnet_sentence_gives_this_executions_numbers_without_a_verdict():
    acc = {e.start: 0.3 for e in dcss.X_MNET} | {e.name: 0.2 for e in dcss.X_MNET}
    said = dcss.x_mnet_sentence(_run(), acc | {"idec+mnet": 0.5})
    assert said.startswith("This execution's Table 3 runs (smoke profile, seed 0)")
    assert "IDEC 30.0 %, IDEC + MNet 50.0 %; DCN 30.0 %, DCN + MNet 20.0 %" in said
    assert not any(w in said for w in VERDICT_WORDS)


def test_the_reference_sentence_needs_all_three_runs_and_checks_the_order():
    phase1 = [{"stage": "pretrain"}] + [{"stage": "phase1"}] * 3
    ref = {
        AE: {0: _result(0.5)},
        PHASE1: {0: RunResult({"acc": 0.6}, phase1, {})},
        DCSS: {0: _result(0.7)},
    }
    [said] = dcss.reference_sentence(ref, "mnist5k")
    assert "(full profile, mnist5k, phase 1 at 3 of the paper's 200 epochs)" in said
    assert "orders the three as the paper does: DCSS 70.0 %, DCSS_u 60.0 %" in said
    ref[DCSS] = {0: _result(0.55)}
    assert "does not order" in dcss.reference_sentence(ref, "mnist5k")[0]
    assert dcss.reference_sentence({AE: ref[AE], DCSS: ref[DCSS]}, "x") == []


def test_the_imbalance_gap_averages_dcss_minus_ae_kmeans():
    frame = _study(
        {(AE, 0.1): 0.5, (DCSS, 0.1): 0.2, (AE, 0.5): 0.5, (DCSS, 0.5): 0.4}
        | {(PHASE1, 0.1): 0.9, (PHASE1, 0.5): 0.9}
    )
    said = dcss.imbalance_gap(frame, "the subsets")
    assert said == (
        "On the imbalanced MNIST subsets (the subsets) DCSS's ACC minus AE + "
        "k-means' averages -20.0 points over r = 0.1, 0.5."
    )


def _studies(committed: bool) -> Grids:
    code = {
        (PHASE1, "DCSSConfig()"): 0.1,
        (DCSS, "DCSSConfig()"): 0.3,
        (DCSS, "DCSSConfig.official_code()"): 0.2,
    }
    return Grids(
        {
            "imbalance": _study({(AE, 0.1): 0.5, (DCSS, 0.1): 0.5}),
            "official code": _study(code),
        },
        {},
        {"sweeps": "S", "imbalance": "I"},
        "here",
        committed=committed,
    )


def _findings(monkeypatch, committed: bool, dataset: str = "digits") -> list[str]:
    monkeypatch.setattr(dcss.verdicts, "sentences", lambda page: [f"VERDICT {page}."])
    monkeypatch.setattr(dcss.recipes, "reference_claims", lambda names: ["REF."])
    results = _by_seed({AE: 0.3, PHASE1: 0.2, DCSS: 0.25})
    x_mnet = _table3_results(0.3, 0.2)
    run, ds = _run(dataset), _data(dataset)
    return dcss.findings(run, ds, CFG, results, x_mnet, _studies(committed))


def test_the_findings_open_with_the_ledger_then_the_reference(monkeypatch):
    said = _findings(monkeypatch, committed=False)
    assert said[:2] == ["VERDICT dcss.", "REF."]
    assert said[2].startswith("This execution (smoke profile, 20 samples of digits")
    assert said[3].startswith("This execution's Table 3 runs")
    monkeypatch.undo()
    results = _by_seed({AE: 0.3, PHASE1: 0.2, DCSS: 0.25})
    real = dcss.findings(
        _run(), _data(), CFG, results, _table3_results(0.3, 0.2), _studies(False)
    )
    ledger = verdicts.sentences("dcss")
    assert ledger and real[: len(ledger)] == ledger


def test_findings_say_nothing_from_grids_the_reference_does_not_hold(monkeypatch):
    said = _findings(monkeypatch, committed=False)
    assert len(said) == 4  # no committed reference for digits, no grid
    text = " ".join(said)
    assert "imbalanced" not in text and "official code" not in text
    assert "(I)" not in text and "On S" not in text


def test_findings_quote_the_committed_grids(monkeypatch):
    said = _findings(monkeypatch, committed=True)
    assert len(said) == 6
    assert said[-2].startswith("On the imbalanced MNIST subsets (the committed ")
    assert said[-2].endswith("averages +0.0 points over r = 0.1.")
    assert said[-1].startswith("On the committed reference, S, the official code's")
    assert "by -10.0 points" in said[-1]


def test_findings_keep_the_committed_reference_sentence(monkeypatch):
    phase1 = [{"stage": "phase1"}] * 2
    ref = {
        AE: {0: _result(0.5)},
        PHASE1: {0: RunResult({"acc": 0.6}, phase1, {})},
        DCSS: {0: _result(0.7)},
    }
    monkeypatch.setattr(dcss.store, "results", lambda profile, dataset, names: ref)
    said = _findings(monkeypatch, committed=False, dataset="mnist5k")
    assert said[2].startswith("The committed reference (full profile, mnist5k")
    assert said[3].startswith("This execution (")
