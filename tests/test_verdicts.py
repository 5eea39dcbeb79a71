"""The one verdict rule (``verdicts.paired``) on hand-computed evidence, and the
claims ledger it reads."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dclib.book import catalog, claims, report, verdicts
from dclib.book.cache import RunResult
from dclib.book.reference import store


def _runs(accs, spread=None):
    out = {}
    for seed, acc in enumerate(accs):
        m = {"acc": acc}
        if spread is not None:
            m |= {
                "kmeans_acc_min": acc - spread / 2,
                "kmeans_acc_max": acc + spread / 2,
            }
        out[seed] = RunResult(m, [], {})
    return out


def test_three_seeds_whose_interval_lies_above_zero_hold():
    # differences 2, 3, 4 points: mean 3, sd 1, t(0.975, 2) = 4.3027 -> 3 +- 2.484
    v = verdicts.paired(_runs([0.52, 0.53, 0.54]), _runs([0.50, 0.50, 0.50]))
    assert v.verdict == verdicts.HOLDS and v.seeds == (0, 1, 2)
    assert v.effect == pytest.approx(3.0)
    assert (v.low, v.high) == pytest.approx((3 - 2.4841, 3 + 2.4841), abs=1e-3)


def test_the_t_interval_by_hand():
    # 1, 2, 3: mean 2, std 1, t(0.975, 2) = 4.303, half width 4.303 / sqrt(3) = 2.484
    mean, low, high = verdicts.t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert (low, high) == pytest.approx((2 - 2.4841, 2 + 2.4841), abs=1e-4)
    with pytest.raises(ValueError, match="two or more"):
        verdicts.t_interval([1.0])


def test_an_interval_across_zero_is_inconclusive_and_one_below_fails():
    # differences 1, -1, 3: mean 1, sd 2 -> 1 +- 4.968
    v = verdicts.paired(_runs([0.51, 0.49, 0.53]), _runs([0.5, 0.5, 0.5]))
    assert v.verdict == verdicts.INCONCLUSIVE
    assert v.low == pytest.approx(1 - 4.9683, abs=1e-3)
    worse = verdicts.paired(_runs([0.48, 0.47, 0.46]), _runs([0.5, 0.5, 0.5]))
    assert worse.verdict == verdicts.FAILS and worse.effect == pytest.approx(-3.0)


def test_one_seed_decides_only_beyond_both_k_means_spreads():
    wide = verdicts.paired(_runs([0.53], spread=0.01), _runs([0.50], spread=0.02))
    assert wide.verdict == verdicts.HOLDS  # 3 points against a 2-point spread
    assert (wide.low, wide.high) == pytest.approx((1.0, 5.0))
    close = verdicts.paired(_runs([0.51], spread=0.01), _runs([0.50], spread=0.02))
    assert close.verdict == verdicts.INCONCLUSIVE
    below = verdicts.paired(_runs([0.46], spread=0.01), _runs([0.50], spread=0.02))
    assert below.verdict == verdicts.FAILS
    unmeasured = verdicts.paired(_runs([0.60]), _runs([0.50], spread=0.02))
    assert unmeasured.verdict == verdicts.INCONCLUSIVE and unmeasured.low is None


def test_no_common_seed_is_no_evidence():
    v = verdicts.paired({1: _runs([0.6])[0]}, _runs([0.5]))
    assert v.verdict == verdicts.NO_EVIDENCE and v.effect is None


def test_the_ledger_names_catalog_runs_on_one_kind_of_data():
    keys = [c.key for c in claims.CLAIMS]
    assert len(set(keys)) == len(keys)
    for c in claims.CLAIMS:
        if not isinstance(c, claims.Claim):
            continue
        assert c.better in catalog.BY_NAME and c.worse in catalog.BY_NAME
        assert c.data in ("mlp", "conv") and c.paper in catalog.PAGE_LABELS
    assert {c.key for c in claims.page_claims("dml")} == {
        "dml-dsl>dcss_u",
        "dml-dcn>dcn",
        "dml-dkm>dkm_p",
    }
    assert claims.CLAIMS[0].statement == "DCSS > DCSS_u"
    assert claims.CLAIMS[0].source == "DCSS Table 1"


def _commit(root, dataset, run, seed, acc):
    path = store.result_path(root, "full", dataset, run, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seed": seed, "metrics": {"acc": acc}, "history": []}))


def test_the_ledger_reads_each_claim_from_the_committed_reference(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    for seed, (a, b) in enumerate([(0.60, 0.55), (0.62, 0.56), (0.61, 0.58)]):
        _commit(tmp_path, "fmnist", "dynae", seed, a)
        _commit(tmp_path, "fmnist", "dec_star", seed, b)
    _commit(tmp_path, "mnist5k", "dcss", 0, 0.9)  # DCSS_u not committed
    keys = ("dynae>dec_star", "dcss>dcss_u")
    table = verdicts.ledger([c for c in claims.CLAIMS if c.key in keys])
    row = table.loc["dynae>dec_star"]
    assert row.verdict == verdicts.HOLDS and row.seeds == "0, 1, 2 (own pretraining)"
    assert row["effect (ACC points)"].startswith("+4.7 [")  # 5, 6, 3 points
    assert row["data"] == "fmnist (full)" and row["where"] == "DynAE Table 3"
    assert table.loc["dcss>dcss_u"].verdict == verdicts.NO_EVIDENCE
    assert table.loc["dcss>dcss_u"].data == "mnist5k (full)"


def test_each_page_box_and_the_leaderboard_render_the_same_verdicts():
    board = report.ledger_table().data.set_index("claim")
    for page in catalog.PAGES:
        box = report.claims_box(page).data.set_index("claim")
        assert {c.statement for c in claims.page_claims(page)} == set(box.index)
        for claim, row in box.iterrows():
            assert board.loc[claim, "verdict"] == row["verdict"], claim
            assert board.loc[claim, "seeds"] == row["seeds"], claim


def test_a_pages_findings_open_with_its_claims_verdicts_from_the_ledger():
    from dclib.book import claims, verdicts

    for page in ("dcss", "dssl", "dml", "dynae", "rdc"):
        said = verdicts.sentences(page)
        table = verdicts.ledger(claims.page_claims(page))
        assert len(said) == len(table)
        for sentence, row in zip(said, table.itertuples(), strict=True):
            assert sentence.startswith(f"- {row.claim}")  # a Markdown list item
            assert f"**{row.verdict}**" in sentence


def _zeta_grids(*accs_by_seed, method=None):
    """DCSS's zeta study per seed: ACC at the paper's settings and at 1.0 (outside
    the claim's range, so never counted)."""
    from dclib.book.grids import Grids

    found = {}
    for seed, accs in enumerate(accs_by_seed):
        frame = pd.DataFrame(
            {"setting": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "acc": [*accs, 0.0]}
        )
        found[seed] = Grids({"zeta": frame}, {}, {}, "")
    return found


def _claim(key):
    return next(c for c in claims.CLAIMS if c.key == key)


def test_a_sensitivity_claim_holds_when_every_seeds_range_is_well_within_the_bound():
    zeta = _claim("dcss:zeta")
    flat = [0.70, 0.71, 0.72, 0.70, 0.71]  # range 2 points
    steady = _zeta_grids(flat, [0.70, 0.73, 0.72, 0.71, 0.70], flat)  # 2, 3, 2
    v = verdicts.robust(zeta, steady)
    assert v.verdict == verdicts.HOLDS and v.seeds == (0, 1, 2)
    assert v.effect == pytest.approx(5 - 7 / 3)
    swings = [0.60, 0.75, 0.70, 0.72, 0.71]  # range 15 points
    assert verdicts.robust(zeta, _zeta_grids(swings, swings, swings)).verdict == (
        verdicts.FAILS
    )
    one = verdicts.robust(zeta, _zeta_grids(flat))
    assert one.verdict == verdicts.INCONCLUSIVE and "one seed" in one.how
    nan = [0.70, float("nan"), 0.72, 0.70, 0.71]  # a diverged setting: seed left out
    assert verdicts.robust(zeta, _zeta_grids(nan)).verdict == verdicts.NO_EVIDENCE


def test_less_sensitive_than_compares_the_two_methods_ranges_per_seed():
    from dclib.book.grids import Grids

    gamma = _claim("dynae:gamma")
    found = {}
    for seed, (dynae, idec) in enumerate([(2, 20), (3, 25), (1, 15)]):
        rows = [
            {"setting": g, "method": m, "acc": 0.5 + (spread / 100) * (i % 2)}
            for i, g in enumerate(gamma.settings)
            for m, spread in (("dynae", dynae), ("idec_star", idec))
        ]
        found[seed] = Grids({"gamma": pd.DataFrame(rows)}, {}, {}, "")
    v = verdicts.robust(gamma, found)
    assert v.verdict == verdicts.HOLDS and v.effect == pytest.approx(18)


def test_the_ledger_reads_grid_studies_from_the_committed_reference(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    table = verdicts.ledger([_claim("dcss:zeta")])
    assert table.loc["dcss:zeta"].verdict == verdicts.NO_EVIDENCE
    flat = [0.70, 0.71, 0.72, 0.70, 0.71]
    for seed, grids in _zeta_grids(flat, flat).items():  # the page's job, the ledger's
        run = ("grids-dcss", "grids-dcss-zeta")[seed]
        path = store.result_path(tmp_path, "full", "mnist5k", run, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, **grids.to_json()}))
    row = verdicts.ledger([_claim("dcss:zeta")]).loc["dcss:zeta"]
    assert row.verdict == verdicts.HOLDS  # a margin of 3 points on both seeds
    assert row.seeds == "0, 1 (own pretraining)" and row.evidence == "03_dcss"


def test_dcss_theorems_are_checked_not_voted():
    row = verdicts.ledger([_claim("dcss:theorems")]).loc["dcss:theorems"]
    assert row.verdict == verdicts.HOLDS and row.seeds == "—"
    assert "0 broke" in row.how and row.evidence == "04_dcss_theory"
