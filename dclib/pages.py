"""Runs that more than one page of the book shows, defined once.

The DCSS page trains AE + k-means, DCSS_u and DCSS; the theory page checks the q
vectors of the same runs, and the DML page starts from DCSS_u (its "DSL") and from the
baselines page's DCN and DKM. All build them here, so their configs, and hence their
cache keys, agree and the later pages only read the cache.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dclib.data import Dataset
from dclib.methods import baselines, dcss, dml
from dclib.methods.dssl import CONV_PRETRAIN
from dclib.profiles import Run
from dclib.runs import RunResult, cluster, trained_model

DCSS_BUDGET = {"phase1_epochs": 2, "phase2_epochs": 10}
"""capped profiles' epochs: phase 1 (the paper: 200) takes K optimiser steps per
batch, ten times the cost of an autoencoder epoch; phase 2 (the paper: 20) keeps
T2 = 5 epochs in the u space and 5 in the q space"""


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


DML_BUDGET = {"n_epochs": 1}
"""capped profiles' DML epochs (the code: 10): like DCSS phase 1, K steps per batch"""


def dml_base(
    run: Run, ds: Dataset, base: str, seed: int, **over: Any
) -> tuple[RunResult, Any]:
    """M = ``base`` on ``ds`` for ``seed`` and its ``start`` for DML (the trained
    autoencoder and centres). DCN and DKM use the baselines page's configs, DSL is
    DCSS_u with the DCSS page's; ``over`` overrides config fields (e.g. latent_dim).
    """
    kw = dict(profile=run.profile.name, seed=seed, device=run.device)
    tag = "".join(f"-{k}={v}" for k, v in over.items())  # one cache entry per setting
    if base == "dsl":
        cfg = dataclasses.replace(dcss_configs(run, ds.n_clusters)[0], **over)
        result = cluster(f"dcss_u{tag}", dcss.fit_dcss_u, cfg, ds, **kw)
        image = ds.image_shape is not None
        kind, latent = ("dcss", 10) if image else ("mlp", 20)
        model = trained_model(result, ds, kind=kind,
                              latent_dim=cfg.latent_dim or latent)  # fmt: skip
    else:
        fit, cls = baselines.METHODS[base]
        cfg = run.profile.cap_epochs(cls(n_clusters=ds.n_clusters, **over))
        result = cluster(f"{base}{tag}", fit, cfg, ds, **kw)
        model = trained_model(result, ds, latent_dim=cfg.latent_dim, hidden=cfg.hidden)
    return result, (model, result.arrays["mu"])


def dml_runs(
    run: Run, ds: Dataset, base: str, seed: int, base_over: dict | None = None,
    **over: Any,
) -> dict[str, RunResult]:  # fmt: skip
    """M and DML-M on ``ds`` for ``seed``: ``{base: M, "dml-" + base: DML-M}``, the
    DML config capped by the profile and changed by ``over``."""
    result, start = dml_base(run, ds, base, seed, **(base_over or {}))
    cfg = run.profile.cap_epochs(
        dml.DMLConfig(n_clusters=ds.n_clusters, base=base, **over), DML_BUDGET
    )
    settings = {**over, **{f"base.{k}": v for k, v in (base_over or {}).items()}}
    name = f"dml-{base}" + "".join(f"-{k}={v}" for k, v in settings.items())
    ours = cluster(name, dml.fit_dml, cfg, ds, profile=run.profile.name, seed=seed,
                   device=run.device, start=start)  # fmt: skip
    return {base: result, f"dml-{base}": ours}
