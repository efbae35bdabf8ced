"""Stage 4: the target and earlier elections, and the vote history folded per voter (``PV``).

The target election is named by id or by date (when one election has that date); the earlier
elections that become ``voted_<election_id>`` covariates are all, the ``n`` most recent or a
list. Per voter, bit ``i`` of ``pmask`` says "a history row for election ``i``" (0 = target,
1..k = past covariates, 62 = later, 63 = other) and bit ``i`` of ``vmask`` "a counted ballot in
election ``i``" (duplicated voter-election rows: a counted ballot wins). Every history row is
entered in the reconciliation here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from fieldexp.analysis.stages.context import Build, quote
from fieldexp.errors import DataError, SpecificationError, did_you_mean

__all__ = ["MAX_PAST_ELECTIONS", "History", "enter_history", "fold_history", "fold_votes"]

#: Earlier elections that can become ``voted_<election_id>`` covariates (bits of a 64-bit mask).
MAX_PAST_ELECTIONS = 61


@dataclass(frozen=True, slots=True)
class History:
    rows: int  # vote-history rows read
    target: str  # the target election id
    date: pd.Timestamp  # its date
    past: list[str]  # earlier elections used as covariates, oldest first
    cap_note: str | None  # set when more earlier elections exist than can be covariates

    @property
    def k(self) -> int:
        return len(self.past)

    @property
    def past_mask(self) -> int:
        """Bits 1..k of ``pmask``/``vmask``: the past-covariate elections."""
        return (1 << (self.k + 1)) - 2


def fold_history(b: Build, *, election: str, past_elections: int | Sequence[str] | None) -> History:
    """Create ``E``, ``EX`` and ``PV``; enter every vote-history row (needs ``VA``)."""
    return enter_history(b, fold_votes(b, election=election, past_elections=past_elections))


def fold_votes(b: Build, *, election: str, past_elections: int | Sequence[str] | None) -> History:
    """Create ``E``, ``EX`` and ``PV``. The raw history rows are released at once unless
    some voter-election pair repeats (:func:`enter_history` then names the repeated rows)."""
    q = b.q
    b.inputs.ensure("vote_history")
    q(
        "CREATE TEMP TABLE E AS SELECT CAST(election_id AS VARCHAR) AS election_id, "
        "min(CAST(election_date AS DATE)) AS election_date FROM raw_vote_history GROUP BY 1"
    )
    elections = q(
        "SELECT election_id, election_date FROM E ORDER BY election_date, election_id"
    ).fetchall()
    ids = [e[0] for e in elections]
    target = election
    if target not in ids:
        same_day = [e[0] for e in elections if str(e[1]) == election]
        if len(same_day) == 1:
            target = same_day[0]
        elif len(same_day) > 1:
            raise SpecificationError(
                f"election: {election!r} is the date of several elections {same_day}; name one"
            )
        else:
            raise SpecificationError(
                f"election: {election!r} is not in the vote history (elections: {ids[-8:]})."
                + did_you_mean(election, ids)
            )
    e_date = pd.Timestamp(dict(elections)[target])
    earlier = [e for e, d in elections if pd.Timestamp(d) < e_date]
    if past_elections is None:
        past = earlier
    elif isinstance(past_elections, int):
        past = earlier[-past_elections:] if past_elections > 0 else []
    else:
        unknown = [e for e in past_elections if e not in earlier]
        if unknown:
            raise SpecificationError(
                f"past_elections: {unknown[0]!r} is not an election before {target!r}."
                + did_you_mean(unknown[0], earlier)
            )
        past = [e for e in earlier if e in set(past_elections)]
    cap_note = None
    if len(past) > MAX_PAST_ELECTIONS:
        if past_elections is not None:
            raise SpecificationError(
                f"past_elections: at most {MAX_PAST_ELECTIONS} earlier elections can become "
                f"covariates; {len(past)} requested"
            )
        cap_note = (
            f"only the {MAX_PAST_ELECTIONS} most recent of {len(past)} earlier elections are "
            "past-vote covariates (the others are set aside)"
        )
        past = past[-MAX_PAST_ELECTIONS:]
    # election index: 0 = target, 1..k = past covariates, 100 = later, 101 = not used
    cases = [f"WHEN {quote(target)} THEN 0"] + [
        f"WHEN {quote(e)} THEN {i + 1}" for i, e in enumerate(past)
    ]
    q(
        "CREATE TEMP TABLE EX AS SELECT election_id, CAST(CASE election_id "
        + " ".join(cases)
        + f" ELSE CASE WHEN election_date > DATE {quote(e_date.date().isoformat())} THEN 100 ELSE 101 END END "
        "AS UTINYINT) AS ex FROM E"
    )
    k = len(past)
    ex_codes = dict(q("SELECT election_id, ex FROM EX").fetchall())
    # Per voter, bit i of pmask says "a row for election i" (0 = target, 1..k = past,
    # 62 = later, 63 = other) and bit i of vmask "a counted ballot in election i".
    codes_sql = " ".join(
        f"WHEN {quote(e)} THEN {62 if x == 100 else 63 if x == 101 else x}"
        for e, x in ex_codes.items()
    )
    pv_sql = (
        "CREATE TEMP TABLE PV AS SELECT voter_id, count(*) AS n_all, "
        f"count(*) FILTER (WHERE ex <= {k}) AS n_rel, count(*) FILTER (WHERE ex = 62) AS n_later, "
        "bit_or(CAST(1 AS UBIGINT) << ex) AS pmask, "
        "bit_or(CASE WHEN voted = 1 THEN CAST(1 AS UBIGINT) << ex ELSE CAST(0 AS UBIGINT) END) AS vmask, "
        "min(_row) AS min_row FROM "
        f"(SELECT CAST(voter_id AS VARCHAR) AS voter_id, CAST(CASE CAST(election_id AS VARCHAR) {codes_sql} END "
        "AS UTINYINT) AS ex, CAST(voted AS TINYINT) AS voted, _row FROM raw_vote_history) GROUP BY voter_id"
    )
    try:
        q(pv_sql)
    except duckdb.ConversionException as exc:  # the one cast that can fail: voted
        raise DataError(
            f"vote_history: column 'voted' must hold 0/1 (a counted ballot or not): {exc}"
        ) from None
    history = History(rows=0, target=target, date=e_date, past=list(past), cap_note=cap_note)
    rel_mask = (1 << (k + 1)) - 1
    # the raw rows are read again only to name repeated pairs and rows of other elections
    again = b.one(
        f"SELECT count(*) FILTER (WHERE n_rel > bit_count(pmask & CAST({rel_mask} AS UBIGINT))) "
        "+ coalesce(sum(n_all - n_rel), 0) FROM PV"
    )
    if not again:
        b.inputs.release("vote_history")
    return history


def enter_history(b: Build, history: History) -> History:
    """Enter every vote-history row in the reconciliation (after ``VA``); ``history`` with
    its ``rows`` read."""
    q, entry = b.q, b.entry
    k = history.k
    rel_mask = (1 << (k + 1)) - 1
    past_mask = rel_mask - 1
    rows = q(
        f"""
        SELECT coalesce(s.status, 'missing') AS status, sum(p.n_all), min(p.min_row, 5),
               sum(p.n_later), sum(p.n_all - p.n_rel - p.n_later),
               sum(p.pmask & 1), sum(bit_count(p.pmask & CAST({past_mask} AS UBIGINT))),
               sum(p.n_rel - bit_count(p.pmask & CAST({rel_mask} AS UBIGINT)))
        FROM PV p LEFT JOIN (SELECT voter_id, status FROM VA WHERE voter_id IS NOT NULL) s
          ON p.voter_id = s.voter_id
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    n_hist = 0
    later_n = other_n = used0 = usedp = dup_n = 0
    for status, n_all, first, n_later, n_other, u0, up, dups in rows:
        n_hist += int(n_all or 0)
        if status == "missing":
            entry("vote_history", "voter id not in the voter file", int(n_all), first)
        elif status == "unassigned":
            entry("vote_history", "voter not in the experiment (not assigned)", int(n_all), first)
        elif status == "excluded":
            entry("vote_history", "voter excluded by the design", int(n_all), first)
        else:
            later_n += int(n_later or 0)
            other_n += int(n_other or 0)
            used0 += int(u0 or 0)
            usedp += int(up or 0)
            dup_n += int(dups or 0)
    entry("vote_history", "election after the target election", later_n, _firsts(b, 100, later_n))
    entry(
        "vote_history",
        "earlier election not used as a covariate, or another election on the target day",
        other_n,
        _firsts(b, 101, other_n),
    )
    if dup_n:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM (SELECT h._row, row_number() OVER (PARTITION BY h.voter_id, h.election_id "
                "ORDER BY h.voted DESC, h._row) AS rn FROM (SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
                "CAST(election_id AS VARCHAR) AS election_id, voted, _row FROM raw_vote_history) h "
                "SEMI JOIN (SELECT voter_id FROM PV WHERE n_rel > bit_count(pmask & "
                f"CAST({rel_mask} AS UBIGINT))) d ON h.voter_id = d.voter_id JOIN EX x ON h.election_id = x.election_id "
                "JOIN VA s ON h.voter_id = s.voter_id WHERE x.ex <= 99 AND s.status = 'assigned') "
                "WHERE rn > 1 ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        entry("vote_history", "duplicate voter-election row (a counted ballot kept)", dup_n, first)
    entry("vote_history", "used; outcome (target election)", used0)
    entry("vote_history", "used; past-vote covariate", usedp)
    b.inputs.release("vote_history")  # PV holds what the later stages need
    return replace(history, rows=n_hist)


def _firsts(b: Build, ex: int, n: int) -> list[int]:
    """The five smallest first rows, per assigned voter, of the elections coded ``ex`` in
    ``EX`` (100 later, 101 other); nothing to read when ``n`` is 0."""
    if not n:
        return []
    return [
        int(r[0])
        for r in b.q(
            "SELECT min(h._row) AS m FROM (SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
            "CAST(election_id AS VARCHAR) AS election_id, _row FROM raw_vote_history) h "
            f"JOIN EX x ON h.election_id = x.election_id AND x.ex = {int(ex)} "
            "JOIN VA s ON h.voter_id = s.voter_id AND s.status = 'assigned' "
            "GROUP BY h.voter_id ORDER BY m LIMIT 5"
        ).fetchall()
    ]
