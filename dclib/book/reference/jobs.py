"""The unit of the reference plan: a page recipe on one dataset and seed, with the
CPU caps of its stages where the paper's epochs do not fit a session.

The caps are the catalog's (``Entry.cpu_pretrain_cap``, ``cpu_clustering_cap``),
and bind in the ``full`` profile only:

- pretraining, 50 epochs: DEC's and IDEC's 200 greedy epochs per layer plus 200 end
  to end on 70,000 images take about four hours on two CPU cores, more than a
  session that loses its run cache; 50 is DCN's count for the same greedy
  pretraining (measured: 58 min with two threads). AE + k-means runs on the same
  pretrained network as DEC and IDEC (one cached pretraining for the three).
  DynAE's 475 epochs of augmented ACAI pretraining (13·10^4 iterations) would take
  about ten hours: 50;
- clustering: DKM's 200 epochs on 70,000 images and DCSS's 200 phase-1 epochs on
  5,000 (K optimiser steps per batch; DSSL's 100 such epochs took 2.2 hours on one
  core) each take longer than a session that loses its run cache: 50. DC*'s stop
  rule (fewer than 1 % of the labels changing between two checks) never fired on
  Fashion-MNIST (20-80 % changed), so it runs to MaxIter, 10^5 iterations or 365
  epochs of 70,000 images: about six hours on two cores (a run measured up to epoch
  308 lost its cache with its session). DynAE's stop rule (tau < 1 %) ended the
  authors' released Fashion-MNIST log at iteration 7,840 (28.7 epochs); with the
  balance of eq. 14 its conflicted share falls more slowly. DynAE's and DC*'s cap,
  30 epochs (8,220 iterations, past the authors' log), binds them alone in their
  job; DEC* and IDEC* end by their own stop rules. R-DC's second phase ends when its
  smoothed tau stops rising (``rdc.stable``, at least 20 checks: 10 epochs); where
  tau keeps rising, its cap, 40 epochs (about an hour on one core), binds R-DC
  alone in its job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dclib.book.catalog import Entry

REFERENCE_PROFILES = ("full", "paper", "smoke")
"""profiles the runner accepts (smoke: the tests' and a dry run's)"""

DATA = {
    "mlp": {"full": "fmnist", "paper": "fmnist", "smoke": "blobs"},
    "conv": {"full": "mnist5k", "paper": "fmnist", "smoke": "mnist5k"},
}
"""each kind of method's reference data: the MLP-autoencoder methods on
Fashion-MNIST (70,000 images), the conv-AE methods (DSSL, DCSS, DML) on mnist5k in
``full`` (their 70k runs need a GPU) and on Fashion-MNIST in ``paper``"""


SHARED_NETWORKS = ("mlp", "mlp_greedy", "rdc_acai")
"""the pretrainings (``catalog.PRETRAININGS``) whose reference seeds all cluster on
seed 0's network: their claims' seeds are clustering seeds (k-means draws, batch
order) on one committed pretraining. DynAE's ACAI network and the conv
autoencoders are pretrained anew for every seed. The reason is the repository's
room for committed networks (100 MB): an MLP autoencoder takes 13 MB, and three
seeds of both 70k ACAI pretrainings with the baselines' would take 112 MB"""


def dataset(profile: str, kind: str) -> str:
    """The reference dataset of ``kind`` ("mlp", "conv") methods in ``profile``."""
    if profile not in REFERENCE_PROFILES:
        raise ValueError(
            f"unknown profile {profile!r}; choose one of {REFERENCE_PROFILES}"
        )
    return DATA[kind][profile]


@dataclass(frozen=True)
class Job:
    """One unit of the plan: a page recipe on one dataset and seed."""

    recipe: str
    """a key of ``papers.RECIPES``, or ``grids``"""
    dataset: str
    seed: int
    args: dict[str, Any] = field(default_factory=dict)
    """the recipe's own arguments (baseline: ``method``; dml: ``base``; grids:
    ``page``)"""
    pretrain_cap: int | None = None
    """a cap on pretraining epochs where a CPU cannot do the paper's count in a
    session (``Profile.pretrain_epochs``); recorded beside the result"""
    clustering_cap: int | None = None
    """the same for each clustering stage's epochs (``Profile.clustering_epochs``)"""
    capped_runs: tuple[str, ...] = ()
    """the runs of ``run_names`` the clustering cap binds; empty: all of them"""
    pretrain_seed: int | None = None
    """the seed of the pretrained network the job clusters on, where it is not the
    job's own (``SHARED_NETWORKS``; ``Profile.pretrain_seed``)"""

    def stage_cap(self, run_name: str | None = None) -> int | None:
        """The clustering cap of the job's run ``run_name`` (None: of the runs its
        recipe computes together, uncapped when the cap binds named runs only)."""
        binds = not self.capped_runs or run_name in self.capped_runs
        return self.clustering_cap if binds else None

    @property
    def name(self) -> str:
        extra = "-".join(str(v) for v in self.args.values())
        return "-".join(p for p in (self.recipe, extra, self.dataset) if p) + (
            f"-seed{self.seed}"
        )


def job(
    recipe: str,
    kind: str,
    profile: str,
    seed: int,
    entries: Sequence[Entry],
    args: dict[str, Any] | None = None,
) -> Job:
    """The job of ``recipe`` computing the catalog's runs ``entries`` on the
    reference data of ``kind`` methods, with their CPU caps in the ``full`` profile:
    the pretraining cap of any of them (they share one pretraining), the
    clustering cap binding the runs that have one (all of them: ``capped_runs``
    empty), and seed 0's network for a later seed of ``SHARED_NETWORKS``."""
    full = profile == "full"
    pre = [e.cpu_pretrain_cap for e in entries if full and e.cpu_pretrain_cap]
    capped = [e for e in entries if full and e.cpu_clustering_cap]
    shared = seed != 0 and all(e.pretraining in SHARED_NETWORKS for e in entries)
    return Job(
        recipe,
        dataset(profile, kind),
        seed,
        args or {},
        max(pre, default=None),
        max((e.cpu_clustering_cap or 0 for e in capped), default=None),
        () if len(capped) == len(entries) else tuple(e.name for e in capped),
        0 if shared else None,
    )


def grids_name(page: str, study: str | None = None) -> str:
    """The result folder of a page's grid studies (``study``: that one alone)."""
    return f"grids-{page}" + (f"-{study}" if study else "")
