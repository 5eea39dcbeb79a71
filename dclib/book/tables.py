"""Tables that fit the book's content column: text left-aligned and wrapped, numbers
right-aligned on one line.

``book/_static/custom.css`` cannot tell a column of numbers from a column of words,
so this module does, from the data: a column is numeric when every value is a number
or a string that reads as one ("61.0 ± 0.1", "1,234", "57.3 %", "—"). ``html`` gives
a DataFrame's or Styler's HTML with that knowledge as a scoped ``<style>`` (the values
themselves are untouched); ``dclib.book.report``, imported by every page, shows every
table of the page through it. ``book_style`` is for a page that wants the book's
number formats too: thousands separators and one-decimal percentages. ``Folded``
shows details under one line; ``config_shown`` and ``config_tables`` are the
configs that ran, field by field.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

# A value that reads as a number: digits with the signs, separators and marks the
# book's tables use, or only a dash / "n/a" for a missing one.
_NUMBER = re.compile(
    r"^\s*(?:[-+−–—~≈<>≤≥()$%×*†‡/]|\d|[.,]\d|\s|±|e[-+]?\d|pp|n/a)*\s*$",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_MISSING = {"", "—", "–", "-", "n/a", "nan", "none", "diverged"}
_PERCENT = re.compile(r"%|\bpercent\b|\bACC\b|\bNMI\b|\bARI\b")

TEXT = "text-align: left; white-space: normal;"
NUMBER = "text-align: right; white-space: nowrap;"

_ids = itertools.count()


def _reads_as_number(value: Any) -> bool | None:
    """True or False for a value; None for a missing one (it decides nothing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool) or not pd.api.types.is_scalar(value):
        return False  # an array or list in a cell reads as text: it may wrap
    if isinstance(value, int | float | complex) or pd.api.types.is_number(value):
        return True
    text = str(value).strip()
    if text.lower() in _MISSING:
        return None
    return bool(_NUMBER.match(text) and _DIGIT.search(text))


def is_numeric(column: pd.Series) -> bool:
    """Whether a column holds numbers (or strings that read as numbers) only."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    seen = [v for v in map(_reads_as_number, column) if v is not None]
    return all(seen)


def text_columns(frame: pd.DataFrame) -> list[int]:
    """Positions of the columns of ``frame`` that hold text."""
    return [
        i
        for i in range(frame.shape[1])
        if not is_numeric(frame.iloc[:, i])  # iloc: duplicate labels too
    ]


def _styler_css(styler: Styler) -> str:
    """Scoped rules for a Styler's table: its cells carry class ``col<k>``."""
    table = f"#T_{styler.uuid}"
    rules = []
    for k in text_columns(styler.data):
        rules.append(f"{table} td.col{k} {{ {TEXT} }}")
        rules.append(f"{table} th.col_heading.col{k} {{ text-align: left; }}")
    return "\n".join(rules)


def _frame_css(frame: pd.DataFrame, scope: str) -> str:
    """Scoped rules for a DataFrame's own HTML: the k-th ``td`` of a body row is
    column k; a header row starts with one ``th`` per index level."""
    levels = frame.index.nlevels
    rules = []
    for k in text_columns(frame):
        rules.append(f"#{scope} tbody td:nth-of-type({k + 1}) {{ {TEXT} }}")
        rules.append(
            f"#{scope} thead tr:last-child th:nth-of-type({k + 1 + levels}) "
            "{ text-align: left; }"
        )
    return "\n".join(rules)


def html(obj: pd.DataFrame | Styler) -> str | None:
    """The HTML a page shows for a DataFrame or Styler, with its text columns marked.

    None where the object has no HTML of its own (IPython then shows its text)."""
    if isinstance(obj, Styler):
        body, css = obj._repr_html_(), _styler_css(obj)
    else:
        body = obj._repr_html_()
        if body is None:
            return None
        scope = f"dclib-table-{next(_ids)}-{uuid.uuid4().hex[:6]}"
        body = f'<div id="{scope}" class="dclib-table">{body}</div>'
        css = _frame_css(obj, scope)
    if body is None or not css:
        return body
    return f"<style>\n{css}\n</style>\n{body}"


def book_style(obj: pd.DataFrame | Styler) -> Styler:
    """A Styler in the book's number formats, for a page that builds its own table.

    Integer columns get thousands separators ("12,345"), float columns whose label
    names a percentage ("ACC (%)", "share %") one decimal ("57.3"); a Styler keeps
    the formats it was given for the other columns."""
    styler = obj if isinstance(obj, Styler) else obj.style
    frame = styler.data
    formats: dict[Any, str] = {}
    for label in frame.columns:
        column = frame[label]
        if not isinstance(column, pd.Series):
            continue  # duplicate labels: leave them as they are
        if pd.api.types.is_integer_dtype(column) and not pd.api.types.is_bool_dtype(
            column
        ):
            formats[label] = "{:,}"
        elif pd.api.types.is_float_dtype(column) and _PERCENT.search(str(label)):
            formats[label] = "{:.1f}"
    if formats:
        styler = styler.format(formats, na_rep="—")
    return styler


@dataclass(init=False)
class Folded:
    """Tables (or HTML text) shown collapsed under one line, ``summary``: the
    details a reader opens when they want them. A page displays it as it would a
    table (IPython reads ``_repr_html_``)."""

    summary: str
    shown: tuple[pd.DataFrame | Styler | str, ...]

    def __init__(self, summary: str, *shown: pd.DataFrame | Styler | str):
        self.summary, self.shown = summary, shown

    def _repr_html_(self) -> str:
        parts = [s if isinstance(s, str) else html(s) or "" for s in self.shown]
        body = "\n".join(parts)
        return f"<details><summary>{self.summary}</summary>\n{body}\n</details>"


def config_table(cfg: Any) -> pd.DataFrame:
    """Every field of a config and its value, one row each (a page's "what ran")."""
    values = {f.name: str(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    return pd.Series(values, name=type(cfg).__name__).to_frame()


def config_shown(cfg: Any) -> Folded:
    """``config_table`` folded under one line naming the config: what ran, for the
    reader who wants every field."""
    summary = f"The config that ran: {type(cfg).__name__}, field by field"
    return Folded(summary, config_table(cfg))


def config_tables(configs: dict[str, Any]) -> pd.DataFrame:
    """``config_table`` of each named config side by side (fields in order of first
    appearance), "—" where a config has no such field."""
    columns = {name: config_table(cfg).iloc[:, 0] for name, cfg in configs.items()}
    fields = list(dict.fromkeys(f for c in columns.values() for f in c.index))
    return pd.DataFrame(columns).reindex(fields).fillna("—")
