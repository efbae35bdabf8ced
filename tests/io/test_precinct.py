"""read_precinct_results: French Ministry of the Interior polling-station files."""

from __future__ import annotations

import warnings

import pytest

from fieldexp.errors import FileFormatError, SpecificationError
from fieldexp.io import read_precinct_results
from fieldexp.io.fr_writers import FR_LAYOUTS, fr_sample_results, write_fr_results
from fieldexp.io.precinct import candidate_key, insee_commune
from fieldexp.io.synthetic import synthetic_precinct_results
from fieldexp.io.writers import write_precinct_results

COLS = ["precinct_id", "candidate", "registered", "voters", "expressed", "votes", "nuance"]


@pytest.mark.parametrize("vintage", ["2014", "2017", "2022", "2024"])
def test_vintages_round_trip(tmp_path, vintage):
    ref = synthetic_precinct_results(3)
    p = write_precinct_results(ref, tmp_path / f"r{vintage}.csv", vintage=vintage)
    got = read_precinct_results(p)
    a = ref[COLS].sort_values(["precinct_id", "candidate"]).reset_index(drop=True)
    b = got[COLS].sort_values(["precinct_id", "candidate"]).reset_index(drop=True)
    assert a.astype(str).equals(b.astype(str))
    if vintage == "2014":
        assert got["blank"].isna().all()
        assert (got["null"] == got["voters"] - got["expressed"]).all()
        assert got["election_id"].iloc[0] == f"r{vintage}_t1"
    else:
        assert got["blank"].notna().all()


@pytest.mark.parametrize("vintage", ["2014", "2017", "2022", "2024"])
def test_sample_files(io_fixtures, vintage):
    r = read_precinct_results(io_fixtures / f"fr_results_{vintage}.csv")
    assert r["precinct_id"].str.match(r"^[0-9AB]{5}_\d{4}$").all()
    assert set(r["commune_code"]) == {"75056", "69123", "2A004"}
    assert r["candidate_label"].str.contains("CHARLIE").any()


def test_election_id_option(io_fixtures):
    r = read_precinct_results(
        io_fixtures / "fr_results_2017.csv", mapping={"options": {"election_id": "pres2017_t1"}}
    )
    assert set(r["election_id"]) == {"pres2017_t1"}


def test_drifting_header_via_mapping(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Dept;Commune;BV;Inscrits;Votants;Exprimés;N°Panneau;Voix\n75;56;1;100;60;58;1;58\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match="no column for 'commune_code'"):
        read_precinct_results(p)
    r = read_precinct_results(
        p, mapping={"Dept": "department_code", "Commune": "commune_code", "BV": "bureau_code"}
    )
    assert r["precinct_id"].tolist() == ["75056_0001"]


def test_block_width_mismatch(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Nom;Voix\n"
        "75;56;1;100;60;58;1;A;30;2;B\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match="not a multiple of the block width 3"):
        read_precinct_results(p)


def test_votes_exceeding_expressed(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Voix\n"
        "75;56;1;100;60;58;1;70\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match=r"bureau '75056_0001' \(line 2\): votes sum to 70"):
        read_precinct_results(p)


def test_not_a_number(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Voix\n"
        "75;56;1;cent;60;58;1;7\n",
        encoding="utf-8",
    )
    with pytest.raises(
        FileFormatError, match=r"'registered' must hold whole numbers; found 'cent'"
    ):
        read_precinct_results(p)


def test_headerless_wrong_width(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("1;75;56;Paris;1;100;60;58\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="must have 13 or 15 fields per line"):
        read_precinct_results(p)


def test_empty_and_bad_format(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        read_precinct_results(p)
    with pytest.raises(SpecificationError, match="fr-interieur"):
        read_precinct_results(p, format="us")


# ----------------------------------------------------------- published layouts, 2012-2024
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


def _same(truth, got, cols=TRUTH_COLS):
    keys = ["election_id", "precinct_id", "candidate"]
    a = truth[cols].sort_values(keys).reset_index(drop=True).astype(str)
    b = got[cols].sort_values(keys).reset_index(drop=True).astype(str)
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a.shape, b.shape)


@pytest.mark.parametrize("layout", sorted(FR_LAYOUTS))
def test_every_published_layout_reads_exactly(tmp_path, layout):
    truth = fr_sample_results(11, layout)
    p = write_fr_results(truth, tmp_path / f"{layout}.txt", layout=layout)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_precinct_results(p)
    _same(truth, got)
    if FR_LAYOUTS[layout].kind != "pres" and layout != "euro2019":  # files without nuance
        assert got["nuance"].notna().all()
        _same(truth, got, ["election_id", "precinct_id", "candidate", "nuance"])
    # conservation: votes in = votes out, bureaux in = bureaux out
    assert int(got["votes"].sum()) == int(truth["votes"].sum())
    note = got.attrs["fieldexp_import"]
    assert note["bureaux"] == truth[["precinct_id", "election_id"]].drop_duplicates().shape[0]
    assert note["candidate_rows"] == len(truth)
    assert set(got["precinct_id"].str[:5]) == {"01004", "2A004", "97101"}
    assert got["candidate_key"].str.fullmatch(r"[0-9A-Za-z_]+").all()


def _wide_2017(tmp_path, header_tail, name="r.csv"):
    """A 2017-style bureau line with three candidates; header block given by the caller."""
    fixed = "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés"
    p = tmp_path / name
    p.write_text(
        f"{fixed};{header_tail}\n"
        "75;56;1;100;60;58;1;A;30;2;B;20;3;C;8\n"
        "75;56;2;90;50;50;1;A;10;2;B;25;3;C;15\n",
        encoding="utf-8",
    )
    return p


@pytest.mark.parametrize(
    "tail",
    [
        "N°Panneau;Nom;Voix",  # given once (2017-2022)
        "N°Panneau;Nom;Voix;N°Panneau;Nom;Voix;N°Panneau;Nom;Voix",  # repeated
        "N°Panneau;Nom;Voix;N°Panneau.1;Nom.1;Voix.1;N°Panneau.2;Nom.2;Voix.2",  # pandas
        "N°Panneau;Nom;Voix;Unnamed: 9;Unnamed: 10;Unnamed: 11;Unnamed: 12;Unnamed: 13;Unnamed: 14",
        "Numéro de panneau 1;Nom candidat 1;Voix 1;Numéro de panneau 2;Nom candidat 2;Voix 2;"
        "Numéro de panneau 3;Nom candidat 3;Voix 3",  # numbered (2024)
    ],
)
def test_every_candidate_kept_whatever_the_header(tmp_path, tail):
    # before the fix a repeated header kept only the last candidate (C) of each bureau
    r = read_precinct_results(_wide_2017(tmp_path, tail))
    assert len(r) == 6
    assert r.groupby("precinct_id")["candidate_label"].apply(list).to_dict() == {
        "75056_0001": ["A", "B", "C"],
        "75056_0002": ["A", "B", "C"],
    }
    assert r.groupby("precinct_id")["votes"].sum().tolist() == [58, 50]


def test_2024_percent_columns_beside_counts(tmp_path):
    # 'Votants' beside '% Votants' used to stop on "two columns for 'voters'"
    p = tmp_path / "leg.csv"
    p.write_text(
        "Code département;Code commune;Code BV;Inscrits;Votants;% Votants;Abstentions;"
        "% Abstentions;Exprimés;Blancs;Nuls;Numéro de panneau 1;Voix 1;% Voix/inscrits 1;"
        "Elu 1;Numéro de panneau 2;Voix 2;% Voix/inscrits 2;Elu 2\n"
        "01;01004;0001;100;60;60,00%;40;40,00%;57;2;1;1;40;40,00%;;2;17;17,00%;\n",
        encoding="utf-8",
    )
    r = read_precinct_results(p)
    assert r["voters"].tolist() == [60, 60] and r["abstentions"].tolist() == [40, 40]
    assert r["votes"].tolist() == [40, 17]


def test_two_real_columns_for_one_field_still_refused(tmp_path):
    p = _wide_2017(tmp_path, "N°Panneau;Nom;Voix").with_name("dup.csv")
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Votants;"
        "Exprimés;N°Panneau;Voix\n75;56;1;100;60;60;58;1;58\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match=r"two columns for 'voters' \('Votants' and"):
        read_precinct_results(p)


def test_sum_mismatch_names_bureau_and_line(tmp_path):
    p = _wide_2017(tmp_path, "N°Panneau;Nom;Voix")
    p.write_text(p.read_text(encoding="utf-8").replace(";3;C;15", ";3;C;14"), encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"bureau '75056_0002' \(line 3\): votes sum to 49"):
        read_precinct_results(p)


def test_truncated_numbered_line_is_an_error_not_padding(tmp_path):
    p = _wide_2017(
        tmp_path,
        "Numéro de panneau 1;Nom candidat 1;Voix 1;Numéro de panneau 2;Nom candidat 2;Voix 2;"
        "Numéro de panneau 3;Nom candidat 3;Voix 3",
    )
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit(";", 2)[0]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"line 3 has 13 fields but the header has 15"):
        read_precinct_results(p)


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("MÉLENCHON Jean-Luc", "MELENCHON_Jean_Luc"),
        ("Œuvrer ensemble, à l'écoute", "OEuvrer_ensemble_a_l_ecoute"),
        (
            "Liste « La France insoumise – Union populaire »",
            "Liste_La_France_insoumise_Union_populaire",
        ),
        ("NOËL Françoise", "NOEL_Francoise"),
    ],
)
def test_candidate_key_is_readable_ascii(label, key):
    assert candidate_key(label) == key


@pytest.mark.parametrize(
    ("dept", "commune", "expected"),
    [
        ("01", "4", "01004"),
        ("1", "004", "01004"),
        ("01", "1004", "01004"),  # lost its leading zero
        ("", "1004", "01004"),
        ("2A", "4", "2A004"),
        ("ZA", "101", "97101"),
        ("971", "97101", "97101"),
        ("", "056", None),  # no département: cannot be placed
        ("75", "7505", None),  # 07505 is not in département 75
        ("75", "Paris", None),
    ],
)
def test_insee_commune(dept, commune, expected):
    assert insee_commune(dept, commune) == expected


@pytest.mark.parametrize("layout", ["leg2012", "mun2014", "pres2017", "mun2020", "euro2024"])
def test_published_layouts_through_fieldexp_report(tmp_path, layout):
    """A plain spec (no mapping) assigns stations and reports on each layout."""
    import pandas as pd

    from fieldexp import cli

    truth = fr_sample_results(3, layout)
    path = write_fr_results(truth, tmp_path / f"{layout}.txt", layout=layout)
    election = truth["election_id"].iloc[0]
    base = (
        f'[data.precinct_results]\npath = "{path}"\n[design]\nunit = "precinct_id"\nseed = 3\n'
        f'[analysis]\nelection = "{election}"\n'
        '[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n'
    )
    spec = tmp_path / "s.toml"
    spec.write_text(base, encoding="utf-8")
    out = tmp_path / "o"
    assert cli.main(["assign", str(spec), "--out", str(out), "--no-progress"]) == 0
    spec.write_text(
        base + f'[data.precinct_assignment]\npath = "{out / "assignment.csv"}"\n', encoding="utf-8"
    )
    rep = tmp_path / "r"
    assert cli.main(["report", str(spec), "--out", str(rep), "--no-progress"]) == 0
    flow = pd.read_csv(rep / "tables" / "sample_flow.csv")
    bureaux = truth[truth["election_id"] == election].drop_duplicates("precinct_id")
    assert flow["stations"].sum() == len(bureaux)
    assert flow["registered"].sum() == bureaux["registered"].sum()
    assert flow["voters"].sum() == bureaux["voters"].sum()
    rec = pd.read_csv(rep / "tables" / "reconciliation.csv").set_index("table")
    assert rec.loc["precinct_results", "rows read"] == len(truth)


@pytest.mark.parametrize(
    ("tail", "layout"),
    [
        ("N°Panneau;Nom;Voix", "wide, one labelled block"),
        (
            "N°Panneau;Nom;Voix;N°Panneau.1;Nom.1;Voix.1;N°Panneau.2;Nom.2;Voix.2",
            "wide, repeated block header",
        ),
        (
            "Numéro de panneau 1;Nom candidat 1;Voix 1;Numéro de panneau 2;Nom candidat 2;"
            "Voix 2;Numéro de panneau 3;Nom candidat 3;Voix 3",
            "wide, numbered blocks",
        ),
    ],
)
def test_layout_recorded(tmp_path, tail, layout):
    note = read_precinct_results(_wide_2017(tmp_path, tail)).attrs["fieldexp_import"]
    assert note["layout"] == layout
    assert "fr_layout" not in read_precinct_results(_wide_2017(tmp_path, tail)).attrs


def test_plurinominal_bureaux_need_the_option(tmp_path):
    # communes under 1,000 inhabitants: 50 ballots, each naming up to 2 candidates
    p = tmp_path / "mun.csv"
    p.write_text(
        "Code du département;Code de la commune;Code B.Vote;Inscrits;Votants;Exprimés;"
        "N.Pan.;Nom;Voix\n01;4;1;80;52;50;1;A;45;2;B;40;3;C;10\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match=r"votes sum to 95, expressed is 50.*plurinominal"):
        read_precinct_results(p)
    r = read_precinct_results(p, mapping={"options": {"plurinominal": True}})
    assert r["votes"].tolist() == [45, 40, 10]
    p.write_text(
        p.read_text(encoding="utf-8").replace(";3;C;10", ";3;C;51"), encoding="utf-8"
    )  # one candidate above the ballots cast: impossible even so
    with pytest.raises(FileFormatError, match="must cover 'expressed'"):
        read_precinct_results(p, mapping={"options": {"plurinominal": True}})


def test_repeated_header_that_does_not_line_up_is_refused(tmp_path):
    p = _wide_2017(tmp_path, "N°Panneau;Nom;Voix;N°Panneau;Voix;Nom;N°Panneau;Nom;Voix")
    with pytest.raises(FileFormatError, match=r"header column 11 'Voix' does not repeat"):
        read_precinct_results(p)
