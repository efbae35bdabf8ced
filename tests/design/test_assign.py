"""Design.assign: exact counts, whole clusters, exact marginal probabilities, reproducibility."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldexp.design import Design, Exclusion, ids_sha256
from fieldexp.errors import ColumnNotFoundError, DataError, DesignError, SpecificationError


def voters(n_precincts=4, per=25, seed=0, hh_max=3):
    rng = np.random.default_rng(seed)
    rows = []
    hh = 0
    vid = 1000
    for p in range(n_precincts):
        left = per
        while left > 0:
            size = min(left, int(rng.integers(1, hh_max + 1)))
            for _ in range(size):
                rows.append((vid, hh, f"P{p:02d}"))
                vid += 1
            hh += 1
            left -= size
    return pd.DataFrame(rows, columns=["voter_id", "household_id", "precinct_id"])


def test_marginal_probabilities_by_many_seeded_draws():
    df = voters(n_precincts=3, per=13, seed=1)
    d = Design(
        "voter_id",
        blocks="precinct_id",
        clusters="household_id",
        arms={"c": 0.5, "a": 0.3, "b": 0.2},
    )
    reps = 800
    hits = {a: np.zeros(len(df)) for a in d.arm_labels}
    for s in range(reps):
        out = d.assign(df, seed=s)
        for a in d.arm_labels:
            hits[a] += (out["arm"] == a).to_numpy()
    for a, p in d.arms.items():
        freq = hits[a] / reps
        se = math.sqrt(p * (1 - p) / reps)
        assert np.all(np.abs(freq - p) < 4.5 * se), (a, freq)


def test_exact_counts_per_block_and_whole_clusters():
    df = voters(n_precincts=5, per=31, seed=2)
    d = Design("voter_id", blocks="precinct_id", clusters="household_id", arms={0: 0.6, 1: 0.4})
    out = d.assign(df, seed=11)
    assert len(out) == len(df)
    assert out["voter_id"].is_unique
    assert out.groupby("household_id")["arm"].agg(lambda s: len(set(s)) == 1).all()
    hh = out.drop_duplicates("household_id")
    for _, g in hh.groupby("precinct_id"):
        n = len(g)
        m1 = int((g["arm"] == 1).sum())
        assert m1 in (math.floor(0.4 * n), math.ceil(0.4 * n))
    assert set(out["probability"]) == {0.6, 0.4}
    assert ((out["arm"] == 1) == (out["probability"] == 0.4)).all()


def test_counts_design():
    df = voters(n_precincts=2, per=20, seed=3)
    n_hh = df.groupby("precinct_id")["household_id"].nunique()
    d = Design(
        "voter_id",
        blocks="precinct_id",
        clusters="household_id",
        counts={"P00": {1: 4}, "P01": {1: 6}},
    )
    out = d.assign(df, seed=1)
    hh = out.drop_duplicates("household_id")
    assert hh.groupby("precinct_id")["arm"].sum().to_dict() == {"P00": 4, "P01": 6}
    p = hh.groupby("precinct_id")["probability"].first()
    assert p["P00"] == pytest.approx(1 - 4 / n_hh["P00"]) or p["P00"] == pytest.approx(
        4 / n_hh["P00"]
    )


def test_row_order_invariance_and_seed_sensitivity():
    df = voters(n_precincts=4, per=30, seed=4)
    d = Design("voter_id", blocks="precinct_id", clusters="household_id")
    a = d.assign(df, seed=123)
    shuffled = df.sample(frac=1.0, random_state=9).reset_index(drop=True)
    b = d.assign(shuffled, seed=123)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs
    c = d.assign(df, seed=124)
    assert not a["arm"].equals(c["arm"])


def test_block_assignment_does_not_depend_on_other_blocks():
    df = voters(n_precincts=4, per=30, seed=5)
    d = Design("voter_id", blocks="precinct_id")
    full = d.assign(df, seed=7).set_index("voter_id")
    part = d.assign(df[df["precinct_id"] != "P00"], seed=7).set_index("voter_id")
    assert full.loc[part.index, "arm"].equals(part["arm"])


def test_known_values_are_stable():
    # pins the algorithm: the same seed gives the same assignment on any machine/version
    df = pd.DataFrame({"v": range(10)})
    out = Design("v").assign(df, seed=2024)
    assert out["arm"].tolist() == [0, 0, 1, 0, 0, 1, 1, 1, 0, 1]


def test_attrs_provenance():
    df = voters()
    d = Design("voter_id", blocks="precinct_id")
    out = d.assign(df, seed=5)
    assert Design.from_json(out.attrs["fieldexp_design"]) == d
    assert out.attrs["fieldexp_seed"] == 5
    assert out.attrs["fieldexp_ids_sha256"] == ids_sha256(df["voter_id"])
    assert ids_sha256(df["voter_id"]) == ids_sha256(df["voter_id"].iloc[::-1])


def test_exclusions_are_reported():
    df = voters(n_precincts=2, per=20, seed=6, hh_max=4)
    sizes = df.groupby("household_id")["voter_id"].transform("size")
    df = df.assign(moved=False)
    df.loc[df.index[0], "moved"] = True
    d = Design(
        "voter_id",
        blocks="precinct_id",
        clusters="household_id",
        exclude=[
            Exclusion.max_household_size(3),
            Exclusion.do_not_contact([1005]),
            Exclusion.flag("moved"),
        ],
    )
    before = df.copy()
    out = d.assign(df, seed=3).set_index("voter_id")
    pd.testing.assert_frame_equal(df, before)  # caller's data untouched
    big = df.loc[sizes > 3, "voter_id"]
    assert (out.loc[big, "excluded_reason"] == "household larger than 3").all()
    assert out.loc[1005, "excluded_reason"] == "do-not-contact list"
    assert out.loc[df.loc[df.index[0], "voter_id"], "excluded_reason"] == "flag moved"
    excluded = out["excluded_reason"].notna()
    assert out.loc[excluded, "arm"].isna().all()
    assert out.loc[excluded, "probability"].isna().all()
    assert out.loc[~excluded, "arm"].notna().all()
    # whole households go out together
    hh_out = out.groupby("household_id")["excluded_reason"].apply(lambda s: s.notna().nunique())
    assert (hh_out == 1).all()


# ---------------------------------------------------------------- bad input
def test_bad_inputs():
    df = voters(n_precincts=2, per=10)
    with pytest.raises(
        ColumnNotFoundError,
        match=r"blocks: column 'precinct' is not in the data\. Did you mean 'precinct_id'",
    ):
        Design("voter_id", blocks="precinct").assign(df, seed=1)
    dup = pd.concat([df, df.iloc[[3]]])
    with pytest.raises(
        DataError,
        match=r"unit: column 'voter_id' must identify one row per unit; 2 rows share an id: "
        r"rows 3, 3",
    ):
        Design("voter_id").assign(dup, seed=1)
    miss = df.astype({"voter_id": "float64"})
    miss.loc[4, "voter_id"] = np.nan
    with pytest.raises(
        DataError, match=r"unit: column 'voter_id' has 1 missing ids; every unit needs one: row 4"
    ):
        Design("voter_id").assign(miss, seed=1)
    span = df.copy()
    span.loc[0, "household_id"] = span["household_id"].max()
    with pytest.raises(
        DesignError,
        match=r"clusters: clusters must be nested in blocks; 1 clusters of 'household_id' span",
    ):
        Design("voter_id", blocks="precinct_id", clusters="household_id").assign(span, seed=1)
    with pytest.raises(
        DesignError, match=r"counts: block 'P00' has \d+ eligible units \(clusters\), too few"
    ):
        Design("voter_id", blocks="precinct_id", counts={1: 50}).assign(df, seed=1)
    with pytest.raises(DesignError, match="no counts are given for block 'P01'"):
        Design("voter_id", blocks="precinct_id", counts={"P00": {1: 2}}).assign(df, seed=1)
    with pytest.raises(SpecificationError, match="seed: expected a non-negative integer"):
        Design("voter_id").assign(df, seed=-1)
    with pytest.raises(SpecificationError, match="max_household_size needs a household column"):
        Design("voter_id", exclude={"max_household_size": 2}).assign(df, seed=1)


# ---------------------------------------------------------------- properties
@st.composite
def designs_and_data(draw):
    n_blocks = draw(st.integers(1, 4))
    sizes = [draw(st.integers(2, 25)) for _ in range(n_blocks)]
    k = draw(st.integers(2, 4))
    weights = [draw(st.integers(1, 9)) for _ in range(k)]
    total = sum(weights)
    arms = {a: Fraction(w, total) for a, w in enumerate(weights)}
    clustered = draw(st.booleans())
    rows = []
    vid = 0
    for b, n in enumerate(sizes):
        for i in range(n):
            rows.append((vid * 7 + 3, b, (b * 1000 + i // 2) if clustered else vid))
            vid += 1
    df = pd.DataFrame(rows, columns=["v", "b", "h"])
    design = Design(
        "v",
        blocks="b",
        clusters="h" if clustered else None,
        arms={a: float(p) for a, p in arms.items()},
    )
    return design, df, arms, draw(st.integers(0, 2**32)), draw(st.randoms())


@settings(max_examples=60, deadline=None)
@given(designs_and_data())
def test_assignment_properties(case):
    design, df, arms, seed, rnd = case
    out = design.assign(df, seed=seed)
    assert len(out) == len(df) and out["arm"].notna().all()
    key = design.clusters or design.unit
    assert out.groupby(key)["arm"].agg(lambda s: len(set(s)) == 1).all()
    units = out.drop_duplicates(key)
    for _, g in units.groupby("b"):
        n = len(g)
        for a, p in arms.items():
            m = int((g["arm"] == a).sum())
            assert math.floor(n * p) <= m <= math.ceil(n * p)
    for a, p in arms.items():
        assert np.allclose(out.loc[out["arm"] == a, "probability"], float(p))
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    again = design.assign(df.iloc[perm], seed=seed)
    pd.testing.assert_frame_equal(out, again)


def test_counts_in_some_blocks_probabilities_in_the_others():
    df = pd.DataFrame({"v": range(30), "b": ["small"] * 6 + ["big"] * 24})
    d = Design("v", blocks="b", arms={0: 0.5, 1: 0.5}, counts={"small": {1: 1}})
    out = d.assign(df, seed=4)
    assert int((out.loc[out["b"] == "small", "arm"] == 1).sum()) == 1
    assert int((out.loc[out["b"] == "big", "arm"] == 1).sum()) == 12
    assert set(out.loc[out["b"] == "small", "probability"].round(6)) == {
        round(1 / 6, 6),
        round(5 / 6, 6),
    }
    assert set(out.loc[out["b"] == "big", "probability"]) == {0.5}
