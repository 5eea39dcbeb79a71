"""No wrong number enters the cache: a diverged run or pretraining, damaged cache
files, writers racing on one result, a full disk and bad config values each end in
a clear error or a recomputation, never in a cached result."""

from __future__ import annotations

import dataclasses
import errno
import json
import multiprocessing
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from conftest import shrink

from dclib import storage
from dclib.book import cache
from dclib.book.cache import RunResult, cluster, run_or_load
from dclib.methods import get_method

WHERE = {"profile": "smoke", "seed": 0, "device": "cpu"}


def _files(root):
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_a_run_whose_codes_blow_up_is_an_error_and_is_not_cached(run_dirs, blobs):
    cfg = shrink("dec", epochs=2, pretrain_epochs=2, lr=1e9)
    with pytest.raises(FloatingPointError, match="diverged"):
        cluster("dec", cfg, blobs, **WHERE)
    assert _files(run_dirs / "results") == []  # no result; only the pretraining
    assert [p.name.startswith("ae-") for p in (run_dirs / "cache").iterdir()] == [True]


def test_a_diverged_pretraining_is_an_error_and_is_not_cached(run_dirs, blobs):
    cfg = shrink("ae_kmeans", pretrain_epochs=2)
    cfg = dataclasses.replace(cfg, pretrain=dataclasses.replace(cfg.pretrain, lr=1e12))
    with pytest.raises(FloatingPointError, match="pretrain.* diverged"):
        cluster("ae_kmeans", cfg, blobs, **WHERE)
    assert not (run_dirs / "cache").exists() or _files(run_dirs / "cache") == []


def test_inputs_too_large_for_float32_are_refused_before_training(blobs):
    from dclib.methods import FitContext

    fit = get_method("ae_kmeans").fit
    with pytest.raises(ValueError, match="scale the data"):
        fit(blobs.X * 1e30, shrink("ae_kmeans"), FitContext(device="cpu"))


@dataclass(frozen=True)
class Cfg:
    lr: float = 0.1


def _fit(calls):
    def fit():
        calls.append(1)
        return RunResult(
            {"acc": 0.5}, [{"epoch": 0}], {"labels": np.arange(4)}, {"w": torch.ones(2)}
        )

    return fit


@pytest.mark.parametrize("damaged", ["metrics.json", "history.jsonl", ".npz", ".pt"])
@pytest.mark.parametrize("how", ["truncated", "edited"])
def test_a_damaged_cache_file_is_named_and_the_run_recomputed(
    run_dirs, caplog, damaged, how
):
    calls = []
    where = {"dataset": "digits", "profile": "smoke", "seed": 0}
    first = run_or_load("toy", Cfg(), _fit(calls), **where)
    (path,) = [p for p in run_dirs.rglob("*") if p.name.endswith(damaged)]
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2] if how == "truncated" else blob + b" ")
    again = run_or_load("toy", Cfg(), _fit(calls), **where)
    assert len(calls) == 2 and again.metrics == first.metrics
    assert str(path) in caplog.text and "recomputing" in caplog.text
    caplog.clear()
    run_or_load("toy", Cfg(), _fit(calls), **where)  # repaired: read back
    assert len(calls) == 2 and not caplog.text


def test_a_junk_checkpoint_is_removed_and_the_run_starts_afresh(tmp_path, caplog):
    from dclib.train import fit_epochs

    ckpt = tmp_path / "run.ckpt"
    torch.save({"something": 1}, ckpt)
    X = torch.zeros(8, 2)
    seen = []
    fit_epochs(
        lambda x, idx: seen.append(len(x)) or {},
        X,
        n_epochs=1,
        batch_size=4,
        seed=0,
        checkpoint=ckpt,
    )
    assert seen == [4, 4] and str(ckpt) in caplog.text
    assert torch.load(ckpt, weights_only=True)["epoch"] == 0  # its own, now


def _write_many(target, n, tag):
    for i in range(n):
        storage.write_dir(
            target, lambda p, i=i: (p / "value.json").write_text(f'"{tag}{i}"')
        )


def test_concurrent_writers_of_one_directory_all_succeed(tmp_path):
    target = tmp_path / "result"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(target, 100, t)) for t in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    assert json.loads((target / "value.json").read_text()) in ("a99", "b99")
    assert [p.name for p in tmp_path.iterdir()] == ["result"]  # nothing left over


def test_a_full_disk_says_so_and_names_the_file(tmp_path, monkeypatch):
    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="no space left to write .*x.json"):
        storage.atomic_write(tmp_path / "x.json", full)

    def torch_full(path):
        raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos")

    with pytest.raises(OSError, match="no space left"):
        storage.atomic_write(tmp_path / "x.pt", torch_full)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("autoencoder", "bogus", "autoencoder must be one of"),
        ("batch_size", 0, "batch_size must be an integer >= 1"),
        ("latent_dim", 0, "latent_dim must be an integer >= 1"),
        ("n_clusters", 2.5, "n_clusters must be an integer >= 2"),
        ("lr", float("nan"), "lr must be a finite number > 0"),
        ("n_epochs", -1, "n_epochs must be an integer >= 0"),
    ],
)
def test_bad_config_values_are_refused_when_the_config_is_made(field, value, match):
    with pytest.raises(ValueError, match=match):
        get_method("dec").make_config(**{field: value})


BAD_INPUTS = {
    "NaN": (np.full((40, 6), np.nan, dtype=np.float32), "NaN"),
    "inf": (np.full((40, 6), np.inf, dtype=np.float32), "NaN or inf|infinity"),
    "1e30": (np.full((40, 6), 1e30, dtype=np.float32), "scale the data"),
    "3-d": (np.zeros((40, 6, 2), dtype=np.float32), "shape"),
    "strings": (np.array([["a"] * 6] * 40), "could not convert|string"),
    "one sample": (np.zeros((1, 6), dtype=np.float32), "n_clusters|sample"),
}


@pytest.mark.parametrize("bad", sorted(BAD_INPUTS))
def test_every_estimator_refuses_bad_input_with_a_clear_error(bad):
    """The probe: every estimator (DML and R-DC included) against each bad input,
    with tiny configs; each ends in an error naming the problem."""
    from test_estimators import ESTIMATORS

    X, match = BAD_INPUTS[bad]
    for est in ESTIMATORS:
        with pytest.raises(ValueError, match=match):
            est.fit(X)


def test_a_stage_whose_weights_turn_non_finite_stops_at_that_epoch(tmp_path):
    from dclib.train import fit_epochs

    net = torch.nn.Linear(2, 2)

    def step(x, idx):
        with torch.no_grad():
            net.weight[0, 0] = float("nan")
        return {}

    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(FloatingPointError, match="DEC diverged in epoch 0.*net"):
        fit_epochs(
            step,
            torch.zeros(4, 2),
            n_epochs=3,
            batch_size=2,
            seed=0,
            state={"net": net},
            checkpoint=ckpt,
            desc="DEC",
        )
    assert not ckpt.exists()  # nothing of the diverged epoch was saved


def test_an_unwritable_results_folder_is_found_before_training(run_dirs):

    cache.RESULTS_DIR.write_text("")  # a file where the folder should be
    calls = []
    with pytest.raises(PermissionError, match="cannot write to .*results"):
        run_or_load("toy", Cfg(), _fit(calls), dataset="d", profile="p", seed=0)
    assert calls == []  # refused before the fit


def test_rdc_with_fewer_samples_than_neighbours_says_so():
    from dclib.methods import FitContext, rdc

    cfg = shrink("rdc", pretrain_epochs=1)
    with pytest.raises(ValueError, match="more samples than its n_neighbours"):
        rdc.fit_rdc(np.zeros((2, 6), dtype=np.float32), cfg, FitContext(device="cpu"))


def test_command_line_errors_are_one_line(capsys):
    from dclib.cli import main

    for argv in (["run", "--bogus"], ["frob"], ["reference", "--nope"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--help" in err, err


def test_moving_the_results_keeps_the_papers_tables(run_dirs):
    from dclib.book import cache, paper_tables

    assert not (cache.RESULTS_DIR / "paper_results.csv").exists()
    assert len(paper_tables.paper_results(paper="dynae")) > 0  # read from the checkout


def test_a_dataframe_input_leaks_no_warning():
    import warnings

    import pandas as pd

    from dclib.methods._common import as_tensor

    frame = pd.DataFrame(np.random.default_rng(0).random((20, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_tensor(frame, torch.device("cpu")).shape == (20, 3)


def test_two_checkouts_sharing_one_cache_raise_no_false_alarm(
    run_dirs, monkeypatch, caplog
):
    """Each checkout has its own results folder, the run cache is shared: a second
    checkout that rewrites the cached weights (other bytes: torch.save need not
    repeat them) does not make the first one's entry look damaged."""

    where = {"dataset": "digits", "profile": "smoke", "seed": 0}
    calls = []
    run_or_load("toy", Cfg(), _fit(calls), **where)
    monkeypatch.setattr(cache, "RESULTS_DIR", run_dirs / "other-checkout")

    def other():
        calls.append(1)
        return RunResult(
            {"acc": 0.5}, [], {"labels": np.arange(4)}, {"w": torch.zeros(3)}
        )

    run_or_load("toy", Cfg(), other, **where)
    monkeypatch.setattr(cache, "RESULTS_DIR", run_dirs / "results")
    again = run_or_load("toy", Cfg(), _fit(calls), **where)
    assert len(calls) == 2 and not caplog.text
    assert torch.equal(again.weights["w"], torch.zeros(3))  # the cache's, intact
