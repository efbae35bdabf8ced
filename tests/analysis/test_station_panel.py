"""fx.station_panel: a station x election panel from several results files (issue 14.3)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, FieldexpWarning, RowsDroppedWarning, SpecificationError
from fieldexp.io import read_precinct_results
from fieldexp.io.fr_writers import write_fr_results

# (département as written in the file, INSEE commune, bureau)
STATIONS = [("01", "01004", b) for b in (1, 2, 3)] + [("2A", "2A004", b) for b in (1, 2)]
NUANCES = ("DVG", "RN")
TAU = 0.04  # the canvassing effect on turnout (exact in these data)


def _truth(stations, election: str, t: int, treated: set[str], registered: int = 1000):
    """Canonical results: turnout = unit effect + election effect + TAU x treated, exactly."""
    rows = []
    for k, (dept, insee, b) in enumerate(stations):
        pid = f"{insee}_{b:04d}"
        turnout = 0.40 + 0.01 * k + 0.05 * t + (TAU if pid in treated else 0.0)
        voters = round(registered * turnout)
        expressed = voters - 10
        first = expressed // 3 + k
        for c, (nuance, votes) in enumerate(zip(NUANCES, (first, expressed - first), strict=True)):
            rows.append(
                {
                    "precinct_id": pid,
                    "election_id": election,
                    "department_code": insee[:2],
                    "commune_code": insee,
                    "bureau_code": f"{b:04d}",
                    "registered": registered,
                    "voters": voters,
                    "abstentions": registered - voters,
                    "blank": 6,
                    "null": 4,
                    "expressed": expressed,
                    "candidate": str(c + 1),
                    "nuance": nuance,
                    "votes": votes,
                    "sex": "F",
                    "last_name": f"NOM{c}",
                    "first_name": "Anaïs",
                    "list_short": "",
                    "list_label": "",
                    "commune_label": "Ajaccio" if insee.startswith("2A") else "Ambérieu",
                    "dept_in_file": dept,
                    "candidate_label": f"NOM{c} Anaïs",
                }
            )
    return pd.DataFrame(rows)


LAYOUTS = ("leg2017", "leg2022", "leg2024")
DATES = {"leg2017": "2017-06-11", "leg2022": "2022-06-12", "leg2024": "2024-06-30"}


@pytest.fixture
def files(tmp_path):
    """Three legislative files in three layouts; stations 01004_0001 and 2A004_0002 canvassed
    before the last election."""
    treated = {"01004_0001", "2A004_0002"}
    out = {}
    for t, lay in enumerate(LAYOUTS):
        truth = _truth(STATIONS, lay, t, treated if t == 2 else set())
        out[lay] = write_fr_results(truth, tmp_path / f"{lay}.csv", layout=lay)
    return out


def _assignment():
    ids = [f"{i}_{b:04d}" for _, i, b in STATIONS]
    return pd.DataFrame(
        {"precinct_id": ids, "assigned": [int(i in {"01004_0001", "2A004_0002"}) for i in ids]}
    )


def test_panel_from_three_layouts_conserves_totals(files):
    panel = fx.station_panel(
        {k: v for k, v in files.items()}, dates=DATES, assignment=_assignment(), shares="nuance"
    )
    d = panel.data
    assert len(d) == 15 and d["precinct_id"].nunique() == 5
    assert list(d["election"].cat.categories) == list(LAYOUTS) and d["election"].cat.ordered
    assert d.groupby("election", observed=True)["period"].first().tolist() == [1, 2, 3]
    # conservation: per election, panel sums = file sums (each file read back independently)
    for lay, path in files.items():
        r = read_precinct_results(path).drop_duplicates("precinct_id")
        got = d.loc[d["election"] == lay]
        assert int(got["registered"].sum()) == int(r["registered"].sum())
        assert int(got["voters"].sum()) == int(r["voters"].sum())
    assert (panel.totals["registered_read"] == panel.totals["registered_panel"]).all()
    panel.check()
    panel.reconciliation.check()
    np.testing.assert_allclose(d["turnout"], d["voters"] / d["registered"], rtol=0, atol=0)
    np.testing.assert_allclose(d["share_DVG"] + d["share_RN"], 1.0, rtol=1e-15)
    assert set(d["commune_code"]) == {"01004", "2A004"}
    assert d.loc[d["treated"] == 1, "precinct_id"].unique().tolist() == [
        "01004_0001",
        "2A004_0002",
    ]
    assert (d.loc[d["treated"] == 1, "period"] == 3).all()
    assert "5 stations x 3 elections" in str(panel)


def test_did_on_the_panel_equals_fx_did_on_the_hand_built_panel(files):
    panel = fx.station_panel(files, dates=DATES, assignment=_assignment())
    got = fx.did(panel.data, "turnout", "precinct_id", "period", "treated", clusters="precinct_id")
    # the same panel built by hand from the truth
    hand = pd.concat(
        [
            _truth(STATIONS, lay, t, {"01004_0001", "2A004_0002"} if t == 2 else set())
            for t, lay in enumerate(LAYOUTS)
        ]
    ).drop_duplicates(["precinct_id", "election_id"])
    hand = hand.assign(
        turnout=hand["voters"] / hand["registered"],
        t=hand["election_id"].map({k: i for i, k in enumerate(LAYOUTS)}),
        d=(
            (hand["election_id"] == "leg2024")
            & hand["precinct_id"].isin(["01004_0001", "2A004_0002"])
        ).astype(int),
    )
    ref = fx.did(
        hand.sample(frac=1, random_state=3),
        "turnout",
        "precinct_id",
        "t",
        "d",
        clusters="precinct_id",
    )
    for a in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(getattr(got, a), getattr(ref, a), rtol=1e-10)
    # exact parallel trends: TWFE recovers the known effect
    np.testing.assert_allclose(got.estimate, TAU, atol=1e-12)
    w = fx.did(panel.data, "turnout", "precinct_id", "election", "treated", weights="registered")
    np.testing.assert_allclose(w.estimate, TAU, atol=1e-12)


def test_rows_shuffled_give_the_same_panel(files):
    tables = {k: read_precinct_results(v) for k, v in files.items()}
    a = fx.station_panel(tables, dates=DATES, shares="nuance").data
    shuffled = {k: t.sample(frac=1, random_state=7) for k, t in tables.items()}
    b = fx.station_panel(dict(reversed(shuffled.items())), dates=DATES, shares="nuance").data
    pd.testing.assert_frame_equal(a, b)


def test_station_in_one_file_only_is_kept_counted_and_named(tmp_path):
    t0 = _truth(STATIONS, "e0", 0, set())
    t1 = _truth([*STATIONS[:-1], ("01", "01004", 9)], "e1", 1, set())  # 2A004_0002 gone, 0009 new
    with pytest.warns(FieldexpWarning, match=r"2 of 6 stations are missing from some elections"):
        panel = fx.station_panel([t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"})
    assert panel.partial["precinct_id"].tolist() == ["01004_0009", "2A004_0002"]
    assert panel.partial["present"].tolist() == ["e1", "e0"]
    assert len(panel.data) == 10  # nothing dropped
    assert "2 stations missing from some elections" in str(panel)
    with pytest.warns(RowsDroppedWarning, match=r"2 stations missing .* set aside"):
        bal = fx.station_panel(
            [t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"}, balanced=True
        )
    assert len(bal.data) == 8
    tot = bal.totals.set_index("election")
    assert (tot["registered_read"] == tot["registered_panel"] + tot["registered_set_aside"]).all()
    assert tot.loc["e0", "stations_set_aside"] == 1
    assert bal.reconciliation.set_aside("panel") == 2


def test_duplicated_station_rows_are_refused():
    t0 = _truth(STATIONS, "e0", 0, set())
    dup = pd.concat([t0, t0.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match=r"same candidate more than once .* '01004_0001'"):
        fx.station_panel(
            [dup, _truth(STATIONS, "e1", 1, set())], dates={"e0": "2017-01-01", "e1": "2018-01-01"}
        )
    stations = t0.drop_duplicates("precinct_id")[
        ["precinct_id", "election_id", "registered", "voters"]
    ]
    twice = pd.concat([stations, stations.iloc[[2]]], ignore_index=True)
    with pytest.raises(DataError, match=r"station '01004_0003' appears on several rows"):
        fx.station_panel([twice], dates={"e0": "2017-01-01"})
    # one bureau with two different totals (two candidate rows disagree)
    bad = t0.copy()
    bad.loc[1, "registered"] = 999
    with pytest.raises(DataError, match=r"must agree across the candidate rows"):
        fx.station_panel([bad], dates={"e0": "2017-01-01"})


def test_commune_code_spellings_and_corsica_are_one_station():
    t0 = _truth(STATIONS, "e0", 0, set())
    t1 = _truth(STATIONS, "e1", 1, set())
    # a spreadsheet ate the zero (1004), Corsica in lower case, bureau without padding
    t1 = t1.assign(
        precinct_id=t1["precinct_id"]
        .str.replace("01004_000", "1004_", regex=False)
        .str.replace("2A004_000", "2a004_", regex=False)
    ).drop(columns=["commune_code", "bureau_code"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no station may look missing
        panel = fx.station_panel([t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"})
    assert sorted(panel.data["precinct_id"].unique()) == sorted(t0["precinct_id"].unique())
    assert panel.partial.empty
    # both spellings inside one table are the same station twice: refused
    both = pd.concat([t0, t0.assign(precinct_id=t0["precinct_id"].str.replace("01004", "1004"))])
    both = both.drop(columns=["commune_code", "bureau_code"])
    with pytest.raises(DataError, match=r"1001 and 01001"):
        fx.station_panel([both], dates={"e0": "2017-06-11"})


def test_a_commune_code_that_cannot_be_placed_is_refused():
    t0 = _truth(STATIONS, "e0", 0, set()).assign(department_code="")
    t0.loc[0:1, "commune_code"] = "4"  # one digit, no département
    with pytest.raises(DataError, match=r"not a polling station .* rows 0, 1"):
        fx.station_panel([t0], dates={"e0": "2017-06-11"})


def test_crosswalk_merges_conserve_and_splits_are_refused():
    t0 = _truth(STATIONS, "e0", 0, set())
    # in e1 the commune merged its bureaux 1 and 2 into bureau 1
    t1 = _truth([s for s in STATIONS if s[1:] != ("01004", 2)], "e1", 1, set())
    cw = pd.DataFrame({"precinct_id": ["1004_2"], "station": ["01004_0001"], "election": ["e0"]})
    panel = fx.station_panel(
        [t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"}, crosswalk=cw, shares="nuance"
    )
    assert panel.partial.empty
    d = panel.data.set_index(["precinct_id", "election"])
    e0 = t0.drop_duplicates("precinct_id").set_index("precinct_id")
    assert d.loc[("01004_0001", "e0"), "registered"] == 2000
    assert (
        d.loc[("01004_0001", "e0"), "voters"]
        == e0.loc[["01004_0001", "01004_0002"], "voters"].sum()
    )
    merged_votes = t0.loc[
        t0["precinct_id"].isin(["01004_0001", "01004_0002"]) & (t0["nuance"] == "RN"), "votes"
    ].sum()
    assert d.loc[("01004_0001", "e0"), "votes_RN"] == merged_votes
    panel.check()
    assert int(panel.data["registered"].sum()) == int(
        t0.drop_duplicates("precinct_id")["registered"].sum()
        + t1.drop_duplicates("precinct_id")["registered"].sum()
    )
    split = pd.DataFrame(
        {"precinct_id": ["01004_0001", "01004_0001"], "station": ["01004_0001", "01004_0009"]}
    )
    with pytest.raises(DataError, match=r"maps to 2 panel stations .* cannot be split"):
        fx.station_panel([t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"}, crosswalk=split)


def test_shares_never_by_panel_number_and_absent_keys():
    t0 = _truth(STATIONS, "e0", 0, set())
    t1 = _truth(STATIONS, "e1", 1, set()).replace({"nuance": {"DVG": "ECO"}})
    with pytest.raises(SpecificationError, match=r"panel number"):
        fx.station_panel(
            [t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"}, shares="candidate"
        )
    panel = fx.station_panel(
        [t0, t1], dates={"e0": "2017-06-11", "e1": "2022-06-12"}, shares="nuance"
    )
    d = panel.data
    assert d.loc[d["election"] == "e1", "share_DVG"].isna().all()  # no DVG candidate in e1
    assert d.loc[d["election"] == "e0", "share_ECO"].isna().all()
    assert d["share_RN"].notna().all()


def test_rollout_dates_give_cohorts_for_staggered_did():
    tables = [_truth(STATIONS, f"e{t}", t, set()) for t in range(3)]
    dates = {"e0": "2017-06-11", "e1": "2019-05-26", "e2": "2022-06-12"}
    rollout = pd.DataFrame(
        {
            "precinct_id": ["1004_1", "01004_0002", "2A004_0001", "2A004_0002"],
            "first_treated": ["2019-05-01", "e2", "", "2030-01-01"],
        }
    )
    panel = fx.station_panel(tables, dates=dates, rollout=rollout)
    cohort = panel.data.groupby("precinct_id")["cohort"].first().to_dict()
    assert cohort == {
        "01004_0001": 2,
        "01004_0002": 3,
        "01004_0003": 0,
        "2A004_0001": 0,
        "2A004_0002": 0,
    }
    assert any("after the last election" in n for n in panel.notes)
    cs = fx.staggered_did(panel.data, "turnout", "precinct_id", "period", "cohort")
    assert np.isfinite(cs.att_gt["estimate"]).all()
    with pytest.raises(DataError, match=r"neither an election of the panel"):
        fx.station_panel(tables, dates=dates, rollout=rollout.assign(first_treated="e7x"))


def test_assignment_outside_the_results_and_unassigned_stations():
    tables = [_truth(STATIONS, f"e{t}", t, set()) for t in range(2)]
    dates = {"e0": "2017-06-11", "e1": "2022-06-12"}
    a = pd.DataFrame(
        {"precinct_id": ["01004_0001", "01004_0002", "75056_0001"], "assigned": [1, 0, 1]}
    )
    with pytest.warns(RowsDroppedWarning) as rec:
        panel = fx.station_panel(tables, dates=dates, assignment=a)
    text = " ".join(str(w.message) for w in rec)
    assert "1 assigned stations are in no results file (e.g. 75056_0001)" in text
    assert "3 stations of the results are not in the assignment" in text
    assert sorted(panel.data["precinct_id"].unique()) == ["01004_0001", "01004_0002"]
    assert panel.reconciliation.set_aside("assignment") == 1
    tot = panel.totals
    assert (tot["registered_read"] == tot["registered_panel"] + tot["registered_set_aside"]).all()
    with pytest.warns(RowsDroppedWarning):
        keep = fx.station_panel(tables, dates=dates, assignment=a, unassigned="comparison")
    assert keep.data["precinct_id"].nunique() == 5
    assert int(keep.data["treated"].sum()) == 1


def test_dates_and_labels_are_checked():
    tables = [_truth(STATIONS, f"e{t}", t, set()) for t in range(2)]
    with pytest.raises(DataError, match=r"cannot tell when election 'e0' was held"):
        fx.station_panel(tables)
    with pytest.raises(DataError, match=r"share the date"):
        fx.station_panel(tables, dates={"e0": "2017-06-11", "e1": "2017-06-11"})
    with pytest.raises(DataError, match=r"'e0' is in both"):
        fx.station_panel([tables[0], tables[0]], dates={"e0": "2017-06-11"})
    dated = [
        t.assign(election_id=f"leg_{y}_06_1{i}")
        for i, (t, y) in enumerate(zip(tables, (2017, 2022), strict=True))
    ]
    panel = fx.station_panel(dated)
    assert panel.labels == ("leg_2017_06_10", "leg_2022_06_11")


def test_every_layout_2012_to_2024_in_one_panel(tmp_path):
    """Headerless 2012 (both rounds in one file), wide 2017-2022, numbered 2024: one panel.

    The sample tables hold the same stations (Ain, Corse-du-Sud, Guadeloupe written ZA/971).
    """
    from fieldexp.io.fr_writers import fr_sample_results

    layouts = ("leg2012", "leg2017", "euro2019", "pres2022", "leg2024", "euro2024")
    paths, truths = [], []
    for i, lay in enumerate(layouts):
        truth = fr_sample_results(10 + i, lay)
        truths.append(truth)
        paths.append(write_fr_results(truth, tmp_path / f"{lay}.txt", layout=lay))
    dates = {
        "leg2012_t1": "2012-06-10",
        "leg2012_t2": "2012-06-17",
        "leg2017": "2017-06-11",
        "euro2019": "2019-05-26",
        "pres2022": "2022-04-10",
        "leg2024": "2024-06-30",
        "euro2024": "2024-06-09",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the readers' own notes
        panel = fx.station_panel(paths, dates=dates, shares="candidate_label")
        with pytest.raises(
            DataError, match=r"euro2019.txt: column .nuance. \(shares\) is missing on rows 2, 3"
        ):
            fx.station_panel(paths, dates=dates, shares="nuance")
    assert panel.labels == (
        "leg2012_t1",
        "leg2012_t2",
        "leg2017",
        "euro2019",
        "pres2022",
        "euro2024",
        "leg2024",
    )
    assert panel.partial.empty
    assert sorted(panel.data["precinct_id"].unique()) == sorted(truths[1]["precinct_id"].unique())
    truth = pd.concat(truths).drop_duplicates(["precinct_id", "election_id"])
    got = (
        panel.data.assign(e=panel.data["election"].astype(str))
        .groupby("e")[["registered", "voters"]]
        .sum()
    )
    want = truth.groupby("election_id")[["registered", "voters"]].sum().astype("int64")
    pd.testing.assert_frame_equal(
        got.rename_axis("e").sort_index(), want.rename_axis("e").sort_index(), check_dtype=False
    )
    shares = [c for c in panel.data.columns if c.startswith("share_")]
    sums = panel.data[shares].sum(axis=1, min_count=1)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)


def test_a_results_file_with_a_repeated_bureau_line_is_refused(files, tmp_path):
    from fieldexp.errors import FileFormatError

    lines = files["leg2022"].read_text("cp1252").splitlines(keepends=True)
    doubled = tmp_path / "leg2022_doubled.csv"
    doubled.write_text("".join([*lines, lines[1]]), encoding="cp1252")
    with pytest.raises(FileFormatError, match=r"leg2022_doubled.csv.*more than once.*line"):
        fx.station_panel(
            [files["leg2017"], doubled],
            dates={"leg2017": "2017-06-11", "leg2022_doubled": "2022-06-12"},
        )
