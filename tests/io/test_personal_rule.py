"""One personal-data rule: what the spec refuses, the importers drop."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.io import read_voters
from fieldexp.io.personal import looks_personal, personal_kind
from fieldexp.spec.guards import personal_kind as spec_personal_kind

FRENCH_AND_US = [
    "adresse",
    "courriel",
    "lieu-dit",
    "nationalité",
    "pays_naissance",
    "Commune de naissance",
    "PO Box",
    "drivers_lic",
    "cell",
    "Mail_Addr1",
    "FirstName",
]


def test_spec_and_importers_share_the_rule() -> None:
    assert spec_personal_kind is personal_kind


@pytest.mark.parametrize("column", FRENCH_AND_US)
def test_importer_drops_what_the_spec_refuses(tmp_path, column: str) -> None:
    p = tmp_path / "v.csv"
    pd.DataFrame({"voter_id": ["1", "2"], column: ["x", "y"], "has_phone": [1, 0]}).to_csv(
        p, index=False
    )
    v = read_voters(p)
    assert personal_kind(column) is not None
    assert column not in v.columns
    assert not v.astype(str).isin(["x", "y"]).any().any()
    # a 0/1 indicator derived from personal data is a covariate, not personal data
    assert not looks_personal("has_phone") and "has_phone" in v.columns
