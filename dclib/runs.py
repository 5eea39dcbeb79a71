"""Results on disk: where they live, and the papers' own numbers to compare against.

``results/paper_results.csv`` holds every number of every table of the five papers
(columns ``paper, table, method, dataset, setting, metric, value, std, note``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

RESULTS_DIR = Path(
    os.environ.get("DCLIB_RESULTS", Path(__file__).parents[1] / "results")
)
"""Directory of results (``$DCLIB_RESULTS``, default ``results/`` of the checkout)."""

PAPER_DATASETS: dict[str, tuple[str, ...]] = {
    "mnist": ("MNIST", "MNIST-full"),
    "mnist5k": ("MNIST", "MNIST-full"),
    "mnist-test": ("MNIST-test",),
    "fmnist": ("Fashion MNIST", "Fashion-MNIST", "FMNIST"),
    "2mnist": ("2MNIST",),
    "usps": ("USPS",),
    "cifar10": ("CIFAR-10", "CIFAR10"),
    "cifar100-20": ("CIFAR-100", "CIFAR100"),
    "stl10": ("STL-10", "STL10"),
}
"""Our dataset names -> the names the papers' tables use for the same data.

``mnist5k`` (a 5,000-image subset) maps to the papers' full MNIST: a page comparing
them must say that the data differ.
"""


def paper_results(**where: str) -> pd.DataFrame:
    """Rows of ``results/paper_results.csv`` matching every ``column=value`` given.

    ``dataset`` takes our dataset names (``fmnist``) and matches every spelling the
    papers use (``Fashion MNIST``, ``FMNIST``, ...); other columns match exactly.
    """
    df = pd.read_csv(RESULTS_DIR / "paper_results.csv", dtype={"setting": str})
    unknown = set(where) - set(df.columns)
    if unknown:
        raise ValueError(
            f"unknown column(s) {sorted(unknown)}; have {list(df.columns)}"
        )
    for column, value in where.items():
        if column == "dataset":
            if value not in PAPER_DATASETS:
                raise ValueError(
                    f"no paper reports dataset {value!r}; "
                    f"known: {sorted(PAPER_DATASETS)}"
                )
            df = df[df["dataset"].isin(PAPER_DATASETS[value])]
        else:
            df = df[df[column] == value]
    return df.reset_index(drop=True)
