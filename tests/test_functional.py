from __future__ import annotations

import math

import pytest
import torch

from dclib.functional import (
    kl_clustering_loss,
    student_t_assignment,
    target_distribution,
)


def test_student_t_by_hand():
    # z at distance 1 from mu_0 and 2 from mu_1, alpha = 1: kernels 1/2 and 1/5
    z = torch.tensor([[0.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    q = student_t_assignment(z, mu)
    torch.testing.assert_close(q, torch.tensor([[(1 / 2) / 0.7, (1 / 5) / 0.7]]))
    # alpha = 2: (1 + d2/2)^(-3/2): 1.5^-1.5 and 3^-1.5
    a, b = 1.5**-1.5, 3.0**-1.5
    torch.testing.assert_close(
        student_t_assignment(z, mu, alpha=2.0),
        torch.tensor([[a / (a + b), b / (a + b)]]),
    )


def test_target_distribution_by_hand():
    q = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    # f = (1.2, 0.8); q^2/f: row0 (0.64/1.2, 0.04/0.8) = (0.5333, 0.05);
    # row1 (0.16/1.2, 0.36/0.8) = (0.1333, 0.45)
    r0 = torch.tensor([0.64 / 1.2, 0.04 / 0.8])
    r1 = torch.tensor([0.16 / 1.2, 0.36 / 0.8])
    expected = torch.stack([r0 / r0.sum(), r1 / r1.sum()])
    p = target_distribution(q)
    torch.testing.assert_close(p, expected)
    assert (p.max(1).values > q.max(1).values).all()  # sharper than q


def test_kl_by_hand_and_zero_at_equality():
    p = torch.tensor([[0.5, 0.5]])
    q = torch.tensor([[0.25, 0.75]])
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert kl_clustering_loss(p, q).item() == pytest.approx(expected)
    assert kl_clustering_loss(q, q).item() == pytest.approx(0.0, abs=1e-7)


def test_rows_sum_to_one():
    g = torch.Generator().manual_seed(0)
    q = student_t_assignment(
        torch.randn(50, 3, generator=g), torch.randn(4, 3, generator=g)
    )
    torch.testing.assert_close(q.sum(1), torch.ones(50))
    torch.testing.assert_close(target_distribution(q).sum(1), torch.ones(50))


@pytest.mark.parametrize(
    ("z", "mu", "match"),
    [
        (torch.zeros(3, 2), torch.zeros(2, 3), "mu"),
        (torch.zeros(3), torch.zeros(2, 3), "z"),
        (torch.zeros(3, 2), torch.zeros(1, 2), "K = 2"),
    ],
)
def test_bad_shapes_raise(z, mu, match):
    with pytest.raises(ValueError, match=match):
        student_t_assignment(z, mu)


def test_kmeans_loss_by_hand():
    from dclib.functional import kmeans_loss

    z = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    mu = torch.tensor([[1.0, 0.0], [3.0, 3.0]])
    # sample 0 -> mu_0: 1; sample 1 -> mu_1: 1; mean 1
    assert kmeans_loss(z, mu, torch.tensor([0, 1])).item() == pytest.approx(1.0)
    # both on mu_0: 1 and (2^2 + 4^2) = 20 -> mean 10.5
    assert kmeans_loss(z, mu, torch.tensor([0, 0])).item() == pytest.approx(10.5)


def test_running_mean_centres_equal_sequential_updates():
    from dclib.functional import running_mean_centres

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 2, generator=g)
    counts = torch.tensor([5.0, 1.0, 2.0])
    z = torch.randn(7, 2, generator=g)
    assign = torch.tensor([0, 0, 2, 0, 2, 2, 0])
    seq_mu, seq_c = mu.clone(), counts.clone()
    for i in range(7):  # DCN eq. 7, one sample at a time
        k = assign[i]
        seq_c[k] += 1
        seq_mu[k] -= (seq_mu[k] - z[i]) / seq_c[k]
    new_mu, new_c = running_mean_centres(mu, counts, z, assign)
    torch.testing.assert_close(new_mu, seq_mu)
    torch.testing.assert_close(new_c, seq_c)
    torch.testing.assert_close(new_mu[1], mu[1])  # no sample: unchanged


def test_soft_kmeans_loss_by_hand_and_limit():
    from dclib.functional import kmeans_loss, soft_kmeans_loss

    z = torch.tensor([[0.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # d2 = 1 and 4
    w0, w1 = math.exp(-1), math.exp(-4)  # alpha = 1
    expected = (1 * w0 + 4 * w1) / (w0 + w1)
    assert soft_kmeans_loss(z, mu, 1.0).item() == pytest.approx(expected)
    hard = kmeans_loss(z, mu, torch.tensor([0]))
    assert soft_kmeans_loss(z, mu, 1000.0).item() == pytest.approx(hard.item())


def test_dkm_alphas():
    from dclib.functional import dkm_alphas

    a = dkm_alphas(4)
    assert a[0] == 0.1
    assert a[1] == pytest.approx(0.1 * 2 ** (1 / math.log(2) ** 2))
    assert a[3] == pytest.approx(a[2] * 2 ** (1 / math.log(4) ** 2))


def test_fuzzy_memberships_by_hand():
    from dclib.functional import fuzzy_memberships

    # d2 = 1 and 4; m = 1.5: weights d2^-2 = 1 and 1/16 -> p = (16/17, 1/17)
    u = torch.tensor([[0.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    torch.testing.assert_close(
        fuzzy_memberships(u, mu), torch.tensor([[16 / 17, 1 / 17]])
    )
    # m = 2: weights d2^-1 = 1 and 1/4 -> p = (0.8, 0.2)
    torch.testing.assert_close(
        fuzzy_memberships(u, mu, m=2.0), torch.tensor([[0.8, 0.2]])
    )


def test_fuzzy_memberships_are_finite_on_a_centre_and_sum_to_one():
    from dclib.functional import fuzzy_memberships

    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g)
    u = torch.cat([mu[:1], torch.randn(20, 3, generator=g)])  # sample 0 on centre 0
    for m in (1.05, 1.5, 3.0):
        p = fuzzy_memberships(u, mu, m=m)
        assert torch.isfinite(p).all()
        torch.testing.assert_close(p.sum(1), torch.ones(21))
        assert p[0, 0] > 0.999


def test_fuzzy_centres_by_hand():
    from dclib.functional import fuzzy_centres

    u = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    # m = 2: weights (1, 0.25) for centre 0 -> (0.5/1.25, 0); (0, 0.25) -> (2, 0)
    torch.testing.assert_close(
        fuzzy_centres(u, p, m=2.0), torch.tensor([[0.4, 0.0], [2.0, 0.0]])
    )


def test_cluster_specific_loss_by_hand():
    from dclib.functional import cluster_specific_loss

    x = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    x_hat = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # errors 1 and 4
    u = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    mu_k = torch.tensor([0.0, 0.0])  # centring errors 0 and 25
    p_k = torch.tensor([1.0, 0.25])  # m = 2: weights 1 and 1/16
    total, l_r, l_c = cluster_specific_loss(x, x_hat, u, mu_k, p_k, m=2.0, alpha=0.1)
    assert l_r.item() == pytest.approx(1 + 4 / 16)
    assert l_c.item() == pytest.approx(25 / 16)
    assert total.item() == pytest.approx(1.25 + 0.1 * 25 / 16)


@pytest.mark.parametrize(
    ("d2", "m", "match"),
    [
        (torch.ones(3, 1), 1.5, "K >= 2"),
        (torch.ones(3), 1.5, "K >= 2"),
        (torch.ones(3, 2), 1.0, "m must be > 1"),
    ],
)
def test_bad_membership_input(d2, m, match):
    from dclib.functional import memberships_from_distances

    with pytest.raises(ValueError, match=match):
        memberships_from_distances(d2, m)


def test_pairwise_similarity_loss_by_hand():
    from dclib.functional import pairwise_similarity_loss

    q = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
    # q.q: (0,1) 0.74, (0,2) 0.18, (1,2) 0.26
    s = torch.tensor([[1.0, 0.9, 0.1], [0.9, 1.0, 0.5], [0.1, 0.5, 1.0]])
    # pairs: (0,1) similar -> 1 - 0.74; (0,2) dissimilar -> 0.18; (1,2) ambiguous
    loss, pairs = pairwise_similarity_loss(q, s)
    assert loss.item() == pytest.approx(0.26 + 0.18)
    assert pairs.item() == 2


def test_pairwise_official_code_selection_by_hand():
    from dclib.functional import PairSelection, pairwise_similarity_loss

    code = PairSelection.official_code()
    assert code == PairSelection(strict=True, clamp=0.01, ordered=True, scale=0.001)
    assert PairSelection() == PairSelection(False, None, False, 1.0)  # the paper
    q = torch.tensor([[0.995, 0.005], [0.5, 0.5]])  # row 0 clamps to (1, 0)
    s = torch.tensor([[0.8, 0.9], [0.9, 0.2]])  # strict: 0.8 and 0.2 not selected
    # clamped q.q: (0,1) 0.5, (1,0) 0.5; similar pairs (0,1),(1,0): 2 x (1 - 0.5)
    loss, pairs = pairwise_similarity_loss(q, s, pairs=code)
    assert loss.item() == pytest.approx(0.001 * 1.0)
    assert pairs.item() == 2
    # the paper's selection on the same input: only pair {0,1}, similar, unclamped q
    paper, n = pairwise_similarity_loss(q, s)
    assert paper.item() == pytest.approx(1 - (0.995 * 0.5 + 0.005 * 0.5))
    assert n.item() == 1
    # each field on its own: non-strict selects the diagonal's 0.8 and 0.2 too
    ordered, n = pairwise_similarity_loss(q, s, pairs=PairSelection(ordered=True))
    # (0,0) similar: 1 - q0.q0; (0,1), (1,0) similar: 2 (1 - q0.q1); (1,1): q1.q1
    q00, q01, q11 = 0.995**2 + 0.005**2, 0.5, 0.5
    assert ordered.item() == pytest.approx((1 - q00) + 2 * (1 - q01) + q11)
    assert n.item() == 4
    scaled, _ = pairwise_similarity_loss(q, s, pairs=PairSelection(scale=0.5))
    assert scaled.item() == pytest.approx(0.5 * paper.item())
    assert (PairSelection().count(5), code.count(5), code.count(0)) == (10, 25, 1)


def test_pairwise_loss_gradients_pull_similar_and_push_dissimilar():
    from dclib.functional import pairwise_similarity_loss

    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    q = torch.softmax(logits, 1)
    s = torch.tensor([[1.0, 1.0], [1.0, 1.0]])  # call the two similar
    loss, _ = pairwise_similarity_loss(q, s)
    loss.backward()
    # descending the gradient moves q_0 towards cluster 1 (towards q_1)
    assert logits.grad[0, 1] < 0 < logits.grad[0, 0]


def _pairwise_brute_force(q, s, zeta, gamma, sel):
    """DCSS eq. 4-5 as a double loop over pairs, plain Python numbers."""
    q, s = q.tolist(), s.tolist()
    if sel.clamp is not None:
        c = sel.clamp
        q = [[1.0 if v > 1 - c else 0.0 if v < c else v for v in row] for row in q]
    total, contributing = 0.0, 0
    for i in range(len(q)):
        for j in range(len(q)):
            if not (sel.ordered or i < j):
                continue
            dot = sum(a * b for a, b in zip(q[i], q[j], strict=True))
            if sel.strict:
                similar, dissimilar = s[i][j] > zeta, s[i][j] < gamma
            else:
                similar, dissimilar = s[i][j] >= zeta, s[i][j] <= gamma
            total += (1 - dot) * similar + dot * dissimilar
            contributing += similar or dissimilar
    return sel.scale * total, contributing


@pytest.mark.parametrize("official", [False, True])
def test_pairwise_loss_equals_a_double_loop_over_pairs(official):
    from dclib.functional import PairSelection, pairwise_similarity_loss

    sel = PairSelection.official_code() if official else PairSelection()
    g = torch.Generator().manual_seed(0)
    logits = 4 * torch.randn(12, 3, generator=g, dtype=torch.float64)
    q = torch.softmax(logits, 1)  # some entries beyond the clamps 0.01 / 0.99
    assert (q > 0.99).any() and (q < 0.01).any()
    s = q @ q.T
    s[0, 1] = s[1, 0] = s[2, 2] = 0.8  # on the boundaries: strictness matters
    s[3, 4] = s[4, 3] = s[5, 5] = 0.2
    for zeta, gamma in ((0.8, 0.2), (0.6, 0.4)):
        loss, pairs = pairwise_similarity_loss(q, s, zeta, gamma, sel)
        expected, count = _pairwise_brute_force(q, s, zeta, gamma, sel)
        assert loss.item() == pytest.approx(expected, rel=1e-12)
        assert pairs.item() == count
        assert 0 < count <= sel.count(12) == (144 if official else 66)


def test_pairwise_loss_handles_a_batch_of_1024():
    from dclib.functional import PairSelection, pairwise_similarity_loss

    g = torch.Generator().manual_seed(0)
    q = torch.softmax(torch.randn(1024, 10, generator=g), 1)
    for sel in (PairSelection(), PairSelection.official_code()):
        loss, pairs = pairwise_similarity_loss(q, q @ q.T, pairs=sel)
        assert torch.isfinite(loss) and 0 < pairs <= sel.count(1024)
