"""The cross-paper leaderboard: rows, shared networks, paper numbers, claims, the
label-selection gap, records and ``dclib scoreboard``, on hand-made runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dclib import cli, diagnostics
from dclib.book import leaderboard
from dclib.book.cache import RunResult
from dclib.book.paper_tables import paper_results
from dclib.methods import REGISTRY
from dclib.models import ConvAutoencoder, MLPAutoencoder, MultiAutoencoder


def _run(acc: float, pretrain_loss: float = 1.0, curve=(), nmi: float = 0.5):
    history = [{"stage": "pretrain", "epoch": 0, "loss": pretrain_loss, "seconds": 2.0}]
    history += [
        {"stage": "cluster", "epoch": i, "acc": a, "seconds": 1.0}
        for i, a in enumerate(curve)
    ]
    metrics = {"acc": acc, "nmi": nmi, "nmi_arithmetic": nmi, "ari": 0.3}
    return RunResult(metrics, history, {})


def test_every_registered_method_has_a_row():
    runs = [e.run or e.name for e in leaderboard.ENTRIES]
    assert all(any(r.startswith(m) for r in runs) for m in REGISTRY)
    assert len({e.name for e in leaderboard.ENTRIES}) == len(leaderboard.ENTRIES)


def test_the_oracle_gap_is_the_best_monitored_epoch_of_the_last_stage_over_the_last():
    run = _run(0.6, curve=(0.5, 0.7, 0.6))
    assert leaderboard.oracle_gap(run) == pytest.approx(10.0)
    assert leaderboard.oracle_gap(_run(0.6)) is None  # no monitored curve
    pre = RunResult({"acc": 0.5}, [{"stage": "pretrain", "acc": 0.9}], {})
    assert leaderboard.oracle_gap(pre) is None  # pretraining is not a clustering stage


def test_rows_that_share_a_pretraining_share_a_network_and_its_kmeans():
    results = {
        "ae_kmeans": {0: _run(0.50), 1: _run(0.52)},
        "dkm_p": {0: _run(0.60), 1: _run(0.64)},
        "dec": {0: _run(0.70, pretrain_loss=2.0)},  # another pretraining
        "dkm_p+mnet": {0: _run(0.66)},  # continues DKM_p: its network
    }
    nets = {n: leaderboard.network_id(n, results) for n in results}
    assert nets["ae_kmeans"] == nets["dkm_p"] == nets["dkm_p+mnet"] != nets["dec"]
    board = leaderboard.table(results, "mnist5k", "test protocol")
    assert list(board.index) == ["AE + k-means (MLP)", "DEC", "DKM_p", "DKM + MNet"]
    assert board.loc["DKM_p", "ACC"] == "62.0 ± 2.0"
    assert board.loc["DKM_p", "k-means on it"] == "51.0"
    assert board.loc["DKM_p", "clustering adds"] == "+11.0"
    assert board.loc["DEC", "k-means on it"] == "—"  # no k-means row on its network
    assert board.loc["AE + k-means (MLP)", "clustering adds"] == "—"
    paper = paper_results(
        paper="dcss", table="Table 1", method="DKM", dataset="mnist5k"
    )
    expected = float(paper[paper["metric"] == "ACC"]["value"].iloc[0])
    assert board.loc["DKM_p", "paper ACC"] == f"{expected:.1f}"
    # two seeds (60, 64): the mean difference with its 95 % t interval,
    # t(0.975, 1) = 12.706 times the std 2.828 over sqrt(2): 25.4 points each side
    d = 62.0 - expected
    assert board.loc["DKM_p", "ours − paper (ACC)"] == (
        f"{d:+.1f} [{d - 25.4:+.1f}, {d + 25.4:+.1f}]"
    )
    assert board.loc["DEC", "ours − paper (ACC)"].count("[") == 0  # one seed
    assert board.loc["DKM_p", "train s/seed"] == "2"
    assert (board["our protocol"] == "test protocol").all()
    shown, (scores, rest) = leaderboard.compared(board), leaderboard.details(board)
    assert list(shown.columns) == list(leaderboard.COMPARED)
    parts = [set(shown.columns), set(scores.columns), set(rest.columns)]
    texts = {"our protocol", "paper's table"}
    assert set.union(*parts, texts) == set(board.columns)
    assert sum(map(len, parts)) == len(set.union(*parts))  # no column twice


def test_a_dataset_no_paper_reports_has_empty_paper_columns():
    board = leaderboard.table({"dec": {0: _run(0.7)}}, "digits", "p")
    assert board.loc["DEC", "paper ACC"] == "—"


def test_verdicts_check_each_claimed_ordering_that_has_both_runs():
    results = {
        "dcss": {0: _run(0.70)},
        "dcss_u": {0: _run(0.75)},
        "ae_kmeans_dcss": {0: _run(0.60)},
    }
    claims = leaderboard.orderings(results).set_index("claim")
    assert list(claims.index) == [
        "DCSS > DCSS_u",
        "DCSS_u > AE + k-means (DCSS conv AE)",
    ]
    assert list(claims["same order here"]) == ["no", "yes"]
    assert claims.loc["DCSS > DCSS_u", "ours (ACC)"] == "70.0 vs 75.0"


def test_records_are_the_highest_acc_of_the_papers_tables():
    top = leaderboard.records(["mnist"], top=3)
    acc = paper_results(dataset="mnist", metric="ACC")
    scale = (
        acc["note"].astype(str).str.startswith("fraction").map({True: 100, False: 1})
    )
    best = (acc["value"].astype(float) * scale).max()
    assert len(top) == 3 and float(top["ACC"].iloc[0]) == pytest.approx(best, abs=0.05)
    assert list(top["ACC"].astype(float)) == sorted(top["ACC"].astype(float))[::-1]
    assert top["method"].is_unique


def test_published_records_name_their_source_and_protocol():
    found = leaderboard.published(["fmnist"])
    n2d = found[found["method"].str.startswith("N2D")].iloc[0]
    assert (n2d["ACC"], n2d["NMI"]) == (67.2, 68.4)  # the figures the issue cites
    assert "1908.05968" in n2d["source"] and n2d["checkpoint"].startswith("label-free")
    assert leaderboard.published(["usps"]).empty


def _write_run(root, name, dataset, profile, seed, acc):
    folder = root / name / dataset / profile / f"seed={seed}"
    folder.mkdir(parents=True)
    run = _run(acc, curve=(acc,))
    (folder / "metrics.json").write_text(json.dumps(run.metrics))
    (folder / "history.jsonl").write_text("\n".join(map(json.dumps, run.history)))


def test_scoreboard_prints_the_runs_on_disk(tmp_path, monkeypatch, capsys):
    _write_run(tmp_path, "dec", "mnist5k", "quick", 0, 0.7)
    _write_run(tmp_path, "dec_acai", "mnist5k", "quick", 0, 0.6)  # DEC*'s run name
    monkeypatch.setattr(leaderboard, "RESULTS_DIR", tmp_path)
    found = leaderboard.from_results("quick", "mnist5k", tmp_path)
    assert set(found) == {"dec", "dec_star"}
    assert cli_status(["scoreboard", "--csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("method,page,ACC") and len(out) == 3
    assert cli_status(["scoreboard"]) == 0
    assert "== mnist5k, profile quick ==" in capsys.readouterr().out
    assert cli_status(["scoreboard", "--dataset", "fmnist"]) == 2
    assert "no results on disk" in capsys.readouterr().err


def cli_status(argv) -> int:
    try:
        cli.main(argv)
    except SystemExit as stop:
        return stop.code
    return 0


def test_one_protocol_diagnostics_are_cosines_of_known_gradients():
    torch.manual_seed(0)
    model = MLPAutoencoder(6, 3, (8,))
    y = np.repeat([0, 1], 20)
    shift = np.where(y[:, None] == 0, 3.0, -3.0)  # two separated classes
    X = torch.randn(40, 6) + torch.as_tensor(shift, dtype=torch.float32)
    same = diagnostics.one_protocol(model, X, y, y)  # predicted = true labels
    assert same["fr"] == pytest.approx(1.0, abs=1e-6)
    swapped = diagnostics.one_protocol(model, X, 1 - y, y)  # clusters renamed
    assert swapped == pytest.approx(same)
    alternating = np.tile([0, 1], 20)  # clusters that ignore the classes
    assert diagnostics.one_protocol(model, X, alternating, y)["fr"] < 0.7
    assert -1.0 <= same["fd"] <= 1.0


def test_an_atlas_point_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    y = np.repeat([0, 1], 20)
    model = ConvAutoencoder((1, 28, 28), 4, kind="dcss")  # with batch norm
    X = torch.randn(40, 1, 28, 28)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    point = diagnostics.atlas_point(model.train(), X, y, y)
    assert model.training  # measured in eval mode, then restored
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k])  # batch-norm statistics untouched
    assert point["fr"] == pytest.approx(1.0, abs=1e-4)  # float32 sums
    assert set(point) == {"fr", "fd", "id", "lid", "twist"}
    nets = [MLPAutoencoder(6, 3, (8,)), MLPAutoencoder(6, 3, (8,))]
    several = MultiAutoencoder(nets, torch.tensor([0, 1]))
    point = diagnostics.atlas_point(several, torch.randn(40, 6), y, y)
    assert np.isnan(point["fr"]) and np.isnan(point["fd"]) and point["lid"] >= 1


def _atlas_run(acc, accs, pretrain_loss=1.0):
    run = _run(acc, pretrain_loss=pretrain_loss)
    run.history += [
        {"stage": "cluster", "epoch": i, "acc": a}
        | {f"atlas_{k}": a + j for j, k in enumerate(leaderboard.ATLAS_KEYS)}
        for i, a in enumerate(accs)
    ]
    return run


def test_the_atlas_follows_each_run_from_its_pretraining_to_its_end():
    results = {
        "ae_kmeans": {0: _atlas_run(0.5, [0.5])},
        "dkm_p": {0: _atlas_run(0.7, [0.6, 0.65, 0.7])},  # same pretraining
        "dkm_p+mnet": {0: _atlas_run(0.8, [0.75, 0.8], pretrain_loss=2.0)},
        "dec": {0: _run(0.6, curve=(0.6,))},  # logged no atlas
    }
    found = leaderboard.atlas(results)
    curves = dict(list(found.groupby("method", sort=False)))
    assert list(curves) == ["AE + k-means (MLP)", "DKM_p", "DKM + MNet"]
    assert curves["DKM_p"]["fr"].tolist() == [0.5, 0.6, 0.65, 0.7]  # k-means first
    assert curves["DKM_p"]["lid"].tolist() == pytest.approx([3.5, 3.6, 3.65, 3.7])
    mnet = curves["DKM + MNet"]  # continues DKM_p: its whole curve, then its own
    assert mnet["acc"].tolist() == pytest.approx([50, 60, 65, 70, 75, 80])
    assert mnet["progress"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1])
    assert mnet["final acc"].tolist() == pytest.approx([80.0] * 6)
    assert curves["AE + k-means (MLP)"]["progress"].tolist() == [0.0]


def test_the_atlas_ends_with_each_runs_last_point_nan_included():
    results = {
        "ae_kmeans": {0: _atlas_run(0.5, [0.5])},
        "dcn": {0: _atlas_run(0.6, [0.55, 0.6])},
    }
    results["dcn"][0].history[-1]["atlas_fr"] = float("nan")  # e.g. DML's Δ_FR
    end = leaderboard.atlas_end(leaderboard.atlas(results))
    assert np.isnan(end.loc["DCN", "fr"]) and end.loc["DCN", "fd"] == 1.6
    assert end.loc["DCN", "final acc"] == pytest.approx(60.0)
    assert list(end.columns) == ["final acc", *leaderboard.ATLAS_KEYS]
