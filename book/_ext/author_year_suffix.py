"""Author-year citations that tell one author's papers of one year apart.

sphinxcontrib-bibtex's ``author_year`` reference style writes the ``year`` field as
it is, so DSSL and DCSS (Sadeghi and Armanfard, both 2021) would both read
"Sadeghi and Armanfard, 2021". This style, ``author_year_suffix``, is the same but
appends to the year the letter that the bibliography's label style (pybtex's
``alpha``, sphinxcontrib-bibtex's default) appends to clashing labels: "2021a" cites
the entry labelled [SA21a]. Two entries with the same authors and year always get
the same alpha stem, so every such pair gets distinct letters.

Registered in ``_config.yml`` (``sphinx.local_extensions``) and chosen there with
``bibtex_reference_style: author_year_suffix``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pybtex.richtext import Text
from pybtex.style.template import Node, node
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing.author_year import (
    AuthorYearReferenceStyle,
)
from sphinxcontrib.bibtex.style.template import year

_SUFFIX = re.compile(r"\d([a-z]+)$")
"""the letters the alpha label style appends to a clashing label ("SA21a")"""


@node
def year_suffixed(children, data) -> Text:
    """The entry's year followed by its label's disambiguating letter, if any."""
    assert not children
    match = _SUFFIX.search(data["formatted_entry"].label)
    return Text(year.format_data(data), match.group(1) if match else "")


def _swap_year(template):
    """``template`` with every ``year`` node replaced by ``year_suffixed``."""
    if not isinstance(template, Node):
        return template
    if template.f is year.f:
        return year_suffixed
    copy = template._clone()
    copy.children = [_swap_year(child) for child in template.children]
    return copy


@dataclass
class AuthorYearSuffixReferenceStyle(AuthorYearReferenceStyle):
    """``author_year`` with "2021a" / "2021b" where one author-year has two papers."""

    def inner(self, role_name: str) -> Node:
        return _swap_year(super().inner(role_name))


def setup(app):
    register_plugin(
        "sphinxcontrib.bibtex.style.referencing",
        "author_year_suffix",
        AuthorYearSuffixReferenceStyle,
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
