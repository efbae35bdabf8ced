"""Coverage figure: bars for a few groups (the demo), sorted shares for many."""

from __future__ import annotations

from fieldexp.report import figures
from fieldexp.report.language import ENGLISH, get_language
from fieldexp.report.sections import coverage


def _rows(n: int) -> list[tuple[object, ...]]:
    return [(f"P{i:04d}", 20 + i, (i % 7) / 7, (i % 5) / 10) for i in range(n)]


def test_few_groups_keep_the_bars() -> None:
    fig = coverage._figure("precinct_id", _rows(coverage.MAX_BARS), ENGLISH)
    assert fig.title == ENGLISH("coverage.figure", by="precinct_id")
    assert fig.alt == ENGLISH("coverage.figure_alt", by="precinct_id")
    assert fig.svg.count("P0039") >= 1  # one labelled bar per group


def test_many_groups_draw_one_line_per_share() -> None:
    n = 1000
    fig = coverage._figure("precinct_id", _rows(n), ENGLISH)
    assert "1,000 precinct_id groups" in fig.title
    assert "sorted" in fig.alt
    assert "P0999" not in fig.svg  # no per-group bar or tick label
    assert len(fig.svg) < 150_000  # two lines, not 2,000 bars (a bar chart is ~900 kB)
    fr = coverage._figure("precinct_id", _rows(n), get_language("fr"))
    assert "1\u202f000 groupes precinct_id" in fr.title


def test_sorted_share_figure_is_stable_and_escapes_labels() -> None:
    series = [("<script>", [0.5, 0.25, float("nan"), 1.0]), ("$x^{", [0.1, None, 0.3, 0.2])]
    a = figures.sorted_share_figure(series, xlabel="$$", ylabel="<b>")  # type: ignore[list-item]
    b = figures.sorted_share_figure(series, xlabel="$$", ylabel="<b>")  # type: ignore[list-item]
    assert a == b
    assert "<script>" not in a and "&lt;script&gt;" in a
