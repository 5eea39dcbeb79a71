"""Pure tensor functions, one per paper equation. No state, no loops over samples.

Shapes: ``z`` (n, m) latent codes, ``mu`` (K, m) centres, ``q``/``p`` (n, K).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


def _check_codes(z: Tensor, mu: Tensor) -> None:
    if z.ndim != 2 or mu.ndim != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(
            f"need z (n, m) and mu (K, m), got {tuple(z.shape)} and {tuple(mu.shape)}"
        )
    if mu.shape[0] < 2:
        raise ValueError(f"need at least K = 2 centres, got {mu.shape[0]}")


def student_t_assignment(z: Tensor, mu: Tensor, alpha: float = 1.0) -> Tensor:
    """Soft assignment of DEC eq. 1 (= DynAE eq. 4), rows summing to 1.

    q_ik = (1 + ||z_i - mu_k||^2 / alpha)^(-(alpha + 1) / 2), normalised over k: a
    Student-t kernel with ``alpha`` degrees of freedom (DEC and DynAE fix alpha = 1).
    """
    _check_codes(z, mu)
    d2 = torch.cdist(z, mu).pow(2)  # (n, K) squared distances
    q = (1.0 + d2 / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: Tensor) -> Tensor:
    """DEC eq. 3: p_ik = (q_ik^2 / f_k) / sum_k' (q_ik'^2 / f_k'), f_k = sum_i q_ik.

    Squaring sharpens confident assignments; dividing by the soft cluster frequency
    f_k keeps large clusters from absorbing the rest. Rows sum to 1.
    """
    w = q.pow(2) / q.sum(dim=0)  # (n, K)
    return w / w.sum(dim=1, keepdim=True)


def kl_clustering_loss(p: Tensor, q: Tensor) -> Tensor:
    """DEC eq. 2: KL(P || Q) = sum_i sum_k p_ik log(p_ik / q_ik), averaged over i.

    The mean over the batch (rather than the sum) matches the DEC and IDEC code,
    whose Keras ``kld`` loss averages over samples.
    """
    return (p * (p.clamp_min(1e-12).log() - q.clamp_min(1e-12).log())).sum(1).mean()


def squared_distances(z: Tensor, mu: Tensor) -> Tensor:
    """||z_i - mu_k||^2 for every sample and centre, (n, K)."""
    _check_codes(z, mu)
    return (z[:, None, :] - mu[None, :, :]).pow(2).sum(-1)


def kmeans_loss(z: Tensor, mu: Tensor, assign: Tensor) -> Tensor:
    """DCN eq. 5's clustering term: mean over i of ||z_i - mu_{s_i}||^2.

    ``assign`` (n,) holds each sample's hard cluster s_i (DCN eq. 6: the nearest
    centre). DCN multiplies it by lambda / 2.
    """
    return (z - mu[assign]).pow(2).sum(1).mean()


def running_mean_centres(
    mu: Tensor, counts: Tensor, z: Tensor, assign: Tensor
) -> tuple[Tensor, Tensor]:
    """DCN eq. 7 for a whole batch: count-based centre updates, vectorised.

    DCN moves centre k towards each newly assigned code with step 1 / c_k, where c_k
    counts the codes assigned to k so far, this one included:
    mu_k <- mu_k - (mu_k - z_i) / c_k.
    Applied to a batch one sample at a time, this is exactly the running mean
    mu_k <- (c_k mu_k + sum_{i in k} z_i) / (c_k + n_k), computed here in one step.
    Returns the new centres and counts.
    """
    k = mu.shape[0]
    n_k = torch.bincount(assign, minlength=k).to(mu.dtype)  # (K,)
    sums = torch.zeros_like(mu).index_add_(0, assign, z)  # (K, m)
    new_counts = counts + n_k
    new_mu = (counts[:, None] * mu + sums) / new_counts.clamp_min(1)[:, None]
    return torch.where(n_k[:, None] > 0, new_mu, mu), new_counts


def soft_kmeans_loss(z: Tensor, mu: Tensor, alpha: float) -> Tensor:
    """DKM eq. 4: mean over i of sum_k ||z_i - r_k||^2 G_k(z_i, alpha).

    G_k = softmax_k(-alpha ||z_i - r_k||^2), a differentiable stand-in for the hard
    nearest-centre indicator; as alpha grows it tends to k-means' loss.
    """
    d2 = squared_distances(z, mu)  # (n, K)
    return (d2 * torch.softmax(-alpha * d2, dim=1)).sum(1).mean()


def dkm_alphas(n: int, alpha_0: float = 0.1) -> list[float]:
    """DKM §4's annealing: alpha_1 = 0.1, alpha_{i+1} = 2^(1 / ln(i + 1)^2) alpha_i."""
    alphas = [alpha_0]
    for i in range(1, n):
        alphas.append(alphas[-1] * 2 ** (1 / math.log(i + 1) ** 2))
    return alphas


# --- DSSL, DCSS and DML: fuzzy cluster-specific losses ------------------------------


def memberships_from_distances(d2: Tensor, m: float = 1.5) -> Tensor:
    """Fuzzy memberships from squared distances (DCSS eq. 2; DML eq. 2g).

    p_ik = d_ik^(-1/(m-1)) / sum_j d_ij^(-1/(m-1)) with d_ik = ||u_i - mu_k||^2.
    DML measures d_ik in the latent space of the autoencoder that owns cluster k;
    DSSL and DCSS in one space (``fuzzy_memberships``). Computed as a softmax of
    -log(d_ik) / (m - 1), so it stays finite for any m > 1 and tends to a one-hot row
    when a point sits on a centre. Rows sum to 1.
    """
    if d2.ndim != 2 or d2.shape[1] < 2:
        raise ValueError(f"need squared distances (n, K >= 2), got {tuple(d2.shape)}")
    if not m > 1:
        raise ValueError(f"the fuzziness m must be > 1, got {m}")
    tiny = torch.finfo(d2.dtype).tiny
    return torch.softmax(-d2.clamp_min(tiny).log() / (m - 1), dim=1)


def fuzzy_memberships(u: Tensor, mu: Tensor, m: float = 1.5) -> Tensor:
    """DCSS eq. 2 (DSSL eq. 2): memberships of codes ``u`` (n, d) to centres ``mu``."""
    return memberships_from_distances(squared_distances(u, mu), m)


def fuzzy_centres(u: Tensor, p: Tensor, m: float = 1.5) -> Tensor:
    """DCSS eq. 3 (DML eq. 4): mu_k = sum_i p_ik^m u_i / sum_i p_ik^m, (K, d)."""
    w = p.pow(m)  # (n, K)
    return (w.T @ u) / w.sum(0)[:, None]


def latent_distances(codes: Tensor, mu: Tensor, owner: Tensor) -> Tensor:
    """d_ik = ||u_i^(l_k) - mu_k||^2, (n, K): the distance of DML eq. 2g, measured in
    the latent space of the autoencoder l_k = ``owner[k]`` that cluster k belongs to.

    ``codes`` (L, n, d) holds x_i's code in each of the L latent spaces. With L = 1
    (DSSL, DCSS: one autoencoder) it is ``squared_distances(codes[0], mu)``.
    """
    if codes.ndim != 3:
        raise ValueError(f"need codes (L, n, d), got {tuple(codes.shape)}")
    n_clusters = mu.shape[0]
    if owner.shape != (n_clusters,) or not 0 <= int(owner.min()) <= int(
        owner.max()
    ) < len(codes):
        raise ValueError(
            f"owner must map each of the {n_clusters} clusters to one of the "
            f"{len(codes)} latent spaces, got {owner.tolist()}"
        )
    d2 = torch.stack([squared_distances(u, mu) for u in codes])  # (L, n, K)
    pick = owner.to(d2.device).view(1, 1, -1).expand(1, d2.shape[1], -1)
    return d2.gather(0, pick)[0]


def multi_space_memberships(
    codes: Tensor, mu: Tensor, owner: Tensor, m: float = 1.5
) -> Tensor:
    """DML eq. 2g: fuzzy memberships with cluster k's distance measured in the latent
    space ``owner[k]`` (``latent_distances``); eq. 2 of DCSS when L = 1."""
    return memberships_from_distances(latent_distances(codes, mu, owner), m)


def multi_space_centres(
    codes: Tensor, p: Tensor, owner: Tensor, m: float = 1.5
) -> Tensor:
    """DML eq. 4: mu_k = sum_i p_ik^m u_i^(l_k) / sum_i p_ik^m, each centre the
    weighted mean of the codes in its own latent space; DCSS eq. 3 when L = 1."""
    mu = torch.empty(p.shape[1], codes.shape[2], dtype=codes.dtype, device=codes.device)
    for space, u in enumerate(codes):
        mine = owner.to(p.device) == space
        if mine.any():
            mu[mine] = fuzzy_centres(u, p[:, mine], m)
    return mu


def cluster_specific_loss(
    x: Tensor,
    x_hat: Tensor,
    u: Tensor,
    mu_k: Tensor,
    p_k: Tensor,
    *,
    m: float = 1.5,
    alpha: float = 0.1,
    recon: float = 1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """The k-th run's loss, DCSS eq. 1a-c (DSSL eq. 1 with alpha = zeta; DML eq. 3
    with alpha = lambda and u, x_hat from the autoencoder of cluster k).

    L_r = sum_i p_ik^m ||x_i - x_hat_i||^2 (1b), L_c = sum_i p_ik^m ||u_i - mu_k||^2
    (1c), summed over the batch; returns ``(recon L_r + alpha L_c, L_r, L_c)`` (1a;
    ``recon`` is 1 in the papers, 0.1 in the DML code). ``p_k`` (B,) are the
    memberships to cluster k, ``mu_k`` (d,) its centre.
    """
    w = p_k.pow(m)  # (B,)
    l_r = (w * (x - x_hat).pow(2).flatten(1).sum(1)).sum()
    l_c = (w * (u - mu_k).pow(2).sum(1)).sum()
    return recon * l_r + alpha * l_c, l_r, l_c


@dataclass(frozen=True)
class PairSelection:
    """How DCSS eq. 4-5 select and sum pairs: the paper's choices by default.

    The official code differs in each (official-code notes §1.4); ``official_code()``
    sets them all.
    """

    strict: bool = False
    """False: s_ij >= zeta and s_ij <= gamma (the paper); True: > and < (the code)"""
    clamp: float | None = None
    """None (the paper); c: q set to 1 above 1 - c and to 0 below c, with no gradient
    there, before the inner products (the code: 0.01)"""
    ordered: bool = False
    """False: the B(B-1)/2 unordered pairs i < j (the paper); True: all B^2 ordered
    pairs, i = j included (the code)"""
    scale: float = 1.0
    """factor on the sum (the code: 0.001)"""

    @classmethod
    def official_code(cls) -> PairSelection:
        return cls(strict=True, clamp=0.01, ordered=True, scale=0.001)

    def count(self, b: int) -> int:
        """How many pairs of a batch of ``b`` the loss sums over (at least 1)."""
        return max(b * b if self.ordered else b * (b - 1) // 2, 1)


def pairwise_similarity_loss(
    q: Tensor,
    s: Tensor,
    zeta: float = 0.8,
    gamma: float = 0.2,
    pairs: PairSelection = PairSelection(),
) -> tuple[Tensor, Tensor]:
    """DCSS eq. 4 (``s = p p^T``) and eq. 5 (``s = q q^T``): pairwise self-supervision.

    L = sum over pairs of 1{s_ij >= zeta} (1 - q_i.q_j) + 1{s_ij <= gamma} q_i.q_j:
    pairs similar in ``s`` are pulled together in the q space, dissimilar ones pushed
    apart, and pairs in the ambiguity region (gamma, zeta) are left out. ``s``
    (B, B) only selects pairs (no gradient flows through it). ``pairs`` holds the
    behaviour flags (inequalities, clamping, which pairs, scale; ``PairSelection``).

    Returns ``(loss, contributing)``: the loss and how many of the summed pairs
    contribute (DCSS Fig. 10a). Memory is O(B^2), nothing larger.
    """
    if q.ndim != 2 or s.shape != (q.shape[0], q.shape[0]):
        raise ValueError(
            f"need q (B, K) and s (B, B), got {tuple(q.shape)}, {tuple(s.shape)}"
        )
    s = s.detach()
    if pairs.clamp is not None:
        c = pairs.clamp
        q = torch.where(q > 1 - c, 1.0, torch.where(q < c, 0.0, q))
    if pairs.strict:
        similar, dissimilar = s > zeta, s < gamma
    else:
        similar, dissimilar = s >= zeta, s <= gamma
    keep = torch.ones_like(s, dtype=torch.bool)
    if not pairs.ordered:
        keep = keep.triu(diagonal=1)  # i < j
    sim = q @ q.T  # (B, B) inner products q_i . q_j
    terms = similar * (1 - sim) + dissimilar * sim
    loss = pairs.scale * (terms * keep).sum()
    return loss, ((similar | dissimilar) & keep).sum()


def has_adjacent_neighbour(
    q: Tensor, zeta: float = 0.8, chunk: int | None = None
) -> Tensor:
    """(n,) bool: does point i have a j != i with q_i . q_j >= zeta (DCSS Def. A.1)?

    The points without one are those of DCSS Fig. 13. Point i has one iff its
    nearest inner-product neighbour other than itself (``neighbours.knn``, k = 1)
    has q_i . q_j >= zeta. Memory O(chunk x n), never n x n (``chunk``: rows per
    block, None for ``knn``'s default).
    """
    from dclib.neighbours import knn

    if q.ndim != 2:
        raise ValueError(f"need q (n, K), got {tuple(q.shape)}")
    if len(q) < 2:  # no other point: no neighbour
        return torch.zeros(len(q), dtype=torch.bool, device=q.device)
    sim, _ = knn(q, 1, metric="inner_product", exclude_self=True, chunk=chunk)
    return sim[:, 0] >= zeta


def top_two(q: Tensor) -> tuple[Tensor, Tensor]:
    """DynAE eq. 5: the highest and second-highest assignment of each row, (n,) each.

    h_i1 = max_j q_ij and h_i2 the next value down. Eq. 5 takes the largest value
    strictly below h_i1; a row whose top two are exactly equal has h_i2 = h_i1 here
    (a gap of 0, so the sample counts as conflicted), which is the only case where
    the two readings differ.
    """
    if q.ndim != 2 or q.shape[1] < 2:
        raise ValueError(f"need q (n, K) with K >= 2, got {tuple(q.shape)}")
    h = q.topk(2, dim=1).values  # (n, 2), descending
    return h[:, 0], h[:, 1]


def unconflicted(q: Tensor, beta1: float, beta2: float, strict: bool = False) -> Tensor:
    """DynAE eq. 13: (n,) bool, the set S of reliable samples.

    x_i is in S iff h_i1 >= beta1 and h_i1 - h_i2 >= beta2 (``strict``: > and >, as
    the official code tests). Its complement is the conflicted set S-bar of eq. 8:
    h_i1 < beta1 or h_i1 - h_i2 < beta2.
    """
    h1, h2 = top_two(q)
    if strict:
        return (h1 > beta1) & (h1 - h2 > beta2)
    return (h1 >= beta1) & (h1 - h2 >= beta2)


def conflicted(q: Tensor, beta1: float, beta2: float, strict: bool = False) -> Tensor:
    """DynAE eq. 8: (n,) bool, the conflicted set S-bar, the complement of eq. 13."""
    return ~unconflicted(q, beta1, beta2, strict)


def confidence_thresholds(kappa: float, n_clusters: int) -> tuple[float, float]:
    """DynAE eq. 10: beta1 = kappa / K and beta2 = beta1 / 2."""
    if n_clusters < 2 or kappa <= 0:
        raise ValueError(f"need K >= 2 and kappa > 0, got K={n_clusters}, {kappa}")
    beta1 = kappa / n_clusters
    return beta1, beta1 / 2


def share(mask: Tensor) -> float:
    """The fraction of samples in ``mask`` (n,) bool: DynAE eq. 11's tau = |S-bar| / N
    (``mask``: the conflicted samples, still reconstructed) and R-DC eq. 15's
    tau = |S| / |X| (``mask``: the core points)."""
    if mask.ndim != 1 or mask.dtype != torch.bool:
        raise ValueError("need a (n,) bool mask")
    return mask.float().mean().item()


def construction_loss(
    x_hat: Tensor,
    x: Tensor,
    target: Tensor,
    construct: Tensor,
    per_element: bool = False,
) -> Tensor:
    """The decoder-target loss of DynAE eq. 9 (R-DC eq. 12 with its own selection).

    Samples in ``construct`` (B,) bool are trained to output ``target`` (their
    centroid image g(sigma(x_i))); the others to reconstruct ``x``:
    ||t_i - x_hat_i||^2 with t_i = target_i if constructed else x_i, averaged over
    the batch (the equation's sum over samples, per sample). ``per_element``
    divides by the number of features too: the element-wise mean of both official
    codes. ``target`` carries no gradient.
    """
    if not x_hat.shape == x.shape == target.shape or construct.shape != x.shape[:1]:
        raise ValueError(
            f"need x_hat, x, target of one shape and construct (B,), got "
            f"{tuple(x_hat.shape)}, {tuple(x.shape)}, {tuple(target.shape)}, "
            f"{tuple(construct.shape)}"
        )
    keep = construct.view(-1, *([1] * (x.ndim - 1)))
    t = torch.where(keep, target.detach(), x)
    per_sample = (x_hat - t).pow(2).flatten(1).sum(1)  # (B,)
    return per_sample.mean() / (x[0].numel() if per_element else 1)


def pull_loss(z: Tensor, target: Tensor, pull: Tensor, per_element: bool = False):
    """The latent-target loss of DynAE eq. 12 (R-DC eq. 13 with its own selection):
    ||z_i - target_i||^2 for the samples in ``pull`` (B,) bool, 0 for the others,
    averaged over the batch; ``per_element`` divides by the code size too (the
    official codes' element-wise mean). ``target`` (B, m) carries no gradient."""
    if z.shape != target.shape or pull.shape != z.shape[:1]:
        raise ValueError(
            f"need z and target (B, m) and pull (B,), got {tuple(z.shape)}, "
            f"{tuple(target.shape)}, {tuple(pull.shape)}"
        )
    per_sample = (z - target.detach()).pow(2).sum(1) * pull  # (B,)
    return per_sample.mean() / (z.shape[1] if per_element else 1)


def neighbour_distances(
    z: Tensor, n_neighbours: int, include_self: bool = False
) -> tuple[Tensor, Tensor]:
    """R-DC eq. 3: d_im = ||z_i - NN(z_i, m)||_2 for m = 1..M, ascending, and the
    neighbours' indices, both (n, M), from the one exact kNN routine
    (``neighbours.knn``). ``include_self``: the point counts as its own first
    neighbour (d_i1 = 0; the official code's M = 5 then holds 4 real neighbours)."""
    from dclib.neighbours import knn

    if z.ndim != 2:
        raise ValueError(f"need z (n, m), got {tuple(z.shape)}")
    return knn(z, n_neighbours, exclude_self=not include_self)


def core_points(d: Tensor, alpha: float, strict: bool = False) -> Tensor:
    """R-DC eq. 4-5: (n,) bool, the core points Omega: r_i = min_m d_im / max_m d_im
    >= alpha (``strict``: > alpha, the official code). All M neighbours at nearly
    one distance give r_i near 1 (a dense region); a point whose neighbours are all
    at distance 0 counts as core."""
    if d.ndim != 2:
        raise ValueError(f"need d (n, M), got {tuple(d.shape)}")
    lo, hi = d.min(1).values, d.max(1).values
    r = torch.where(hi > 0, lo / hi.clamp_min(torch.finfo(d.dtype).tiny), 1.0)
    return r > alpha if strict else r >= alpha


def neighbour_gaps(d: Tensor, reference: Tensor | None = None) -> Tensor:
    """R-DC eq. 7-8: (n, M), h_im = d_im - d-bar_i with d-bar_i = min_m d_im (eq. 7);
    ``reference`` (n,) replaces d-bar (the official code's running minimum)."""
    if d.ndim != 2:
        raise ValueError(f"need d (n, M), got {tuple(d.shape)}")
    d_bar = d.min(1).values if reference is None else reference
    if d_bar.shape != d.shape[:1]:
        raise ValueError(f"need reference (n,), got {tuple(d_bar.shape)}")
    return d - d_bar[:, None]


def reliable_neighbours(
    d: Tensor, beta: float, strict: bool = False, reference: Tensor | None = None
) -> Tensor:
    """R-DC eq. 9: (n, M) bool, the reliable neighbours Omega_nn^i of each point:
    h_im (eq. 7-8, ``neighbour_gaps``) <= beta (``strict``: < beta), so the nearest
    neighbour is always reliable; ``reference`` (n,) replaces d-bar."""
    h = neighbour_gaps(d, reference)
    return h < beta if strict else h <= beta


def neighbour_centroids(z: Tensor, index: Tensor, reliable: Tensor) -> Tensor:
    """R-DC eq. 10-11: (n, m), sigma(x_i), the mean code of the reliable neighbours
    of each point (``index`` (n, M) their rows in ``z``, ``reliable`` (n, M) bool,
    at least one per row)."""
    if index.shape != reliable.shape or index.ndim != 2:
        raise ValueError(
            f"need index and reliable (n, M), got {tuple(index.shape)}, "
            f"{tuple(reliable.shape)}"
        )
    w = reliable.to(z.dtype)  # (n, M)
    return (w[..., None] * z[index]).sum(1) / w.sum(1, keepdim=True).clamp_min(1)


def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.5) -> Tensor:
    """The instance-level contrastive loss (NT-Xent, SimCLR) that R-DC Fig. 1 pretrains
    with instead of reconstruction: ``a`` and ``b`` (B, m) are the codes of two
    random views of the same B samples; with s = cos / ``temperature`` over the 2B
    codes, each code's partner is its positive and the other 2B - 2 its negatives:
    mean over the 2B codes of -log(exp s_pos / sum_{k != i} exp s_ik)."""
    if a.shape != b.shape or a.ndim != 2 or len(a) < 2:
        raise ValueError(
            f"need two views (B, m) of one shape with B >= 2, got {tuple(a.shape)}, "
            f"{tuple(b.shape)}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z = torch.nn.functional.normalize(torch.cat([a, b]), dim=1)  # (2B, m)
    s = z @ z.T / temperature
    s = s.masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device), -math.inf)
    n = len(a)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return torch.nn.functional.cross_entropy(s, partner)
