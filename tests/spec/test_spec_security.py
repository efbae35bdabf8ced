"""Spec validation as a security boundary: personal and id columns, unsafe names, salts, files.

Every case here is a hostile or careless spec; each must be refused at validation with a
SpecificationError naming the key and the column (never echoing a secret).
"""

from __future__ import annotations

import ast
import hashlib
import os
from pathlib import Path

import pytest
import tomllib

from fieldexp.errors import SpecificationError
from fieldexp.spec import AnalysisSpec, load_spec, parse_spec, redacted_text
from fieldexp.spec.guards import (
    identifier_kind,
    input_file_problem,
    name_problem,
    personal_kind,
)
from fieldexp.spec.redact import REDACTED, WITHHELD, redact_salt

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """
[data.analysis_table]
path = "table.csv"

[analysis]
election = "2022_general"

[outcomes.turnout]
"""
SALT = "k7Qw-2Rt9_zXv4Lp8Hs3"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "table.csv").write_text("voter_id,assigned,contacted,voted\nV1,1,1,1\n")
    return tmp_path


def parse(folder: Path, text: str) -> AnalysisSpec:
    return parse_spec(text, path=folder / "spec.toml")


# --------------------------------------------------------------------------- classifiers
PERSONAL = [
    ("FirstName", "a name"),
    ("first_name", "a name"),
    ("First Name", "a name"),
    ("FIRST_NAME", "a name"),
    ("LastName", "a name"),
    ("surname", "a name"),
    ("name", "a name"),
    ("nom", "a name"),
    ("Nom", "a name"),
    ("prénom", "a name"),
    ("Prénoms", "a name"),
    ("nom_naissance", "a name"),
    ("voter_name", "a name"),
    ("Birth Date", "a birth date"),
    ("BirthDate", "a birth date"),
    ("DOB", "a birth date"),
    ("date_naissance", "a birth date"),
    ("Date de naissance", "a birth date"),
    ("adresse", "an address"),
    ("Address1", "an address"),
    ("address_line2", "an address"),
    ("StreetName", "an address"),
    ("HouseNum", "an address"),
    ("lieu-dit", "an address"),
    ("telephone", "a phone number"),
    ("Téléphone", "a phone number"),
    ("CellPhone", "a phone number"),
    ("mobile", "a phone number"),
    ("email", "an e-mail address"),
    ("E-Mail", "an e-mail address"),
    ("courriel", "an e-mail address"),
    ("Adresse électronique", "an e-mail address"),
    ("Code du pays de naissance", "a birth place"),
    ("Nom d'usage", "a name"),
    ("pays_naissance", "a birth place"),
    ("nationalité", "a nationality"),
    ("ssn", "a national id number"),
]
NOT_PERSONAL = [
    "precinct_id",
    "precinct_name",
    "nom_commune",
    "Nom de la liste",
    "libellé de la liste",
    "candidate_name",
    "BirthYear",
    "birth_year",
    "annee_naissance",
    "age",
    "voted_by_mail",
    "mail_ballot",
    "city",
    "zip",
    "code_postal",
    "propensity_band",
    "female",
    "race",
    "small_cell",
    "has_phone",
    "HasEmail",
    "email_valid",
    "address_known",
]


@pytest.mark.parametrize(("column", "kind"), PERSONAL)
def test_personal_columns_in_any_spelling(column: str, kind: str) -> None:
    assert personal_kind(column) == kind


@pytest.mark.parametrize("column", NOT_PERSONAL)
def test_area_and_covariate_columns_are_not_personal(column: str) -> None:
    assert personal_kind(column) is None


@pytest.mark.parametrize(
    "column",
    [
        "voter_id",
        "VanID",
        "HouseholdID",
        "unit_id",
        "ncid",
        "StateVoterID",
        "canvasser",
        "registration_number",
        "Identifiant national électeur",
        "Numéro d'ordre",
    ],
)
def test_identifier_columns(column: str) -> None:
    assert identifier_kind(column) is not None


@pytest.mark.parametrize(
    "column", ["precinct_id", "election_id", "age", "city", "van_precinct_id", "HouseholdSize"]
)
def test_area_ids_are_not_person_ids(column: str) -> None:
    assert identifier_kind(column) is None


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "a/b",
        "a\\b",
        "..",
        ".hidden",
        "CON",
        "nul.txt",
        "COM1",
        "a\x00b",
        "a\nb",
        "C:x",
        "x" * 101,
    ],
)
def test_unsafe_names(name: str) -> None:
    assert name_problem(name) is not None


@pytest.mark.parametrize("name", ["turnout", "share_Dupont", "Vote share (%)", "prénom-liste"])
def test_plain_names(name: str) -> None:
    assert name_problem(name) is None


# --------------------------------------------------------------------------- spec keys
@pytest.mark.parametrize("column", ["FirstName", "Birth Date", "adresse", "telephone", "E-Mail"])
@pytest.mark.parametrize("where", ["coverage", "subgroups", "covariates", "outcome", "subset"])
def test_personal_columns_refused_in_spec(folder: Path, column: str, where: str) -> None:
    col = f'"{column}"'
    text = MINIMAL
    key = {
        "coverage": r"\[coverage\] by",
        "subgroups": r"\[subgroups\] by",
        "covariates": r"\[analysis\] covariates",
        "outcome": r"\[outcomes\.registration\] covariates",
        "subset": r"\[outcomes\.registration\] subset",
    }[where]
    if where == "coverage":
        text += f"\n[coverage]\nby = [{col}]\n"
    elif where == "subgroups":
        text += f"\n[subgroups]\nby = {col}\n"
    elif where == "covariates":
        text = text.replace(
            'election = "2022_general"', f'election = "2022_general"\ncovariates = [{col}]'
        )
    elif where == "outcome":
        text += f'\n[outcomes.registration]\ncolumn = "r"\ncovariates = [{col}]\n'
    else:
        text += f'\n[outcomes.registration]\ncolumn = "r"\nsubset = {{ {col} = 1 }}\n'
    with pytest.raises(SpecificationError, match=key) as info:
        parse(folder, text)
    message = str(info.value)
    assert repr(column) in message and "personal data" in message


def test_personal_balance_covariates_refused(folder: Path) -> None:
    text = MINIMAL + '\n[design]\nunit = "voter_id"\nbalance_covariates = ["age", "Prénom"]\n'
    with pytest.raises(SpecificationError, match=r"\[design\] balance_covariates.*'Prénom'"):
        parse(folder, text)


@pytest.mark.parametrize(
    ("section", "key"),
    [("analysis", "blocks"), ("analysis", "weights"), ("analysis", "treatment")],
)
def test_personal_columns_refused_as_analysis_columns(folder: Path, section: str, key: str) -> None:
    text = MINIMAL.replace('election = "2022_general"', f'election = "2022_general"\n{key} = "Nom"')
    with pytest.raises(SpecificationError, match=rf"\[{section}\] {key}: column 'Nom'"):
        parse(folder, text)


def test_personal_outcome_column_and_design_blocks_refused(folder: Path) -> None:
    with pytest.raises(SpecificationError, match=r"\[outcomes\.turnout\] column: column 'DOB'"):
        parse(folder, MINIMAL + 'column = "DOB"\n')
    with pytest.raises(SpecificationError, match=r"\[design\] blocks: column 'street'"):
        parse(folder, MINIMAL + '\n[design]\nunit = "voter_id"\nblocks = "street"\n')


@pytest.mark.parametrize("column", ["voter_id", "VanID", "household_id", "canvasser"])
def test_identifier_columns_refused_as_groups(folder: Path, column: str) -> None:
    with pytest.raises(SpecificationError, match=rf"\[coverage\] by: column '{column}' is a"):
        parse(folder, MINIMAL + f'\n[coverage]\nby = ["{column}"]\n')
    with pytest.raises(SpecificationError, match=r"\[subgroups\] by.*people one by one"):
        parse(folder, MINIMAL + f'\n[subgroups]\nby = "{column}"\n')


@pytest.mark.parametrize(
    "name",
    ["../../etc/evil", "a/b", "..\\\\..\\\\win", "CON", "x\\u0000y", "tab\\there", "a" * 150],
)
def test_unsafe_outcome_names_refused(folder: Path, name: str) -> None:
    text = MINIMAL + f'\n[outcomes."{name}"]\ncolumn = "voted"\n'
    with pytest.raises(SpecificationError, match=r"\[outcomes\]: (outcome name|the key)"):
        parse(folder, text)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a\\\\b", "NUL", ".."])
def test_unsafe_group_column_names_refused(folder: Path, name: str) -> None:
    with pytest.raises(SpecificationError, match=r"\[coverage\] by: column name"):
        parse(folder, MINIMAL + f'\n[coverage]\nby = ["{name}"]\n')


def test_legitimate_groups_and_covariates_pass(folder: Path) -> None:
    text = MINIMAL.replace(
        'election = "2022_general"',
        'election = "2022_general"\ncovariates = ["age", "birth_year", "voted_by_mail"]',
    )
    text += '\n[coverage]\nby = ["precinct_id", "nom_commune"]\n[subgroups]\nby = "city"\n'
    spec = parse(folder, text)
    assert spec.coverage.by == ("precinct_id", "nom_commune")
    assert spec.analysis.covariates == ("age", "birth_year", "voted_by_mail")


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('[report]\ntitle = "T\\u001b[31mred"\n', r"\[report\] title: .*U\+001B"),
        ('[report]\norganisation = "a\\u0000b"\n', r"\[report\] organisation: .*U\+0000"),
        ('[report]\ntitle = "line\\nbreak"\n', r"\[report\] title: .*U\+000A"),
        ('[report]\ntitle = "\\u202eevil"\n', r"\[report\] title: .*U\+202E"),
        ('[costs]\ncurrency = "EUR\\r"\n', r"\[costs\] currency"),
    ],
)
def test_control_characters_refused_in_spec_text(folder: Path, line: str, where: str) -> None:
    with pytest.raises(SpecificationError, match=where):
        parse(folder, line + MINIMAL)


def test_control_characters_in_nested_values_refused(folder: Path) -> None:
    text = MINIMAL + 'label = "Turnout"\nsubset = { city = "a\\tb" }\n'
    with pytest.raises(SpecificationError, match=r"\[outcomes\.turnout\.subset\] city"):
        parse(folder, text)


# --------------------------------------------------------------------------- salt
def test_short_salt_refused_without_echoing_it(folder: Path) -> None:
    with pytest.raises(SpecificationError, match=r"\[privacy\] salt: .*at least 16") as info:
        parse(folder, MINIMAL + '\n[privacy]\nsalt = "tooshort-123"\n')
    assert "tooshort-123" not in str(info.value)


def test_redaction_replaces_the_value_only(folder: Path) -> None:
    # the salt shares long runs of characters with other values of the spec
    salt = "precinct_id-turnout-2022"
    text = (
        MINIMAL
        + '\n[coverage]\nby = ["precinct_id"]\n'
        + f'\n[privacy]\nsalt = "{salt}"\nsmall_cell = 5\n'
    )
    spec = parse(folder, text)
    red = redacted_text(spec)
    assert red == text.replace(f'salt = "{salt}"', f'salt = "{REDACTED}"')
    assert salt not in red
    doc = tomllib.loads(red)
    assert doc["privacy"] == {"salt": REDACTED, "small_cell": 5}
    assert doc["coverage"]["by"] == ["precinct_id"]


@pytest.mark.parametrize(
    "privacy",
    [
        f"[privacy]\nsalt = '{SALT}'\n",
        f'[privacy]\nsalt = """{SALT}"""\n',
        '[privacy]\nsalt = "' + "".join(f"\\u{ord(c):04x}" for c in SALT) + '"\n',
        f'privacy = {{ salt = "{SALT}", small_cell = 3 }}\n',
        f'privacy.salt = "{SALT}"\n',
        f'[privacy]\n# old salt: {SALT}\nsalt = "{SALT}"  # keep secret\n',
    ],
)
def test_redaction_finds_the_salt_in_every_toml_form(folder: Path, privacy: str) -> None:
    text = privacy + MINIMAL if not privacy.startswith("[") else MINIMAL + "\n" + privacy
    spec = parse(folder, text)
    red = redacted_text(spec)
    assert SALT not in red
    assert tomllib.loads(red)["privacy"]["salt"] == REDACTED
    # nothing else changed: same document once the salt is put back
    original = tomllib.loads(text)
    original["privacy"]["salt"] = REDACTED
    assert tomllib.loads(red) == original


def test_reader_id_salt_is_redacted_too(folder: Path) -> None:
    (folder / "voters.csv").write_text("voter_id\nV1\n")
    text = MINIMAL + (
        '\n[data.voters]\npath = "voters.csv"\nformat = "reu"\n'
        f'mapping.options.id_salt = "{SALT}"\n'
    )
    spec = parse(folder, text)
    red = redacted_text(spec)
    assert SALT not in red
    doc = tomllib.loads(red)
    assert doc["data"]["voters"]["mapping"]["options"]["id_salt"] == REDACTED
    assert red == text.replace(SALT, REDACTED)


def test_short_reader_id_salt_refused(folder: Path) -> None:
    (folder / "voters.csv").write_text("voter_id\nV1\n")
    text = MINIMAL + (
        '\n[data.voters]\npath = "voters.csv"\nformat = "reu"\n'
        'mapping = { options = { id_salt = "short-secret" } }\n'
    )
    with pytest.raises(
        SpecificationError, match=r"\[data\.voters\.mapping\.options\] id_salt: .*16"
    ) as info:
        parse(folder, text)
    assert "short-secret" not in str(info.value)


def test_redaction_never_touches_other_values_equal_to_a_short_secret() -> None:
    text = 'title = "s"\n[privacy]\nsalt = "' + SALT + '"\n'
    assert redact_salt(text, ("s",)) == 'title = "s"\n[privacy]\nsalt = "<redacted>"\n'


def test_redaction_without_salt_is_identity(folder: Path) -> None:
    spec = parse(folder, MINIMAL)
    assert redacted_text(spec) == spec.text


def test_unparsable_text_is_withheld() -> None:
    assert redact_salt("not = [toml", (SALT,)) == WITHHELD


def test_spec_hash_does_not_reveal_the_salt(folder: Path) -> None:
    a = parse(folder, MINIMAL + f'\n[privacy]\nsalt = "{SALT}"\n')
    b = parse(folder, MINIMAL + '\n[privacy]\nsalt = "another-secret-0123456"\n')
    assert a.sha256 == b.sha256
    assert a.sha256 == hashlib.sha256(redacted_text(a).encode()).hexdigest()


# --------------------------------------------------------------------------- input files
def test_directory_as_input_refused(folder: Path) -> None:
    (folder / "dir.csv").mkdir()
    with pytest.raises(SpecificationError, match=r"\[data\.analysis_table\] path: .*directory"):
        parse(folder, MINIMAL.replace("table.csv", "dir.csv"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_as_input_refused_without_blocking(folder: Path) -> None:
    os.mkfifo(folder / "pipe.csv")
    # a reader opening the FIFO would wait forever; validation must only stat it
    with pytest.raises(SpecificationError, match=r"named pipe \(FIFO\)"):
        parse(folder, MINIMAL.replace("table.csv", "pipe.csv"))
    with pytest.raises(SpecificationError, match="FIFO"):
        load_spec(folder / "pipe.csv")


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_device_as_input_refused(folder: Path) -> None:
    assert input_file_problem("/dev/null") == "is a device, not a regular file"
    with pytest.raises(SpecificationError, match="device"):
        parse(folder, MINIMAL.replace("table.csv", "/dev/null"))
    with pytest.raises(SpecificationError, match="device"):
        load_spec("/dev/null")


def test_nul_in_input_path_refused(folder: Path) -> None:
    with pytest.raises(SpecificationError, match="NUL"):
        parse(folder, MINIMAL.replace("table.csv", "table.csv\\u0000.txt"))


# --------------------------------------------------------------------------- data, not code
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "yaml", "jsonpickle"}


def test_no_code_execution_path_in_fieldexp() -> None:
    """Nothing in the package can evaluate text: no eval/exec, pickle or YAML loading, no
    template compiled from a string, no format string that is not a literal."""
    problems = []
    for path in sorted((REPO / "fieldexp").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                problems.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                for name in names:
                    if name and name.split(".")[0] in FORBIDDEN_MODULES:
                        problems.append(f"{path.name}:{node.lineno} import {name}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and not (node.args and isinstance(node.args[0], ast.Constant | ast.Name))
            ):
                problems.append(f"{path.name}:{node.lineno} import_module(<expression>)")
            # text is never compiled as a template or used as a format string
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and (
                    node.func.attr in {"from_string", "format_map"}
                    or (
                        node.func.attr == "format" and not isinstance(node.func.value, ast.Constant)
                    )
                )
            ):
                problems.append(f"{path.name}:{node.lineno} .{node.func.attr}(...)")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Template":
                problems.append(f"{path.name}:{node.lineno} Template(...)")
    assert not problems, problems


def test_spec_values_that_look_like_code_stay_text(folder: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    text = MINIMAL.replace(
        "[outcomes.turnout]", f'[report]\ntitle = "{payload}"\n\n[outcomes.turnout]'
    )
    text += f'label = "{{{{ {payload} }}}}"\n'
    spec = parse(folder, text)
    assert spec.report.title == payload
    assert spec.outcomes[0].label == "{{ " + payload + " }}"
    assert not marker.exists()
