"""The catalog names every run once; the pages' modules, the reference plan and the
leaderboard read it."""

from __future__ import annotations

import pytest

from dclib.book import catalog, leaderboard, papers
from dclib.book.paper_tables import paper_entry
from dclib.book.reference import runner
from dclib.methods import REGISTRY


def test_names_and_cache_names_are_unique():
    names = [e.name for e in catalog.RUNS]
    assert len(set(names)) == len(names)
    cache_names = [e.cache_name for e in catalog.RUNS]
    assert len(set(cache_names)) == len(cache_names)


@pytest.mark.parametrize("e", catalog.RUNS, ids=lambda e: e.name)
def test_every_entry_points_at_what_exists(e):
    assert e.method in REGISTRY
    assert e.pretraining in catalog.PRETRAININGS
    assert e.page in catalog.PAGES
    assert e.start is None or e.start in catalog.BY_NAME
    assert e.cache_name == e.method + e.tag  # the run cache's name: method + tag


@pytest.mark.parametrize(
    "e", [e for e in catalog.RUNS if e.paper], ids=lambda e: e.name
)
def test_every_paper_name_is_a_row_of_its_table(e):
    for source, name in e.paper_names.items():
        assert not paper_entry(source, name, "fmnist").empty, (source, name)


def test_a_run_that_continues_another_starts_from_the_same_network():
    for e in catalog.RUNS:
        if e.start is not None and e.method != "dml":
            assert catalog.entry(e.start).pretraining == e.pretraining, e.name


def test_unknown_names_and_pages_are_refused():
    with pytest.raises(ValueError, match="unknown run 'nope'"):
        catalog.entry("nope")
    with pytest.raises(ValueError, match="unknown page 'nope'"):
        catalog.page_runs("nope")
    with pytest.raises(ValueError, match="does not start with its method"):
        _ = catalog.Entry("x", "dec", "mlp", "baselines", "X", run="idec_x").tag


def test_the_reference_plan_and_the_leaderboard_iterate_the_catalog():
    planned = {n for job in runner.plan("full") for n in runner.run_names(job)}
    referenced = {e.name for e in catalog.RUNS if e.reference}
    assert referenced <= planned
    assert {n for n in planned if not n.startswith("grids-")} == referenced
    assert [e.name for e in leaderboard.ENTRIES] == [
        e.name for e in catalog.RUNS if e.board
    ]
    for recipe, module in papers.RECIPES.items():
        assert set(module.RUNS) <= set(catalog.BY_NAME), recipe
