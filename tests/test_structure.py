"""The shape of the code: paper files are leaves on the kit, no introspection, no
paper/code switches, one fit contract, official-code presets that differ, no
formatter escapes."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from dclib import functional as Fn
from dclib.methods import REGISTRY

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "dclib"
METHODS_DIR = PACKAGE / "methods"
PAPER_FILES = sorted(
    p.stem for p in METHODS_DIR.glob("*.py") if not p.name.startswith("_")
)
"""the paper files (baselines, dssl, dcss, dml; later dynae, rdc): the kit's
modules start with an underscore"""

SOURCES = sorted(PACKAGE.glob("**/*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_paper_files_are_found():
    assert {"baselines", "dssl", "dcss", "dml"} <= set(PAPER_FILES)


def _imported_paper_files(path: Path) -> set[str]:
    """The paper files that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[:2] == ["dclib", "methods"] and len(parts) > 2:
                    found.add(parts[2])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                module = (node.module or "").split(".")[0]
                found |= {module} if module else {a.name for a in node.names}
            elif node.module and node.module.startswith("dclib.methods"):
                parts = node.module.split(".")
                if len(parts) > 2:
                    found.add(parts[2])
                else:  # from dclib.methods import dcss (the registry is fine)
                    found |= {a.name for a in node.names}
    return found & set(PAPER_FILES)


@pytest.mark.parametrize("name", PAPER_FILES)
def test_a_paper_file_imports_no_other_paper_file(name):
    others = _imported_paper_files(METHODS_DIR / f"{name}.py") - {name}
    assert not others, f"dclib/methods/{name}.py imports {sorted(others)}"


def test_the_import_check_sees_every_form(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import dclib.methods.dcss\n"
        "from dclib.methods.dssl import fit_dssl\n"
        "from dclib.methods import dml, get_method\n"
        "def f():\n"
        "    from .baselines import DECConfig\n"
        "from dclib.methods._common import FitContext\n"
    )
    assert _imported_paper_files(probe) == {"dcss", "dssl", "dml", "baselines"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_inspect(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        assert not any(n.split(".")[0] == "inspect" for n in names), (
            f"{path.relative_to(ROOT)}:{node.lineno} imports inspect"
        )


FORBIDDEN_PARAMETERS = {"variant", "repo", "repository"}


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
    a = fn.args
    args = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    return {x.arg for x in args if x is not None}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_takes_a_variant_or_repository(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            bad = _parameters(node) & FORBIDDEN_PARAMETERS
            assert not bad, f"{path.relative_to(ROOT)}:{node.lineno} takes {bad}"
        if isinstance(node, ast.ClassDef):  # dataclass fields are __init__'s too
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(
                    item.target, ast.Name
                ):
                    assert item.target.id not in FORBIDDEN_PARAMETERS, (
                        f"{path.relative_to(ROOT)}:{item.lineno} {node.name} has a "
                        f"field {item.target.id!r}"
                    )


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_fit_has_the_one_signature(name):
    method = REGISTRY[name]
    assert method.name == name
    assert list(inspect.signature(method.fit).parameters) == ["X", "cfg", "ctx"]
    cfg = method.make_config()
    assert isinstance(cfg, method.config) and dataclasses.is_dataclass(cfg)
    assert method.make_config(n_clusters=3).n_clusters == 3


OFFICIAL_CODE = {
    "dcn",
    "dssl",
    "dcss_u",
    "dcss",
    "mnet",
    "dml",
    "dynae",
    "dc_star",
    "rdc",
}
"""the methods whose official code departs from its paper"""


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_official_code_presets_differ_from_the_paper(name):
    config = REGISTRY[name].config
    assert hasattr(config, "official_code") == (name in OFFICIAL_CODE)
    if name in OFFICIAL_CODE:
        code = config.official_code()
        assert type(code) is config and code != config()
        assert config.official_code(n_clusters=3).n_clusters == 3
        assert config.official_code(n_clusters=3) == dataclasses.replace(
            code, n_clusters=3
        )


def test_pair_selection_official_code_differs():
    code = Fn.PairSelection.official_code()
    assert type(code) is Fn.PairSelection and code != Fn.PairSelection()


FMT_SKIP = re.compile(r"#\s*fmt:\s*skip")


def test_no_formatter_escapes():
    found = [
        f"{path.relative_to(ROOT)}:{i}"
        for folder in ("dclib", "tests", "notebooks")
        for path in sorted((ROOT / folder).glob("**/*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if FMT_SKIP.search(line)
    ]
    assert not found, f"remove the formatter escapes and run ruff format: {found}"
