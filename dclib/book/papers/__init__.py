"""One module per paper page: its runs (named in ``dclib.book.catalog``), its grid
studies and its reference job.

Each module has ``RUNS`` (its catalog names), ``runs(...)`` (the page's runs through
the run cache), ``reference_names(**args)`` and ``reference_runs(at, ds, seed, todo,
**args)`` (what its reference job computes), and, where the page has grid studies,
``compute_grids(run, ds)`` and ``page_grids(run, ds)``.
"""

from __future__ import annotations

from types import ModuleType

from dclib.book.papers import baselines, dcss, dml, dssl, dynae, rdc

RECIPES: dict[str, ModuleType] = {
    "baseline": baselines,
    "dssl": dssl,
    "dcss": dcss,
    "dml": dml,
    "dynae": dynae,
    "rdc": rdc,
}
"""the reference plan's recipes (``reference.Job.recipe``) -> the paper module"""

GRIDS: dict[str, ModuleType] = {
    m.__name__.rsplit(".", 1)[1]: m for m in (dssl, dcss, dml, dynae, rdc)
}
"""the pages with grid studies (the reference's ``grids`` jobs) -> their module"""
