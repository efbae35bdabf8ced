"""Open report.html in a real headless Chromium: no console errors, every figure has a size.

How (dependency-free): Chromium runs with ``--dump-dom`` on a copy of the report with two
tiny probe scripts added (the report itself has no script): one in ``<head>`` records
``error`` events and ``console.error`` calls, one at the end of ``<body>`` measures every
figure's SVG and writes the result into the DOM as JSON, which ``--dump-dom`` prints. The
unmodified report is loaded too with ``--enable-logging=stderr`` and Chromium's own log is
searched for console messages. Then a screenshot is saved under ``tests/_artifacts/``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

HEAD_PROBE = """<script>
window.__fxErrors = [];
window.addEventListener("error", function (e) { window.__fxErrors.push("error: " + e.message); }, true);
(function () { var orig = console.error; console.error = function () {
  window.__fxErrors.push("console.error: " + Array.prototype.join.call(arguments, " "));
  return orig.apply(console, arguments); }; })();
</script>"""

BODY_PROBE = """<script>
(function () {
  var figs = Array.prototype.map.call(document.querySelectorAll("figure.fx-figure"), function (f) {
    var svg = f.querySelector("svg"); var r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {key: f.getAttribute("data-figure"), width: r.width, height: r.height,
            elements: svg ? svg.querySelectorAll("*").length : 0};
  });
  var tables = document.querySelectorAll("table.fx").length;
  var pre = document.createElement("pre"); pre.id = "fx-probe";
  pre.textContent = JSON.stringify({figures: figs, tables: tables, errors: window.__fxErrors,
                                     title: document.title});
  document.body.appendChild(pre);
})();
</script>"""


def _chromium() -> str:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium found on PATH (looked for " + ", ".join(CANDIDATES) + "); install the "
        "Debian package `chromium` (.ci/run does) to run the real-browser check"
    )


def _run(
    binary: str, tmp: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
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
        f"--user-data-dir={tmp / 'profile'}",
        *args,
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish within {timeout} s: {' '.join(cmd)}")


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


def test_report_renders_in_chromium(chromium, demo_report, tmp_path) -> None:
    html = (demo_report.out / "report.html").read_text("utf-8")
    probe = html.replace("</head>", HEAD_PROBE + "</head>", 1).replace(
        "</body>", BODY_PROBE + "</body>", 1
    )
    page = tmp_path / "probe.html"
    page.write_text(probe, encoding="utf-8")
    res = _run(chromium, tmp_path, "--window-size=1200,900", "--dump-dom", page.as_uri())
    m = re.search(r'<pre id="fx-probe">(.*?)</pre>', res.stdout, re.S)
    assert m, f"probe output missing (exit {res.returncode}); stderr tail: {res.stderr[-800:]}"
    data = json.loads(
        m.group(1)
        .replace("&quot;", '"')
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )
    assert data["errors"] == []
    assert data["title"] == demo_report.report.title
    assert data["tables"] >= 8
    figures = data["figures"]
    expected = {f.key for f in demo_report.report.figures()}
    assert {f["key"] for f in figures} == expected
    for f in figures:
        assert f["width"] > 100 and f["height"] > 50, f
        assert f["elements"] > 10, f


def test_no_console_errors_and_screenshot(chromium, demo_report, tmp_path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    if shot.exists():
        shot.unlink()
    res = _run(
        chromium,
        tmp_path,
        "--enable-logging=stderr",
        "--v=0",
        "--hide-scrollbars",
        "--window-size=1200,9000",
        f"--screenshot={shot}",
        (demo_report.out / "report.html").as_uri(),
    )
    console = [
        line
        for line in res.stderr.splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line
    ]
    assert console == []
    assert shot.is_file() and shot.stat().st_size > 50_000, res.stderr[-800:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_probe_catches_errors_and_empty_figures(chromium, tmp_path) -> None:
    """Negative control: the probe does see script errors and zero-size figures."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title>" + HEAD_PROBE + "</head><body>"
        '<figure class="fx-figure" data-figure="empty"><svg width="0" height="0"></svg></figure>'
        "<script>console.error('boom'); undefinedFunction();</script>"
        + BODY_PROBE
        + "</body></html>",
        encoding="utf-8",
    )
    res = _run(chromium, tmp_path, "--dump-dom", page.as_uri())
    m = re.search(r'<pre id="fx-probe">(.*?)</pre>', res.stdout, re.S)
    assert m
    data = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert any("boom" in e for e in data["errors"])
    assert any("undefinedFunction" in e for e in data["errors"])
    assert data["figures"] == [{"key": "empty", "width": 0, "height": 0, "elements": 0}]
