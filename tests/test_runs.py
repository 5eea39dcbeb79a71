from __future__ import annotations

import numpy as np
import pytest
import torch

from dclib.book.cache import RunResult
from dclib.book.paper_tables import paper_results


def test_dcss_table1_kmeans_fashion_mnist():
    rows = paper_results(
        paper="dcss", table="Table 1", method="k-means", dataset="fmnist"
    )
    assert dict(zip(rows["metric"], rows["value"], strict=True)) == {
        "ACC": 47.40,
        "NMI": 51.20,
    }


def test_dataset_aliases_cover_every_spelling():
    rows = paper_results(dataset="fmnist")
    assert set(rows["dataset"]) == {"Fashion MNIST", "Fashion-MNIST", "FMNIST"}
    assert set(rows["paper"]) == {"dcss", "dssl", "dml", "dynae", "rdc"}


@pytest.mark.parametrize(
    ("where", "match"),
    [({"dataset": "imagenet"}, "imagenet"), ({"colour": "red"}, "colour")],
)
def test_bad_filters_raise(where, match):
    with pytest.raises(ValueError, match=match):
        paper_results(**where)


def test_run_or_load_fits_once_per_config(run_dirs):
    from dataclasses import dataclass

    import numpy as np

    from dclib.book.cache import RunResult, run_or_load, seed_mean, seed_table

    @dataclass(frozen=True)
    class Cfg:
        lr: float = 0.1

    calls = []

    def fit():
        calls.append(1)
        return RunResult(
            {"acc": 0.5, "nmi": 0.25},
            [{"epoch": 0, "loss": 1.0}],
            {"labels": np.arange(4)},
        )

    where = {"dataset": "digits", "profile": "smoke", "seed": 0}
    first = run_or_load("toy", Cfg(), fit, **where)
    again = run_or_load("toy", Cfg(), fit, **where)
    assert len(calls) == 1
    assert again.metrics == first.metrics and again.history == first.history
    np.testing.assert_array_equal(again.labels, np.arange(4))
    run_or_load("toy", Cfg(lr=0.2), fit, **where)  # another config: fit again
    assert len(calls) == 2
    out = run_dirs / "results" / "toy" / "digits" / "smoke" / "seed=0"
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "history.jsonl",
        "metrics.json",
    ]
    assert [p.name for p in out.parent.iterdir()] == ["seed=0"]  # no temporaries
    assert seed_table({0: first}) == {"acc": "50.0", "nmi": "25.0"}
    second = RunResult({"acc": 0.7, "nmi": 0.25}, [], {})
    assert seed_table({0: first, 1: second})["acc"] == "60.0 ± 10.0"
    assert seed_mean({0: first, 1: second}) == pytest.approx(0.6)
    assert seed_mean({0: first, 1: second}, "nmi") == pytest.approx(0.25)


def test_cached_pretraining_is_shared_and_exact(run_dirs):
    import torch

    from dclib.book.cache import array_hash, cached_pretraining
    from dclib.models import MLPAutoencoder
    from dclib.pretrain import PretrainConfig

    X = torch.randn(32, 6, generator=torch.Generator().manual_seed(0))
    cfg = PretrainConfig(n_epochs=2, batch_size=8)
    pretrain = cached_pretraining(array_hash(X.numpy()))
    torch.manual_seed(0)
    a = MLPAutoencoder(6, 2, hidden=(8,))
    hist_a = pretrain(a, X, cfg, 0)
    b = MLPAutoencoder(6, 2, hidden=(8,))  # other initial weights: the cache wins
    hist_b = pretrain(b, X, cfg, 0)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert hist_a.records == hist_b.records
    assert [p.suffix for p in (run_dirs / "cache").iterdir()] == [
        ".pt"
    ]  # no checkpoint
    c = MLPAutoencoder(6, 2, hidden=(8,))
    pretrain(c, X, cfg, 1)  # another seed: trained anew
    assert not torch.equal(next(a.parameters()), next(c.parameters()))


def test_ours_vs_paper_uses_each_papers_scale_and_label():
    import numpy as np

    from dclib.book.cache import RunResult
    from dclib.book.paper_tables import ours_vs_paper

    run = RunResult({"acc": 0.5, "nmi": 0.4, "nmi_arithmetic": 0.45}, [], {})
    table = ours_vs_paper(
        {"dec": {0: run}},
        {"dec": {"dcss:Table 1": "DEC", "dynae:Table 2": "DEC"}},
        "fmnist",
    )
    row = table.loc["dec"]
    assert row[("ours", "ACC")] == "50.0" and row[("ours", "NMI (arith.)")] == "45.0"
    dcss = paper_results(paper="dcss", table="Table 1", method="DEC", dataset="fmnist")
    acc = dcss.loc[dcss["metric"] == "ACC", "value"].item()
    assert row[("DCSS Table 1", "ACC")] == f"{acc:.1f}"
    dynae = float(row[("DynAE Table 2", "ACC")])  # stored as a fraction, shown in %
    assert 1 < dynae < 100 and not np.isnan(dynae)
    # a fraction whose note says more ("fraction; OCR: ...") is scaled too
    star = ours_vs_paper({"i": {0: run}}, {"i": {"dynae:Table 3": "IDEC*"}}, "fmnist")
    assert star.loc["i", ("DynAE Table 3", "ACC")] == "57.5"


def test_a_table_whose_rows_are_settings_is_read_by_method_and_setting():
    from dclib.book.cache import RunResult
    from dclib.book.paper_tables import ours_vs_paper, paper_entry

    p1_p2 = paper_entry("rdc:Table 8", ("R-DC", "P1 & P2"), "fmnist")
    assert set(p1_p2.metric) == {"ACC", "F1 Macro", "F1 Micro"}
    assert p1_p2.set_index("metric").value["ACC"] == 66.6  # R-DC Table 8, FMNIST
    assert paper_entry("rdc:Table 8", "R-DC", "fmnist").empty  # no setting-less row
    run = RunResult({"acc": 0.5, "f1_macro": 0.4}, [], {})
    table = ours_vs_paper(
        {"p1": {0: run}},
        {"p1": {"rdc:Table 8": ("R-DC", "P1")}},
        "fmnist",
        metrics=("acc", "f1_macro"),
    )
    assert table.loc["p1", ("R-DC Table 8", "ACC")] == "55.6"


def test_epoch_costs_by_stage():
    import math

    from dclib.book.recipes import epoch_costs

    hist = [
        {"stage": "pretrain", "seconds": 1.0},
        {"stage": "pretrain", "seconds": 3.0},
        {"stage": "cluster", "seconds": 0.5},
        {"stage": "cluster", "acc": 0.1},
        {"stage": "phase2", "seconds": 9.0},
    ]
    runs = {"dec": RunResult({}, hist, {}), "ae": RunResult({}, [], {})}
    table = epoch_costs(runs)
    assert table.loc["dec", "pretrain epochs"] == 2
    assert table.loc["dec", "s / pretrain epoch"] == 2.0
    assert table.loc["dec", "cluster epochs"] == 1
    assert table.loc["dec", "s / cluster epoch"] == 0.5
    assert math.isnan(table.loc["ae", "s / cluster epoch"])
    phase2 = epoch_costs(runs, stages=("phase2",))
    assert list(phase2.columns) == ["phase2 epochs", "s / phase2 epoch"]
    assert phase2.loc["dec", "s / phase2 epoch"] == 9.0


def test_setting_tag():
    from dclib.book.cache import setting_tag

    assert setting_tag({}) == ""
    assert setting_tag({"lam": 0.01, "n_networks": 3}) == "-lam=0.01-n_networks=3"


def _never_fit(monkeypatch, name):
    """Replace the registry's ``name`` by a method that refuses to train."""
    import dataclasses

    from dclib.methods import REGISTRY

    def fit(X, cfg, ctx):
        raise AssertionError(f"{name} was trained again instead of loaded")

    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(REGISTRY[name], fit=fit))


@pytest.mark.parametrize("kind", ["mlp", "dcss", "dssl"])
def test_trained_model_rebuilds_from_the_cache_alone(
    run_dirs, monkeypatch, blobs, mnist5k, kind
):
    import numpy as np
    from conftest import shrink

    from dclib import data
    from dclib.book.cache import cluster, trained_model, trained_start
    from dclib.methods._common import encode
    from dclib.models import ConvAutoencoder, MLPAutoencoder

    if kind == "mlp":
        ds = data.subset(blobs, 100, seed=0)  # feature vectors
    else:
        ds = data.subset(mnist5k, 40, seed=0)  # 28x28 images
    cfg = shrink("ae_kmeans", autoencoder=kind, pretrain_epochs=1)
    where = {"profile": "smoke", "seed": 0, "device": "cpu"}
    first = cluster("ae_kmeans", cfg, ds, tag="-x", **where)
    _never_fit(monkeypatch, "ae_kmeans")  # from here on: the cache or nothing
    run = cluster("ae_kmeans", cfg, ds, tag="-x", **where)
    assert (run_dirs / "results" / "ae_kmeans-x" / ds.name / "smoke").is_dir()
    assert run.metrics == first.metrics
    model = trained_model(run)
    assert type(model) is (MLPAutoencoder if kind == "mlp" else ConvAutoencoder)
    assert model.arch == run.weights["arch"]
    z = encode(model, torch.as_tensor(ds.X)).numpy()
    np.testing.assert_allclose(z, run.codes, rtol=1e-5, atol=1e-5)
    start_model, mu = trained_start(run)
    np.testing.assert_array_equal(mu, run.centres)
    assert start_model is not model  # a fresh copy each time


def test_trained_model_of_a_run_without_weights_raises():
    from dclib.book.cache import RunResult, trained_model

    with pytest.raises(ValueError, match="no weights"):
        trained_model(RunResult({}, [], {}))


def test_cluster_needs_a_registered_method(run_dirs, blobs):
    from conftest import shrink

    from dclib.book.cache import cluster

    with pytest.raises(ValueError, match="unknown method"):
        cluster("kmeans", shrink("ae_kmeans"), blobs, profile="smoke", seed=0)


def test_a_diverged_run_is_kept_only_where_asked(run_dirs, monkeypatch, blobs):
    """A grid setting whose loss diverges is a row of NaN scores (cached, so not
    refitted); elsewhere, and when a grid's cached divergence is asked for again,
    the error stands."""
    import dataclasses
    import math

    from conftest import shrink

    from dclib.book.cache import cluster
    from dclib.book.grids import sweep
    from dclib.methods import REGISTRY

    calls = []

    def fit(X, cfg, ctx):
        calls.append(cfg.n_clusters)
        raise FloatingPointError("the loss diverged at iteration 3")

    monkeypatch.setitem(
        REGISTRY, "ae_kmeans", dataclasses.replace(REGISTRY["ae_kmeans"], fit=fit)
    )
    cfg = shrink("ae_kmeans")
    where = {"profile": "smoke", "seed": 0, "device": "cpu"}
    with pytest.raises(FloatingPointError, match="iteration 3"):
        cluster("ae_kmeans", cfg, blobs, **where)
    frame, runs = sweep("ae_kmeans", cfg, blobs, {"k3": {"n_clusters": 3}}, **where)
    assert frame.diverged.tolist() == [1.0] and math.isnan(frame.acc[0])
    assert runs["k3"].history == [
        {"stage": "diverged", "error": "the loss diverged at iteration 3"}
    ]
    assert len(calls) == 2
    again, _ = sweep("ae_kmeans", cfg, blobs, {"k3": {"n_clusters": 3}}, **where)
    assert len(calls) == 2 and again.diverged.tolist() == [1.0]  # from the cache
    with pytest.raises(FloatingPointError, match="iteration 3"):
        cluster(
            "ae_kmeans",
            dataclasses.replace(cfg, n_clusters=3),
            blobs,
            tag="-n_clusters=3",
            **where,
        )
    assert len(calls) == 2


def test_a_run_result_reads_its_arrays_and_stages_by_name():
    history = [{"stage": "pretrain", "loss": 1.0}, {"stage": "cluster", "acc": 0.5}]
    arrays = {"labels": np.arange(3), "z": np.ones((3, 2)), "mu": np.zeros((2, 2))}
    run = RunResult({"acc": 0.5}, history, arrays)
    assert run.labels.tolist() == [0, 1, 2] and run.codes.shape == (3, 2)
    assert run.centres.shape == (2, 2) and run.soft is None
    assert run.stage("cluster") == [{"stage": "cluster", "acc": 0.5}]
    with pytest.raises(ValueError, match="kept no 'z' array"):
        _ = RunResult({}, [], {}).codes
