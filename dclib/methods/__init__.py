"""Every method, by name: one leaf file per paper on a shared kit.

- the kit: ``_common`` (the fit contract ``FitContext``, ``ClusteringResult``, the
  ``Method`` record, ``AEConfig``, pretraining, k-means, encoding) and ``_fuzzy``
  (the fuzzy cluster-specific runs of DSSL, DCSS phase 1 and DML) and ``_targets``
  (the decoder and latent targets that DynAE and R-DC train towards);
- the paper files ``baselines``, ``dssl``, ``dcss``, ``dml``, ``dynae``, ``rdc``:
  each a config dataclass with the paper's defaults (``official_code()`` where the
  official code departs from the paper), ``fit(X, cfg, ctx)`` functions, and
  ``METHODS``, its registry records (DML: ``dml.methods(get_method)``, whose fit
  gets the record of its base method M from the registry). A paper file imports
  the kit, never another paper file.
"""

from __future__ import annotations

from dclib.methods import baselines, dcss, dml, dssl, dynae, rdc
from dclib.methods._common import (
    KMEANS_SEEDS,
    ClusteringResult,
    FitContext,
    Method,
    Monitor,
    kmeans_spread,
    stage_records,
)
from dclib.methods._fuzzy import train_cluster_specific
from dclib.train import make_optimizer


def get_method(name: str) -> Method:
    """The registry record of ``name``; a ValueError naming the known methods
    otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; choose one of {sorted(REGISTRY)}")
    return REGISTRY[name]


REGISTRY: dict[str, Method] = {
    m.name: m
    for records in (
        baselines.METHODS,
        dssl.METHODS,
        dcss.METHODS,
        dml.methods(get_method),  # DML trains its base M, looked up here
        dynae.METHODS,
        rdc.METHODS,
    )
    for m in records
}
"""name -> ``Method`` record of every method"""


__all__ = [
    "KMEANS_SEEDS",
    "REGISTRY",
    "ClusteringResult",
    "FitContext",
    "Method",
    "Monitor",
    "get_method",
    "kmeans_spread",
    "make_optimizer",
    "stage_records",
    "train_cluster_specific",
]
