"""Run the hostile / drifted input corpus described in manifest.toml (files from make_hostile)."""

from __future__ import annotations

import importlib.util
import re
import stat
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tomllib

import fieldexp.errors as fx_errors
import fieldexp.io as fx_io
from fieldexp.errors import FieldexpWarning

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("fieldexp_hostile_fr", HERE / "make_hostile.py")
assert _spec is not None and _spec.loader is not None
make_hostile = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = make_hostile  # dataclasses look their module up
_spec.loader.exec_module(make_hostile)

MANIFEST: list[dict[str, Any]] = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))["case"]
TRUTH_COLS = [
    "precinct_id",
    "election_id",
    "candidate",
    "votes",
    "registered",
    "voters",
    "abstentions",
    "blank",
    "null",
    "expressed",
    "candidate_label",
]
PERSONAL_VALUES = [p[0] for p in make_hostile.PEOPLE] + ["06 12 34 56", "@example.org", "Granges"]


def _resolve(value: Any, folder: Path) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return str(folder / value[1:])
    if isinstance(value, dict):
        return {k: _resolve(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, folder) for v in value]
    return value


def test_manifest_and_generator_agree():
    names = [c["name"] for c in MANIFEST]
    assert len(names) == len(set(names))
    assert set(names) == set(make_hostile.CASES)
    french = [n for n in names if n.startswith(("fr_", "reu_"))]
    assert len(french) >= 20
    for c in MANIFEST:
        assert c["expect"] == "ok" or issubclass(getattr(fx_errors, c["expect"]), Exception)
        assert c["expect"] == "ok" or c.get("match"), f"{c['name']}: an error case needs match"


@pytest.mark.parametrize("entry", MANIFEST, ids=[c["name"] for c in MANIFEST])
def test_hostile_case(entry, tmp_path):
    truth = make_hostile.CASES[entry["name"]](tmp_path)
    files = sorted(tmp_path.glob(entry["name"] + ".*"))
    assert len(files) == 1, files
    reader = getattr(fx_io, entry["reader"])
    kwargs = _resolve(entry.get("kwargs", {}), tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if entry["expect"] == "ok":
            out = reader(files[0], **kwargs)
        else:
            err = getattr(fx_errors, entry["expect"])
            with pytest.raises(err, match=entry["match"]) as info:
                reader(files[0], **kwargs)
            assert type(info.value).__name__ == entry["expect"]
            # messages name lines and codes, never people
            assert not any(v in str(info.value) for v in PERSONAL_VALUES)
            out = None
    ours = [w for w in caught if issubclass(w.category, FieldexpWarning)]
    if entry.get("warns"):
        assert any(re.search(entry["warns"], str(w.message)) for w in ours), [
            str(w.message) for w in ours
        ]
    elif out is not None:
        assert not ours, [str(w.message) for w in ours]
    if out is None:
        return
    if "rows" in entry:
        assert len(out) == entry["rows"]
    if "set_aside" in entry:
        assert out.attrs["fieldexp_import"]["set_aside"] == entry["set_aside"]
    if "votes" in entry:
        assert int(out["votes"].sum()) == entry["votes"]
    if truth.results is not None:
        keys = ["election_id", "precinct_id", "candidate"]
        a = truth.results[TRUTH_COLS].sort_values(keys).reset_index(drop=True).astype(str)
        b = out[TRUTH_COLS].sort_values(keys).reset_index(drop=True).astype(str)
        assert a.equals(b)
        assert int(out["votes"].sum()) == int(truth.results["votes"].sum())
    if entry["reader"] == "read_voters":
        _check_voters(out, truth, kwargs, tmp_path)


def _check_voters(out: pd.DataFrame, truth: Any, kwargs: dict[str, Any], folder: Path) -> None:
    if truth.precinct_ids is not None:
        assert out["precinct_id"].tolist() == truth.precinct_ids
    if truth.voter_ids is not None:
        assert out["voter_id"].tolist() == truth.voter_ids
    assert not set(truth.absent) & set(out.columns)
    assert set(truth.present) <= set(out.columns)
    cells = [str(x) for x in out.to_numpy().ravel()]
    leaked = [v for v in PERSONAL_VALUES if any(v in c for c in cells)]
    assert not leaked
    ines = [f"{123456780 + i:09d}AB" for i in range(len(make_hostile.PEOPLE))]
    assert not set(ines) & set(cells)
    salt_file = kwargs.get("mapping", {}).get("options", {}).get("salt_file")
    if salt_file:
        sf = Path(salt_file)
        assert sf.exists() and stat.S_IMODE(sf.stat().st_mode) == 0o600
        salt = sf.read_text().strip()
        assert len(salt) >= 16 and not any(salt in c for c in cells)
        again = fx_io.read_voters(folder / "reu_salt_file_created.csv", **kwargs)
        assert again["voter_id"].tolist() == out["voter_id"].tolist()  # reused, stable ids
