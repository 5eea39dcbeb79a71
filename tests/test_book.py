"""The notebook → papermill → Jupyter Book pipeline, down to pages in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from papermill.exceptions import PapermillExecutionError

from dclib.book import EXECUTED, ROOT, execute, toc_notebooks

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))

TINY = """\
# %% tags=["parameters"]
x = 1

# %%
assert x > 0, "x must be positive"
print(x)
"""


def test_every_notebook_is_in_the_toc_and_has_a_parameters_cell():
    assert NOTEBOOKS and set(NOTEBOOKS) == set(toc_notebooks())
    for stem in NOTEBOOKS:
        assert (
            '# %% tags=["parameters"]'
            in (ROOT / "notebooks" / f"{stem}.py").read_text()
        )


def test_execute_caches_and_writes_atomically(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "tiny.py").write_text(TINY)
    out = tmp_path / "out"
    assert execute("tiny", {"x": 2}, root=tmp_path, out_dir=out)
    assert not execute("tiny", {"x": 2}, root=tmp_path, out_dir=out)  # warm cache
    good = (out / "tiny.ipynb").read_text()
    assert '"remove-cell"' in good  # parameter cells hidden from the rendered page
    with pytest.raises(PapermillExecutionError, match="x must be positive"):
        execute("tiny", {"x": -1}, root=tmp_path, out_dir=out)
    assert (out / "tiny.ipynb").read_text() == good  # last good output untouched
    assert (out / "tiny.failed.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == ["tiny.failed.ipynb", "tiny.ipynb"]


def test_unknown_notebook_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        execute("nope", {}, root=tmp_path)


@pytest.mark.parametrize(
    ("name", "value"), [("profile", "fast"), ("dataset", "imagenet"), ("seed", -1)]
)
def test_bad_papermill_parameter_fails_in_the_first_cell(tmp_path, name, value):
    params = {"profile": "smoke", name: value}
    with pytest.raises(PapermillExecutionError, match=f"ValueError.*{name}") as err:
        execute("00_getting_started", params, out_dir=tmp_path)
    assert err.value.exec_count == 3  # parameters, injected parameters, then this one


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _rendered_dom(page: Path) -> str:
    with tempfile.TemporaryDirectory() as profile_dir:
        cmd = [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile_dir}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, check=True
        ).stdout


@pytest.mark.book
@pytest.mark.skipif(_chromium() is None, reason="needs Debian's chromium (.ci/run)")
def test_smoke_book_renders_math_and_figures_offline(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "book", src / "book", ignore=shutil.ignore_patterns("_*"))
    for stem in toc_notebooks():
        execute(stem, {"profile": "smoke"}, out_dir=src / EXECUTED, force=True)
    subprocess.run(
        [
            Path(sys.executable).parent / "jupyter-book",
            "build",
            "-W",
            "-n",
            "--keep-going",
            "--all",
            str(src),
            "--path-output",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    html = tmp_path / "_build" / "html"
    pages = {
        html / "book" / "intro.html": "Deep Clustering Companion Book",
        html / EXECUTED / "00_getting_started.html": "Getting started",
    }
    for page, title in pages.items():
        assert "cdn" not in re.findall(r"<script[^>]*mathjax[^>]*>", page.read_text())
        dom = _rendered_dom(page)
        assert re.search(rf"<h1[^>]*>\s*{title}", dom), f"{page.name}: no title"
        assert "<mjx-container" in dom, f"{page.name}: MathJax did not render"
        assert not re.search(r"\$\$|\\\[", _main_text(dom)), f"{page.name}: raw TeX"
        assert re.search(r"<img[^>]+src=", _main(dom)), f"{page.name}: no figure"


def _main(dom: str) -> str:
    return dom[dom.index("<main") :]


def _main_text(dom: str) -> str:
    return re.sub(
        r"<[^>]+>",
        " ",
        re.sub(r"<mjx-container.*?</mjx-container>", "", _main(dom), flags=re.S),
    )
