"""The book's figures: legends name every series, axes have readable names, a
short series is never drawn as a curve, tick labels stay short."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from dclib.book import plotting


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _records(n: int, step: int = 5000) -> list[dict]:
    return [{"iteration": i * step, "acc": 0.5 + 0.01 * i} for i in range(n)]


def test_a_series_of_fewer_than_four_points_is_markers_alone():
    fig = plotting.curves({"long": _records(6), "short": _records(2)}, ["acc"])
    ax = fig.axes[0]
    long, short = ax.get_lines()
    assert long.get_linestyle() == "-" and short.get_linestyle() == "None"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["long", "short (2 points)"]  # one legend, below the panels
    assert ax.get_ylabel() == "ACC"


def test_iteration_ticks_read_in_thousands_and_axes_have_names():
    fig = plotting.curves(
        {"R-DC": _records(6), "DEC": _records(8)}, ["acc", "twist"], x="iteration"
    )
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = [
        t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high
    ]
    assert 2 <= len(ticks) <= 6 and all(t == "0" or t.endswith("k") for t in ticks)
    assert fig.axes[1].get_ylabel() == "twist: LID − ID"


def test_four_panels_are_two_by_two_and_progress_scales_each_run():
    keys = ["acc", "tau", "id", "lid"]
    recs = [{"acc": 1.0, "tau": 0.5, "id": 3.0, "lid": 2.0}] * 5
    fig = plotting.curves({"a": recs, "b": recs * 3}, keys, x="progress")
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 2)
    for line in fig.axes[0].get_lines():
        xs = line.get_xdata()
        assert xs[0] == 0 and xs[-1] == 1  # each run from its start to its end


def test_the_atlas_leaves_out_a_method_without_its_own_value():
    frame = pd.DataFrame(
        {
            "page": ["DCSS", "DCSS", "DML", "DML"],
            "method": ["DCSS", "DCSS", "DML-DCN", "DML-DCN"],
            "progress": [0.0, 1.0, 0.0, 1.0],
            "fr": [0.5, 0.9, 0.4, np.nan],  # DML: its base's point, none of its own
        }
    )
    fig = plotting.atlas(frame, "fr", "Δ_FR")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["DCSS"]


def test_embeddings_wrap_at_three_panels_with_a_class_legend():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 6)
    codes = {f"m{i}": rng.normal(size=(60, 4)) for i in range(4)}
    fig = plotting.embeddings(codes, y, n=60)
    grid = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
    assert grid == (2, 3)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [str(c) for c in range(10)]


def test_dynamics_of_fewer_than_four_checks_are_markers_alone():
    checks = [{"iteration": i, "tau": 0.5} for i in range(3)]
    fig = plotting.dynamics(checks)
    assert {line.get_linestyle() for line in fig.axes[0].get_lines()} == {"None"}
    longer = plotting.dynamics([{"iteration": i, "tau": 0.5} for i in range(5)])
    assert {line.get_linestyle() for line in longer.axes[0].get_lines()} == {"-"}
