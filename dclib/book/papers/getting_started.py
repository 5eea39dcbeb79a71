"""The getting-started page: k-means on raw pixels beside DCSS Table 1."""

from __future__ import annotations

import pandas as pd

from dclib.book import recipes
from dclib.book.paper_tables import PAPER_DATASETS, paper_results
from dclib.book.profiles import Run
from dclib.data import Dataset


def kmeans_vs_paper(run: Run, ds: Dataset, ours: dict[str, float]) -> pd.DataFrame:
    """Our k-means on the raw pixels of ``ds`` (``ours``: "ACC", "NMI" as fractions)
    beside DCSS Table 1's k-means row on each of its columns that holds the run's
    dataset, in %, one row per source; our row alone where no paper reports it."""
    paper = paper_results(paper="dcss", table="Table 1", method="k-means")
    paper = paper[paper.dataset.isin(PAPER_DATASETS.get(run.dataset, ()))]
    rows = {
        f"ours ({recipes.describe_data(run, ds, [run.seed])})": {
            k: 100 * v for k, v in ours.items()
        }
    }
    for d, grp in paper.groupby("dataset"):
        rows[f"paper (DCSS Table 1, {d})"] = grp.set_index("metric")["value"]
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("source")
