"""The notebooks in notebooks/ run top to bottom on fixtures (nbclient, this interpreter)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
KERNEL = "fieldexp-tests"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec for *this* interpreter, so the notebooks run in the test environment."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "fieldexp tests",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return root


def test_there_are_four_notebooks() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_after_election_campaign",
        "03_bureaux_de_vote",
        "04_where_to_knock_next",
    ]


@pytest.fixture(scope="module")
def executed(kernel_dir: Path) -> dict[Path, object]:
    """Run every notebook at once (one kernel each, concurrently) and keep the results."""
    import asyncio

    async def one(path: Path) -> object:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=180,
            resources={"metadata": {"path": str(path.parent)}},
        )
        await client.async_execute()
        return nb

    async def run_all() -> list[object]:
        return await asyncio.gather(*(one(p) for p in NOTEBOOKS), return_exceptions=True)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(kernel_dir))
        mp.setenv("MPLBACKEND", "Agg")
        results = asyncio.run(run_all())
    return dict(zip(NOTEBOOKS, results, strict=True))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, executed: dict[Path, object]) -> None:
    nb = executed[path]
    if isinstance(nb, BaseException):
        raise nb
    errors = [
        o
        for c in nb.cells  # type: ignore[attr-defined]
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    html = [
        o
        for c in nb.cells  # type: ignore[attr-defined]
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert html, "no result rendered as HTML"
