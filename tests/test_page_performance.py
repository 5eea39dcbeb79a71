"""The benchmark (``dclib.book.bench``, ``dclib bench``) and the performance page
(``dclib.book.papers.performance``)."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest

from dclib.book import bench
from dclib.book.papers import performance as page
from dclib.cli import main

FOUND = {
    "provenance": {
        "device": "CPU X, 2 cores",
        "threads": 2,
        "torch": "2.14.1",
        "git_commit": "abcdef0123",
        "date": "2026-12-08T03:00:00+00:00",
    },
    "clustpy": "0.0.3",
    "autoencoder": {
        "dclib fp32": 0.7,
        "dclib bf16": 0.35,
        "ClustPy fp32": 1.0,
        "matrix products alone": 0.56,
        "n": 5000,
    },
    "methods": [
        {
            "method": "dec",
            "stage": "cluster",
            "precision": p,
            "library": lib,
            "seconds": s,
        }
        for p, lib, s in (("fp32", "dclib", 0.2), ("bf16", "dclib", 0.1))
    ]
    + [
        {"method": "dec", "stage": "cluster", "precision": "fp32"}
        | {"library": "ClustPy", "seconds": 0.4},
        {"method": "dssl", "stage": "pretrain", "precision": "fp32"}
        | {"library": "dclib", "seconds": 3.0},
        {"method": "dssl", "stage": "pretrain", "precision": "bf16"}
        | {"library": "dclib", "seconds": 2.0},
    ],
    "precision": [
        {"method": "idec", "precision": "fp32", "seconds": 10.0, "acc": 0.5}
        | {"nmi": 0.4, "ari_to_fp32": 1.0},
        {"method": "idec", "precision": "bf16", "seconds": 5.0, "acc": 0.52}
        | {"nmi": 0.41, "ari_to_fp32": 0.8},
    ],
    "scaling": [
        {"operation": op, "n": n, "seconds": n / 1000, "peak_mb": n / 100}
        for op in bench.OPERATIONS
        for n in (1000, 5000, 20000, 70000)
    ],
}


def test_the_headline_states_both_ratios():
    assert page.headline(FOUND) == (
        "On 5,000 images: dclib's fp32 epoch takes 0.70× ClustPy's (0.700 s against "
        "1.000 s), and bf16 runs the same epoch 2.00× faster than dclib's fp32. The "
        "epoch's fp32 matrix products alone take 0.560 s, 0.56× ClustPy's epoch and "
        "80 % of dclib's: the floor under an fp32 epoch of this network in PyTorch "
        "on this machine; the rest of dclib's step (the optimiser, activations, the "
        "loss) takes the other 20 %."
    )
    table = page.autoencoder(FOUND)
    assert table.loc["dclib fp32", "time ÷ ClustPy's"] == "0.700"
    assert table.loc["dclib bf16", "speed-up over dclib fp32"] == "2.000"
    assert table.loc["matrix products alone", "speed-up over dclib fp32"] == "—"


def test_the_methods_table_pairs_each_stage_across_precisions_and_libraries():
    table = page.methods(FOUND).set_index("stage", append=True)
    assert table.loc[("DEC", "clustering"), "bf16 speed-up"] == "2.000"
    assert table.loc[("DEC", "clustering"), "dclib fp32 ÷ ClustPy"] == "0.500"
    assert table.loc[("DSSL", "pretraining"), "bf16 speed-up"] == "1.500"
    assert table.loc[("DSSL", "pretraining"), "ClustPy fp32"] == "—"


def test_precision_and_scaling_read_every_row():
    frame = page.precision(FOUND)
    assert list(frame.index) == ["IDEC", "IDEC"]
    assert list(frame["ACC (%)"]) == ["50.0", "52.0"]
    assert list(frame["ARI to fp32 (%)"]) == ["100.0", "80.0"]
    fig = page.scaling_figure(FOUND)
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [4] * 5
    plt.close(fig)
    assert "70,000" in page.scaling_table(FOUND)._repr_html_()
    assert "commit `abcdef0`" in page.provenance(FOUND)


def test_the_committed_benchmark_has_every_study_and_its_provenance():
    found = page.committed()
    assert found is not None, "results/bench/cpu.json is committed"
    assert {"autoencoder", "methods", "precision", "scaling"} <= found.keys()
    assert not found["provenance"]["git_commit"].endswith("+dirty")
    methods = {r["method"] for r in found["methods"] if r["library"] == "dclib"}
    assert methods == set(bench.METHODS)


def test_dclib_bench_smoke_writes_the_studies(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["bench", "--smoke", "--threads", "1", "--out", str(out)])
    found = json.loads(out.read_text())
    assert found["provenance"]["threads"] == 1
    assert found["autoencoder"]["dclib fp32"] > 0
    assert {r["operation"] for r in found["scaling"]} == set(bench.OPERATIONS)
    assert {r["precision"] for r in found["precision"]} == {"fp32", "bf16"}
    assert "benchmark:" in capsys.readouterr().out


def test_dclib_bench_refuses_bad_threads(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["bench", "--threads", "0"])
    assert stop.value.code == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
