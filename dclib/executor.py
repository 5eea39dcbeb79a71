"""Execute the book's notebooks with papermill, skipping unchanged ones.

Each notebook of ``_toc.yml`` is listed there as ``book/_executed/<stem>``; its source
is the jupytext file ``notebooks/<stem>.py``. An executed notebook records a key hashed
from its source, its parameters, the dclib source tree and the CSV files under
``results/``; while the key matches, the notebook is not run again (a warm cache).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dclib.runs import files_hash

ROOT = Path(__file__).parents[1]
EXECUTED = "book/_executed"
HIDDEN_TAGS = {"parameters", "injected-parameters"}


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
    return files_hash(paths, root)


def cache_key(source: str, parameters: dict[str, Any], tree: str) -> str:
    """Hash of everything an executed notebook depends on."""
    blob = json.dumps(
        {"source": source, "parameters": parameters, "tree": tree}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _stored_key(path: Path) -> str | None:
    if not path.exists():
        return None
    meta = json.loads(path.read_text()).get("metadata", {})
    return meta.get("dclib", {}).get("cache_key")


def execute(
    stem: str,
    parameters: dict[str, Any],
    *,
    root: Path = ROOT,
    out_dir: Path | None = None,
    force: bool = False,
) -> bool:
    """Execute ``notebooks/<stem>.py`` into ``<out_dir>/<stem>.ipynb``.

    Returns False when a previous output with the same cache key was kept. The output
    is written atomically; a failing cell raises papermill's execution error and leaves
    any earlier output untouched.
    """
    import jupytext
    import nbformat
    import papermill

    src = root / "notebooks" / f"{stem}.py"
    if not src.exists():
        raise ValueError(f"_toc.yml lists {stem!r} but {src} does not exist")
    out_dir = root / EXECUTED if out_dir is None else Path(out_dir)
    out = out_dir / f"{stem}.ipynb"
    text = src.read_text()
    key = cache_key(text, parameters, _tree_hash(root))
    if not force and _stored_key(out) == key:
        return False
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".ipynb", dir=out_dir)
    os.close(fd)
    try:
        nb = papermill.execute_notebook(
            jupytext.reads(text, fmt="py:percent"),
            tmp,
            parameters=parameters,
            kernel_name="python3",
            language="python",
            cwd=str(src.parent),
            progress_bar=False,
        )
        for cell in nb.cells:
            tags = cell.metadata.setdefault("tags", [])
            if HIDDEN_TAGS & set(tags) and "remove-cell" not in tags:
                tags.append("remove-cell")
        nb.metadata["dclib"] = {"cache_key": key, "parameters": parameters}
        nbformat.write(nb, tmp)
        os.replace(tmp, out)
    except BaseException:
        # keep the partly executed notebook beside the last good one, for debugging
        os.replace(tmp, out_dir / f"{stem}.failed.ipynb")
        raise
    return True


def execute_all(
    profile: str,
    *,
    root: Path = ROOT,
    out_dir: Path | None = None,
    only: list[str] | None = None,
    force: bool = False,
) -> list[tuple[str, bool]]:
    """Execute every notebook of the table of contents (or ``only`` those) in order."""
    from dclib.profiles import get_profile

    get_profile(profile)
    stems = toc_notebooks(root)
    unknown = sorted(set(only or []) - set(stems))
    if unknown:
        raise ValueError(f"not in _toc.yml: {unknown}; the book has {stems}")
    done = []
    for stem in stems:
        if only and stem not in only:
            continue
        ran = execute(
            stem, {"profile": profile}, root=root, out_dir=out_dir, force=force
        )
        print(
            f"{'executed' if ran else 'unchanged, kept'}: {stem} ({profile})",
            flush=True,
        )
        done.append((stem, ran))
    return done
