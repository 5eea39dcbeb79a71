"""One module per paper page: its runs (named in ``dclib.book.catalog``), its grid
studies and its reference jobs.

A page's module has ``PAGE`` (its key in the catalog), ``RECIPE`` (its reference
jobs' recipe), ``DATA`` (its methods' reference data: "mlp" or "conv"), ``RUNS``
(its catalog names), ``runs(...)`` (the page's runs through the run cache) and
``reference_runs(at, ds, seed, todo, **args)`` (what its reference job computes),
and, where the page has grid studies, ``compute_grids(run, ds)``. A page whose
reference is several jobs (one per method, one per base) has its own
``reference_jobs(profile, seed)`` and ``reference_names(**args)``. The modules are
found here by those names: a new paper's module joins the reference plan and its
grid jobs without another file changing. Modules without ``RECIPE`` (a page's
sentences, the theory page, the leaderboard page) are the pages' helpers.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from dclib.book import catalog, grids
from dclib.book.grids import Grids
from dclib.book.profiles import Run
from dclib.book.reference.jobs import Job, job
from dclib.data import Dataset

_MODULES = [
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
]

RECIPES: dict[str, ModuleType] = {
    m.RECIPE: m
    for m in sorted(
        (m for m in _MODULES if hasattr(m, "RECIPE")),
        key=lambda m: catalog.PAGES.index(m.PAGE),
    )
}
"""the reference plan's recipes (``reference.Job.recipe``) -> the paper module, in
the book's order"""

GRIDS: dict[str, ModuleType] = {
    m.PAGE: m for m in RECIPES.values() if hasattr(m, "compute_grids")
}
"""the pages with grid studies (the reference's ``grids`` jobs) -> their module"""


def reference_names(module: ModuleType, **args: object) -> tuple[str, ...]:
    """The runs a reference job of ``module`` computes, in order: the page's runs
    that its reference computes (``catalog.names``), or the module's own
    ``reference_names(**args)`` where it has one job per method or base."""
    if hasattr(module, "reference_names"):
        return module.reference_names(**args)
    return catalog.names(module.PAGE, reference=True)


def reference_jobs(module: ModuleType, profile: str, seed: int) -> list[Job]:
    """The reference jobs of ``module``'s page for ``seed``: one job computing its
    runs on its methods' data, or the module's own ``reference_jobs``."""
    if hasattr(module, "reference_jobs"):
        return module.reference_jobs(profile, seed)
    entries = [catalog.entry(n) for n in reference_names(module)]
    return [job(module.RECIPE, module.DATA, profile, seed, entries)]


def page_grids(module: ModuleType, run: Run, ds: Dataset) -> Grids:
    """The grid studies of ``module``'s page: the committed reference's, else
    computed now (``grids.page_grids``)."""
    return grids.page_grids(module.PAGE, module.compute_grids, run, ds)
