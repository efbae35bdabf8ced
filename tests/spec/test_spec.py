"""Analysis specs: valid files load into frozen dataclasses; every mistake is a precise error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fieldexp.errors import FieldexpWarning, SpecificationError
from fieldexp.spec import AnalysisSpec, load_spec, parse_spec, redacted_text

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "analyses" / "demo.toml"

MINIMAL = """
[data.analysis_table]
path = "table.csv"

[analysis]
election = "2022_general"

[outcomes.turnout]
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "table.csv").write_text("voter_id,assigned,contacted,voted\nV1,1,1,1\n")
    return tmp_path


def parse(folder: Path, text: str) -> AnalysisSpec:
    return parse_spec(text, path=folder / "spec.toml")


def test_demo_spec_loads() -> None:
    spec = load_spec(DEMO)
    assert spec.data.voters is not None and spec.data.voters.path.is_file()
    assert spec.design is not None and spec.design.design.blocks == "precinct_id"
    assert spec.design.design.arm_labels == (0, 1)
    assert spec.headline_outcome.name == "turnout"
    assert spec.randomization_inference.reps == 1000
    assert spec.costs.per_contact == 3.0
    assert spec.privacy.small_cell == 10
    assert len(spec.sha256) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.version = 2  # type: ignore[misc]


def test_every_example_spec_loads() -> None:
    specs = sorted((REPO / "analyses").glob("*.toml"))
    assert specs
    for path in specs:
        load_spec(path)


def test_minimal_spec_defaults(folder: Path) -> None:
    spec = parse(folder, MINIMAL)
    o = spec.outcomes[0]
    assert (o.column, o.estimands, o.level) == ("voted", ("ITT", "CACE"), "voter")
    assert spec.analysis.alpha == 0.05 and spec.analysis.multiplicity == "holm"
    assert spec.design is None and spec.did is None and spec.costs is None
    assert spec.data.analysis_table.path == (folder / "table.csv").resolve()


def test_paths_are_relative_to_the_spec_file(folder: Path) -> None:
    sub = folder / "specs"
    sub.mkdir()
    text = MINIMAL.replace('"table.csv"', '"../table.csv"')
    (sub / "a.toml").write_text(text)
    assert load_spec(sub / "a.toml").data.analysis_table.path == (folder / "table.csv").resolve()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("[analysis]", "[analysis]\nalpah = 0.1"),
            r"\[analysis\]: unknown key 'alpah'\. Did you mean 'alpha'\?",
        ),
        (
            ("[outcomes.turnout]", "[outcomes.turnout]\nestimand = ['ITT']"),
            r"unknown key 'estimand'\. Did you mean 'estimands'\?",
        ),
        (
            ("[analysis]", "[analysis]\nalpha = 'five'"),
            r"\[analysis\] alpha: expected a number; found a string 'five'",
        ),
        (
            ("[analysis]", "[analysis]\nalpha = 1.5"),
            r"alpha: must lie strictly between 0 and 1; found 1\.5",
        ),
        (
            ("[analysis]", "[analysis]\ncovariates = 'age'\nmethod = 'lm'"),
            r"method: must be one of 'auto', 'dim', 'ols', 'lin'; found 'lm'",
        ),
        (
            ("[outcomes.turnout]", "[outcomes.turnout]\nestimands = ['ITT', 'LATE']"),
            r"estimands must be among ITT, CACE; found 'LATE'",
        ),
        (('election = "2022_general"', ""), r"\[analysis\] election: this key is required"),
        (
            ('path = "table.csv"', 'path = "missing.csv"'),
            r"\[data.analysis_table\] path: file 'missing.csv' not found .*relative to the spec",
        ),
        (
            ("[data.analysis_table]", "[data.analysis_tabel]"),
            r"\[data\]: unknown key 'analysis_tabel'\. Did you mean 'analysis_table'\?",
        ),
        (
            ("[analysis]", "[randomisation_inference]\nreps = 10\n[analysis]"),
            r"unknown key 'randomisation_inference'\. Did you mean 'randomization_inference'\?",
        ),
        (
            ("[analysis]", "[randomization_inference]\nreps = 10\nseed = 1\n[analysis]"),
            r"replays the design: add a \[design\] table",
        ),
        (
            ("[analysis]", "[randomization_inference]\nreps = 0\nseed = 1\n[analysis]"),
            r"reps: must be a positive integer; found 0",
        ),
        (
            ("[analysis]", "[costs]\nper_contact = -2\n[analysis]"),
            r"\[costs\] per_contact: must be a finite number >= 0",
        ),
        (
            ("[analysis]", "[privacy]\nsmall_cell = true\n[analysis]"),
            r"small_cell: expected an integer; found a boolean True",
        ),
        (
            ("[analysis]", "[subgroups]\noutcomes = ['turnuot']\n[analysis]"),
            r"'turnuot' is not an outcome .* Did you mean 'turnout'\?",
        ),
        (
            ("[analysis]", "[did]\nestimator = 'csdid'\n[analysis]"),
            r"\[did\] estimator: must be one of 'twfe', 'sun_abraham', 'cs'",
        ),
        (
            ("[analysis]", "[design]\nunit = 'voter_id'\narms = { 0 = 0.5, 1 = 0.6 }\n[analysis]"),
            r"\[design\]: .*",
        ),
        (
            ("[analysis]", "[analysis]\ncampaign_window = ['2022-10-01']"),
            r"campaign_window: expected \[start, end\]",
        ),
        (
            ("[analysis]", "[analysis]\ncampaign_window = ['01/10/2022', '']"),
            r"expected dates as YYYY-MM-DD",
        ),
        (
            ("[outcomes.turnout]", "[outcomes.vote_share]"),
            r"\[outcomes.vote_share\] column: this key is required",
        ),
        (("version", "version"), None),
    ],
)
def test_precise_errors(folder: Path, edit: tuple[str, str], message: str | None) -> None:
    old, new = edit
    text = MINIMAL.replace(old, new, 1)
    if message is None:
        parse(folder, "version = 1\n" + text)
        return
    with pytest.raises(SpecificationError, match=message):
        parse(folder, text)


def test_error_names_the_file(folder: Path) -> None:
    with pytest.raises(SpecificationError, match=r"^spec\.toml: \[analysis\]"):
        parse(folder, MINIMAL.replace("[analysis]", "[analysis]\nfoo = 1"))


def test_toml_syntax_error(folder: Path) -> None:
    with pytest.raises(SpecificationError, match="not valid TOML"):
        parse(folder, "[analysis\nelection = 1")


def test_unsupported_version(folder: Path) -> None:
    with pytest.raises(SpecificationError, match="only version 1 is supported"):
        parse(folder, "version = 2\n" + MINIMAL)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match=r"spec file .* not found"):
        load_spec(tmp_path / "nope.toml")


def test_canonical_tables_required_without_analysis_table(folder: Path) -> None:
    """`assign` needs only the voter file; `report` and `validate` need the rest."""
    from fieldexp.spec.load import check_inputs_for_report

    spec = parse(folder, MINIMAL.replace("[data.analysis_table]", "[data.voters]"))
    with pytest.raises(SpecificationError, match="missing: vote_history, assignment"):
        check_inputs_for_report(spec)
    text = MINIMAL.replace(
        "[outcomes.turnout]", "[outcomes.share]\nlevel = 'precinct'\ncolumn = 'share_1'"
    )
    with pytest.raises(SpecificationError, match=r"precinct-level outcomes need"):
        check_inputs_for_report(parse(folder, text))
    with pytest.raises(SpecificationError, match="no input"):
        parse(folder, MINIMAL.replace('[data.analysis_table]\npath = "table.csv"', "[data]"))


def test_specs_never_execute_code(folder: Path) -> None:
    """Values are data: a string that looks like code stays a string (and fails validation)."""
    marker = folder / "pwned"
    text = MINIMAL.replace(
        "[analysis]", f"[analysis]\nmethod = \"__import__('os').system('touch {marker}')\""
    )
    with pytest.raises(SpecificationError, match="method: must be one of"):
        parse(folder, text)
    assert not marker.exists()


def test_design_arms_and_counts(folder: Path) -> None:
    text = MINIMAL + (
        '\n[design]\nunit = "voter_id"\nblocks = "precinct_id"\n'
        'arms = { control = 0.5, door = 0.25, "door+sms" = 0.25 }\ncontrol = "control"\nseed = 3\n'
    )
    spec = parse(folder, text)
    d = spec.design.design
    assert d.arm_labels == ("control", "door", "door+sms") and d.control == "control"
    assert spec.design.seed == 3


def test_design_coin_flip_scheme_and_block_probabilities(folder: Path) -> None:
    import pandas as pd

    text = MINIMAL + (
        '\n[design]\nunit = "voter_id"\nblocks = "precinct_id"\nscheme = "simple"\n'
        "arms = { 0 = 0.5, 1 = 0.5 }\n"
        "block_probabilities = { p1 = { 0 = 0.7, 1 = 0.3 }, p2 = { 0 = 0.5, 1 = 0.5 } }\n"
    )
    d = parse(folder, text).design.design
    assert d.scheme == "simple"
    voters = pd.DataFrame({"voter_id": range(400), "precinct_id": ["p1", "p2"] * 200})
    a = d.assign(voters, seed=1)
    share = a.groupby("precinct_id")["arm"].apply(lambda s: (s == 1).mean())
    assert 0.2 < share["p1"] < 0.4 and 0.4 < share["p2"] < 0.6  # coin flips, per-block odds
    with pytest.raises(SpecificationError, match="scheme"):
        parse(folder, text.replace('scheme = "simple"', 'scheme = "coin"'))
    with pytest.raises(SpecificationError, match="block_probabilities"):
        parse(folder, text.replace("p2 = { 0 = 0.5, 1 = 0.5 }", "p2 = 0.5"))


def test_salt_is_redacted(folder: Path) -> None:
    spec = parse(folder, MINIMAL + '\n[privacy]\nsalt = "s3cret-salt-0123456789"\n')
    assert "s3cret-salt-0123456789" not in redacted_text(spec)
    assert "<redacted>" in redacted_text(spec)


def test_contacts_mapping_and_results(folder: Path) -> None:
    (folder / "c.csv").write_text("x\n")
    (folder / "r.csv").write_text("x\n")
    (folder / "map.csv").write_text("source,canonical\nA,b\n")
    text = MINIMAL + (
        '\n[data.contacts]\npath = "c.csv"\nformat = "van"\nresults = "r.csv"\nmapping = "map.csv"\n'
    )
    spec = parse(folder, text)
    c = spec.data.contacts
    assert c.format == "van" and c.results == (folder / "r.csv").resolve()
    from fieldexp.spec.load import mapping_for

    assert mapping_for(c) == str((folder / "map.csv").resolve())
    bad = text.replace('format = "van"', 'format = "vann"')
    with pytest.raises(SpecificationError, match="Did you mean 'van'"):
        parse(folder, bad)


def test_outcome_subset_and_covariates(folder: Path) -> None:
    text = MINIMAL + (
        '\n[outcomes.registration]\nsubset = { registered = 0 }\ncovariates = ["age"]\n'
    )
    spec = parse(folder, text)
    reg = spec.outcome("registration")
    assert reg.column == "registered_after"
    assert reg.subset == (("registered", 0),) and reg.covariates == ("age",)
    assert spec.outcome("turnout").covariates is None
    with pytest.raises(SpecificationError, match="subset: 'registered' must equal"):
        parse(folder, MINIMAL + "\n[outcomes.registration]\nsubset = { registered = [0] }\n")


def test_docs_document_every_key() -> None:
    """docs/spec.md names every key the spec modules read (load.py and each section's module)."""
    import re

    source = "\n".join(
        p.read_text("utf-8") for p in sorted((REPO / "fieldexp" / "spec").glob("*.py"))
    )
    keys = set(re.findall(r'\.(?:get|choice|strings|section)\(\s*"([a-z_]+)"', source))
    docs = (REPO / "docs" / "spec.md").read_text("utf-8")
    missing = sorted(
        k for k in keys if f"`{k}`" not in docs and f"[{k}" not in docs and f".{k}]" not in docs
    )
    assert not missing, missing


def test_callaway_santanna_needs_a_seed() -> None:
    text = DEMO.read_text("utf-8").replace('estimator = "twfe"', 'estimator = "callaway_santanna"')
    with (
        pytest.warns(FieldexpWarning, match="estimator = 'cs'"),
        pytest.raises(SpecificationError, match=r"\[did\] seed: .*give its seed"),
    ):
        parse_spec(text, path=DEMO)
    with pytest.warns(FieldexpWarning, match="deprecated; write estimator = 'cs'"):
        spec = parse_spec(text.replace("[did]", "[did]\nseed = 4"), path=DEMO)
    assert spec.did.estimator == "cs" and spec.did.seed == 4
