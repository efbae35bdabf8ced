"""``[assign]``: what ``fieldexp assign`` does beyond the ``[design]`` (polling stations).

Keys (``docs/spec.md``): ``communes`` and ``circonscriptions`` restrict a station design to
the bureaux a campaign canvasses (the others stay in ``assignment.csv`` as restricted out);
``past_results`` lists earlier official results files whose turnout per station is
balanced on; ``walk_list_addresses`` carries the address columns of the REU extract into
``walk_list.csv`` so canvassers find the doors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fieldexp.spec.model import AssignSpec
from fieldexp.spec.reader import Section

__all__ = ["parse_assign"]


def parse_assign(
    sec: Section | None, resolve: Callable[[str, Section, str], Path]
) -> AssignSpec | None:
    """The ``[assign]`` table (``None`` when absent); ``resolve`` turns a path into a file."""
    if sec is None:
        return None
    communes = sec.strings("communes")
    circonscriptions = sec.strings("circonscriptions")
    past = sec.strings("past_results")
    addresses = sec.get("walk_list_addresses", bool, False)
    sec.finish()
    for key, values in (("communes", communes), ("circonscriptions", circonscriptions)):
        if len(set(values)) != len(values):
            sec.fail(
                f"lists {sorted(v for v in set(values) if values.count(v) > 1)} twice", key=key
            )
    paths = tuple(resolve(p, sec, "past_results") for p in past)
    return AssignSpec(
        communes=communes,
        circonscriptions=circonscriptions,
        past_results=paths,
        walk_list_addresses=bool(addresses),
    )
