"""scikit-learn estimators around dclib's methods.

``DEC(n_clusters=10).fit_predict(X)`` works on feature vectors (n, d) or images
(n, C, H, W). ``__init__`` only stores parameters; ``fit`` returns ``self`` and sets
``labels_`` (int64), ``cluster_centers_`` (latent space), ``n_features_in_`` and
``result_`` (the method's full result, with its history); ``transform`` gives latent
codes and ``predict`` the nearest centre. Hyperparameters other than ``n_clusters``
come from ``config`` (the method's config dataclass; paper defaults when None).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from dclib import functional as Fn
from dclib.methods import FitContext, get_method
from dclib.methods._common import as_tensor, encode
from dclib.methods._fuzzy import all_codes
from dclib.methods.dcss import soft_assignments
from dclib.methods.dml import DMLConfig


class DeepClusterer(TransformerMixin, ClusterMixin, BaseEstimator):
    """Base class: subclasses name their method in ``dclib.methods.REGISTRY``."""

    method: str = ""

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        config=None,
        random_state: int | None = 0,
        device: str = "auto",
    ) -> None:
        self.n_clusters = n_clusters
        self.config = config
        self.random_state = random_state
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # torch works in float32
        return tags

    def fit(self, X, y=None):
        """Cluster ``X``; ``y`` is ignored (accepted for scikit-learn pipelines)."""
        X = validate_data(
            self, X, dtype=np.float32, allow_nd=True, ensure_min_samples=2
        )
        method = get_method(self.method)
        config_class = method.config
        cfg = self.config if self.config is not None else method.make_config()
        if not isinstance(cfg, config_class):
            raise ValueError(
                f"config must be a {config_class.__name__}, got {type(cfg).__name__}"
            )
        cfg = dataclasses.replace(cfg, n_clusters=self.n_clusters)
        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**31)
        self.result_ = method.fit(X, cfg, FitContext(seed=seed, device=self.device))
        self.result_config_ = cfg
        self.labels_ = self.result_.labels_
        self.cluster_centers_ = self.result_.mu_
        return self

    def transform(self, X) -> np.ndarray:
        """Latent codes (n, m) of ``X``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
        model = self.result_.model_
        device = next(model.parameters()).device
        return encode(model, as_tensor(X, device)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """The nearest centre of each sample in the latent space."""
        z = torch.as_tensor(self.transform(X))
        mu = torch.as_tensor(self.cluster_centers_)
        return Fn.squared_distances(z, mu).argmin(1).numpy().astype(np.int64)


class AEKMeans(DeepClusterer):
    """AE + k-means (``AEKMeansConfig``)."""

    method = "ae_kmeans"


class DEC(DeepClusterer):
    """DEC, Xie et al. (2016) (``DECConfig``)."""

    method = "dec"


class IDEC(DeepClusterer):
    """IDEC, Guo et al. (2017) (``IDECConfig``)."""

    method = "idec"


class DCN(DeepClusterer):
    """DCN, Yang et al. (2017) (``DCNConfig``)."""

    method = "dcn"


class DKM(DeepClusterer):
    """DKM, Moradi Fard et al. (2020) (``DKMConfig``)."""

    method = "dkm"


class DSSL(DeepClusterer):
    """DSSL, Sadeghi and Armanfard (2021) (``DSSLConfig``): the symmetric conv AE for
    28x28 / 16x16 images, the MLP AE for feature vectors."""

    method = "dssl"

    def predict_proba(self, X) -> np.ndarray:
        """Fuzzy memberships p (n, K) to the centres (DSSL eq. 2)."""
        z = torch.as_tensor(self.transform(X))
        mu = torch.as_tensor(self.cluster_centers_)
        return Fn.fuzzy_memberships(z, mu, self.result_config_.m).numpy()


class DCSS(DeepClusterer):
    """DCSS, Sadeghi and Armanfard (2021) (``DCSSConfig``): the asymmetric conv AE
    for 28x28 / 16x16 images, the MLP AE (latent 20) for feature vectors such as
    ``dclib.data.features``; both phases. Labels are argmax q."""

    method = "dcss"

    def predict_proba(self, X) -> np.ndarray:
        """MNet's q (n, K), rows on the simplex."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
        model, mnet = self.result_.model_, self.result_.heads_["mnet"]
        device = next(model.parameters()).device
        return soft_assignments(model, mnet, as_tensor(X, device)).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """argmax q (DCSS §3.3)."""
        return self.predict_proba(X).argmax(1).astype(np.int64)


class DynAE(DeepClusterer):
    """DynAE, Mrabah et al. (2020) (``DynAEConfig``): the MLP AE pretrained with
    augmentation (images) and the ACAI critic, then the dynamic loss. Labels are
    argmax q (or the final k-means, ``final_kmeans``)."""

    method = "dynae"

    def predict_proba(self, X) -> np.ndarray:
        """Student-t assignments q (n, K) to the centres (DynAE eq. 4)."""
        z = torch.as_tensor(self.transform(X))
        mu = torch.as_tensor(self.cluster_centers_)
        return Fn.student_t_assignment(z, mu, self.result_config_.alpha).numpy()

    def predict(self, X) -> np.ndarray:
        """argmax q (DynAE §4.2)."""
        return self.predict_proba(X).argmax(1).astype(np.int64)


class RDC(DeepClusterer):
    """R-DC, Shaheen, Mrabah et al. (``RDCConfig``): the MLP AE pretrained with
    augmentation (images) and the ACAI critic, then proximity-level self-supervision
    (no pseudo-labels); labels by k-means on the codes, so ``predict`` is the
    nearest centre (DBSCAN with ``final="dbscan"``: the nearest cluster mean)."""

    method = "rdc"


class DML(DeepClusterer):
    """DML, Sadeghi and Armanfard (2022) (``DMLConfig``): trains the base method M
    (``base``: "dsl" = DCSS_u, "dcn" or "dkm"), then one autoencoder per difficult
    cluster plus a general one. Labels are argmax p (eq. 2g)."""

    method = "dml"

    def __init__(
        self,
        n_clusters: int = 10,
        *,
        base: str = "dsl",
        config=None,
        random_state: int | None = 0,
        device: str = "auto",
    ) -> None:
        super().__init__(
            n_clusters, config=config, random_state=random_state, device=device
        )
        self.base = base

    def fit(self, X, y=None):
        """Train M on ``X``, then DML from it; ``y`` is ignored."""
        cfg = self.config if self.config is not None else DMLConfig()
        if not isinstance(cfg, DMLConfig):
            raise ValueError(f"config must be a DMLConfig, got {type(cfg).__name__}")
        self.config, given = dataclasses.replace(cfg, base=self.base), self.config
        try:
            return super().fit(X, y)
        finally:
            self.config = given

    def _codes_and_p(self, X) -> tuple[torch.Tensor, torch.Tensor]:
        """``X`` in every network's latent space (L, n, d) and its memberships p."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, allow_nd=True, reset=False)
        model = self.result_.model_
        device = next(model.parameters()).device
        codes = all_codes(model.nets, as_tensor(X, device)).cpu()
        p = Fn.multi_space_memberships(
            codes,
            torch.as_tensor(self.cluster_centers_),
            model.owner.cpu(),
            self.result_config_.m,
        )
        return codes, p

    def predict_proba(self, X) -> np.ndarray:
        """Memberships p (n, K), each distance in its cluster's latent space."""
        return self._codes_and_p(X)[1].numpy()

    def transform(self, X) -> np.ndarray:
        """Each sample's code in the latent space of its most probable cluster."""
        codes, p = self._codes_and_p(X)
        owner = self.result_.model_.owner.cpu()
        return codes[owner[p.argmax(1)], torch.arange(codes.shape[1])].numpy()

    def predict(self, X) -> np.ndarray:
        """argmax p (DML §III-D)."""
        return self.predict_proba(X).argmax(1).astype(np.int64)
