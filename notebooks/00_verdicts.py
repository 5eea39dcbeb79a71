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
# One row per headline claim of the five papers, from the claims ledger
# (`dclib.book.catalog.CLAIMS`), with its verdict by the one rule of the
# introduction ({ref}`verdicts`): the paired ACC difference between the two runs
# over the seeds of the **committed reference** (the papers' protocol on the full
# offline data), with its 95 % interval. This execution's quick runs decide
# nothing; the same rows open each paper's page and close the leaderboard.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper (this page reads the reference only)
dataset = None  # None: the profile's (this page reads the reference only)
seeds = None  # None: the profile's (this page reads the reference only)
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
from dclib.book import report

report.ledger_table()

# %% [markdown]
# *Evidence* is the committed reference of both runs on the claim's data: the
# conv-autoencoder methods (DSSL, DCSS, DML) on the 5,000 MNIST images of
# `mnist5k`, the MLP-autoencoder methods (DynAE, R-DC and the baselines they beat)
# on the 70,000 images of Fashion-MNIST. Each page's *Did it reproduce?* box links
# its claims to the tables and figures that show them; the reference's provenance
# (commit, device, date, epochs and CPU caps) is under each page's reference table.
# *No evidence* means the reference does not yet hold both runs on the same data and
# seeds.
