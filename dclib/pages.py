"""Runs that more than one page of the book shows, defined once.

The DCSS page trains AE + k-means, DCSS_u and DCSS; the theory page checks the q
vectors of the same runs. Both build them here, so their configs, and hence their
cache keys, agree and the second page only reads the cache.
"""

from __future__ import annotations

from dclib.data import Dataset
from dclib.methods import baselines, dcss
from dclib.methods.dssl import CONV_PRETRAIN
from dclib.profiles import Run
from dclib.runs import RunResult, cluster, trained_model

DCSS_BUDGET = {"phase1_epochs": 2}
"""capped profiles' phase-1 epochs (the paper: 200): phase 1 takes K optimiser steps
per batch, ten times the cost of an autoencoder epoch"""


def dcss_configs(
    run: Run, n_clusters: int
) -> tuple[dcss.DCSSConfig, baselines.AEKMeansConfig]:
    """The DCSS config and its AE + k-means baseline (the DCSS conv AE, pretrained
    with the DCSS code's batch 500), capped by the run's profile."""
    cfg = run.profile.cap_epochs(dcss.DCSSConfig(n_clusters=n_clusters), DCSS_BUDGET)
    ae_cfg = run.profile.cap_epochs(
        baselines.AEKMeansConfig(
            n_clusters=n_clusters, autoencoder="dcss", pretrain=CONV_PRETRAIN
        )
    )
    return cfg, ae_cfg


def dcss_runs(
    run: Run, ds: Dataset, cfg: dcss.DCSSConfig, seed: int, tag: str = ""
) -> dict[str, RunResult]:
    """AE + k-means, DCSS_u and DCSS (phase 2 started from DCSS_u) on ``ds`` for
    ``seed``; ``tag`` keeps a variant's runs apart in the cache."""
    _, ae_cfg = dcss_configs(run, cfg.n_clusters)
    kw = dict(profile=run.profile.name, seed=seed, device=run.device)
    ae = cluster("ae_kmeans_dcss", baselines.fit_ae_kmeans, ae_cfg, ds, **kw)
    u = cluster(f"dcss_u{tag}", dcss.fit_dcss_u, cfg, ds, **kw)
    start = (trained_model(u, ds, kind="dcss"), u.arrays["mu"])
    mnet = cluster(f"dcss{tag}", dcss.fit_mnet, cfg, ds, start=start, **kw)
    return {"ae_kmeans": ae, "dcss_u": u, "dcss": mnet}
