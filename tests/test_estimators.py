"""scikit-learn's estimator checks on dclib's estimators (tiny configs)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import shrink
from sklearn.utils.estimator_checks import parametrize_with_checks

from dclib.estimators import DCN, DCSS, DEC, DKM, DML, DSSL, IDEC, RDC, AEKMeans, DynAE
from dclib.methods import REGISTRY, get_method

TINY = {"epochs": 1, "pretrain_epochs": 1, "width": 16, "latent": 2}
"""the scikit-learn checks fit each estimator dozens of times: one epoch of each
stage, a 16-wide MLP and a 2-d latent space"""


def _tiny(estimator):
    cfg = shrink(estimator.method, **TINY)
    return type(estimator)(n_clusters=3, config=cfg)


ESTIMATORS = [
    _tiny(cls()) for cls in (AEKMeans, DEC, IDEC, DCN, DKM, DSSL, DCSS, DynAE, RDC)
]
ESTIMATORS.append(DML(3, config=shrink("dml", **TINY)))


@pytest.fixture(autouse=True)
def _tiny_dml_base(monkeypatch):
    """DML first trains its base (DSL = DCSS_u) with the base's defaults: tiny here."""
    base = REGISTRY["dcss_u"]

    def preset(**fields):
        return shrink(base.make_config(), **TINY | fields)

    monkeypatch.setitem(REGISTRY, "dcss_u", dataclasses.replace(base, preset=preset))


_K1 = "scikit-learn runs it with n_clusters=1; dclib refuses K < 2 (ValueError)"
EXPECTED_FAILURES = {
    "check_dont_overwrite_parameters": _K1,
    "check_methods_subset_invariance": _K1,
    "check_fit2d_1feature": _K1,
    "check_fit2d_predict1d": _K1,
}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILURES
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_fit_predict_transform_on_images():
    X = np.random.default_rng(0).random((40, 1, 8, 8), dtype=np.float32)
    est = _tiny(DEC())
    labels = est.fit_predict(X)
    assert labels.dtype == np.int64 and labels.shape == (40,)
    assert est.transform(X).shape == (40, 2)
    np.testing.assert_array_equal(est.predict(X), est.labels_)


def test_wrong_config_type_raises():
    with pytest.raises(ValueError, match="DKMConfig"):
        DKM(config=get_method("dec").make_config()).fit(np.zeros((10, 2)))


def test_dynae_predict_proba_is_on_the_simplex_and_agrees_with_labels():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.random((30, 6)) * 0.2, 0.8 + rng.random((30, 6)) * 0.2])
    est = DynAE(2, config=shrink("dynae", epochs=2, pretrain_epochs=30, latent=2))
    labels = est.fit_predict(X.astype(np.float32))
    q = est.predict_proba(X)
    assert q.shape == (60, 2) and np.allclose(q.sum(1), 1)
    np.testing.assert_array_equal(q.argmax(1), labels)
