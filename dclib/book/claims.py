"""The claims ledger: every headline claim of the five papers, with where the paper
makes it, the runs or studies it compares and the data it is tested on
(``verdicts`` judges each on the committed reference)."""

from __future__ import annotations

from dataclasses import dataclass

from dclib.book.catalog import PAGE_LABELS, PAGES, entry, page_runs, x_mnet


class Stated:
    """What every claim of the ledger says of itself: where the paper makes it
    (``source``) and, for a claim in words, the words (``statement``)."""

    paper: str
    where: str
    text: str

    @property
    def statement(self) -> str:
        return self.text

    @property
    def source(self) -> str:
        """ "DCSS Table 1": where the paper makes it."""
        return f"{PAGE_LABELS[self.paper]} {self.where}"


@dataclass(frozen=True)
class Claim(Stated):
    """One headline claim of a paper: run ``better`` reaches a higher ACC than run
    ``worse`` on the same data (``verdicts`` decides whether it holds)."""

    paper: str
    """the paper that makes it (a key of ``PAGE_LABELS``)"""
    where: str
    """its table or figure in that paper ("Table 1")"""
    better: str
    """the run the paper says is better (a catalog name)"""
    worse: str
    """the run it beats"""
    data: str
    """the kind of reference data both runs are tested on ("mlp": Fashion-MNIST
    70k; "conv": mnist5k on a CPU; ``reference.jobs.DATA``)"""

    @property
    def key(self) -> str:
        """``better>worse``: the claim's name in tables and links."""
        return f"{self.better}>{self.worse}"

    @property
    def statement(self) -> str:
        """ "DCSS > DCSS_u": the claim in the runs' labels."""
        return f"{entry(self.better).label} > {entry(self.worse).label}"


def _mnet_claims() -> tuple[Claim, ...]:
    """X + MNet > X for every baseline X of DCSS Table 3."""
    return tuple(Claim("dcss", "Table 3", e.name, e.start, "mlp") for e in x_mnet())


def _dml_claims() -> tuple[Claim, ...]:
    """DML-M > M for every base M of DML Table I."""
    return tuple(
        Claim("dml", "Table I", e.name, e.start, "conv") for e in page_runs("dml")
    )


ROBUSTNESS_TOLERANCE = 5.0
"""how far, in ACC points, a run may move over a hyperparameter's range and still be
"not sensitive" to it: one k-means draw on fixed codes moves a result by up to 5
points on these data (50.9-55.9 % on Fashion-MNIST)"""


@dataclass(frozen=True)
class Robustness(Stated):
    """A paper's claim that a run's ACC barely moves over a hyperparameter's range
    (within ``ROBUSTNESS_TOLERANCE``), or moves less than another run's (``than``:
    DynAE against IDEC*). Its evidence is the page's grid study in the committed
    reference (the ``grids-<paper>`` job, several seeds)."""

    paper: str
    where: str
    study: str
    """the study of the page's grids (``papers.<paper>.compute_grids``)"""
    settings: tuple[float, ...]
    """the paper's range of the hyperparameter"""
    text: str
    """the claim in words"""
    method: str | None = None
    """the study's ``method`` whose ACC it ranges over (None: the study has one)"""
    than: str | None = None
    """the study's method whose range it must beat (None: the tolerance)"""
    data: str = "conv"

    @property
    def key(self) -> str:
        return f"{self.paper}:{self.study}"


@dataclass(frozen=True)
class Theorems(Stated):
    """A paper's theorems, checked numerically on the theory page (no data, no
    seeds): each statement on exhaustive simplex grids under its premises."""

    paper: str
    where: str
    text: str
    page: str
    """the page that checks them (a ``_toc`` page stem)"""
    data: None = None

    @property
    def key(self) -> str:
        return f"{self.paper}:theorems"


_WITHIN = f"within {ROBUSTNESS_TOLERANCE:g} ACC points"


CLAIMS: tuple[Claim | Robustness | Theorems, ...] = (
    Claim("dcss", "Table 1", "dcss", "dcss_u", "conv"),
    Claim("dcss", "Table 1", "dcss_u", "ae_kmeans_dcss", "conv"),
    *_mnet_claims(),
    Claim("dssl", "Table I", "dssl", "ae_kmeans_dssl", "conv"),
    *_dml_claims(),
    Claim("dynae", "Table 3", "dynae", "dec_star", "mlp"),
    Claim("dynae", "Table 3", "dynae", "idec_star", "mlp"),
    Claim("dynae", "§5.2.2", "dynae", "dc_star", "mlp"),
    Claim("rdc", "Table 8", "rdc", "ae_kmeans_rdc", "mlp"),
    Claim("rdc", "Table 8", "dec_rdc-after-rdc", "dec_rdc", "mlp"),
    Claim("rdc", "Table 8", "rdc", "dec_rdc-after-rdc", "mlp"),
    Robustness(
        "dcss",
        "Fig. 10b, §4.10",
        "zeta",
        (0.5, 0.6, 0.7, 0.8, 0.9),
        f"DCSS is not highly sensitive to ζ ∈ [0.5, 0.9], γ = 1 − ζ ({_WITHIN})",
    ),
    Robustness(
        "dssl",
        "Fig. 6",
        "zeta",
        (0.1, 1.0, 5.0),
        f"DSSL is not too sensitive to ζ ∈ [0.1, 5] ({_WITHIN})",
    ),
    Robustness(
        "dynae",
        "Fig. 13",
        "gamma",
        (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0),
        "DynAE is less sensitive to γ ∈ [10⁻³, 10³] than IDEC* (a smaller ACC range)",
        method="dynae",
        than="idec_star",
    ),
    Robustness(
        "rdc",
        "Fig. 17, §4.2.4",
        "alpha",
        (0.1, 0.6, 0.8, 0.9, 1.0),
        f"R-DC is robust to α ∈ [0.1, 1] ({_WITHIN})",
    ),
    Robustness(
        "rdc",
        "Fig. 17, §4.2.4",
        "beta",
        (0.1, 0.3, 0.7, 1.0, 1.2),
        f"R-DC is robust to β ∈ [0.1, 1.2] ({_WITHIN})",
    ),
    Theorems(
        "dcss",
        "Theorems 1-3, Corollaries 1.1-2.1",
        "DCSS's theorems and corollaries hold under their premises",
        "04_dcss_theory",
    ),
)
"""the papers' headline orderings (``Claim``), sensitivity statements
(``Robustness``) and DCSS's theorems (``Theorems``). The orderings: DCSS > DCSS_u
> AE + k-means and X + MNet > X (DCSS Tables 1, 3), DSSL > its AE + k-means (DSSL
Table I), DML-M > M (DML Table I), DynAE > DEC*, IDEC* (DynAE Table 3) and > DC*,
its ablation without the dynamic loss (§5.2.2, which shows it through Feature
Randomness and Drift; the ledger tests it on ACC), and R-DC Table 8's three
(§4.3): P1 & P2 > P1, P1 & P2 & P3 > P1 & P3, and P1 & P2 > P1 & P2 & P3 (P1 & P3
against P1 is "no consistent improvement", not an ordering). The sensitivity
statements: DCSS Fig. 10b (zeta, gamma), DSSL Fig. 6 (zeta), DynAE Fig. 13 (gamma,
against IDEC*) and R-DC Fig. 17 (alpha, beta)"""


def page_claims(page: str) -> tuple[Claim | Robustness | Theorems, ...]:
    """The claims of paper ``page``, in ledger order."""
    if page not in PAGE_LABELS:
        raise ValueError(f"unknown page {page!r}; choose one of {PAGES}")
    return tuple(c for c in CLAIMS if c.paper == page)
