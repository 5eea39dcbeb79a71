from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from dclib.book.profiles import PROFILES, start_run
from dclib.pretrain import PretrainConfig


@pytest.mark.parametrize("cuda", [False, True])
def test_auto_device_is_cuda_exactly_when_cuda_is_available(monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: int(cuda))
    expected = torch.device("cuda" if cuda else "cpu")
    assert start_run(profile="smoke", dataset="digits").device == expected
    assert start_run(profile="smoke", device="auto").device == expected
    assert start_run(profile="smoke", device="cpu").device == torch.device("cpu")
    if cuda:
        assert start_run(profile="smoke", device="cuda").device == expected


def test_cuda_on_a_machine_without_cuda_raises_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("cuda", "cuda:0"):
        with pytest.raises(ValueError, match=f"device '{name}' asked for, but CUDA"):
            start_run(profile="smoke", device=name)


def test_a_missing_cuda_index_raises(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="only 1 CUDA device"):
        start_run(profile="smoke", device="cuda:1")


def test_start_run_validates_and_caps_data():
    run = start_run(profile="smoke", dataset="digits", seeds=3)
    ds = run.load()
    assert len(ds) == PROFILES["smoke"].n_samples
    assert "`smoke`" in run.describe() and "`digits`" in run.describe()


def test_quick_profile_keeps_all_data():
    assert len(start_run(profile="quick", dataset="digits", seeds=[0]).load()) == 1797


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"profile": "fast"}, "profile"),
        ({"dataset": "imagenet"}, "dataset"),
        ({"seeds": -1}, "seed"),
        ({"seeds": "0"}, "seed"),
        ({"seeds": True}, "seed"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, match):
    params = {"profile": "smoke", "dataset": "digits", "seeds": 0, "device": "auto"}
    with pytest.raises(ValueError, match=match):
        start_run(**(params | kwargs))


def test_seeds_default_to_the_profile_and_validate():
    assert start_run(profile="quick").seeds == PROFILES["quick"].seeds
    assert start_run(profile="paper").dataset == "fmnist"
    assert start_run(profile="smoke", seeds=[3, 4]).seed == 3
    assert start_run(profile="smoke", seeds=3).seeds == (3,)
    for bad in ([], "01", [0, -2], [1.5]):
        with pytest.raises(ValueError, match="seed"):
            start_run(profile="smoke", seeds=bad)


def test_cap_epochs_reaches_nested_configs_and_nothing_else():
    from dclib.methods.baselines import DECConfig

    quick = PROFILES["quick"]
    cfg = quick.cap_epochs(DECConfig())
    assert cfg.n_epochs == quick.max_epochs and cfg.pretrain.n_epochs == 25
    assert cfg.max_iter == DECConfig().max_iter
    assert cfg.update_interval == DECConfig().update_interval
    assert cfg.pretrain.greedy_dropout == 0.2 and cfg.lr == DECConfig().lr
    assert PROFILES["paper"].cap_epochs(DECConfig()) == DECConfig()
    assert PROFILES["smoke"].cap_epochs(DECConfig()).pretrain.n_epochs == 2


def test_pretraining_has_its_own_cap_defaulting_to_max_epochs():
    from dclib.methods.baselines import DCNConfig

    quick, smoke = PROFILES["quick"], PROFILES["smoke"]
    assert quick.pretrain_epochs > quick.max_epochs and smoke.pretrain_epochs is None
    cfg = quick.cap_epochs(DCNConfig())  # the paper: 50 pretraining epochs
    assert (cfg.n_epochs, cfg.pretrain.n_epochs) == (10, min(50, quick.pretrain_epochs))
    capped = dataclasses.replace(quick, pretrain_epochs=7)
    assert capped.cap_epochs(DCNConfig()).pretrain.n_epochs == 7
    assert capped.cap_epochs(PretrainConfig(n_epochs=200)).n_epochs == 7
    assert smoke.cap_epochs(PretrainConfig(n_epochs=200)).n_epochs == smoke.max_epochs


def test_dec_epochs_none_is_capped_to_the_profiles_max_epochs():
    from dclib.methods.baselines import DECConfig

    assert DECConfig().n_epochs is None  # as many as max_iter iterations take
    smoke = PROFILES["smoke"].cap_epochs(DECConfig())
    assert smoke.n_epochs == PROFILES["smoke"].max_epochs == 2
    assert smoke.epochs_for(70_000) == 2
    assert PROFILES["paper"].cap_epochs(DECConfig()).n_epochs is None
    assert PROFILES["smoke"].cap_epochs(DECConfig(n_epochs=1)).n_epochs == 1


def test_tighter_caps_apply_to_named_fields_only_when_the_profile_caps():
    from dclib.methods.dcss import DCSSConfig

    cfg = PROFILES["quick"].cap_epochs(DCSSConfig(), {"phase1_epochs": 2})
    assert (cfg.phase1_epochs, cfg.phase2_epochs, cfg.pretrain.n_epochs) == (2, 10, 25)
    assert PROFILES["paper"].cap_epochs(DCSSConfig(), {"phase1_epochs": 2}) == (
        DCSSConfig()
    )


def test_quick_seeds_share_one_pretrained_autoencoder():
    from dclib.methods import FitContext
    from dclib.methods._common import pretrained
    from dclib.methods.baselines import DECConfig

    cfg = PROFILES["quick"].cap_epochs(DECConfig())
    assert cfg.pretrain.seed == 0 and PROFILES["paper"].pretrain_seed is None
    tiny = DECConfig(hidden=(8,), latent_dim=2)
    X = torch.rand(32, 5)
    for pre, same in (
        (PretrainConfig(n_epochs=1, seed=0), True),
        (PretrainConfig(n_epochs=1), False),
    ):
        c = dataclasses.replace(tiny, pretrain=pre)
        a, _ = pretrained(X, c, FitContext(seed=1, device="cpu"))
        b, _ = pretrained(X, c, FitContext(seed=2, device="cpu"))
        pairs = zip(a.parameters(), b.parameters(), strict=True)
        assert all(torch.equal(p, q) for p, q in pairs) == same


INTRO = Path(__file__).resolve().parents[1] / "book" / "intro.md"
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?!\w)")


def _intro_profile_table() -> dict[str, dict[str, str]]:
    """The intro's profile table: profile -> column -> cell."""
    section = INTRO.read_text().split("\n## Profiles", 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.match(r"`(\w+)`", cells[0])
        assert name, line
        rows[name.group(1)] = dict(zip(header[1:], cells[1:], strict=True))
    return rows


def _numbers(text: str) -> set[int]:
    return {int(n.replace(",", "")) for n in NUMBER.findall(text)}


def _budget_caps(profile) -> tuple[set[int], set[int]]:
    """The epochs that ``profile`` and the pages' budgets give the K-step stages
    (DSSL, DCSS phase 1, DML) and DCSS phase 2, from the configs that run."""
    from dclib.book.recipes import BUDGETS
    from dclib.methods import get_method

    k_step, phase2 = set(), set()
    for method, budget in BUDGETS.items():
        cfg = get_method(method).make_config(n_clusters=10)
        cfg = profile.cap_epochs(cfg, budget)
        for name in budget:
            (phase2 if name == "phase2_epochs" else k_step).add(getattr(cfg, name))
    return k_step, phase2


def test_the_intros_profile_table_states_what_the_code_runs():
    """Every number of the intro's profile table comes from the code (profiles,
    the pages' budgets, grids' smoke scale, the reference runner's CPU caps), and
    every number that matters is stated, so a change to them breaks this test
    rather than leaving the text stale."""
    from dclib.book import catalog
    from dclib.book.reference import jobs

    table = _intro_profile_table()
    assert set(table) == set(PROFILES)
    smoke, quick, full, paper = (
        PROFILES[n] for n in ("smoke", "quick", "full", "paper")
    )
    k_smoke, p2_smoke = _budget_caps(smoke)
    k_quick, p2_quick = _budget_caps(quick)
    assert p2_smoke <= {smoke.max_epochs}  # "at most 2 per stage" covers phase 2
    cpu_caps = {e.cpu_pretrain_cap for e in catalog.RUNS} | {
        e.cpu_clustering_cap for e in catalog.RUNS
    }
    # profile -> column -> the numbers it must state (and may only state)
    expected = {
        "smoke": {
            "data": {smoke.n_samples, smoke.sweep_samples},
            "epochs": {smoke.max_epochs} | k_smoke,
            "seeds": set(smoke.seeds),
        },
        "quick": {
            # grids rerun at smoke scale (grids.page_grids), not quick's sweeps
            "data": {smoke.sweep_samples, smoke.max_epochs},
            "epochs": {quick.pretrain_epochs, quick.max_epochs} | k_quick | p2_quick,
            # the example `-p seeds [0, 1]`
            "seeds": set(quick.seeds) | {quick.pretrain_seed, 0, 1},
        },
        "full": {
            "data": set(),
            "epochs": cpu_caps - {None},
            "seeds": set(full.seeds) | {0},  # seed 0's network (SHARED_NETWORKS)
        },
        "paper": {"data": set(), "epochs": set(), "seeds": set(paper.seeds)},
    }
    for name, columns in expected.items():
        row = table[name]
        for column, numbers in columns.items():
            assert _numbers(row[column]) == numbers, (name, column, row[column])
        for column in ("time", "for"):
            assert not _numbers(row[column]), (name, column, row[column])
    assert smoke.pretrain_seed is None and paper.pretrain_seed is None
    assert "each seed pretrains its own" in table["smoke"]["seeds"]
    assert "each seed pretrains its own" in table["paper"]["seeds"]
    assert quick.n_samples is None and "whole" in table["quick"]["data"]
    assert full.max_epochs is None and table["full"]["epochs"].startswith("the papers'")
    assert paper.max_epochs is None and table["paper"]["epochs"] == "the papers'"
    for profile in (quick, full, paper):
        assert f"`{profile.dataset}`" in table[profile.name]["data"]
    assert f"`{jobs.DATA['conv']['full']}`" in table["full"]["data"]
