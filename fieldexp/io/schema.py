"""Canonical tables: one frozen schema per table, and a validator per table.

Every importer returns one of these tables; ``build_analysis_table`` takes them.
A validator returns a **new** frame (the caller's frame is never touched) with the
canonical columns first, in schema order, coerced to their dtypes, followed by any
extra columns (kept as covariates). It raises

* :class:`~fieldexp.errors.ColumnNotFoundError` when a required column is missing,
* :class:`~fieldexp.errors.DataError` when a value breaks a rule (type, missing value
  in a non-nullable column, value outside the allowed set, duplicated key),

and every message names the column, states the rule and shows the first offending
rows by index label. ``docs/data.md`` documents the tables column by column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fieldexp.errors import ColumnNotFoundError, DataError, did_you_mean, format_rows
from fieldexp.io import _distinct
from fieldexp.io._distinct import Distinct, distinct, spread, unique_rows

__all__ = [
    "ASSIGNMENT",
    "CONTACTS",
    "PRECINCT_RESULTS",
    "SCHEMAS",
    "VOTERS",
    "VOTE_HISTORY",
    "Column",
    "TableSchema",
    "validate_assignment",
    "validate_contacts",
    "validate_precinct_results",
    "validate_table",
    "validate_vote_history",
    "validate_voters",
]

#: The dtype kinds a column may have.
#: ``str`` (pandas string), ``int`` (nullable Int64), ``binary`` (Int8 restricted to 0/1),
#: ``float`` (float64), ``date`` (datetime64, day precision), ``datetime`` (datetime64).
KINDS = ("str", "int", "binary", "float", "date", "datetime")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    nullable: bool = True
    required: bool = True
    description: str = ""
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A canonical table: its columns, its key (unique together) and what it holds."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    description: str = ""
    pii: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise ColumnNotFoundError(f"table {self.name!r} has no column {name!r}")

    def to_frame(self) -> pd.DataFrame:
        """The schema as a table (for documentation and reports)."""
        return pd.DataFrame(
            {
                "column": [c.name for c in self.columns],
                "type": [c.kind for c in self.columns],
                "nullable": [c.nullable for c in self.columns],
                "required": [c.required for c in self.columns],
                "key": [c.name in self.key for c in self.columns],
                "description": [c.description for c in self.columns],
            }
        )


#: Columns that identify a person; importers drop them unless ``keep_pii=True``.
PII_COLUMNS: tuple[str, ...] = (
    "first_name",
    "middle_name",
    "last_name",
    "name",
    "birth_name",
    "usage_name",
    "name_suffix",
    "birth_date",
    "birth_place",
    "address",
    "house_number",
    "street",
    "address_line2",
    "unit_number",
    "mailing_address",
    "phone",
    "email",
)

REGISTRATION_STATUSES = ("active", "inactive", "removed", "pending", "unknown")

VOTERS = TableSchema(
    name="voters",
    description="One row per registered voter (the voter file).",
    key=("voter_id",),
    columns=(
        Column("voter_id", "str", nullable=False, description="Voter identifier (key)."),
        Column(
            "household_id",
            "str",
            nullable=False,
            description="Household identifier; importers derive it from the address when absent.",
        ),
        Column(
            "precinct_id",
            "str",
            required=False,
            description="Precinct / polling station (bureau de vote).",
        ),
        Column(
            "registration_status",
            "str",
            required=False,
            allowed=REGISTRATION_STATUSES,
            description="active, inactive, removed, pending or unknown.",
        ),
        Column("registration_date", "date", required=False, description="Date of registration."),
        Column("birth_year", "int", required=False, description="Year of birth (covariate)."),
        Column("gender", "str", required=False, description="As recorded in the file."),
        Column("party", "str", required=False, description="Party registration, as recorded."),
    ),
    pii=PII_COLUMNS,
)

ELECTION_TYPES = (
    "general",
    "primary",
    "presidential_primary",
    "runoff",
    "special",
    "municipal",
    "other",
)

VOTE_HISTORY = TableSchema(
    name="vote_history",
    description="Long vote history: one row per voter and election.",
    key=("voter_id", "election_id"),
    columns=(
        Column("voter_id", "str", nullable=False, description="Voter identifier."),
        Column(
            "election_id",
            "str",
            nullable=False,
            description="Election identifier `<type>_<YYYY>_<MM>_<DD>`, e.g. general_2016_11_08.",
        ),
        Column("election_date", "date", nullable=False, description="Election day."),
        Column("election_type", "str", nullable=False, description="general, primary, ..."),
        Column("voted", "binary", nullable=False, description="1 = a counted ballot, 0 = not."),
        Column(
            "method",
            "str",
            required=False,
            description="in_person, early, absentee, mail, provisional, ... (null if unknown).",
        ),
    ),
)

CHANNELS = ("door", "phone", "sms", "mail", "lit_drop", "email", "other")

CONTACTS = TableSchema(
    name="contacts",
    description="Contact log: one row per contact attempt.",
    key=(),
    columns=(
        Column("unit_id", "str", nullable=False, description="Voter or household id contacted."),
        Column(
            "unit_level",
            "str",
            nullable=False,
            allowed=("voter", "household"),
            description="Whether unit_id is a voter_id or a household_id.",
        ),
        Column("timestamp", "datetime", required=False, description="When the attempt was logged."),
        Column(
            "channel",
            "str",
            required=False,
            description="door, phone, sms, mail, lit_drop, email, other.",
        ),
        Column("result", "str", nullable=False, description="Canonical result (canvassed...)."),
        Column("attempted", "binary", nullable=False, description="1 = a contact was attempted."),
        Column("contacted", "binary", nullable=False, description="1 = someone answered."),
        Column("canvasser", "str", required=False, description="Canvasser id or name."),
    ),
)

ASSIGNMENT = TableSchema(
    name="assignment",
    description="Randomised assignment: one row per unit (from Design.assign).",
    key=("unit_id",),
    columns=(
        Column("unit_id", "str", nullable=False, description="Unit id (voter or household)."),
        Column(
            "arm",
            "str",
            description="Arm label (as text); missing for units excluded by the design.",
        ),
        Column(
            "probability",
            "float",
            required=False,
            minimum=0.0,
            maximum=1.0,
            description="Probability of the unit's own arm.",
        ),
        Column("block", "str", required=False, description="Randomisation block."),
        Column("cluster", "str", required=False, description="Randomisation cluster."),
    ),
)

PRECINCT_RESULTS = TableSchema(
    name="precinct_results",
    description="Official results per polling station, one row per station and candidate/list.",
    key=("precinct_id", "election_id", "candidate"),
    columns=(
        Column("precinct_id", "str", nullable=False, description="`<commune>_<bureau>`."),
        Column("election_id", "str", nullable=False, description="Election (and round)."),
        Column(
            "department_code",
            "str",
            required=False,
            description="Département code (01..95, 2A, 2B, 971...).",
        ),
        Column(
            "commune_code",
            "str",
            required=False,
            description="INSEE commune code = department + commune.",
        ),
        Column(
            "bureau_code",
            "str",
            required=False,
            description="Bureau de vote code within the commune.",
        ),
        Column("registered", "int", nullable=False, minimum=0, description="Inscrits."),
        Column("voters", "int", nullable=False, minimum=0, description="Votants."),
        Column("abstentions", "int", required=False, minimum=0, description="Abstentions."),
        Column(
            "blank",
            "int",
            required=False,
            minimum=0,
            description="Blancs (null when counted with nuls).",
        ),
        Column(
            "null",
            "int",
            required=False,
            minimum=0,
            description="Nuls (or blancs et nuls before 2014).",
        ),
        Column("expressed", "int", nullable=False, minimum=0, description="Exprimés."),
        Column("candidate", "str", nullable=False, description="Panel number (N° panneau)."),
        Column(
            "candidate_label", "str", required=False, description="Candidate name or list label."
        ),
        Column("nuance", "str", required=False, description="Political nuance code."),
        Column("votes", "int", nullable=False, minimum=0, description="Voix."),
    ),
)

SCHEMAS: dict[str, TableSchema] = {
    s.name: s for s in (VOTERS, VOTE_HISTORY, CONTACTS, ASSIGNMENT, PRECINCT_RESULTS)
}


# --------------------------------------------------------------------------- coercion
def _offending(mask: np.ndarray | pd.Series, index: pd.Index) -> str:
    arr = np.asarray(mask, dtype=bool)
    return format_rows(index[arr], total=int(arr.sum()))


def _coerce(series: pd.Series, col: Column, table: str) -> pd.Series:
    fast = _coerce_distinct(series, col, table)
    return fast if fast is not None else _coerce_rows(series, col, table)


def _coerce_rows(series: pd.Series, col: Column, table: str) -> pd.Series:
    name = col.name
    s = series
    if col.kind == "str":
        if s.dtype == object or not isinstance(s.dtype, pd.StringDtype):
            isna = s.isna().to_numpy()
            s = s.astype("str")
            if isna.any():
                s = s.where(~isna, None)
            return s.astype("str")
        return s
    if col.kind in ("int", "binary", "float"):
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype("Int64")
        if not pd.api.types.is_numeric_dtype(s.dtype):
            stripped = s.astype("str").str.strip()
            stripped = stripped.where(s.notna() & (stripped != ""), None)
            num = pd.to_numeric(stripped, errors="coerce")
            bad = num.isna() & stripped.notna()
            if bad.any():
                examples = ", ".join(repr(v) for v in pd.unique(stripped[bad])[:3])
                raise DataError(
                    f"{table}: column {name!r} must be numeric; found {examples} in "
                    f"{_offending(bad, s.index)}"
                )
            s = num
        if col.kind == "float":
            return s.astype("float64")
        vals = s.astype("float64")
        frac = vals.notna() & (vals != np.floor(vals.fillna(0)))
        if frac.any():
            raise DataError(
                f"{table}: column {name!r} must hold whole numbers; found fractions in "
                f"{_offending(frac, s.index)}"
            )
        if col.kind == "binary":
            bad = vals.notna() & ~vals.isin([0.0, 1.0])
            if bad.any():
                raise DataError(
                    f"{table}: column {name!r} must be 0 or 1; found "
                    f"{sorted(set(vals[bad].tolist()))[:5]} in {_offending(bad, s.index)}"
                )
            return vals.astype("Int8")
        return vals.astype("Int64")
    if col.kind in ("date", "datetime"):
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            text = s.astype("str").str.strip()
            text = text.where(s.notna() & (text != ""), None)
            try:
                parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
            except (ValueError, TypeError):
                parsed = pd.to_datetime(text, errors="coerce")
            bad = parsed.isna() & text.notna()
            if bad.any():
                examples = ", ".join(repr(v) for v in pd.unique(text[bad])[:3])
                raise DataError(
                    f"{table}: column {name!r} must hold dates (YYYY-MM-DD); found {examples} "
                    f"in {_offending(bad, s.index)}"
                )
            s = parsed
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if col.kind == "date":
            s = s.dt.normalize()
        return s.astype("datetime64[us]")
    raise DataError(f"{table}: unknown column kind {col.kind!r} for {name!r}")  # pragma: no cover


def _coerce_distinct(s: pd.Series, col: Column, table: str) -> pd.Series | None:
    """:func:`_coerce` computed once per distinct value and spread to the rows (the same
    values and dtype: the coercion is elementwise), or None when that does not pay or a
    value is refused (the rows are then coerced one by one, so that the error names them).

    Two cases: a column of Arrow text with few distinct values (numbers or dates read from a
    file), and a column of ``None`` only (a schema column the file does not have).
    """
    if col.kind == "str" and isinstance(s.dtype, pd.StringDtype):
        return None  # nothing to do
    if len(s) < _distinct.MIN_ROWS:
        return None
    if s.dtype == object:
        if not bool(np.equal(s.to_numpy(), None).all()):  # type: ignore[call-overload]
            return None
        d = Distinct(np.zeros(len(s), dtype=np.intp), s.iloc[:1])
    else:
        found = distinct(s)
        if found is None or 2 * len(found.uniques) > len(s):
            return None
        d = found
    try:
        out = _coerce_rows(d.uniques.reset_index(drop=True), col, table)
    except DataError:
        return None
    return spread(out, d, s.index, s.name)


def validate_table(
    df: pd.DataFrame, schema: TableSchema, *, key_checked: bool = False
) -> pd.DataFrame:
    """Validate ``df`` against ``schema``; return a new frame in canonical form.

    Rules checked, in order: every required column is present; each column coerces to
    its type; non-nullable columns hold no missing value; values lie in the allowed set
    and range; the key is unique. Optional schema columns that are absent are added as
    all-missing. Extra columns are kept after the canonical ones.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{schema.name}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in schema.required if c not in df.columns]
    if missing:
        hint = did_you_mean(missing[0], [str(c) for c in df.columns])
        raise ColumnNotFoundError(
            f"{schema.name}: required column {missing[0]!r} not found "
            f"(missing: {missing}; columns present: {list(map(str, df.columns))[:12]}).{hint}"
        )
    dup = pd.Index(df.columns)[pd.Index(df.columns).duplicated()]
    if len(dup):
        raise DataError(f"{schema.name}: column names must be unique; {list(dup)} repeated")
    out: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name in df.columns:
            s = _coerce(df[col.name], col, schema.name)
        else:  # absent: all missing (coerced once, see _coerce_distinct)
            absent = pd.Series(np.full(len(df), None, dtype=object), index=df.index)
            s = _coerce(absent, col, schema.name)
        if not col.nullable:
            na = s.isna()
            if na.any():
                raise DataError(
                    f"{schema.name}: column {col.name!r} must not be missing; missing in "
                    f"{_offending(na, s.index)}"
                )
        if col.allowed is not None:
            bad = s.notna() & ~s.isin(col.allowed)
            if bad.any():
                found = s[bad].value_counts().head(5)
                listed = ", ".join(f"{k!r} ({v})" for k, v in found.items())
                raise DataError(
                    f"{schema.name}: column {col.name!r} must be one of {list(col.allowed)}; "
                    f"found {listed} in {_offending(bad, s.index)}"
                )
        if col.minimum is not None:
            bad = s.notna() & (s < col.minimum)
            if bad.any():
                raise DataError(
                    f"{schema.name}: column {col.name!r} must be >= {col.minimum}; "
                    f"found {s[bad].iloc[0]} in {_offending(bad, s.index)}"
                )
        if col.maximum is not None:
            bad = s.notna() & (s > col.maximum)
            if bad.any():
                raise DataError(
                    f"{schema.name}: column {col.name!r} must be <= {col.maximum}; "
                    f"found {s[bad].iloc[0]} in {_offending(bad, s.index)}"
                )
        out[col.name] = s
    extras = [c for c in df.columns if c not in out]
    result = pd.DataFrame(out, index=df.index)
    if extras:
        result = pd.concat([result, df[extras]], axis=1)
    if schema.key and not key_checked and not unique_rows(*(result[c] for c in schema.key)):
        dupkey = result.duplicated(list(schema.key), keep="first")
        if dupkey.any():
            raise DataError(
                f"{schema.name}: key {list(schema.key)} must be unique; "
                f"{int(dupkey.sum())} repeated key(s) in {_offending(dupkey, result.index)}"
            )
    result.attrs = dict(df.attrs)
    return result


def validate_voters(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``voters`` table (key ``voter_id``)."""
    return validate_table(df, VOTERS)


def validate_vote_history(df: pd.DataFrame, *, key_checked: bool = False) -> pd.DataFrame:
    """Validate a long ``vote_history`` table (key ``voter_id, election_id``).

    ``key_checked``: the caller has just made the key unique on text columns that the
    validation leaves unchanged (the readers), so the key check is not repeated.
    """
    return validate_table(df, VOTE_HISTORY, key_checked=key_checked)


def validate_contacts(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``contacts`` table; ``contacted`` implies ``attempted``."""
    out = validate_table(df, CONTACTS)
    bad = (out["contacted"] == 1) & (out["attempted"] == 0)
    if bad.any():
        raise DataError(
            "contacts: a contacted row must also be attempted (contacted=1 needs attempted=1); "
            f"broken in {_offending(bad, out.index)}"
        )
    return out


def validate_assignment(df: pd.DataFrame, *, unit: str | None = None) -> pd.DataFrame:
    """Validate an ``assignment`` table, as written by ``Design.assign`` or by hand.

    Accepted inputs: the canonical columns (``unit_id, arm, probability``), or the
    ``Design.assign`` output (the unit column under its own name, e.g. ``voter_id``,
    named by ``unit`` or by ``df.attrs["fieldexp_unit"]``), with ``arm`` or a 0/1
    ``assigned`` column. ``attrs`` (ids hash, design, seed) are carried over; the
    original unit column name is recorded in ``attrs["fieldexp_unit"]``.
    """
    frame = canonical_assignment(df, unit=unit)
    return validate_table(frame, ASSIGNMENT)


def canonical_assignment(df: pd.DataFrame, *, unit: str | None = None) -> pd.DataFrame:
    """Rename the columns of a Design.assign-style table to the canonical ones (no checks)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"assignment: expected a pandas DataFrame, got {type(df).__name__}")
    attrs = dict(df.attrs)
    design = attrs.get("fieldexp_design")
    if unit is None:
        unit = attrs.get("fieldexp_unit")
    if unit is None and isinstance(design, dict):
        unit = design.get("unit")
    if unit is None:
        for candidate in ("unit_id", "voter_id", "household_id", "unit", "id"):
            if candidate in df.columns:
                unit = candidate
                break
    if unit is None or unit not in df.columns:
        raise ColumnNotFoundError(
            f"assignment: unit id column {unit!r} not found; pass unit= or name it unit_id, "
            f"voter_id or household_id (columns: {list(df.columns)[:12]})"
        )
    rename: dict[str, str] = {unit: "unit_id"} if unit != "unit_id" else {}
    frame = df.rename(columns=rename)
    if "arm" not in frame.columns:
        if "assigned" in frame.columns:
            frame = frame.assign(arm=frame["assigned"])
        else:
            raise ColumnNotFoundError(
                "assignment: needs an 'arm' or an 'assigned' (0/1) column; "
                f"columns: {list(df.columns)[:12]}{did_you_mean('arm', list(df.columns))}"
            )
    arm = frame["arm"]
    if pd.api.types.is_float_dtype(arm.dtype) and arm.dropna().eq(arm.dropna().round()).all():
        arm = arm.astype("Int64")
    frame = frame.assign(arm=arm.astype("str").where(arm.notna(), None))
    if "probability" not in frame.columns:
        frame = frame.assign(probability=np.nan)
    if "block" not in frame.columns:
        blocks = design.get("blocks") if isinstance(design, dict) else None
        if isinstance(blocks, str) and blocks in frame.columns:
            frame = frame.assign(block=frame[blocks])
    if "cluster" not in frame.columns:
        clusters = design.get("clusters") if isinstance(design, dict) else None
        if isinstance(clusters, str) and clusters in frame.columns:
            frame = frame.assign(cluster=frame[clusters])
    attrs["fieldexp_unit"] = unit
    frame.attrs = attrs
    return frame


def validate_precinct_results(df: pd.DataFrame) -> pd.DataFrame:
    """Validate a ``precinct_results`` table; checks votants <= inscrits, voix <= exprimés."""
    out = validate_table(df, PRECINCT_RESULTS)
    bad = out["voters"] > out["registered"]
    if bad.any():
        raise DataError(
            "precinct_results: 'voters' (votants) must not exceed 'registered' (inscrits); "
            f"broken in {_offending(bad, out.index)}"
        )
    bad = out["votes"] > out["expressed"]
    if bad.any():
        raise DataError(
            "precinct_results: 'votes' must not exceed 'expressed' (exprimés); "
            f"broken in {_offending(bad, out.index)}"
        )
    return out


def require_columns(df: pd.DataFrame, columns: Sequence[str], *, table: str) -> None:
    """Raise :class:`ColumnNotFoundError` naming the first missing column."""
    for c in columns:
        if c not in df.columns:
            raise ColumnNotFoundError(
                f"{table}: column {c!r} not found{did_you_mean(c, [str(x) for x in df.columns])}"
            )
