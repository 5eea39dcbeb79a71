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
# # Baselines: AE + k-means, DEC, IDEC, DCN and DKM
#
# Every paper of this book compares against the same autoencoder-based baselines.
# This page derives their losses, checks them against `dclib.functional`, trains
# them on the profile's data, and puts our scores beside the rows the papers report
# for them: DCSS Table 1 {cite}`sadeghi2021dcss` and DynAE Table 2
# {cite}`mrabah2020dynae`.
#
# | method | loss on the codes $\mathbf{z}_i = f(\mathbf{x}_i)$ | centres |
# |---|---|---|
# | AE + k-means | reconstruction only, then k-means | k-means |
# | DEC {cite}`xie2016dec` | $\mathrm{KL}(P \Vert Q)$, decoder dropped | gradient |
# | IDEC {cite}`guo2017idec` | reconstruction $+\ \gamma\,\mathrm{KL}(P \Vert Q)$ | gradient |
# | DCN {cite}`yang2017dcn` | reconstruction $+\ \tfrac{\lambda}{2}$ k-means loss (hard) | running means |
# | DKM {cite}`fard2020dkm`: DKM$_a$, DKM$_p$ | reconstruction $+\ \lambda$ soft k-means loss | gradient |
#
# DKM comes in two variants and this page runs both: DKM$_a$ (`dkm`) anneals the
# sharpness $\alpha$ of its soft assignments, DKM$_p$ (`dkm_p`) keeps $\alpha$ at
# 1000 on a pretrained network. The papers' DKM rows (DCSS Table 1, DML Table I)
# are DKM$_p$.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper
dataset = None  # None: the profile's (mnist5k; full, paper: fmnist)
seeds = None  # None: the profile's; one seed or a list of seeds
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
import pandas as pd
import torch
from IPython.display import Markdown, display

from dclib import book
from dclib import functional as Fn
from dclib.book import plotting, recipes, report, tables
from dclib.book.paper_tables import ours_vs_paper
from dclib.book.papers import baselines
from dclib.book.recipes import epoch_costs
from dclib.methods import stage_records

run = book.start_run(profile=profile, dataset=dataset, seeds=seeds, device=device)
display(Markdown(run.describe()))

# %% [markdown]
# ## The losses
#
# **DEC** measures how much sample $i$ belongs to cluster $k$ with a Student-t kernel
# (DEC eq. 1) and sharpens these assignments into a target (eq. 3):
#
# $$
# q_{ik} = \frac{(1 + \lVert \mathbf{z}_i - \boldsymbol{\mu}_k \rVert^2/\alpha)^{-\frac{\alpha+1}{2}}}
#              {\sum_{k'} (1 + \lVert \mathbf{z}_i - \boldsymbol{\mu}_{k'} \rVert^2/\alpha)^{-\frac{\alpha+1}{2}}},
# \qquad
# p_{ik} = \frac{q_{ik}^2 / f_k}{\sum_{k'} q_{ik'}^2 / f_{k'}}, \quad f_k = \sum_i q_{ik}.
# $$
#
# The encoder and the centres minimise $L_c = \mathrm{KL}(P \Vert Q) = \sum_i \sum_k
# p_{ik} \log (p_{ik} / q_{ik})$ (eq. 2), with $P$ held fixed between refreshes over
# the whole dataset every `update_interval` iterations. **IDEC** keeps the decoder and
# minimises $L_r + \gamma L_c$. The cell below computes $q$ and $p$ by hand for two
# samples and asserts that dclib agrees.

# %% tags=["hide-input"]
z = torch.tensor([[0.0, 0.0], [2.0, 1.0]])
mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
d2 = torch.tensor([[1.0, 4.0], [1.0 + 1.0, 4.0 + 1.0]])  # squared distances by hand
kernel = 1 / (1 + d2)  # alpha = 1: exponent -(1 + 1) / 2 = -1
q = kernel / kernel.sum(1, keepdim=True)
p = (q**2 / q.sum(0)) / (q**2 / q.sum(0)).sum(1, keepdim=True)
torch.testing.assert_close(Fn.student_t_assignment(z, mu), q)
torch.testing.assert_close(Fn.target_distribution(q), p)
kl = (p * (p / q).log()).sum(1).mean()
torch.testing.assert_close(Fn.kl_clustering_loss(p, q), kl)
pd.DataFrame({"q_i1": q[:, 0], "p_i1": p[:, 0]}).round(4)

# %% [markdown]
# **DCN** assigns each code to its nearest centre, $s_i = \arg\min_k \lVert
# \mathbf{z}_i - \boldsymbol{\mu}_k \rVert$ (eq. 6), takes a gradient step on
# $\lVert \mathbf{x}_i - g(\mathbf{z}_i) \rVert^2 + \tfrac{\lambda}{2} \lVert
# \mathbf{z}_i - \boldsymbol{\mu}_{s_i} \rVert^2$ (eq. 5), and moves the centres with
# a step that shrinks as a cluster collects samples (eq. 7):
# $\boldsymbol{\mu}_k \leftarrow \boldsymbol{\mu}_k - \tfrac{1}{c_k}
# (\boldsymbol{\mu}_k - \mathbf{z}_i)$, $c_k$ counting the samples $k$ has received.
# Applied to a batch sample by sample this is exactly a running mean, which dclib
# computes in one vectorised step; the cell replays it sample by sample.
#
# **DKM** replaces the hard assignment by a softmax of sharpness $\alpha$ (eq. 4),
# $\sum_k \lVert \mathbf{z}_i - \mathbf{r}_k \rVert^2\, G_k$ with $G_k \propto
# \exp(-\alpha \lVert \mathbf{z}_i - \mathbf{r}_k \rVert^2)$. DKM$_a$ anneals $\alpha$
# from 0.1 by $\alpha_{i+1} = 2^{1/\ln(i+1)^2} \alpha_i$; DKM$_p$ holds it at 1000.
# As $\alpha$ grows the loss tends to DCN's, which the cell checks at $\alpha = 1000$.

# %% tags=["hide-input"]
counts, codes = torch.tensor([2.0, 1.0]), torch.tensor([[3.0, 0.0], [1.0, 1.0]])
new_mu, new_counts = Fn.running_mean_centres(mu, counts, codes, torch.tensor([0, 0]))
seq = mu[0].clone()
for i, c in enumerate((3.0, 4.0)):  # c_0 after each of the two samples
    seq -= (seq - codes[i]) / c
torch.testing.assert_close(new_mu[0], seq)
g = torch.softmax(-1000.0 * d2, dim=1)  # alpha -> infinity: the nearest centre
torch.testing.assert_close(Fn.soft_kmeans_loss(z, mu, 1000.0), (d2 * g).sum(1).mean())

# %% [markdown]
# ## Data and training
#
# Each method starts from the fully connected autoencoder of DEC, pretrained as its
# paper did: greedy layer-wise denoising pretraining then end-to-end fine-tuning for
# DEC, IDEC and DCN; end to end for DKM and AE + k-means. Methods whose pretraining
# configs agree share one cached pretraining per seed (the quick profile: one for
# all seeds, `PretrainConfig.seed`). $K$ is the dataset's number of classes. The
# profile caps every epoch count; every other hyperparameter is the paper's (the
# configs below, from `recipes.config`).

# %% tags=["hide-input"]
ds = recipes.page_data(run)
configs = {m: recipes.config(run, m, ds) for m in baselines.RUNS}
tables.Folded("The baselines' configs, field by field", tables.config_tables(configs))

# %% [markdown]
# Capped profiles run the six baselines on the first seed only
# (`recipes.costly_seeds`; the quick book's 30 minutes hold seven pages); the full
# and paper profiles run every seed.

# %% tags=["hide-input"]
seeds = recipes.costly_seeds(run)
results = baselines.seed_runs(run, ds, seeds)
labels = recipes.labels(results)

# %% [markdown]
# ## The committed reference beside the papers
#
# Computed once by `make reference` with the papers' epochs on the full offline
# data (the MLP methods on all 70,000 images of Fashion-MNIST) and committed with
# its provenance; this page only reads it.

# %% tags=["hide-input"]
display(*report.reference_section("DCSS Table 1 and DynAE Table 2", baselines.RUNS))

# %% tags=["remove-input"]
report.say(baselines.annealing_cut())

# %% [markdown]
# ## This execution
#
# This execution's runs beside the papers (the profile's data and caps, in the
# caption): a check that the page runs end to end, not a verdict on the papers.

# %% tags=["hide-input"]
rows = recipes.paper_rows(run.dataset, baselines.RUNS)
table = ours_vs_paper(results, rows, run.dataset)
beside = "beside the papers" if rows else f"alone: no paper reports {run.dataset}"
table.rename(index=labels).style.set_caption(
    f"DCSS Table 1 and DynAE Table 2 — baselines: ours "
    f"({recipes.describe_data(run, ds, seeds)}; mean ± std over the seeds) {beside} (ACC and NMI in %; NMI normalised "
    "by the larger entropy, NMI (arith.) by the mean as in DynAE). The papers' DKM "
    "row is DKM_p; DKM_a has none."
)

# %% tags=["hide-input"]
timing = epoch_costs({m: r[run.seed] for m, r in results.items()}).rename(index=labels)
timing.style.format("{:.3g}", na_rep="—").set_caption(
    f"Epochs and seconds per epoch of each method on {run.device} "
    f"({recipes.describe_data(run, ds, [run.seed])}). Pretraining epochs shared "
    "through the cache were timed when first trained."
)

# %% [markdown]
# This execution's figures (first seed), folded: the MLP autoencoders after
# pretraining, end to end and greedily (the convolutional ones are the DSSL, DCSS
# and DML pages'), each method's clustering stage and its latent space.

# %% tags=["hide-input"]
aes = baselines.baseline_autoencoders(run, ds)
x = torch.as_tensor(ds.X[:: max(1, len(ds) // 10)][:10], device=run.device)
with torch.no_grad():
    shown = {name: m.eval()(x)[1].cpu().numpy() for name, (m, _) in aes.items()}

# %% tags=["hide-cell"] mystnb={"code_prompt_show": "Reconstructions by the pretrained autoencoders (this execution)", "code_prompt_hide": "Hide the reconstructions", "figure": {"caption": "Reconstructions of ten images by the pretrained MLP autoencoders (first seed).", "name": "fig-recon"}}
fig = plotting.reconstructions(x.cpu().numpy(), shown)

# %% tags=["hide-cell"] mystnb={"code_prompt_show": "Pretraining loss per epoch (this execution)", "code_prompt_hide": "Hide the pretraining loss", "figure": {"caption": "Pretraining loss (MSE per pixel) per epoch of the MLP AE trained end to end and of the MLP AE fine-tuned end to end after greedy layer-wise pretraining (its end-to-end epochs), first seed.", "name": "fig-pretrain-loss"}}
fig = plotting.curves(baselines.end_to_end_records(aes), ["loss"], log=True)

# %% tags=["hide-cell"] mystnb={"code_prompt_show": "Clustering-stage loss of each method per epoch (this execution)", "code_prompt_hide": "Hide the clustering-stage loss", "figure": {"caption": "Clustering-stage loss of each method per epoch (first seed). The losses have different scales; what matters is each curve's shape.", "name": "fig-cluster-loss"}}
cluster = {
    labels[m]: stage_records(r[run.seed].history, "cluster") for m, r in results.items()
}
fig = plotting.curves(cluster, ["loss"], log=True)

# %% tags=["hide-cell"] mystnb={"code_prompt_show": "ACC of each method per epoch of its clustering stage (this execution)", "code_prompt_hide": "Hide the ACC curves", "figure": {"caption": "ACC of each method's labels per epoch of its clustering stage (first seed): monitored through y_monitor, never used for training. AE + k-means has a single point, its k-means.", "name": "fig-cluster-acc"}}
fig = plotting.curves(cluster, ["acc"])

# %% tags=["hide-cell"] mystnb={"code_prompt_show": "t-SNE of each method's latent space (this execution)", "code_prompt_hide": "Hide the t-SNE", "figure": {"caption": "t-SNE of each method's latent space after training (first seed, at most the profile's tsne_samples random samples), coloured by the true label.", "name": "fig-tsne"}}
codes = {labels[m]: r[run.seed].codes for m, r in results.items()}
fig = plotting.embeddings(
    codes, ds.y, n=min(run.profile.tsne_samples, len(ds)), seed=run.seed
)
# %% [markdown]
# ## What we find

# %% tags=["remove-input"]
raw = baselines.pixel_floor(ds, seeds)
report.say(baselines.findings(run, ds, results, configs, table, raw, seeds))

# %% [markdown]
# ## Implementation details
#
# What each config's defaults follow, and where we depart from the original papers
# (`dclib/methods/baselines.py` documents every field). The values below are read
# from the configs: the papers' defaults, before the profile caps the epochs.

# %% tags=["remove-input"]
display(Markdown(baselines.implementation_details(run, ds, configs, seeds)))
