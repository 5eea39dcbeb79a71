from __future__ import annotations

import pytest
import torch

from dclib.profiles import PROFILES, start_run


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
