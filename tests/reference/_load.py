"""Read the estimatr reference values and rebuild each case as a fieldexp call.

``tests/reference/reference.csv`` (written by ``make_reference.R``) has one row per estimatr
call with the arguments of fieldexp's API in machine-readable columns: ``method`` ("dim",
"ols", "lin", "2sls"), ``stage`` ("itt"; for "2sls" "first" or "second"), ``outcome``,
``assignment``, ``treatment``, ``blocks``, ``clusters``, ``covariates`` (";"-separated),
``se_type`` (empty = estimatr's default), ``weights``, ``alpha``, and the data: ``dataset`` (a
path relative to the repo root: ``fixtures/...`` or ``../shared/data/...``) filtered by the
named ``subset`` (:data:`SUBSETS`, the same filters as the R script).

Used by ``tests/experiment/test_reference.py``; also handy when debugging one case::

    .venv/bin/python tests/reference/_load.py fx_ols_cr2_hh_cov_fe
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent
REPO = REFERENCE_DIR.parents[1]
REFERENCE_CSV = REFERENCE_DIR / "reference.csv"
REFUSED_CSV = REFERENCE_DIR / "refused.csv"
EXTENSION_CSV = REFERENCE_DIR / "extension.csv"
VERSIONS_TXT = REFERENCE_DIR / "versions.txt"
SHARED_PREFIX = "../shared/data/"

#: Statistics compared for every ITT / CACE row (``EffectResult`` attributes).
STATISTICS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "nobs",
    "nclusters",
)
#: Statistics compared for first-stage rows (``EffectResult.first_stage`` attributes).
FIRST_STAGE_STATISTICS: tuple[str, ...] = STATISTICS[:7]

#: The named filters of the ``subset`` column (same definitions as in make_reference.R).
SUBSETS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "all": lambda d: d,
    # FEDAI ch. 5 sample: one-person households, canvassing only (no phone, no mail)
    "nh_fedai": lambda d: d[
        (d["onetreat"] == 1) & (d["mailings"] == 0) & (d["phongotv"] == 0) & (d["persons"] == 1)
    ],
    # New Haven raw coding quirks: v98_1 == 99 and age1 == 999 mean missing
    "nh_valid_v98_1": lambda d: d[d["v98_1"] != 99],
    "nh_valid_age1": lambda d: d[d["age1"] != 999],
    # Beijing: complete cases (two rows lack turnout)
    "beijing_complete": lambda d: d.dropna(),
    # Fieldhouse et al.: canvassing was randomised within the phone arm only
    "fieldhouse_phone_arm": lambda d: d[d["p"] == 1],
}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if text and text != "NA" else None


@dataclass(frozen=True)
class ReferenceCase:
    """One row of reference.csv: how to call fieldexp, and what estimatr said."""

    case: str
    function: str
    call: str
    dataset: str
    subset: str
    method: str
    stage: str
    outcome: str
    assignment: str
    treatment: str | None
    term: str
    blocks: str | None
    clusters: str | None
    covariates: tuple[str, ...]
    se_type: str | None
    weights: str | None
    alpha: float
    design: str | None
    expected: dict[str, float]

    @property
    def needs_shared_data(self) -> bool:
        return self.dataset.startswith(SHARED_PREFIX)

    @property
    def is_first_stage(self) -> bool:
        return self.stage == "first"

    @property
    def statistics(self) -> tuple[str, ...]:
        return FIRST_STAGE_STATISTICS if self.is_first_stage else STATISTICS

    def data_path(self, shared_dir: Path | None = None) -> Path:
        if self.needs_shared_data:
            if shared_dir is None:
                raise ValueError(f"{self.case} needs the shared data folder")
            return Path(shared_dir) / self.dataset[len(SHARED_PREFIX) :]
        return REPO / self.dataset

    def load_data(self, shared_dir: Path | None = None) -> pd.DataFrame:
        """The data the R call used (file + named subset); a fresh copy each time."""
        return _read(str(self.data_path(shared_dir)), self.subset).copy()

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``fieldexp.itt`` / ``fieldexp.cace`` for this case."""
        kw: dict[str, Any] = {
            "blocks": self.blocks,
            "clusters": self.clusters,
            "weights": self.weights,
            "alpha": self.alpha,
        }
        if self.method == "dim":
            kw["method"] = "dim"
            return kw
        kw["covariates"] = list(self.covariates) or None
        kw["se_type"] = self.se_type
        if self.method in ("ols", "lin"):
            kw["method"] = self.method
        return kw

    def python_call(self) -> str:
        """The fieldexp call as text (for failure messages)."""
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs().items() if v is not None)
        if self.method == "2sls":
            head = f"fieldexp.cace(data, {self.outcome!r}, {self.treatment!r}, {self.assignment!r}"
            tail = ").first_stage" if self.is_first_stage else ")"
        else:
            head = f"fieldexp.itt(data, {self.outcome!r}, {self.assignment!r}"
            tail = ")"
        return f"{head}, {kw}{tail}"

    def run(self, data: pd.DataFrame) -> Any:
        """Call fieldexp; returns the ``EffectResult`` (or its ``first_stage``)."""
        import fieldexp

        if self.method == "2sls":
            if self.treatment is None:
                raise ValueError(f"{self.case}: a 2sls case needs a treatment column")
            result = fieldexp.cace(
                data, self.outcome, self.treatment, self.assignment, **self.kwargs()
            )
            return result.first_stage if self.is_first_stage else result
        return fieldexp.itt(data, self.outcome, self.assignment, **self.kwargs())


@cache
def _read_file(path: str) -> pd.DataFrame:
    return pd.read_csv(path)


@cache
def _read(path: str, subset: str) -> pd.DataFrame:
    if subset not in SUBSETS:
        raise KeyError(f"unknown subset {subset!r} in reference.csv (known: {sorted(SUBSETS)})")
    return SUBSETS[subset](_read_file(path)).reset_index(drop=True)


def _row_to_case(row: pd.Series) -> ReferenceCase:
    covs = _text(row["covariates"])
    return ReferenceCase(
        case=row["case"],
        function=row["function"],
        call=row["call"],
        dataset=row["dataset"],
        subset=row["subset"],
        method=row["method"],
        stage=row["stage"],
        outcome=row["outcome"],
        assignment=row["assignment"],
        treatment=_text(row["treatment"]),
        term=row["term"],
        blocks=_text(row["blocks"]),
        clusters=_text(row["clusters"]),
        covariates=tuple(covs.split(";")) if covs else (),
        se_type=_text(row["se_type"]),
        weights=_text(row["weights"]),
        alpha=float(row["alpha"]),
        design=_text(row.get("design")),
        expected={name: float(row.get(name, math.nan)) for name in STATISTICS},
    )


def refused_case(row: pd.Series) -> ReferenceCase:
    """A row of refused.csv as a case (no expected values: estimatr raised an error)."""
    return _row_to_case(row)


def load_cases(path: Path = REFERENCE_CSV) -> list[ReferenceCase]:
    """Every reference row, in file order."""
    frame = pd.read_csv(path, keep_default_na=True)
    return [_row_to_case(row) for _, row in frame.iterrows()]


def recorded_checksums(path: Path = VERSIONS_TXT) -> dict[str, str]:
    """``file name -> md5`` of the inputs the R script read (from versions.txt)."""
    sums: dict[str, str] = {}
    in_block = False
    for line in path.read_text().splitlines():
        if line.startswith("# inputs"):
            in_block = True
            continue
        if in_block:
            if not line.strip():
                break
            name, _, digest = line.partition(":")
            sums[name.strip()] = digest.strip()
    return sums


@cache
def md5(path: str) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def input_drift(case: ReferenceCase, shared_dir: Path | None = None) -> str | None:
    """A message when the case's input file differs from the one the references were made from."""
    path = case.data_path(shared_dir)
    recorded = recorded_checksums().get(path.name)
    if recorded is None:
        return f"{path.name} is not listed in {VERSIONS_TXT.name}: run `make reference`"
    if not path.exists():
        return f"{path} does not exist"
    actual = md5(str(path))
    if actual != recorded:
        return (
            f"{case.dataset} changed since the reference values were generated (md5 {actual}, "
            f"references made from {recorded}): regenerate them with `make reference` and commit"
        )
    return None


if __name__ == "__main__":  # pragma: no cover - debugging aid
    import os

    shared = Path(os.environ.get("FIELDEXP_SHARED_DATA", REPO.parent / "shared" / "data"))
    by_name = {c.case: c for c in load_cases()}
    for name in sys.argv[1:] or []:
        c = by_name[name]
        print(f"{c.case}\n  R:      {c.call}\n  Python: {c.python_call()}")
        res = c.run(c.load_data(shared))
        for stat in c.statistics:
            got = getattr(res, stat)
            print(f"  {stat:10s} estimatr {c.expected[stat]!r:>24}   fieldexp {got!r}")
