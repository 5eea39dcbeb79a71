"""The notebook → papermill → Jupyter Book pipeline, down to pages in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from papermill.exceptions import PapermillExecutionError

from dclib.book import executor
from dclib.book.executor import (
    EXECUTED,
    ROOT,
    NotebookOutputError,
    check_outputs,
    execute,
    execute_all,
    toc_notebooks,
)

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


def _tiny(root: Path, source: str = TINY) -> None:
    (root / "notebooks").mkdir(exist_ok=True)
    (root / "notebooks" / "tiny.py").write_text(source)


def test_execute_caches_and_writes_atomically(tmp_path):
    _tiny(tmp_path)
    out = tmp_path / "out"
    lines: list[str] = []
    assert execute("tiny", {"x": 2}, root=tmp_path, out_dir=out, progress=lines.append)
    # one line per code cell (parameters, injected parameters, the assert), then a total
    assert [line.split(",")[0] for line in lines[:3]] == [
        f"tiny: cell {i}/3" for i in (1, 2, 3)
    ]
    assert re.fullmatch(r"tiny: 3 cells in \d+\.\d s", lines[3])
    assert not execute("tiny", {"x": 2}, root=tmp_path, out_dir=out)  # warm cache
    good = (out / "tiny.ipynb").read_text()
    assert '"remove-cell"' in good  # parameter cells hidden from the rendered page
    assert str(tmp_path) not in good  # papermill's metadata names no machine path
    with pytest.raises(PapermillExecutionError, match="x must be positive"):
        execute("tiny", {"x": -1}, root=tmp_path, out_dir=out)
    assert (out / "tiny.ipynb").read_text() == good  # last good output untouched
    assert (out / "tiny.failed.ipynb").exists()
    assert sorted(p.name for p in out.iterdir()) == ["tiny.failed.ipynb", "tiny.ipynb"]
    assert execute("tiny", {"x": 3}, root=tmp_path, out_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["tiny.ipynb"]  # stale one gone


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
def test_the_build_log_shows_only_progress(tmp_path, capfd):
    """The kernel talks over Unix sockets: it logs nothing (over TCP, ipykernel warns
    on stderr that the channel is unencrypted, nine times a book)."""
    _tiny(tmp_path)
    assert execute("tiny", {}, root=tmp_path, out_dir=tmp_path / "out")
    out, err = capfd.readouterr()
    assert err == ""
    assert out.splitlines()[-1].startswith("tiny: 2 cells in ")


def test_pages_run_side_by_side_and_one_failure_spares_the_others(tmp_path):
    (tmp_path / "notebooks").mkdir()
    for stem, check in (("one", "x > 0"), ("two", "x > 5"), ("three", "x > 1")):
        text = TINY.replace("x > 0", check).replace("positive", f"{stem} failed")
        text = text.replace("x = 1", 'x = 1\nprofile = "smoke"')
        (tmp_path / "notebooks" / f"{stem}.py").write_text(text)
    toc = "format: jb-book\nroot: intro\nchapters:\n"
    toc += "".join(f"- file: {EXECUTED}/{s}\n" for s in ("one", "two", "three"))
    (tmp_path / "_toc.yml").write_text(toc)
    out, params = tmp_path / "out", {"profile": "smoke", "x": 2}
    with pytest.raises(PapermillExecutionError, match="two failed"):
        execute_all(params, root=tmp_path, out_dir=out, jobs=2)
    assert sorted(p.name for p in out.iterdir()) == [
        "one.ipynb",
        "three.ipynb",
        "two.failed.ipynb",
    ]
    done = execute_all(
        params, root=tmp_path, out_dir=out, only=["one", "three"], jobs=2
    )
    assert done == [("one", False), ("three", False)]  # in reading order, cached


def test_pages_wait_for_the_pages_whose_runs_they_reuse():
    stems = toc_notebooks()
    assert executor.page_needs("05_dml", stems) == {"01_baselines", "03_dcss"}
    assert executor.page_needs("05_dml", ["05_dml", "03_dcss"]) == {"03_dcss"}
    assert executor.page_needs("08_leaderboard", stems) == set(stems) - {
        "08_leaderboard"
    }
    order = executor.start_order(stems)
    assert order[:2] == ["01_baselines", "03_dcss"]  # the most waited for first
    assert order[-1] == "08_leaderboard" and sorted(order) == sorted(stems)


def test_a_notebook_writing_to_stderr_fails_and_keeps_the_good_output(tmp_path):
    _tiny(tmp_path)
    out = tmp_path / "out"
    assert execute("tiny", {}, root=tmp_path, out_dir=out, progress=None)
    good = (out / "tiny.ipynb").read_text()
    _tiny(tmp_path, TINY + '\n# %%\nimport sys\nprint("careful", file=sys.stderr)\n')
    with pytest.raises(NotebookOutputError, match=r"tiny: code cell 3/3 .*stderr"):
        execute("tiny", {}, root=tmp_path, out_dir=out, progress=None)
    assert (out / "tiny.ipynb").read_text() == good
    failed = nbformat.read(out / "tiny.failed.ipynb", as_version=4)
    assert failed.cells[-1].outputs[0]["name"] == "stderr"  # what the page would show


def _nb(*outputs) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell("1", outputs=[o]) for o in outputs])


def test_check_outputs_names_the_cell_of_warnings_and_machine_paths():
    clean = _nb(
        new_output("stream", name="stdout", text="ACC 0.61 ± 0.01\n"),
        new_output("display_data", data={"text/markdown": "see `results/x.csv`"}),
    )
    assert check_outputs(clean, "page") == []
    bad = _nb(
        new_output("stream", name="stdout", text="ok\n"),
        new_output("stream", name="stderr", text="oops\n"),
        new_output("stream", name="stdout", text="x.py:3: UserWarning: careful\n"),
        new_output(
            "execute_result",
            data={"text/html": f"<p>{sys.prefix}/lib/python3.11/site-packages</p>"},
        ),
        new_output("display_data", data={"text/plain": f"{ROOT}/results/a.csv"}),
    )
    problems = check_outputs(bad, "page")
    expected = [(2, "stderr"), (3, "UserWarning"), (4, "machine path"), (5, "path")]
    assert len(problems) == len(expected), problems
    for problem, (cell, what) in zip(problems, expected, strict=True):
        assert problem.startswith(f"page: code cell {cell}/5") and what in problem


def test_unknown_notebook_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="nope"):
        execute("nope", {}, root=tmp_path)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("profile", "fast", "profile"),
        ("dataset", "imagenet", "dataset"),
        ("seeds", -1, "seed"),
    ],
)
def test_bad_papermill_parameter_fails_in_the_first_cell(tmp_path, name, value, match):
    params = {"profile": "smoke", name: value}
    with pytest.raises(PapermillExecutionError, match=f"ValueError.*{match}") as err:
        execute("00_getting_started", params, out_dir=tmp_path)
    assert err.value.exec_count == 3  # parameters, injected parameters, then this one


class SmokeBook:
    """A copy of the book's sources whose notebooks are executed in the smoke profile,
    each at most once per test session, however many tests need it."""

    def __init__(self, src: Path):
        self.src = src
        self.failed: dict[str, BaseException] = {}
        self._tried: set[str] = set()
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy(ROOT / name, src / name)
        shutil.copytree(
            ROOT / "book",
            src / "book",
            ignore=shutil.ignore_patterns("_executed", "_build", ".*"),
        )

    def execute(self, stem: str) -> None:
        """Execute ``stem`` unless done already; raise what its execution raised."""
        if stem not in self._tried:
            self._tried.add(stem)
            try:
                execute(
                    stem, {"profile": "smoke"}, out_dir=self.src / EXECUTED, force=True
                )
            except Exception as err:
                self.failed[stem] = err
        if stem in self.failed:
            raise self.failed[stem]


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> SmokeBook:
    return SmokeBook(tmp_path_factory.mktemp("smoke_book"))


@pytest.mark.book
@pytest.mark.parametrize("stem", NOTEBOOKS, ids=NOTEBOOKS)
def test_notebook_executes_in_the_smoke_profile(smoke_book, stem):
    smoke_book.execute(stem)
    assert (smoke_book.src / EXECUTED / f"{stem}.ipynb").exists()


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
def test_smoke_book_renders_math_and_figures_offline(smoke_book, tmp_path):
    for stem in toc_notebooks():  # already executed by the tests above, if they ran
        try:
            smoke_book.execute(stem)
        except Exception:
            pass
    if smoke_book.failed:
        pytest.fail(
            f"the book cannot be built: {sorted(smoke_book.failed)} failed to execute "
            "(see test_notebook_executes_in_the_smoke_profile)"
        )
    subprocess.run(
        [
            Path(sys.executable).parent / "jupyter-book",
            "build",
            "-W",
            "-n",
            "--keep-going",
            "--all",
            str(smoke_book.src),
            "--path-output",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    html = tmp_path / "_build" / "html"
    assert (html / "_static" / "custom.css").exists()
    pages = {
        html / "book" / "intro.html": "Deep Clustering Companion Book",
        html / EXECUTED / "00_getting_started.html": "Getting started",
    }
    for page, title in pages.items():
        source = page.read_text()
        assert "cdn" not in re.findall(r"<script[^>]*mathjax[^>]*>", source)
        assert "custom.css" in source, f"{page.name}: the book's CSS is not linked"
        assert "stderr" not in source, f"{page.name}: shows a stderr output"
        dom = _rendered_dom(page)
        assert re.search(rf"<h1[^>]*>\s*{title}", dom), f"{page.name}: no title"
        assert "<mjx-container" in dom, f"{page.name}: MathJax did not render"
        assert not re.search(r"\$\$|\\\[", _main_text(dom)), f"{page.name}: raw TeX"
        assert re.search(r"<img[^>]+src=", _main(dom)), f"{page.name}: no figure"
        assert "caption-number" not in dom, f"{page.name}: the book numbers figures"


def _main(dom: str) -> str:
    return dom[dom.index("<main") :]


def _main_text(dom: str) -> str:
    return re.sub(
        r"<[^>]+>",
        " ",
        re.sub(r"<mjx-container.*?</mjx-container>", "", _main(dom), flags=re.S),
    )
