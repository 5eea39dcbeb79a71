"""Committed pretrained networks (``dclib.networks``): the safetensors round trip,
their identity, the run cache's use of them, and a committed network reproducing
its committed k-means start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from dclib import networks
from dclib.models import MLPAutoencoder
from dclib.pretrain import PretrainConfig

REPOSITORY = Path(__file__).resolve().parents[1]


def _net(seed: int = 0) -> MLPAutoencoder:
    torch.manual_seed(seed)
    return MLPAutoencoder(6, 2, hidden=(8,))


def test_a_network_round_trips_with_its_metadata(tmp_path):
    path = networks.path_of("toy", "mlp", 3, tmp_path)
    assert path == tmp_path / "toy" / "mlp" / "seed=3.safetensors"
    net = _net()
    networks.save(path, net, {"key": "abc", "history": [{"epoch": 0.0}]})
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporaries
    meta = networks.describe(path)
    assert meta["key"] == "abc" and meta["arch"] == net.arch
    again, meta_again = networks.load(path)
    assert meta_again == meta
    for (k, p), (k2, q) in zip(
        net.state_dict().items(), again.state_dict().items(), strict=True
    ):
        assert k == k2 and torch.equal(p, q)
    assert networks.find("abc", "toy", tmp_path) == path
    assert networks.find("other", "toy", tmp_path) is None
    assert networks.available(tmp_path) == [("toy", "mlp", 3)]
    assert not networks.pretrained("toy", "mlp", 3, tmp_path).training


def test_an_unknown_network_names_the_available_ones(tmp_path):
    networks.save(networks.path_of("fmnist", "acai", 0, tmp_path), _net(), {})
    with pytest.raises(ValueError, match=r"fmnist/acai/seed=1.*fmnist/acai/seed=0"):
        networks.pretrained("fmnist", "acai", seed=1, directory=tmp_path)


def test_a_diverged_network_or_a_foreign_file_is_refused(tmp_path):
    net = _net()
    with torch.no_grad():
        next(net.parameters())[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        networks.save(tmp_path / "bad.safetensors", net, {})
    assert not (tmp_path / "bad.safetensors").exists()
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="not a dclib network"):
        networks.describe(tmp_path / "foreign.safetensors")


def test_the_key_is_the_effective_seed_not_the_configs_seed_field():
    arch = _net().arch
    cfg = PretrainConfig(n_epochs=2)
    key = networks.network_key(cfg, arch, "data", 0)
    # a later seed clustering on seed 0's network names the same network
    shared = PretrainConfig(n_epochs=2, seed=0)
    assert networks.network_key(shared, arch, "data", 0) == key
    assert networks.network_key(cfg, arch, "data", 1) != key
    assert networks.network_key(PretrainConfig(n_epochs=3), arch, "data", 0) != key
    assert networks.network_key(cfg, arch, "other data", 0) != key
    assert networks.network_key(cfg, _net().arch | {"latent_dim": 3}, "data", 0) != key


def test_a_reference_run_commits_its_network_and_any_machine_reuses_it(
    run_dirs, monkeypatch
):
    from dclib.book import cache

    X = torch.rand(32, 6, generator=torch.Generator().manual_seed(0))
    cfg = PretrainConfig(n_epochs=2, batch_size=8)
    committing = cache.cached_pretraining("toy-data", "toy", commit_as="mlp")
    trained = _net()
    history = committing(trained, X, cfg, 0)
    path = networks.path_of("toy", "mlp", 0)
    meta = networks.describe(path)
    assert meta["history"] == history.records and meta["seed"] == 0
    assert meta["provenance"]["git_commit"] and meta["config"]["n_epochs"] == 2

    # another machine: an empty run cache, and no pretraining may run
    monkeypatch.setattr(cache, "CACHE_DIR", run_dirs / "other-cache")

    def refuse(*args, **kwargs):
        raise AssertionError("a committed network was pretrained again")

    monkeypatch.setattr(cache, "pretrain_autoencoder", refuse)
    loaded = _net(seed=5)
    again = cache.cached_pretraining("toy-data", "toy")(loaded, X, cfg, 0)
    assert again.records == history.records
    for p, q in zip(trained.parameters(), loaded.parameters(), strict=True):
        assert torch.equal(p, q)

    # another config may not replace the committed network: refused before training
    other = PretrainConfig(n_epochs=3, batch_size=8)
    with pytest.raises(ValueError, match="holds another network"):
        committing(_net(), X, other, 0)


def test_a_run_commits_as_its_catalog_entrys_pretraining():
    from dclib.book.cache import COMMITTING_PROFILES
    from dclib.book.catalog import pretraining_of

    assert COMMITTING_PROFILES == ("full", "paper")
    assert pretraining_of("dynae") == "acai"
    assert pretraining_of("dec_rdc") == "rdc_acai"
    assert pretraining_of("ae_kmeans_dcss") == "dcss_conv"
    assert pretraining_of("dynae-gamma=0.1") is None  # a grid's setting


def test_a_committed_network_reproduces_its_committed_kmeans_start(
    run_dirs, monkeypatch
):
    """DCSS's conv autoencoder on mnist5k (seed 1, committed): loaded by name, no
    pretraining runs, and AE + k-means on it gives the committed labels."""
    from dclib.book import cache, catalog, recipes
    from dclib.book.profiles import start_run
    from dclib.book.reference import runner
    from dclib.storage import array_hash

    def refuse(*args, **kwargs):
        raise AssertionError("the committed network was pretrained again")

    monkeypatch.setattr(cache, "pretrain_autoencoder", refuse)
    monkeypatch.setattr(networks, "DIRECTORY", REPOSITORY / "results" / "pretrained")
    job = next(j for j in runner.plan("full", [1]) if j.name == "dcss-mnist5k-seed1")
    run = runner._capped(start_run(profile="full", dataset="mnist5k", seeds=[1]), job)
    ds = recipes.page_data(run)
    cfg = recipes.conv_baseline_config(run, "dcss", ds)
    e = catalog.entry("ae_kmeans_dcss")
    result = cache.cluster(e.method, cfg, ds, profile="full", seed=1, tag=e.tag)
    committed = REPOSITORY / "results/reference/full/mnist5k/ae_kmeans_dcss/seed=1.json"
    assert (
        array_hash(result.labels) == json.loads(committed.read_text())["labels_sha256"]
    )
    model = networks.pretrained("mnist5k", "dcss_conv", seed=1)
    assert model.arch["kind"] == "dcss"
