"""Read and validate an analysis spec (TOML) into :class:`~fieldexp.spec.model.AnalysisSpec`.

The spec is data, never code: it is parsed with :mod:`tomllib` and every value is
checked against the key's type; nothing is evaluated or imported from it. Errors are
:class:`~fieldexp.errors.SpecificationError` naming the file, the key (``[section] key``),
the rule and what was found, with a did-you-mean for unknown keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomllib

from fieldexp.design import Design
from fieldexp.errors import FieldexpError, SpecificationError, did_you_mean
from fieldexp.experiment.api import METHODS as _ITT_METHODS
from fieldexp.experiment.multiplicity import METHODS as _ADJUSTMENTS
from fieldexp.spec.assign import parse_assign
from fieldexp.spec.did import parse_did
from fieldexp.spec.engine import parse_engine
from fieldexp.spec.guards import (
    MIN_SALT_LENGTH,
    identifier_kind,
    input_file_problem,
    name_problem,
    personal_kind,
    refuse_control_characters,
)
from fieldexp.spec.model import (
    SPEC_VERSION,
    AnalysisOptions,
    AnalysisSpec,
    CostSpec,
    CoverageSpec,
    DataSource,
    DataSpec,
    DesignSpec,
    OutcomeSpec,
    PrivacySpec,
    ReportOptions,
    RISpec,
    SubgroupSpec,
)
from fieldexp.spec.reader import MISSING as _MISSING
from fieldexp.spec.reader import Section as _Section
from fieldexp.spec.reader import alpha_check as _alpha
from fieldexp.spec.reader import date_text as _date_text
from fieldexp.spec.reader import kind_of as _kind
from fieldexp.spec.reader import nonempty as _nonempty
from fieldexp.spec.reader import nonnegative as _nonnegative
from fieldexp.spec.reader import positive_int as _positive_int
from fieldexp.spec.redact import redact_salt, refuse_short_secrets
from fieldexp.spec.stations import parse_stations
from fieldexp.spec.targeting import parse_targeting
from fieldexp.stats.covariance import SE_TYPES as _SE_TYPES

__all__ = ["load_spec", "parse_spec", "secret_files"]


#: Readers' formats per canonical table (None: the table is read as a plain CSV).
FORMATS: dict[str, tuple[str, ...] | None] = {
    "voters": ("csv", "reu", "auto"),
    "vote_history": ("long", "wide", "ncvhis", "ohio", "l2", "florida", "auto"),
    "contacts": ("csv", "van", "nationbuilder", "auto"),
    "assignment": ("csv",),
    "analysis_table": ("csv",),
    "precinct_results": ("fr-interieur",),
    "precinct_assignment": ("csv",),
}
DEFAULT_FORMAT = {
    "voters": "csv",
    "vote_history": "long",
    "contacts": "csv",
    "assignment": "csv",
    "analysis_table": "csv",
    "precinct_results": "fr-interieur",
    "precinct_assignment": "csv",
}
# choice lists are declared once, by the module that owns them (the spec only refers to them)
METHODS = _ITT_METHODS
SE_TYPES = _SE_TYPES
ESTIMANDS = ("ITT", "CACE")
MULTIPLICITY = (*_ADJUSTMENTS, "none")
LEVELS = ("voter", "precinct")
DEFAULT_COLUMNS = {"turnout": "voted", "registration": "registered_after"}
DEFAULT_LABELS = {"turnout": "Turnout", "registration": "Registration", "vote_share": "Vote share"}


# --------------------------------------------------------------------------- sections
def _resolve_path(value: str, sec: _Section, key: str, folder: Path) -> Path:
    if "\x00" in value:
        sec.fail(f"file name {value!r} contains a NUL character", key=key)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = folder / path
    path = path.resolve()
    problem = input_file_problem(path)
    if problem == "not found":
        sec.fail(
            f"file {value!r} not found (looked for {path}; paths are relative to the spec "
            "file's folder)",
            key=key,
        )
    elif problem is not None:
        sec.fail(f"{value!r} {problem}; give the path of a data file", key=key)
    return path


_PERSONAL_HINT = (
    "reports are aggregates and never show names, addresses, birth dates, phone numbers "
    "or e-mail addresses"
)


def _refuse_personal(sec: _Section, key: str, columns: tuple[str, ...] | list[str]) -> None:
    """Refuse personal-data columns (any spelling) as covariates or subset columns."""
    for column in columns:
        kind = personal_kind(column)
        if kind is not None:
            sec.fail(
                f"column {column!r} holds personal data ({kind}); {_PERSONAL_HINT}. "
                "Remove it from this key (derive an aggregate such as age instead).",
                key=key,
            )


def _refuse_grouping(sec: _Section, key: str, columns: tuple[str, ...] | list[str]) -> None:
    """Columns that label report rows (and name table files): no personal data, no ids."""
    for column in columns:
        problem = name_problem(column)
        if problem is not None:
            sec.fail(
                f"column name {column!r} {problem} (it becomes part of an output file name)",
                key=key,
            )
        kind = personal_kind(column)
        if kind is not None:
            sec.fail(
                f"column {column!r} holds personal data ({kind}); {_PERSONAL_HINT}. "
                "Group by an area column (e.g. precinct_id) instead.",
                key=key,
            )
        kind = identifier_kind(column)
        if kind is not None:
            sec.fail(
                f"column {column!r} is {kind}: grouping by it would list people one by one. "
                "Group by an area column (e.g. precinct_id) instead.",
                key=key,
            )


def _salt(sec: _Section) -> str | None:
    """``[privacy] salt``: a secret of 16+ characters (never echoed in errors)."""
    value: str | None = sec.get("salt", str, None)
    if value is not None and len(value) < MIN_SALT_LENGTH:
        sec.fail(
            f"must be a secret of at least {MIN_SALT_LENGTH} characters ({len(value)} given; "
            "the value is not shown). Use a long random string, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(24))"`, and keep it '
            "out of every output",
            key="salt",
        )
    return value


def _data(sec: _Section, folder: Path) -> DataSpec:
    sources: dict[str, DataSource] = {}
    for table in FORMATS:
        sub = sec.section(table)
        if sub is None:
            continue
        path = _resolve_path(sub.get("path", str, check=_nonempty), sub, "path", folder)
        choices = FORMATS[table] or ()
        fmt = sub.choice("format", choices, DEFAULT_FORMAT[table])
        mapping = sub.get("mapping", (dict, str), None)
        if isinstance(mapping, str):
            mapping = {"_path": str(_resolve_path(mapping, sub, "mapping", folder))}
        results = None
        options = _reader_options(sub, table)
        if table == "contacts":
            r = sub.get("results", str, None)
            if r is not None:
                results = _resolve_path(r, sub, "results", folder)
        sub.finish()
        sources[table] = DataSource(table, path, fmt, mapping, results, options)
    crosswalk = sec.section("crosswalk")
    if crosswalk is not None:
        # [data.crosswalk]: VanID -> state voter id for the contacts (issue 10 item 2)
        cw: dict[str, str] = {
            "path": str(
                _resolve_path(
                    crosswalk.get("path", str, check=_nonempty), crosswalk, "path", folder
                )
            )
        }
        for key in ("van_id", "voter_id"):
            col = crosswalk.get(key, str, None)
            if col is not None:
                cw[key] = col
        crosswalk.finish()
        if "contacts" not in sources:
            sec.fail(
                "[data.crosswalk] maps contact VanIDs; it needs [data.contacts]", key="crosswalk"
            )
        c = sources["contacts"]
        sources["contacts"] = DataSource(
            c.table, c.path, c.format, c.mapping, c.results, {**c.options, "crosswalk": cw}
        )
    sec.finish()
    return DataSpec(**sources)


def _reader_options(sub: _Section, table: str) -> dict[str, Any]:
    """Reader keys of a [data.<table>] section: strict; contacts: channels, results_by."""
    options: dict[str, Any] = {}
    if table in ("voters", "vote_history", "contacts"):
        strict = sub.get("strict", bool, None)
        if strict is not None:
            options["strict"] = strict
    if table == "contacts":
        if sub.has("channels"):
            channels = sub.strings("channels")
            known = ("door", "phone", "sms", "mail", "lit_drop", "email", "other")
            bad = [c for c in channels if c not in known]
            if bad or not channels:
                sub.fail(
                    f"channels must be a non-empty array from {list(known)}; found {list(channels)}."
                    + (did_you_mean(bad[0], list(known)) if bad else ""),
                    key="channels",
                )
            options["channels"] = list(channels)
        by = sub.choice("results_by", ("auto", "short", "medium", "name", "description"), None)
        if by is not None:
            options["results_by"] = by
    return options


def _arm_label(value: object) -> int | str:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value  # type: ignore[return-value]


def _design(sec: _Section) -> DesignSpec:
    unit = sec.get("unit", str, check=_nonempty)
    blocks = sec.get("blocks", str, None)
    clusters = sec.get("clusters", str, None)
    arms_raw = sec.get("arms", (dict, list), None)
    counts_raw = sec.get("counts", dict, None)
    control = sec.get("control", (int, str), None)
    exclude = sec.get("exclude", dict, None)
    scheme = sec.get("scheme", str, "complete")
    block_probs_raw = sec.get("block_probabilities", dict, None)
    seed = sec.get("seed", int, None, check=lambda v: None if v >= 0 else "must be >= 0")
    walk_by = sec.get("walk_list_by", str, blocks or "precinct_id")
    turf = sec.get("turf_size", int, None, check=_positive_int)
    balance_covs = sec.strings("balance_covariates")
    _refuse_personal(sec, "balance_covariates", balance_covs)
    _refuse_personal(sec, "blocks", [blocks] if blocks else [])
    sec.finish()
    arms: Any = None
    if isinstance(arms_raw, dict):
        arms = {}
        for k, v in arms_raw.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                sec.fail(f"arm {k!r}: expected a probability (number); found {v!r}", key="arms")
            arms[_arm_label(k)] = float(v)
    elif isinstance(arms_raw, list):
        arms = [_arm_label(a) for a in arms_raw]
    counts: Any = None
    if counts_raw is not None:
        counts = {}
        for k, v in counts_raw.items():
            if isinstance(v, dict):
                counts[_arm_label(k)] = {_arm_label(a): n for a, n in v.items()}
            else:
                counts[_arm_label(k)] = v
    block_probs: Any = None
    if block_probs_raw is not None:
        block_probs = {}
        for b, probs in block_probs_raw.items():
            if not isinstance(probs, dict):
                sec.fail(
                    f"block {b!r}: expected a table of arm probabilities, e.g. "
                    f'block_probabilities."{b}" = {{ 0 = 0.5, 1 = 0.5 }}; found {probs!r}',
                    key="block_probabilities",
                )
            block_probs[b] = {_arm_label(a): v for a, v in probs.items()}
    try:
        design = Design(
            unit,
            blocks=blocks,
            clusters=clusters,
            arms=arms,
            counts=counts,
            control=control,
            exclude=exclude,
            scheme=scheme,
            block_probabilities=block_probs,
        )
    except FieldexpError as exc:
        raise SpecificationError(f"{sec.file}: [design]: {exc}") from None
    return DesignSpec(
        design=design,
        seed=seed,
        walk_list_by=walk_by,
        turf_size=turf,
        balance_covariates=balance_covs,
    )


def _analysis(sec: _Section) -> AnalysisOptions:
    election = sec.get("election", str, check=_nonempty)
    window_raw = sec.get("campaign_window", list, None)
    window: tuple[str | None, str | None] | None = None
    if window_raw is not None:
        if len(window_raw) != 2:
            sec.fail(
                f'expected [start, end] (two dates; "" for an open end); found {window_raw!r}',
                key="campaign_window",
            )
        window = (
            _date_text(window_raw[0], sec, "campaign_window"),
            _date_text(window_raw[1], sec, "campaign_window"),
        )
    out = AnalysisOptions(
        election=election,
        campaign_window=window,
        alpha=sec.get("alpha", float, 0.05, check=_alpha),
        method=sec.choice("method", METHODS, "auto"),
        se_type=sec.choice("se_type", SE_TYPES, None),
        covariates=sec.strings("covariates"),
        blocks=sec.get("blocks", str, None),
        clusters=sec.get("clusters", str, None),
        weights=sec.get("weights", str, None),
        treatment=sec.get("treatment", str, "contacted"),
        multiplicity=sec.choice("multiplicity", MULTIPLICITY, "holm"),
        past_elections=sec.get("past_elections", int, None, check=_positive_int),
        control_contacts=sec.choice("control_contacts", ("keep", "drop"), "keep"),
    )
    _refuse_personal(sec, "covariates", out.covariates)
    for key in ("blocks", "weights", "treatment"):
        value = getattr(out, key)
        _refuse_personal(sec, key, [value] if value else [])
    sec.finish()
    return out


def _outcomes(sec: _Section) -> tuple[OutcomeSpec, ...]:
    out = []
    for name in list(sec.raw):
        sub = sec.section(name)
        assert sub is not None
        problem = name_problem(name)
        if problem is not None:
            sec.fail(
                f"outcome name {name!r} {problem} (outcome names become part of output file names)",
                key=None,
            )
        column = sub.get("column", str, DEFAULT_COLUMNS.get(name, _MISSING), check=_nonempty)
        _refuse_personal(sub, "column", [column])
        estimands = sub.strings("estimands", ("ITT", "CACE"))
        for e in estimands:
            if e not in ESTIMANDS:
                sub.fail(
                    f"estimands must be among {', '.join(ESTIMANDS)}; found {e!r}."
                    + did_you_mean(e, list(ESTIMANDS)),
                    key="estimands",
                )
        if sub.has("covariates"):
            sub.seen.add("covariates")
        subset_raw = sub.get("subset", dict, {})
        subset = []
        for col, val in subset_raw.items():
            if not isinstance(val, int | str | bool):
                sub.fail(
                    f"subset: {col!r} must equal a string, integer or boolean; found {_kind(val)}",
                    key="subset",
                )
            subset.append((str(col), val))
        _refuse_personal(sub, "subset", [c for c, _ in subset])
        out.append(
            OutcomeSpec(
                name=name,
                subset=tuple(subset),
                covariates=sub.strings("covariates") if sub.has("covariates") else None,
                column=column,
                label=sub.get("label", str, DEFAULT_LABELS.get(name, name.replace("_", " "))),
                level=sub.choice("level", LEVELS, "voter"),
                estimands=estimands,
                headline=sub.get("headline", bool, False),
            )
        )
        _refuse_personal(sub, "covariates", out[-1].covariates or ())
        sub.finish()
    if not out:
        sec.fail("at least one outcome is required, e.g. [outcomes.turnout]", key=None)
    if sum(o.headline for o in out) > 1:
        sec.fail("at most one outcome may have headline = true", key=None)
    return tuple(out)


def parse_spec(text: str, *, path: str | Path = "spec.toml") -> AnalysisSpec:
    """Validate spec ``text`` (TOML); relative paths are resolved against ``path``'s folder."""
    spec_path = Path(path).resolve()
    file = spec_path.name
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"{file}: not valid TOML: {exc}") from None
    refuse_control_characters(raw, file, ())
    refuse_short_secrets(raw, file)
    engine = parse_engine(raw, file, spec_path.parent)  # [engine]; takes [data.x] table keys
    top = _Section(raw, "", file)
    version = top.get(
        "version",
        int,
        SPEC_VERSION,
        check=lambda v: None if v == SPEC_VERSION else f"only version {SPEC_VERSION} is supported",
    )
    folder = spec_path.parent

    rep = top.section("report")
    report = ReportOptions()
    if rep is not None:
        report = ReportOptions(
            title=rep.get("title", str, report.title, check=_nonempty),
            organisation=rep.get("organisation", str, None),
            timestamp=rep.get("timestamp", bool, False),
            figures=rep.get("figures", bool, True),
            language=rep.choice("language", ("en", "fr"), "en"),
        )
        rep.finish()

    data_sec = top.section("data")
    if data_sec is None:
        top.fail("the [data] table is required (input files)", key="data")
    data = _data(data_sec, folder)  # type: ignore[arg-type]

    analysis_sec = top.section("analysis")
    if analysis_sec is None:
        top.fail("the [analysis] table is required (at least `election`)", key="analysis")
    analysis = _analysis(analysis_sec)  # type: ignore[arg-type]

    out_sec = top.section("outcomes")
    if out_sec is None:
        top.fail("the [outcomes] table is required, e.g. [outcomes.turnout]", key="outcomes")
    outcomes = _outcomes(out_sec)  # type: ignore[arg-type]
    names = [o.name for o in outcomes]

    design_sec = top.section("design")
    design = _design(design_sec) if design_sec is not None else None

    subgroups = None
    sg = top.section("subgroups")
    if sg is not None:
        subgroups = SubgroupSpec(
            by=sg.get("by", str, "propensity_band"),
            label=sg.get("label", str, "vote propensity"),
            outcomes=sg.strings("outcomes"),
        )
        sg.finish()
        _check_outcome_names(sg, "outcomes", subgroups.outcomes, names)
        _refuse_grouping(sg, "by", [subgroups.by])

    ri = None
    ri_sec = top.section("randomization_inference")
    if ri_sec is not None:
        ri = RISpec(
            reps=ri_sec.get("reps", int, 1000, check=_positive_int),
            seed=ri_sec.get("seed", int, check=lambda v: None if v >= 0 else "must be >= 0"),
            estimands=ri_sec.strings("estimands", ("ITT",)),
            outcomes=ri_sec.strings("outcomes"),
        )
        for e in ri.estimands:
            if e not in ESTIMANDS:
                ri_sec.fail(
                    f"estimands must be among {', '.join(ESTIMANDS)}; found {e!r}."
                    + did_you_mean(e, list(ESTIMANDS)),
                    key="estimands",
                )
        ri_sec.finish()
        _check_outcome_names(ri_sec, "outcomes", ri.outcomes, names)
        if design is None:
            ri_sec.fail(
                "randomisation inference replays the design: add a [design] table", key=None
            )

    did_sec = top.section("did")
    in_engine = engine is not None and engine.table("vote_history") is not None
    did = (
        None
        if did_sec is None
        else parse_did(did_sec, data, folder, _resolve_path, engine_history=in_engine)
    )

    costs = None
    c = top.section("costs")
    if c is not None:
        costs = CostSpec(
            per_attempt=c.get("per_attempt", float, 0.0, check=_nonnegative),
            per_contact=c.get("per_contact", float, 0.0, check=_nonnegative),
            fixed=c.get("fixed", float, 0.0, check=_nonnegative),
            currency=c.get("currency", str, "USD", check=_nonempty),
        )
        c.finish()

    privacy = PrivacySpec()
    p = top.section("privacy")
    if p is not None:
        privacy = PrivacySpec(
            small_cell=p.get("small_cell", int, 10, check=_positive_int),
            salt=_salt(p),
        )
        p.finish()

    coverage: CoverageSpec | None = CoverageSpec()
    cov = top.section("coverage")
    if cov is not None:
        enabled = cov.get("enabled", bool, True)
        coverage = CoverageSpec(
            by=cov.strings("by", ("precinct_id",)), canvasser=cov.get("canvasser", bool, True)
        )
        cov.finish()
        _refuse_grouping(cov, "by", coverage.by)
        if not enabled:
            coverage = None
    stations = parse_stations(top.section("stations"), folder, _resolve_path)
    assign = parse_assign(top.section("assign"), lambda v, s, k: _resolve_path(v, s, k, folder))
    tg = top.section("targeting")
    targeting = parse_targeting(tg, folder, names) if tg is not None else None
    top.finish()

    no_engine = engine is None
    if (
        no_engine
        and data.analysis_table is None
        and data.voters is None
        and data.precinct_results is None
    ):
        data_sec.fail(  # type: ignore[union-attr]
            "no input: give [data.voters] (with vote_history and assignment), "
            "[data.analysis_table] or [data.precinct_results]",
            key=None,
        )
    return AnalysisSpec(
        path=spec_path,
        text=text,
        # the hash of the redacted text: a hash of the secret would let readers test guesses
        sha256=hashlib.sha256(redact_salt(text, (privacy.salt,)).encode("utf-8")).hexdigest(),
        version=version,
        report=report,
        data=data,
        analysis=analysis,
        outcomes=outcomes,
        design=design,
        subgroups=subgroups,
        randomization_inference=ri,
        did=did,
        costs=costs,
        privacy=privacy,
        coverage=coverage,
        engine=engine,
        stations=stations,
        assign=assign,
        targeting=targeting,
    )


def _check_outcome_names(sec: _Section, key: str, given: tuple[str, ...], names: list[str]) -> None:
    for n in given:
        if n not in names:
            sec.fail(
                f"{n!r} is not an outcome of [outcomes] ({', '.join(names)})."
                + did_you_mean(n, names),
                key=key,
            )


def load_spec(path: str | Path) -> AnalysisSpec:
    """Read and validate the analysis spec at ``path`` (a ``.toml`` file)."""
    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise SpecificationError(f"spec file {str(path)!r} {problem}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecificationError(f"{p.name}: not UTF-8 text ({exc.reason})") from None
    return parse_spec(text, path=p)


def redacted_text(spec: AnalysisSpec) -> str:
    """The spec text with the value of ``[privacy] salt`` blanked (for provenance).

    Only the salt's string is replaced (see :func:`fieldexp.spec.redact.redact_salt`).
    """
    return redact_salt(spec.text, (spec.privacy.salt,))


def secret_files(spec: AnalysisSpec) -> list[tuple[str, Path]]:
    """Salt files the spec's readers use (``[data.<table>] mapping.options.salt_file``).

    Each relative path is given twice (from the working folder, as the reader opens it, and
    from the spec's folder), so a check covers both readings.
    """
    found: list[tuple[str, Path]] = []
    for source in spec.data.sources():
        mapping = source.mapping or {}
        if "_path" in mapping:
            try:
                mapping = tomllib.loads(Path(mapping["_path"]).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                mapping = {}  # a CSV mapping, or read errors the reader itself reports
        options = mapping.get("options") or {}
        value = options.get("salt_file") if isinstance(options, dict) else None
        if isinstance(value, str | Path) and str(value):
            where = f"{spec.path.name}: [data.{source.table}] mapping options salt_file"
            path = Path(value).expanduser()
            found.append((where, path))
            if not path.is_absolute():
                found.append((where, spec.folder / path))
    return found


def mapping_for(source: DataSource) -> Any:
    """The ``mapping=`` argument for the reader (a path when the spec named a file)."""
    m = source.mapping
    if isinstance(m, Mapping) and set(m) == {"_path"}:
        m = m["_path"]
    options = getattr(source, "options", None) or {}
    if not options:
        return m
    # spec reader keys (strict, channels, results_by, crosswalk) join the mapping options
    from fieldexp.io.mappings import MappingSpec, parse_mapping

    parsed = parse_mapping(m)
    return MappingSpec(parsed.columns, parsed.codes, {**parsed.options, **options})


def check_inputs_for_report(spec: AnalysisSpec) -> None:
    """The inputs an analysis needs (checked by ``report``/``validate``, not by ``assign``)."""
    data = spec.data
    file = spec.path.name
    if data.analysis_table is None and any(o.level == "voter" for o in spec.outcomes):
        missing = [t for t in ("voters", "vote_history", "assignment") if getattr(data, t) is None]
        missing = [t for t in missing if spec.engine is None or spec.engine.table(t) is None]
        if missing:
            raise SpecificationError(
                f"{file}: [data]: voter-level outcomes need either [data.analysis_table] or the "
                f"canonical tables voters, vote_history and assignment; missing: "
                f"{', '.join(missing)}"
            )
    if any(o.level == "precinct" for o in spec.outcomes) and (
        data.precinct_results is None or data.precinct_assignment is None
    ):
        raise SpecificationError(
            f"{file}: [data]: precinct-level outcomes need [data.precinct_results] and "
            "[data.precinct_assignment]"
        )
