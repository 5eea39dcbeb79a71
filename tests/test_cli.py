"""The command line: ``dclib execute`` refuses what a page does not take before any
cell runs, ``dclib run`` writes what the library call writes, and the exit status
says which of success (0), failure (1) or bad usage (2) happened."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import dclib
from dclib import book, cli, data
from dclib.book import cache, executor, params, recipes
from dclib.methods import REGISTRY
from dclib.methods.baselines import DECConfig

PAGES = executor.toc_notebooks()

ILL_TYPED = {"profile": "3", "dataset": "[1]", "seeds": "abc", "device": "None"}
"""a value of the wrong type for each parameter every page takes"""

QUICK_RUN = ["--dataset", "blobs", "--profile", "smoke"]
"""``dclib run`` options of a run that takes a second or two"""


def status(argv: Sequence[str]) -> int:
    """The exit status of ``dclib argv``, run in this process."""
    try:
        cli.main(argv)
    except SystemExit as stop:
        return stop.code
    return 0


@pytest.fixture
def executed(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    """``executor.execute`` recording (page, parameters) instead of running; papermill
    refusing to run at all: nothing can be written under book/_executed."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(stem: str, parameters: dict[str, Any], **kwargs: Any) -> bool:
        calls.append((stem, parameters))
        return False

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("papermill was asked to run a notebook")

    monkeypatch.setattr(executor, "execute", record)
    monkeypatch.setattr("papermill.execute_notebook", refuse)
    return calls


def test_version(capsys):
    assert status(["--version"]) == 0
    expected = importlib.metadata.version("dclib")
    assert capsys.readouterr().out == f"dclib {expected}\n"
    assert expected == dclib.__version__


def test_every_page_declares_the_shared_parameters():
    for stem in PAGES:
        declared = executor.page_parameters(stem)
        assert set(executor.PAGE_PARAMETERS) <= set(declared), stem
        shared = {k: v for k, v in declared.items() if k in executor.PAGE_PARAMETERS}
        assert shared == executor.PAGE_PARAMETERS, stem


@pytest.mark.parametrize("stem", PAGES)
def test_an_unknown_parameter_is_refused_before_any_cell(stem, executed, capsys):
    assert status(["execute", stem, "-p", "seed", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dclib execute: {stem} has no parameter 'seed'")
    for name in executor.PAGE_PARAMETERS:
        assert name in err
    assert "Traceback" not in err and executed == []


@pytest.mark.parametrize("stem", PAGES)
@pytest.mark.parametrize(("name", "value"), ILL_TYPED.items())
def test_an_ill_typed_parameter_is_refused_before_any_cell(
    stem, name, value, executed, capsys
):
    assert status(["execute", stem, "--profile", "smoke", "-p", name, value]) == 2
    err = capsys.readouterr().err
    assert f"{stem}: parameter {name!r}: expected " in err
    assert f"got {params.parse(value)!r}" in err and "its parameters: profile" in err
    assert "Traceback" not in err and executed == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-p", "dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["-p", "seeds", "[0, -1]"], "seed must be an integer"),
        (["--profile", "fast"], "unknown profile 'fast'"),
        (["nope"], "not in _toc.yml: ['nope']"),
        (["--jobs", "0"], "--jobs must be at least 1, got 0"),
    ],
)
def test_a_bad_value_or_page_is_refused_before_any_cell(
    argv, message, executed, capsys
):
    assert status(["execute", "03_dcss", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and executed == []


def test_parameters_reach_the_pages_read_as_literals(executed):
    argv = ["execute", "03_dcss", "05_dml", "--profile", "quick"]
    argv += ["-p", "profile", "smoke", "-p", "seeds", "[1, 2]", "-p", "dataset", "None"]
    assert status(argv) == 0
    expected = {"profile": "smoke", "seeds": [1, 2], "dataset": None}
    assert executed == [("03_dcss", expected), ("05_dml", expected)]


def test_execute_without_pages_runs_the_book_or_only(executed):
    assert status(["execute", "--profile", "smoke"]) == 0
    assert executed == [(stem, {"profile": "smoke"}) for stem in PAGES]
    executed.clear()
    assert status(["execute", "--only", "01_baselines", "-p", "seeds", "3"]) == 0
    assert executed == [("01_baselines", {"profile": "quick", "seeds": 3})]


def test_a_page_parameter_of_its_own_takes_the_type_of_its_default(tmp_path):
    (tmp_path / "notebooks").mkdir()
    source = '# %% tags=["parameters"]\nprofile = "quick"\nrate = 0.5  # a ratio\n'
    (tmp_path / "notebooks" / "page.py").write_text(source)
    assert executor.page_parameters("page", tmp_path) == {"profile": str, "rate": float}
    executor.check_parameters("page", {"rate": 1}, tmp_path)
    with pytest.raises(ValueError, match="'rate': expected float, got 'high'"):
        executor.check_parameters("page", {"rate": "high"}, tmp_path)


def test_a_failing_page_exits_1_with_a_short_message(monkeypatch, capsys):
    from papermill.exceptions import PapermillExecutionError

    def fail(stem: str, parameters: dict[str, Any], **kwargs: Any) -> bool:
        raise PapermillExecutionError(3, 3, "x = 1", "ValueError", "bad seed", [])

    monkeypatch.setattr(executor, "execute", fail)
    assert status(["execute", "00_getting_started", "--profile", "smoke"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dclib execute: cell In [3] raised ValueError: bad seed")
    assert "Traceback" not in err


def _written(method: str, dataset: str, profile: str, seed: int) -> dict[str, Any]:
    """The config, metrics and labels that the run cache holds for a run."""
    where = cache.run_dir(method, dataset, profile, seed)
    config = json.loads((where / "config.json").read_text())
    with np.load(cache.CACHE_DIR / f"{config['key']}.npz") as arrays:
        labels = arrays["labels"]
    metrics = json.loads((where / "metrics.json").read_text())
    return {"key": config["key"], "metrics": metrics, "labels": labels}


def test_run_writes_what_the_library_call_writes(run_dirs, monkeypatch, capsys):
    argv = ["run", "ae_kmeans", *QUICK_RUN, "--seed", "1", "--set", "n_init=2"]
    assert status(argv) == 0
    out = capsys.readouterr().out
    name = "ae_kmeans-n_init=2"
    ours = _written(name, "blobs", "smoke", 1)

    # the same run by the library, into an empty results directory and cache
    monkeypatch.setattr(cache, "RESULTS_DIR", run_dirs / "library" / "results")
    monkeypatch.setattr(cache, "CACHE_DIR", run_dirs / "library" / "cache")
    run = book.start_run(profile="smoke", dataset="blobs", seeds=[1])
    ds = run.load()
    cfg = dataclasses.replace(recipes.config(run, "ae_kmeans", ds), n_init=2)
    cache.cluster(  # a run on the page's data logs the atlas (recipes.runs_of)
        "ae_kmeans", cfg, ds, profile="smoke", seed=1, tag="-n_init=2", atlas=True
    )
    theirs = _written(name, "blobs", "smoke", 1)

    assert ours["key"] == theirs["key"] and ours["metrics"] == theirs["metrics"]
    np.testing.assert_array_equal(ours["labels"], theirs["labels"])
    m = ours["metrics"]
    scores = f"ACC {m['acc']:.4f}  NMI {m['nmi']:.4f}  ARI {m['ari']:.4f}"
    where = run_dirs / "results" / name / "blobs" / "smoke" / "seed=1"
    assert (
        out == f"{name} on blobs (smoke profile, seed 1): {scores}\nresult: {where}\n"
    )


def test_a_failing_run_exits_1_with_a_short_message(run_dirs, monkeypatch, capsys):
    def boom(*args: Any) -> None:
        raise RuntimeError("boom")

    record = dataclasses.replace(REGISTRY["ae_kmeans"], fit=boom)
    monkeypatch.setitem(REGISTRY, "ae_kmeans", record)
    assert status(["run", "ae_kmeans", *QUICK_RUN]) == 1
    err = capsys.readouterr().err
    assert err == "dclib run: RuntimeError: boom\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required"),
        (["run"], "name a METHOD"),
        (["run", "nope"], "unknown method 'nope'"),
        (["run", "mnet"], "mnet continues a trained model"),
        (["run", "dec", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["run", "dec", "--profile", "fast"], "unknown profile 'fast'"),
        (["run", "dec", "--seed", "x"], "invalid int value: 'x'"),
        (["run", "dec", "--seed", "-1"], "seed must be an integer"),
        (["run", "dec", *QUICK_RUN, "--set", "n_epoch=1"], "no field 'n_epoch'"),
        (["run", "dec", *QUICK_RUN, "--set", "n_epochs=x"], "expected int | None"),
        (["run", "dec", *QUICK_RUN, "--set", "n_epochs"], "FIELD=VALUE"),
        (["run", "dec", *QUICK_RUN, "--set", "pretrain.x=1"], "its fields: n_epochs"),
        (["execute", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_usage_exits_2_without_a_traceback(run_dirs, argv, message, capsys):
    assert status(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (run_dirs / "results").exists()  # nothing ran


def test_run_list_names_every_method_and_dataset(capsys):
    assert status(["run", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    for name, method in REGISTRY.items():
        assert method.summary in rows[name]
        assert ("needs a trained start" in rows[name]) == method.needs_start
    for name in data.DATASETS:
        assert rows[name].endswith("offline") == (name in data.OFFLINE)
    assert set(data.OFFLINE) <= set(data.DATASETS)


def test_set_fields_reads_each_value_by_the_fields_type():
    cfg, values = params.set_fields(
        DECConfig(),
        {"hidden": "[64, 32]", "lr": "1", "pretrain.n_epochs": "3", "alpha": "2.5"},
    )
    assert cfg.hidden == (64, 32) and cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.pretrain.n_epochs == 3 and cfg.alpha == 2.5
    assert values == {
        "hidden": (64, 32),
        "lr": 1.0,
        "pretrain.n_epochs": 3,
        "alpha": 2.5,
    }
    for text in ("True", "'3'", "1.5"):
        with pytest.raises(ValueError, match="n_init: expected int"):
            params.set_fields(DECConfig(), {"n_init": text})


def test_parse_reads_literals_and_keeps_text():
    assert [params.parse(t) for t in ("3", "None", "[0, 1]", "True", "0.5")] == [
        3,
        None,
        [0, 1],
        True,
        0.5,
    ]
    assert [params.parse(t) for t in ("mnist5k", "cuda:0", "2mnist")] == [
        "mnist5k",
        "cuda:0",
        "2mnist",
    ]


def test_run_in_bf16_is_a_run_of_its_own(run_dirs, capsys):
    assert status(["run", "ae_kmeans", *QUICK_RUN]) == 0
    assert status(["run", "ae_kmeans", *QUICK_RUN, "--precision", "bf16"]) == 0
    fp32 = _written("ae_kmeans", "blobs", "smoke", 0)
    bf16 = _written("ae_kmeans-precision=bf16", "blobs", "smoke", 0)
    assert fp32["key"] != bf16["key"]  # neither is read back as the other
    assert "ae_kmeans-precision=bf16 on blobs" in capsys.readouterr().out
    assert status(["run", "ae_kmeans", *QUICK_RUN, "--precision", "fp16"]) == 2
