"""Run profiles and the validation of a notebook's papermill parameters.

A profile changes only how much data and how many epochs a run uses; hyperparameters
always stay the paper's.

- ``smoke``: at most 512 samples per dataset, for CI and the tests;
- ``quick`` (default): the offline datasets (mnist5k, digits, fmnist, synthetic), CPU;
- ``paper``: the papers' datasets and protocol, for a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dclib import data
from dclib.repro import pick_device, seed_everything


@dataclass(frozen=True)
class Profile:
    """How much data and compute a notebook run may use."""

    name: str
    n_samples: int | None
    """Cap on the samples taken from each dataset (stratified); None keeps them all."""
    description: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "smoke", 512, "CI: at most 512 samples per dataset, seconds per notebook"
        ),
        Profile(
            "quick", None, "default: the offline datasets, minutes on a laptop CPU"
        ),
        Profile("paper", None, "the papers' full protocol, meant for a GPU"),
    )
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a ValueError naming the valid ones otherwise."""
    if not isinstance(name, str) or name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]


@dataclass(frozen=True)
class Run:
    """The validated parameters of one notebook execution."""

    profile: Profile
    dataset: str
    seed: int
    device: torch.device

    def load(self, name: str | None = None, **kwargs) -> data.Dataset:
        """Load ``name`` (default: the run's dataset), capped by the profile."""
        name = self.dataset if name is None else name
        ds = data.load(name, seed=self.seed, **kwargs)
        cap = self.profile.n_samples
        return data.subset(ds, cap, seed=self.seed) if cap and len(ds) > cap else ds

    def describe(self) -> str:
        """A Markdown table of the profile, data, seed and device behind a page."""
        import dclib

        rows = [
            ("profile", f"`{self.profile.name}` ({self.profile.description})"),
            ("dataset", f"`{self.dataset}`"),
            ("seed", str(self.seed)),
            ("device", f"`{self.device}`"),
            ("dclib / torch", f"{dclib.__version__} / {torch.__version__}"),
        ]
        lines = ["| parameter | value |", "|---|---|"]
        return "\n".join(lines + [f"| {k} | {v} |" for k, v in rows])


def start_run(*, profile: str, dataset: str, seed: int, device: str = "auto") -> Run:
    """Validate a notebook's parameters, seed every generator and pick the device.

    Every notebook calls this in its first cell after the papermill parameters, so a
    bad parameter fails there with a ``ValueError`` that names it.
    """
    prof = get_profile(profile)
    if dataset not in data.DATASETS:
        raise ValueError(
            f"unknown dataset {dataset!r}; choose one of {sorted(data.DATASETS)}"
        )
    seed_everything(seed)
    return Run(prof, dataset, seed, pick_device(device))
