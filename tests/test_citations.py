"""The book's citations: every key cited is in the bibliography, every entry of the
bibliography is cited, and author-year citations tell apart one author's papers of
one year (DSSL and DCSS: "Sadeghi and Armanfard, 2021a / 2021b")."""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
SOURCES = sorted((ROOT / "book").glob("*.md")) + sorted(
    (ROOT / "notebooks").glob("*.py")
)


def cited_keys() -> dict[str, list[str]]:
    """key -> the files (relative to the root) that cite it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in SOURCES:
        for match in CITE.finditer(path.read_text()):
            for key in match.group(1).split(","):
                found[key.strip()].append(str(path.relative_to(ROOT)))
    return found


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(), flags=re.M)


def test_every_citation_is_in_the_bibliography_and_every_entry_is_cited():
    keys = bib_keys()
    assert len(keys) == len(set(keys)), "duplicate keys in references.bib"
    cited = cited_keys()
    missing = {k: v for k, v in cited.items() if k not in keys}
    assert not missing, f"cited but not in book/references.bib: {missing}"
    uncited = sorted(set(keys) - set(cited))
    assert not uncited, f"in book/references.bib but cited nowhere: {uncited}"


def test_the_book_uses_the_disambiguating_author_year_style():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]
    assert sphinx["config"]["bibtex_reference_style"] == "author_year_suffix"
    path = ROOT / sphinx["local_extensions"]["author_year_suffix"]
    assert (path / "author_year_suffix.py").is_file()


def test_one_authors_papers_of_one_year_get_distinct_years_in_citations():
    pytest.importorskip("pybtex")
    pytest.importorskip("sphinxcontrib.bibtex")
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    spec = importlib.util.spec_from_file_location(
        "author_year_suffix", ROOT / "book" / "_ext" / "author_year_suffix.py"
    )
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)

    # the labels as the bibliography formats them (sphinxcontrib-bibtex's default
    # style, alpha, over every entry: references.md lists them all)
    style = find_plugin("pybtex.style.formatting", "alpha")()
    entries = list(parse_file(str(BIB)).entries.values())
    formatted = list(style.format_entries(entries))
    by_key = {f.key: f for f in formatted}

    def year_text(entry) -> str:
        data = {"entry": entry, "formatted_entry": by_key[entry.key]}
        return str(ext.year_suffixed.format_data(data))

    groups = defaultdict(list)
    for entry in entries:
        authors = tuple(" ".join(p.last_names) for p in entry.persons["author"])
        groups[authors, entry.fields["year"]].append(year_text(entry))
    for (authors, year), texts in groups.items():
        assert len(set(texts)) == len(texts), (authors, year, texts)
        if len(texts) == 1:
            assert texts == [year], (authors, year, texts)
    sadeghi = groups[("Sadeghi", "Armanfard"), "2021"]
    assert sorted(sadeghi) == ["2021a", "2021b"]  # DCSS, DSSL
