"""The q-vector statements of DCSS Appendix A as vectorised, countable checks.

A q-vector is a point of the probability simplex: K non-negative entries that sum to
one (MNet's softmax output). Two points are *adjacent* when q_i . q_j >= zeta
(Def. A.1) and in the *same cluster* when their q-vectors have the same argmax
(Def. A.2; ties go to the first index, as ``torch.argmax``).

Each check takes aligned batches (row r of ``qi``, ``qj`` [, ``qk``] is one pair or
triple) and returns a ``Check``: how many inputs it saw, how many meet the
statement's hypotheses, how many of those violate its claim, and how often the claim
fails when the per-pair hypotheses are ignored (what the hypotheses buy). Conditions
on the hyperparameters (zeta > 2/3, gamma < zeta^2) are not enforced, only reported
in ``Check.premise``, so the same functions search for counterexamples once a
hypothesis is dropped. Computations are in float64; a claim "a <= b" is checked as
"a <= b + TOL" so that rounding never counts as a violation.

The extremal searches (``simplex_grid`` + ``extremal_pair``, ``ascend_cross_cluster``)
find the tight constants that the notebook compares with the paper's 2/3 and zeta^2.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from dclib.functional import has_adjacent_neighbour

TOL = 1e-9
"""slack on the claimed inequalities (float64 rounding)"""

STATEMENTS = (
    "Theorem 1",
    "Corollary 1.1",
    "Corollary 1.2",
    "Corollary 1.3",
    "Theorem 2",
    "Corollary 2.1",
    "Theorem 3",
)


@dataclass(frozen=True)
class Check:
    """Counts of one statement's check on a batch of pairs, triples or points."""

    statement: str
    premise: bool
    """the statement's conditions on zeta and gamma hold"""
    n: int
    """inputs (pairs, triples or points) seen"""
    tested: int
    """inputs that meet the statement's per-input hypotheses"""
    violated: int
    """tested inputs whose claim fails: a counterexample when ``premise`` holds"""
    claim_fails: int
    """inputs whose claim fails, hypotheses ignored"""

    @property
    def satisfied(self) -> int:
        return self.tested - self.violated

    def __add__(self, other: Check) -> Check:
        if (other.statement, other.premise) != (self.statement, self.premise):
            raise ValueError(
                f"cannot add a {other.statement} check to {self.statement}"
            )
        return Check(
            self.statement,
            self.premise,
            self.n + other.n,
            self.tested + other.tested,
            self.violated + other.violated,
            self.claim_fails + other.claim_fails,
        )


def as_q(q: Tensor, *, simplex: bool = True) -> Tensor:
    """``q`` as float64 after validation: a finite, non-negative (n, K) tensor with
    K >= 2 whose rows sum to one (only checked when ``simplex``)."""
    if not isinstance(q, Tensor) or q.ndim != 2 or not q.is_floating_point():
        raise ValueError("q must be a floating-point tensor of shape (n, K)")
    if q.shape[1] < 2:
        raise ValueError(f"q-vectors need K >= 2 entries, got K = {q.shape[1]}")
    q = q.double()
    if not torch.isfinite(q).all() or (q < 0).any():
        raise ValueError("q must be finite and non-negative")
    if simplex and not torch.allclose(q.sum(1), torch.ones_like(q[:, 0]), atol=1e-4):
        raise ValueError("each q-vector must sum to 1 (simplex=False to drop this)")
    return q


def _aligned(*qs: Tensor, simplex: bool = True) -> list[Tensor]:
    out = [as_q(q, simplex=simplex) for q in qs]
    if len({q.shape for q in out}) != 1:
        raise ValueError(f"aligned batches differ in shape: {[q.shape for q in out]}")
    return out


def _unit(value: float, name: str) -> None:
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {value}")


def _count(statement: str, premise: bool, hyp: Tensor, claim: Tensor) -> Check:
    fails = ~claim
    return Check(
        statement,
        bool(premise),
        int(claim.numel()),
        int(hyp.sum()),
        int((hyp & fails).sum()),
        int(fails.sum()),
    )


def dot(qi: Tensor, qj: Tensor) -> Tensor:
    """Row-wise inner products q_i . q_j."""
    return (qi * qj).sum(1)


def peak(q: Tensor) -> Tensor:
    """max_l q_il: the largest entry of each q-vector."""
    return q.max(1).values


def theorem_1(qi: Tensor, qj: Tensor, *, simplex: bool = True) -> Check:
    """Theorem 1 (eq. 7): q_i . q_j <= min(max_l q_il, max_l q_jl) for every pair.

    ``simplex=False`` drops the hypothesis that each q sums to one (e.g. sigmoid
    outputs): then the bound fails."""
    qi, qj = _aligned(qi, qj, simplex=simplex)
    claim = dot(qi, qj) <= torch.minimum(peak(qi), peak(qj)) + TOL
    return _count("Theorem 1", simplex, torch.ones_like(claim), claim)


def corollary_1_1(qi: Tensor, qj: Tensor, zeta: float) -> Check:
    """Corollary 1.1 (eq. 17): adjacent i, j (q_i . q_j >= zeta) have
    max_l q_il >= zeta and max_l q_jl >= zeta."""
    _unit(zeta, "zeta")
    qi, qj = _aligned(qi, qj)
    claim = (peak(qi) >= zeta - TOL) & (peak(qj) >= zeta - TOL)
    return _count("Corollary 1.1", True, dot(qi, qj) >= zeta, claim)


def corollary_1_2(q: Tensor, zeta: float, chunk: int | None = None) -> Check:
    """Corollary 1.2 (eq. 18): a point with an adjacent neighbour among the rows of
    ``q`` has max_l q_il >= zeta. Counts points; memory O(chunk x n) (the neighbour
    search is ``functional.has_adjacent_neighbour``, i.e. ``neighbours.knn``)."""
    _unit(zeta, "zeta")
    (q,) = _aligned(q)
    hyp = has_adjacent_neighbour(q, zeta, chunk)
    return _count("Corollary 1.2", True, hyp, peak(q) >= zeta - TOL)


def corollary_1_3(
    q: Tensor,
    i: Tensor,
    k: Tensor,
    zeta: float,
    gamma: float,
    chunk: int | None = None,
) -> Check:
    """Corollary 1.3 (eqs. 19-21): if gamma < zeta^2 and points i, k of ``q`` each
    have an adjacent neighbour among its rows, dissimilar i, k (q_i . q_k <= gamma)
    are in different clusters. ``i``, ``k``: index tensors of the pairs tested.

    The premise is gamma < zeta^2 alone, for every zeta in (0, 1): the proof uses
    Corollary 1.2 (both peaks >= zeta) and the shared argmax of the contradiction
    hypothesis, never Theorem 2, so it needs no zeta > 1/2."""
    _unit(zeta, "zeta"), _unit(gamma, "gamma")
    (q,) = _aligned(q)
    linked = has_adjacent_neighbour(q, zeta, chunk)
    qi, qk = q[i], q[k]
    hyp = linked[i] & linked[k] & (dot(qi, qk) <= gamma)
    claim = qi.argmax(1) != qk.argmax(1)
    return _count("Corollary 1.3", gamma < zeta**2, hyp, claim)


def theorem_2(qi: Tensor, qj: Tensor, zeta: float) -> Check:
    """Theorem 2 (eqs. 22-23): for zeta >= 2/3, adjacent i, j are in the same
    cluster."""
    _unit(zeta, "zeta")
    qi, qj = _aligned(qi, qj)
    claim = qi.argmax(1) == qj.argmax(1)
    return _count("Theorem 2", zeta >= 2 / 3, dot(qi, qj) >= zeta, claim)


def corollary_2_1(qi: Tensor, qj: Tensor, qk: Tensor, zeta: float) -> Check:
    """Corollary 2.1: for zeta > 2/3, if i, j and i, k are adjacent, j and k are in
    the same cluster."""
    _unit(zeta, "zeta")
    qi, qj, qk = _aligned(qi, qj, qk)
    hyp = (dot(qi, qj) >= zeta) & (dot(qi, qk) >= zeta)
    claim = qj.argmax(1) == qk.argmax(1)
    return _count("Corollary 2.1", zeta > 2 / 3, hyp, claim)


def theorem_3(qi: Tensor, qj: Tensor, qk: Tensor, zeta: float, gamma: float) -> Check:
    """Theorem 3 (eqs. 24-27): for zeta > 2/3 and gamma < zeta^2, if i, j and i, k
    are adjacent, j and k are not dissimilar: q_j . q_k > gamma."""
    _unit(zeta, "zeta"), _unit(gamma, "gamma")
    qi, qj, qk = _aligned(qi, qj, qk)
    hyp = (dot(qi, qj) >= zeta) & (dot(qi, qk) >= zeta)
    claim = dot(qj, qk) > gamma
    return _count("Theorem 3", zeta > 2 / 3 and gamma < zeta**2, hyp, claim)


def mass_move_gain(qi: Tensor, qj: Tensor, r: Tensor) -> Tensor:
    """The change of q_i . q_j when eq. (11) of the paper's proof of Theorem 1 moves
    the mass q_je onto entry r (row-wise, one column per e): q_je (q_ir - q_ie).
    ``r``: one entry index per row."""
    return qj * (qi.gather(1, r[:, None]) - qi)


def proof_readings(q: Tensor, chunk: int = 2048) -> tuple[int, int, int]:
    """Both readings of r in the proof of Theorem 1 on every pair i < j of ``q``:
    ``(pairs, lowered as used, lowered as written)``, where a pair counts as lowered
    when some move of eq. (11) lowers q_i . q_j (by more than ``TOL``), with
    r = argmax q_i (as the step after eq. 13 uses it) or r = argmax q_j (as eq. 9
    defines it). Only the first reading proves the bound: it never lowers."""
    (q,) = _aligned(q)
    pairs = as_used = as_written = 0
    for i, j in pair_blocks(len(q), chunk):
        qi, qj = q[i], q[j]
        pairs += len(i)
        used = mass_move_gain(qi, qj, qi.argmax(1))
        written = mass_move_gain(qi, qj, qj.argmax(1))
        as_used += int((used < -TOL).any(1).sum())
        as_written += int((written < -TOL).any(1).sum())
    return pairs, as_used, as_written


def pair_blocks(
    n: int, chunk: int = 2048, *, diagonal: bool = False
) -> Iterator[tuple[Tensor, Tensor]]:
    """Index tensors (i, j) of all pairs i < j of n points (i <= j with
    ``diagonal``), ``chunk`` rows of i at a time (at most chunk x n pairs per block),
    in row-major order: the one chunked iterator for checks over every pair of a
    set (nearest-neighbour questions go to ``neighbours.knn`` instead)."""
    for lo in range(0, n, chunk):
        i, j = torch.meshgrid(
            torch.arange(lo, min(lo + chunk, n)), torch.arange(n), indexing="ij"
        )
        keep = i <= j if diagonal else i < j
        yield i[keep], j[keep]


def simplex_grid(K: int, steps: int) -> Tensor:
    """Every q-vector whose entries are multiples of 1/steps (float64): an exhaustive
    grid of the simplex, C(steps + K - 1, K - 1) points."""
    if K < 2 or steps < 1:
        raise ValueError(f"need K >= 2 and steps >= 1, got K = {K}, steps = {steps}")
    cuts = torch.tensor(
        list(itertools.combinations(range(steps + K - 1), K - 1)), dtype=torch.long
    )  # stars and bars: K - 1 bar positions among steps + K - 1 slots
    edges = torch.cat(
        [
            torch.full((len(cuts), 1), -1),
            cuts,
            torch.full((len(cuts), 1), steps + K - 1),
        ],
        dim=1,
    )
    return (edges.diff(dim=1) - 1).double() / steps


def strict_argmax(q: Tensor) -> Tensor:
    """The argmax of each row, or -1 where the maximum is tied."""
    top2 = q.topk(2, dim=1).values
    arg = q.argmax(1)
    return torch.where(top2[:, 0] > top2[:, 1], arg, torch.full_like(arg, -1))


def extremal_pair(
    q: Tensor,
    *,
    same_cluster: bool,
    largest: bool,
    min_peak: float = 0.0,
    chunk: int = 1024,
) -> tuple[float, Tensor, Tensor]:
    """The pair of rows of ``q`` (both with an untied argmax and a peak >= min_peak)
    with the largest (``largest``) or smallest inner product among the pairs in the
    same cluster (``same_cluster``) or in different clusters; i = j is allowed (two
    samples may share a q-vector). Returns the value and the two q-vectors."""
    q = as_q(q)
    arg = strict_argmax(q)
    ok = (arg >= 0) & (peak(q) >= min_peak - TOL)
    q, arg = q[ok], arg[ok]
    if len(q) == 0:
        raise ValueError("no q-vector has an untied argmax and the required peak")
    fill = -torch.inf if largest else torch.inf
    best_val, best = fill, None
    for i, j in pair_blocks(len(q), chunk, diagonal=True):  # symmetric: i <= j
        sim = dot(q[i], q[j]).masked_fill((arg[i] == arg[j]) != same_cluster, fill)
        at = int(sim.argmax() if largest else sim.argmin())  # first in row-major order
        value = float(sim[at])
        if (value > best_val) if largest else (value < best_val):
            best_val, best = value, (q[i[at]], q[j[at]])
    if best is None:
        raise ValueError("no pair of the requested kind")
    return best_val, best[0], best[1]


def _pinned_softmax(z: Tensor, c: int) -> Tensor:
    """softmax of logits ``z`` whose entry c is raised to the largest other logit
    plus softplus(z_c): entry c is the strict argmax of every row."""
    others = torch.cat([z[:, :c], z[:, c + 1 :]], 1)
    top = others.max(1, keepdim=True).values + torch.nn.functional.softplus(
        z[:, c : c + 1]
    )
    return torch.cat([z[:, :c], top, z[:, c + 1 :]], 1).softmax(1)


def ascend_cross_cluster(
    K: int, *, restarts: int = 256, steps: int = 2000, lr: float = 0.05, seed: int = 0
) -> tuple[float, Tensor, Tensor]:
    """Gradient ascent of q_i . q_j over softmax logits with argmax q_i = 0 and
    argmax q_j = 1 held by construction (the top logit is the best other one plus a
    softplus), from ``restarts`` random starts at once. Returns the largest inner
    product found and its two q-vectors: the tightest adjacency threshold that
    Theorem 2 can have is this supremum."""
    if K < 2:
        raise ValueError(f"need K >= 2, got {K}")
    g = torch.Generator().manual_seed(seed)
    z = (
        torch.randn(2, restarts, K, generator=g, dtype=torch.float64) * 2
    ).requires_grad_()
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (-dot(_pinned_softmax(z[0], 0), _pinned_softmax(z[1], 1)).sum()).backward()
        opt.step()
    with torch.no_grad():
        qi, qj = _pinned_softmax(z[0], 0), _pinned_softmax(z[1], 1)
        values = dot(qi, qj)
        best = int(values.argmax())
    return float(values[best]), qi[best], qj[best]


def check_set(
    q: Tensor,
    zeta: float,
    gamma: float,
    *,
    n_triples: int = 2**16,
    seed: int = 0,
    chunk: int = 1024,
) -> dict[str, Check]:
    """Every statement on one set of q-vectors (n, K): the pair statements over all
    pairs i < j, Corollary 1.2 over the points, Corollary 2.1 and Theorem 3 over
    ``n_triples`` random triples (i, j, k) drawn with ``seed``. Memory O(chunk x n)."""
    q = as_q(q)
    checks = [corollary_1_2(q, zeta)]
    for i, j in pair_blocks(len(q), chunk):
        qi, qj = q[i], q[j]
        checks += [
            theorem_1(qi, qj),
            corollary_1_1(qi, qj, zeta),
            theorem_2(qi, qj, zeta),
            corollary_1_3(q, i, j, zeta, gamma),
        ]
    g = torch.Generator().manual_seed(seed)
    for lo in range(0, n_triples, chunk * 64):
        idx = torch.randint(len(q), (3, min(chunk * 64, n_triples - lo)), generator=g)
        qi, qj, qk = q[idx[0]], q[idx[1]], q[idx[2]]
        checks += [corollary_2_1(qi, qj, qk, zeta), theorem_3(qi, qj, qk, zeta, gamma)]
    out: dict[str, Check] = {}
    for c in checks:
        out[c.statement] = out[c.statement] + c if c.statement in out else c
    return {s: out[s] for s in STATEMENTS}
