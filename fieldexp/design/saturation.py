r"""Two-stage (saturation) designs: clusters randomised to saturations, then units within.

Sinclair, McConnell & Green (2012) randomised neighbourhoods (zip codes) to a *saturation* —
the share of their households to canvass — and then households within each neighbourhood.
Comparing units of canvassed neighbourhoods that were not canvassed themselves with units of
pure-control neighbourhoods (saturation 0) measures spillovers between households.

Stage 1 is a complete randomisation of the clusters: exactly :math:`m_k` clusters receive
saturation :math:`s_k` (every permutation equally likely). Stage 2 is a complete randomisation
within each cluster :math:`c` of :math:`n_c` units: :math:`k_c = \lfloor n_c s \rfloor` units
are treated, plus one more with probability :math:`n_c s - k_c` (so every unit of a
saturation-:math:`s` cluster is treated with probability exactly :math:`s`). Draws are keyed to
the sorted cluster and unit ids, so row order never matters.

When every :math:`n_c s_k` is whole, the number of possible assignments is

.. math:: \sum_{\text{stage-1 allocations}} \prod_c \binom{n_c}{n_c s(c)},

each allocation having probability :math:`1/\binom{C}{m_1, \dots, m_K}` and each stage-2
draw within it :math:`1/\prod_c \binom{n_c}{k_c}`; :meth:`SaturationDesign.enumerate`
lists them with those probabilities (for exact randomisation inference on small designs).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from fieldexp._validate import check_columns, check_frame
from fieldexp.errors import DataError, DesignError, SpecificationError, format_rows

__all__ = ["SaturationDesign", "SaturationUnits"]


@dataclass(frozen=True, slots=True, eq=False)
class SaturationUnits:
    """The units of a saturation design in canonical order (sorted cluster id, unit id).

    ``unit_ids`` / ``cluster_ids`` sorted; ``cluster`` the cluster code of each unit;
    ``sizes`` units per cluster.
    """

    unit_ids: np.ndarray
    cluster_ids: np.ndarray
    cluster: np.ndarray
    sizes: np.ndarray


@dataclass(frozen=True, slots=True)
class SaturationDesign:
    """A two-stage design: clusters to saturation levels, then units within clusters.

    Parameters
    ----------
    unit : str
        Column of the stage-2 unit (e.g. household id). ``data`` may hold several rows per
        unit (voters of a household); they must agree on the cluster.
    clusters : str
        Column of the stage-1 cluster (e.g. neighbourhood).
    saturations : mapping
        ``{level: number of clusters}`` (integers summing to the number of clusters) or
        ``{level: share}`` (floats summing to one, each share times the number of clusters
        whole). Levels are shares of treated units in ``[0, 1]``; include 0 for pure-control
        clusters.

    Examples
    --------
    >>> design = SaturationDesign("household_id", "zip", {0: 10, 0.5: 10, 1: 10})
    >>> assignment = design.assign(voters, seed=1)  # doctest: +SKIP
    """

    unit: str
    clusters: str
    saturations: tuple[tuple[Fraction, float], ...]

    def __init__(self, unit: str, clusters: str, saturations: Mapping[object, object]) -> None:
        for name, value in (("unit", unit), ("clusters", clusters)):
            if not isinstance(value, str):
                raise SpecificationError(
                    f"The {name!r} parameter of SaturationDesign must be a column name (str). "
                    f"Got {value!r}."
                )
        if unit == clusters:
            raise SpecificationError("SaturationDesign: 'unit' and 'clusters' must differ.")
        if not isinstance(saturations, Mapping) or len(saturations) < 2:
            raise SpecificationError(
                "The 'saturations' parameter of SaturationDesign must map at least two "
                f"saturation levels to numbers of clusters or shares. Got {saturations!r}."
            )
        levels: list[tuple[Fraction, float]] = []
        for level, amount in saturations.items():
            if (
                isinstance(level, bool)
                or not isinstance(level, numbers.Real)
                or not 0 <= float(level) <= 1
            ):
                raise SpecificationError(
                    f"saturation levels are shares of treated units in [0, 1]; got {level!r}."
                )
            if (
                isinstance(amount, bool)
                or not isinstance(amount, numbers.Real)
                or float(amount) < 0
            ):
                raise SpecificationError(
                    f"saturation {level!r}: the number (or share) of clusters must be a "
                    f"non-negative number; got {amount!r}."
                )
            levels.append((Fraction(str(level)), float(amount)))
        levels.sort()
        if len({lv for lv, _ in levels}) != len(levels):
            raise SpecificationError(f"saturation levels are repeated in {saturations!r}.")
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "clusters", clusters)
        object.__setattr__(self, "saturations", tuple(levels))

    # ----------------------------------------------------------------- units and counts
    @property
    def levels(self) -> tuple[float, ...]:
        return tuple(float(lv) for lv, _ in self.saturations)

    def units(self, data: pd.DataFrame, *, function: str = "SaturationDesign") -> SaturationUnits:
        """Validate ``data`` and return its units in canonical (sorted) order."""
        frame = check_frame(data, function=function)
        check_columns(frame, {"unit": self.unit, "clusters": self.clusters}, function=function)
        for col in (self.unit, self.clusters):
            miss = frame[col].isna().to_numpy()
            if miss.any():
                raise DataError(
                    f"column {col!r} of {function} cannot be missing; found "
                    f"{int(miss.sum()):,} in {format_rows(frame.index[miss][:5], total=int(miss.sum()))}."
                )
        pairs = frame[[self.unit, self.clusters]].drop_duplicates()
        dup = pairs[self.unit].duplicated(keep=False).to_numpy()
        if dup.any():
            bad = pairs[self.unit][dup].unique()[:5]
            raise DesignError(
                f"units of {self.unit!r} must sit in one cluster of {self.clusters!r}; "
                f"units {', '.join(map(repr, bad))} appear in several ({function})."
            )
        pairs = pairs.sort_values([self.clusters, self.unit], kind="stable")
        cl_codes, cl_ids = pd.factorize(pairs[self.clusters], sort=True)
        sizes = np.bincount(cl_codes, minlength=len(cl_ids))
        return SaturationUnits(
            unit_ids=pairs[self.unit].to_numpy(),
            cluster_ids=np.asarray(cl_ids),
            cluster=np.asarray(cl_codes, dtype=np.int64),
            sizes=sizes,
        )

    def cluster_counts(self, n_clusters: int) -> np.ndarray:
        """Clusters per saturation level (in level order) for ``n_clusters`` clusters."""
        amounts = [a for _, a in self.saturations]
        if all(float(a).is_integer() for a in amounts) and sum(amounts) == n_clusters:
            return np.array([int(a) for a in amounts], dtype=np.int64)
        if abs(sum(amounts) - 1.0) < 1e-12:
            counts = [a * n_clusters for a in amounts]
            if all(abs(c - round(c)) < 1e-9 for c in counts):
                return np.array([round(c) for c in counts], dtype=np.int64)
            raise DesignError(
                f"saturation shares {amounts} of {n_clusters:,} clusters are not whole numbers of "
                "clusters; give the number of clusters per level instead."
            )
        raise DesignError(
            f"the saturation design asks for {sum(amounts):g} clusters but the data have "
            f"{n_clusters:,}; give counts summing to {n_clusters:,} or shares summing to one."
        )

    # ----------------------------------------------------------------- drawing
    def draw(
        self, units: SaturationUnits, reps: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``reps`` draws: saturation per cluster ``(reps, C)`` and treated per unit ``(reps, n)``."""
        n_cl = len(units.cluster_ids)
        counts = self.cluster_counts(n_cl)
        pool = np.repeat(np.array(self.levels), counts)
        n = len(units.unit_ids)
        start = np.r_[0, np.cumsum(units.sizes)[:-1]]
        rank = np.arange(n) - start[units.cluster]
        sat = np.empty((reps, n_cl))
        treated = np.empty((reps, n), dtype=bool)
        for r in range(reps):
            sat[r] = pool[rng.permutation(n_cl)]
            target = sat[r] * units.sizes
            k = np.floor(target + 1e-12)
            k += rng.random(n_cl) < (target - k)
            # units shuffled within clusters: cluster code + a key in [0, 0.5) sorts by
            # cluster first (exactly, for any realistic number of clusters), then at random
            order = np.argsort(units.cluster + 0.5 * rng.random(n), kind="stable")
            pos = np.empty(n, dtype=np.int64)
            pos[order] = rank
            treated[r] = pos < k[units.cluster]
        return sat, treated

    def assign(self, data: pd.DataFrame, seed: int) -> pd.DataFrame:
        """Draw one assignment, one row per unit (sorted by cluster then unit id).

        Columns: ``unit``, ``clusters``, ``saturation`` (the cluster's level), ``arm`` (1
        treated, 0 not) and ``probability`` (of the unit's arm given its cluster's saturation).
        """
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise SpecificationError(
                f"SaturationDesign.assign needs an integer seed; got {seed!r}."
            )
        units = self.units(data, function="SaturationDesign.assign")
        sat, treated = self.draw(units, 1, np.random.default_rng(int(seed)))
        s = sat[0][units.cluster]
        arm = treated[0].astype(np.int64)
        return pd.DataFrame(
            {
                self.unit: units.unit_ids,
                self.clusters: units.cluster_ids[units.cluster],
                "saturation": s,
                "arm": arm,
                "probability": np.where(arm == 1, s, 1 - s),
            }
        )

    # ----------------------------------------------------------------- enumeration
    def n_allocations(self, units: SaturationUnits) -> int:
        """Number of stage-1 allocations, the multinomial :math:`C! / \\prod_k m_k!`."""
        counts = self.cluster_counts(len(units.cluster_ids))
        return math.factorial(int(counts.sum())) // math.prod(
            math.factorial(int(m)) for m in counts
        )

    def n_assignments(self, units: SaturationUnits, *, limit: int = 1_000_000) -> int | None:
        """Number of possible assignments; None when some :math:`n_c s` is not whole or when
        there are more than ``limit`` stage-1 allocations (too many to count one by one)."""
        if self.n_allocations(units) > limit:
            return None
        total = 0
        for sat, _ in self._allocations(units):
            k = sat * units.sizes
            if np.any(np.abs(k - np.round(k)) > 1e-9):
                return None
            total += math.prod(
                math.comb(int(n), round(kc)) for n, kc in zip(units.sizes, k, strict=True)
            )
        return total

    def _allocations(self, units: SaturationUnits) -> Iterator[tuple[np.ndarray, float]]:
        """Stage-1 allocations (saturation per cluster) with their probability."""
        n_cl = len(units.cluster_ids)
        counts = [int(m) for m in self.cluster_counts(n_cl)]
        levels = np.array(self.levels)
        prob = 1.0 / self.n_allocations(units)

        def fill(free: tuple[int, ...], k: int, out: np.ndarray) -> Iterator[np.ndarray]:
            if k == len(counts) - 1:
                out[list(free)] = k
                yield out.copy()
                return
            for chosen in itertools.combinations(free, counts[k]):
                out[list(chosen)] = k
                rest = tuple(i for i in free if i not in set(chosen))
                yield from fill(rest, k + 1, out)

        for codes in fill(tuple(range(n_cl)), 0, np.zeros(n_cl, dtype=np.int64)):
            yield levels[codes], prob

    def enumerate(
        self, data: pd.DataFrame, *, limit: int = 100_000
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every assignment with its probability: ``(saturation (A, C), treated (A, n), prob (A,))``.

        Units in canonical order (:meth:`units`). Refused (:class:`DesignError`) when some
        :math:`n_c s` is not whole or when there are more than ``limit`` assignments.
        """
        units = self.units(data, function="SaturationDesign.enumerate")
        if self.n_allocations(units) > limit:
            raise DesignError(
                f"the saturation design has {self.n_allocations(units):,} stage-1 allocations, "
                f"more than {limit:,}; use random draws instead of enumeration."
            )
        n = len(units.unit_ids)
        members = [np.flatnonzero(units.cluster == c) for c in range(len(units.cluster_ids))]
        sats: list[np.ndarray] = []
        treats: list[np.ndarray] = []
        probs: list[float] = []
        for sat, p1 in self._allocations(units):
            per_cluster = []
            for c, idx in enumerate(members):
                k = sat[c] * len(idx)
                if abs(k - round(k)) > 1e-9:
                    raise DesignError(
                        f"exact enumeration needs whole numbers of treated units; cluster "
                        f"{units.cluster_ids[c]!r} has {len(idx)} units at saturation {sat[c]:g}."
                    )
                per_cluster.append(list(itertools.combinations(idx, round(k))))
            n2 = math.prod(len(x) for x in per_cluster)
            if len(probs) + n2 > limit:
                raise DesignError(
                    f"the saturation design has more than {limit:,} possible assignments; "
                    "use random draws instead of enumeration."
                )
            for combo in itertools.product(*per_cluster):
                t = np.zeros(n, dtype=bool)
                for chosen in combo:
                    t[list(chosen)] = True
                sats.append(sat)
                treats.append(t)
                probs.append(p1 / n2)
        return np.array(sats), np.array(treats), np.array(probs)
