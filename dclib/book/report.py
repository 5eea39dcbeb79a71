"""What the pages display: the one module of dclib that imports IPython.

Tables and captions of the committed reference, its learning curves, and sentences
built by the paper modules, rendered as the page's output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from IPython import get_ipython
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler

from dclib.book import catalog, claims, tables, verdicts
from dclib.book.grids import Grids
from dclib.book.recipes import reference_curves, reference_tables


def show_tables_the_book_way() -> bool:
    """Show every DataFrame and Styler of this IPython session through
    ``tables.html`` (text columns left-aligned and wrapped, numbers right-aligned);
    run when a page imports this module. False outside IPython (nothing changes)."""
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, tables.html)
    formatter.for_type(Styler, tables.html)
    return True


show_tables_the_book_way()


NOT_COMMITTED = (
    "No reference results are committed for these runs yet: `make reference` "
    "computes them (the `full` profile) and writes them under `results/reference/`."
)
"""what a page says where its committed reference would be"""


def committed_curves(
    names: Iterable[str], stage: str
) -> dict[str, list[dict[str, Any]]]:
    """``reference_curves`` of the reference on whatever data it holds, for a page
    whose figures show them apart from its own runs; the page says ``NOT_COMMITTED``
    where none is committed."""
    curves = reference_curves(names, None, stage)
    if not curves:
        display(Markdown(NOT_COMMITTED))
    return curves


def reference_section(label: str, names: Sequence[str], **how: Any) -> list[Any]:
    """What a page displays of the committed reference of the catalog's runs
    ``names`` (``reference_tables``; ``how``: its ``rows`` and ``names_of``): per
    (profile, dataset), the table captioned with the paper's ``label`` ("DSSL Table
    I") and its provenance; a sentence saying how to produce it when none is
    committed."""
    found = reference_tables(names, **how)
    if not found:
        return [Markdown(NOT_COMMITTED)]
    out = []
    for (profile, dataset), (table, where) in found.items():
        pct = "ACC and NMI in %, mean ± std over the seeds"
        out.append(
            table.style.set_caption(
                f"{label} — the committed reference (profile {profile}, {dataset}, "
                f"{pct}) beside the paper's numbers for the full dataset"
            )
        )
        out.append(
            tables.Folded(
                f"Where the {label} reference numbers on {dataset} come from: "
                "commit, device, date, epochs, caps, training time",
                where.style.set_caption(
                    f"{label} — where the reference numbers on {dataset} come from: "
                    "samples, the epochs of each stage of the run and its training "
                    "time (with the logging against the true labels; a run that "
                    "continues another, such as DCSS after DCSS_u or X + MNet after "
                    "X, counts its own stages only), the CPU caps of its job where "
                    "the paper's count did not fit, seeds, commit, device, date"
                ),
            )
        )
    return out


def say(sentences: Iterable[str]) -> None:
    """Display each sentence of ``sentences`` as a paragraph (none: nothing)."""
    for sentence in sentences:
        display(Markdown(sentence))


VERDICT_COLUMNS = ["claim", "where", "data", "seeds", "effect (ACC points)", "verdict"]
"""what a page's box shows of the ledger (``verdicts.ledger``)"""


def claims_box(page: str) -> Any:
    """ "Did it reproduce?": the ledger's rows of paper ``page``'s claims, each
    verdict from the committed reference by the one rule (``verdicts``), never from
    this execution's runs."""
    table = verdicts.ledger(claims.page_claims(page))[VERDICT_COLUMNS]
    return table.style.hide(axis="index").set_caption(
        f"Did it reproduce? {catalog.PAGE_LABELS[page]}'s claims on the committed "
        "reference: the paired ACC difference over seeds with its 95 % interval "
        "(one seed: decided only beyond both runs' k-means spread). Holds: the "
        "interval lies above 0; fails: below; inconclusive: it contains 0; no "
        "evidence: the reference holds no seed of both runs on the same data"
    )


def ledger_table() -> Any:
    """Every claim of the ledger with its verdict (``verdicts.ledger``) and a link
    to the page that shows its evidence: the intro's status table and the
    leaderboard's claims section, the same rows as the pages' boxes."""
    table = verdicts.ledger()
    shown = table[["paper", *VERDICT_COLUMNS]].copy()
    shown["evidence"] = [evidence_link(stem) for stem in table["evidence"]]
    return shown.style.hide(axis="index").set_caption(
        "The papers' claims — each claim of the ledger with its verdict on the "
        "committed reference by the one rule: an ordering by the paired ACC "
        "difference over seeds and its 95 % interval (one seed decides only beyond "
        "both runs' k-means spread), a sensitivity statement by the margin of its "
        "ACC range under the bound over seeds, DCSS's theorems by their check on "
        "exhaustive simplex grids"
    )


def evidence_link(stem: str) -> str:
    """A link to page ``stem``'s evidence: a paper page's *Did it reproduce?* box,
    or the top of the page that checks DCSS's theorems."""
    pages = {v: k for k, v in verdicts.PAGE_STEMS.items()}
    if stem not in pages:
        return f'<a href="{stem}.html">the theory page</a>'
    label = catalog.PAGE_LABELS[pages[stem]]
    return f'<a href="{stem}.html#did-it-reproduce">{label} page</a>'


WIRING_COLUMNS = ["setting", "method", "n", "acc", "nmi"]
"""what a wiring check shows of a study (no paper number beside it)"""


def grids_shown(studies: Grids, names: dict[str, str] | None = None) -> bool:
    """Whether a page shows its grid studies as evidence: True for the committed
    reference's (the page then draws them beside the paper's numbers); otherwise
    displays them once, collapsed, as a wiring check (every setting runs) with no
    paper number and nothing a finding may quote, and returns False. ``names`` maps
    run names to the page's labels."""
    if studies.committed:
        return True
    parts = []
    for study, frame in studies.studies.items():
        shown = frame[[c for c in WIRING_COLUMNS if c in frame]].copy()
        if "method" in shown:
            shown["method"] = shown["method"].replace(names or {})
        for col in ("acc", "nmi"):
            shown[col] = (100 * shown[col]).round(1)
        parts.append(f"<p>{study}</p>" + shown.to_html(index=False, na_rep="—"))
    summary = (
        "Wiring check, not evidence: this page's grid studies ran at smoke scale; "
        f"the committed reference holds none for this data yet ({studies.source})"
    )
    display(tables.Folded(summary, *parts))
    return False
