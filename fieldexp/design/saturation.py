r"""Two-stage (saturation) designs: clusters randomised to saturations, then units within.

Sinclair, McConnell & Green (2012) randomised neighbourhoods (zip codes) to a *saturation* —
the share of their households to canvass — and then households within each neighbourhood.
Comparing units of canvassed neighbourhoods that were not canvassed themselves with units of
pure-control neighbourhoods (saturation 0) measures spillovers between households.

Stage 1 is a complete randomisation of the clusters: exactly :math:`m_k` clusters receive
saturation :math:`s_k` (every permutation equally likely). With ``blocks`` (e.g. matched
triplets of similar neighbourhoods, or départements), stage 1 is a complete randomisation
*within* each block :math:`b`: exactly :math:`m_{bk}` of its :math:`C_b` clusters receive
:math:`s_k` (counts given per block, or shares :math:`\pi_k` with :math:`m_{bk} = \pi_k C_b`
whole), independently across blocks. Stage 2 is a complete randomisation
within each cluster :math:`c` of :math:`n_c` units: :math:`k_c = \lfloor n_c s \rfloor` units
are treated, plus one more with probability :math:`n_c s - k_c` (so every unit of a
saturation-:math:`s` cluster is treated with probability exactly :math:`s`). Draws are keyed to
the sorted cluster and unit ids, so row order never matters.

When every :math:`n_c s_k` is whole, the number of possible assignments is

.. math:: \sum_{\text{stage-1 allocations}} \prod_c \binom{n_c}{n_c s(c)},

each allocation having probability :math:`1/\binom{C}{m_1, \dots, m_K}` (blocked:
:math:`1/\prod_b \binom{C_b}{m_{b1}, \dots, m_{bK}}`) and each stage-2
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
    ``sizes`` units per cluster; ``cluster_block`` the block code of each cluster (all 0
    without blocks) and ``block_ids`` the sorted block labels.
    """

    unit_ids: np.ndarray
    cluster_ids: np.ndarray
    cluster: np.ndarray
    sizes: np.ndarray
    cluster_block: np.ndarray | None = None
    block_ids: np.ndarray | None = None

    def block_members(self) -> list[np.ndarray]:
        """Cluster codes of each block (one block holding every cluster without blocks)."""
        if self.cluster_block is None:
            return [np.arange(len(self.cluster_ids))]
        nb = int(self.cluster_block.max()) + 1 if len(self.cluster_block) else 0
        return [np.flatnonzero(self.cluster_block == b) for b in range(nb)]


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
        clusters. With ``blocks``, the counts (or shares) apply to every block.
    blocks : str, optional
        Column of stage-1 blocks: clusters are randomised to saturations *within* each block
        (clusters must nest in blocks).

    Examples
    --------
    >>> design = SaturationDesign("household_id", "zip", {0: 10, 0.5: 10, 1: 10})
    >>> assignment = design.assign(voters, seed=1)  # doctest: +SKIP
    """

    unit: str
    clusters: str
    saturations: tuple[tuple[Fraction, float], ...]
    blocks: str | None

    def __init__(
        self,
        unit: str,
        clusters: str,
        saturations: Mapping[object, object],
        *,
        blocks: str | None = None,
    ) -> None:
        if blocks is not None and (not isinstance(blocks, str) or blocks in (unit, clusters)):
            raise SpecificationError(
                "The 'blocks' parameter of SaturationDesign must be a column name (str) other "
                f"than the unit and cluster columns. Got {blocks!r}."
            )
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
        object.__setattr__(self, "blocks", blocks)

    # ----------------------------------------------------------------- units and counts
    @property
    def levels(self) -> tuple[float, ...]:
        return tuple(float(lv) for lv, _ in self.saturations)

    def units(self, data: pd.DataFrame, *, function: str = "SaturationDesign") -> SaturationUnits:
        """Validate ``data`` and return its units in canonical (sorted) order."""
        frame = check_frame(data, function=function)
        check_columns(
            frame,
            {"unit": self.unit, "clusters": self.clusters, "blocks": self.blocks},
            function=function,
        )
        for col in (self.unit, self.clusters, *([self.blocks] if self.blocks else [])):
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
        cluster_block: np.ndarray | None = None
        block_ids: np.ndarray | None = None
        if self.blocks is not None:
            cb = frame[[self.clusters, self.blocks]].drop_duplicates()
            spans = cb[self.clusters].duplicated(keep=False).to_numpy()
            if spans.any():
                bad = cb[self.clusters][spans].unique()[:5]
                raise DesignError(
                    f"clusters of {self.clusters!r} must nest in blocks of {self.blocks!r}; "
                    f"clusters {', '.join(map(repr, bad))} appear in several ({function})."
                )
            b_codes, b_labels = pd.factorize(cb[self.blocks], sort=True)
            of = pd.Series(b_codes, index=cb[self.clusters].to_numpy())
            cluster_block = of.loc[np.asarray(cl_ids)].to_numpy(dtype=np.int64)
            block_ids = np.asarray(b_labels)
        return SaturationUnits(
            unit_ids=pairs[self.unit].to_numpy(),
            cluster_ids=np.asarray(cl_ids),
            cluster=np.asarray(cl_codes, dtype=np.int64),
            sizes=sizes,
            cluster_block=cluster_block,
            block_ids=block_ids,
        )

    def block_members(self, units: SaturationUnits) -> list[np.ndarray]:
        """Cluster codes of each stage-1 block of this design (one block without blocks)."""
        if self.blocks is None:
            return [np.arange(len(units.cluster_ids))]
        return units.block_members()

    def block_counts(self, units: SaturationUnits) -> list[np.ndarray]:
        """Clusters per saturation level in each block (one entry without blocks)."""
        out = []
        for b, members in enumerate(self.block_members(units)):
            try:
                out.append(self.cluster_counts(len(members)))
            except DesignError as exc:
                if self.blocks is None or units.block_ids is None:
                    raise
                raise DesignError(f"block {units.block_ids[b]!r}: {exc}") from None
        return out

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
        blocks = self.block_members(units)
        pools = [np.repeat(np.array(self.levels), c) for c in self.block_counts(units)]
        n = len(units.unit_ids)
        start = np.r_[0, np.cumsum(units.sizes)[:-1]]
        rank = np.arange(n) - start[units.cluster]
        sat = np.empty((reps, n_cl))
        treated = np.empty((reps, n), dtype=bool)
        for r in range(reps):
            for members, pool in zip(blocks, pools, strict=True):
                # one permutation per block (the whole sample when unblocked)
                sat[r, members] = pool[rng.permutation(len(members))]
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
        cols: dict[str, object] = {
            self.unit: units.unit_ids,
            self.clusters: units.cluster_ids[units.cluster],
        }
        if self.blocks is not None:
            assert units.block_ids is not None and units.cluster_block is not None
            cols[self.blocks] = units.block_ids[units.cluster_block[units.cluster]]
        cols.update({"saturation": s, "arm": arm, "probability": np.where(arm == 1, s, 1 - s)})
        return pd.DataFrame(cols)

    # ----------------------------------------------------------------- enumeration
    def n_allocations(self, units: SaturationUnits) -> int:
        """Number of stage-1 allocations, the multinomial :math:`C! / \\prod_k m_k!`
        (blocked: the product of the blocks' multinomials)."""
        return math.prod(
            math.factorial(int(counts.sum())) // math.prod(math.factorial(int(m)) for m in counts)
            for counts in self.block_counts(units)
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
        levels = np.array(self.levels)
        prob = 1.0 / self.n_allocations(units)

        def fill(
            free: tuple[int, ...], k: int, out: np.ndarray, counts: list[int]
        ) -> Iterator[np.ndarray]:
            if k == len(counts) - 1:
                out[list(free)] = k
                yield out.copy()
                return
            for chosen in itertools.combinations(free, counts[k]):
                out[list(chosen)] = k
                rest = tuple(i for i in free if i not in set(chosen))
                yield from fill(rest, k + 1, out, counts)

        per_block = [
            list(
                fill(
                    tuple(range(len(members))),
                    0,
                    np.zeros(len(members), dtype=np.int64),
                    [int(m) for m in counts],
                )
            )
            for members, counts in zip(
                self.block_members(units), self.block_counts(units), strict=True
            )
        ]
        blocks = self.block_members(units)
        for combo in itertools.product(*per_block):
            codes = np.zeros(n_cl, dtype=np.int64)
            for members, block_codes in zip(blocks, combo, strict=True):
                codes[members] = block_codes
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
