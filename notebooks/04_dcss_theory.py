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
# # DCSS theory: the q-vector statements, checked
#
# Appendix A of DCSS {cite}`sadeghi2021dcss` justifies the choice $\zeta = 0.8$,
# $\gamma = 0.2$ of the pairwise loss with seven statements about the MNet outputs
# $\mathbf{q}_i$. This page states each one, derives it again, and checks it three
# ways with `dclib.theory`:
#
# - **random**: q-vectors drawn from symmetric Dirichlet distributions, from very
#   peaked (concentration 0.01) to very flat (100), for $K \in \{2, 3, 10, 20\}$;
# - **adversarial**: the exhaustive grid of the simplex for $K = 2$ and $K = 3$, and
#   gradient ascent on softmax logits, first with the paper's $\zeta$ and $\gamma$,
#   then with a hypothesis weakened, to find the tight constants and the vectors that
#   attain them;
# - **trained**: the q-vectors of the DCSS run of the DCSS page (same profile, data
#   and first seed, read from the run cache).
#
# Every count below comes from these checks; a *violation* is a pair (or triple, or
# point) that meets a statement's hypotheses and breaks its claim.

# %% tags=["parameters"]
profile = "quick"  # smoke | quick | full | paper
dataset = None  # None: the profile's (mnist5k; full, paper: fmnist)
seeds = None  # None: the profile's; one or a list (the trained check uses the first)
device = "auto"  # auto | cpu | cuda | cuda:N

# %% tags=["remove-input"]
import numpy as np
import torch
from IPython.display import Markdown, display

from dclib import book
from dclib import theory as T
from dclib.book import plotting, report, tables
from dclib.book.papers import theory as page

run = book.start_run(profile=profile, dataset=dataset, seeds=seeds, device=device)
display(Markdown(run.describe()))

# %% [markdown]
# ## Notation
#
# A q-vector lies on the probability simplex
# $\Delta_K = \{\mathbf{q} \in [0, 1]^K : \sum_l q_l = 1\}$ (MNet ends in a softmax).
# Write $m_i = \max_l q_{il}$ for its peak and $c_i = \arg\max_l q_{il}$ for its
# cluster. With the thresholds $\zeta$ and $\gamma$ of the pairwise loss:
#
# - **Definition A.1.** $i$ and $j$ are *adjacent* (similar) iff
#   $\mathbf{q}_i^\top \mathbf{q}_j \ge \zeta$; they are *dissimilar* iff
#   $\mathbf{q}_i^\top \mathbf{q}_j \le \gamma$.
# - **Definition A.2.** $i$ and $j$ are in the *same cluster* iff $c_i = c_j$ (ties
#   go to the first index, as `torch.argmax`; the extremal searches exclude ties).

# %% [markdown]
# ## The three samples of q-vectors
#
# Each `theory.check_set` call runs every statement on one set of q-vectors: the
# pair statements over all its pairs $i < j$, Corollary 1.2 over its points, and
# the triple statements over random triples. The thresholds are the paper's
# ($\zeta = 0.8$, $\gamma = 0.2$) unless a row says it weakens them.

# %% tags=["hide-input"]
ZETA, GAMMA = page.ZETA, page.GAMMA
small = run.profile.name == "smoke"
N_SET = 200 if small else 1000  # points per random set (all their pairs are checked)
N_TRIPLES = 2**12 if small else 2**17
checks = page.Checks(N_TRIPLES, run.seed)  # theory.check_set's counts per sample
random_sets = page.dirichlet_sets(N_SET, run.seed)  # K x concentration
for q in random_sets.values():
    checks.add(page.RANDOM, q)
grids = {2: T.simplex_grid(2, 200), 3: T.simplex_grid(3, 20 if small else 40)}
for grid in grids.values():
    checks.add(page.GRIDS, grid)
    for label, (z, gm) in page.WEAKENED.items():  # a hypothesis weakened
        checks.add(label, grid, z, gm)

# %% tags=["hide-input"]
trained, cfg, ds = page.trained_dcss(run)  # the DCSS page's data, config, DCSS run
q_trained = page.trained_q(trained)  # float32 softmax, renormalised
g = torch.Generator().manual_seed(run.seed)
pick = torch.randperm(len(q_trained), generator=g)[: 2 * N_SET]
checks.add(page.TRAINED, q_trained[pick])
trained_points = T.corollary_1_2(q_trained, ZETA)  # every point, not just the subset
table = checks.table()
note = page.sample_note(
    run.profile.name, N_SET, N_TRIPLES, len(pick), ds.name, run.seed
)

# %% [markdown]
# ## Theorem 1: an inner product is at most either peak
#
# **Claim.** For any $\mathbf{q}_i, \mathbf{q}_j \in \Delta_K$,
# $\mathbf{q}_i^\top \mathbf{q}_j \le \min(m_i, m_j)$ (eq. 7).
#
# **Derivation.** Every entry of $\mathbf{q}_i$ is at most its peak and the entries
# of $\mathbf{q}_j$ are non-negative, so
#
# $$
# \mathbf{q}_i^\top \mathbf{q}_j = \sum_l q_{il}\, q_{jl}
# \le \sum_l m_i\, q_{jl} = m_i \sum_l q_{jl} = m_i ,
# $$
#
# and by symmetry $\mathbf{q}_i^\top \mathbf{q}_j \le m_j$. Equality holds when
# $\mathbf{q}_j$ puts all its mass where $\mathbf{q}_i$ peaks, e.g. the one-hot
# vector at $c_i$: the bound is tight. The paper reaches the same bound by moving
# the mass of $\mathbf{q}_j$ onto $c_i$ one entry at a time (eqs. 8-14); each move
# can only raise the product, and the process ends at that one-hot vector. The one
# hypothesis used is $\sum_l q_{jl} = 1$: without it (e.g. sigmoid outputs) the bound
# fails, as the last check shows.
#
# ```{note}
# **An index slip in the paper's proof.** Eq. (9) defines $r = \arg\max_l q_{jl}$,
# the peak of $\mathbf{q}_j^*$, but the step after eq. (13) ("since $q_{ir}$ is the
# maximum element of $\mathbf{q}_i$") uses $r$ as $\arg\max_l q_{il}$, and only that
# reading proves the bound: eq. (11)'s move of the mass $q_{je}^*$ onto entry $r$
# changes the product by $q_{je}^* (q_{ir} - q_{ie})$, which is never negative when
# $q_{ir}$ is the peak of $\mathbf{q}_i$ but can be when $r$ is the peak of
# $\mathbf{q}_j^*$. Read with $r = \arg\max_l q_{il}$, the proof is the derivation
# above. The cell below checks both readings on every pair of the $K = 3$ grid.
# ```

# %% tags=["remove-input"]
page.count_table(table, note, "Theorem 1")

# %% tags=["remove-input"]
off = T.theorem_1(2 * grids[3], grids[3].flip(0), simplex=False)
report.say(page.off_simplex(off))

# %% tags=["hide-input"]
# Eq. (11) moves q_je onto entry r; the product changes by q_je (q_ir - q_ie).
pairs, as_used, as_written = T.proof_readings(grids[3])  # r = argmax q_i, argmax q_j
assert as_used == 0  # r = argmax q_i (as the proof uses it): never lower
assert as_written > 0  # r = argmax q_j (as eq. 9 defines it): lower for some pairs
report.say(page.proof_readings(pairs, as_used, as_written))

# %% [markdown]
# ## Corollaries 1.1 and 1.2: adjacent points have a peak of at least $\zeta$
#
# **Claims.** If $i$ and $j$ are adjacent, $m_i \ge \zeta$ and $m_j \ge \zeta$
# (eq. 17). Hence a point with at least one adjacent neighbour has $m_i \ge \zeta$
# (eq. 18).
#
# **Derivation.** $\zeta \le \mathbf{q}_i^\top \mathbf{q}_j \le \min(m_i, m_j)$ by
# Definition A.1 and Theorem 1. Corollary 1.2 applies this to the point and its
# neighbour; its hypothesis, that a point *has* a neighbour, is an empirical one
# that the paper checks in its Fig. 13 (the trained check below does too). The
# bound is tight: $\mathbf{q}_i = \mathbf{e}_1$ and a $\mathbf{q}_j$ with peak
# exactly $\zeta$ at entry 1 are adjacent with $m_j = \zeta$.

# %% tags=["remove-input"]
page.count_table(table, note, "Corollary 1.1", "Corollary 1.2")

# %% [markdown]
# ## Theorem 2: adjacent points share a cluster, from $\zeta > 1/2$
#
# **Claim (paper).** For $\zeta \ge 2/3$, adjacent $i$ and $j$ are in the same
# cluster.
#
# **The paper's derivation** (eq. 22) bounds the inner product of a pair in
# different clusters $r = c_i \ne o = c_j$ by
# $q_{ir}(1 - q_{jo}) + q_{jo}(1 - q_{ir})$, then by $(1 - \zeta)(q_{ir} + q_{jo})$
# and finally by $2(1 - \zeta)$, treating the peaks as $\zeta$ in one factor and as
# 1 in the other; adjacency then forces $\zeta \le 2(1 - \zeta)$, i.e.
# $\zeta \le 2/3$.
#
# **A sharper bound.** For $r \ne o$, split the sum at $l = r$. The term
# $q_{ir} q_{jr} \le m_i\, q_{jr}$, and $\sum_{l \ne r} q_{il} q_{jl} \le m_j (1 - m_i)$.
# Since $q_{jr} + q_{jo} \le 1$, $q_{jr} \le 1 - m_j$, so
#
# $$
# \mathbf{q}_i^\top \mathbf{q}_j \le m_i (1 - m_j) + m_j (1 - m_i)
# = \tfrac12 - 2\left(m_i - \tfrac12\right)\left(m_j - \tfrac12\right).
# $$
#
# If both peaks are at least $\tfrac12$ the right side is at most $\tfrac12$; if one
# is below $\tfrac12$, Theorem 1 already gives $\mathbf{q}_i^\top \mathbf{q}_j < \tfrac12$.
# So **two q-vectors in different clusters never have an inner product above
# $\tfrac12$**, for every $K$, and Theorem 2 holds for every $\zeta > \tfrac12$. The
# value $\tfrac12$ is the supremum: $\mathbf{q}_i = (\tfrac12 + \epsilon,
# \tfrac12 - \epsilon, 0, \dots)$ and $\mathbf{q}_j = (\tfrac12 - \epsilon, \tfrac12 +
# \epsilon, 0, \dots)$ give $\tfrac12 - 2\epsilon^2$. At $\zeta \le \tfrac12$ the
# claim fails: $(0.6, 0.4) \cdot (0.4, 0.6) = 0.48$. With both peaks at least
# $\zeta > \tfrac12$ the same bound gives
# $\mathbf{q}_i^\top \mathbf{q}_j \le \tfrac12 - 2(\zeta - \tfrac12)^2 = 2\zeta(1 - \zeta)$
# (0.32 at $\zeta = 0.8$, where the paper has 0.4).

# %% tags=["remove-input"]
page.count_table(table, note, "Theorem 2")

# %% [markdown]
# The adversarial search for the largest inner product of two q-vectors in
# different clusters: the exhaustive grids (pairs with an untied argmax) and
# gradient ascent on softmax logits with the two argmaxes pinned
# (`theory.ascend_cross_cluster`, 256 restarts).

# %% tags=["hide-input"]
steps = 200 if small else 2000
cross = page.cross_cluster(grids, page.KS, steps=steps, seed=run.seed)
cross_sup = float(cross["sup"].max())
cross.style.format({"sup": "{:.6f}"}).set_caption(
    "Largest inner product of two q-vectors with different argmax found by each "
    "search, with the pair attaining it (entries rounded to 4 places); the bound "
    "derived above is 1/2, the paper's 2(1 - zeta) is 0.4 at zeta = 0.8, 2/3 at its "
    "threshold"
)

# %% [markdown]
# The smallest $\zeta$ for which Theorem 2 holds, scanned on the $K = 3$ grid and
# the random sets: violations vanish exactly above $\tfrac12$, well before the
# paper's $\tfrac23$.

# %% tags=["hide-input"]
zeta_scan = page.zeta_scan([grids[3], *random_sets.values()])
smallest = page.smallest_zeta(zeta_scan)
tables.book_style(zeta_scan.to_frame()).format_index("{:.3g}").set_caption(
    "Theorem 2 scanned over zeta: adjacent pairs in different clusters on the K = 3 "
    "grid and all random sets together"
)

# %% [markdown]
# ## Corollary 2.1: two neighbours of a point share a cluster
#
# **Claim.** For $\zeta > 2/3$, if $i, j$ and $i, k$ are adjacent, $c_j = c_k$.
#
# **Derivation.** Theorem 2 gives $c_i = c_j$ and $c_i = c_k$. By the sharper
# bound it holds for every $\zeta > \tfrac12$. At $\zeta \le \tfrac12$ it fails:
# $\mathbf{q}_i = (\tfrac12, \tfrac12, 0)$ is adjacent to both $\mathbf{e}_1$ and
# $\mathbf{e}_2$ (inner products $\tfrac12$), which are in different clusters.

# %% tags=["remove-input"]
page.count_table(table, note, "Corollary 2.1")

# %% [markdown]
# ## Corollary 1.3 and Theorem 3: dissimilar means different clusters when $\gamma < \zeta^2$
#
# **Claims.** Corollary 1.3: if every point has an adjacent neighbour and
# $\gamma < \zeta^2$, dissimilar $i, k$ are in different clusters. Theorem 3: for
# $\zeta > 2/3$ and $\gamma < \zeta^2$, if $i, j$ and $i, k$ are adjacent, then $j, k$
# are not dissimilar: $\mathbf{q}_j^\top \mathbf{q}_k > \gamma$. Together they say
# that the pairs the loss pushes apart (eq. 5) never include two neighbours of a
# common point.
#
# **Derivation.** Let two points share the cluster $\beta$ and both have peak at
# least $\zeta$ (Corollary 1.2 for Corollary 1.3; Theorem 2 and Corollary 1.1 for
# Theorem 3). Dropping the non-negative terms $l \ne \beta$,
#
# $$
# \mathbf{q}_i^\top \mathbf{q}_k = q_{i\beta} q_{k\beta} + \sum_{l \ne \beta} q_{il} q_{kl}
# \ge q_{i\beta} q_{k\beta} \ge \zeta^2 > \gamma ,
# $$
#
# so the pair is not dissimilar (eqs. 19-21 and 24-27).
#
# **Is $\gamma < \zeta^2$ tight?** For $K \ge 3$, yes: $\mathbf{q}_j = \zeta
# \mathbf{e}_1 + (1 - \zeta)\mathbf{e}_2$ and $\mathbf{q}_k = \zeta \mathbf{e}_1 +
# (1 - \zeta)\mathbf{e}_3$ are both adjacent to $\mathbf{q}_i = \mathbf{e}_1$, share
# its cluster, and $\mathbf{q}_j^\top \mathbf{q}_k = \zeta^2$ exactly, so
# $\gamma = \zeta^2$ already breaks both statements. For $K = 2$ and $\zeta > \tfrac12$
# the dropped terms cannot vanish: with $a, b \ge \zeta$ the product
# $ab + (1 - a)(1 - b)$ grows in each argument (its derivative in $a$ is $2b - 1$,
# positive because $b \ge \zeta > \tfrac12$), so its minimum is
# $\zeta^2 + (1 - \zeta)^2$ and $\gamma$ may go up to that. The paper's
# $\gamma = 0.2$ sits far below $\zeta^2 = 0.64$.
#
# ```{note}
# **The $K = 2$ value assumes $\zeta > \tfrac12$.** For $\zeta \le \tfrac12$ the
# constraint $a, b \ge \zeta$ is slack (two $K = 2$ q-vectors in one cluster already
# have both peaks at least $\tfrac12$), the product's infimum is $\tfrac12$, at
# $a = b \to \tfrac12$, and $\zeta^2 + (1 - \zeta)^2 > \tfrac12$ is no bound on it.
# ```
#
# ```{note}
# **Corollary 1.3 needs no $\zeta > \tfrac12$**, neither in the paper's statement
# nor in its proof: the shared argmax $\beta$ is the hypothesis of the proof by
# contradiction, not a consequence of adjacency, and the proof uses only Corollary
# 1.2 (both peaks at least $\zeta$) and eq. (20). It holds for every $\zeta \in (0, 1)$
# with $\gamma < \zeta^2$, and `theory.corollary_1_3`'s premise is $\gamma < \zeta^2$
# alone. Theorem 3 does need $\zeta > \tfrac12$: its same-cluster step is Theorem 2,
# and the triple of Corollary 2.1 ($\mathbf{q}_i = (\tfrac12, \tfrac12, 0)$ with
# $\mathbf{e}_1$ and $\mathbf{e}_2$) has $\mathbf{q}_j^\top \mathbf{q}_k = 0$.
# ```

# %% tags=["remove-input"]
page.count_table(table, note, "Corollary 1.3", "Theorem 3")

# %% tags=["hide-input"]
c13, t2, t3 = (checks[s, page.LOW] for s in ("Corollary 1.3", "Theorem 2", "Theorem 3"))
assert c13.premise and c13.tested > 0 and c13.violated == 0  # holds below 1/2
assert t2.violated > 0  # ... where Theorem 2 (adjacent => same cluster) fails
report.say(page.low_zeta(c13, t2, t3))

# %% [markdown]
# The exhaustive grids give the smallest inner product of two q-vectors in the same
# cluster whose peaks are at least $\zeta = 0.75$ (a value exact in binary, so that
# the grid attains it), against $\zeta^2$ and $\zeta^2 + (1 - \zeta)^2$:

# %% tags=["hide-input"]
same_min = page.same_cluster_minimum(grids, 0.75)
# K = 2 below zeta = 1/2: the infimum is 1/2, not zeta^2 + (1 - zeta)^2 = 0.625
k2_low, _, _ = T.extremal_pair(
    grids[2], same_cluster=True, largest=False, min_peak=0.25
)
assert np.isclose(same_min.loc[2, "min q_i.q_k"], 0.75**2 + 0.25**2)
assert 0.5 < k2_low < 0.5 + 1e-3 < 0.25**2 + 0.75**2
same_min.style.format(precision=4).set_caption(
    "Smallest inner product of two same-cluster q-vectors with peaks >= 0.75 on the "
    f"exhaustive grids, with the pair attaining it; with peaks >= 0.25 the K = 2 grid "
    f"gives {k2_low:.5f}, near 1/2 and below 0.25^2 + 0.75^2 = 0.625 (the K = 2 "
    "formula needs zeta > 1/2)"
)

# %% [markdown]
# ## Trained q-vectors
#
# The hypotheses that the paper cannot prove, that adjacent neighbours exist, are
# properties of a trained model. On the DCSS run of the DCSS page:

# %% tags=["remove-input"]
epochs = cfg.phase1_epochs, cfg.phase2_epochs
adjacent = checks["Theorem 2", page.TRAINED]
says = page.trained_findings(
    q_trained, adjacent, trained_points, len(pick), epochs, run.profile.name
)
report.say(says)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "DCSS Fig. 13 — points without an adjacent neighbour (no j with q_i.q_j >= zeta) after each phase-2 epoch of the DCSS run (first seed); the dashed line marks T2.", "name": "fig-theory-isolated"}}
fig = plotting.curves({"DCSS": trained.history}, ["isolated"], mark=cfg.t2 - 1)

# %% [markdown]
# ## The $(\mathbf{q}_i^\top \mathbf{q}_j, \min(m_i, m_j))$ plane
#
# Every pair lies above Theorem 1's diagonal. Pairs in different clusters (red)
# stay left of $\tfrac12$; the paper's threshold $\tfrac23$ and $\zeta = 0.8$ sit to
# the right of all of them.


# %% tags=["hide-input"] mystnb={"figure": {"caption": "Pairs of q-vectors in the (q_i . q_j, min(max q_i, max q_j)) plane: random (Dirichlet, K = 10, concentrations 0.1 and 1), adversarial (K = 3 grid, and the ascent's extremal pairs) and trained (DCSS); blue pairs share a cluster, red ones do not.", "name": "fig-theory-plane"}}
rand = torch.cat([random_sets[10, 0.1], random_sets[10, 1.0]])
fig = plotting.q_plane(
    {
        "random": page.sample_pairs(rand, g),
        "adversarial (grid K = 3)": page.sample_pairs(grids[3], g),
        "trained DCSS": page.sample_pairs(q_trained, g),
    },
    page.plane_bounds(ZETA, GAMMA),
)

# %% [markdown]
# ## What we find

# %% tags=["remove-input"]
report.say(page.findings(table, cross_sup, smallest, c13))
