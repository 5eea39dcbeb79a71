"""Pure tensor functions, one per paper equation. No state, no loops over samples.

Shapes: ``z`` (n, m) latent codes, ``mu`` (K, m) centres, ``q``/``p`` (n, K).
"""

from __future__ import annotations

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
