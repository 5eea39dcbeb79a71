"""dclib.book.recipes: the pages' configs (the registry's preset, K from the data, the
papers' per-dataset fields, the profile's caps and the page budgets), their data
(RGB images as ImageNet features, MNIST for the imbalance studies) and helpers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shrink

from dclib import data, metrics
from dclib.book import recipes, tables
from dclib.book.profiles import start_run
from dclib.data import Dataset
from dclib.methods import FitContext, dcss
from dclib.models import MLPAutoencoder


@pytest.fixture
def smoke():
    return start_run(profile="smoke", dataset="blobs")


def _vectors(k: int, name: str = "toy") -> Dataset:
    rng = np.random.default_rng(0)
    y = np.arange(30, dtype=np.int64) % k
    return Dataset(rng.random((30, 5), dtype=np.float32), y, k, None, name)


def test_config_takes_k_from_the_data(smoke):
    ds = _vectors(3)
    for method in ("dec", "dkm_p", "dcss", "dml"):
        assert recipes.config(smoke, method, ds).n_clusters == 3


def test_config_is_the_registry_preset_with_fields_and_caps(smoke):
    ds = _vectors(3)
    dkm_p = recipes.config(smoke, "dkm_p", ds)
    assert dkm_p.constant_alpha == 1000
    assert recipes.config(smoke, "dkm", ds).constant_alpha is None
    dec = recipes.config(smoke, "dec", ds, lr=0.5)
    assert dec.lr == 0.5 and dec.n_epochs == 2 and dec.pretrain.n_epochs == 2
    assert dec.pretrain.greedy_dropout == 0.2  # hyperparameters stay the paper's


def test_budgets_cap_the_k_step_stages_unless_the_profile_is_paper():
    ds = _vectors(3)
    quick, paper = start_run(profile="quick"), start_run(profile="paper")
    assert recipes.config(quick, "dssl", ds).n_epochs == 1
    cfg = recipes.config(quick, "dcss", ds)
    assert (cfg.phase1_epochs, cfg.phase2_epochs, cfg.pretrain.n_epochs) == (1, 6, 25)
    assert recipes.config(quick, "dml", ds).n_epochs == 1
    assert recipes.config(quick, "dec", ds).n_epochs == 10  # no budget: the cap
    assert recipes.config(paper, "dssl", ds).n_epochs == 100
    assert recipes.config(paper, "dcss", ds).phase1_epochs == 200


def test_conv_baseline_config_is_ae_kmeans_on_the_pages_conv_ae(smoke):
    ds = _vectors(3)
    cfg = recipes.conv_baseline_config(smoke, "dssl", ds)
    assert cfg.autoencoder == "dssl" and cfg.n_clusters == 3
    assert cfg.pretrain.batch_size == 500 and cfg.pretrain.n_epochs == 2


def test_imbalanced_subsets_are_mnist_whatever_the_pages_dataset(loaded_once):
    run = start_run(profile="smoke", dataset="digits")
    try:
        data.load("mnist")
        source = "mnist"
    except data.DatasetNotAvailable:
        source = "mnist5k"  # full MNIST is not on disk
    small = run.sweep_subset(run.load(source))
    subsets = recipes.imbalanced_subsets(run)
    assert list(subsets) == list(recipes.IMBALANCE_RATES)
    names = [ds.name for ds in subsets.values()]
    assert names == [f"{source}-sweep-r{r}" for r in recipes.IMBALANCE_RATES]
    for r, ds in subsets.items():
        assert ds.image_shape == (1, 28, 28) and ds.n_clusters == 10  # not digits
        kept = np.bincount(ds.y, minlength=10)
        offered = np.bincount(small.y, minlength=10)
        # class c kept with probability r + (1 - r) c / 9: class 9 always
        assert kept[9] == offered[9] and kept[0] < kept[9]
        expected = data.imbalanced(small, r, seed=run.seed)
        np.testing.assert_array_equal(ds.y, expected.y)
        np.testing.assert_array_equal(ds.X, expected.X)
    # in expectation over the rates: the kept fraction grows with the class
    frac = np.mean(
        [np.bincount(ds.y, minlength=10) / offered for ds in subsets.values()], 0
    )
    rule = np.mean(
        [r + (1 - r) * np.arange(10) / 9 for r in recipes.IMBALANCE_RATES], 0
    )
    assert np.corrcoef(frac, rule)[0, 1] > 0.8
    assert abs(frac[0] - rule[0]) < 0.25


def _rgb(n: int = 16) -> Dataset:
    """Two classes of 32x32 RGB images: reddish and bluish noise."""
    rng = np.random.default_rng(0)
    y = np.arange(n, dtype=np.int64) % 2
    X = 0.3 * rng.random((n, 3, 32, 32), dtype=np.float32)
    X[y == 0, 0] += 0.7
    X[y == 1, 2] += 0.7
    return Dataset(X, y, 2, (3, 32, 32), "cifar100-20")


@pytest.fixture(scope="module")
def feature_root(tmp_path_factory):
    """One features cache for the module: the ResNet runs once."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def page_features(smoke, feature_root, monkeypatch):
    """``page_data`` of a page on "cifar100-20" (16 synthetic RGB images) with
    random ResNet-50 weights (offline; a few seconds on a CPU), and the backbones
    it asked for."""
    rgb, real_load, real_features = _rgb(), data.load, data.features
    asked = []

    def load(name, **kwargs):
        return rgb if name == "cifar100-20" else real_load(name, **kwargs)

    def features(ds, backbone, **kwargs):
        asked.append(backbone)
        kwargs |= {"pretrained": False, "root": feature_root}
        return real_features(ds, backbone, **kwargs)

    monkeypatch.setattr(data, "load", load)
    monkeypatch.setattr(data, "features", features)
    return recipes.page_data(smoke, "cifar100-20"), rgb, asked


def test_rgb_images_become_features_that_dcss_clusters(page_features):
    feats, rgb, asked = page_features
    assert asked == [recipes.RGB_BACKBONE] == ["resnet50"]
    assert feats.X.shape == (16, 2048) and feats.image_shape is None
    np.testing.assert_array_equal(feats.y, rgb.y)
    assert feats.n_clusters == 2
    # vectors: the MLP, d = 20. 16 samples are one batch an epoch, and MNet's
    # batch-norm statistics (its eval-mode q gives the labels) need tens of steps
    cfg = shrink("dcss", n_clusters=2, latent_dim=None, phase2_epochs=40, t2=5)
    r = dcss.fit_dcss(feats.X, cfg, FitContext(device="cpu"))
    assert isinstance(r.model_, MLPAutoencoder) and r.z_.shape == (16, 20)
    assert r.q_.shape == (16, 2) and metrics.acc(rgb.y, r.labels_) >= 0.9


def test_cifar100_gets_the_wide_mnet_as_images_and_as_features(smoke, page_features):
    # DCSS §5 widens MNet to 1000-1000-1000 for CIFAR-100, which the pages
    # cluster as the feature vectors of page_data
    feats, rgb, _ = page_features
    for method in ("dcss", "mnet"):
        assert recipes.config(smoke, method, rgb).mnet_hidden == (1000, 1000, 1000)
        cfg = recipes.config(smoke, method, feats)
        assert cfg.n_clusters == 2 and cfg.mnet_hidden == (1000, 1000, 1000)
    assert recipes.config(smoke, "dcss", _vectors(3)).mnet_hidden == (128, 128, 128)


def test_by_seed_regroups_per_seed_runs():
    run = start_run(profile="smoke", seeds=[3, 5])
    out = recipes.by_seed(run, lambda seed: {"a": seed * 10, "b": -seed})
    assert out == {"a": {3: 30, 5: 50}, "b": {3: -3, 5: -5}}


def test_config_table_and_describe_data(smoke):
    cfg = recipes.config(smoke, "dkm_p", _vectors(3))
    table = tables.config_table(cfg)
    assert table.loc["constant_alpha"].item() == "1000.0"
    assert table.columns.tolist() == ["DKMConfig"]
    shown = tables.config_shown(cfg)
    assert shown.summary == "The config that ran: DKMConfig, field by field"
    assert "constant_alpha" in shown._repr_html_()  # every field, folded
    ds = _vectors(3)
    assert recipes.describe_data(smoke, ds) == "smoke profile, toy, n = 30, seed 0"
    text = recipes.describe_data(smoke, ds, seeds=[0, 1])
    assert text.endswith("seeds 0, 1")


def test_runs_on_the_pages_data_log_the_atlas_and_sweeps_do_not(smoke, run_dirs):
    ds = smoke.load()
    page = recipes.runs_of(
        smoke, "ae_kmeans", recipes.config(smoke, "ae_kmeans", ds), ds, 0
    )
    small = smoke.sweep_subset(ds)
    cfg = recipes.config(smoke, "ae_kmeans", small)
    sweep = recipes.runs_of(smoke, "ae_kmeans", cfg, small, 0)
    assert "atlas_fr" in page.history[-1] and "acc" in page.history[-1]
    assert not any(k.startswith("atlas") for r in sweep.history for k in r)


def test_the_reference_course_says_where_a_run_drifted_from_its_first_epoch(
    tmp_path, monkeypatch
):
    import json

    from dclib.book import recipes
    from dclib.book.reference import store

    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    for run, accs in (("dml-dcn", [0.565, 0.55, 0.51]), ("dml-dkm", [0.59, 0.595])):
        path = store.result_path(tmp_path, "full", "mnist5k", run, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        history = [
            {"stage": "cluster", "epoch": i, "acc": a} for i, a in enumerate(accs)
        ]
        path.write_text(json.dumps({"seed": 0, "metrics": {}, "history": history}))
    (said,) = recipes.reference_course(["dml-dcn", "dml-dkm"], "cluster", "mnist5k")
    assert "DML-DCN's ACC falls from 56.5 %" in said and "51.0 %" in said
    assert "last of its 3" in said  # DML-DKM moved half a point: not said
    assert recipes.reference_course(["dml-dcn"], "cluster", "fmnist") == []
