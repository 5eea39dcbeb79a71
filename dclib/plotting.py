"""Plotting helpers that every notebook shares; each returns a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from dclib.data import Dataset


def image_grid(ds: Dataset, per_class: int = 10, seed: int = 0) -> Figure:
    """One row per class, ``per_class`` random images of it (a dataset's first look)."""
    if ds.image_shape is None:
        raise ValueError(f"{ds.name} holds feature vectors, not images")
    rng = np.random.default_rng(seed)
    classes = np.unique(ds.y)
    fig, axes = plt.subplots(
        len(classes),
        per_class,
        figsize=(per_class * 0.6, len(classes) * 0.6),
        squeeze=False,
    )
    for row, c in zip(axes, classes, strict=True):
        members = np.flatnonzero(ds.y == c)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for ax, i in zip(row, picks, strict=False):
            img = ds.X[i].transpose(1, 2, 0)  # (H, W, C)
            ax.imshow(
                img.squeeze(-1) if img.shape[-1] == 1 else img,
                cmap="gray_r",
                vmin=0,
                vmax=1,
            )
        for ax in row:
            ax.set_axis_off()
        row[0].set_title(str(c), x=-0.3, y=0.2, fontsize=8)
    fig.suptitle(f"{ds.name}: {len(ds):,} images, {ds.n_clusters} classes", y=1.0)
    fig.tight_layout(pad=0.1)
    return fig


def class_balance(datasets: Sequence[Dataset]) -> Figure:
    """Share of each class in each dataset, side by side."""
    rows = [
        {"dataset": ds.name, "class": int(c), "share": n / len(ds)}
        for ds in datasets
        for c, n in zip(*np.unique(ds.y, return_counts=True), strict=True)
    ]
    fig, ax = plt.subplots(figsize=(8, 3))
    sns.barplot(pd.DataFrame(rows), x="class", y="share", hue="dataset", ax=ax)
    ax.set_ylabel("fraction of samples")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1), frameon=False)
    fig.tight_layout()
    return fig


def reconstructions(x: np.ndarray, rows: dict[str, np.ndarray]) -> Figure:
    """Originals (first row) above each model's reconstructions; images (n, C, H, W)."""
    rows = {"original": x, **rows}
    n = len(x)
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.7, len(rows) * 0.8),
                             squeeze=False)  # fmt: skip
    for ax_row, (name, imgs) in zip(axes, rows.items(), strict=True):
        for ax, img in zip(ax_row, imgs, strict=True):
            ax.imshow(np.clip(img[0], 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
        ax_row[0].set_title(name, loc="left", fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def loss_curves(histories: dict[str, list[dict]], key: str = "loss") -> Figure:
    """``key`` per epoch for each named history (one line each)."""
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, records in histories.items():
        values = [r[key] for r in records if key in r]
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set(xlabel="epoch", ylabel=key, yscale="log")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def embeddings(
    codes: dict[str, np.ndarray], y: np.ndarray, *, n: int = 2000, seed: int = 0
) -> Figure:
    """t-SNE of each latent space (the same ``n`` random samples), coloured by class."""
    from sklearn.manifold import TSNE

    idx = np.random.default_rng(seed).permutation(len(y))[:n]
    fig, axes = plt.subplots(1, len(codes), figsize=(3 * len(codes), 3), squeeze=False)
    for ax, (name, z) in zip(axes[0], codes.items(), strict=True):
        e = TSNE(random_state=seed, init="pca").fit_transform(z[idx])
        ax.scatter(e[:, 0], e[:, 1], c=y[idx], cmap="tab10", s=2)
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig
