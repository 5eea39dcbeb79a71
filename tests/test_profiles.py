from __future__ import annotations

import dataclasses

import pytest
import torch

from dclib.profiles import PROFILES, start_run
from dclib.train import PretrainConfig


def test_start_run_validates_and_caps_data():
    run = start_run(profile="smoke", dataset="digits", seed=3)
    assert run.device == torch.device("cpu") or torch.cuda.is_available()
    ds = run.load()
    assert len(ds) == PROFILES["smoke"].n_samples
    assert "`smoke`" in run.describe() and "`digits`" in run.describe()


def test_quick_profile_keeps_all_data():
    assert len(start_run(profile="quick", dataset="digits", seed=0).load()) == 1797


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"profile": "fast"}, "profile"),
        ({"dataset": "imagenet"}, "dataset"),
        ({"seed": -1}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_parameters_raise_value_error(kwargs, match):
    params = {"profile": "smoke", "dataset": "digits", "seed": 0, "device": "auto"}
    with pytest.raises(ValueError, match=match):
        start_run(**(params | kwargs))


def test_seeds_default_to_the_profile_and_validate():
    assert start_run(profile="quick").seeds == PROFILES["quick"].seeds
    assert start_run(profile="paper").dataset == "fmnist"
    assert start_run(profile="smoke", seeds=[3, 4]).seed == 3
    for bad in ([], "01", [0, -2], [1.5]):
        with pytest.raises(ValueError, match="seed"):
            start_run(profile="smoke", seeds=bad)


def test_cap_epochs_reaches_nested_configs_and_nothing_else():
    from dclib.methods.baselines import DECConfig

    cfg = PROFILES["quick"].cap_epochs(DECConfig())
    assert cfg.n_epochs == 20 and cfg.pretrain.n_epochs == 20
    assert cfg.update_interval == DECConfig().update_interval
    assert cfg.pretrain.greedy_dropout == 0.2 and cfg.lr == DECConfig().lr
    assert PROFILES["paper"].cap_epochs(DECConfig()) == DECConfig()
    assert PROFILES["smoke"].cap_epochs(DECConfig()).pretrain.n_epochs == 2


def test_tighter_caps_apply_to_named_fields_only_when_the_profile_caps():
    from dclib.methods.dcss import DCSSConfig

    cfg = PROFILES["quick"].cap_epochs(DCSSConfig(), {"phase1_epochs": 2})
    assert (cfg.phase1_epochs, cfg.phase2_epochs, cfg.pretrain.n_epochs) == (2, 20, 20)
    assert PROFILES["paper"].cap_epochs(DCSSConfig(), {"phase1_epochs": 2}) == (
        DCSSConfig()
    )


def test_quick_seeds_share_one_pretrained_autoencoder():
    from dclib.methods.baselines import DECConfig, pretrained

    cfg = PROFILES["quick"].cap_epochs(DECConfig())
    assert cfg.pretrain.seed == 0 and PROFILES["paper"].pretrain_seed is None
    tiny = DECConfig(hidden=(8,), latent_dim=2)
    X = torch.rand(32, 5)
    for pre, same in ((PretrainConfig(n_epochs=1, seed=0), True),
                      (PretrainConfig(n_epochs=1), False)):  # fmt: skip
        c = dataclasses.replace(tiny, pretrain=pre)
        a, _ = pretrained(X, c, seed=1)
        b, _ = pretrained(X, c, seed=2)
        equal = all(torch.equal(p, q) for p, q in
                    zip(a.parameters(), b.parameters(), strict=True))  # fmt: skip
        assert equal == same
