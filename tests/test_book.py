"""The notebook → papermill → Jupyter Book pipeline, down to pages in a real browser."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook, new_output
from papermill.exceptions import PapermillExecutionError

from dclib.book import executor, report, tables
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


def test_tables_mark_text_columns_and_leave_numbers_right_aligned():
    frame = pd.DataFrame(
        {
            "method": ["DCSS", "AE + k-means"],
            "ACC (%)": [61.04, 57.3],
            "ACC ± sd": ["61.0 ± 0.1", "—"],
            "n": [12345, 512],
            "where": ["commit 487bffc", None],
            "q": [np.array([0.5, 0.5]), np.array([1.0, 0.0])],
        }
    )
    assert tables.text_columns(frame) == [0, 4, 5]
    styler = frame.style.hide(axis="index")
    shown = tables.html(styler)
    assert f"#T_{styler.uuid} td.col4 {{ {tables.TEXT} }}" in shown
    assert "td.col1 " not in shown and "td.col3 " not in shown
    plain = tables.html(frame)
    assert (
        "tbody td:nth-of-type(1) " in plain and "tbody td:nth-of-type(2) " not in plain
    )
    assert "thead tr:last-child th:nth-of-type(2) " in plain  # after the index's th
    formatted = tables.book_style(frame).to_html()
    assert "12,345" in formatted and ">61.0<" in formatted
    assert not report.show_tables_the_book_way()  # no IPython here: nothing changes


def test_folded_tables_show_under_one_summary_line():
    frame = pd.DataFrame({"method": ["DEC"], "ACC": [51.2]})
    shown = tables.Folded("Details", frame.style, "<p>note</p>")._repr_html_()
    assert shown.startswith("<details><summary>Details</summary>")
    assert shown.endswith("</details>")
    assert "<p>note</p>" in shown and ">DEC<" in shown and "td.col0" in shown


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


NO_CHROMIUM = "needs Debian's chromium (.ci/run installs it); not found on PATH"


def _chromium_dom(page: Path, *extra: str, budget_ms: int = 15000) -> str:
    """The DOM of ``page`` once headless Chromium has loaded it and let its scripts
    run for ``budget_ms`` of virtual time (timers fire without waiting)."""
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
            f"--virtual-time-budget={budget_ms}",
            *extra,
            "--dump-dom",
            page.as_uri(),
        ]
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=180, check=True
        ).stdout


def _rendered_dom(page: Path) -> str:
    return _chromium_dom(page)


@pytest.fixture(scope="session")
def smoke_html(smoke_book, tmp_path_factory) -> Path:
    """The smoke book built to HTML once per session (its notebooks executed by the
    tests above, if they ran)."""
    for stem in toc_notebooks():
        try:
            smoke_book.execute(stem)
        except Exception:
            pass
    if smoke_book.failed:
        pytest.fail(
            f"the book cannot be built: {sorted(smoke_book.failed)} failed to execute "
            "(see test_notebook_executes_in_the_smoke_profile)"
        )
    out = tmp_path_factory.mktemp("smoke_html")
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
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out / "_build" / "html"


@pytest.mark.book
@pytest.mark.skipif(_chromium() is None, reason=NO_CHROMIUM)
def test_smoke_book_renders_math_and_figures_offline(smoke_html):
    html = smoke_html
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


# Injected into a copy of each built page: once the page has loaded and MathJax has
# typeset it, it measures the page in the page itself and writes the result, as
# JSON, into <pre id="dclib-measure">, which --dump-dom hands back. The content
# column is the article's content box (bd-article, less its padding).
MEASURE = r"""
<script>
(function () {
  function px(x) { return Math.round(x * 10) / 10; }
  function label(el) {
    var name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
    var about = el.querySelector && el.querySelector('caption, thead th');
    var text = about ? about.textContent : (el.getAttribute('alt') || '');
    text = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    var section = el.closest('section');
    var h = section && section.querySelector('h1, h2, h3');
    var heading = h ? h.textContent.replace('#', '').trim().slice(0, 50) : '';
    var where = heading ? ' in "' + heading + '"' : '';
    return name + where + (text ? ': ' + text : '');
  }
  function measure() {
    var col = document.querySelector('article.bd-article')
      || document.querySelector('main');
    var outer = col.getBoundingClientRect(), cs = getComputedStyle(col);
    var left = outer.left + parseFloat(cs.paddingLeft);
    var right = outer.right - parseFloat(cs.paddingRight);
    function overflowing(selector) {
      var found = [];
      col.querySelectorAll(selector).forEach(function (el) {
        var r = el.getBoundingClientRect();
        if ((r.width || r.height) && r.right > right + 0.5)
          found.push({element: label(el), width: px(r.width),
                      over: px(r.right - right)});
      });
      return found;
    }
    var broken = [];
    col.querySelectorAll('img').forEach(function (img) {
      if (!img.complete || img.naturalWidth === 0) broken.push(img.getAttribute('src'));
    });
    var text = col.cloneNode(true);
    text.querySelectorAll('mjx-container, script, style, div.cell_input')
      .forEach(function (e) { e.remove(); });
    text = text.textContent;
    var tex = [], re = /\$\$|\\\[|\\\(|\\begin\{/g, m;
    while ((m = re.exec(text)) && tex.length < 5)
      tex.push(text.slice(Math.max(0, m.index - 40), m.index + 40)
               .replace(/\s+/g, ' '));
    var stderr = [];
    col.querySelectorAll('.stderr, div.output.stderr').forEach(function (e) {
      stderr.push(e.textContent.trim().slice(0, 100));
    });
    var out = document.createElement('pre');
    out.id = 'dclib-measure';
    out.textContent = JSON.stringify({
      column: px(right - left),
      height: document.documentElement.scrollHeight,
      tables: col.querySelectorAll('table').length,
      wide: overflowing('table, figure, img, pre'),
      wide_math: overflowing('mjx-container[display="true"]'),
      broken_images: broken, raw_tex: tex, stderr: stderr});
    document.body.appendChild(out);
  }
  window.addEventListener('load', function () {
    var typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
    (typeset || Promise.resolve()).then(measure, measure);
  });
})();
</script>
"""

WIDTH = 1280


def _measure(page: Path) -> dict:
    """Load ``page`` at WIDTH px in headless Chromium and measure it there."""
    probe = page.with_name(f".{page.stem}.measure.html")  # beside it: same links
    probe.write_text(page.read_text().replace("</head>", MEASURE + "</head>", 1))
    try:
        dom = _chromium_dom(probe, f"--window-size={WIDTH},1000", budget_ms=30000)
    finally:
        probe.unlink()
    found = re.search(r'<pre id="dclib-measure"[^>]*>(.*?)</pre>', dom, re.S)
    if found is None:
        return {"error": "the page did not finish loading (no measurement)"}
    return json.loads(html_lib.unescape(found.group(1)))


def toc_pages(html: Path) -> dict[str, Path]:
    """Every page of _toc.yml (the root, intro, included), by its name."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return {Path(f).name: html / f"{f}.html" for f in files}


def _heights(measured: dict[str, dict]) -> str:
    lines = [
        f"pages at {WIDTH} px: height, tables, elements wider than the column",
        f"{'page':<20} {'column':>7} {'height':>7} {'tables':>6} {'too wide':>8}",
    ]
    for name, m in measured.items():
        if "error" in m:
            lines.append(f"{name:<20} {m['error']}")
            continue
        lines.append(
            f"{name:<20} {m['column']:>7} {m['height']:>7} {m['tables']:>6} "
            f"{len(m['wide']):>8}"
        )
        lines += [
            f"    {w['width']} px (+{w['over']}): {w['element']}" for w in m["wide"]
        ]
        lines += [
            f"    math {w['width']} px (+{w['over']}, not failed): {w['element']}"
            for w in m["wide_math"]
        ]
    return "\n".join(lines)


@pytest.mark.book
@pytest.mark.skipif(_chromium() is None, reason=NO_CHROMIUM)
def test_every_page_fits_the_column_at_1280px(smoke_html, tmp_path, capsys):
    """Each page of the smoke-built book, loaded at 1280 px and measured in the page:
    no table, figure or code block reaches past the content column, no raw TeX, no
    image that failed to load, no stderr output. The page heights are printed (into
    `make test`'s log) and written to page-heights.txt."""
    pages = toc_pages(smoke_html)
    missing = [name for name, page in pages.items() if not page.exists()]
    assert not missing, f"pages of _toc.yml not built: {missing}"
    with ThreadPoolExecutor(max_workers=3) as pool:
        measured = dict(zip(pages, pool.map(_measure, pages.values()), strict=True))
    report = _heights(measured)
    (tmp_path / "page-heights.txt").write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report)
    problems = []
    for name, m in measured.items():
        if "error" in m:
            problems.append(f"{name}: {m['error']}")
            continue
        problems += [f"{name}: wider than the column: {w}" for w in m["wide"]]
        problems += [f"{name}: image not loaded: {src}" for src in m["broken_images"]]
        problems += [f"{name}: raw TeX: …{t}…" for t in m["raw_tex"]]
        problems += [f"{name}: stderr output: {t}" for t in m["stderr"]]
    assert not problems, "\n".join(problems) + "\n\n" + report
