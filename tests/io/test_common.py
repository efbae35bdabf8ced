"""Reader helpers: code lookups, hashed ids, integer parsing, election ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError
from fieldexp.io._common import as_int, election_id, lookup_codes, stable_hash


def test_lookup_codes_case_and_blank():
    table = pd.DataFrame({"code": ["Y", ""], "voted": ["1", "0"]})
    out = lookup_codes(
        pd.Series(["y", None, "Y"], index=[2, 3, 4]),
        table,
        what="x",
        table_name="t",
        path=Path("f"),
    )
    assert out["voted"].tolist() == ["1", "0", "1"] and list(out.index) == [2, 3, 4]
    with pytest.raises(FileFormatError, match=r"unknown x code\(s\): 'Q' \(1\), in row 5"):
        lookup_codes(pd.Series(["Q"], index=[5]), table, what="x", table_name="t", path=Path("f"))


def test_stable_hash_normalises_text():
    df = pd.DataFrame({"a": ["1 Main St", "1  MAIN st.", "2 Elm"], "b": ["06511"] * 3})
    h = stable_hash(df, prefix="hh_", length=8)
    assert h.iloc[0] == h.iloc[1] != h.iloc[2] and h.str.len().eq(11).all()


def test_as_int_french_thousands():
    s = pd.Series(["1 234", "1\u00a0000", None])
    assert as_int(s, column="c", table="t", path=Path("f")).tolist()[:2] == [1234, 1000]
    with pytest.raises(FileFormatError, match="whole numbers"):
        as_int(pd.Series(["1,5"]), column="c", table="t", path=Path("f"))


def test_election_id():
    out = election_id(pd.Series(["general"]), pd.Series(pd.to_datetime(["2016-11-08"])))
    assert out.tolist() == ["general_2016_11_08"]
