"""Run a :class:`~fieldexp.design.spec.Design` on data: validation, exclusions, assignment.

:func:`assign` is what :meth:`Design.assign` calls. :func:`prepare` (the validated
unit/cluster/block structure) is shared with randomisation inference and balance, so the
design they replay is built exactly as the assignment was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fieldexp.design.kernels import (
    assign_block,
    binomial_distribution,
    block_rng,
    count_distribution,
    simple_block,
)
from fieldexp.design.labels import ArmLabel, BlockLabel
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    DesignError,
    SpecificationError,
    did_you_mean,
    format_rows,
)

if TYPE_CHECKING:  # pragma: no cover - Design.assign calls this module
    from fieldexp.design.spec import Design

__all__ = ["Structure", "assign", "block_key", "canonical_ids", "ids_sha256", "prepare"]


def require_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Raise :class:`ColumnNotFoundError` naming the argument and the closest column."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data: expected a pandas DataFrame; found {type(data).__name__}")
    names = [str(c) for c in data.columns]
    for argument, col in columns.items():
        if col is not None and col not in data.columns:
            raise ColumnNotFoundError(
                f"{argument}: column {col!r} is not in the data.{did_you_mean(col, names)}"
            )


def canonical_ids(series: pd.Series, argument: str) -> np.ndarray:
    """Ids as ``int64`` (integer-valued columns) or an object array of ``str``.

    Missing values raise :class:`DataError` naming the column and the first rows.
    """
    missing = series.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{argument}: column {series.name!r} has {int(missing.sum())} missing ids; "
            f"every unit needs one: {format_rows(series.index[missing])}"
        )
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"{argument}: column {series.name!r} holds booleans, not ids")
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64)
        if np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53):
            return values.astype(np.int64)
        bad = series.index[values != np.round(values)]
        raise DataError(
            f"{argument}: column {series.name!r} holds non-integer numbers; ids must be "
            f"integers or strings: {format_rows(bad)}"
        )
    return np.asarray(series.astype(str).to_numpy(), dtype=object)


def block_key(label: BlockLabel | None) -> str:
    """The text a block's random stream is seeded from (type-tagged, machine independent)."""
    if label is None:
        return "all"
    return f"i:{int(label)}" if isinstance(label, int | np.integer) else f"s:{label}"


def ids_sha256(ids: np.ndarray | pd.Series) -> str:
    """SHA-256 of the sorted unit ids (order-free fingerprint recorded with an assignment)."""
    if isinstance(ids, pd.Series):
        ids = canonical_ids(ids, "ids")
    h = hashlib.sha256()
    if ids.dtype.kind in "iu":
        h.update(b"int64:")
        h.update(np.sort(ids.astype("<i8")).tobytes())
    else:
        h.update(b"str:")
        h.update("\x1f".join(sorted(map(str, ids))).encode("utf-8"))
    return h.hexdigest()


def _python_label(value: object) -> BlockLabel:
    if isinstance(value, np.integer):
        return int(value)
    return value if isinstance(value, int) else str(value)


@dataclass(frozen=True, slots=True)
class Structure:
    """Validated units, clusters and blocks of a design applied to data (rows in data order).

    Clusters are numbered in (block, cluster id) order and blocks in sorted-label order, so
    the numbering does not depend on the order of the input rows.
    """

    unit_ids: np.ndarray  # canonical id per row
    row_cluster: np.ndarray  # cluster index per row
    cluster_block: np.ndarray  # block index per cluster (clusters sorted by block, id)
    block_labels: tuple[BlockLabel | None, ...]
    block_starts: np.ndarray  # clusters of block b are block_starts[b]:block_starts[b+1]
    cluster_ids: np.ndarray  # canonical cluster id per cluster

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_block)

    @property
    def n_blocks(self) -> int:
        return len(self.block_labels)


def unique_inverse(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for :func:`canonical_ids` output.

    Text ids are hashed (:func:`pandas.factorize`) and only the distinct ones sorted, by
    Arrow in code-point order (the order Python and numpy sort ``str`` in): the same arrays,
    without a comparison sort of every row's Python string.
    """
    if ids.dtype != object or len(ids) == 0:
        return np.unique(ids, return_inverse=True)
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(ids)
    try:
        if (codes < 0).any():
            raise ValueError("missing id")
        order = np.asarray(pc.array_sort_indices(pa.array(uniques, type=pa.large_string())))
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return np.unique(ids, return_inverse=True)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    return np.asarray(uniques, dtype=object)[order], rank[codes]


def prepare(design: Design, data: pd.DataFrame, *, check_unique_units: bool = True) -> Structure:
    """Validate ``data`` against ``design`` and build the cluster/block structure."""
    require_columns(
        data, {"unit": design.unit, "blocks": design.blocks, "clusters": design.clusters}
    )
    if len(data) == 0:
        raise DataError("data: no rows")
    units = canonical_ids(data[design.unit], "unit")
    if check_unique_units:
        dup = pd.Series(units).duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataError(
                f"unit: column {design.unit!r} must identify one row per unit; "
                f"{int(dup.sum())} rows share an id: {format_rows(data.index[dup])}"
            )
    if design.blocks is not None:
        braw = canonical_ids(data[design.blocks], "blocks")
        blabels, bcode = unique_inverse(braw)
        block_labels = tuple(_python_label(b) for b in blabels)
    else:
        bcode = np.zeros(len(data), dtype=np.int64)
        block_labels = (None,)  # type: ignore[assignment]
    craw = canonical_ids(data[design.clusters], "clusters") if design.clusters else units
    cuniq, ccode = unique_inverse(craw)
    ncl = len(cuniq)
    bmin = np.full(ncl, np.iinfo(np.int64).max, dtype=np.int64)
    bmax = np.full(ncl, -1, dtype=np.int64)
    np.minimum.at(bmin, ccode, bcode)
    np.maximum.at(bmax, ccode, bcode)
    spanning = bmin != bmax
    if spanning.any():
        bad_rows = data.index[spanning[ccode]]
        raise DesignError(
            f"clusters: clusters must be nested in blocks; {int(spanning.sum())} clusters of "
            f"{design.clusters!r} span several {design.blocks!r} blocks (first: "
            f"{_python_label(cuniq[spanning][0])!r}): {format_rows(bad_rows)}"
        )
    # number clusters in (block, cluster id) order; cuniq is already sorted by id
    order = np.lexsort((np.arange(ncl), bmin))
    rank = np.empty(ncl, dtype=np.int64)
    rank[order] = np.arange(ncl)
    cluster_block = bmin[order]
    starts = np.searchsorted(cluster_block, np.arange(len(block_labels) + 1))
    return Structure(
        unit_ids=units,
        row_cluster=rank[ccode],
        cluster_block=cluster_block,
        block_labels=block_labels,
        block_starts=starts,
        cluster_ids=cuniq[order],
    )


def exclusion_reasons(design: Design, data: pd.DataFrame, st: Structure) -> np.ndarray:
    """The exclusion reason of each row (``None`` when eligible), propagated to clusters."""
    reasons = np.full(len(data), None, dtype=object)
    for rule in design.exclude:
        if rule.rule == "max_household_size":
            col = rule.column or design.clusters
            if col is None:
                raise SpecificationError(
                    "exclude: max_household_size needs a household column: set "
                    "Exclusion.max_household_size(k, household=...) or the design's clusters"
                )
            require_columns(data, {"exclude (max_household_size)": col})
            hh = canonical_ids(data[col], "exclude (max_household_size)")
            _, inv, sizes = np.unique(hh, return_inverse=True, return_counts=True)
            hit = sizes[inv] > (rule.max_size or 0)
        elif rule.rule == "do_not_contact":
            col = rule.column or design.unit
            require_columns(data, {"exclude (do_not_contact)": col})
            ids = canonical_ids(data[col], "exclude (do_not_contact)")
            listed = np.asarray(
                [
                    int(v) if ids.dtype.kind in "iu" and isinstance(v, int) else str(v)
                    for v in rule.ids
                ],
                dtype=ids.dtype if ids.dtype.kind in "iu" else object,
            )
            if ids.dtype.kind in "iu" and any(isinstance(v, str) for v in rule.ids):
                raise DataError(
                    f"exclude (do_not_contact): column {col!r} holds integers but the list holds "
                    f"strings, e.g. {next(v for v in rule.ids if isinstance(v, str))!r}"
                )
            hit = np.isin(ids, listed)
        else:
            col = rule.column
            require_columns(data, {"exclude (flag)": col})
            flag = data[col]
            if not (
                pd.api.types.is_bool_dtype(flag.dtype) or pd.api.types.is_numeric_dtype(flag.dtype)
            ):
                raise DataError(
                    f"exclude (flag): column {col!r} must be boolean or 0/1; "
                    f"found dtype {flag.dtype}"
                )
            hit = flag.fillna(False).astype(bool).to_numpy()
        new = hit & (reasons == None)  # noqa: E711 - elementwise on an object array
        reasons[new] = rule.reason
    excluded_cluster = np.zeros(st.n_clusters, dtype=bool)
    excluded_cluster[st.row_cluster[reasons != None]] = True  # noqa: E711
    member = excluded_cluster[st.row_cluster] & (reasons == None)  # noqa: E711
    if member.any():
        first: dict[int, str] = {}
        for c, r in zip(st.row_cluster[reasons != None], reasons[reasons != None], strict=True):  # noqa: E711
            first.setdefault(int(c), r)
        reasons[member] = [
            f"cluster member excluded ({first[int(c)]})" for c in st.row_cluster[member]
        ]
    return reasons


def block_arm_fractions(
    design: Design, label: BlockLabel | None, n: int
) -> tuple[list[Fraction] | None, list[int] | None]:
    """Probabilities (or exact counts) of the arms for a block with ``n`` eligible clusters.

    Counts given for the block (or for all blocks) win; otherwise the arm probabilities.
    """
    requested = design.counts_for(label)
    probs = design.probabilities_for(label)
    if requested is None and probs is not None:
        return list(probs), None
    where = f"block {label!r}" if label is not None else "the sample"
    if requested is None:
        what = "probabilities" if design.block_probabilities is not None else "counts"
        raise DesignError(
            f"{what}: no {what} are given for {where}; give {what} for every block in the data "
            "(or arm probabilities for the blocks not listed)"
        )
    total = sum(requested.values())
    missing = [a for a in design.arm_labels if a not in requested]
    if total > n:
        raise DesignError(
            f"counts: {where} has {n} eligible units (clusters), too few for the requested "
            f"counts {requested!r} (total {total})"
        )
    if missing:
        requested = {**requested, missing[0]: n - total}
    elif total != n:
        raise DesignError(
            f"counts: the counts for {where} add up to {total} but it has {n} eligible units "
            f"(clusters); leave one arm out to give it the rest"
        )
    return None, [requested[a] for a in design.arm_labels]


def block_count_support(
    design: Design, label: BlockLabel | None, n: int
) -> list[tuple[tuple[int, ...], Fraction]]:
    """Exact distribution of the arm counts in a block of ``n`` eligible clusters."""
    probs, counts = block_arm_fractions(design, label, n)
    if counts is not None:
        return [(tuple(counts), Fraction(1))]
    assert probs is not None
    return count_distribution(n, probs)


def pair_support(
    design: Design, label: BlockLabel | None, n_pair: int, arm: int, control: int
) -> list[tuple[int, Fraction]]:
    """Simple randomisation: distribution of the number in ``arm`` among the ``n_pair``
    clusters of ``arm`` or ``control`` in a block (each independently, with probability
    :math:`p_a / (p_a + p_c)`)."""
    probs, _ = block_arm_fractions(design, label, max(n_pair, 1))
    assert probs is not None
    return binomial_distribution(n_pair, probs[arm] / (probs[arm] + probs[control]))


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise SpecificationError(f"seed: expected a non-negative integer; found {seed!r}")
    return int(seed)


def _arm_array(labels: list[ArmLabel | None], all_labels: tuple[ArmLabel, ...]) -> object:
    if isinstance(all_labels[0], int):
        return pd.array(labels, dtype="Int64")  # type: ignore[call-overload]
    return pd.array(labels, dtype="str")  # type: ignore[call-overload]


def assign(design: Design, data: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Randomise the units of ``data`` under ``design`` (see :class:`Design`).

    Returns
    -------
    DataFrame
        One row per unit, sorted by unit id: the unit column, the block and cluster
        columns (when the design has them), one column per factor (factorial designs),
        ``arm``, ``probability`` (the unit's probability of the arm it got) and
        ``excluded_reason`` (missing for randomised units; for excluded units ``arm`` and
        ``probability`` are missing). ``attrs`` records ``fieldexp_design`` (the design as
        JSON), ``fieldexp_seed`` and ``fieldexp_ids_sha256`` (SHA-256 of the sorted unit ids).
    """
    seed = _check_seed(seed)
    st = prepare(design, data)
    reasons = exclusion_reasons(design, data, st)
    eligible_cluster = np.ones(st.n_clusters, dtype=bool)
    eligible_cluster[st.row_cluster[reasons != None]] = False  # noqa: E711
    cluster_arm = np.full(st.n_clusters, -1, dtype=np.int64)
    cluster_prob = np.full(st.n_clusters, np.nan)
    for b, label in enumerate(st.block_labels):
        lo, hi = st.block_starts[b], st.block_starts[b + 1]
        idx = np.arange(lo, hi)[eligible_cluster[lo:hi]]
        n = len(idx)
        if n == 0:
            continue
        probs, counts = block_arm_fractions(design, label, n)
        rng = block_rng(seed, block_key(label))
        if design.scheme == "simple":
            assert probs is not None  # counts are refused with scheme="simple"
            arm, m = simple_block(n, rng, probs)
        else:
            arm, m = assign_block(n, rng, probs=probs, counts=counts)
        cluster_arm[idx] = arm
        p = np.array([float(x) for x in probs]) if probs is not None else m / n
        cluster_prob[idx] = p[arm]
    row_arm = cluster_arm[st.row_cluster]
    order = np.argsort(st.unit_ids, kind="stable")
    cols: dict[str, object] = {design.unit: data[design.unit].to_numpy()[order]}
    if design.blocks is not None:
        cols[design.blocks] = data[design.blocks].to_numpy()[order]
    if design.clusters is not None and design.clusters != design.unit:
        cols[design.clusters] = data[design.clusters].to_numpy()[order]
    labels_sorted = [design.arm_labels[a] if a >= 0 else None for a in row_arm[order]]
    if design.factors is not None:
        for j, f in enumerate(design.factors):
            lev = [
                None if lab is None else str(lab).split("|")[j].split("=", 1)[1]
                for lab in labels_sorted
            ]
            lookup = {str(x): x for x in f.levels}
            vals = [None if v is None else lookup[v] for v in lev]
            cols[f.name] = _arm_array(vals, f.levels)
    cols["arm"] = _arm_array(labels_sorted, design.arm_labels)
    cols["probability"] = cluster_prob[st.row_cluster][order]
    cols["excluded_reason"] = pd.array(list(reasons[order]), dtype="str")
    out = pd.DataFrame(cols)
    out.attrs["fieldexp_design"] = design.to_json()
    out.attrs["fieldexp_seed"] = seed
    out.attrs["fieldexp_ids_sha256"] = ids_sha256(st.unit_ids)
    return out
