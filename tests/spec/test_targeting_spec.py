"""[targeting] spec keys: defaults, the required seed, personal columns refused, budgets, paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fieldexp.errors import SpecificationError
from fieldexp.spec import parse_spec
from fieldexp.spec.targeting import RANKINGS

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "fixtures" / "demo" / "table.csv"
RESULTS = REPO / "fixtures" / "io" / "fr_results_2022.csv"

BASE = f"""
version = 1
[data.analysis_table]
path = "{TABLE}"
[analysis]
election = "2022_general"
[outcomes.turnout]
column = "voted"
"""


def _spec(targeting: str, tmp_path: Path) -> object:
    text = BASE + "[targeting]\n" + targeting
    return parse_spec(text, path=tmp_path / "spec.toml")


def test_defaults(tmp_path: Path) -> None:
    spec = _spec("seed = 3\n", tmp_path)
    tg = spec.targeting  # type: ignore[attr-defined]
    assert tg.seed == 3
    assert tg.covariates is None  # default: vote history of the analysis table
    assert tg.rankings == RANKINGS
    assert (tg.learner, tg.folds, tg.reps, tg.by) == ("auto", 5, 200, "nuance")
    assert tg.doors is None and tg.volunteer_hours is None and tg.results is None


def test_spec_without_targeting_has_none(tmp_path: Path) -> None:
    assert parse_spec(BASE, path=tmp_path / "s.toml").targeting is None


def test_full_table(tmp_path: Path) -> None:
    spec = _spec(
        f"""seed = 9
outcome = "turnout"
covariates = ["voted_2016", "voted_2018", "age"]
learner = "gbm"
folds = 3
reps = 50
rankings = ["past_propensity", "random"]
volunteer_hours = 150
knocks_per_hour = 20
supporters = ["gauche"]
by = "candidate"
results = "{RESULTS}"
election = "fr_results_2022"
persuasion_effect = 0.01
""",
        tmp_path,
    )
    tg = spec.targeting  # type: ignore[attr-defined]
    assert tg.covariates == ("voted_2016", "voted_2018", "age")
    assert tg.rankings == ("past_propensity", "random")
    assert tg.volunteer_hours == 150.0 and tg.knocks_per_hour == 20.0
    assert tg.results == RESULTS.resolve()
    assert tg.supporters == ("gauche",) and tg.by == "candidate"


def test_relative_paths_resolve_against_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("x\n")
    spec = _spec('seed = 1\nresults = "r.csv"\n', tmp_path)
    assert spec.targeting.results == (tmp_path / "r.csv").resolve()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("learner = 'auto'\n", "[targeting] seed: this key is required"),
        ("seed = -1\n", "must be >= 0"),
        ("seed = 1\ncovariates = ['last_name']\n", "personal data (a name)"),
        ("seed = 1\ncovariates = ['voted_2016', 'Nom de naissance']\n", "personal data"),
        ("seed = 1\ncovariates = ['home_address']\n", "personal data (an address)"),
        ("seed = 1\ncovariates = ['date_of_birth']\n", "personal data (a birth date)"),
        ("seed = 1\ncovariates = ['email']\n", "personal data (an e-mail address)"),
        ("seed = 1\ncovariates = []\n", "at least one column"),
        ("seed = 1\nrankings = ['uplift', 'magic']\n", "rankings must be a non-empty array"),
        ("seed = 1\nrankings = ['random', 'random']\n", "listed twice"),
        ("seed = 1\nlearner = 'xgboost'\n", "must be one of"),
        ("seed = 1\nfolds = 1\n", "must be 2 to 20"),
        ("seed = 1\nreps = 1\n", "must be 2 to 10,000"),
        ("seed = 1\ndoors = 100\nvolunteer_hours = 5\nknocks_per_hour = 20\n", "not both"),
        ("seed = 1\nvolunteer_hours = 5\n", "go together"),
        ("seed = 1\nknocks_per_hour = 0\nvolunteer_hours = 5\n", "finite number > 0"),
        ("seed = 1\ndoors = -3\n", "must be >= 0"),
        ("seed = 1\noutcome = 'turnuot'\n", "not an outcome of [outcomes]"),
        ("seed = 1\nresults = 'missing.csv'\n", "not found"),
        ("seed = 1\npersuasion_effect = 3.0\n", "must lie in [-1, 1]"),
        ("seed = 1\ngeojson_key = '../x'\n", "[targeting] geojson_key"),
        ("seed = 1\nsuporters = ['gauche']\n", "unknown key 'suporters'"),
    ],
)
def test_refused(body: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(SpecificationError) as err:
        _spec(body, tmp_path)
    assert message in str(err.value)


def test_a_covariate_string_is_one_column_name_never_code(tmp_path: Path) -> None:
    spec = _spec("seed = 1\ncovariates = 'voted_2016; import os'\n", tmp_path)
    assert spec.targeting.covariates == ("voted_2016; import os",)  # type: ignore[attr-defined]


def test_directory_and_fifo_paths_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match="is a directory"):
        _spec(f'seed = 1\ngeojson = "{tmp_path}"\n', tmp_path)
    fifo = tmp_path / "pipe.geojson"
    os.mkfifo(fifo)
    with pytest.raises(SpecificationError, match="named pipe"):
        _spec(f'seed = 1\ngeojson = "{fifo}"\n', tmp_path)
