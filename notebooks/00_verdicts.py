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
# # Did the papers reproduce?
#
# One row per claim of the five papers, from the claims ledger
# (`dclib.book.claims.CLAIMS`): their headline orderings, the sensitivity statements
# they make in words and DCSS's theorems, each with its verdict by the one rule of
# the introduction ({ref}`verdicts`) on the seeds of the **committed reference**
# (the papers' protocol on the full offline data): the mean over seeds with its 95 %
# interval. This execution's quick runs decide nothing; the same rows open each
# paper's page and close the leaderboard.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper (this page reads the reference only)
dataset = None  # None: the profile's (this page reads the reference only)
seeds = None  # None: the profile's (this page reads the reference only)
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
from dclib.book import report

report.ledger_table()

# %% [markdown]
# *Evidence* is the committed reference on the claim's data: the conv-autoencoder
# methods (DSSL, DCSS, DML) on the 5,000 MNIST images of `mnist5k`, the
# MLP-autoencoder methods (DynAE, R-DC, X + MNet and the baselines they beat) on the
# 70,000 images of Fashion-MNIST; a sensitivity statement reads its page's grid study
# in the reference. *Seeds* says the design: "own pretraining" when each seed
# pretrains its autoencoder anew, "one pretraining" when the seeds cluster on one
# committed pretrained network (seed 0's; `dclib.pretrained`), so that the verdict
# covers the clustering's randomness (k-means draws, batch order) but not the
# pretraining's. Each link leads to the page's *Did it reproduce?* box, whose page
# holds the tables and figures and the reference's provenance (commit, device, date,
# epochs and CPU caps). *No evidence* means the reference does not yet hold the runs
# on the same data and seeds.
