"""The reconciliation table: the paper, the authors' log, our last iterate, our
oracle best and our k-means start, each from its own source."""

from __future__ import annotations

import json
import math

import pytest

from dclib.book import reconciliation
from dclib.book.cache import RunResult
from dclib.book.reference.store import result_path


def _commit(root, run, metrics, history):
    path = result_path(root, "full", "fmnist", run, 0)
    path.parent.mkdir(parents=True)
    record = {"seed": 0, "metrics": metrics, "history": history}
    path.write_text(json.dumps(record))


def test_oracle_best_reads_the_checks_and_skips_unlabelled_ones():
    checks = [{"stage": "checks", "acc": a} for a in (0.5, 0.61, math.nan, 0.55)]
    epochs = [{"stage": "cluster", "acc": 0.9}]
    assert reconciliation.oracle_best(RunResult({}, checks + epochs, {})) == 0.61
    assert reconciliation.oracle_best(RunResult({}, epochs, {})) == 0.9
    assert math.isnan(reconciliation.oracle_best(RunResult({}, [], {})))


def test_the_table_sets_each_source_in_its_column(tmp_path):
    checks = [{"stage": "checks", "acc": a} for a in (0.55, 0.60, 0.57)]
    _commit(tmp_path, "dynae", {"acc": 0.57}, checks)
    spread = {"kmeans_acc_mean": 0.53, "kmeans_acc_sd": 0.015}
    _commit(tmp_path, "ae_kmeans_acai", {"acc": 0.509} | spread, [])
    lines = [
        reconciliation.Line(
            "DynAE", "dynae", "ae_kmeans_acai", ("dynae:Table 3", "DynAE"), "DynAE"
        ),
        reconciliation.Line("DC*", "dc_star", "ae_kmeans_acai"),  # not committed
    ]
    t = reconciliation.table(lines, "full", "fmnist", tmp_path)
    assert list(t.index) == ["DynAE"]
    row = t.loc["DynAE"]
    assert row["paper"] == pytest.approx(59.1)
    assert row["authors' log: last"] == pytest.approx(56.55)
    assert row["ours: last iterate"] == pytest.approx(57.0)
    assert row["ours: best check (oracle)"] == pytest.approx(60.0)
    assert row["ours: k-means start, the protocol's draw"] == pytest.approx(50.9)
    assert row["ours: k-means start, 10 draws"] == "53.0 ± 1.5"


def test_a_method_without_a_released_log_has_none():
    assert reconciliation.authors_log("R-DC", "fmnist") is None
    assert reconciliation.authors_log("DynAE", "fmnist")["start"] == 55.74


def test_the_start_table_shows_each_runs_start_record_in_percent():
    start = {"stage": "start", "code_norm": 3.3, "tau": 0.74, "kmeans_acc_mean": 0.5}
    runs = {
        "DynAE": RunResult({}, [start, {"stage": "cluster", "acc": 0.4}], {}),
        "DEC*": RunResult({}, [{"stage": "cluster", "acc": 0.4}], {}),
    }
    t = reconciliation.start_table(runs)
    assert list(t.index) == ["DynAE"]
    assert t.loc["DynAE", "tau"] == pytest.approx(74.0)
    assert t.loc["DynAE", "k-means ACC mean"] == pytest.approx(50.0)
    assert "gaps ≤ beta" not in t.columns  # logged by none of them


def test_the_summary_sets_the_last_iterate_against_start_and_log(tmp_path, monkeypatch):
    _commit(tmp_path, "dynae", {"acc": 0.57}, [])
    spread = {"kmeans_acc_mean": 0.53, "kmeans_acc_sd": 0.015}
    _commit(tmp_path, "ae_kmeans_acai", {"acc": 0.509} | spread, [])
    monkeypatch.setattr(
        reconciliation,
        "table",
        lambda lines, p, d, root=tmp_path: _table(lines, p, d, tmp_path),
    )
    said = reconciliation.summary(reconciliation.PAGES["dynae"], "full", "fmnist")
    assert said == (
        "DynAE's last iterate is 57.0 %: +4.0 points from its own k-means start "
        "(53.0 ± 1.5 % over 10 draws) and +0.4 from the authors' last logged "
        "iterate (56.5 %)."
    )
    # a k-means-labelled run: its final codes' draws against the start's too
    final = {"kmeans_acc_mean": 0.55, "kmeans_acc_sd": 0.02}
    _commit(tmp_path, "rdc", {"acc": 0.60} | final, [])
    _commit(tmp_path, "ae_kmeans_rdc", {"acc": 0.51} | spread, [])
    line = reconciliation.Line("R-DC", "rdc", "ae_kmeans_rdc")
    said = reconciliation.summary([line], "full", "fmnist")
    assert said == (
        "R-DC's last iterate is 60.0 %: +7.0 points from its own k-means start "
        "(53.0 ± 1.5 % over 10 draws) and over 10 k-means draws on its final codes "
        "55.0 ± 2.0 %, +2.0 from the start's draws."
    )


_table = reconciliation.table


def test_a_page_view_is_its_summary_and_table_or_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(
        reconciliation,
        "table",
        lambda lines, p, d, root=tmp_path: _table(lines, p, d, tmp_path),
    )
    assert reconciliation.view("dynae") == ()  # nothing committed
    _commit(tmp_path, "dynae", {"acc": 0.57}, [])
    said, styled = reconciliation.view("dynae")
    assert said.startswith("DynAE's last iterate is 57.0 %")
    assert "DynAE Table 3 reconciled" in styled.to_html()
    assert "authors' log: last" in styled.to_html()  # no all-empty source rows
    assert "last iterate, 10 k-means draws" not in styled.to_html()
