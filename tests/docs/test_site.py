"""The documentation site builds with warnings as errors, and a browser finds nothing broken.

The site is built once per session with ``mkdocs build --strict`` (the ``make docs`` command)
into a temporary folder: the notebooks are executed during that build. Then:

* a crawl of every built HTML page checks that each ``href``/``src`` inside the site resolves
  to a file (and each ``#fragment`` to an element id), and that no page loads anything from the
  network (the site must work offline);
* the API reference documents every public name the README promises;
* the maths notes are MathML (no TeX left for a script to typeset), the notebooks show their
  tables and figures and no traceback;
* headless Chromium opens the API page and a notebook page with a probe script: every image
  decoded with a size, every formula laid out with a size, no script error; a screenshot of
  each is kept under ``tests/_artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
pytest.importorskip("latex2mathml", reason="the docs extra is not installed")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert res.returncode == 0, (
        f"mkdocs build --strict failed:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}"
    )
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            if name in ("href", "src"):
                self.links.append((tag, name, value))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_site_has_every_page(site: Path) -> None:
    pages = {p.relative_to(site).as_posix() for p in _pages(site)}
    docs = {f"{p.stem}.html" for p in (REPO / "docs").glob("*.md")}
    notebooks = {f"notebooks/{p.stem}.html" for p in (REPO / "notebooks").glob("*.ipynb")}
    assert docs <= pages
    assert notebooks <= pages
    assert "api/index.html" in pages


def test_no_broken_internal_links_or_images(site: Path) -> None:
    parsed = {page: _parse(page) for page in _pages(site)}
    broken: list[str] = []
    external: list[str] = []
    checked = 0
    for page, links in parsed.items():
        for tag, attr, value in links.links:
            url = urlsplit(value)
            if url.scheme in ("http", "https") or value.startswith("//"):
                # a link the reader may follow is fine; a resource the page loads is not
                if not (tag == "a" and attr == "href"):
                    external.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}>")
                continue
            if url.scheme in ("mailto", "data", "javascript"):
                continue
            checked += 1
            if url.path.startswith("/"):
                # root-absolute links break when the site is opened from a folder; only the
                # 404 page (served by a web server at any path) may use them
                if page.name != "404.html":
                    broken.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}> absolute")
                    continue
                target = (site / unquote(url.path).lstrip("/")).resolve()
            else:
                target = page if not url.path else (page.parent / unquote(url.path)).resolve()
            if url.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file() or site.resolve() not in target.resolve().parents:
                broken.append(f"{page.relative_to(site)}: <{tag} {attr}={value!r}> -> missing")
                continue
            if url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {value!r} -> no id {url.fragment!r}")
    assert checked > 500, checked
    assert broken == [], "\n".join(broken[:40])
    assert external == [], "pages load resources from the network:\n" + "\n".join(external[:20])


def test_crawler_sees_a_broken_link(tmp_path: Path) -> None:
    """Negative control for the crawl above: a missing image and a missing anchor are found."""
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="b.html#nowhere">b</a><img src="img/x.png"><a href="#here">a</a></p>',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text("<p id='somewhere'></p>", encoding="utf-8")
    links = _parse(tmp_path / "a.html").links
    missing = [
        v for _, _, v in links if not (tmp_path / urlsplit(v).path).is_file() and urlsplit(v).path
    ]
    assert missing == ["img/x.png"]
    assert "nowhere" not in _parse(tmp_path / "b.html").ids


PUBLIC_API = {
    "api/experiment.html": [
        "fieldexp.experiment.api.itt",
        "fieldexp.experiment.api.cace",
        "fieldexp.experiment.balance.balance",
        "fieldexp.experiment.ri.randomization_inference",
        "fieldexp.experiment.heterogeneity.heterogeneity",
        "fieldexp.experiment.multiplicity.adjust_pvalues",
    ],
    "api/design.html": [
        "fieldexp.design.Design",
        "fieldexp.design.Design.assign",
        "fieldexp.design.walk_list",
        "fieldexp.design.power.power",
        "fieldexp.diagnosis.diagnose",
    ],
    "api/diffindiff.html": [
        "fieldexp.diffindiff.did",
        "fieldexp.diffindiff.event_study",
        "fieldexp.diffindiff.staggered_did",
    ],
    "api/io.html": [
        "fieldexp.io.read_voters",
        "fieldexp.io.read_vote_history",
        "fieldexp.io.read_contacts",
        "fieldexp.io.read_precinct_results",
        "fieldexp.analysis.build_analysis_table",
        "fieldexp.analysis.propensity_band",
    ],
    "api/simulation.html": ["fieldexp.simulation.simulate"],
    "api/results.html": [
        "fieldexp.results.EffectResult",
        "fieldexp.results.FirstStage",
        "fieldexp.experiment.balance.BalanceResult",
        "fieldexp.experiment.ri.RandomizationResult",
        "fieldexp.diffindiff.EventStudy",
        "fieldexp.diffindiff.StaggeredDiD",
        "fieldexp.simulation.SimulatedExperiment",
    ],
}


@pytest.mark.parametrize("page", sorted(PUBLIC_API))
def test_api_reference_documents_the_public_api(site: Path, page: str) -> None:
    parsed = _parse(site / page)
    missing = [name for name in PUBLIC_API[page] if name not in parsed.ids]
    assert missing == []
    text = (site / page).read_text("utf-8")
    # numpy sections were parsed (a table of parameters), not left as raw text
    assert "Parameters:" in text or "<th>Name</th>" in text or "doc-section" in text
    assert "----------" not in text


def test_maths_is_mathml_at_build_time(site: Path) -> None:
    for page, at_least in (("maths.html", 1), ("design.html", 20), ("api/design.html", 1)):
        text = (site / page).read_text("utf-8")
        assert text.count("<math") >= at_least, page
        assert 'class="arithmatex"' not in text, f"{page}: a formula was not converted"
        assert ":math:`" not in text and ".. math::" not in text, page
    # a docstring's ``.. math::`` directive became display maths
    api = (site / "api" / "diffindiff.html").read_text("utf-8")
    assert 'display="block"' in api


def _notebook_images(site: Path) -> dict[str, list[str]]:
    pages = sorted((site / "notebooks").glob("*.html"))
    return {
        p.relative_to(site).as_posix(): [
            v for tag, attr, v in _parse(p).links if tag == "img" and attr == "src"
        ]
        for p in pages
    }


def test_notebooks_show_tables_and_figures(site: Path) -> None:
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        text = (site / "notebooks" / f"{nb.stem}.html").read_text("utf-8")
        assert "<table" in text, nb.name
        assert "Traceback" not in text, nb.name
    images = _notebook_images(site)
    assert sum(len(v) for v in images.values()) >= 2, images
    for page, srcs in images.items():
        for src in srcs:
            data = (site / page).parent.joinpath(src).read_bytes()
            if src.endswith(".svg"):  # maps are drawn as SVG (vector paths)
                assert b"<svg" in data[:500] and b"<path" in data and len(data) > 5000, src
            else:
                assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, src


# --------------------------------------------------------------------------- Chromium

PROBE = """<script>
window.__fxErrors = [];
window.addEventListener("error", function (e) { window.__fxErrors.push("error: " + e.message); }, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.querySelectorAll("article img"), function (i) {
    return {src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0, width: i.naturalWidth};
  });
  var maths = Array.prototype.map.call(document.querySelectorAll("article math"), function (m) {
    var r = m.getBoundingClientRect(); return {width: r.width, height: r.height};
  });
  var pre = document.createElement("pre"); pre.id = "fx-probe";
  pre.textContent = JSON.stringify({images: imgs, maths: maths, errors: window.__fxErrors,
    tables: document.querySelectorAll("article table").length,
    headings: document.querySelectorAll("article h2").length, title: document.title});
  document.body.appendChild(pre);
});
</script>"""


def _chromium() -> str:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium found on PATH (looked for " + ", ".join(CHROMIUM) + "); install the "
        "Debian package `chromium` (.ci/run does) to run the real-browser check"
    )


def _run_chromium(binary: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish within 120 s: {' '.join(cmd)}")


def _probe(binary: str, site: Path, page: str, tmp: Path) -> dict[str, object]:
    source = site / page
    copy = source.with_name("_probe_" + source.name)  # same folder: relative links still resolve
    copy.write_text(
        source.read_text("utf-8").replace("</body>", PROBE + "</body>", 1), encoding="utf-8"
    )
    try:
        res = _run_chromium(
            binary,
            tmp,
            "--window-size=1280,1000",
            "--virtual-time-budget=3000",
            "--dump-dom",
            copy.as_uri(),
        )
    finally:
        copy.unlink()
    m = re.search(r'<pre id="fx-probe">(.*?)</pre>', res.stdout, re.S)
    assert m, f"probe output missing (exit {res.returncode}); stderr tail: {res.stderr[-800:]}"
    text = m.group(1)
    for entity, char in (("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return json.loads(text)


def _screenshot(binary: str, tmp: Path, page: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    if target.exists():
        target.unlink()
    res = _run_chromium(
        binary, tmp, "--window-size=1280,2400", f"--screenshot={target}", page.as_uri()
    )
    assert target.is_file() and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", res.stderr[-800:]


@pytest.mark.browser
def test_api_page_renders_in_chromium(site: Path, tmp_path: Path) -> None:
    binary = _chromium()
    page = "api/experiment.html"
    data = _probe(binary, site, page, tmp_path)
    assert data["errors"] == [], data["errors"]
    maths = data["maths"]
    assert len(maths) >= 1 and all(m["width"] > 0 and m["height"] > 0 for m in maths), maths  # type: ignore[arg-type, union-attr]
    assert data["headings"] >= 6 and data["tables"] >= 6, data  # type: ignore[operator]
    _screenshot(binary, tmp_path, site / page, "docs_api.png")


@pytest.mark.browser
def test_notebook_page_renders_in_chromium(site: Path, tmp_path: Path) -> None:
    binary = _chromium()
    images = _notebook_images(site)
    page = max(sorted(images), key=lambda p: len(images[p]))  # the notebook with most figures
    data = _probe(binary, site, page, tmp_path)
    assert data["errors"] == [], data["errors"]
    shown = data["images"]
    assert len(shown) == len(images[page]) >= 1, shown  # type: ignore[arg-type]
    assert all(i["ok"] and i["width"] > 100 for i in shown), shown  # type: ignore[union-attr]
    assert data["tables"] >= 3, data  # type: ignore[operator]
    _screenshot(binary, tmp_path, site / page, "docs_notebook.png")


@pytest.mark.browser
def test_maths_page_renders_in_chromium(site: Path, tmp_path: Path) -> None:
    binary = _chromium()
    for page in ("maths.html", "design.html"):
        data = _probe(binary, site, page, tmp_path)
        assert data["errors"] == [], data["errors"]
        maths = data["maths"]
        assert maths and all(m["width"] > 0 and m["height"] > 0 for m in maths), maths  # type: ignore[union-attr]
    _screenshot(binary, tmp_path, site / "design.html", "docs_maths.png")


@pytest.mark.browser
def test_probe_sees_a_missing_image(site: Path, tmp_path: Path) -> None:
    """Negative control for the browser probe: a page with a broken image is reported."""
    page = site / "_broken.html"
    page.write_text(
        "<html><body><article><img src='nowhere.png'></article></body></html>", encoding="utf-8"
    )
    try:
        data = _probe(_chromium(), site, "_broken.html", tmp_path)
    finally:
        page.unlink()
    assert data["images"] == [{"src": "nowhere.png", "ok": False, "width": 0}]
