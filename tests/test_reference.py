"""The reference runner through submitit's local executor, as ``make reference`` runs
it: the provenance a job writes, a job killed mid-run (SIGKILL) resuming to the same
metrics, a failing job that does not stop the others; and the pages' reading of the
committed results (``recipes.reference_tables``)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import signal
import subprocess
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from dclib import functional as Fn
from dclib.book import profiles, recipes, report
from dclib.book.cache import RunResult, source_hash
from dclib.book.paper_tables import paper_results
from dclib.book.papers import baselines, dcss, dml, dssl, dynae, rdc
from dclib.book.profiles import start_run
from dclib.book.reference import runner as reference
from dclib.book.reference import store
from dclib.methods import get_method

JOB = reference.Job("baseline", "blobs", 0, {"method": "dec"})
"""a smoke-size job of several checkpointed stages (greedy layers, fine-tuning, DEC)"""


@pytest.fixture
def job_env(tmp_path, monkeypatch):
    """The subprocesses submitit starts get one thread and a run cache of their own
    (``$DCLIB_CACHE`` is read when a job's process imports dclib)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")

    def cache(name: str) -> Path:
        monkeypatch.setenv("DCLIB_CACHE", str(tmp_path / name))
        return tmp_path / name

    return cache


def _epochs_done(progress: Path) -> int:
    """The epochs a running job's progress file reports (0 before it exists)."""
    return json.loads(progress.read_text())["epoch"] if progress.exists() else 0


def _record(root: Path, run: str = "dec", dataset: str = "blobs") -> dict:
    path = store.result_path(root, "smoke", dataset, run, 0)
    return json.loads(path.read_text())


def test_a_smoke_job_through_submitit_writes_its_provenance(tmp_path, job_env):
    job_env("cache")
    root = tmp_path / "results"
    job = reference.Job("baseline", "blobs", 0, {"method": "ae_kmeans"})
    status = reference.run_plan([job], "smoke", root=root, device="cpu", log=print)
    assert status == {job.name: "done"}
    rec = _record(root, "ae_kmeans")
    p = rec["provenance"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert p["git_commit"].removesuffix("+dirty") == head
    assert p["dclib_source"] == source_hash()
    assert p["profile"] == "smoke" and p["torch"] == torch.__version__
    assert p["device"].startswith("CPU")
    assert datetime.datetime.fromisoformat(p["date"]).tzinfo is not None
    assert p["job_wall_seconds"] > 0
    assert p["command"] == f"dclib reference --profile smoke --only {job.name}"
    assert rec["n_samples"] == 512 and rec["seed"] == 0
    assert re.fullmatch("[0-9a-f]{16}", rec["labels_sha256"])
    assert set(rec["epochs"]) == {"pretrain", "cluster"}
    assert 0.0 <= rec["metrics"]["acc"] <= 1.0
    assert rec["config"]["n_clusters"] == 4
    # a finished job is skipped, its result untouched
    again = reference.run_plan([job], "smoke", root=root, device="cpu", log=print)
    assert again == {job.name: "skipped"}
    assert _record(root, "ae_kmeans") == rec


def test_a_job_killed_mid_run_resumes_to_the_same_metrics(tmp_path, job_env):
    job_env("cache-uninterrupted")
    clean_root = tmp_path / "clean"
    assert reference.run_plan([JOB], "smoke", root=clean_root, device="cpu") == {
        JOB.name: "done"
    }

    job_env("cache-killed")
    root = tmp_path / "killed"
    logs = root / "reference" / "smoke" / ".submitit"
    logs.mkdir(parents=True)
    progress = logs / f"{JOB.name}.progress.json"
    os.environ[reference.PROGRESS_ENV] = str(progress)
    try:
        ex = reference.make_executor("local", logs)
        handle = ex.submit(reference.run_job, JOB, "smoke", "cpu", str(root))
        deadline = time.monotonic() + 120
        seen = 0  # epochs ended before the kill: a checkpoint to resume from
        while seen < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
            seen = _epochs_done(progress)
        os.kill(int(handle.job_id), signal.SIGKILL)  # kill -9, mid-run
        while not handle.done():
            time.sleep(0.05)
    finally:
        del os.environ[reference.PROGRESS_ENV]
    assert seen >= 1
    assert not reference.finished(JOB, "smoke", root), "the job ended before the kill"
    assert handle.state != "COMPLETED"

    status = reference.run_plan([JOB], "smoke", root=root, device="cpu")
    assert status == {JOB.name: "done"}
    resumed, clean = _record(root), _record(clean_root)
    assert resumed["metrics"] == clean["metrics"]
    assert resumed["labels_sha256"] == clean["labels_sha256"]
    assert resumed["epochs"] == clean["epochs"]


@dataclasses.dataclass
class _Cfg:
    n_clusters: int = 3


def test_each_run_is_written_when_it_ends_and_a_rerun_does_only_the_rest(
    tmp_path, monkeypatch
):
    job = reference.Job("dynae", "blobs", 0)
    names = reference.run_names(job)
    assert names == ("ae_kmeans_acai", "dynae", "dec_star", "idec_star", "dc_star")
    result = RunResult(
        {"acc": 0.5},
        [{"stage": "cluster", "seconds": 2.0, "monitor_seconds": 0.5}],
        {"labels": np.zeros(5, dtype=np.int64)},
    )
    asked = []

    def runs(job, run, todo):
        asked.append(list(todo))
        for name in todo:
            if name == "dec_star" and len(asked) == 1:
                raise RuntimeError("the session ended")
            yield name, result, _Cfg()

    monkeypatch.setattr(reference, "_runs_of_job", runs)
    with pytest.raises(RuntimeError, match="session ended"):
        reference.run_job(job, "smoke", "cpu", str(tmp_path))
    assert _record(tmp_path, "dynae")["job"] == job.name
    assert _record(tmp_path, "dynae")["train_seconds"] == 2.0
    assert _record(tmp_path, "dynae")["monitor_seconds"] == 0.5
    assert not reference.finished(job, "smoke", tmp_path)
    written = reference.run_job(job, "smoke", "cpu", str(tmp_path))
    assert asked[1] == ["dec_star", "idec_star", "dc_star"]
    assert [Path(p).parent.name for p in written] == asked[1]
    assert reference.finished(job, "smoke", tmp_path)
    assert reference.run_job(job, "smoke", "cpu", str(tmp_path)) == []
    assert asked[2] == [], "a finished job asks for no run"


def test_every_job_of_the_plan_yields_its_run_names_in_order(monkeypatch):

    result = types.SimpleNamespace()

    def fake(*keys):
        return lambda *a: {k: result for k in keys}

    def chosen(run, ds, seed, names, *second):
        return dict.fromkeys(names, result)

    monkeypatch.setattr(baselines, "runs", chosen)
    monkeypatch.setattr(dynae, "runs", chosen)
    monkeypatch.setattr(rdc, "runs", chosen)
    monkeypatch.setattr(dssl, "runs", fake(*dssl.RUNS))
    monkeypatch.setattr(dcss, "runs", fake(*dcss.RUNS))
    monkeypatch.setattr(
        dml, "runs", lambda r, d, base, s: {dml.BASES[base]: 0, f"dml-{base}": 0}
    )
    for job in reference.plan("smoke"):
        if job.recipe == "grids":
            continue
        run = start_run(profile="smoke", dataset=job.dataset, device="cpu")
        names = reference.run_names(job)
        got = [n for n, _, _ in reference._runs_of_job(job, run, names)]
        assert got == list(names), job.name
        rest = [n for n, _, _ in reference._runs_of_job(job, run, names[1:])]
        assert rest == list(names[1:]), job.name
    with pytest.raises(ValueError, match="unknown recipe"):
        reference.run_names(reference.Job("nope", "blobs", 0))


def test_the_progress_line_names_a_stage_from_its_start(tmp_path, monkeypatch):
    from dclib.train import fit_epochs

    progress = tmp_path / f"{JOB.name}.progress.json"
    monkeypatch.setenv(reference.PROGRESS_ENV, str(progress))
    lines = []

    def step(x, idx):
        lines.append(reference._progress(tmp_path, JOB))
        return {"loss": 0.0}

    fit_epochs(step, torch.zeros(8, 2), n_epochs=2, batch_size=8, seed=0, desc="R-DC")
    assert lines[0] == "R-DC epoch 0/2, stage ETA after its first epoch"
    assert lines[1].startswith("R-DC epoch 1/2, stage ETA ")
    assert "first" not in lines[1]


def test_a_failing_job_is_reported_and_the_others_finish(tmp_path, job_env):
    job_env("cache")
    root = tmp_path / "results"
    bad = reference.Job("baseline", "blobs", 0, {"method": "no_such_method"})
    good = reference.Job("baseline", "blobs", 0, {"method": "ae_kmeans"})
    lines: list[str] = []
    status = reference.run_plan(
        [bad, good], "smoke", root=root, device="cpu", log=lines.append
    )
    assert status[good.name] == "done"
    assert (
        status[bad.name].startswith("failed") and "no_such_method" in status[bad.name]
    )
    assert any(line.startswith(f"FAILED {bad.name}") for line in lines)
    assert _record(root, "ae_kmeans")["metrics"]["acc"] > 0
    assert not (root / "reference" / "smoke" / "blobs" / "no_such_method").exists()
    with pytest.raises(SystemExit) as usage:
        reference.main(["--profile", "smoke", "--only", "no-such-job"])
    assert usage.value.code == 2


def _fake_result(root: Path, run: str, acc: float) -> None:
    """A committed result as ``run_job`` writes it (fmnist, full profile, seed 0)."""
    path = store.result_path(root, "full", "fmnist", run, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {"acc": acc, "nmi": acc - 0.1, "nmi_arithmetic": acc - 0.05, "ari": 0.3}
    rec = {
        "job": f"baseline-{run}-fmnist-seed0",
        "run": run,
        "n_samples": 70000,
        "seed": 0,
        "metrics": metrics,
        "history": [{"stage": "pretrain"}, {"stage": "cluster"}],
        "epochs": {"pretrain": 1, "cluster": 1},
        "train_seconds": 3600.0,
        "monitor_seconds": 125.0,  # the provenance's train time counts it
        "provenance": {
            "git_commit": "0123456789abcdef",
            "device": "CPU x86_64",
            "date": "2026-12-02T08:00:44+00:00",
        },
    }
    path.write_text(json.dumps(rec))


def test_pages_read_the_committed_reference_beside_the_paper(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    assert recipes.reference_tables(["dec"]) == {}
    _fake_result(tmp_path, "dec", 0.512)
    _fake_result(tmp_path, "ae_kmeans_dcss", 0.4)  # not one of the page's runs
    tables = recipes.reference_tables(["dec", "dkm_p"])
    assert list(tables) == [("full", "fmnist")]
    table, where = tables["full", "fmnist"]
    assert list(table.index) == ["DEC"] and list(where.index) == ["DEC"]
    # a page that needs its own run (DEC + MNet) shows no baseline alone
    assert recipes.reference_tables(["dec", "dec+mnet"], needs=["dec+mnet"]) == {}
    assert table.loc["DEC", ("reference (full)", "ACC")].startswith("51.2")
    theirs = paper_results(
        paper="dcss", table="Table 1", method="DEC", dataset="fmnist", metric="ACC"
    ).value.iloc[0]
    assert table.loc["DEC", ("DCSS Table 1", "ACC")] == f"{theirs:.1f}"
    assert where.loc["DEC", "n"] == "70,000"
    assert where.loc["DEC", "train time"] == "1h02m"
    assert where.loc["DEC", "commit"] == "0123456789ab"
    shown = report.reference_section("DCSS Table 1", ["dec"])
    assert len(shown) == 2 and "DCSS Table 1" in shown[0].caption
    assert shown[1].summary.startswith("Where the DCSS Table 1 reference numbers")
    assert "0123456789ab" in shown[1]._repr_html_()  # the provenance, folded


def test_pages_say_how_far_the_committed_reference_is_from_the_paper(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    assert recipes.reference_claims(["dec"]) == []
    _fake_result(tmp_path, "dec", 0.512)
    _fake_result(tmp_path, "dcn", 0.6)
    theirs = {
        m: paper_results(
            paper="dcss", table="Table 1", method=m, dataset="fmnist", metric="ACC"
        ).value.iloc[0]
        for m in ("DEC", "DCN")
    }
    (said,) = recipes.reference_claims(["dec", "dcn"])
    assert said.startswith(
        "In the committed reference (profile full, fmnist, seed 0), ACC beside "
        f"DCSS Table 1: DEC 51.2 % (paper {theirs['DEC']:.1f} %, "
        f"{51.2 - theirs['DEC']:+.1f} points); DCN 60.0 %"
    )
    assert f"{60.0 - theirs['DCN']:+.1f} points). Beside DynAE Table 2: DEC" in said


def test_the_full_plan_caps_only_what_a_cpu_cannot_do_and_records_the_cap(tmp_path):
    jobs = {j.name: j for j in reference.plan("full")}
    capped = {n: j.pretrain_cap for n, j in jobs.items() if j.pretrain_cap}
    assert capped == {
        "baseline-dec-fmnist-seed0": 50,
        "baseline-idec-fmnist-seed0": 50,
        "baseline-ae_kmeans-fmnist-seed0": 50,
        "dynae-fmnist-seed0": 50,
        "grids-dynae-gamma-mnist5k-seed0": 50,  # the ledger's grids: their page's
        "dcss-dec-fmnist-seed0": 50,  # X + MNet: X's pretraining
        "dcss-idec-fmnist-seed0": 50,
    }
    stages = {n: j.clustering_cap for n, j in jobs.items() if j.clustering_cap}
    assert stages == {
        "baseline-dkm_p-fmnist-seed0": 50,
        "baseline-dkm-fmnist-seed0": 50,
        "dcss-mnist5k-seed0": 50,
        "dml-dsl-mnist5k-seed0": 50,  # DML-DSL starts from the DCSS job's DCSS_u
        "dynae-fmnist-seed0": 30,
        "rdc-fmnist-seed0": 40,
        "grids-dcss-zeta-mnist5k-seed0": 50,
        "grids-dynae-gamma-mnist5k-seed0": 30,
        "grids-rdc-alpha-mnist5k-seed0": 40,
        "grids-rdc-beta-mnist5k-seed0": 40,
        "dcss-dkm_p-fmnist-seed0": 50,  # binding DKM_p alone, not phase 2
    }
    x = jobs["dcss-dkm_p-fmnist-seed0"]
    assert reference.run_names(x) == ("dkm_p+mnet",)
    assert (x.stage_cap("dkm_p"), x.stage_cap("dkm_p+mnet")) == (50, None)
    dsl = jobs["dml-dsl-mnist5k-seed0"]
    assert (dsl.stage_cap("dcss_u"), dsl.stage_cap("dml-dsl")) == (50, None)
    assert reference.run_names(jobs["dml-dcn-mnist5k-seed0"]) == ("dcn", "dml-dcn")
    rdc = jobs["rdc-fmnist-seed0"]
    # R-DC alone: k-means and DEC (P1 & P3, P1 & P2 & P3) end by their own rules
    assert [rdc.stage_cap(n) for n in reference.run_names(rdc)] == [
        None,
        40,
        None,
        None,
    ]
    dynae = jobs["dynae-fmnist-seed0"]
    assert [dynae.stage_cap(n) for n in reference.run_names(dynae)] == [
        None,  # AE + k-means
        30,  # DynAE: past the authors' log (7,840 iterations)
        None,  # DEC* and IDEC* end by their own rules
        None,
        30,  # DC*: its stop rule never fires; MaxIter is 365 epochs of 70k
    ]
    paper = reference.plan("paper")
    assert not any(j.pretrain_cap or j.clustering_cap for j in paper)
    for name, caps in (("dec", {"pretrain_cap": 50}), ("dkm", {"clustering_cap": 50})):
        _fake_result(tmp_path, name, 0.5)
        path = store.result_path(tmp_path, "full", "fmnist", name, 0)
        path.write_text(json.dumps(json.loads(path.read_text()) | caps))
    _fake_result(tmp_path, "dcn", 0.5)
    names = ["dec", "dkm", "dcn"]
    where = store.provenance_table("full", "fmnist", names, tmp_path)
    assert where.loc["dec", "CPU cap"] == "pretraining ≤ 50 epochs"
    assert where.loc["dkm", "CPU cap"] == "clustering ≤ 50 epochs per stage"
    assert where.loc["dcn", "CPU cap"] == "none"


def test_a_clustering_cap_spares_pretraining_and_ignores_the_page_budgets():
    full = dataclasses.replace(profiles.get_profile("full"), clustering_epochs=50)
    cfg = full.cap_epochs(
        get_method("dcss").make_config(n_clusters=10), recipes.BUDGETS["dcss"]
    )
    assert (cfg.phase1_epochs, cfg.phase2_epochs) == (50, 20)
    assert cfg.pretrain.n_epochs == get_method("dcss").make_config().pretrain.n_epochs
    quick = profiles.get_profile("quick").cap_epochs(cfg, recipes.BUDGETS["dcss"])
    assert quick.phase1_epochs == recipes.BUDGETS["dcss"]["phase1_epochs"]


def test_a_capped_job_runs_at_its_caps_and_records_them(tmp_path, job_env, monkeypatch):
    job_env("cache")
    seen = []
    real = reference._records_of_job

    def spy(job, run, todo):
        seen.append(run.profile.cap_epochs(recipes.config(run, "dec", run.load())))
        return real(job, run, todo)

    monkeypatch.setattr(reference, "_records_of_job", spy)
    job = reference.Job("baseline", "blobs", 0, {"method": "dec"}, 1, 1)
    reference.run_job(job, "smoke", "cpu", str(tmp_path))
    assert seen[0].pretrain.n_epochs == 1 and seen[0].n_epochs == 1
    assert _record(tmp_path)["pretrain_cap"] == 1
    assert _record(tmp_path)["clustering_cap"] == 1
    layers = len(seen[0].hidden) + 1  # greedy: one epoch per layer pair, then one
    assert _record(tmp_path)["epochs"]["pretrain"] == layers + 1


def test_a_cap_on_named_runs_binds_those_runs_alone(tmp_path, monkeypatch):
    seen = {}

    def fake_runs(run, ds, seed, names):
        (key,) = names
        seen[key] = run.profile.clustering_epochs
        history = [{"stage": "cluster", "seconds": 1.0}]
        return {key: RunResult({"acc": 0.5}, history, {"labels": np.zeros(4, int)})}

    monkeypatch.setattr(dynae, "runs", fake_runs)
    job = reference.Job("dynae", "blobs", 0, {}, None, 3, ("dc_star",))
    reference.run_job(job, "smoke", "cpu", str(tmp_path))
    assert seen == {k: 3 if k == "dc_star" else None for k in dynae.RUNS}
    assert _record(tmp_path, "dc_star")["clustering_cap"] == 3
    assert _record(tmp_path, "dynae")["clustering_cap"] is None


def test_learning_curves_read_the_reference_history(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    assert recipes.reference_curves(["dec"], "fmnist", "cluster") == {}
    _fake_result(tmp_path, "dec", 0.5)
    curves = recipes.reference_curves(["dec"], "fmnist", "cluster")
    assert curves == {"DEC (reference, full)": [{"stage": "cluster"}]}
    assert recipes.reference_curves(["dec"], "mnist5k", "cluster") == {}
    anywhere = recipes.reference_curves(["dec"], None, "cluster")
    assert list(anywhere) == ["DEC (reference, full, fmnist)"]


def test_committed_curves_say_so_when_none_is_committed(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(report, "display", shown.append)
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    assert report.committed_curves(["dec"], "cluster") == {}
    assert [m.data for m in shown] == [report.NOT_COMMITTED]
    _fake_result(tmp_path, "dec", 0.5)
    assert list(report.committed_curves(["dec"], "cluster")) == [
        "DEC (reference, full, fmnist)"
    ]
    assert len(shown) == 1


def test_a_capped_dkm_a_reference_is_said_to_be_truncated(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    _fake_result(tmp_path, "dkm", 0.33)
    path = store.result_path(tmp_path, "full", "fmnist", "dkm", 0)
    rec = json.loads(path.read_text())
    alphas = Fn.dkm_alphas(40)
    rec["history"] = [
        {"stage": "cluster", "alpha": a} for a in alphas[:3] for _ in "ab"
    ]
    path.write_text(json.dumps(rec))
    (said,) = baselines.annealing_cut()
    assert "value 3 of the schedule's 40" in said and "DKM_a" in said
    rec["history"] = [{"stage": "cluster", "alpha": a} for a in alphas]
    path.write_text(json.dumps(rec))
    assert baselines.annealing_cut() == []


def test_first_seed_is_the_lowest_seed_whatever_the_order():
    a, b = (RunResult({"acc": v}, [], {}) for v in (0.1, 0.2))
    assert store.first_seed({2: a, 0: b}) is b


def test_later_seeds_of_a_shared_network_cluster_on_seed_zeros(tmp_path, monkeypatch):
    """R-DC's and the MLP baselines' seeds 1 and 2 start from seed 0's committed
    network (``jobs.SHARED_NETWORKS``); DynAE's and the conv autoencoders' seeds
    pretrain their own."""
    from dclib.book.papers import rdc

    jobs = {j.name: j for j in reference.plan("full", [0, 1])}
    assert jobs["rdc-fmnist-seed1"].pretrain_seed == 0
    assert jobs["baseline-dec-fmnist-seed1"].pretrain_seed == 0
    assert jobs["rdc-fmnist-seed0"].pretrain_seed is None
    assert jobs["dynae-fmnist-seed1"].pretrain_seed is None
    assert jobs["dcss-mnist5k-seed1"].pretrain_seed is None
    seen = {}

    def fake_runs(run, ds, seed, names, second=None):
        (key,) = names
        seen[key] = (seed, run.profile.pretrain_seed)
        history = [{"stage": "cluster", "seconds": 1.0}]
        return {key: RunResult({"acc": 0.5}, history, {"labels": np.zeros(4, int)})}

    monkeypatch.setattr(rdc, "runs", fake_runs)
    job = reference.Job("rdc", "blobs", 1, pretrain_seed=0)
    reference.run_job(job, "smoke", "cpu", str(tmp_path))
    assert set(seen.values()) == {(1, 0)}


def test_x_mnet_continues_x_at_xs_own_caps(monkeypatch):
    """DCSS Table 3's job: X at the baselines job's caps (so the run cache shares
    it), then DCSS phase 2 from X's trained network."""
    import functools

    import dclib

    calls = []

    def fake_runs_of(run, method, cfg, ds, seed, tag="", **kw):
        calls.append((method, tag, run.profile.clustering_epochs, "start" in kw))
        return RunResult({"acc": 0.5}, [], {"labels": np.zeros(4, int)})

    monkeypatch.setattr(recipes, "runs_of", fake_runs_of)
    monkeypatch.setattr(dcss, "trained_start", lambda result: "X's network")
    job = {j.name: j for j in reference.plan("full")}["dcss-dkm_p-fmnist-seed0"]
    run = reference._capped(start_run(profile="full", dataset="blobs"), job)
    at = functools.partial(reference._capped, run, job)
    ds = dclib.load("blobs")
    ((name, _, cfg),) = dcss.reference_runs(at, ds, 0, ["dkm_p+mnet"], base="dkm_p")
    assert name == "dkm_p+mnet" and type(cfg).__name__ == "DCSSConfig"
    assert calls == [("dkm_p", "", 50, False), ("mnet", "-dkm_p", None, True)]
