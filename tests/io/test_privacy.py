"""Privacy: PII dropped at import; salted pseudonyms that still join."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import ColumnNotFoundError, SpecificationError
from fieldexp.io import pseudonymise
from fieldexp.io.privacy import drop_pii


def test_pseudonymise_is_keyed_stable_and_joins():
    a = pd.DataFrame({"voter_id": ["1", "2", None], "x": [1, 2, 3]})
    b = pd.DataFrame({"voter_id": ["2", "1"]})
    pa = pseudonymise(a, ["voter_id"], salt="secret-salt-16-chars")
    pb = pseudonymise(b, "voter_id", salt="secret-salt-16-chars")
    assert a["voter_id"].tolist()[:2] == ["1", "2"]  # input untouched
    assert pa["voter_id"].iloc[0] == pb["voter_id"].iloc[1]
    assert pd.isna(pa["voter_id"].iloc[2])
    assert pa["voter_id"].iloc[0] != "1" and len(pa["voter_id"].iloc[0]) == 16
    other = pseudonymise(a, ["voter_id"], salt="another-salt-16-chars")
    assert other["voter_id"].iloc[0] != pa["voter_id"].iloc[0]


def test_pseudonymise_errors():
    df = pd.DataFrame({"voter_id": ["1"]})
    with pytest.raises(SpecificationError, match="at least 16 characters"):
        pseudonymise(df, ["voter_id"], salt="fifteen-chars!!")
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'voter_id'"):
        pseudonymise(df, ["voterid"], salt="long enough salt")


def test_drop_pii():
    df = pd.DataFrame(
        {
            "voter_id": [1],
            "first_name": ["A"],
            "birth_date": ["x"],
            "address": ["y"],
            "party": ["D"],
        }
    )
    assert list(drop_pii(df).columns) == ["voter_id", "party"]
