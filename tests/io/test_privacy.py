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


def test_keyed_hash_is_pseudonymise(tmp_path):
    from fieldexp.io.privacy import keyed_hash

    s = pd.Series(["123456789AB", None])
    salt = "sixteen-chars-ok"
    assert keyed_hash(s, salt).iloc[0] == pseudonymise(s.to_frame("v"), "v", salt)["v"].iloc[0]
    assert keyed_hash(s, salt).isna().iloc[1]


def test_project_salt(tmp_path):
    import stat

    from fieldexp.errors import FieldexpWarning
    from fieldexp.io.privacy import project_salt

    with pytest.raises(SpecificationError, match="a secret salt is required"):
        project_salt(who="t")
    with pytest.raises(SpecificationError, match="not both"):
        project_salt(id_salt="x" * 16, salt_file=tmp_path / "s", who="t")
    with pytest.raises(SpecificationError, match="at least 16 characters"):
        project_salt(id_salt="x" * 15, who="t")
    with pytest.raises(SpecificationError, match="is a folder"):
        project_salt(salt_file=tmp_path, who="t")
    f = tmp_path / "keys" / "salt"
    with pytest.warns(FieldexpWarning, match="created a new secret salt"):
        first = project_salt(salt_file=f, who="t")
    assert stat.S_IMODE(f.stat().st_mode) == 0o600 and len(first) >= 16
    assert project_salt(salt_file=f, who="t") == first  # reused, no new warning
    f.write_text("short\n")
    with pytest.raises(SpecificationError, match="at least 16"):
        project_salt(salt_file=f, who="t")
