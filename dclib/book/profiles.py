"""Run profiles and the validation of a notebook's papermill parameters.

A profile changes only how much data, how many epochs and how many seeds a run uses;
hyperparameters always stay the paper's.

- ``smoke``: at most 512 samples per dataset and 2 epochs, for CI and the tests;
- ``quick`` (default): the offline datasets, at most 25 epochs of pretraining
  (where every later number starts) and 10 of each clustering stage, one seed (more
  with ``-p seeds [...]``: they share one pretrained autoencoder), CPU; its grid
  studies run at smoke scale unless the committed reference holds them
  (``dclib.book.grids``);
- ``full``: the full offline data at the papers' epochs (CPU hours): what
  ``dclib reference`` runs and commits;
- ``paper``: the papers' datasets, epochs and five seeds, for a GPU.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import torch

from dclib import data
from dclib.pretrain import PretrainConfig
from dclib.repro import pick_device, seed_everything


@dataclass(frozen=True)
class Profile:
    """How much data and compute a notebook run may use."""

    name: str
    n_samples: int | None
    """cap on the samples taken from each dataset (stratified); None keeps them all"""
    max_epochs: int | None
    """cap on every ``*epochs`` field of a method's config; None keeps the paper's"""
    seeds: tuple[int, ...]
    """seeds a notebook averages over (mean ± std)"""
    dataset: str
    """the dataset a notebook uses unless told otherwise"""
    description: str
    sweep_samples: int | None = None
    """samples of the subsets that sensitivity sweeps and imbalanced-data studies
    draw (stratified); None: the whole dataset"""
    pretrain_epochs: int | None = None
    """cap on the epochs of autoencoder pretraining, which every method with the same
    pretraining config shares (None: ``max_epochs``); a profile may spend more
    there than on the clustering stages, since every later number starts from it.
    The reference runner sets it on an uncapped profile for the jobs whose paper
    count a CPU cannot do (``reference.Job.pretrain_cap``)"""
    tsne_samples: int = 2000
    """random samples each t-SNE panel shows (t-SNE is quadratic in them)"""
    pretrain_seed: int | None = None
    """None: every seed pretrains its own autoencoder; an int: all seeds share the
    autoencoder pretrained with this seed (``PretrainConfig.seed``), and differ from
    k-means on"""
    clustering_epochs: int | None = None
    """cap on the epochs of each clustering stage that the reference runner sets on
    an uncapped profile for the jobs whose paper count a CPU cannot do in a session
    (``reference.Job.clustering_cap``); unlike ``max_epochs`` it leaves pretraining
    alone and ignores the pages' budgets"""

    @property
    def epoch_caps(self) -> str:
        """The caps in words: "at most 50 epochs of pretraining and 20 per clustering
        stage", or "the papers' epochs"."""
        if self.max_epochs is None:
            return "the papers' epochs"
        pre = self.max_epochs if self.pretrain_epochs is None else self.pretrain_epochs
        return (
            f"at most {pre} epochs of pretraining and {self.max_epochs} per "
            "clustering stage"
        )

    def cap_epochs(self, cfg: Any, tighter: dict[str, int] | None = None) -> Any:
        """``cfg`` with every int field named ``*epochs`` (nested configs included)
        capped at ``max_epochs`` (a pretraining config's at ``pretrain_epochs``);
        every other field keeps the paper's value.

        A profile with a ``pretrain_seed`` also sets it on every pretraining config.
        ``tighter`` caps named fields of ``cfg`` lower still (a page's budget for
        stages that take K optimiser steps per batch); it is ignored when the profile
        does not cap (``paper``)."""
        pretraining = isinstance(cfg, PretrainConfig)
        if pretraining:
            limit = self.max_epochs
            if self.pretrain_epochs is not None:
                limit = self.pretrain_epochs
        else:
            caps = (self.max_epochs, self.clustering_epochs)
            limit = min((c for c in caps if c is not None), default=None)
        tighter = (tighter or {}) if self.max_epochs is not None else {}
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(cfg):
            value = getattr(cfg, f.name)
            if dataclasses.is_dataclass(value):
                changes[f.name] = self.cap_epochs(value)
            elif (
                limit is not None
                and f.name.endswith("epochs")
                and (value is None or isinstance(value, int))
            ):
                # None: "as many as the paper's iterations take" (DEC), capped too
                cap = min(limit, tighter.get(f.name, limit))
                changes[f.name] = cap if value is None else min(value, cap)
        if pretraining and self.pretrain_seed is not None:
            changes["seed"] = self.pretrain_seed
        return dataclasses.replace(cfg, **changes)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="smoke",
            n_samples=512,
            max_epochs=2,
            seeds=(0,),
            dataset="mnist5k",
            description="CI: at most 512 samples and 2 epochs, seconds per notebook",
            sweep_samples=128,
            tsne_samples=150,
        ),
        Profile(
            name="quick",
            n_samples=None,
            max_epochs=10,
            pretrain_epochs=25,
            seeds=(0,),
            dataset="mnist5k",
            description="default: offline data, at most 25 epochs of pretraining and "
            "10 of each clustering stage, one seed (more seeds share one pretrained "
            "autoencoder), minutes on a CPU",
            tsne_samples=500,
            pretrain_seed=0,
        ),
        Profile(
            name="full",
            n_samples=None,
            max_epochs=None,
            seeds=(0,),
            dataset="fmnist",
            description="the full offline data (Fashion-MNIST 70k; mnist5k for the "
            "conv-AE methods) at the papers' epochs, on a CPU: the committed reference",
        ),
        Profile(
            name="paper",
            n_samples=None,
            max_epochs=None,
            seeds=(0, 1, 2, 3, 4),
            dataset="fmnist",
            description="the papers' data and epochs, 5 seeds, meant for a GPU",
        ),
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
    seeds: tuple[int, ...]
    device: torch.device

    @property
    def seed(self) -> int:
        """The first seed: the one single-run figures use."""
        return self.seeds[0]

    def load(self, name: str | None = None, **kwargs) -> data.Dataset:
        """Load ``name`` (default: the run's dataset), capped by the profile."""
        name = self.dataset if name is None else name
        ds = data.load(name, seed=self.seed, **kwargs)
        cap = self.profile.n_samples
        return data.subset(ds, cap, seed=self.seed) if cap and len(ds) > cap else ds

    def sweep_subset(self, ds: data.Dataset) -> data.Dataset:
        """The stratified ``profile.sweep_samples`` subset of ``ds`` that sensitivity
        and imbalance studies use (all of ``ds`` when the profile sets none), named
        ``<name>-sweep`` so its cached runs stay apart from the full data's."""
        cap = self.profile.sweep_samples
        part = data.subset(ds, cap, seed=self.seed) if cap and cap < len(ds) else ds
        return dataclasses.replace(part, name=f"{ds.name}-sweep")

    def describe(self) -> str:
        """The profile, data, seeds and device behind a page: a short two-column
        Markdown list that fits the page's column."""
        seeds = ", ".join(map(str, self.seeds))
        rows = [
            ("profile", f"`{self.profile.name}`: {self.profile.description}"),
            (
                "data",
                f"`{self.dataset}`, seed{'s' if len(self.seeds) > 1 else ''} {seeds}",
            ),
            (
                "device",
                f"`{self.device}`; dclib {version('dclib')}, torch {torch.__version__}",
            ),
        ]
        lines = ["| this page | ran with |", "|:--|:--|"]
        return "\n".join(lines + [f"| {k} | {v} |" for k, v in rows])


def start_run(
    *,
    profile: str,
    dataset: str | None = None,
    seeds: int | Sequence[int] | None = None,
    device: str = "auto",
) -> Run:
    """Validate a notebook's parameters, seed every generator and pick the device.

    ``dataset`` and ``seeds`` default to the profile's; one seed (an int) stands for
    a list of one. Every notebook calls this in its first cell after the papermill
    parameters, so a bad parameter fails there with a ``ValueError`` that names it;
    ``dclib execute`` and ``dclib run`` call it before anything runs.
    """
    prof = get_profile(profile)
    dataset = prof.dataset if dataset is None else dataset
    if dataset not in data.DATASETS:
        raise ValueError(
            f"unknown dataset {dataset!r}; choose one of {sorted(data.DATASETS)}"
        )
    seeds = prof.seeds if seeds is None else seeds
    if isinstance(seeds, int):
        seeds = [seeds]  # a bool too: seed_everything refuses it
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    for s in seeds:
        seed_everything(s)  # validates each seed
    seed_everything(seeds[0])
    return Run(prof, dataset, tuple(seeds), pick_device(device))
