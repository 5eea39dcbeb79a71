"""The two floors: the library a user imports and the companion that runs the book.

The library (``dclib`` outside ``dclib/book/`` and ``cli.py``) never imports the
book; no import runs back up into a package that imports the importer; no module
repeats inside a function an import it already has at the top; no module is over
about 500 lines; the pages hold no logic (no ``def``, ``class`` or ``lambda``, no
cell over 20 lines, no private import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "dclib"
BOOK = PACKAGE / "book"
SOURCES = sorted(PACKAGE.glob("**/*.py"))
LIBRARY = [p for p in SOURCES if BOOK not in p.parents and p.name != "cli.py"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
MAX_LINES = 500

MAX_CELL_LINES = 20


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imports(tree: ast.AST, module: str) -> list[tuple[str, ast.stmt]]:
    """Every dclib module an AST imports (``from a import b`` counts ``a.b`` too,
    as ``b`` may be a module), with the statement that imports it."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: 1 - node.level] + [base])
            found.append((base, node))
            found += [(f"{base}.{a.name}", node) for a in node.names]
    return [(m, n) for m, n in found if m.split(".")[0] == "dclib"]


def test_the_import_reader_sees_every_form():
    tree = ast.parse("import dclib.book.cache\nfrom dclib.book import report\n")
    seen = {m for m, _ in _imports(tree, "dclib.x")}
    assert {"dclib.book.cache", "dclib.book", "dclib.book.report"} <= seen


@pytest.mark.parametrize("path", LIBRARY, ids=_name)
def test_the_library_never_imports_the_book(path):
    tree = ast.parse(path.read_text())
    book = [m for m, _ in _imports(tree, _name(path)) if m.startswith("dclib.book")]
    cli = [m for m, _ in _imports(tree, _name(path)) if m == "dclib.cli"]
    assert not book + cli, f"{_name(path)} imports {book + cli}"


def _local_imports(tree: ast.Module) -> list[tuple[str, ast.stmt]]:
    """The imports inside functions: (function name, statement)."""
    return [
        (fn.name, node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def _is_module(name: str) -> bool:
    """Whether dotted ``name`` is a module or package of this repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _repeated_imports(source: str) -> list[str]:
    """Function-local imports of a module that the file imports at its top."""
    tree = ast.parse(source)
    top: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    found = []
    for fn, node in _local_imports(tree):
        if isinstance(node, ast.Import):
            names = {a.name for a in node.names}
        else:
            names = {f"{node.module}.{a.name}" for a in node.names}
            if not all(_is_module(n) for n in names):  # names from the module itself
                names.add(node.module)
        if names & top:
            found.append(f"{fn}: {sorted(names & top)}")
    return found


def test_the_repeat_check_sees_a_repeated_import():
    source = (
        "from dclib import metrics\n\ndef f():\n    from dclib.metrics import acc\n"
    )
    assert _repeated_imports(source) == ["f: ['dclib.metrics']"]
    assert _repeated_imports("import torch\n\ndef f():\n    import yaml\n") == []
    submodule = (
        "from dclib.book import params\n\ndef f():\n    from dclib.book import cache\n"
    )
    assert _repeated_imports(submodule) == []


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_function_repeats_an_import_of_its_module(path):
    repeated = _repeated_imports(path.read_text())
    assert not repeated, f"{_name(path)}: {repeated}"


def _runs_back_up(path: Path) -> list[str]:
    """Function-local imports of a package that contains ``path`` (other than
    ``dclib`` itself): they run back up the import tree, as a leaf reaching its
    registry."""
    name = _name(path)
    parts = name.split(".")
    ancestors = {".".join(parts[:i]) for i in range(2, len(parts))}
    found = []
    for fn, node in _local_imports(ast.parse(path.read_text())):
        for m, _ in _imports(node, name):
            if m in ancestors:
                found.append(f"{fn} imports {m}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_import_runs_back_up(path):
    assert not _runs_back_up(path)


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_module_is_over_about_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_name(path)}: {lines} lines"


def _cells(path: Path) -> list[tuple[int, list[str]]]:
    """The code cells of a py:percent notebook: (first line number, lines)."""
    cells, current, start, code = [], [], 0, False
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# %%"):
            if code:
                cells.append((start, current))
            code = "[markdown]" not in line
            current, start = [], i + 1
        elif code:
            current.append(line)
    if code:
        cells.append((start, current))
    return [(s, [ln for ln in c if ln.strip()]) for s, c in cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_cell_is_over_20_lines(path):
    long = [(s, len(c)) for s, c in _cells(path) if len(c) > MAX_CELL_LINES]
    assert not long, f"{path.name}: cells at lines {long} (line, code lines)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_pages_define_nothing_and_import_nothing_private(path):
    code = "\n".join("\n".join(c) for _, c in _cells(path))
    tree = ast.parse(code)
    defined = [
        type(n).__name__
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda)
    ]
    assert not defined, f"{path.name} defines {defined}"
    private = [
        m
        for m, _ in _imports(tree, "notebooks.page")
        if any(part.startswith("_") for part in m.split("."))
    ]
    assert not private, f"{path.name} imports {private}"


def test_the_cell_reader_counts_code_lines_only(tmp_path):
    page = tmp_path / "p.py"
    page.write_text("# %%\nx = 1\n\ny = 2\n# %% [markdown]\n# text\n# %%\nz = 3\n")
    assert [len(c) for _, c in _cells(page)] == [2, 1]


def test_every_folder_of_the_package_is_a_regular_package():
    folders = {p.parent for p in SOURCES}
    missing = [
        str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()
    ]
    assert not missing, f"no __init__.py (setuptools would not ship them): {missing}"
