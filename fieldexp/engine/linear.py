r"""OLS and 2SLS with absorbed block fixed effects, in passes of GROUP BY.

For columns :math:`v = (y, [d], z, x_1, \dots, x_p)`:

1. **cell means** — ``GROUP BY block``: :math:`n_b` and :math:`\bar v_b` (*B* rows; without
   blocks one group, which is the intercept by Frisch–Waugh–Lovell);
2. **cross-products** of the within-transformed columns :math:`\tilde v = v - \bar v_{b(i)}`
   (the means joined back in the engine): :math:`C = \sum_i \tilde v_i \tilde v_i^\top`
   (one row). Locally, OLS :math:`\hat\beta = C_{XX}^{-1} C_{Xy}`; 2SLS
   :math:`\Pi = C_{ZZ}^{-1}C_{ZX}`, :math:`M = (\Pi^\top C_{ZX})^{-1}`,
   :math:`\hat\beta = M\,\Pi^\top C_{Zy}`;
3. **scores** with :math:`\hat\beta` sent back as literals, residuals
   :math:`e_i = \tilde y_i - \tilde x_i^\top\hat\beta` and scores on :math:`s_i = \tilde x_i`
   (2SLS: :math:`\tilde z_i`, mapped by :math:`\Pi`):
   HC0/HC1 :math:`\sum_i e_i^2 s_i s_i^\top` (one row); HC2/HC3 the same with
   :math:`(1-h_i)^{-1}` or :math:`(1-h_i)^{-2}\,` weights where
   :math:`h_i = s_i^\top \Pi M \Pi^\top s_i + 1/n_{b(i)}`; CR0/CR1 (``stata``)
   :math:`u_g = \sum_{i\in g} e_i s_i` by ``GROUP BY cluster`` and the meat
   :math:`\sum_g u_g u_g^\top` summed over that in the engine (one row, not *G*).

Then :math:`\hat V = M\,\Pi^\top(\text{meat})\Pi\,M` with the corrections of
:mod:`fieldexp.stats.covariance` (HC1 :math:`n/(n-r)`, CR1 :math:`\frac{G(n-1)}{(G-1)(n-r)}`,
df :math:`n-r` or :math:`G-1`, :math:`r = k + B`). CR2 needs each cluster's
:math:`n_g\times n_g` leverage block and is refused here (:func:`refuse_cr2`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import numpy as np
from scipy import linalg

from fieldexp.engine.prepare import BLOCK, CLUSTER, EngineData, Z
from fieldexp.engine.tables import pull
from fieldexp.errors import DesignError, EstimationError, SpecificationError
from fieldexp.stats.collinear import (
    Ranked,
    check_required,
    cho_inverse,
    fe_label,
    gram_ranked,
    warn_dropped,
)

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["Centred", "EngineFit", "FitSpec", "centre", "fit_engine", "refuse_cr2"]

PUSHED_SE_TYPES = ("HC0", "HC1", "HC2", "HC3", "CR0", "stata")
_N = "_fx_n"


def refuse_cr2(se_type: str, data: EngineData, k: int, *, function: str) -> None:
    """Raise for variance estimators the GROUP BY path cannot compute."""
    if se_type in PUSHED_SE_TYPES:
        return
    G = data.n_clusters
    per_cluster = (k + 1) * (k + 2) // 2 + k + 1
    mb = G * per_cluster * 8 / 1e6
    raise SpecificationError(
        f"se_type={se_type!r} is not pushed down to the engine ({function}): CR2 needs, for each "
        f"of the {G:,} clusters, its n_g x n_g block of the leverage matrix, i.e. cluster-level "
        f"compressed statistics (cross-products of the {k} regressors, residual and fixed effect "
        f"within each cluster, about {per_cluster} numbers per cluster = {mb:,.1f} MB to pull), "
        "which this version does not compute. Use se_type='CR0' or 'stata' on the engine "
        "table, or method='dim' without covariates (CR2 from cluster totals), or pass a "
        "pandas DataFrame."
    )


@dataclass(frozen=True, slots=True, eq=False)
class Centred:
    """The within-transformed table and its cross-product matrix over ``columns``."""

    table: ir.Table
    columns: tuple[str, ...]
    cross: np.ndarray
    n: int
    n_blocks: int
    block_n: np.ndarray
    block_sum_z: np.ndarray
    extra: dict[str, float]
    #: block means of every column (*B* x columns): the raw sums of squares are
    #: :math:`C_{jj} + \sum_b n_b \bar v_{bj}^2` (no extra pass)
    block_means: np.ndarray | None = None

    @property
    def raw_norms(self) -> np.ndarray:
        """Norms of the columns before the block means are taken out."""
        assert self.block_means is not None
        ss = np.diag(self.cross) + self.block_n @ (self.block_means**2)
        return np.sqrt(np.clip(ss, 0.0, None))

    @property
    def means(self) -> np.ndarray:
        """Overall means of the columns."""
        assert self.block_means is not None
        return (self.block_n @ self.block_means) / float(self.block_n.sum())


def centred_name(col: str) -> str:
    return f"{col}_c"


def means_expr(t: ir.Table, columns: Sequence[str]) -> ir.Table:
    """Pass 1: block sizes and means of every column."""
    aggs: dict[str, ir.Value] = {_N: t.count(), "_fx_sum_z": t[Z].sum()}
    for c in columns:
        aggs[f"{c}_m"] = t[c].mean()
    return t.group_by(BLOCK).aggregate(**aggs)


def centred_expr(t: ir.Table, columns: Sequence[str]) -> ir.Table:
    """The table joined to its block means, with centred columns ``<col>_c``."""
    means = means_expr(t, columns).drop("_fx_sum_z")
    j = t.join(means, BLOCK)
    keep = [BLOCK, _N] + ([CLUSTER] if CLUSTER in t.columns else [])
    cols = {centred_name(c): j[c] - j[f"{c}_m"] for c in columns}
    if CLUSTER in t.columns:
        cols["_fx_zraw"] = j[Z]
    return j.select(*keep, **cols)


def cross_expr(c: ir.Table, columns: Sequence[str]) -> ir.Table:
    """Pass 2: :math:`\\sum_i \\tilde v_{ia}\\tilde v_{ib}` for every pair (one row)."""
    aggs = {}
    for a, ca in enumerate(columns):
        for b in range(a, len(columns)):
            aggs[f"cp_{a}_{b}"] = (c[centred_name(ca)] * c[centred_name(columns[b])]).sum()
    return c.aggregate(**aggs)


def centre(data: EngineData, columns: Sequence[str], *, function: str) -> Centred:
    """Passes 1 and 2: block means (checked for one-arm blocks) and cross-products."""
    t = data.table
    mrows = pull(means_expr(t, columns), "block means")
    block_n = mrows[_N].to_numpy().astype(np.float64)
    block_z = mrows["_fx_sum_z"].to_numpy().astype(np.float64)
    one_arm = int(np.sum((block_z == 0) | (block_z == block_n)))
    if one_arm:
        raise DesignError(
            f"{one_arm:,} block(s) have units in one arm only; every block needs assigned and "
            f"not-assigned units ({function})."
        )
    c = centred_expr(t, columns)
    row = pull(cross_expr(c, columns), "cross-products").to_pylist()[0]
    m = len(columns)
    C = np.empty((m, m))
    for a in range(m):
        for b in range(a, m):
            C[a, b] = C[b, a] = float(row[f"cp_{a}_{b}"])
    means = np.column_stack(
        [mrows[f"{col}_m"].to_numpy().astype(np.float64) for col in columns]
    ).reshape(len(block_n), m)
    return Centred(
        c, tuple(columns), C, int(block_n.sum()), len(block_n), block_n, block_z, {}, means
    )


@dataclass(frozen=True, slots=True)
class FitSpec:
    """One regression on the centred columns: outcome, regressors, instruments (2SLS)."""

    y: str
    x: tuple[str, ...]
    names: tuple[str, ...]
    z: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class EngineFit:
    """Coefficients, covariance and df of one engine fit (regressors in ``names`` order)."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    se_type: str
    nobs: int
    nclusters: int | None

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def index(self, name: str) -> int:
        return self.names.index(name)


@dataclass(frozen=True, slots=True, eq=False)
class _Solved:
    coef: np.ndarray
    bread: np.ndarray  # M (zero in the rows and columns of dropped regressors)
    pi: np.ndarray  # maps scores on s to scores on the regressors (identity for OLS)
    scores: tuple[str, ...]
    #: dropped regressors (positions in the reported names, the intercept included when
    #: unblocked) and the names and reasons for the warning
    ranked: Ranked
    names: tuple[str, ...]


def _residual_norms(cen: Centred, B: np.ndarray, G: np.ndarray) -> Callable[..., np.ndarray]:
    return residual_norms(cen.table, [centred_name(c) for c in cen.columns], B, G)


def residual_norms(
    table: ir.Table, columns: Sequence[str], B: np.ndarray, G: np.ndarray
) -> Callable[[list[int], list[int]], np.ndarray]:
    r"""``residuals(picked, undecided)`` for :func:`gram_ranked`: the norm of each undecided
    design column minus its least-squares fit on the picked ones, summed in the engine
    (one row). Design column *j* is :math:`\sum_c B_{cj}\,v_c` over the table's ``columns``
    (within-transformed), :math:`G = B^\top C B`."""

    def residuals(picked: list[int], undecided: list[int]) -> np.ndarray:
        aggs: dict[str, ir.Value] = {}
        for q, u in enumerate(undecided):
            v = B[:, u].copy()
            if picked:
                b = linalg.solve(G[np.ix_(picked, picked)], G[picked, u], assume_a="sym")
                v = v - B[:, picked] @ b
            e: ir.Value | None = None
            for i, col in enumerate(columns):
                if v[i] != 0.0:
                    term = table[col] * float(v[i])
                    e = term if e is None else e + term
            aggs[f"r{q}"] = (e * e).sum() if e is not None else ibis.literal(0.0)
        row = pull(table.aggregate(**aggs), "collinearity residuals").to_pylist()[0]
        return np.sqrt([max(float(row[f"r{q}"] or 0.0), 0.0) for q in range(len(undecided))])

    return residuals


def _ranked(
    cen: Centred,
    B: np.ndarray,
    names: Sequence[str],
    *,
    blocked: bool,
    label: str = "the fixed effects",
    raw_hat: np.ndarray | None = None,
) -> tuple[np.ndarray, Ranked, tuple[str, ...]]:
    r"""The inverse of :math:`G = B^\top C B` (the design's centred Gram matrix) dropping the
    columns the DataFrame route drops (:func:`fieldexp.stats.collinear.gram_ranked`).

    Blocked: the block effects are absorbed as on the DataFrame, the rule applies to the
    centred columns, with their raw norms for a column constant within blocks. Unblocked: the
    DataFrame route has an ``(Intercept)`` column (second, after the effect) in the pivoted QR;
    its uncentred Gram matrix is :math:`G + n\mu\mu^\top` with the intercept row
    :math:`n\mu`; a constant covariate kept in place of the intercept plays its part.
    Returns the bread over the design columns, the ranking (over the reported names) and
    those names.
    """
    C = cen.cross
    G = B.T @ C @ B
    G = (G + G.T) / 2.0
    k = G.shape[0]
    residuals = _residual_norms(cen, B, G)
    if blocked:
        raw = cen.raw_norms @ np.abs(B) if raw_hat is None else raw_hat
        # a design column that is one raw column: its raw norm (fitted values: none, 0)
        rk = gram_ranked(G, names, residuals, n=cen.n, raw_norms=raw, fe_label=label)
        return rk.inverse, rk, tuple(names)
    n = float(cen.n)
    mu = B.T @ cen.means
    order = [0, k, *range(1, k)]  # (effect, intercept, covariates): the DataFrame's order
    U = np.zeros((k + 1, k + 1))
    U[:k, :k] = G + n * np.outer(mu, mu)
    U[k, :k] = U[:k, k] = n * mu
    U[k, k] = n
    Uo = U[np.ix_(order, order)]
    full_names = (names[0], "(Intercept)", *names[1:])
    own = np.sqrt(np.clip(np.diag(Uo), 0.0, None))
    constant = [i for i in range(k + 1) if i == 1 or G[order[i], order[i]] <= (1e-11 * own[i]) ** 2]

    def residuals_full(picked: list[int], undecided: list[int]) -> np.ndarray:
        if not any(i in constant for i in picked):
            raise EstimationError(
                f"{full_names[undecided[0]]!r} is collinear with the other regressors in a "
                "way that involves the intercept, which the engine's centred cross-products "
                "cannot decide as estimatr's pivoted QR does; drop the duplicated covariates, "
                "or pass a pandas DataFrame"
            )
        p = [order[i] for i in picked if i not in constant]
        # the intercept's centred column is zero: its residual on a constant covariate is 0
        cols = [order[i] for i in undecided if i != 1]
        got = iter(residuals(p, cols) if cols else [])
        return np.array([0.0 if i == 1 else next(got) for i in undecided])

    rk = gram_ranked(Uo, full_names, residuals_full, n=cen.n, own=own)
    if not rk.dropped:
        return cho_inverse(G), rk, full_names
    kept = [order[i] for i in range(k + 1) if i not in rk.dropped and i not in constant]
    M = np.zeros((k, k))
    if kept:
        M[np.ix_(kept, kept)] = cho_inverse(G[np.ix_(kept, kept)])
    return M, rk, full_names


def _position(full: tuple[str, ...], blocked: bool, j: int) -> int:
    """Position of design column ``j`` in the reported names (after the intercept)."""
    return j if blocked or j == 0 else j + 1


def _solve(
    cen: Centred,
    spec: FitSpec,
    *,
    blocked: bool,
    label: str,
    z_names: Sequence[str] | None = None,
) -> _Solved:
    idx = {c: i for i, c in enumerate(cen.columns)}
    m = len(cen.columns)
    xi = [idx[c] for c in spec.x]
    yi = idx[spec.y]
    C = cen.cross

    def basis(cols: list[int]) -> np.ndarray:
        B = np.zeros((m, len(cols)))
        B[cols, range(len(cols))] = 1.0
        return B

    if spec.z is None:
        M, rk, full = _ranked(cen, basis(xi), spec.names, blocked=blocked, label=label)
        check_required(full, rk, spec.names[:1])
        beta = M @ C[xi, yi]
        return _Solved(beta, M, np.eye(len(xi)), spec.x, rk, full)
    zi = [idx[c] for c in spec.z]
    zn = tuple(z_names) if z_names else tuple(f"instrument {j}" for j in range(len(zi)))
    MZ, rz, zfull = _ranked(cen, basis(zi), zn, blocked=blocked, label=label)
    if rz.dropped:
        _check_instrument(rz, zfull, zi, xi, zn, spec.names, blocked, label)
    Pi = MZ @ C[np.ix_(zi, xi)]  # (l, k)
    for j, c in enumerate(xi):
        if c in zi:  # an exogenous regressor is its own first-stage fit
            Pi[:, j] = 0.0
            Pi[zi.index(c), j] = 1.0
    Bhat = basis(zi) @ Pi  # the fitted values on the centred columns
    raw_hat = None
    if blocked:
        raw_hat = np.where([c in zi for c in xi], cen.raw_norms[xi], 0.0)
    M, rk, full = _ranked(cen, Bhat, spec.names, blocked=blocked, label=label, raw_hat=raw_hat)
    lost = [spec.names[j] for j, c in enumerate(xi) if c not in zi if
            _position(full, blocked, j) in rk.dropped]  # fmt: skip
    if lost:
        raise EstimationError(
            f"the fitted values of {', '.join(map(repr, lost))} from the instruments are "
            "collinear with the exogenous regressors: the instruments do not move "
            f"{'it' if len(lost) == 1 else 'them'} once the covariates and {label} are held "
            "fixed, so the 2SLS estimate is not identified; drop the covariates that "
            "duplicate the instrument"
        )
    check_required(full, rk, spec.names[:1])
    beta = M @ (Pi.T @ C[zi, yi])
    return _Solved(beta, M, Pi, spec.z, rk, full)


def _check_instrument(
    rz: Ranked,
    zfull: tuple[str, ...],
    zi: list[int],
    xi: list[int],
    zn: Sequence[str],
    names: Sequence[str],
    blocked: bool,
    label: str,
) -> None:
    """Refuse a 2SLS whose excluded instrument is one of a collinear set with the exogenous
    regressors (the DataFrame route's message)."""
    excluded = [j for j, c in enumerate(zi) if c not in xi]
    pos = {_position(zfull, blocked, j) for j in excluded}
    hit = any(j in pos or pos & set(p) for j, p in zip(rz.dropped, rz.partners, strict=True))
    if not hit:
        return
    ex = ", ".join(repr(zn[j]) for j in excluded)
    covs = [repr(names[xi.index(c)]) for c in zi if c in xi]
    raise EstimationError(
        f"the instrument {ex} is collinear with "
        + (", ".join(covs) + f" and {label}" if covs else label)
        + ": once they are held fixed it does not vary, so the 2SLS (CACE) estimate is not "
        "identified; drop the covariate(s) that duplicate the instrument"
    )


def fit_engine(
    cen: Centred,
    specs: Sequence[FitSpec],
    *,
    se_type: str,
    blocked: bool,
    clustered: bool,
    function: str,
    small_sample: str = "estimatr",
    blocks_name: str | None = None,
) -> list[EngineFit]:
    """Pass 3 for several fits at once (their score sums share one GROUP BY).

    ``small_sample="fixest"`` changes *K* of the CR1 factor only: block effects nested in the
    clusters (every block inside one cluster; counted in the engine) are left out, as
    :func:`fieldexp.stats.covariance.fixest_fe_count`.
    """
    name_of = {c: nm for s in specs for c, nm in zip(s.x, s.names, strict=True)}
    # named as the DataFrame route names them (fieldexp.stats.collinear.fe_label)
    label = fe_label((blocks_name or "blocks",)) if blocked else "the fixed effects"
    solved = [
        _solve(
            cen,
            s,
            blocked=blocked,
            label=label,
            z_names=None
            if s.z is None
            else [name_of.get(c, f"instrument {j}") for j, c in enumerate(s.z)],
        )
        for s in specs
    ]
    # one warning, from the last fit that dropped columns (the 2SLS of fx.cace; its first
    # stage is silent, as on a DataFrame)
    for sol in reversed(solved):
        if sol.ranked.dropped:
            warn_dropped(sol.names, sol.ranked.dropped, sol.ranked.reasons)
            break
    c = cen.table
    power = {"HC2": 0.5, "HC3": 1.0}.get(se_type, 0.0)
    # residual (and, for HC, squared residual times leverage weight) as named columns
    cols: dict[str, ir.Value] = {}
    for f, (spec, sol) in enumerate(zip(specs, solved, strict=True)):
        e = c[centred_name(spec.y)]
        for j, xc in enumerate(spec.x):
            e = e - c[centred_name(xc)] * float(sol.coef[j])
        if clustered:
            cols[f"_fx_e{f}"] = e
            continue
        w = e * e
        if power:
            s = [c[centred_name(sc)] for sc in sol.scores]
            L = sol.pi @ sol.bread @ sol.pi.T
            h = 1.0 / c[_N].cast("float64")
            for a in range(len(s)):
                for b in range(len(s)):
                    h = h + s[a] * s[b] * float(L[a, b])
            # the score is divided by (1 - h)^power, so its square by (1 - h)^(2 power)
            w = w / (1.0 - h) if power == 0.5 else w / ((1.0 - h) * (1.0 - h))
        cols[f"_fx_w{f}"] = w
    r = c.mutate(**cols)
    aggs: dict[str, ir.Value] = {}
    for f, sol in enumerate(solved):
        s = [r[centred_name(sc)] for sc in sol.scores]
        if clustered:
            for a in range(len(s)):
                aggs[f"u{f}_{a}"] = (r[f"_fx_e{f}"] * s[a]).sum()
            continue
        for a in range(len(s)):
            for b in range(a, len(s)):
                aggs[f"m{f}_{a}_{b}"] = (r[f"_fx_w{f}"] * s[a] * s[b]).sum()
    if clustered:
        aggs.update(
            _z_min=r["_fx_zraw"].min(),
            _z_max=r["_fx_zraw"].max(),
            _b_min=r[BLOCK].min(),
            _b_max=r[BLOCK].max(),
        )
        per_cluster = r.group_by(CLUSTER).aggregate(**aggs)
        # the meat sum_g u_g u_g' is summed in the engine too: one row leaves it, not G
        outer: dict[str, ir.Value] = {
            "_fx_ncl": per_cluster.count(),
            "_mixed": (per_cluster["_z_min"] != per_cluster["_z_max"]).cast("int64").sum(),
            "_spans": (per_cluster["_b_min"] != per_cluster["_b_max"]).cast("int64").sum(),
        }
        for f, sol in enumerate(solved):
            ls = len(sol.scores)
            for a in range(ls):
                for b in range(a, ls):
                    ua, ub = per_cluster[f"u{f}_{a}"], per_cluster[f"u{f}_{b}"]
                    outer[f"m{f}_{a}_{b}"] = (ua * ub).sum()
        rows = pull(per_cluster.aggregate(**outer), "cluster score cross-products")
        G = _check_clusters(rows.to_pylist()[0], function=function)
        # clusters are nested in blocks (checked), so blocks are nested in clusters exactly
        # when there are as many clusters as blocks
        nested = cen.n_blocks == G
    else:
        rows = pull(r.aggregate(**aggs), "score cross-products")
        G = 0
        nested = False
    n = cen.n
    out: list[EngineFit] = []
    for f, (spec, sol) in enumerate(zip(specs, solved, strict=True)):
        k = len(spec.x)
        ls = len(sol.scores)
        rank = k + cen.n_blocks - len(sol.ranked.dropped)
        if rank >= n:
            raise EstimationError(
                f"the model has {rank:,} parameters (regressors and fixed effects) for {n:,} rows: "
                "no residual degrees of freedom are left for a standard error"
            )
        r0 = rows.to_pylist()[0]
        meat_s = np.empty((ls, ls))
        for a in range(ls):
            for b in range(a, ls):
                meat_s[a, b] = meat_s[b, a] = float(r0[f"m{f}_{a}_{b}"])
        meat = sol.pi.T @ meat_s @ sol.pi
        v = sol.bread @ meat @ sol.bread
        v = (v + v.T) / 2.0
        if se_type == "HC1":
            v = v * (n / (n - rank))
        elif se_type == "stata":
            rank_cr1 = rank
            if small_sample == "fixest" and nested and cen.n_blocks > 1:
                rank_cr1 = rank - (cen.n_blocks - 1)
            v = v * (G * (n - 1) / ((G - 1) * (n - rank_cr1)))
        df = np.full(k, float(G - 1) if clustered else float(n - rank))
        coef = sol.coef.copy()
        gone = [j for j in range(k) if _position(sol.names, blocked, j) in sol.ranked.dropped]
        if gone:  # estimatr's NA: NaN rows (the reported effect is never one, check_required)
            coef[gone] = np.nan
            v[gone, :] = np.nan
            v[:, gone] = np.nan
            df[gone] = np.nan
        out.append(EngineFit(spec.names, coef, v, df, se_type, n, G if clustered else None))
    return out


def _check_clusters(row: dict[str, object], *, function: str) -> int:
    """Design rules from the per-cluster summary; returns the number of clusters *G*."""
    G = int(row["_fx_ncl"])  # type: ignore[call-overload]
    if G < 2:
        raise DesignError(f"only one cluster ({function}); need at least two.")
    mixed = int(row["_mixed"])  # type: ignore[call-overload]
    if mixed:
        raise DesignError(
            f"the assignment must be constant within each cluster (clusters are assigned whole); "
            f"{mixed:,} clusters mix arms ({function})."
        )
    spans = int(row["_spans"])  # type: ignore[call-overload]
    if spans:
        raise DesignError(
            f"clusters are not nested in blocks: {spans:,} clusters span several blocks ({function})."
        )
    return G
