"""DSSL (Sadeghi and Armanfard, IJCNN 2021): deep successive subspace learning.

An autoencoder is trained in K successive runs per batch, one per cluster: run k
takes one optimiser step on the k-th cluster-specific loss (DSSL eq. 1, DCSS eq. 1),
the reconstruction and centring errors of the batch weighted by the fuzzy
memberships p_ik^m (eq. 2). Every T epochs the centres move to the weighted means of
the codes (eq. 3). A sample's cluster is its nearest centre (§III-B). The mechanism
is the kit's ``_fuzzy.train_cluster_specific``, shared with DCSS phase 1 and DML.
Book page: notebooks/02_dssl.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from dclib import functional as Fn
from dclib.methods._common import (
    AEConfig,
    ClusteringResult,
    FitContext,
    Method,
    encode,
    make_result,
    prepare,
)
from dclib.methods._fuzzy import (
    CONV_PRETRAIN,
    ClusterSpecificRun,
    FuzzyConfig,
    train_cluster_specific,
)
from dclib.pretrain import PretrainConfig
from dclib.train import make_optimizer


@dataclass(frozen=True)
class DSSLConfig(AEConfig, FuzzyConfig):
    """DSSL's hyperparameters (§IV-G unless noted)."""

    autoencoder: str = "dssl"
    """the symmetric conv AE for images (the MLP for feature vectors)"""
    pretrain: PretrainConfig = CONV_PRETRAIN
    zeta: float = 0.1
    """weight of the clustering loss, L = L_r + zeta L_c (eq. 1a)"""
    update_interval: int = 2
    """T: epochs between centre updates (eq. 3)"""
    n_epochs: int = 100
    """MaxIter (§IV-G; the official code runs 200)"""
    batch_size: int = 500
    """the official code's (the paper gives none)"""
    lr: float = 1e-6
    """SGD learning rate (the paper says SGD with momentum, no rate; the code's 1e-6:
    the losses are sums over the batch and the pixels)"""
    momentum: float = 0.9

    @classmethod
    def official_code(cls, **fields) -> DSSLConfig:
        """The official code's departures (official-code notes §2): 200 epochs,
        memberships once per batch, centres updated at the start of epochs."""
        code = {
            "n_epochs": 200,
            "memberships_per_batch": True,
            "centre_update": "before",
        }
        return cls(**(code | fields))

    def cluster_specific(self) -> ClusterSpecificRun:
        return ClusterSpecificRun(
            self, self.zeta, self.update_interval, self.n_epochs, self.batch_size
        )


def fit_dssl(
    X, cfg: DSSLConfig = DSSLConfig(), ctx: FitContext = FitContext()
) -> ClusteringResult:
    """DSSL: pretrain the symmetric conv AE (the MLP for feature vectors), k-means on
    its codes, then ``n_epochs`` of K successive runs with SGD + momentum; labels are
    the nearest centres, ``q_`` the memberships p (eq. 2)."""
    X, model, pre, mu0, _ = prepare(X, cfg, ctx)
    opt = make_optimizer(model.parameters(), "sgd", cfg.lr, cfg.momentum)
    run = cfg.cluster_specific()
    hist, mu = train_cluster_specific(model, X, mu0, opt, run, ctx, "DSSL")
    p = Fn.fuzzy_memberships(encode(model, X), mu, cfg.m)
    return make_result(model, X, mu, p, p.argmax(1), {"pretrain": pre, "cluster": hist})


METHODS = [
    Method(
        "dssl", fit_dssl, DSSLConfig, "dssl", "DSSL: K successive cluster-specific runs"
    ),
]

__all__ = ["METHODS", "DSSLConfig", "fit_dssl"]
