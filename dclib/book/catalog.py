"""Every run of the book and every claim of the papers, named once.

A run's name is its name in the committed reference (``results/reference/<profile>/
<dataset>/<name>/``), in the leaderboard and on its page. Its entry says which
registered method it runs, which pretrained network it starts from, the page (paper)
that shows it, how tables label it, where its own paper reports it and, for a run that
continues another (DCSS phase 2, X + MNet, DML, DEC after R-DC), that run. The pages'
recipes (``dclib.book.papers``), the reference plan and the leaderboard iterate over
``RUNS``; none of them spells a run's name again.
"""

from __future__ import annotations

from dataclasses import dataclass

PaperName = str | tuple[str, str]
"""a method's name in a paper's table, or (method, setting) where the table's rows
are settings of one method (R-DC Table 8: ``("R-DC", "P1 & P2")``)"""

PRETRAININGS = {
    "mlp": "the MLP autoencoder trained end to end",
    "mlp_greedy": "the MLP autoencoder pretrained greedily, then end to end (DEC §3.2)",
    "dssl_conv": "DSSL's symmetric conv autoencoder",
    "dcss_conv": "DCSS's asymmetric conv autoencoder",
    "acai": "DynAE's augmented ACAI pretraining of the MLP autoencoder",
    "rdc_acai": "R-DC's augmented ACAI pretraining of the MLP autoencoder",
}
"""the pretrained networks the runs start from (``Entry.pretraining``)"""

PAGES = ("baselines", "dssl", "dcss", "dml", "dynae", "rdc")
"""the paper pages, in the book's order (``Entry.page``)"""

PAGE_LABELS = {
    "baselines": "baselines",
    "dssl": "DSSL",
    "dcss": "DCSS",
    "dml": "DML",
    "dynae": "DynAE",
    "rdc": "R-DC",
}
"""how tables name each page"""


@dataclass(frozen=True)
class Entry:
    """One run of the book."""

    name: str
    """its name in the committed reference, the leaderboard and on its page"""
    method: str
    """the registered method it runs (``dclib.methods.REGISTRY``)"""
    pretraining: str
    """the pretrained network it starts from (a key of ``PRETRAININGS``)"""
    page: str
    """the page that shows it (a key of ``PAGE_LABELS``)"""
    label: str
    """how tables and captions name it"""
    paper: str | None = None
    """where its own paper reports it: "dcss:Table 1" (None: no paper does)"""
    paper_name: str | None = None
    """its name in that table (default ``label``)"""
    setting: str = ""
    """the table's setting column (R-DC Table 8: "P1 & P2")"""
    also: tuple[tuple[str, PaperName], ...] = ()
    """other tables that report it: ("paper:table", its name there)"""
    start: str | None = None
    """the run it continues (its network is that run's): DCSS phase 2, X + MNet, DML"""
    run: str | None = None
    """its name in the run cache's ``results/<run>/`` when it differs from ``name``
    (the method's name and a tag, such as "dec_acai" for DEC on DynAE's network)"""
    board: bool = True
    """a row of the cross-paper leaderboard (False: a page's own study)"""
    reference: bool = True
    """computed by its page's reference job (False: by the pages only)"""
    cpu_pretrain_cap: int | None = None
    """the ``full`` profile's cap on its pretraining epochs, where a CPU cannot do
    the paper's count in a session (``reference.jobs``)"""
    cpu_clustering_cap: int | None = None
    """the same for each of its clustering stages' epochs"""

    @property
    def cache_name(self) -> str:
        """Its name in the run cache: the method's name and the run's tag."""
        return self.run or self.name

    @property
    def tag(self) -> str:
        """The run-name tag that keeps it apart from the method's own run in the
        cache ("_acai": DEC on DynAE's pretraining)."""
        if not self.cache_name.startswith(self.method):
            raise ValueError(f"run {self.cache_name!r} does not start with its method")
        return self.cache_name.removeprefix(self.method)

    @property
    def paper_names(self) -> dict[str, PaperName]:
        """Every table that reports it -> its ``PaperName`` there."""
        own = {} if self.paper_entry is None else {self.paper: self.paper_entry}
        return own | dict(self.also)

    @property
    def paper_entry(self) -> PaperName | None:
        """Its ``PaperName`` in its paper's table (None: no paper reports it)."""
        if self.paper is None:
            return None
        name = self.paper_name or self.label
        return (name, self.setting) if self.setting else name


def _mnet(base: str, label: str, pretraining: str) -> Entry:
    """X + MNet (DCSS §4.7): DCSS phase 2 on baseline X's trained network."""
    return Entry(
        f"{base}+mnet",
        "mnet",
        pretraining,
        "dcss",
        f"{label} + MNet",
        "dcss:Table 3",
        f"{label}+MNet",
        start=base,
        run=f"mnet-{base}",
    )


RUNS: tuple[Entry, ...] = (
    Entry(
        "ae_kmeans",
        "ae_kmeans",
        "mlp",
        "baselines",
        "AE + k-means (MLP)",
        "dcss:Table 1",
        "AE + k-means",
        also=(("dynae:Table 2", "AE + K-Means"),),
        cpu_pretrain_cap=50,
    ),
    Entry(
        "ae_kmeans_greedy",
        "ae_kmeans",
        "mlp_greedy",
        "baselines",
        "AE + k-means (MLP, greedy)",
        reference=False,
    ),
    Entry(
        "dec",
        "dec",
        "mlp_greedy",
        "baselines",
        "DEC",
        "dcss:Table 1",
        also=(("dynae:Table 2", "DEC"),),
        cpu_pretrain_cap=50,
    ),
    Entry(
        "idec",
        "idec",
        "mlp_greedy",
        "baselines",
        "IDEC",
        "dcss:Table 1",
        also=(("dynae:Table 2", "IDEC"),),
        cpu_pretrain_cap=50,
    ),
    Entry(
        "dcn",
        "dcn",
        "mlp_greedy",
        "baselines",
        "DCN",
        "dcss:Table 1",
        also=(("dynae:Table 2", "DCN"),),
    ),
    Entry("dkm", "dkm", "mlp", "baselines", "DKM_a", cpu_clustering_cap=50),
    Entry(
        "dkm_p",
        "dkm_p",
        "mlp",
        "baselines",
        "DKM_p",
        "dcss:Table 1",
        "DKM",
        cpu_clustering_cap=50,
    ),
    Entry(
        "ae_kmeans_dssl",
        "ae_kmeans",
        "dssl_conv",
        "dssl",
        "AE + k-means (DSSL conv AE)",
        "dssl:Table I",
        "AE + k-means",
    ),
    Entry("dssl", "dssl", "dssl_conv", "dssl", "DSSL", "dssl:Table I"),
    Entry(
        "ae_kmeans_dcss",
        "ae_kmeans",
        "dcss_conv",
        "dcss",
        "AE + k-means (DCSS conv AE)",
        "dcss:Table 1",
        "AE + k-means",
        cpu_clustering_cap=50,
    ),
    Entry(
        "dcss_u",
        "dcss_u",
        "dcss_conv",
        "dcss",
        "DCSS_u",
        "dcss:Table 1",
        cpu_clustering_cap=50,
    ),
    Entry(
        "dcss",
        "mnet",
        "dcss_conv",
        "dcss",
        "DCSS",
        "dcss:Table 1",
        start="dcss_u",
        run="mnet",
        cpu_clustering_cap=50,
    ),
    _mnet("dec", "DEC", "mlp_greedy"),
    _mnet("idec", "IDEC", "mlp_greedy"),
    _mnet("dcn", "DCN", "mlp_greedy"),
    _mnet("dkm_p", "DKM", "mlp"),
    Entry(
        "dml-dsl", "dml", "dcss_conv", "dml", "DML-DSL", "dml:Table I", start="dcss_u"
    ),
    Entry("dml-dcn", "dml", "mlp_greedy", "dml", "DML-DCN", "dml:Table I", start="dcn"),
    Entry("dml-dkm", "dml", "mlp", "dml", "DML-DKM", "dml:Table I", start="dkm_p"),
    Entry(
        "ae_kmeans_acai",
        "ae_kmeans",
        "acai",
        "dynae",
        "AE + k-means (DynAE's ACAI)",
        cpu_pretrain_cap=50,
    ),
    Entry(
        "dynae",
        "dynae",
        "acai",
        "dynae",
        "DynAE",
        "dynae:Table 2",
        also=(("dynae:Table 3", "DynAE"),),
        cpu_pretrain_cap=50,
        cpu_clustering_cap=30,
    ),
    Entry(
        "dec_star",
        "dec",
        "acai",
        "dynae",
        "DEC*",
        "dynae:Table 3",
        run="dec_acai",
        cpu_pretrain_cap=50,
    ),
    Entry(
        "idec_star",
        "idec",
        "acai",
        "dynae",
        "IDEC*",
        "dynae:Table 3",
        run="idec_acai",
        cpu_pretrain_cap=50,
    ),
    Entry(
        "dc_star",
        "dc_star",
        "acai",
        "dynae",
        "DC*",
        cpu_pretrain_cap=50,
        cpu_clustering_cap=30,
    ),
    Entry(
        "ae_kmeans_rdc",
        "ae_kmeans",
        "rdc_acai",
        "rdc",
        "P1: AE + k-means (R-DC's ACAI)",
        "rdc:Table 8",
        "R-DC",
        "P1",
        also=(("rdc:Table 3", "AE + K-means"),),
    ),
    Entry(
        "rdc",
        "rdc",
        "rdc_acai",
        "rdc",
        "R-DC (P1 & P2)",
        "rdc:Table 3",
        "R-DC",
        also=(("rdc:Table 8", ("R-DC", "P1 & P2")),),
        cpu_clustering_cap=40,
    ),
    Entry(
        "dec_rdc-after-rdc",
        "dec",
        "rdc_acai",
        "rdc",
        "P1 & P2 & P3",
        "rdc:Table 8",
        "R-DC",
        "P1 & P2 & P3",
        start="rdc",
    ),
    Entry(
        "dec_rdc",
        "dec",
        "rdc_acai",
        "rdc",
        "P1 & P3: DEC (R-DC's ACAI)",
        "rdc:Table 8",
        "R-DC",
        "P1 & P3",
        also=(("rdc:Table 3", "DEC"),),
    ),
    Entry(
        "dynae_rdc",
        "dynae",
        "rdc_acai",
        "rdc",
        "DynAE (R-DC's ACAI)",
        also=(("rdc:Table 3", "DynAE"),),
        board=False,
        reference=False,
    ),
)
"""every named run, page by page in the book's order; within a page, in the order
its reference job computes them (a job writes each run when it ends)"""

BY_NAME = {e.name: e for e in RUNS}


def entry(name: str) -> Entry:
    """The catalog entry of run ``name``."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown run {name!r}; the catalog names {sorted(BY_NAME)}"
        ) from None


def page_runs(page: str) -> tuple[Entry, ...]:
    """The runs page ``page`` shows, in catalog order."""
    if page not in PAGE_LABELS:
        raise ValueError(f"unknown page {page!r}; choose one of {PAGES}")
    return tuple(e for e in RUNS if e.page == page)


def names(page: str, reference: bool = False) -> tuple[str, ...]:
    """The names of ``page_runs(page)`` (``reference``: those its reference job
    computes)."""
    return tuple(e.name for e in page_runs(page) if e.reference or not reference)


BOARD = tuple(e for e in RUNS if e.board)
"""the leaderboard's rows, in the order of the book's pages"""


def x_mnet() -> tuple[Entry, ...]:
    """X + MNet (DCSS Table 3): DCSS phase 2 on each baseline X's trained network."""
    return tuple(
        e
        for e in RUNS
        if e.method == "mnet"
        and e.start is not None
        and BY_NAME[e.start].page == "baselines"
    )


def pretraining_of(cache_name: str) -> str | None:
    """The pretraining of the entry whose runs are cached as ``cache_name`` (None:
    a setting no entry names, such as a grid's)."""
    return next((e.pretraining for e in RUNS if e.cache_name == cache_name), None)
