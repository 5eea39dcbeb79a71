"""The book's executor: papermill runs each page's notebook, unless it is unchanged.

Each notebook of ``_toc.yml`` is listed there as ``book/_executed/<stem>``; its source
is the jupytext file ``notebooks/<stem>.py``. An executed notebook records a key hashed
from its source, its parameters, the dclib source tree, the CSV files under
``results/`` and the committed reference results; while the key matches, the notebook
is not run again (a warm cache).

While a notebook runs, one progress line per code cell goes to stdout. Once it has
run, its outputs are checked: a page must show no stderr stream, no warning and no
path of the machine that built it (:func:`check_outputs`). A notebook that fails, in
a cell or in that check, leaves the last good ``<stem>.ipynb`` untouched and is
written beside it as ``<stem>.failed.ipynb``.

Every page takes the parameters of :data:`PAGE_PARAMETERS`; :func:`plan` refuses a
parameter that a page does not declare, or a value of the wrong type, before any cell
runs (papermill itself only warns about an unknown one).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dclib.book.params import conform, parse, type_name
from dclib.storage import atomic_write, files_hash, json_hash

ROOT = Path(__file__).parents[2]
EXECUTED = "book/_executed"
HIDDEN_TAGS = {"parameters", "injected-parameters"}
PYTHON_KERNEL = {"name": "python3", "language": "python", "display_name": "Python 3"}

# The environment the kernel inherits: no progress bars in pages (tqdm reads TQDM_*).
KERNEL_ENV = {"TQDM_DISABLE": "1"}

# A warning category as Python prints it: UserWarning, TqdmWarning, FutureWarning, ...
WARNING = re.compile(r"\b[A-Z]\w*Warning\b|\bwarnings\.warn\b")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")


class NotebookOutputError(RuntimeError):
    """An executed notebook shows stderr, a warning or a machine path in a page."""


PAGE_PARAMETERS: dict[str, Any] = {
    "profile": str,
    "dataset": str | None,
    "seeds": list[int] | int | None,
    "device": str,
}
"""The parameters every page declares in its cell tagged ``parameters``, and the
types they take: ``profile`` (smoke, quick, full, paper), ``dataset`` (a name of
``dclib.data.DATASETS``; None: the profile's), ``seeds`` (one seed or a list; None:
the profile's) and ``device`` (auto, cpu, cuda, cuda:N). ``dclib.start_run`` checks
their values. A parameter of one page alone takes the type of its default."""


PAGE_NEEDS: dict[str, tuple[str, ...]] = {
    "02_dssl": ("01_baselines",),
    "04_dcss_theory": ("03_dcss",),
    "05_dml": ("01_baselines", "03_dcss"),
}
"""the pages whose runs a page reads from the run cache as its first runs (the
baselines, DCSS_u): with ``jobs`` > 1 a page starts once those of them that run in
the same execution have finished, so that no run is made twice at once. The DCSS
page reads the baselines too (X + MNet), but only after its own DCSS runs, which
take longer than the baselines page: it starts at once, beside that page"""

SUMMARY_PAGES = ("08_leaderboard",)
"""pages that gather every other page's runs (they need all of them)"""


def page_needs(stem: str, stems: Sequence[str]) -> set[str]:
    """The pages of ``stems`` that ``stem`` waits for (``PAGE_NEEDS``,
    ``SUMMARY_PAGES``)."""
    if stem in SUMMARY_PAGES:
        return set(stems) - set(SUMMARY_PAGES)
    return set(PAGE_NEEDS.get(stem, ())) & set(stems)


def start_order(stems: Sequence[str]) -> list[str]:
    """``stems`` in the order a free worker takes them among those ready: the pages
    that more pages wait for first (the longest chain of waits starts earliest),
    then reading order."""

    def waiting(stem: str) -> int:
        return sum(stem in page_needs(other, stems) for other in stems)

    return sorted(stems, key=lambda stem: (-waiting(stem), stems.index(stem)))


def toc_notebooks(root: Path = ROOT) -> list[str]:
    """Stems of the executed notebooks that ``_toc.yml`` lists, in reading order."""
    import yaml

    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["file"]] if "file" in node else []
            return own + [f for v in node.values() for f in walk(v)]
        if isinstance(node, list):
            return [f for item in node for f in walk(item)]
        return []

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [str(f).removesuffix(".ipynb") for f in walk(toc)]
    return [Path(f).name for f in files if f.startswith(EXECUTED + "/")]


def _tree_hash(root: Path) -> str:
    paths = sorted(root.glob("dclib/**/*.py")) + sorted(root.glob("results/*.csv"))
    paths += sorted(root.glob("results/reference/[fp]*/*/*/seed=*.json"))
    paths += sorted(root.glob("results/bench/*.json"))
    return files_hash(paths, root)


def cache_key(source: str, parameters: dict[str, Any], tree: str) -> str:
    """Hash of everything an executed notebook depends on."""
    return json_hash(
        {"source": source, "parameters": parameters, "tree": tree}, length=64
    )


def _stored_key(path: Path) -> str | None:
    if not path.exists():
        return None
    meta = json.loads(path.read_text()).get("metadata", {})
    return meta.get("dclib", {}).get("cache_key")


def machine_paths(root: Path = ROOT) -> list[str]:
    """Strings that only a path of this machine contains (checked in every output)."""
    marks = {".venv/", "site-packages", "/work/", str(Path(root).resolve()) + "/"}
    marks.add(str(Path(sys.prefix).resolve()) + "/")
    home = str(Path.home())
    if home != "/":
        marks.add(home + "/")
    return sorted(marks)


def _output_texts(output: Any) -> Iterator[tuple[str, str]]:
    """(what, text) for each piece of text an output shows."""
    kind = output.get("output_type")
    if kind == "stream":
        yield f"{output.get('name')} stream", _text(output.get("text", ""))
    elif kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mime in TEXT_MIMES:
            if mime in data:
                yield mime, _text(data[mime])
    elif kind == "error":
        tb = "\n".join(output.get("traceback", []))
        yield "error", f"{output.get('ename')}: {output.get('evalue')}\n{tb}"


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def _excerpt(text: str, at: int, width: int = 60) -> str:
    return " ".join(text[max(0, at - width // 2) : at + width].split())


def check_outputs(nb: Any, stem: str, root: Path = ROOT) -> list[str]:
    """What a rendered page of ``nb`` must not show, one line per offending output:
    a stderr stream, a warning (``UserWarning``, ``TqdmWarning``, ...) or a path of
    this machine (``.venv/``, ``site-packages``, ``/work/``, the repository, the home
    directory). Empty when the page is clean."""
    marks = machine_paths(root)
    problems = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, 1):
        where = (
            f"{stem}: code cell {number}/{len(code_cells)} "
            f"(execution count {cell.get('execution_count')})"
        )
        for output in cell.get("outputs", []):
            for what, text in _output_texts(output):
                if what == "stderr stream":
                    problems.append(f"{where} writes to stderr: {text.strip()[:200]!r}")
                    continue
                if m := WARNING.search(text):
                    excerpt = _excerpt(text, m.start())
                    problems.append(f"{where} shows a warning in {what}: {excerpt!r}")
                for mark in marks:
                    if (at := text.find(mark)) >= 0:
                        excerpt = _excerpt(text, at)
                        problems.append(
                            f"{where} shows a machine path ({mark!r}) in {what}: "
                            f"{excerpt!r}"
                        )
                        break
    return problems


@contextlib.contextmanager
def _kernel_env(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` updated with ``env`` while a kernel is started from it."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _kernel_transport() -> Iterator[dict[str, Any]]:
    """The kernel manager's configuration: Unix sockets in a directory of their own
    where there are any (no TCP port, no kernel warning about unencrypted TCP in the
    build log, and pages run side by side never share a socket name), else TCP."""
    if os.name != "posix":
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="dclib-kernel-") as sockets:
        yield {"KernelManager": {"transport": "ipc", "ip": f"{sockets}/kernel"}}


def _quiet_kernel_manager() -> type:
    """nbclient's kernel manager without the interrupt that jupyter_client sends the
    kernel before asking it to shut down: when that signal lands while ipykernel
    handles a message, the kernel logs "KeyboardInterrupt caught in kernel" on the
    build's stderr (seen under load). The shutdown request alone stops an idle
    kernel, and one that ignores it is killed."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdownKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if not self.shutting_down:
                await super()._async_interrupt_kernel()

    return QuietShutdownKernelManager


def _print(line: str) -> None:
    print(line, flush=True)


def execute(
    stem: str,
    parameters: dict[str, Any],
    *,
    root: Path = ROOT,
    out_dir: Path | None = None,
    force: bool = False,
    progress: Callable[[str], Any] | None = _print,
) -> bool:
    """Execute ``notebooks/<stem>.py`` into ``<out_dir>/<stem>.ipynb``.

    Returns False when a previous output with the same cache key was kept. While it
    runs, ``progress`` gets one line per code cell (``<stem>: cell i/N, t s``, the
    seconds since the notebook started). The output is written atomically; a failing
    cell raises papermill's execution error, and outputs that a page must not show
    raise :class:`NotebookOutputError` naming the notebook and the cell. Either way
    an earlier output is left untouched and the failed notebook is written to
    ``<out_dir>/<stem>.failed.ipynb``.
    """
    import jupytext
    import nbformat
    import papermill
    from traitlets.config import Config

    src = root / "notebooks" / f"{stem}.py"
    if not src.exists():
        raise ValueError(f"_toc.yml lists {stem!r} but {src} does not exist")
    out_dir = root / EXECUTED if out_dir is None else Path(out_dir)
    out = out_dir / f"{stem}.ipynb"
    failed = out_dir / f"{stem}.failed.ipynb"
    text = src.read_text()
    key = cache_key(text, parameters, _tree_hash(root))
    if not force and _stored_key(out) == key:
        return False

    source = jupytext.reads(text, fmt="py:percent")
    code = [c for c in source.cells if c.cell_type == "code" and c.source.strip()]
    n_cells = len(code) + bool(parameters)  # papermill injects the parameters' cell
    start = time.perf_counter()
    hooks: dict[str, Callable[..., None]] = {}
    if progress is not None:
        done = 0

        def on_cell_execute(cell: Any, cell_index: int) -> None:
            nonlocal done
            done += 1
            seconds = time.perf_counter() - start
            progress(f"{stem}: cell {done}/{n_cells}, {seconds:.1f} s")

        hooks["on_cell_execute"] = on_cell_execute

    def run(tmp: Path) -> None:
        try:
            with _kernel_env(KERNEL_ENV), _kernel_transport() as transport:
                nb = papermill.execute_notebook(
                    source,
                    str(tmp),
                    parameters=parameters,
                    kernel_name=PYTHON_KERNEL["name"],
                    language=PYTHON_KERNEL["language"],
                    cwd=str(src.parent),
                    progress_bar=False,
                    config=Config(transport),
                    kernel_manager_class=_quiet_kernel_manager(),
                    **hooks,
                )
            for cell in nb.cells:
                tags = cell.metadata.setdefault("tags", [])
                if HIDDEN_TAGS & set(tags) and "remove-cell" not in tags:
                    tags.append("remove-cell")
            nb.metadata["dclib"] = {"cache_key": key, "parameters": parameters}
            # papermill records where it read and wrote: no machine paths, either
            nb.metadata.get("papermill", {}).update(
                input_path=f"notebooks/{stem}.py", output_path=out.name
            )
            nbformat.write(nb, tmp)
            problems = check_outputs(nb, stem, root)
            if problems:
                raise NotebookOutputError(
                    f"{stem}: {len(problems)} output(s) a page must not show "
                    f"(see {failed}):\n  " + "\n  ".join(problems)
                )
        except BaseException:
            # keep the failed notebook beside the last good one, for debugging
            if tmp.exists():
                os.replace(tmp, failed)
            raise

    atomic_write(out, run)
    failed.unlink(missing_ok=True)
    if progress is not None:
        progress(f"{stem}: {n_cells} cells in {time.perf_counter() - start:.1f} s")
    return True


def page_parameters(stem: str, root: Path = ROOT) -> dict[str, Any]:
    """The parameters that page ``stem`` declares (papermill's inspection of its cell
    tagged ``parameters``), name -> the type it takes (:data:`PAGE_PARAMETERS`, else
    the type of its default)."""
    import jupytext
    import nbformat
    import papermill

    nb = jupytext.reads((root / "notebooks" / f"{stem}.py").read_text(), "py:percent")
    nb.metadata.setdefault("kernelspec", PYTHON_KERNEL)  # as ``execute`` runs it
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}.ipynb"
        nbformat.write(nb, path)
        declared = papermill.inspect_notebook(path)
    return {
        name: PAGE_PARAMETERS.get(name, type(parse(p["default"])))
        for name, p in declared.items()
    }


def check_parameters(stem: str, parameters: dict[str, Any], root: Path = ROOT) -> None:
    """A ValueError unless page ``stem`` declares each of ``parameters`` and each
    value has the declared type; it names the parameter and the page's parameters."""
    declared = page_parameters(stem, root)
    listing = ", ".join(f"{name} ({type_name(tp)})" for name, tp in declared.items())
    for name, value in parameters.items():
        if name not in declared:
            raise ValueError(
                f"{stem} has no parameter {name!r}; its parameters: {listing}"
            )
        try:
            conform(value, declared[name])
        except TypeError as err:
            raise ValueError(
                f"{stem}: parameter {name!r}: {err}; its parameters: {listing}"
            ) from None


def plan(
    parameters: dict[str, Any],
    only: Sequence[str] | None = None,
    root: Path = ROOT,
) -> list[str]:
    """The pages of ``_toc.yml`` (or ``only`` those) to execute with ``parameters``,
    in reading order, checked before any cell runs: every page named exists, every
    page declares each parameter with a value of its type (:func:`check_parameters`)
    and ``dclib.start_run`` accepts the values of :data:`PAGE_PARAMETERS`. A
    ValueError says what is wrong."""
    from dclib.book.profiles import start_run

    stems = toc_notebooks(root)
    unknown = sorted(set(only or []) - set(stems))
    if unknown:
        raise ValueError(f"not in _toc.yml: {unknown}; the book has {stems}")
    chosen = [stem for stem in stems if not only or stem in only]
    for stem in chosen:
        check_parameters(stem, parameters, root)
    start_run(**{k: v for k, v in parameters.items() if k in PAGE_PARAMETERS})
    return chosen


def execute_all(
    parameters: dict[str, Any],
    *,
    root: Path = ROOT,
    out_dir: Path | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
    jobs: int = 1,
) -> list[tuple[str, bool]]:
    """Execute every page of the table of contents (or ``only`` those) with
    ``parameters`` (``profile`` among them), once :func:`plan` has checked them.

    ``jobs`` pages run at once, each in its own process whose kernel gets the
    machine's cores shared out (``OMP_NUM_THREADS``, unless set): on two cores two
    pages with one torch thread each finish sooner than one page after the other
    with two threads (measured: one thread costs a page about 1.2 times the time of
    two). A page starts once the pages whose runs it reuses have finished
    (``page_needs``), in ``start_order``; results do not depend on the order, since
    every cache write is atomic and a run's result depends only on its key. All
    pages run even when one fails (their dependants too: they make the runs they
    miss); then the first failure is raised."""
    label = ", ".join(f"{name}={value}" for name, value in parameters.items())
    stems = plan(parameters, only, root)
    if jobs <= 1 or len(stems) <= 1:
        return [
            _execute_page(stem, parameters, label, root, out_dir, force)
            for stem in stems
        ]
    import concurrent.futures
    import multiprocessing

    jobs = min(jobs, len(stems))
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = {
        k: os.environ.get(k, threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    context = multiprocessing.get_context("spawn")
    pending, running, finished = start_order(stems), {}, {}
    with (
        _kernel_env(env),
        concurrent.futures.ProcessPoolExecutor(jobs, context) as pool,
    ):
        while pending or running:
            for stem in [s for s in pending if page_needs(s, stems) <= set(finished)]:
                if len(running) == jobs:
                    break
                pending.remove(stem)
                args = (stem, parameters, label, root, out_dir, force)
                running[pool.submit(_execute_page, *args)] = stem
            done, _ = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED
            )
            finished |= {running.pop(future): future for future in done}
    failed = [f.exception() for f in finished.values() if f.exception() is not None]
    if failed:
        raise failed[0]
    return [finished[stem].result() for stem in stems]


def _execute_page(
    stem: str,
    parameters: dict[str, Any],
    label: str,
    root: Path,
    out_dir: Path | None,
    force: bool,
) -> tuple[str, bool]:
    _print(f"{stem} ({label}) ...")
    ran = execute(stem, parameters, root=root, out_dir=out_dir, force=force)
    _print(f"{'executed' if ran else 'unchanged, kept'}: {stem} ({label})")
    return stem, ran
