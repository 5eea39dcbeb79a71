"""Grid studies: read from the committed reference when present, computed at smoke
scale otherwise (quick and smoke pages), at the run's scale for full and paper; the
reference's ``grids`` job writes what pages read back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import dclib
from dclib import book
from dclib.book import grids, papers
from dclib.book.reference import runner as reference
from dclib.book.reference import store


def _tiny(run, ds) -> grids.Grids:
    frame = pd.DataFrame(
        {
            "setting": [0.1, 1.0],
            "n": [len(ds)] * 2,
            "acc": [0.5, float("nan")],
            "nmi": [0.4, float("nan")],
            "diverged": [float("nan"), 1.0],
        }
    )
    curves = {"T": {"T=2": [{"acc": 0.5}, {"acc": 0.6}]}}
    data = {"sweeps": f"{run.profile.name} data", "imbalance": "-"}
    return grids.Grids({"zeta": frame}, curves, data, "")


@pytest.fixture
def computed(monkeypatch, tmp_path):
    """Every page's ``compute_grids`` records the profile it was asked for and
    returns a tiny study; the reference lives under ``tmp_path``."""
    monkeypatch.setattr(grids, "RESULTS_DIR", tmp_path)
    asked: list[str] = []

    def fake(run, ds, only=None):
        asked.append(run.profile.name if only is None else (run.profile.name, only))
        return _tiny(run, ds)

    for module in papers.GRIDS.values():
        monkeypatch.setattr(module, "compute_grids", fake)
    return asked


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_without_a_reference_capped_pages_compute_at_smoke_scale(computed, profile):
    run = book.start_run(profile=profile, dataset="digits", device="cpu")
    found = papers.page_grids(papers.GRIDS["dssl"], run, dclib.load("digits"))
    assert computed == ["smoke"]
    assert "smoke scale" in found.source and "no committed reference" in found.source
    assert found.data["sweeps"] == "smoke data"


def test_full_pages_compute_at_their_own_scale(computed):
    run = book.start_run(profile="full", dataset="digits", device="cpu")
    found = papers.page_grids(papers.GRIDS["dcss"], run, dclib.load("digits"))
    assert computed == ["full"] and found.source == "this execution (full)"


def test_the_reference_grids_job_writes_what_pages_read(computed, tmp_path):
    job = reference.Job("grids", "digits", 0, {"page": "dssl"})
    assert reference.Job("grids", "mnist5k", 0, {"page": "dssl"}) in reference.plan(
        "full"
    )
    written = reference.run_job(job, "full", "cpu", str(tmp_path))
    assert computed == ["full"]
    assert written == [
        str(store.result_path(tmp_path, "full", "digits", "grids-dssl", 0))
    ]
    record = json.loads(open(written[0]).read())
    assert record["job"] == job.name and record["provenance"]["profile"] == "full"
    assert reference.finished(job, "full", tmp_path)

    computed.clear()
    run = book.start_run(profile="quick", dataset="digits", device="cpu")
    found = papers.page_grids(papers.GRIDS["dssl"], run, dclib.load("digits"))
    assert computed == [], "a committed reference is read, never recomputed"
    assert found.source.startswith("the committed reference (profile full, commit")
    pd.testing.assert_frame_equal(
        found.studies["zeta"], _tiny(run, dclib.load("digits")).studies["zeta"]
    )
    assert found.curves["T"]["T=2"][1] == {"acc": 0.6}
    assert found.diverged().endswith("zeta 1.0.")  # NaN survives the JSON
    # another seed has no committed grids: computed at smoke scale
    other = book.start_run(profile="quick", dataset="digits", seeds=[3], device="cpu")
    assert (
        "smoke scale"
        in papers.page_grids(papers.GRIDS["dssl"], other, dclib.load("digits")).source
    )


def test_diverged_settings_are_named_for_the_page():
    frame = pd.DataFrame(
        {
            "method": ["dynae", "dynae", "idec_star"],
            "setting": [1.0, 1000.0, 1000.0],
            "acc": [0.5, float("nan"), 0.4],
            "diverged": [float("nan"), 1.0, float("nan")],
        }
    )
    found = grids.Grids({"gamma": frame}, {}, {}, "")
    assert found.diverged({"dynae": "DynAE"}) == (
        " These settings diverged (the loss was not finite: NaN scores, no point "
        "in the figures): gamma 1000.0 (DynAE)."
    )
    assert (
        grids.Grids({"zeta": frame.drop(columns="diverged")}, {}, {}, "").diverged()
        == ""
    )


def test_grids_not_from_the_reference_are_a_collapsed_wiring_check(monkeypatch):
    """Smoke-scale studies are displayed once, folded, with no paper number; the
    page draws its figures and quotes findings only from committed studies."""
    import dataclasses

    from dclib.book import report

    shown = []
    monkeypatch.setattr(report, "display", shown.append)
    frame = pd.DataFrame(
        {"setting": [0.5, 0.9], "method": "dcss", "n": 64, "acc": 0.5, "nmi": 0.4}
    )
    studies = grids.Grids({"zeta": frame}, {}, {}, "this execution at smoke scale")
    assert not report.grids_shown(studies, {"dcss": "DCSS"})
    (folded,) = shown
    html = folded._repr_html_()
    assert html.startswith("<details><summary>Wiring check, not evidence")
    assert "paper" not in html.lower()
    assert "DCSS" in html and "<table" in html
    committed = dataclasses.replace(studies, committed=True)
    assert report.grids_shown(committed) and len(shown) == 1


def test_each_sensitivity_statement_has_a_reference_job_of_its_study_alone(
    computed, tmp_path
):
    """The ledger's grid jobs: one per ``claims.Robustness``, on the claim's data at
    its page's CPU caps (binding every run of the study), computing that study
    alone into ``grids-<page>-<study>``."""
    from dclib.book import claims

    plan = {j.name: j for j in reference.plan("full", [0, 1])}
    for c in claims.CLAIMS:
        if isinstance(c, claims.Robustness):
            job = plan[f"grids-{c.paper}-{c.study}-mnist5k-seed0"]
            assert job.args == {"page": c.paper, "study": c.study}
            assert job.capped_runs == ()
    assert plan["grids-dcss-zeta-mnist5k-seed0"].clustering_cap == 50  # DCSS_u's
    assert plan["grids-rdc-alpha-mnist5k-seed1"].pretrain_seed == 0  # shared
    job = reference.Job("grids", "digits", 0, {"page": "rdc", "study": "alpha"})
    (written,) = reference.run_job(job, "full", "cpu", str(tmp_path))
    assert computed == [("full", ("alpha",))]
    assert written == str(
        store.result_path(tmp_path, "full", "digits", "grids-rdc-alpha", 0)
    )
