"""Plotting helpers that every notebook shares; each returns a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dclib.data import Dataset

MIN_POINTS = 4
"""the fewest points drawn as a curve: a shorter series is drawn as markers alone,
its legend saying how many points it has"""

AXIS_NAMES = {
    "acc": "ACC",
    "nmi": "NMI",
    "loss": "loss",
    "l_r": "reconstruction loss L_r",
    "l_c": "clustering loss L_c",
    "fr": "Feature Randomness Δ_FR",
    "fd": "Feature Drift Δ_FD",
    "tau": "share of the samples (τ)",
    "id": "ID (TwoNN)",
    "lid": "LID (PCA, 90 %)",
    "twist": "twist: LID − ID",
    "pairs": "share of a batch's pairs",
    "true_before": "same-class share, all M",
    "true_after": "same-class share, reliable",
    "isolated": "points with no neighbour",
}
"""readable axis names of the logged keys (a key not listed is its own name)"""


def series_style(n: int) -> dict[str, Any]:
    """How a series of ``n`` points is drawn: a curve with a marker per point, or,
    below ``MIN_POINTS``, markers alone (no line: no curve)."""
    if n >= MIN_POINTS:
        return {"marker": "o", "ms": 3}
    return {"ls": "", "marker": "D", "ms": 6}


def thousands(value: float, _pos: int) -> str:
    """A tick label: 12000 -> "12k" (iteration axes), small values as they are."""
    return f"{value / 1000:g}k" if abs(value) >= 1000 else f"{value:g}"


def _ticks(ax, integer: bool = True) -> None:
    """At most five x ticks, large counts in thousands, so that labels never meet."""
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=integer))
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))


LEGEND_INCHES = 0.5
"""the room a one-row class legend takes below a figure's panels"""


def class_legend(fig: Figure, y: np.ndarray) -> None:
    """One legend for the whole figure naming the classes of ``y`` by their colour
    (the ``tab10`` colours of ``c=y``), below the panels, which it lays out above
    it."""
    classes = np.unique(y)
    cmap = plt.get_cmap("tab10")
    norm = plt.Normalize(classes.min(), classes.max())
    handles = [
        Line2D([], [], ls="", marker="o", ms=5, color=cmap(norm(c)), label=str(c))
        for c in classes
    ]
    fig.legend(
        handles=handles,
        title="true class",
        loc="lower center",
        ncol=len(classes),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0),
    )
    fig.tight_layout(rect=(0, LEGEND_INCHES / fig.get_figheight(), 1, 1))


def _panels(n: int, size: float = 3.2, cols: int = 3):
    """A figure of ``n`` square panels, at most ``cols`` per row (never shrunk to
    a thin strip), with room below for a class legend."""
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(size * cols, size * rows + 0.6), squeeze=False
    )
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, axes.flat[:n]


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


def image_rows(rows: dict[str, np.ndarray]) -> Figure:
    """One labelled row of images (n, C, H, W) per entry of ``rows``."""
    n = max(len(imgs) for imgs in rows.values())
    fig, axes = plt.subplots(
        len(rows), n, figsize=(n * 0.7, len(rows) * 0.8), squeeze=False
    )
    for ax_row, (name, imgs) in zip(axes, rows.items(), strict=True):
        for ax, img in zip(ax_row, imgs, strict=False):
            ax.imshow(np.clip(img[0], 0, 1), cmap="gray_r", vmin=0, vmax=1)
        for ax in ax_row:
            ax.set_axis_off()
        ax_row[0].set_title(name, loc="left", fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def reconstructions(x: np.ndarray, rows: dict[str, np.ndarray]) -> Figure:
    """Originals (first row) above each model's outputs; images (n, C, H, W)."""
    return image_rows({"original": x, **rows})


def embeddings(
    codes: dict[str, np.ndarray], y: np.ndarray, *, n: int = 2000, seed: int = 0
) -> Figure:
    """t-SNE of each latent space (the same ``n`` random samples), coloured by class,
    three panels per row, with the classes' legend."""
    from sklearn.manifold import TSNE

    idx = np.random.default_rng(seed).permutation(len(y))[:n]
    fig, axes = _panels(len(codes))
    for ax, (name, z) in zip(axes, codes.items(), strict=True):
        e = TSNE(random_state=seed, init="pca").fit_transform(z[idx])
        ax.scatter(e[:, 0], e[:, 1], c=y[idx], cmap="tab10", s=3)
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    class_legend(fig, y[idx])
    return fig


def assignment_bars(ds: Dataset, q: np.ndarray) -> Figure:
    """The first image of each class above the bar chart of its soft assignment
    (DSSL Fig. 3, DCSS Fig. 7, DML Fig. 4); ``q`` (n, K) holds the assignments of
    all of ``ds``, values in [0, 1]."""
    if ds.image_shape is None:
        raise ValueError(f"{ds.name} holds feature vectors, not images")
    one = np.array([np.flatnonzero(ds.y == c)[0] for c in np.unique(ds.y)])
    images, q = ds.X[one], q[one]
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.2), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i].transpose(1, 2, 0).squeeze(), cmap="gray")
        axes[0, i].set_axis_off()
        axes[1, i].bar(np.arange(q.shape[1]), q[i], color="C0")
        axes[1, i].set_ylim(0, 1)
        axes[1, i].set_xticks([])
        axes[1, i].set_yticks([] if i else [0, 1])
    fig.tight_layout()
    return fig


def sweeps(frames: dict, *, x: str = "setting", metrics=("acc", "nmi")) -> Figure:
    """Scores (in %) against swept settings: one column per frame of ``frames``
    (title -> rows with ``x``, the metrics and optionally ``method``, one line per
    method), one row per metric (DSSL Figs. 6-8, DCSS Figs. 6, 9 and 10b)."""
    fig, axes = plt.subplots(
        len(metrics),
        len(frames),
        figsize=(3 * len(frames), 2.4 * len(metrics)),
        squeeze=False,
    )
    for j, (title, frame) in enumerate(frames.items()):
        groups = frame.groupby("method") if "method" in frame else [(None, frame)]
        for name, g in groups:
            for i, m in enumerate(metrics):
                axes[i, j].plot(g[x].astype(str), 100 * g[m], marker="o", label=name)
                axes[i, j].set_ylabel(f"{m.upper()} (%)")
        axes[0, j].set_title(title, fontsize=9)
        axes[-1, j].set_xlabel(x)
        if "method" in frame:
            axes[0, j].legend(fontsize=7)
    fig.tight_layout()
    return fig


def legend_below(fig: Figure, axes) -> None:
    """One legend for the figure, below its panels, naming every series once."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if len(seen) < 2:
        fig.tight_layout()
        return
    cols = min(3, len(seen))
    rows = -(-len(seen) // cols)
    fig.legend(
        seen.values(),
        seen.keys(),
        loc="lower center",
        ncol=cols,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0),
    )
    height = fig.get_figheight()
    fig.set_figheight(height + 0.22 * rows)
    fig.tight_layout(rect=(0, 0.22 * rows / (height + 0.22 * rows), 1, 1))


def curves(
    histories: dict[str, list[dict]],
    keys: Sequence[str],
    *,
    mark: float | None = None,
    log: bool = False,
    x: str | None = None,
) -> Figure:
    """Per-epoch values of ``keys`` (one panel each, named by ``AXIS_NAMES``) for
    several runs, each epoch a marker, one legend below the panels; a run of fewer
    than ``MIN_POINTS`` points is drawn as markers alone (no line: no curve) and its
    legend says how many. ``mark`` draws a vertical line at that epoch (e.g. DCSS's
    T2); ``log`` a logarithmic y axis; ``x`` a record field for the horizontal axis
    instead of the epoch (e.g. "iteration"), or "progress": each run's own course
    from 0 (its first point) to 1 (its last), for runs of different lengths."""
    cols = 2 if len(keys) == 4 else min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, grid = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False
    )
    for ax in grid.flat[len(keys) :]:
        ax.set_axis_off()
    axes = grid.flat[: len(keys)]
    for ax, key in zip(axes, keys, strict=True):
        for name, h in histories.items():
            kept = [r for r in h if key in r]
            if not kept:
                continue
            if x is None:
                xs = list(range(1, len(kept) + 1))
            elif x == "progress":
                xs = list(np.linspace(0, 1, len(kept)))
            else:
                xs = [r[x] for r in kept]
            ys = [r[key] for r in kept]
            label = name
            if len(kept) < MIN_POINTS:
                label += f" ({len(kept)} point{'s' if len(kept) > 1 else ''})"
            ax.plot(xs, ys, label=label, **series_style(len(kept)))
        if log:
            ax.set_yscale("log")
        _ticks(ax, integer=x != "progress")
        if mark is not None:
            ax.axvline(mark + 0.5, color="grey", ls="--", lw=1)
        ax.set_xlabel({None: "epoch", "progress": "progress through the run"}.get(x, x))
        ax.set_ylabel(AXIS_NAMES.get(key, key))
    legend_below(fig, axes)
    return fig


def onehot_residuals(q: np.ndarray) -> Figure:
    """Histogram of h_i = ||I_i - q_i||_1 = 2 (1 - max_k q_ik), the distance of each
    q to its one-hot crisp assignment (DCSS Fig. 8)."""
    fig, ax = plt.subplots(figsize=(5, 2.6))
    ax.hist(2 * (1 - q.max(1)), bins=40, range=(0, 2))
    ax.set_xlabel("||I_i - q_i||_1")
    ax.set_ylabel("samples")
    return fig


def q_plane(
    samples: dict[str, tuple[np.ndarray, np.ndarray]], bounds: dict[str, float]
) -> Figure:
    """Pairs of q-vectors in the (q_i . q_j, min(max q_i, max q_j)) plane, one panel
    per sample; each sample maps to (qi, qj) aligned (n, K) arrays. Pairs are
    coloured by whether their argmaxes agree; Theorem 1's diagonal and a vertical
    line per entry of ``bounds`` (label -> inner-product value) are drawn."""
    fig, axes = plt.subplots(
        1,
        len(samples),
        figsize=(3.4 * len(samples), 3.3),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    styles = ["--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3))]
    for ax, (name, (qi, qj)) in zip(axes[0], samples.items(), strict=True):
        dots = (qi * qj).sum(1)
        peaks = np.minimum(qi.max(1), qj.max(1))
        same = qi.argmax(1) == qj.argmax(1)
        for mask, label, colour in (
            (same, "same argmax", "C0"),
            (~same, "different argmax", "C3"),
        ):
            ax.scatter(dots[mask], peaks[mask], s=3, alpha=0.4, c=colour, label=label)
        ax.plot([0, 1], [0, 1], color="k", lw=1, label="Theorem 1: x = y")
        for (label, x), ls in zip(bounds.items(), styles, strict=False):
            ax.axvline(x, color="grey", ls=ls, lw=1, label=label)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("q_i . q_j")
    axes[0, 0].set_ylabel("min(max q_i, max q_j)")
    axes[0, -1].legend(fontsize=6, loc="lower right", markerscale=3)
    fig.tight_layout()
    return fig


def difficult_centres(
    panels: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    y: np.ndarray,
    *,
    n: int = 2000,
    seed: int = 0,
) -> Figure:
    """DML Fig. 3: per panel (name -> codes (n, d), centres (K, d), difficult (K,)
    bool), the codes and centres projected on the codes' first two principal axes;
    difficult centres as red circles, easy ones as green triangles."""
    idx = np.random.default_rng(seed).permutation(len(y))[:n]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.2 * len(panels), 3.2), squeeze=False
    )
    for ax, (name, (z, mu, hard)) in zip(axes[0], panels.items(), strict=True):
        e, c = principal_projection(z, z[idx], mu)
        ax.scatter(e[:, 0], e[:, 1], c=y[idx], cmap="tab10", s=2, alpha=0.3)
        ax.scatter(
            *c[hard].T, marker="o", s=60, c="red", edgecolors="k", label="difficult"
        )
        ax.scatter(
            *c[~hard].T, marker="^", s=60, c="green", edgecolors="k", label="easy"
        )
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def dynamics(checks: list[dict], *, conflicted: str = "tau") -> Figure:
    """The conflicted and unconflicted shares of the samples against the iteration,
    with a dashed line where the centres and thresholds were renewed (DynAE Fig. 9);
    ``checks`` are a run's ``checks`` records."""
    it = np.array([r["iteration"] for r in checks])
    tau = np.array([r[conflicted] for r in checks])
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.plot(it, 1 - tau, label="unconflicted", **series_style(len(it)))
    ax.plot(it, tau, label="conflicted (τ)", **series_style(len(it)))
    for r in checks:
        if r.get("centres_updated"):
            ax.axvline(r["iteration"], color="grey", ls="--", lw=1)
    _ticks(ax)
    ax.set_xlabel("iteration")
    ax.set_ylabel("share of the samples")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def principal_projection(z: np.ndarray, *points: np.ndarray) -> list[np.ndarray]:
    """``points`` (each (k, d)) on the first two principal axes of the codes ``z``."""
    mean = z.mean(0)
    axes2 = np.linalg.svd(z - mean, full_matrices=False)[2][:2].T  # (d, 2)
    return [(p - mean) @ axes2 for p in points]


def principal_plane(z: np.ndarray, y: np.ndarray, mu: np.ndarray | None = None):
    """The codes ``z`` on their first two principal axes, coloured by class (with the
    classes' legend), with the centres ``mu`` as black crosses (DynAE Fig. 17)."""
    e, c = principal_projection(z, z, z[:0] if mu is None else mu)
    fig, ax = plt.subplots(figsize=(5, 5.4))
    ax.scatter(e[:, 0], e[:, 1], c=y, cmap="tab10", s=2)
    ax.scatter(c[:, 0], c[:, 1], c="k", marker="x", s=40)
    ax.set_axis_off()
    class_legend(fig, y)
    return fig


def planes(codes: dict[str, np.ndarray], y: np.ndarray) -> Figure:
    """Several latent spaces side by side, each on its own first two principal axes
    (a 2-D space as it is, up to a rotation), coloured by class, with the classes'
    legend (R-DC Figs. 2, 16)."""
    fig, axes = _panels(len(codes))
    for ax, (name, z) in zip(axes, codes.items(), strict=True):
        (e,) = principal_projection(z, z)
        ax.scatter(e[:, 0], e[:, 1], c=y, cmap="tab10", s=2)
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    class_legend(fig, y)
    return fig


def most_confident(images: np.ndarray, q: np.ndarray, per_cluster: int = 10):
    """For each cluster k, the ``per_cluster`` images with the highest q_ik, one row
    per cluster (DynAE Fig. 18); ``images`` (n, C, H, W), ``q`` (n, K)."""
    top = np.argsort(-q, axis=0)[:per_cluster]  # (per_cluster, K)
    return image_rows({f"cluster {k}": images[top[:, k]] for k in range(q.shape[1])})


def atlas(frame: pd.DataFrame, key: str, label: str) -> Figure:
    """One diagnostic of ``leaderboard.atlas`` along training for every method: a
    panel per page (paper), a line per method over its training progress (0: after
    pretraining, or the start of the run it continues; 1: the end), a single marker
    for a method with one point (k-means on a pretrained network). A method whose
    own last point has no value of ``key`` is left out, and a page with none."""
    own = frame.groupby("method", sort=False)[key].transform(lambda v: v.iloc[-1])
    own = own.notna()
    frame = frame[own]  # a method with no value of its own (DML's encoders: no Δ_FR)
    pages = list(dict.fromkeys(frame["page"]))
    cols = min(3, len(pages))
    rows = -(-len(pages) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 2.8 * rows), sharey=True, squeeze=False
    )
    for ax, page in zip(axes.flat, pages, strict=False):
        here = frame[frame["page"] == page]
        for method, curve in here.groupby("method", sort=False):
            style = "o" if len(curve) == 1 else ".-"
            ax.plot(curve["progress"], curve[key], style, ms=4, lw=1.2, label=method)
        ax.set_title(page, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    for ax in axes.flat[len(pages) :]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel(label, fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("training progress", fontsize=8)
    fig.tight_layout()
    return fig
