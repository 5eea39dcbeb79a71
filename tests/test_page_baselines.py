"""The baselines page's sentences and helpers (``dclib.book.papers.baselines``),
on hand-built runs: what "What we find" says of k-means on raw pixels, DKM_p and
DKM_a, the quick profile's promise, DCSS Table 1, DEC's and IDEC's budgets and the
profile's caps, and the implementation details read from the configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dclib.book import recipes
from dclib.book.cache import RunResult
from dclib.book.papers import baselines
from dclib.book.profiles import Run, get_profile
from dclib.data import Dataset
from dclib.methods.baselines import DECConfig, IDECConfig
from dclib.pretrain import PretrainConfig


def _run(profile: str = "smoke", dataset: str = "mnist5k") -> Run:
    return Run(get_profile(profile), dataset, (0,), "cpu")


def _data(n: int = 40, name: str = "mnist5k") -> Dataset:
    rng = np.random.default_rng(0)
    y = np.arange(n, dtype=np.int64) % 2
    X = (rng.random((n, 4)) * 0.1 + y[:, None]).astype(np.float32)
    return Dataset(X, y, 2, None, name)


def _result(acc: float, iterations: int | None = None) -> RunResult:
    history = (
        []
        if iterations is None
        else [{"stage": "cluster", "iteration": i} for i in (1, iterations)]
    )
    return RunResult({"acc": acc}, history, {})


def test_the_floor_sentences_sort_the_runs_by_the_pixel_k_means_acc():
    acc = {"ae_kmeans": 0.6, "dec": 0.4, "dkm": 0.5}
    said = baselines.floor_sentences(0.5, acc, 1234, [0, 1])
    assert said[0] == (
        "k-means on the raw pixels of these 1,234 images reaches ACC 50.0 % "
        "(mean over the seeds 0, 1)."
    )
    assert said[1] == "Beating it: AE + k-means (MLP). Not beating it: DEC, DKM_a."
    none = baselines.floor_sentences(0.9, {"dec": 0.4}, 10, [0])
    assert none[1] == "Beating it: none. Not beating it: DEC."


def test_the_dkm_sentence_says_whether_holding_alpha_does_better():
    said = baselines.dkm_sentence({"dkm_p": 0.62, "dkm": 0.4}, 1000.0)
    assert said.startswith("DKM_p reaches ACC 62.0 %, DKM_a 40.0 %")
    assert "holding alpha at 1000 does better here" in said
    tie = baselines.dkm_sentence({"dkm_p": 0.4, "dkm": 0.4}, 1000.0)
    assert "does no better here" in tie


def test_the_quick_promise_is_said_in_the_quick_profile_only():
    cfg = recipes.config(_run("quick"), "ae_kmeans", _data())
    cfg = type(cfg)(n_clusters=2, pretrain=PretrainConfig(n_epochs=3, batch_size=256))
    assert baselines.quick_promise("smoke", 0.3, cfg, 1000) == []
    (met,) = baselines.quick_promise("quick", 0.56, cfg, 1000)
    assert met.endswith(": 56.0 %, met.")
    (missed,) = baselines.quick_promise("quick", 0.5, cfg, 1000)
    assert "50.0 %, not met: its 3 epochs of pretraining (12 Adam steps)" in missed


def test_the_quick_promise_is_met_at_the_aim_itself(monkeypatch):
    monkeypatch.setattr(baselines, "QUICK_AIM", 50.0)
    cfg = recipes.config(_run("quick"), "ae_kmeans", _data())
    (said,) = baselines.quick_promise("quick", 0.5, cfg, 1000)
    assert (
        said
        == "The quick profile aims at AE + k-means ACC of at least 50 %: 50.0 %, met."
    )


def test_below_paper_names_the_runs_under_dcss_table_1():
    columns = pd.MultiIndex.from_tuples([("ours", "ACC"), ("DCSS Table 1", "ACC")])
    table = pd.DataFrame(
        [["50.0 ± 0.0", "84.3"], ["90.0 ± 0.0", "86.0"], ["10.0 ± 0.0", "—"]],
        index=["dec", "ae_kmeans", "dkm"],
        columns=columns,
    )
    acc = {"dec": 0.5, "ae_kmeans": 0.9, "dkm": 0.1}
    (said,) = baselines.below_paper(table, acc, "mnist5k", 512, "mnist5k")
    assert said == (
        "Below DCSS Table 1's ACC on its MNIST column (the papers' whole set; ours: "
        "512 images of mnist5k): DEC, of the 2 rows it has."
    )
    assert baselines.below_paper(table[["ours"]], acc, "digits", 512, "digits") == []
    level = baselines.below_paper(table, acc | {"dec": 0.843}, "mnist5k", 1, "m")
    assert level[0].endswith(": none, of the 2 rows it has.")  # 84.3 is not below


@pytest.mark.parametrize(
    ("n_epochs", "done", "why"),
    [
        (None, 30, "its tolerance stopped it"),
        (2, 8, "all that the profile's 2 epochs allow of its 100-iteration budget"),
        (None, 100, "its whole budget"),
    ],
)
def test_budget_says_how_dec_ended(n_epochs, done, why):
    cfg = DECConfig(n_clusters=2, batch_size=256, max_iter=100, n_epochs=n_epochs)
    said = baselines.budget("dec", cfg, _result(0.5, done), 1000)  # 4 batches
    assert said == f"DEC ran {done} iterations ({why})"


def test_budgets_speak_of_dec_and_idec_on_the_first_seed():
    dec = DECConfig(n_clusters=2, max_iter=100)
    idec = IDECConfig(n_clusters=2, max_iter=100)
    configs = {"dec": dec, "idec": idec, "dcn": None}
    results = {
        "dec": {0: _result(0.5, 7), 1: _result(0.5, 100)},
        "idec": {0: _result(0.5, 100)},
        "dcn": {0: _result(0.5, 3)},
    }
    said = baselines.budgets(configs, results, 0, 1000)
    assert said == (
        "DEC ran 7 iterations (its tolerance stopped it); IDEC ran 100 iterations "
        "(its whole budget) on the first seed."
    )


def test_the_caps_are_said_in_capped_profiles_only():
    (said,) = baselines.caps_sentence(_run("smoke"), 512)
    assert "on 512 images (smoke profile)" in said
    assert _run("smoke").profile.epoch_caps in said
    assert baselines.caps_sentence(_run("paper"), 512) == []


def test_findings_say_every_part_in_order():
    run, ds = _run("smoke"), _data()
    configs = {m: recipes.config(run, m, ds) for m in baselines.RUNS}
    accs = dict(zip(baselines.RUNS, (0.9, 0.2, 0.3, 0.4, 0.5, 0.6), strict=True))
    results = {m: {0: _result(a, 2)} for m, a in accs.items()}
    table = pd.DataFrame(
        {("DCSS Table 1", "ACC"): ["86.0", "84.3", "—"]},
        index=["ae_kmeans", "dec", "dkm"],
    )
    said = baselines.findings(run, ds, results, configs, table, 0.45, [0])
    assert len(said) == 6
    assert "40 images reaches ACC 45.0 %" in said[0]
    assert said[1].startswith("Beating it: AE + k-means (MLP), DKM_a, DKM_p.")
    assert "DKM_p reaches ACC 60.0 %, DKM_a 50.0 %" in said[2]
    assert said[3].endswith("images of mnist5k): DEC, of the 2 rows it has.")
    assert said[4].startswith("DEC ran 2 iterations") and "IDEC ran 2" in said[4]
    assert "(smoke profile)" in said[5]


def test_implementation_details_read_the_configs():
    run, ds = _run("smoke"), _data(1000)
    configs = {m: recipes.config(run, m, ds) for m in baselines.RUNS}
    text = baselines.implementation_details(run, ds, configs, [0])
    assert "fully connected d-500-500-2000-10 autoencoder" in text
    assert "`max_iter` = 20,000" in text
    assert "5,000 epochs of 1,000 images at batch\n   256 (this profile: 2)" in text
    assert "$\\alpha$ = 1000\n   throughout" in text
    assert recipes.describe_data(run, ds, [0]) in text


def test_end_to_end_records_leave_out_the_greedy_layers():
    class History:
        records = [{"layer": 0, "loss": 1.0}, {"loss": 0.5}, {"loss": 0.25}]

    curves = baselines.end_to_end_records({"greedy": (None, History())})
    assert curves == {"greedy": [{"loss": 0.5}, {"loss": 0.25}]}


def test_pixel_floor_is_the_mean_acc_over_the_seeds():
    ds = _data()
    assert baselines.pixel_floor(ds, [0, 1]) == pytest.approx(1.0)
    assert baselines.pixel_floor(ds, [0]) == baselines.pixel_kmeans(ds, 0)["acc"]
