"""The papers' own numbers: ``results/paper_results.csv`` holds every number of every
table of the five papers (columns ``paper, table, method, dataset, setting, metric,
value, std, note``); this module looks them up and sets ours beside them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dclib.book.cache import TABLES_DIR, RunResult, seed_table
from dclib.book.catalog import PAGE_LABELS, PaperName

PAPER_DATASETS: dict[str, tuple[str, ...]] = {
    "mnist": ("MNIST", "MNIST-full"),
    "mnist5k": ("MNIST", "MNIST-full"),
    "mnist-test": ("MNIST-test",),
    "fmnist": ("Fashion MNIST", "Fashion-MNIST", "FMNIST"),
    "2mnist": ("2MNIST",),
    "usps": ("USPS",),
    "cifar10": ("CIFAR-10", "CIFAR10"),
    "cifar100-20": ("CIFAR-100", "CIFAR100"),
    "pneumoniamnist": ("PneumoniaMNIST",),
    "breastmnist": ("BreastMNIST",),
    "bloodmnist": ("BloodMNIST",),
    "vesselmnist3d": ("VesselMNIST3D",),
    "stl10": ("STL-10", "STL10"),
}
"""Our dataset names -> the names the papers' tables use for the same data.

``mnist5k`` (a 5,000-image subset) maps to the papers' full MNIST: a page comparing
them must say that the data differ.
"""


PAPER_LABELS = {
    page: label for page, label in PAGE_LABELS.items() if page != "baselines"
}
"""How each paper's key is written in captions and table headers."""


def paper_results(**where: str) -> pd.DataFrame:
    """Rows of ``results/paper_results.csv`` matching every ``column=value`` given.

    ``dataset`` takes our dataset names (``fmnist``) and matches every spelling the
    papers use (``Fashion MNIST``, ``FMNIST``, ...); other columns match exactly.
    """
    df = pd.read_csv(TABLES_DIR / "paper_results.csv", dtype={"setting": str})
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


def in_percent(row: Any) -> float:
    """A ``paper_results`` row's value in % (DynAE's tables give fractions, noted
    "fraction" in the CSV)."""
    return float(row["value"]) * (100 if str(row["note"]).startswith("fraction") else 1)


def paper_entry(source: str, name: PaperName, dataset: str) -> pd.DataFrame:
    """The ``paper_results`` rows (one per metric) of one entry of a paper's table on
    ``dataset``: ``source`` is "paper:table", ``name`` a ``PaperName``. A plain name
    matches the rows without a setting only: in a table of settings it names no
    one entry."""
    paper, table = source.split(":")
    method, setting = (name, None) if isinstance(name, str) else name
    rows = paper_results(paper=paper, table=table, method=method, dataset=dataset)
    if setting is None:
        return rows[rows.setting.isna()].reset_index(drop=True)
    return rows[rows.setting == setting].reset_index(drop=True)


def paper_acc(source: str, name: PaperName, dataset: str) -> float | None:
    """The ACC (in %) of one entry of a paper's table on ``dataset``
    (``paper_entry``); None where the table gives none."""
    acc = paper_entry(source, name, dataset).query("metric == 'ACC'")
    return None if acc.empty else in_percent(acc.iloc[0])


def ours_vs_paper(
    results: dict[str, dict[int, RunResult]],
    rows: dict[str, dict[str, PaperName]],
    dataset: str,
    label: str = "ours",
    metrics: tuple[str, ...] = ("acc", "nmi", "nmi_arithmetic"),
) -> pd.DataFrame:
    """Our mean ± std over seeds beside the papers' numbers, in %.

    ``results[method][seed]`` are our runs; ``rows[method]`` maps ``"paper:table"``
    to the method's name in that table (e.g. ``{"dcss:Table 1": "DEC"}``; see
    ``paper_entry`` for a table whose rows are settings). NMI is
    compared with the normalisation each paper uses (DynAE: arithmetic mean).
    ``label`` heads our columns (e.g. "reference" for committed results);
    ``metrics`` are ours to show (R-DC's tables: ACC and F1 macro).
    """
    names = {
        "acc": "ACC",
        "nmi": "NMI",
        "nmi_arithmetic": "NMI (arith.)",
        "f1_macro": "F1 Macro",
    }
    table = {}
    for method, runs in results.items():
        ours = seed_table(runs, metrics)
        row = {(label, names[k]): v for k, v in ours.items()}
        for source, name in rows.get(method, {}).items():
            paper, tab = source.split(":")
            for _, r in paper_entry(source, name, dataset).iterrows():
                heading = f"{PAPER_LABELS[paper]} {tab}"
                row[(heading, r["metric"])] = f"{in_percent(r):.1f}"
        table[method] = row
    return pd.DataFrame.from_dict(table, orient="index").fillna("—")


def sweep_vs_paper(
    frame: pd.DataFrame, paper: str, table: str, prefix: str = ""
) -> pd.DataFrame:
    """Our scores per setting beside a paper's table of the same sweep, in %.

    ``frame`` has a row per (``method``, ``setting``) with ``acc`` and ``nmi``;
    ``method`` holds the names the paper's table uses. The paper's rows of those
    methods are matched by setting, read from its ``setting`` column with
    ``prefix`` removed (e.g. "r=" for the imbalance tables). Columns: ("ours" or the
    table, metric, setting).
    """
    mine = frame.assign(ACC=100 * frame.acc, NMI=100 * frame.nmi).pivot(
        index="method", columns="setting", values=["ACC", "NMI"]
    )
    theirs = paper_results(paper=paper, table=table)
    theirs = theirs[theirs.method.isin(frame.method.unique())]
    theirs = theirs.assign(
        setting=theirs.setting.str.removeprefix(prefix).astype(frame.setting.dtype)
    ).pivot(index="method", columns=["metric", "setting"], values="value")
    label = f"{PAPER_LABELS[paper]} {table}"
    parts = {"ours": mine, label: theirs}
    parts = {k: v.sort_index(axis=1) for k, v in parts.items()}  # metric, setting
    out = pd.concat(parts, axis=1).round(1)
    return out.rename(columns=lambda v: f"{v:g}" if isinstance(v, float) else v)
