"""Polling-station experiment files (legislative layout) and the station table R reads.

``write_station_files(folder)`` writes, deterministically:

* ``results_2024.csv``: legislative results per bureau in the 2022 published layout
  (cp1252, ``;``) for 54 stations in 4 communes of 3 circonscriptions (75-01, 75-02,
  2A-01). Panel numbers are drawn per circonscription, so panel 1 is DVG in 75-01, RN in
  75-02 and LR in 2A-01; ECO stands in Paris only.
* ``results_2017.csv``: the previous election (same layout) for past turnout; two stations
  of 2024 did not exist then.
* ``assignment.csv``: stations randomised within communes (complete, half each).
* ``doors.csv``: a campaign's door log (French headers, commune codes without leading
  zeros split from the département, bureau numbers without padding, one station logged
  on two lines).

``python tests/reference/make_stations_data.py`` writes these to a temporary folder, builds
the station table with fieldexp and saves it as ``tests/reference/stations_table.csv``: the
input of ``make_reference_stations.R`` (R reads only that CSV).
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: (département, commune INSEE, circonscription, stations)
COMMUNES = (
    ("75", "75056", "01", 18),
    ("75", "75056", "02", 12),  # Paris spans two circonscriptions: blocks by commune
    ("2A", "2A004", "01", 14),
    ("2A", "2A041", "01", 10),
)
#: panel order per circonscription
PANELS = {
    "75-01": ["DVG", "RN", "ECO", "ENS", "LR"],
    "75-02": ["RN", "ENS", "DVG", "ECO", "LR"],
    "2A-01": ["LR", "DVG", "ENS", "RN"],
}
HEADER = [
    "Code du département",
    "Libellé du département",
    "Code de la circonscription",
    "Libellé de la circonscription",
    "Code de la commune",
    "Libellé de la commune",
    "Code du b.vote",
    "Inscrits",
    "Abstentions",
    "% Abs/Ins",
    "Votants",
    "% Vot/Ins",
    "Blancs",
    "% Blancs/Ins",
    "% Blancs/Vot",
    "Nuls",
    "% Nuls/Ins",
    "% Nuls/Vot",
    "Exprimés",
    "% Exp/Ins",
    "% Exp/Vot",
    "N°Panneau",
    "Sexe",
    "Nom",
    "Prénom",
    "Nuance",
    "Voix",
    "% Voix/Ins",
    "% Voix/Exp",
]


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f}".replace(".", ",") if b else ""


def _stations() -> list[tuple[str, str, str, str, int]]:
    out = []
    n = {}
    for dept, insee, circ, k in COMMUNES:
        for _ in range(k):
            n[insee] = n.get(insee, 0) + 1
            out.append((dept, insee, circ, f"{n[insee]:04d}", len(out)))
    return out


def _results(seed: int, arms: dict[str, int] | None, skip: set[str]) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for dept, insee, circ, bureau, i in _stations():
        pid = f"{insee}_{bureau}"
        if pid in skip:
            continue
        z = 0 if arms is None else arms[pid]
        base = 0.45 + 0.1 * ((i * 7919) % 13) / 13
        registered = int(rng.integers(600, 1600))
        voters = int(rng.binomial(registered, min(0.9, base + 0.015 * z + rng.normal(0, 0.02))))
        blank, null = int(rng.binomial(voters, 0.02)), int(rng.binomial(voters, 0.01))
        expressed = voters - blank - null
        panel = PANELS[f"{dept}-{circ}"]
        alpha = np.array([4.0 if n == "RN" else 3.0 for n in panel])
        if z:
            alpha[panel.index("DVG")] += 0.6
        votes = rng.multinomial(expressed, rng.dirichlet(alpha * 20))
        row = [dept, "Dépt", circ, f"{circ}e circonscription", insee[2:], "Commune", bureau]
        row += [registered, registered - voters, _pct(registered - voters, registered), voters]
        row += [_pct(voters, registered), blank, _pct(blank, registered), _pct(blank, voters)]
        row += [null, _pct(null, registered), _pct(null, voters), expressed]
        row += [_pct(expressed, registered), _pct(expressed, voters)]
        for k, nuance in enumerate(panel):
            v = int(votes[k])
            row += [k + 1, "F", f"CAND{circ}{nuance}", "Prénom", nuance, v]
            row += [_pct(v, registered), _pct(v, expressed)]
        rows.append([str(x) for x in row])
    return rows


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        w.writerows(rows)


def write_station_files(folder: Path) -> dict[str, Path]:
    """Write the four input files into ``folder``; return their paths by name."""
    import fieldexp as fx

    folder.mkdir(parents=True, exist_ok=True)
    ids = pd.DataFrame(
        [
            {"precinct_id": f"{insee}_{b}", "commune_code": insee}
            for _, insee, _, b, _ in _stations()
        ]
    )
    design = fx.Design("precinct_id", blocks="commune_code", arms={0: 0.5, 1: 0.5})
    assignment = design.assign(ids, seed=2012)
    arms = dict(zip(assignment["precinct_id"], assignment["arm"].astype(int), strict=True))
    paths = {
        "results": folder / "results_2024.csv",
        "past": folder / "results_2017.csv",
        "assignment": folder / "assignment.csv",
        "doors": folder / "doors.csv",
    }
    _write(paths["results"], _results(2024, arms, set()))
    _write(paths["past"], _results(2017, None, {"75056_0030", "2A041_0010"}))
    assignment[["precinct_id", "arm"]].assign(probability=0.5).to_csv(
        paths["assignment"], index=False
    )
    rng = np.random.default_rng(7)
    lines = []
    for dept, insee, _, bureau, _ in _stations():
        pid = f"{insee}_{bureau}"
        if arms[pid] == 0 and rng.random() < 0.7:
            continue  # most held-out stations were not canvassed (absent from the log)
        knocked = int(rng.integers(150, 400)) if arms[pid] else int(rng.integers(0, 30))
        opened = int(rng.binomial(knocked, 0.45))
        talks = int(rng.binomial(opened, 0.6))
        lines.append([dept, insee[2:].lstrip("0") or "0", str(int(bureau)), knocked, opened, talks])
    lines.append(["75", "56", "1", 20, 9, 5])  # the same station on a second day
    with paths["doors"].open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(
            [
                "Département",
                "Commune",
                "N° bureau",
                "Portes frappées",
                "Portes ouvertes",
                "Discussions",
            ]
        )
        w.writerows(lines)
    return paths


def station_table(paths: dict[str, Path]) -> pd.DataFrame:
    """The station table fieldexp builds from the files (shares by nuance, past turnout,
    door-log tallies and dose)."""
    import warnings

    from fieldexp.analysis import build_precinct_table
    from fieldexp.analysis.precinct import join_door_logs
    from fieldexp.io import read_precinct_results
    from fieldexp.io.doorlogs import read_door_logs

    results = pd.concat(
        [read_precinct_results(paths["results"]), read_precinct_results(paths["past"])],
        ignore_index=True,
    )
    assignment = pd.read_csv(paths["assignment"], dtype={"precinct_id": str})
    table, rec = build_precinct_table(
        results, election="results_2024", assignment=assignment, past_election="results_2017"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logs = read_door_logs(paths["doors"])
    table, _ = join_door_logs(table, rec, logs)
    return table


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        t = station_table(write_station_files(Path(tmp)))
    out = HERE / "stations_table.csv"
    t.to_csv(out, index=False, float_format="%.17g")
    print(f"wrote {out} ({len(t)} stations)", file=sys.stderr)
