"""Read the spec's input files with the :mod:`fieldexp.io` readers and hash them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fieldexp.errors import FieldexpError, FileFormatError
from fieldexp.spec.guards import input_file_problem
from fieldexp.spec.load import mapping_for
from fieldexp.spec.model import AnalysisSpec, DataSource

__all__ = [
    "InputFile",
    "Inputs",
    "check_input_file",
    "file_sha256",
    "read_inputs",
    "read_source",
]


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input file as provenance records it (name only, never the full path)."""

    table: str
    name: str
    format: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True, eq=False)
class Inputs:
    """The canonical tables read from the spec's sources (None when not configured)."""

    voters: pd.DataFrame | None
    vote_history: pd.DataFrame | None
    contacts: pd.DataFrame | None
    assignment: pd.DataFrame | None
    analysis_table: pd.DataFrame | None
    precinct_results: pd.DataFrame | None
    precinct_assignment: pd.DataFrame | None
    files: tuple[InputFile, ...]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_csv(source: DataSource) -> pd.DataFrame:
    try:
        return pd.read_csv(source.path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise FileFormatError(
            f"{source.table}: file {source.name!r} cannot be read as CSV: {exc}"
        ) from None


def check_input_file(path: Path, what: str) -> None:
    """Refuse a path that is not a regular file (directory, FIFO, device) before opening it.

    A named pipe would make the reader wait forever for a writer; it is refused from its
    ``stat`` alone.
    """
    problem = input_file_problem(path)
    if problem is not None:
        raise FileFormatError(f"{what}: {path.name!r} {problem}; give the path of a data file")


def read_source(source: DataSource) -> pd.DataFrame:
    """Read one source into its canonical table with the matching reader."""
    from fieldexp import io

    where = f"[data.{source.table}]"
    check_input_file(source.path, f"{where} path")
    if source.results is not None:
        check_input_file(source.results, f"{where} results")
    if isinstance(source.mapping, dict) and set(source.mapping) == {"_path"}:
        check_input_file(Path(source.mapping["_path"]), f"{where} mapping")
    crosswalk = source.options.get("crosswalk")
    if isinstance(crosswalk, dict) and "path" in crosswalk:
        check_input_file(Path(crosswalk["path"]), "[data.crosswalk] path")
    mapping = mapping_for(source)
    fmt = source.format or "csv"
    try:
        if source.table == "voters":
            return io.read_voters(source.path, format=fmt, mapping=mapping)
        if source.table == "vote_history":
            return io.read_vote_history(source.path, format=fmt, mapping=mapping)
        if source.table == "contacts":
            return io.read_contacts(
                source.path, format=fmt, results=source.results, mapping=mapping
            )
        if source.table == "precinct_results":
            return io.read_precinct_results(source.path, format=fmt, mapping=mapping)
    except FieldexpError as exc:
        raise type(exc)(f"[data.{source.table}] {source.name}: {exc}") from None
    frame = _read_csv(source)
    if mapping:
        columns = mapping.get("columns", mapping) if isinstance(mapping, dict) else {}
        frame = frame.rename(columns={str(k): str(v) for k, v in dict(columns).items()})
    return frame


def read_inputs(spec: AnalysisSpec, step: object = None) -> Inputs:
    """Read every configured source; ``step(text)`` is called before each (progress)."""
    tables: dict[str, pd.DataFrame | None] = {
        name: None
        for name in (
            "voters",
            "vote_history",
            "contacts",
            "assignment",
            "analysis_table",
            "precinct_results",
            "precinct_assignment",
        )
    }
    files = []
    for source in spec.data.sources():
        if callable(step):
            step(f"reading {source.table} ({source.name})")
        tables[source.table] = read_source(source)
        files.append(
            InputFile(
                source.table,
                source.name,
                source.format or "csv",
                file_sha256(source.path),
                source.path.stat().st_size,
            )
        )
        if source.results is not None:
            files.append(
                InputFile(
                    "contact_results",
                    source.results.name,
                    "csv",
                    file_sha256(source.results),
                    source.results.stat().st_size,
                )
            )
    st = spec.stations  # [stations] files read by report.prepare.station_table
    for table, path, fmt in (
        ("past_results", st.past_results if st else None, "fr-interieur"),
        ("door_logs", st.door_logs if st else None, "door-log"),
    ):
        if path is not None:
            files.append(InputFile(table, path.name, fmt, file_sha256(path), path.stat().st_size))
    return Inputs(**tables, files=tuple(files))
