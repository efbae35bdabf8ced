"""The report's language (``[report] language``): catalogue, French numbers, labels, no English left.

The French demo report is the demo spec with ``language = "fr"`` and French labels (the
labels are the user's words); every sentence the report itself writes must be French, numbers
written the French way (``12 345,6``, ``3,2 %``, ``IC à 95 %``, ``1er octobre 2022``).
"""

from __future__ import annotations

import ast
import html as htmllib
import re
import string
import warnings
from pathlib import Path

import pandas as pd
import pytest

from fieldexp.errors import SpecificationError
from fieldexp.report import build_report, identifier_tokens, prepare_analysis, write_report
from fieldexp.report.language import (
    CATALOGUE,
    NBSP,
    NNBSP,
    Language,
    get_language,
    shorten,
    wrap,
)
from fieldexp.report.render import render_markdown
from fieldexp.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
FR = Language("fr")
EN = Language("en")

#: A long French list name (legislative / municipal lists are often this long).
LONG_LIST = (
    "LISTE D'UNION DE LA GAUCHE ET DES ÉCOLOGISTES POUR UNE VILLE SOLIDAIRE, "
    "ÉCOLOGIQUE ET CITOYENNE À SAINT-ÉTIENNE-DU-ROUVRAY"
)


# ----------------------------------------------------------------------------- formatting
def test_french_numbers_dates_and_percentages() -> None:
    assert FR.number(12345.6, 1) == f"12{NNBSP}345,6"
    assert FR.number(-1234567, 0) == f"-1{NNBSP}234{NNBSP}567"
    assert FR.count(999) == "999" and FR.count(1000) == f"1{NNBSP}000"
    assert FR.pct(0.032) == f"3,2{NBSP}%"
    assert FR.pp(0.031) == "+3,1" and FR.pp(-0.0004) == "+0,0"
    assert FR.pp(-0.031) == "-3,1"
    assert FR.ci(95) == f"IC à 95{NBSP}%"
    assert FR.ci_pp(0.01, 0.03) == "+1,0 à +3,0 points"
    assert FR.money(2500.5, "EUR") == f"2{NNBSP}500,50{NBSP}€"
    assert FR.money(float("inf"), "EUR") == "non borné"
    assert FR.date("2026-11-29") == "29 novembre 2026"
    assert FR.date("2022-10-01") == "1er octobre 2022"
    assert FR.date("2026-08-15T10:30:00+00:00") == "15 août 2026 à 10:30 UTC"
    assert FR.date("2022_general") == "2022_general"  # not a date: as it is
    assert FR.p(0.0004) == "<0,001" and FR.p(0.0456) == "0,046"
    assert FR.g(0.000745) == "0,000745"
    # English as before
    assert EN.number(12345.6, 1) == "12,345.6" and EN.pct(0.032) == "3.2%"
    assert EN.ci(95) == "95% CI" and EN.date("2026-11-29") == "29 November 2026"
    assert EN.money(2500, "USD") == "USD 2,500.00"


def test_french_spacing_and_small_p_values() -> None:
    text = FR("effects.outcome_covariates", outcome="Participation", covariates="a; b")
    assert text == f"Participation{NBSP}: a{NNBSP}; b"
    assert FR.g(3.06e-06) == f"3,06{NNBSP}×{NNBSP}10⁻⁶" and EN.g(3.06e-06) == "3.06e-06"
    assert FR("headline.p", p="10:30 https://x") == "p = 10:30 https://x"  # times, urls intact


def test_placeholders_are_filled_once_and_never_evaluated() -> None:
    """A value holding ``{x}`` or ``{0.__class__}`` stays text (no str.format on messages)."""
    out = EN("effects.title") + EN("headline.p", p="{0.__class__}{p}")
    assert out.endswith("p = {0.__class__}{p}")


def test_english_notes_of_lower_layers_are_translated_or_kept() -> None:
    notes = FR.notes(
        [
            "7,000 units x 4 elections = 28,000 rows; 3,425 units canvassed (attempted) within the window",
            "90 polling station(s) are not in the door log: 0 doors, 0 conversations (arm 0: 90)",
            "something new the catalogue does not know",
        ]
    )
    assert notes[0].startswith(f"7{NNBSP}000 unités × 4 élections")
    assert "groupe 0" in notes[1] and "relevé de porte-à-porte" in notes[1]
    assert notes[2] == "something new the catalogue does not know"  # kept, never dropped


def test_negative_zero_is_not_signed_negative() -> None:
    assert FR.number(-0.00001, 1) == "0,0" and EN.pp(-0.00001) == "+0.0"


def test_table_cells_follow_the_language() -> None:
    assert FR.cell(12345, "int") == f"12{NNBSP}345"
    assert FR.cell(0.01234, "est") == "0,0123"
    assert FR.cell(0.5, "pct") == f"50,0{NBSP}%"
    assert FR.cell("<10", "int") == "<10" and FR.cell(None, "est") == "–"
    assert EN.cell(12345, "int") == "12,345" and EN.cell(0.0004, "p") == "<0.001"


def test_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match="language"):
        get_language("de")
    spec = tmp_path / "s.toml"
    spec.write_text(
        'version = 1\n[report]\nlanguage = "de"\n[data.analysis_table]\npath = "t.csv"\n'
        '[analysis]\nelection = "x"\n[outcomes.turnout]\ncolumn = "voted"\n',
        encoding="utf-8",
    )
    (tmp_path / "t.csv").write_text("voter_id,assigned,voted\n1,0,1\n", encoding="utf-8")
    with pytest.raises(SpecificationError, match=r"\[report\] language|language"):
        load_spec(spec)


# ----------------------------------------------------------------------------- catalogue
def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogue_has_both_languages_with_the_same_placeholders() -> None:
    assert len(CATALOGUE) > 150
    for key, (en, fr) in CATALOGUE.items():
        assert en and fr, key
        assert _fields(en) == _fields(fr), key


def test_catalogue_has_no_duplicate_english_sentence() -> None:
    """One message per sentence: a sentence said twice must be one key asked twice."""
    long = [en for en, _ in CATALOGUE.values() if len(en.split()) >= 4]
    dupes = {s for s in long if long.count(s) > 1}
    assert not dupes


#: The sections whose wording lives in the catalogue (a new section is added here: see
#: docs/architecture.md for how it asks the catalogue).
CATALOGUED = (
    "headline",
    "effects",
    "balance",
    "flow",
    "reconciliation",
    "provenance",
    "coverage",
    "heterogeneity",
    "ri",
    "did",
    "did_stations",
    "attrition",
    "targeting",
)


@pytest.mark.parametrize("name", CATALOGUED)
def test_sections_hold_no_sentence_of_their_own(name: str) -> None:
    """No English phrase (3+ words) in a section's code: every text comes from the catalogue."""
    path = REPO / "fieldexp" / "report" / "sections" / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    errors = {  # error messages are raised and tested text is matched, not written
        id(c)
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise | ast.Compare)
        for c in ast.walk(node)
    }
    phrases = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and id(node) not in errors
        and " " in node.value.strip()
        and len(re.findall(r"[A-Za-z]{2,}", node.value)) >= 3
    ]
    assert not phrases, phrases


# ----------------------------------------------------------------------------- labels
def test_shorten_cuts_at_word_boundaries_only() -> None:
    out = shorten(LONG_LIST, 40)
    assert out.endswith("…") and len(out) <= 41
    kept = out[:-1]
    assert LONG_LIST.startswith(kept) and LONG_LIST[len(kept)] == " "  # cut before a space
    assert shorten("ÉCOLOGISTES", 5) == "ÉCOLOGISTES"  # one long word: kept whole
    assert shorten("ÉCOLOGISTES SOLIDAIRES", 5) == "ÉCOLOGISTES…"
    assert shorten("court", 40) == "court"
    # decomposed accents (NFD) count as one letter and are never split from their letter
    nfd = "E\u0301COLOGISTES ET CITOYENS"
    assert shorten(nfd, 15) == "ÉCOLOGISTES ET…"


def test_wrap_breaks_between_words_only() -> None:
    lines = wrap(LONG_LIST, 20).split("\n")
    words = LONG_LIST.split()
    assert " ".join(lines).split() == words  # nothing cut, nothing lost
    assert all(len(line) <= 20 or " " not in line for line in lines)
    three = wrap(LONG_LIST, 20, max_lines=3).split("\n")
    assert len(three) == 3 and three[-1].endswith("…")
    for line in three:
        for w in line.rstrip("…").split():
            assert w in words


def test_figures_show_long_french_labels_whole_words(tmp_path: Path) -> None:
    from fieldexp.report import figures

    svg = figures.forest_figure(
        [LONG_LIST, "Participation"],
        [0.002, 0.001],
        [0.0, -0.001],
        [0.004, 0.003],
        xlabel="effet (points de pourcentage)",
        language="fr",
    )
    texts = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    words = set(LONG_LIST.replace("…", "").split())
    shown = [w for t in texts for w in t.replace("…", "").split() if w.isupper() and len(w) > 2]
    assert shown and all(w in words for w in shown), shown
    ticks = [t for t in texts if re.fullmatch(r"[−\-]?\d+[,.]\d+", t)]
    assert ticks and all("," in t for t in ticks), ticks  # 0,1 not 0.1
    bars = figures.bar_figure(
        [LONG_LIST, "Saint-Étienne"],
        [("porte frappée", [0.5, 0.6])],
        ylabel="part (%)",
        language="fr",
    )
    texts = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", bars)]
    shown = [w for t in texts for w in t.replace("…", "").split() if w.isupper() and len(w) > 2]
    assert shown and all(w in words for w in shown), shown


def test_headline_figure_labels_are_not_cut_mid_word(tmp_path: Path) -> None:
    """Several outcomes: the outcome label is shortened at a word boundary in the figure."""
    report = _stations_report(tmp_path, "fr", share_label=LONG_LIST)
    fig = report.section("headline").figures[0]
    texts = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", fig.svg)]
    words = set(LONG_LIST.split()) | {"ITT"}
    for t in texts:
        for w in t.replace("…", "").replace(":", " ").replace(",", " ").split():
            if w.isupper() and len(w) > 2:
                assert w in words, w


# ----------------------------------------------------------------------------- the demo in French
ENGLISH_MARKERS = (
    "the", "and", "of", "with", "per", "between", "effect", "effects", "estimate",
    "estimates", "percentage", "points of", "canvass", "canvassed", "canvassing", "assigned",
    "contacted", "households", "registered", "polling", "station", "stations",
    "not included", "caution", "evidence", "interval", "confidence", "randomization",
    "re-draws", "balance", "share", "rows", "used", "set aside", "because", "cannot",
    "figures", "made with", "aggregates", "contents", "headline", "seeds", "generated",
    "software", "input files", "held out", "registered voters", "voters assigned", "turnout",
    "election", "elections", "arm", "std. error", "draws", "withheld", "about", "difference",
    "fixed effects", "event study", "pre-trend", "units", "exposure",
)  # fmt: skip
#: Codes of the demo's contact log and names of its spec tables / columns (data, not text).
DEMO_DATA = (
    "Not Home",
    "Canvassed",
    "Refused",
    "Inaccessible",
    "Moved",
    "contact type",
    "result",
    "door",
    "voted",
)


def _english_left(text: str) -> list[str]:
    text = text.replace("\\_", "_")  # Markdown-escaped identifiers (randomization\_inference)
    for token in DEMO_DATA:
        text = text.replace(token, " ")
    low = text.lower()
    return [m for m in ENGLISH_MARKERS if re.search(rf"(?<![\w_.-]){re.escape(m)}(?![\w_.-])", low)]


@pytest.fixture(scope="module")
def french_demo(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo-fr")
    text = (REPO / "analyses" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('"../fixtures/', f'"{(REPO / "fixtures").as_posix()}/')
    text = text.replace(
        'title = "Northport 2022 door-to-door canvass"\norganisation = "Demo campaign (simulated data)"',
        'title = "Porte-à-porte de Northport 2022"\norganisation = "Campagne de démonstration"\n'
        'language = "fr"',
    )
    text = text.replace(
        'label = "Turnout in the 2022 general election"', 'label = "Participation en 2022"'
    )
    text = text.replace(
        'label = "vote propensity (earlier general elections voted in)"',
        'label = "propension à voter (élections passées)"',
    )
    assert 'language = "fr"' in text
    spec_path = folder / "demo_fr.toml"
    spec_path.write_text(text, encoding="utf-8")
    spec = load_spec(spec_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        report = build_report(spec, run=run)
    out = folder / "out"
    write_report(report, out, forbidden=identifier_tokens(run))
    return report, out


def _visible(html: str) -> str:
    html = re.sub(r"<details>.*?</details>", " ", html, flags=re.S)  # the spec itself (data)
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<title>.*?</title>", " ", html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", html))


def test_french_demo_report_has_no_english_sentence(french_demo) -> None:
    report, out = french_demo
    assert report.language == "fr"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    left = _english_left(_visible(html))
    assert not left, left
    md = (out / "report.md").read_text(encoding="utf-8")
    left = _english_left(md)
    assert not left, left
    for s in report.sections:
        for p in s.paragraphs:
            assert not _english_left(p), (s.key, p)


def test_french_demo_report_writes_numbers_the_french_way(french_demo) -> None:
    report, out = french_demo
    sentences = " ".join(report.headline.sentences)
    assert f"IC à 95{NBSP}%" in sentences
    assert re.search(rf"\d{NNBSP}\d{{3}}", sentences)  # 3 540 électeurs
    assert not re.search(r"\d\.\d", sentences) and not re.search(r"\d,\d{3}\b", sentences)
    assert re.search(r"[+-]\d+,\d points", sentences)
    md = (out / "report.md").read_text(encoding="utf-8")
    body = md[: md.index("## Provenance")]  # versions and hashes below are identifiers
    assert not re.search(r"\d\.\d", body), re.findall(r".{20}\d\.\d.{20}", body)[:3]
    assert f"{NBSP}%" in body and "1er octobre 2022" in body
    tex = (out / "tables" / "effects.tex").read_text(encoding="utf-8")
    assert "0,0" in tex and NNBSP not in tex and NBSP not in tex  # LaTeX-safe spaces
    csv = (out / "tables" / "effects.csv").read_text(encoding="utf-8")
    assert csv.splitlines()[0].startswith("indicateur,groupe,estimande")
    assert re.search(r",0\.\d+", csv)  # CSV numbers stay machine-readable


def test_french_json_keeps_machine_fields(french_demo) -> None:
    import json

    _report, out = french_demo
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["headline"]["unit"] == "voter"
    assert isinstance(doc["estimates"][0]["estimate"], float)
    assert doc["headline"]["net_label"] == "voix nettes gagnées"


def _targeting_fr_spec(tmp_path: Path) -> Path:
    """analyses/targeting.toml in a tmp copy with ``language = "fr"`` (fewer half-samples)."""
    text = (REPO / "analyses" / "targeting.toml").read_text(encoding="utf-8")
    text = text.replace('"../fixtures/', f'"{(REPO / "fixtures").as_posix()}/')
    text = text.replace(
        'title = "Northport 2022: where to knock next"\norganisation = "Demo campaign (simulated data)"',
        'title = "Northport 2022"\norganisation = "Campagne de démonstration"\nlanguage = "fr"',
    )
    text = text.replace(
        'label = "Turnout in the 2022 general election"', 'label = "Participation en 2022"'
    )
    text = text.replace("reps = 200", "reps = 40")  # wording, not precision, is tested here
    assert 'language = "fr"' in text
    spec_path = tmp_path / "targeting_fr.toml"
    spec_path.write_text(text, encoding="utf-8")
    return spec_path


def test_french_targeting_section_has_no_english_sentence(tmp_path: Path) -> None:
    """analyses/targeting.toml with ``language = "fr"``: "Où frapper la prochaine fois" in French."""
    spec = load_spec(_targeting_fr_spec(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        report = build_report(spec, run=run)
    section = report.section("targeting")
    assert section.title == "Où frapper la prochaine fois"
    covariates = section.paragraphs[0].split(" à partir de ")[1].split(" (")[0]
    texts = [
        *(p.replace(covariates, " ") for p in section.paragraphs),
        *(t.title for t in section.tables),
        *(t.note for t in section.tables),
        *(c for t in section.tables for c in t.columns),
        *(f.title for f in section.figures),
        *(f.alt for f in section.figures),
    ]
    for t in texts:
        assert not _english_left(t), (t, _english_left(t))
    joined = " ".join(texts)
    assert "voix nettes par porte" in joined and "bureaux de vote" in joined.lower()
    assert f"IC à 95{NBSP}%" in joined and "AUTOC" in joined and "QINI" in joined
    assert "portes" in joined
    assert not re.search(r"\d\.\d", " ".join(section.paragraphs))  # decimal commas
    svg = htmllib.unescape(section.figures[0].svg)
    assert "part des portes frappées" in svg and "share knocked" not in svg
    md = render_markdown(report)
    part = md[md.index("## Où frapper la prochaine fois") :]
    part = part[: part.index("\n## ", 5)] if "\n## " in part[5:] else part
    assert not _english_left(part.replace(covariates, " ")), _english_left(part)


def test_french_target_summary_has_no_english_sentence(tmp_path: Path) -> None:
    """``fieldexp target`` on a French spec writes summary.md and the TOC axes in French."""
    from fieldexp import cli

    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["target", str(_targeting_fr_spec(tmp_path)), "--out", str(out)]) == 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Où frapper la prochaine fois")
    covariates = summary.split(" à partir de ")[1].split(" (")[0]
    left = _english_left(summary.replace(covariates, " "))
    assert not left, (left, summary)
    assert f"IC à 95{NBSP}%" in summary and "| classement | cible |" in summary
    assert "liste au hasard" in summary and not re.search(r"\d\.\d", summary)
    svg = htmllib.unescape((out / "toc.svg").read_text(encoding="utf-8"))
    assert "part des portes frappées" in svg and "share knocked" not in svg


def test_english_is_unchanged_by_default(demo_report) -> None:
    r = demo_report.report
    assert r.language == "en"
    assert "What the canvass did" in (demo_report.out / "report.html").read_text("utf-8")
    assert any("percentage points" in s for s in r.headline.sentences)


# ----------------------------------------------------------------------------- stations
def _stations_report(tmp_path: Path, language: str, share_label: str | None = None):
    from fieldexp.io import read_precinct_results

    src = tmp_path / "results.csv"
    src.write_text((REPO / "fixtures/io/fr_results_2022.csv").read_text("utf-8"), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = sorted(read_precinct_results(src)["precinct_id"].astype(str).unique())
    pd.DataFrame(
        {"precinct_id": ids, "assigned": [i % 2 for i in range(len(ids))], "probability": 0.5}
    ).to_csv(tmp_path / "stations.csv", index=False)
    share = (
        f'[outcomes.share]\ncolumn = "share_DVG"\nlevel = "precinct"\nlabel = "{share_label}"\n'
        'estimands = ["ITT"]\n'
        if share_label
        else ""
    )
    spec = tmp_path / "stations.toml"
    spec.write_text(
        f'version = 1\n[report]\ntitle = "Bureaux"\nlanguage = "{language}"\n'
        '[data.precinct_results]\npath = "results.csv"\n'
        '[data.precinct_assignment]\npath = "stations.csv"\n'
        '[analysis]\nelection = "results"\n'
        '[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n'
        'label = "Participation"\nheadline = true\n'
        + share
        + '[stations]\nshares_by = "nuance"\n'
        + '[costs]\nfixed = 1000\ncurrency = "EUR"\n[coverage]\nenabled = false\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_report(load_spec(spec))


def test_station_report_in_french_speaks_of_bureaux_and_inscrits(tmp_path: Path) -> None:
    report = _stations_report(tmp_path, "fr", share_label="Part des voix, liste ALPHA")
    text = " ".join(report.headline.sentences)
    assert "bureaux de vote" in text and "inscrits" in text and "électeurs assignés" not in text
    assert "votants supplémentaires" in text.lower()
    flow = report.section("flow").tables[0]
    assert {"bureaux", "inscrits", "votants", "exprimés", "participation"} <= set(flow.columns)
    eff = report.section("effects").paragraphs[0]
    assert "par bureau de vote" in eff and "suffrages exprimés" in eff
    fig = report.section("headline").figures[0]
    assert "bureau de vote" in htmllib.unescape(fig.svg)
    md = render_markdown(report)
    assert not _english_left(md.split("## Provenance")[0]), _english_left(md)


def test_station_report_in_english_speaks_of_stations(tmp_path: Path) -> None:
    report = _stations_report(tmp_path, "en", share_label="Vote share, list ALPHA")
    text = " ".join(report.headline.sentences)
    assert "polling stations" in text and "registered voters" in text
    assert "voters assigned" not in text and "per assigned voter" not in text
    flow = report.section("flow").tables[0]
    assert "registered" in flow.columns and "stations" in flow.columns
    eff = report.section("effects").paragraphs[0]
    assert "votes cast" in eff and "per voter" not in eff
    svg = report.section("headline").figures[0].svg
    assert "per polling station" in svg and "per assigned voter" not in svg


def test_hostile_labels_stay_escaped_in_french(tmp_path: Path) -> None:
    report = _stations_report(tmp_path, "fr", share_label="<script>alert(1)</script> | =cmd")
    from fieldexp.report import render_html

    html = render_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = render_markdown(report)
    assert "\\<script>" in md and not re.search(r"(?<!\\)<script>", md)


def test_attrition_section_in_french(small_run) -> None:
    """The attrition section (outcomes missing, differently by arm) speaks French too."""
    import dataclasses

    import numpy as np

    from fieldexp.report.sections import ReportContext, attrition

    table = small_run.run.table
    rng = np.random.default_rng(1)
    z = pd.to_numeric(table["assigned"]).to_numpy()
    gone = np.where(
        z == 1, rng.uniform(size=len(table)) < 0.35, rng.uniform(size=len(table)) < 0.05
    )
    t = table.assign(voted=pd.to_numeric(table["voted"]).astype("Float64").mask(gone))
    spec = dataclasses.replace(
        small_run.spec, report=dataclasses.replace(small_run.spec.report, language="fr")
    )
    run = dataclasses.replace(small_run.run, table=t, spec=spec)
    ctx = ReportContext(run, small_run.ctx.effects, small_run.ctx.randomization)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = attrition.build(ctx)
    assert section is not None and section.title.startswith(f"Attrition{NBSP}:")
    text = " ".join([*section.paragraphs, *(t.note for t in section.tables)])
    assert "bornes de lee" in text.lower()
    assert not _english_left(text.replace("Turnout", " ")), _english_left(text)
    assert section.tables[0].formatted("fr")[0][3].endswith(f"{NBSP}%")


def test_weak_instrument_caution_joins_reasons_with_spaces() -> None:
    from types import SimpleNamespace

    from fieldexp.report.plan import weak_instrument_caution

    r = SimpleNamespace(
        estimand="CACE",
        first_stage=SimpleNamespace(f_statistic=3.2),
        estimate=0.5,
        ci_low=-1.0,
        ci_high=2.0,
    )
    assert weak_instrument_caution(r) == (  # type: ignore[arg-type]
        "Unreliable: weak first stage (F = 3.2 < 10) and confidence interval wider than "
        "±100 percentage points"
    )
    assert weak_instrument_caution(r, FR) == (  # type: ignore[arg-type]
        f"Peu fiable{NBSP}: première étape faible (F = 3,2 < 10) et intervalle de confiance "
        "plus large que ±100 points de pourcentage"
    )
    assert FR.items(["a", "b", "c"]) == "a, b et c"
