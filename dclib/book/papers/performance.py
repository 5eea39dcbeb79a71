"""The performance page: the committed benchmark of ``dclib bench``
(``dclib.book.bench``) as tables and figures, with its provenance."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dclib.book import bench, plotting
from dclib.book.tables import Folded

OPERATION_NAMES = {
    "encode": "encode all images",
    "epoch": "one training epoch",
    "pairwise": "pairwise loss, all batches",
    "kmeans": "k-means (10 restarts)",
    "knn": "kNN graph (k = 10)",
}
METHOD_NAMES = {"ae_kmeans": "AE + k-means", "dynae": "DynAE", "rdc": "R-DC"}
"""display names where the method's name in capitals is not one"""
STAGE_NAMES = {
    "pretrain": "pretraining",
    "cluster": "clustering",
    "phase1": "phase 1",
    "phase2": "phase 2 (MNet)",
}


def committed() -> dict[str, Any] | None:
    """The committed CPU benchmark, or None where none is committed."""
    return bench.load() if bench.CPU_FILE.exists() else None


def provenance(found: dict[str, Any]) -> str:
    """One sentence: what machine, threads, commit and date measured ``found``."""
    p = found["provenance"]
    clustpy = found["clustpy"] or "not installed"
    return (
        f"Measured by `dclib bench` on {p['device']}, torch {p['torch']}, ClustPy "
        f"{clustpy}, at commit `{p['git_commit'][:7]}` on {p['date'][:10]}."
    )


FLOOR = "matrix products alone"
"""the benchmark's row of an epoch's fp32 matrix products without the rest"""


def autoencoder(found: dict[str, Any]) -> pd.DataFrame:
    """Seconds per MLP-autoencoder epoch of each library and precision and of its
    matrix products alone, with the ratio to ClustPy's and dclib's speed-up over
    its fp32 epoch."""
    ae = found["autoencoder"]
    order = ("dclib fp32", "dclib bf16", "ClustPy fp32", FLOOR)
    rows = [k for k in order if k in ae]
    frame = pd.DataFrame({"seconds per epoch": [ae[k] for k in rows]}, index=rows)
    if "ClustPy fp32" in ae:
        frame["time ÷ ClustPy's"] = frame["seconds per epoch"] / ae["ClustPy fp32"]
    speed = ae["dclib fp32"] / frame["seconds per epoch"]
    frame["speed-up over dclib fp32"] = speed.where(frame.index.str.startswith("dclib"))
    return _shown(frame)


def headline(found: dict[str, Any]) -> str:
    """The two acceptance numbers in a sentence, and the floor."""
    ae = found["autoencoder"]
    bf16 = ae["dclib fp32"] / ae["dclib bf16"]
    text = f"bf16 runs the same epoch {bf16:.2f}× faster than dclib's fp32"
    if "ClustPy fp32" in ae:
        ratio = ae["dclib fp32"] / ae["ClustPy fp32"]
        text = (
            f"dclib's fp32 epoch takes {ratio:.2f}× ClustPy's "
            f"({ae['dclib fp32']:.3f} s against {ae['ClustPy fp32']:.3f} s), and "
            + text
        )
    text = f"On {ae['n']:,} images: {text}."
    if FLOOR in ae and "ClustPy fp32" in ae:
        share = ae[FLOOR] / ae["dclib fp32"]
        text += (
            f" The epoch's fp32 matrix products alone take {ae[FLOOR]:.3f} s, "
            f"{ae[FLOOR] / ae['ClustPy fp32']:.2f}× ClustPy's epoch and "
            f"{100 * share:.0f} % of dclib's: the floor under an fp32 epoch of this "
            "network in PyTorch on this machine; the rest of dclib's step (the "
            "optimiser, activations, the loss) takes the other "
            f"{100 - 100 * share:.0f} %."
        )
    return text


def methods(found: dict[str, Any]) -> pd.DataFrame:
    """Seconds per epoch of every method's stages: dclib fp32 and bf16, and ClustPy
    where it has the method ("—" where it has not)."""
    frame = pd.DataFrame(found["methods"])
    frame["column"] = frame["library"] + " " + frame["precision"]
    table = frame.pivot_table(
        index=["method", "stage"], columns="column", values="seconds", sort=False
    )
    table["bf16 speed-up"] = table["dclib fp32"] / table["dclib bf16"]
    if "ClustPy fp32" in table:
        table["dclib fp32 ÷ ClustPy"] = table["dclib fp32"] / table["ClustPy fp32"]
    table = table.rename(index=STAGE_NAMES, level="stage").reset_index()
    table["method"] = table["method"].map(display_name)
    table.columns.name = None
    return _shown(table.set_index("method"))


def precision(found: dict[str, Any]) -> pd.DataFrame:
    """fp32 against bf16: wall time, ACC, NMI (%) and the ARI of the bf16 labels
    against the fp32 ones."""
    frame = pd.DataFrame(found["precision"])
    frame["method"] = frame["method"].map(display_name)
    frame["ACC (%)"] = 100 * frame["acc"]
    frame["NMI (%)"] = 100 * frame["nmi"]
    frame["ARI to fp32 (%)"] = 100 * frame["ari_to_fp32"]
    columns = [
        "method",
        "precision",
        "seconds",
        "ACC (%)",
        "NMI (%)",
        "ARI to fp32 (%)",
    ]
    return _shown(frame[columns].set_index("method"))


def display_name(method: str) -> str:
    """A method's name on the page: ``METHOD_NAMES``, else in capitals."""
    return METHOD_NAMES.get(method, method.upper())


def _shown(frame: pd.DataFrame, places: int = 3) -> pd.DataFrame:
    """``frame`` as the page shows it: ``places`` decimals (a percentage one), "—"
    for a missing value, the index without its name."""
    out = frame.rename_axis(None)
    for label in out.columns:
        if pd.api.types.is_float_dtype(out[label]):
            shown = f"{{:.{1 if '%' in str(label) else places}f}}"
            out[label] = out[label].map(
                lambda v, f=shown: "—" if pd.isna(v) else f.format(v)
            )
    return out


def precision_sentence(found: dict[str, Any]) -> str:
    """bf16 against fp32 per method, in words: time, ACC and label agreement."""
    frame = pd.DataFrame(found["precision"]).set_index(["method", "precision"])
    parts = []
    for method in frame.index.unique("method"):
        fp32, bf16 = frame.loc[(method, "fp32")], frame.loc[(method, "bf16")]
        name = display_name(method)
        parts.append(
            f"{name} took {bf16.seconds / fp32.seconds:.2f}× fp32's time in bf16, "
            f"with ACC {100 * bf16.acc:.1f} % against "
            f"{100 * fp32.acc:.1f} % and an ARI of {bf16.ari_to_fp32:.2f} between "
            "the two label sets"
        )
    return "; ".join(parts) + "."


def scaling_sentence(found: dict[str, Any]) -> str:
    """How much each operation's time and peak memory grow from the fewest images
    to the most, in words."""
    frame = pd.DataFrame(found["scaling"])
    small, large = frame.n.min(), frame.n.max()
    parts = []
    for op, part in frame.groupby("operation", sort=False):
        first = part[part.n == small].iloc[0]
        last = part[part.n == large].iloc[0]
        parts.append(
            f"{OPERATION_NAMES[op]} {last.seconds / first.seconds:,.0f}× in time "
            f"({last.seconds:.2f} s at {large:,}), peak memory {first.peak_mb:,.0f} "
            f"MB to {last.peak_mb:,.0f} MB"
        )
    return (
        f"From {small:,} to {large:,} images ({large / small:,.0f}× as many): "
        + "; ".join(parts)
        + "."
    )


def scaling_figure(found: dict[str, Any]) -> Figure:
    """Seconds (log-log) and peak memory of each operation against the number of
    images, one legend below."""
    frame = pd.DataFrame(found["scaling"])
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0))
    for op, part in frame.groupby("operation", sort=False):
        part = part.sort_values("n")
        style = plotting.series_style(len(part))
        axes[0].plot(part.n, part.seconds, label=OPERATION_NAMES[op], **style)
        axes[1].plot(part.n, part.peak_mb, label=OPERATION_NAMES[op], **style)
    for ax, label in zip(axes, ("seconds", "peak memory (MB)"), strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("images")
        ax.set_ylabel(label)
        ax.xaxis.set_major_formatter(FuncFormatter(plotting.thousands))
    axes[0].set_yscale("log")
    plotting.legend_below(fig, axes)
    return fig


def scaling_table(found: dict[str, Any]) -> Folded:
    """The scaling numbers, folded."""
    frame = pd.DataFrame(found["scaling"])
    frame["operation"] = frame["operation"].map(OPERATION_NAMES)
    seconds = frame.pivot_table(
        index="operation", columns="n", values="seconds", sort=False
    )
    memory = frame.pivot_table(
        index="operation", columns="n", values="peak_mb", sort=False
    )
    seconds.columns = [f"{n:,}" for n in seconds.columns]
    memory.columns = [f"{n:,}" for n in memory.columns]
    return Folded(
        "The numbers behind the figure: seconds, then peak memory (MB), by images",
        _shown(seconds),
        _shown(memory, places=1),
    )
