"""Read the spec's input files with the :mod:`fieldexp.io` readers and hash them."""

from __future__ import annotations

import hashlib
import sys
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    "read_in_order",
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
    """Read every configured source; ``step(text)`` is called before each (progress).

    The sources are read two at a time and the files hashed alongside (the readers spend
    much of their time in Arrow, NumPy and ``hashlib``, which release the GIL); the result,
    the errors and the warnings are those of reading them one after the other in spec order
    (see :func:`read_in_order`).
    """
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
    sources = spec.data.sources()
    st = spec.stations  # [stations] files read by report.prepare.station_table
    hashed: list[tuple[str, Path, str]] = []
    for source in sources:
        hashed.append((source.table, source.path, source.format or "csv"))
        if source.results is not None:
            hashed.append(("contact_results", source.results, "csv"))
    for table, path, fmt in (
        ("past_results", st.past_results if st else None, "fr-interieur"),
        ("door_logs", st.door_logs if st else None, "door-log"),
    ):
        if path is not None:
            hashed.append((table, path, fmt))
    with ThreadPoolExecutor(max_workers=1) as hasher:
        digests = [hasher.submit(_digest, path) for _, path, _ in hashed]
        frames = read_in_order(sources, step)
        for source, frame in zip(sources, frames, strict=True):
            tables[source.table] = frame
        files = tuple(
            InputFile(table, path.name, fmt, *digest.result())
            for (table, path, fmt), digest in zip(hashed, digests, strict=True)
        )
    return Inputs(**tables, files=files)


def _digest(path: Path) -> tuple[str, int]:
    """The sha256 and size of a file (hashed while the readers run). A path that is not a
    regular file is never opened here (a named pipe would block the thread); its reader
    refuses it first, and the error below is only seen for the ``[stations]`` files."""
    problem = input_file_problem(path)
    if problem is not None:
        raise FileFormatError(f"{path.name!r} {problem}; give the path of a data file")
    return file_sha256(path), path.stat().st_size


#: sources read at the same time (the machine this is tuned on has two cores)
READ_WORKERS = 2


def read_in_order(
    sources: Sequence[DataSource], step: object = None, *, workers: int | None = None
) -> list[pd.DataFrame]:
    """:func:`read_source` of each source, :data:`READ_WORKERS` at a time, as if read one
    after the other in the given order.

    Every warning a reader raises is recorded with the file, line and module it is attributed
    to, and raised again here, source by source in order, before that source's frame is taken
    or its error raised: the caller's warning filters (``error`` included) and the
    ``once``/``default`` registries act as on a sequential read, and the first failing source
    in order is the one reported.
    """
    workers = READ_WORKERS if workers is None else workers
    if len(sources) < 2 or workers < 2:
        out = []
        for source in sources:
            if callable(step):
                step(f"reading {source.table} ({source.name})")
            out.append(read_source(source))
        return out
    current = threading.local()
    recorded: dict[int, list[warnings.WarningMessage]] = {i: [] for i in range(-1, len(sources))}
    lock = threading.Lock()

    def keep(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: object = None,
        line: str | None = None,
    ) -> None:
        msg = warnings.WarningMessage(message, category, filename, lineno, None, line)
        with lock:
            recorded[getattr(current, "i", -1)].append(msg)

    def work(i: int) -> pd.DataFrame | Exception:
        current.i = i
        try:
            return read_source(sources[i])
        except Exception as exc:  # raised in order below
            return exc
        finally:
            current.i = -1

    for source in sources:
        if callable(step):
            step(f"reading {source.table} ({source.name})")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = keep
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # the largest files first, so that the workers finish close together
            order = sorted(range(len(sources)), key=lambda i: -_size(sources[i].path))
            futures = {i: pool.submit(work, i) for i in order}
            results = [futures[i].result() for i in range(len(sources))]
    if any(_touches_filters(r, recorded[i]) for i, r in enumerate(results)):
        # a ParserWarning is made an error by a warning filter inside the CSV reader, which
        # another thread's filters may have replaced meanwhile: read one after the other
        return read_in_order(sources, None, workers=1)
    for msg in recorded[-1]:
        _warn_again(msg)
    out = []
    for i, result in enumerate(results):
        for msg in recorded[i]:
            _warn_again(msg)
        if isinstance(result, Exception):
            raise result
        out.append(result)
    return out


def _touches_filters(result: object, recorded: list[warnings.WarningMessage]) -> bool:
    """True when a worker met a warning whose handling depends on a filter that another
    thread's ``warnings.catch_warnings`` may have swapped (pandas' ``ParserWarning``)."""
    if isinstance(result, pd.errors.ParserWarning):
        return True
    return any(issubclass(m.category, pd.errors.ParserWarning) for m in recorded)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _module_of(filename: str) -> tuple[str | None, dict[str, object] | None]:
    """The module (name and globals) whose file is ``filename``, as ``warnings.warn`` saw it."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name, vars(module)
    return None, None


def _warn_again(msg: warnings.WarningMessage) -> None:
    """Raise a recorded warning again, attributed where it was first raised."""
    name, module_globals = _module_of(msg.filename)
    registry: Any = None
    if module_globals is not None:
        registry = module_globals.setdefault("__warningregistry__", {})
    message = msg.message if isinstance(msg.message, Warning) else msg.category(msg.message)
    warnings.warn_explicit(
        message,
        msg.category,
        msg.filename,
        msg.lineno,
        module=name,
        registry=registry,
        module_globals=module_globals,
    )
