"""Generator of the hostile and drifted input corpus (French results and REU extracts).

Every case is a function ``case_<name>(folder) -> Truth`` that writes one file with
fieldexp's own writers (``fieldexp.io.fr_writers``) or by hand, then damages or drifts
it the way real files drift. ``manifest.toml`` says, per case, which reader call reads
it and what must happen: an error class and a message fragment, or a result (the truth
returned here, plus named checks). ``test_hostile.py`` runs the manifest; nothing is
committed but this generator and the manifest. Write the files to look at them::

    PYTHONPATH=. .venv/bin/python tests/io/hostile/make_hostile.py /tmp/hostile

US cases (w-io-us) add their own ``case_*`` functions and manifest entries.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fieldexp.io.fr_writers import fr_sample_results, write_fr_results

SALT = "hostile-corpus-salt-0123"  # >= 16 characters


@dataclass
class Truth:
    """What a case should read back as (when it reads at all)."""

    results: pd.DataFrame | None = None  # precinct_results truth (fr_sample_results)
    precinct_ids: list[str] | None = None  # voters: expected precinct_id per row
    voter_ids: list[str] | None = None  # voters: expected voter_id per row (independent HMAC)
    absent: list[str] = field(default_factory=list)  # columns that must not be in the output
    present: list[str] = field(default_factory=list)  # columns that must be in the output


CASES: dict[str, Callable[[Path], Truth]] = {}


def case(fn: Callable[[Path], Truth]) -> Callable[[Path], Truth]:
    CASES[fn.__name__.removeprefix("case_")] = fn
    return fn


def _hmac(value: str, length: int = 16) -> str:
    return hmac.new(SALT.encode(), value.encode(), hashlib.sha256).hexdigest()[:length]


def _fr(folder: Path, name: str, layout: str, seed: int = 5) -> tuple[Path, pd.DataFrame]:
    truth = fr_sample_results(seed, layout, election_id=name)
    return write_fr_results(truth, folder / f"{name}.txt", layout=layout), truth


def _lines(p: Path, encoding: str = "cp1252") -> list[str]:
    return p.read_bytes().decode(encoding).split("\r\n" if b"\r\n" in p.read_bytes() else "\n")


def _save(p: Path, lines: list[str], encoding: str = "cp1252", eol: str = "\r\n") -> None:
    p.write_bytes(eol.join(lines).encode(encoding))


# ------------------------------------------------------------------ French results files
@case
def case_fr_repeated_block_header(folder: Path) -> Truth:
    """European 2019 layout whose block names are written once per list (Excel re-export)."""
    p, t = _fr(folder, "fr_repeated_block_header", "euro2019")
    lines = _lines(p)
    head = lines[0].split(";")
    k = t.groupby("precinct_id").size().max()
    lines[0] = ";".join(head + head[-7:] * (k - 1))
    _save(p, lines)
    return Truth(results=t)


@case
def case_fr_pandas_mangled_header(folder: Path) -> Truth:
    """Presidential 2022 file read and re-written by pandas: Voix.1, N°Panneau.1, ..."""
    p, t = _fr(folder, "fr_pandas_mangled_header", "pres2022")
    lines = _lines(p)
    head = lines[0].split(";")
    block = head[-7:]
    k = t.groupby("precinct_id").size().max()
    lines[0] = ";".join(head + [f"{b}.{i}" for i in range(1, k) for b in block])
    _save(p, lines)
    return Truth(results=t)


@case
def case_fr_unnamed_columns(folder: Path) -> Truth:
    """Legislative 2017 file after pandas: the unlabelled blocks became 'Unnamed: 29'..."""
    p, t = _fr(folder, "fr_unnamed_columns", "leg2017")
    lines = _lines(p)
    head = lines[0].split(";")
    width = max(len(ln.split(";")) for ln in lines[1:] if ln)
    lines[0] = ";".join(head + [f"Unnamed: {i}" for i in range(len(head), width)])
    lines[1:] = [ln + ";" * (width - len(ln.split(";"))) if ln else ln for ln in lines[1:]]
    _save(p, lines)
    return Truth(results=t)


@case
def case_fr_leg2024_percent_columns(folder: Path) -> Truth:
    """Legislative 2024: Votants beside % Votants, Abstentions beside % Abstentions."""
    _p, t = _fr(folder, "fr_leg2024_percent_columns", "leg2024")
    return Truth(results=t)


@case
def case_fr_euro2024_quoted_semicolon(folder: Path) -> Truth:
    """European 2024: quoted fields, a list label holding ';' inside quotes."""
    p, t = _fr(folder, "fr_euro2024_quoted_semicolon", "euro2024")
    assert "Besoin d'Europe ; avec" in p.read_text(encoding="utf-8")
    return Truth(results=t)


@case
def case_fr_mun2020_tab_in_list_name(folder: Path) -> Truth:
    """Municipal 2020 (tab-separated): a list name holding a tab splits one field in two."""
    p, _t = _fr(folder, "fr_mun2020_tab_in_list_name", "mun2020")
    lines = _lines(p)
    lines[3] = lines[3].replace("Besoin d'Europe ; avec", "Besoin d'Europe\tavec", 1)
    _save(p, lines)
    return Truth()


@case
def case_fr_votes_do_not_sum(folder: Path) -> Truth:
    """One candidate's votes edited: the bureau's votes no longer sum to Exprimés."""
    p, _t = _fr(folder, "fr_votes_do_not_sum", "leg2022")
    lines = _lines(p)
    f = lines[2].split(";")
    f[26] = str(int(f[26]) + 1)  # first block's Voix (21 fixed + 5)
    lines[2] = ";".join(f)
    _save(p, lines)
    return Truth()


@case
def case_fr_block_dropped(folder: Path) -> Truth:
    """A whole candidate block cut off a line (a truncation at a block boundary)."""
    p, _ = _fr(folder, "fr_block_dropped", "pres2017")
    lines = _lines(p)
    lines[4] = ";".join(lines[4].split(";")[:-7])
    _save(p, lines)
    return Truth()


@case
def case_fr_truncated_mid_block(folder: Path) -> Truth:
    """A line cut in the middle of a candidate block (2017 layout)."""
    p, _ = _fr(folder, "fr_truncated_mid_block", "pres2017")
    lines = _lines(p)
    lines[3] = ";".join(lines[3].split(";")[:-3])
    _save(p, lines)
    return Truth()


@case
def case_fr_truncated_numbered(folder: Path) -> Truth:
    """A 2024 line with fewer fields than the header (not padded with NaN)."""
    p, _ = _fr(folder, "fr_truncated_numbered", "leg2024")
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[5] = ";".join(lines[5].split(";")[:30])
    p.write_text("\n".join(lines), encoding="utf-8")
    return Truth()


@case
def case_fr_bom_crlf_utf8(folder: Path) -> Truth:
    """A 2022 file re-saved as UTF-8 with a byte-order mark (Excel), CRLF kept."""
    p, t = _fr(folder, "fr_bom_crlf_utf8", "pres2022")
    text = p.read_bytes().decode("cp1252")
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return Truth(results=t)


@case
def case_fr_latin1_not_cp1252(folder: Path) -> Truth:
    """Bytes valid in ISO-8859-1 but not in Windows-1252 (0x81 in a commune label)."""
    p, t = _fr(folder, "fr_latin1_not_cp1252", "leg2017")
    data = p.read_bytes().replace("Ajaccio".encode("cp1252"), b"Ajac\x81cio")
    p.write_bytes(data)
    return Truth(results=t)


@case
def case_fr_headerless_comment_lines(folder: Path) -> Truth:
    """2014 municipal file with '--' comment lines before the data."""
    p, t = _fr(folder, "fr_headerless_comment_lines", "mun2014")
    lines = _lines(p)
    _save(p, ["-- Municipales 2014 --", "-- résultats par bureau de vote --", *lines])
    return Truth(results=t)


@case
def case_fr_headerless_2012_two_rounds(folder: Path) -> Truth:
    """2012 legislative file: 15 fields, both rounds in one file."""
    _p, t = _fr(folder, "fr_headerless_2012_two_rounds", "leg2012")
    return Truth(results=t)


@case
def case_fr_headerless_wrong_width(folder: Path) -> Truth:
    """A headerless line with one field missing."""
    p, _ = _fr(folder, "fr_headerless_wrong_width", "mun2014")
    lines = _lines(p)
    lines[6] = ";".join(lines[6].split(";")[:-1])
    _save(p, lines)
    return Truth()


@case
def case_fr_duplicate_bureau(folder: Path) -> Truth:
    """Concatenated exports: one bureau line appears twice."""
    p, _ = _fr(folder, "fr_duplicate_bureau", "leg2017")
    lines = _lines(p)
    lines.insert(3, lines[2])
    _save(p, lines)
    return Truth()


@case
def case_fr_thousands_separators(folder: Path) -> Truth:
    """Counts written '1 234' with a space or a no-break space (spreadsheet export)."""
    p = folder / "fr_thousands_separators.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;"
        "N°Panneau;Nom;Voix\n"
        "75;56;1;1 234;1\u00a0001;1 000;1;LÉGER;600;2;NOËL;400\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_votes_not_whole(folder: Path) -> Truth:
    """A count written as a decimal ('12,5')."""
    p = folder / "fr_votes_not_whole.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;"
        "N°Panneau;Voix\n75;56;1;100;60;58;1;12,5\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_header_only(folder: Path) -> Truth:
    """A 2024 header with no rows (an export cut after line 1)."""
    p, _ = _fr(folder, "fr_header_only", "leg2024")
    p.write_text(p.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    return Truth()


@case
def case_fr_no_candidate_block(folder: Path) -> Truth:
    """A participation-only file (no candidate columns)."""
    p = folder / "fr_no_candidate_block.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés\n"
        "75;56;1;100;60;58\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_two_voters_columns(folder: Path) -> Truth:
    """Two genuine columns named Votants (not a percentage beside a count)."""
    p = folder / "fr_two_voters_columns.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Votants;"
        "Exprimés;N°Panneau;Voix\n75;56;1;100;60;61;58;1;58\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_commune_without_department(folder: Path) -> Truth:
    """Département column dropped: 3-digit commune codes cannot be placed."""
    p = folder / "fr_commune_without_department.csv"
    p.write_text(
        "Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Voix\n"
        "056;1;100;60;58;1;58\n004;1;90;50;50;1;50\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_votants_inconsistent(folder: Path) -> Truth:
    """Votants differs from Blancs + Nuls + Exprimés: read, with a warning."""
    p = folder / "fr_votants_inconsistent.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Abstentions;Votants;"
        "Blancs;Nuls;Exprimés;N°Panneau;Voix\n75;56;1;100;40;60;1;1;57;1;57\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_comma_resaved(folder: Path) -> Truth:
    """A 2022 file re-saved by a spreadsheet as a comma CSV (decimal commas quoted)."""
    p, t = _fr(folder, "fr_comma_resaved", "leg2022")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(p.read_bytes().decode("cp1252")), delimiter=";"))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(r for r in rows if r)
    p.write_text(out.getvalue(), encoding="utf-8")
    return Truth(results=t)


@case
def case_fr_header_case_and_accents_drift(folder: Path) -> Truth:
    """Header retyped in capitals without accents (CODE DU DEPARTEMENT; ...; VOIX)."""
    p, t = _fr(folder, "fr_header_case_and_accents_drift", "pres2017")
    lines = _lines(p)
    lines[0] = lines[0].upper().replace("É", "E")
    _save(p, lines)
    return Truth(results=t)


_H24 = (
    "Code département;Code commune;Code BV;Inscrits;Votants;Exprimés;Blancs;Nuls;"
    "Numéro de panneau 1;Voix 1;Numéro de panneau 2;Voix 2\n"
)


@case
def case_fr_bureau_without_candidates(folder: Path) -> Truth:
    """A bureau line whose blocks are all empty although ballots were expressed."""
    (folder / "fr_bureau_without_candidates.csv").write_text(
        _H24 + "01;01004;0001;100;60;58;1;1;1;30;2;28\n01;01004;0002;90;50;48;1;1;;;;\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_bureau_without_ballots(folder: Path) -> Truth:
    """A bureau where nobody voted: no candidate row, set aside with a warning."""
    (folder / "fr_bureau_without_ballots.csv").write_text(
        _H24 + "01;01004;0001;100;60;58;1;1;1;30;2;28\n01;01004;0002;3;0;0;0;0;;;;\n",
        encoding="utf-8",
    )
    return Truth()


@case
def case_fr_xlsx_workbook(folder: Path) -> Truth:
    """The .xlsx version of a results file given to the text reader."""
    import zipfile

    with zipfile.ZipFile(folder / "fr_xlsx_workbook.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return Truth()


def _plurinominal(folder: Path, name: str) -> Truth:
    p = folder / f"{name}.txt"
    p.write_bytes(
        "Code du département\tLibellé du département\tCode de la commune\tLibellé de la "
        "commune\tCode B.Vote\tInscrits\tVotants\tExprimés\tN.Pan.\tNom\tPrénom\tVoix\r\n"
        "01\tAin\t4\tAmbérieu\t0001\t80\t52\t50\t1\tLÉGER\tAnaïs\t45\t2\tNOËL\tZoé\t40"
        "\t3\tÇELIK\tKémal\t10\r\n".encode("cp1252")
    )
    return Truth()


@case
def case_fr_plurinominal_without_option(folder: Path) -> Truth:
    """Small-commune municipal bureau: each ballot names up to N candidates."""
    return _plurinominal(folder, "fr_plurinominal_without_option")


@case
def case_fr_plurinominal_with_option(folder: Path) -> Truth:
    return _plurinominal(folder, "fr_plurinominal_with_option")


# ------------------------------------------------------------------------ REU extracts
REU_HEADER = [
    "Numéro d'ordre",
    "Nom de naissance",
    "Nom d'usage",
    "Prénoms",
    "Sexe",
    "Date de naissance",
    "Commune de naissance",
    "Pays de naissance",
    "Nationalité",
    "Numéro de voie",
    "Libellé de voie",
    "Lieu-dit",
    "Code postal",
    "Commune",
    "Téléphone",
    "Adresse électronique",
    "Code commune",
    "Code du bureau de vote",
    "Libellé du bureau de vote",
    "Identifiant national électeur",
]
PEOPLE = [
    ("DUPONT", "", "Hélène Marie", "F", "13/02/1960", "Lyon", "FRANCE", "Française"),
    ("NGUYEN", "MARTIN", "Thi Lan", "F", "02/11/1975", "Hanoï", "VIET NAM", "Française"),
    ("ÖZTÜRK", "", "Mehmet", "M", "30/06/1988", "Ankara", "TURQUIE", "Française"),
    ("LÉVÊQUE", "", "Jean-Noël", "M", "01/01/1945", "Brest", "FRANCE", "Française"),
]


def _reu(
    folder: Path,
    name: str,
    *,
    communes: list[str],
    ine: bool = True,
    encoding: str = "utf-8",
    drop: tuple[str, ...] = (),
    people: list[tuple[str, ...]] = PEOPLE,
) -> tuple[Path, list[str]]:
    header = [
        h for h in REU_HEADER if h not in drop and (ine or h != "Identifiant national électeur")
    ]
    rows = []
    ines = []
    for i, (birth, usage, first, sex, born, place, country, nat) in enumerate(people):
        ine_value = f"{123456780 + i:09d}AB"
        ines.append(ine_value)
        full = {
            "Numéro d'ordre": str(i + 1),
            "Nom de naissance": birth,
            "Nom d'usage": usage,
            "Prénoms": first,
            "Sexe": sex,
            "Date de naissance": born,
            "Commune de naissance": place,
            "Pays de naissance": country,
            "Nationalité": nat,
            "Numéro de voie": str(3 + i % 2),
            "Libellé de voie": "rue de la Paix",
            "Lieu-dit": "Les Granges",
            "Code postal": "01500",
            "Commune": "Ambérieu-en-Bugey",
            "Téléphone": f"06 12 34 56 7{i}",
            "Adresse électronique": f"p{i}@example.org",
            "Code commune": communes[i % len(communes)],
            "Code du bureau de vote": str(1 + i % 2),
            "Libellé du bureau de vote": f"École n°{1 + i % 2}",
            "Identifiant national électeur": ine_value,
        }
        rows.append(";".join(full[h] for h in header))
    p = folder / f"{name}.csv"
    p.write_bytes(("\n".join([";".join(header), *rows]) + "\n").encode(encoding))
    return p, ines


PERSONAL_OUT = [
    "order_number",
    "birth_name",
    "usage_name",
    "first_name",
    "birth_date",
    "birth_place",
    "birth_country",
    "nationality",
    "house_number",
    "street",
    "lieu_dit",
    "zip",
    "city",
    "phone",
    "email",
    "numero_d_ordre",
    "pays_de_naissance",
    "telephone",
]


@case
def case_reu_personal_columns(folder: Path) -> Truth:
    """Full extract: personal and origin columns must not survive the import."""
    _, ines = _reu(folder, "reu_personal_columns", communes=["01004"])
    return Truth(
        precinct_ids=["01004_0001", "01004_0002"] * 2,
        voter_ids=[_hmac(i) for i in ines],
        absent=PERSONAL_OUT,
        present=["voter_id", "household_id", "precinct_id", "birth_year", "gender"],
    )


@case
def case_reu_no_salt(folder: Path) -> Truth:
    _reu(folder, "reu_no_salt", communes=["01004"], ine=False)
    return Truth()


@case
def case_reu_short_salt(folder: Path) -> Truth:
    _reu(folder, "reu_short_salt", communes=["01004"])
    return Truth()


@case
def case_reu_keep_personal_without_keep_pii(folder: Path) -> Truth:
    _reu(folder, "reu_keep_personal_without_keep_pii", communes=["01004"])
    return Truth()


@case
def case_reu_keep_asked_column(folder: Path) -> Truth:
    """A non-personal extra column is kept when asked (keep_columns)."""
    _reu(folder, "reu_keep_asked_column", communes=["01004"])
    return Truth(present=["precinct_label"], absent=PERSONAL_OUT)


@case
def case_reu_commune_3_digits(folder: Path) -> Truth:
    """Commune codes without their département ('004'): refused, rows named."""
    _reu(folder, "reu_commune_3_digits", communes=["004"])
    return Truth()


@case
def case_reu_commune_3_digits_with_option(folder: Path) -> Truth:
    _reu(folder, "reu_commune_3_digits_with_option", communes=["004"])
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2)


@case
def case_reu_commune_lost_leading_zero(folder: Path) -> Truth:
    """Spreadsheet ate the zero: '1004' -> '01004' (warning)."""
    _reu(folder, "reu_commune_lost_leading_zero", communes=["1004"])
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2)


@case
def case_reu_option_wins_over_column(folder: Path) -> Truth:
    _reu(folder, "reu_option_wins_over_column", communes=["01004", "1004", "004", "75056"])
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2)


@case
def case_reu_commune_garbage(folder: Path) -> Truth:
    _reu(folder, "reu_commune_garbage", communes=["01004", "Ambérieu"])
    return Truth()


@case
def case_reu_4_digits_outside_department(folder: Path) -> Truth:
    _reu(folder, "reu_4_digits_outside_department", communes=["7505"])
    return Truth()


@case
def case_reu_name_based_ids_cp1252(folder: Path) -> Truth:
    """No INE, Windows-1252: ids from names + birth data, keyed with the salt."""
    _reu(folder, "reu_name_based_ids_cp1252", communes=["2A004"], ine=False, encoding="cp1252")
    return Truth(precinct_ids=["2A004_0001", "2A004_0002"] * 2, absent=PERSONAL_OUT)


@case
def case_reu_same_person_twice(folder: Path) -> Truth:
    """Same name and birth data twice, no INE: duplicate ids are refused, not merged."""
    _reu(folder, "reu_same_person_twice", communes=["01004"], ine=False, people=PEOPLE[:1] * 2)
    return Truth()


@case
def case_reu_salt_file_created(folder: Path) -> Truth:
    """salt_file absent: created (0600) with a warning; ids keyed with it."""
    _reu(folder, "reu_salt_file_created", communes=["01004"])
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2, absent=PERSONAL_OUT)


@case
def case_reu_ine_partly_missing(folder: Path) -> Truth:
    """Some electors have no INE: they get name-based keyed ids, the others keyed INE."""
    p, ines = _reu(folder, "reu_ine_partly_missing", communes=["01004"])
    text = p.read_text(encoding="utf-8").replace(";" + ines[1] + "\n", ";\n")
    p.write_text(text, encoding="utf-8")
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2, absent=PERSONAL_OUT)


@case
def case_reu_bom_blank_lines(folder: Path) -> Truth:
    """UTF-8 with a byte-order mark and blank lines between electors."""
    p, ines = _reu(folder, "reu_bom_blank_lines", communes=["01004"])
    text = p.read_text(encoding="utf-8").replace("\n", "\n\n", 2)
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return Truth(precinct_ids=["01004_0001", "01004_0002"] * 2, voter_ids=[_hmac(i) for i in ines])


@case
def case_reu_missing_bureau_column(folder: Path) -> Truth:
    _reu(
        folder,
        "reu_missing_bureau_column",
        communes=["01004"],
        drop=("Code du bureau de vote", "Libellé du bureau de vote"),
    )
    return Truth()


def main(argv: list[str] | None = None) -> None:
    folder = Path((argv or sys.argv[1:] or ["hostile_out"])[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, fn in CASES.items():
        fn(folder)
        print(name)


if __name__ == "__main__":  # pragma: no cover
    main()
