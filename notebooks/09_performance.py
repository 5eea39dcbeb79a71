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
# # Performance: what training costs
#
# How long an epoch of each method takes, beside ClustPy {cite}`leiber2023clustpy`
# on the same network and data; what the opt-in bfloat16 precision buys and what it
# changes; and how the cost of the operations the methods share grows with the
# number of images. Every number comes from the committed benchmark
# (`results/bench/cpu.json`), written by `dclib bench` on a quiet machine: timing
# needs one, so this page runs nothing and reads that file alone.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper (this page reads the benchmark only)
dataset = None  # None: the profile's (this page reads the benchmark only)
seeds = None  # None: the profile's (this page reads the benchmark only)
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
from IPython.display import Markdown, display

from dclib.book.papers import performance as page

found = page.committed()
display(Markdown(page.provenance(found)))

# %% [markdown]
# ## One autoencoder epoch, beside ClustPy
#
# The MLP autoencoder 784-500-500-2000-10 of DEC, IDEC, DynAE and R-DC on the 5,000
# images of `mnist5k`: batch 256, Adam 1e-3, mean squared error, one epoch, the
# median of five with the libraries taking turns epoch by epoch (ClustPy's
# `FeedforwardAutoencoder` with ReLU, its own training loop). dclib's optimisers are
# PyTorch's fused ones (`dclib.train.make_optimizer`); most of what is left is the
# matrix products themselves, measured alone as the last row.

# %% tags=["remove-input"]
display(Markdown(page.headline(found)))
page.autoencoder(found)

# %% [markdown]
# ## Every method's epochs
#
# Each method's training stages on a stratified subset of `mnist5k` (the size in the
# benchmark's `scale`; seconds per epoch, the median of its epochs), in fp32 and in
# bf16: the conv autoencoders for DSSL, DCSS and DML (on DSSL), the MLP for the
# rest. ClustPy's DEC, IDEC, DCN and DKM run on the same untrained network and
# data; their seconds per epoch are the difference of two fits of different
# lengths, so that the k-means start and the final prediction cancel out. Each
# library runs its own algorithm loop (dclib's the papers': DEC, for one, refreshes
# its target distribution on all the data every 140 iterations).

# %% tags=["remove-input"]
page.methods(found)

# %% [markdown]
# ## fp32 against bf16
#
# `precision="bf16"` (`FitContext.precision`, `dclib run --precision bf16`) runs the
# networks' layers under autocast to bfloat16 while their weights, the optimiser's
# state and every loss stay in fp32 (`dclib.models.Network`). The table trains
# AE + k-means and IDEC on all of `mnist5k` both ways from the same seed (50
# pretraining epochs, 10 of IDEC's). Two runs whose weights differ in their last
# bits drift apart over training, so the two label sets are compared by their
# agreement (ARI), not for equality. The committed reference stays fp32.

# %% tags=["remove-input"]
display(Markdown(page.precision_sentence(found)))
page.precision(found)

# %% [markdown]
# ## How the cost grows with N
#
# Each operation on 1,000 to 70,000 Fashion-MNIST images with the MLP autoencoder,
# each in a fresh process after a warm-up: its seconds, and its peak memory above
# what the process held before it (Linux's high-water mark, in a process whose
# allocator returns freed memory at once; the seconds come from another process
# with the usual allocator). An epoch, an encode pass and DCSS's pairwise loss (eq.
# 4, on every batch of 256) work batch by batch; k-means and the exact kNN graph
# work on all the 10-dimensional codes at once.

# %% tags=["remove-input"]
display(Markdown(page.scaling_sentence(found)))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Seconds (log scales) and peak memory of the shared operations against the number of Fashion-MNIST images (committed benchmark).", "name": "fig-performance-scaling"}}
fig = page.scaling_figure(found)

# %% tags=["remove-input"]
page.scaling_table(found)

# %% [markdown]
# ## On a GPU
#
# No GPU has been lent to this project yet: the README's CUDA support is tested on
# the CPU only (every tensor follows `device`), and no GPU number is committed. When
# one is lent, `dclib bench` runs there unchanged and its file stands beside this
# one.
