"""The getting-started page's k-means table (``dclib.book.papers.getting_started``):
our k-means on raw pixels beside DCSS Table 1's, or alone."""

from __future__ import annotations

import numpy as np
import pytest

from dclib.book.papers import getting_started
from dclib.book.profiles import Run, get_profile
from dclib.data import Dataset


def _data(name: str) -> Dataset:
    y = np.arange(20, dtype=np.int64) % 2
    return Dataset(
        (0.5 * y[:, None] + np.zeros((20, 3))).astype(np.float32), y, 2, None, name
    )


def test_our_kmeans_sits_beside_dcss_table_1_on_its_dataset():
    run = Run(get_profile("smoke"), "fmnist", (3,), "cpu")
    table = getting_started.kmeans_vs_paper(
        run, _data("fmnist"), {"ACC": 0.5, "NMI": 0.25}
    )
    ours = "ours (smoke profile, fmnist, n = 20, seed 3)"
    assert list(table.index) == [ours, "paper (DCSS Table 1, Fashion MNIST)"]
    assert table.index.name == "source"
    assert table.loc[ours].to_dict() == {"ACC": 50.0, "NMI": 25.0}
    paper = table.loc["paper (DCSS Table 1, Fashion MNIST)"]
    assert paper["ACC"] == pytest.approx(47.4) and paper["NMI"] == pytest.approx(51.2)


def test_our_row_stands_alone_where_no_paper_reports_the_dataset():
    run = Run(get_profile("smoke"), "digits", (0,), "cpu")
    table = getting_started.kmeans_vs_paper(
        run, _data("digits"), {"ACC": 0.8, "NMI": 0.7}
    )
    assert len(table) == 1 and table.iloc[0]["ACC"] == pytest.approx(80.0)
