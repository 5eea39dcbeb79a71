"""DCSS Appendix A: each statement as a property test, paired with the counterexample
that appears once one of its hypotheses is dropped (so each property test can fail)."""

import itertools
import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dclib import theory as T

K = st.integers(2, 5)
LOGIT = st.floats(-30, 30, allow_nan=False)


def q_vectors(n: int):
    """``n`` aligned q-vectors (softmax of bounded logits: flat to one-hot)."""
    return K.flatmap(
        lambda k: st.lists(
            st.lists(LOGIT, min_size=k, max_size=k), min_size=n, max_size=n
        )
    ).map(lambda rows: torch.tensor(rows, dtype=torch.float64).softmax(1))


def rows(*vectors):
    return [torch.tensor([v], dtype=torch.float64) for v in vectors]


ZETA = st.floats(0.51, 0.99)  # Theorem 2 and its corollary hold for any zeta > 1/2
PROPS = settings(max_examples=150, deadline=None)


def clean(check: T.Check) -> bool:
    return check.violated == 0 and check.satisfied == check.tested


@PROPS
@given(q_vectors(2))
def test_theorem_1_holds_on_the_simplex(q):
    assert clean(T.theorem_1(q[:1], q[1:]))


def test_theorem_1_fails_off_the_simplex():
    qi, qj = rows([2.0, 0.0], [1.0, 0.0])  # |q_i|_1 = 2: q_i.q_j = 2 > min(2, 1)
    check = T.theorem_1(qi, qj, simplex=False)
    assert (check.premise, check.violated) == (False, 1)


@PROPS
@given(q_vectors(2), st.floats(0.01, 0.99))
@example(torch.tensor([[1.0, 0.0], [0.9, 0.1]], dtype=torch.float64), 0.9)
def test_corollary_1_1_holds(q, zeta):
    assert clean(T.corollary_1_1(q[:1], q[1:], zeta))


def test_corollary_1_1_needs_adjacency():
    qi, qj = rows([0.5, 0.5], [0.5, 0.5])  # not adjacent at 0.8, and peaks < 0.8
    check = T.corollary_1_1(qi, qj, 0.8)
    assert (check.tested, check.claim_fails) == (0, 1)


@PROPS
@given(q_vectors(6), st.floats(0.01, 0.99))
def test_corollary_1_2_holds(q, zeta):
    assert clean(T.corollary_1_2(q, zeta))


def test_corollary_1_2_needs_a_neighbour():
    (q,) = rows([0.6, 0.4])  # alone: no neighbour, peak 0.6 < 0.8
    check = T.corollary_1_2(q, 0.8)
    assert (check.tested, check.claim_fails) == (0, 1)


@PROPS
@given(q_vectors(6), st.floats(0.01, 0.99), st.floats(0.01, 1.0))
@example(  # zeta <= 1/2, where Theorem 2 fails on rows 3, 4: Corollary 1.3 holds
    torch.tensor(
        [[0.5, 0.5, 0], [1, 0, 0], [0, 1, 0], [0.6, 0.4, 0], [0.4, 0.6, 0], [0, 0, 1]],
        dtype=torch.float64,
    ),
    0.45,
    0.9,
)
def test_corollary_1_3_holds_for_every_zeta(q, zeta, frac):
    # no zeta > 1/2: the proof uses Corollary 1.2 and the shared argmax only
    i, k = (t.flatten() for t in torch.meshgrid(*[torch.arange(6)] * 2, indexing="ij"))
    assert clean(T.corollary_1_3(q, i, k, zeta, frac * zeta**2 * 0.999))


def test_corollary_1_3_premise_is_gamma_below_zeta_squared_alone():
    q = T.simplex_grid(3, 20)
    i, j = torch.triu_indices(len(q), len(q), 1)
    check = T.corollary_1_3(q, i, j, 0.45, 0.2)  # 0.2 < 0.45^2 = 0.2025
    assert check.premise and check.tested > 0 and check.violated == 0
    assert T.theorem_2(q[i], q[j], 0.45).violated > 0  # Theorem 2 fails there
    # below 1/2 too, gamma = zeta^2 is where it breaks (zeta = 3/8, exact in binary)
    q = torch.tensor(
        [[0.375, 0.3125, 0.3125, 0, 0], [0.375, 0, 0, 0.3125, 0.3125], [1, 0, 0, 0, 0]],
        dtype=torch.float64,
    )  # rows 0, 1 share argmax 0, q_0.q_1 = zeta^2; row 2 is adjacent to both
    i, k = torch.tensor([0]), torch.tensor([1])
    tight = T.corollary_1_3(q, i, k, 0.375, 0.375**2)
    assert (tight.premise, tight.tested, tight.violated) == (False, 1, 1)
    assert clean(T.corollary_1_3(q, i, k, 0.375, 0.14))


def test_corollary_1_3_fails_at_gamma_equal_zeta_squared():
    q = torch.tensor(
        [[0.75, 0.25, 0], [0.75, 0, 0.25], [1.0, 0, 0]], dtype=torch.float64
    )
    i, k = torch.tensor([0]), torch.tensor([1])  # q_0.q_1 = 0.5625 = zeta^2
    check = T.corollary_1_3(q, i, k, 0.75, 0.5625)
    assert (check.premise, check.tested, check.violated) == (False, 1, 1)
    assert clean(T.corollary_1_3(q, i, k, 0.75, 0.56))


def test_corollary_1_3_needs_neighbours():
    q = torch.tensor([[0.6, 0.4, 0], [0.6, 0, 0.4]], dtype=torch.float64)
    check = T.corollary_1_3(q, torch.tensor([0]), torch.tensor([1]), 0.75, 0.5)
    assert (check.tested, check.claim_fails) == (0, 1)


@PROPS
@given(q_vectors(2), ZETA)
@example(torch.tensor([[0.5, 0.5, 0], [0.5, 0.5, 0]], dtype=torch.float64), 0.51)
def test_theorem_2_holds_for_every_zeta_above_one_half(q, zeta):
    assert clean(T.theorem_2(q[:1], q[1:], zeta))


def test_theorem_2_fails_at_zeta_one_half_or_below():
    qi, qj = rows([0.6, 0.4], [0.4, 0.6])  # q_i.q_j = 0.48, different argmax
    check = T.theorem_2(qi, qj, 0.45)
    assert (check.premise, check.tested, check.violated) == (False, 1, 1)


@PROPS
@given(q_vectors(3), ZETA)
def test_corollary_2_1_holds(q, zeta):
    assert clean(T.corollary_2_1(q[:1], q[1:2], q[2:], zeta))


def test_corollary_2_1_fails_at_small_zeta():
    qi, qj, qk = rows([0.5, 0.5, 0], [1.0, 0, 0], [0, 1.0, 0])
    check = T.corollary_2_1(qi, qj, qk, 0.45)
    assert (check.premise, check.violated) == (False, 1)


@PROPS
@given(q_vectors(3), ZETA, st.floats(0.01, 1.0))
def test_theorem_3_holds(q, zeta, frac):
    assert clean(T.theorem_3(q[:1], q[1:2], q[2:], zeta, frac * zeta**2 * 0.999))


@pytest.mark.parametrize(
    "zeta, gamma, vectors",
    [
        (0.45, 0.2, ([0.5, 0.5, 0], [1.0, 0, 0], [0, 1.0, 0])),  # zeta <= 1/2
        (
            0.75,
            0.5625,
            ([1.0, 0, 0], [0.75, 0.25, 0], [0.75, 0, 0.25]),
        ),  # gamma = zeta^2
    ],
)
def test_theorem_3_fails_without_its_conditions(zeta, gamma, vectors):
    check = T.theorem_3(*rows(*vectors), zeta, gamma)
    assert (check.premise, check.tested, check.violated) == (False, 1, 1)


def test_checks_add_and_refuse_to_mix():
    a = T.theorem_1(*rows([1.0, 0], [0.5, 0.5]))
    assert (a + a).n == 2
    with pytest.raises(ValueError, match="cannot add"):
        a + T.theorem_2(*rows([1.0, 0], [0.5, 0.5]), 0.8)


@pytest.mark.parametrize(
    "q, match",
    [
        (torch.ones(3), "shape"),
        (torch.ones(3, 1), "K >= 2"),
        (torch.tensor([[0.5, float("nan")]]), "finite"),
        (torch.tensor([[1.5, -0.5]]), "non-negative"),
        (torch.tensor([[0.5, 0.6]]), "sum to 1"),
        (torch.tensor([[1, 0]]), "floating"),
    ],
)
def test_bad_q_vectors_are_refused(q, match):
    with pytest.raises(ValueError, match=match):
        T.as_q(q)


def test_bad_parameters_are_refused():
    qi, qj = rows([1.0, 0], [1.0, 0])
    with pytest.raises(ValueError, match="zeta"):
        T.theorem_2(qi, qj, 1.5)
    with pytest.raises(ValueError, match="differ in shape"):
        T.theorem_1(qi, torch.ones(2, 2) / 2)


def test_pair_blocks_visit_every_pair_once():
    seen = torch.cat([torch.stack(p, 1) for p in T.pair_blocks(7, chunk=3)])
    assert sorted(map(tuple, seen.tolist())) == list(
        itertools.combinations(range(7), 2)
    )
    seen = torch.cat([torch.stack(p, 1) for p in T.pair_blocks(7, 3, diagonal=True)])
    assert seen.tolist() == [
        list(p) for p in itertools.combinations_with_replacement(range(7), 2)
    ]  # row-major order


@pytest.mark.parametrize("same_cluster", [True, False])
@pytest.mark.parametrize("largest", [True, False])
def test_extremal_pair_agrees_with_the_full_matrix(same_cluster, largest):
    g = torch.Generator().manual_seed(0)
    logits = 2 * torch.randn(150, 3, generator=g, dtype=torch.float64)
    q = torch.cat([logits.softmax(1), T.simplex_grid(3, 6)])
    value, qi, qj = T.extremal_pair(
        q, same_cluster=same_cluster, largest=largest, min_peak=0.4, chunk=7
    )
    arg = T.strict_argmax(q)
    ok = (arg >= 0) & (T.peak(q) >= 0.4 - T.TOL)
    sim = q[ok] @ q[ok].T  # every pair, i = j included
    keep = (arg[ok, None] == arg[None, ok]) == same_cluster
    best = sim[keep].max() if largest else sim[keep].min()
    assert value == pytest.approx(float(best), abs=1e-12)
    assert float(qi @ qj) == pytest.approx(value, abs=1e-12)
    assert (int(qi.argmax()) == int(qj.argmax())) == same_cluster


def test_simplex_grid_is_the_whole_lattice():
    g = T.simplex_grid(3, 4)
    assert len(g) == math.comb(6, 2) and torch.allclose(
        g.sum(1), torch.ones(15, dtype=g.dtype)
    )
    assert len({tuple(r) for r in (g * 4).round().tolist()}) == 15


@pytest.mark.parametrize("K, expected", [(2, 0.75**2 + 0.25**2), (3, 0.75**2)])
def test_closest_same_cluster_pair_gives_zeta_squared_from_k_3(K, expected):
    value, qi, qj = T.extremal_pair(
        T.simplex_grid(K, 8), same_cluster=True, largest=False, min_peak=0.75
    )
    assert value == pytest.approx(expected)
    assert float(qi @ qj) == pytest.approx(expected)


def test_cross_cluster_inner_products_stay_below_one_half():
    value, qi, qj = T.extremal_pair(
        T.simplex_grid(3, 20), same_cluster=False, largest=True
    )
    assert 0.49 < value < 0.5 and int(qi.argmax()) != int(qj.argmax())
    value, qi, qj = T.ascend_cross_cluster(4, restarts=8, steps=300)
    assert 0.49 < value <= 0.5 and (int(qi.argmax()), int(qj.argmax())) == (0, 1)


def test_check_set_counts_every_pair_and_point():
    q = T.simplex_grid(3, 10)
    n = len(q)
    checks = T.check_set(q, 0.8, 0.2, n_triples=500, seed=0, chunk=16)
    assert tuple(checks) == T.STATEMENTS
    assert checks["Theorem 1"].n == n * (n - 1) // 2 == checks["Theorem 2"].n
    assert checks["Corollary 1.2"].n == n and checks["Theorem 3"].n == 500
    i, j = torch.triu_indices(n, n, 1)
    assert checks["Theorem 2"].tested == T.theorem_2(q[i], q[j], 0.8).tested > 0
    assert all(clean(c) for c in checks.values())
    # gamma = zeta^2 on the K = 3 grid: Corollary 1.3's tight pair is in the set
    tight = T.check_set(q, 0.8, 0.8**2, n_triples=64)
    assert not tight["Corollary 1.3"].premise and tight["Corollary 1.3"].violated > 0
