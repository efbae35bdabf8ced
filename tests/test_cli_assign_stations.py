"""`fieldexp assign` on polling stations (issue 14 item 3): restriction, exclusions, blocks,
past-turnout balance, REU walk lists; every station accounted for, row-order independent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldexp import cli
from fieldexp.io.fr_writers import fr_sample_results, write_fr_results

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "fixtures" / "io" / "fr_results_2022.csv"
REU = REPO / "fixtures" / "io" / "reu_extract.csv"
SALT = "a-test-salt-of-16+chars"
TAIL = '[analysis]\nelection = "x"\n[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n'


def _spec(tmp_path: Path, body: str, results: Path = RESULTS, name: str = "s.toml") -> Path:
    spec = tmp_path / name
    spec.write_text(
        f'[data.precinct_results]\npath = "{results}"\n' + body + TAIL, encoding="utf-8"
    )
    return spec


def _run(spec: Path, out: Path, *extra: str) -> int:
    return cli.main(["assign", str(spec), "--out", str(out), "--no-progress", *extra])


def test_exclusion_of_a_station_no_longer_crashes(tmp_path, capsys) -> None:
    """Was `TypeError: boolean value of NA is ambiguous` (the excluded station's arm is <NA>)."""
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nblocks = "commune_code"\nseed = 3\n'
        'exclude = { do_not_contact = ["2A004_0001"] }\n',
    )
    assert _run(spec, tmp_path / "o") == 0
    text = capsys.readouterr().out
    assert "assigned 8 units (seed 3); excluded 1" in text
    a = pd.read_csv(tmp_path / "o" / "assignment.csv", dtype={"commune_code": str})
    assert len(a) == 9  # every station of the results file
    row = a.set_index("precinct_id").loc["2A004_0001"]
    assert row["excluded_reason"] == "do-not-contact list" and pd.isna(row["arm"])
    # blocked: each commune of 3 stations, 2 eligible in 2A004
    per = a.dropna(subset=["arm"]).groupby("commune_code")["arm"].agg(["size", "sum"])
    assert per["size"].to_dict() == {"2A004": 2, "69123": 3, "75056": 3}
    assert (tmp_path / "o" / "assignment.csv").stat().st_mode & 0o777 == 0o600


def test_restrict_to_communes_accounts_for_every_station(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nblocks = "commune_code"\nseed = 5\n'
        '[assign]\ncommunes = ["69123", "75056"]\n',
    )
    assert _run(spec, tmp_path / "o") == 0
    text = capsys.readouterr().out
    assert "assigned 6 units (seed 5); excluded 0; restricted out 3" in text
    a = pd.read_csv(tmp_path / "o" / "assignment.csv", dtype={"commune_code": str})
    assert len(a) == 9
    out = a[a["commune_code"] == "2A004"]
    assert out["arm"].isna().all()
    assert set(out["excluded_reason"]) == {"restricted out: commune not in [assign] communes"}
    kept = a[a["commune_code"] != "2A004"]
    assert kept["arm"].notna().all() and kept["excluded_reason"].isna().all()


def test_unknown_commune_is_refused(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 5\n[assign]\ncommunes = ["69124"]\n',
    )
    assert _run(spec, tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "communes: ['69124'] have no station in the results file" in err
    assert "69123" in err  # did you mean
    assert not (tmp_path / "o").exists()


def test_unquoted_commune_is_refused(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path, '[design]\nunit = "precinct_id"\nseed = 5\n[assign]\ncommunes = [1004]\n'
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "[assign] communes: expected an array of non-empty strings" in capsys.readouterr().err


def test_assign_section_needs_a_station_design(tmp_path, capsys) -> None:
    spec = tmp_path / "v.toml"
    spec.write_text(
        f'[data.voters]\npath = "{REPO}/fixtures/io/voters.csv"\n'
        '[design]\nunit = "voter_id"\nseed = 1\n[assign]\ncommunes = ["75056"]\n'
        '[analysis]\nelection = "x"\n[outcomes.turnout]\ncolumn = "voted"\n',
        encoding="utf-8",
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "[assign]" in capsys.readouterr().err


@pytest.fixture()
def legislative(tmp_path) -> tuple[Path, pd.DataFrame]:
    truth = fr_sample_results(3, "leg2017")
    # three circonscriptions over the sample's communes
    return write_fr_results(truth, tmp_path / "leg2017.txt", layout="leg2017"), truth


def test_circonscriptions_restrict_and_block(tmp_path, legislative, capsys) -> None:
    path, _truth = legislative
    from fieldexp.io import read_precinct_results

    read = read_precinct_results(path)
    assert "constituency_code" in read.columns  # the legislative layout carries it
    circ = sorted(
        {
            f"{d}-{int(c):02d}"
            for d, c in zip(read["department_code"], read["constituency_code"], strict=True)
        }
    )
    keep = circ[:2]
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nblocks = "circonscription"\nseed = 11\n'
        f"[assign]\ncirconscriptions = {keep!r}\n".replace("'", '"'),
        results=path,
    )
    assert _run(spec, tmp_path / "o") == 0
    a = pd.read_csv(tmp_path / "o" / "assignment.csv")
    stations = read.drop_duplicates("precinct_id")
    assert len(a) == len(stations)
    assert set(a.loc[a["arm"].notna(), "circonscription"]) == set(keep)
    out = a[~a["circonscription"].isin(keep)]
    assert out["arm"].isna().all()
    assert out["excluded_reason"].str.startswith("restricted out: circonscription").all()
    # blocked by circonscription: half of each (2 stations each) treated
    per = a.dropna(subset=["arm"]).groupby("circonscription")["arm"].agg(["size", "sum"])
    assert (per["sum"] == per["size"] / 2).all()


def test_circonscriptions_need_a_legislative_file(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 5\n[assign]\ncirconscriptions = ["75-01"]\n',
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "no circonscription column" in capsys.readouterr().err


def test_balance_on_past_turnout_from_results_files(tmp_path, capsys) -> None:
    past = fr_sample_results(8, "pres2017")
    path_past = write_fr_results(past, tmp_path / "pres2017.txt", layout="pres2017")
    now = fr_sample_results(9, "euro2024")
    # a bureau renumbered since: in the current file only
    path_now = write_fr_results(now, tmp_path / "euro2024.txt", layout="euro2024")
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 2\n'
        f'[assign]\npast_results = ["{path_past.name}"]\n',
        results=path_now,
    )
    assert _run(spec, tmp_path / "o") == 0
    bal = pd.read_csv(tmp_path / "o" / "balance.csv")
    assert set(bal["covariate"]) == {"registered", "turnout_euro2024", "turnout_pres2017"}
    # the balance means are those of the stations' past turnout, by hand
    a = pd.read_csv(tmp_path / "o" / "assignment.csv")
    st = past.drop_duplicates("precinct_id").set_index("precinct_id")
    t = (st["voters"] / st["registered"]).astype(float)
    for arm in (0, 1):
        ids = a.loc[a["arm"] == arm, "precinct_id"]
        got = bal.set_index("covariate").loc["turnout_pres2017", f"mean_{arm}"]
        assert got == pytest.approx(t.loc[ids].mean(), rel=1e-12)


def test_renumbered_stations_are_counted_in_a_warning(tmp_path, capsys) -> None:
    past = fr_sample_results(8, "pres2017")
    past = past[past["precinct_id"] != past["precinct_id"].iloc[0]]
    path_past = write_fr_results(past, tmp_path / "pres2017.txt", layout="pres2017")
    now = fr_sample_results(9, "euro2024")
    path_now = write_fr_results(now, tmp_path / "euro2024.txt", layout="euro2024")
    spec = _spec(
        tmp_path,
        f'[design]\nunit = "precinct_id"\nseed = 2\n[assign]\npast_results = ["{path_past}"]\n',
        results=path_now,
    )
    assert _run(spec, tmp_path / "o") == 0
    err = capsys.readouterr().err
    assert "1 of 6 stations have no result in election 'pres2017'" in err


def test_station_assignment_does_not_depend_on_row_order(tmp_path) -> None:
    lines = RESULTS.read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(0)
    body = lines[1:]
    (tmp_path / "sh").mkdir()
    shuffled = tmp_path / "sh" / RESULTS.name  # the election id comes from the file name
    shuffled.write_text(
        "\n".join([lines[0], *[body[i] for i in rng.permutation(len(body))]]) + "\n",
        encoding="utf-8",
    )
    design = (
        '[design]\nunit = "precinct_id"\nblocks = "commune_code"\nseed = 4\n'
        'exclude = { do_not_contact = ["75056_0002"] }\n[assign]\ncommunes = ["2A004", "75056"]\n'
    )
    a = _spec(tmp_path, design, name="a.toml")
    b = _spec(tmp_path, design, results=shuffled, name="b.toml")
    assert _run(a, tmp_path / "a") == 0 and _run(b, tmp_path / "b") == 0
    for name in ("assignment.csv", "balance.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _reu_spec(tmp_path: Path, extra: str = "") -> Path:
    body = (
        f'[data.voters]\npath = "{REU}"\nformat = "reu"\n'
        f'mapping = {{ options = {{ id_salt = "{SALT}" }} }}\n'
        '[design]\nunit = "precinct_id"\nseed = 3\nturf_size = 10\n' + extra
    )
    return _spec(tmp_path, body)


def test_walk_list_of_reu_households_in_treatment_stations(tmp_path, capsys) -> None:
    from fieldexp.io import read_voters

    spec = _reu_spec(tmp_path)
    assert _run(spec, tmp_path / "o") == 0
    text = capsys.readouterr().out
    a = pd.read_csv(tmp_path / "o" / "assignment.csv")
    walk = pd.read_csv(tmp_path / "o" / "walk_list.csv")
    assert (tmp_path / "o" / "walk_list.csv").stat().st_mode & 0o777 == 0o600
    treated = set(a.loc[a["arm"] == 1, "precinct_id"])
    assert set(walk["precinct_id"]) <= treated
    voters = read_voters(REU, format="reu", mapping={"options": {"id_salt": SALT}})
    on = voters[voters["precinct_id"].isin(treated)]
    # one row per household, every voter of the treatment stations counted once
    assert len(walk) == on.groupby(["precinct_id", "household_id"]).ngroups
    assert walk["registered_voters"].sum() == len(on)
    assert walk["turf"].str.rsplit("-", n=1).str[0].isin(treated).all()
    assert walk.groupby("turf")["stop"].max().max() <= 10
    # no name, no voter id, no address unless asked
    assert list(walk.columns) == [
        "turf",
        "stop",
        "precinct_id",
        "household_id",
        "registered_voters",
        "arm",
    ]
    body = (tmp_path / "o" / "walk_list.csv").read_text(encoding="utf-8")
    assert "SMITH" not in body and "Main St" not in body
    n_control = len(voters) - len(on)
    assert f"({len(on):,} voters) in treatment stations" in text
    assert f"not listed: {n_control:,} voters of control stations" in text


def test_walk_list_with_addresses_for_canvassers(tmp_path, capsys) -> None:
    spec = _reu_spec(tmp_path, "[assign]\nwalk_list_addresses = true\n")
    assert _run(spec, tmp_path / "o") == 0
    text = capsys.readouterr().out
    walk = pd.read_csv(tmp_path / "o" / "walk_list.csv", dtype=str)
    # the REU reader keeps number and street (postcode and town are the station's commune)
    assert {"house_number", "street"} <= set(walk.columns)
    assert "Main St" in set(walk["street"])
    body = (tmp_path / "o" / "walk_list.csv").read_text(encoding="utf-8")
    raw = pd.read_csv(REU, sep=";", dtype=str)
    for col in (
        "Nom de naissance",
        "Prénoms",
        "Date de naissance",
        "Identifiant national électeur",
    ):
        assert not any(v in body for v in raw[col].dropna().unique() if len(v) > 3), col
    assert (tmp_path / "o" / "walk_list.csv").stat().st_mode & 0o777 == 0o600
    assert "names the addresses" in text and "never attach it to a report" in text


def test_addresses_need_a_voter_file(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path, '[design]\nunit = "precinct_id"\nseed = 1\n[assign]\nwalk_list_addresses = true\n'
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "walk_list_addresses needs [data.voters]" in capsys.readouterr().err


def test_unknown_do_not_contact_station_is_warned(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 1\n'
        'exclude = { do_not_contact = ["2A004_1", "2A004_0002"] }\n',
    )
    assert _run(spec, tmp_path / "o") == 0
    captured = capsys.readouterr()
    assert "1 do-not-contact id(s) name no station" in captured.err
    assert "excluded 1" in captured.out


def test_missing_past_results_file_is_a_spec_error(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 1\n[assign]\npast_results = ["nope.txt"]\n',
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "[assign] past_results: file 'nope.txt' not found" in capsys.readouterr().err


def test_assign_refuses_a_salt_file_inside_out(tmp_path, capsys) -> None:
    """The REU reader's salt must not sit beside the walk list that holds its hashed keys."""
    spec = _spec(
        tmp_path,
        f'[data.voters]\npath = "{REU}"\nformat = "reu"\n'
        'mapping = { options = { salt_file = "o/ids.salt" } }\n'
        '[design]\nunit = "precinct_id"\nseed = 3\n',
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "lies inside the output folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_reu_walk_list_does_not_depend_on_the_extract_row_order(tmp_path) -> None:
    lines = REU.read_text(encoding="utf-8").splitlines()
    order = np.random.default_rng(5).permutation(len(lines) - 1)
    (tmp_path / "sh").mkdir()
    shuffled = tmp_path / "sh" / REU.name
    shuffled.write_text("\n".join([lines[0], *[lines[1 + i] for i in order]]) + "\n", "utf-8")
    outs = []
    for name, reu in (("a", REU), ("b", shuffled)):
        body = (
            f'[data.voters]\npath = "{reu}"\nformat = "reu"\n'
            f'mapping = {{ options = {{ id_salt = "{SALT}" }} }}\n'
            '[design]\nunit = "precinct_id"\nseed = 3\n[assign]\nwalk_list_addresses = true\n'
        )
        assert _run(_spec(tmp_path, body, name=f"{name}.toml"), tmp_path / name) == 0
        outs.append((tmp_path / name / "walk_list.csv").read_bytes())
    assert outs[0] == outs[1]


def test_assign_keys_are_checked(tmp_path, capsys) -> None:
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 1\n[assign]\ncommunes = ["75056", "75056"]\n',
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "[assign] communes: lists ['75056'] twice" in capsys.readouterr().err
    spec = _spec(
        tmp_path, '[design]\nunit = "precinct_id"\nseed = 1\n[assign]\ncommune = ["75056"]\n'
    )
    assert _run(spec, tmp_path / "o") == 2
    assert "unknown key 'commune'" in capsys.readouterr().err


def test_turnout_of_the_studied_election_is_no_default_balance_covariate(tmp_path, capsys) -> None:
    """Results of the election under study give its turnout: an outcome, not a covariate."""
    past = fr_sample_results(8, "pres2017")
    path_past = write_fr_results(past, tmp_path / "pres2017.txt", layout="pres2017")
    now = fr_sample_results(9, "euro2024")
    path_now = write_fr_results(now, tmp_path / "euro2024.txt", layout="euro2024")
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 2\n'
        f'[assign]\npast_results = ["{path_past.name}"]\n',
        results=path_now,
    )
    text = spec.read_text(encoding="utf-8").replace('election = "x"', 'election = "euro2024"')
    spec.write_text(text, encoding="utf-8")
    assert _run(spec, tmp_path / "o") == 0
    out = capsys.readouterr()
    assert "turnout_euro2024 left out of the default balance covariates" in out.out + out.err
    bal = pd.read_csv(tmp_path / "o" / "balance.csv")
    assert set(bal["covariate"]) == {"registered", "turnout_pres2017"}


def test_turnout_of_the_studied_election_named_as_covariate_is_warned(tmp_path, capsys) -> None:
    now = fr_sample_results(9, "euro2024")
    path_now = write_fr_results(now, tmp_path / "euro2024.txt", layout="euro2024")
    spec = _spec(
        tmp_path,
        '[design]\nunit = "precinct_id"\nseed = 2\n'
        'balance_covariates = ["registered", "turnout_euro2024"]\n',
        results=path_now,
    )
    text = spec.read_text(encoding="utf-8").replace('election = "x"', 'election = "euro2024"')
    spec.write_text(text, encoding="utf-8")
    assert _run(spec, tmp_path / "o") == 0
    out = capsys.readouterr()
    assert "an outcome is no check" in out.out + out.err
    bal = pd.read_csv(tmp_path / "o" / "balance.csv")
    assert set(bal["covariate"]) == {"registered", "turnout_euro2024"}
