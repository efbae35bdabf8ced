"""Make the invented polling-station experiment of ``analyses/bureaux_2026.toml`` (run from the repo root).

    python analyses/bureaux/make_data.py            # rewrites analyses/bureaux/*.csv

180 bureaux de vote in six communes (one in Corsica: ``2A004``), four elections written in the
Ministry of the Interior layout of their year (2017: ``Code du b.vote``, 2022: ``Code
B.Vote``, 2024 and the 2026 target: ``Code BV`` with numbered candidate blocks), the
assignment of bureaux to canvassing (``fx.Design`` blocked by commune, seed 2026) and the
canvassers' tally per bureau (portes frappées / ouvertes / conversations). In the municipal
election of 2026 the canvassed bureaux turn out 2 points more and give the union list 1.5
points more of the votes cast. Everything is invented; no real person or result is in any
file. ``tests/report/test_language.py`` checks that this script rewrites the files byte for
byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
COMMUNES = (("2A", "2A004"), ("13", "13055"), ("31", "31555"), ("33", "33063"), ("59", "59350"), ("69", "69123"))
BUREAUX_PER_COMMUNE = 30
#: (file, vintage, election id, turnout mean, lists: (label, nuance, weight))
ELECTIONS = (
    (
        "presidentielle_2017_04_23.csv",
        "2017",
        [("ALPHA Anne", "DVG", 8), ("BRAVO Bruno", "DVD", 7), ("CHARLIE Chloé", "ECO", 3), ("DELTA Damien", "RN", 6)],
        0.74,
    ),
    (
        "legislatives_2022_06_12.csv",
        "2022",
        [("ECHO Émile", "NUP", 8), ("FOXTROT Fanny", "ENS", 7), ("GOLF Gaël", "LR", 3), ("HOTEL Hélène", "RN", 6)],
        0.50,
    ),
    (
        "europeennes_2024_06_09.csv",
        "2024",
        [("INDIA Inès", "UG", 7), ("JULIET Jules", "ENS", 5), ("KILO Katell", "LR", 3), ("LIMA Léon", "RN", 9)],
        0.52,
    ),
    (
        "municipales_2026_03_15.csv",
        "2024",
        [
            ("LISTE D'UNION DE LA GAUCHE ET DES ÉCOLOGISTES POUR UNE VILLE SOLIDAIRE", "LUG", 8),
            ("ENSEMBLE POUR NOTRE VILLE, UNE ÉQUIPE D'EXPÉRIENCE AU SERVICE DE TOUS", "LDVD", 7),
            ("L'ÉCOLOGIE CITOYENNE", "LECO", 3),
            ("RASSEMBLEMENT POUR LA VILLE", "LRN", 5),
        ],
        0.56,
    ),
)


def bureaux() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "precinct_id": f"{c}_{b:04d}",
                "department_code": d,
                "commune_code": c,
                "bureau_code": f"{b:04d}",
            }
            for d, c in COMMUNES
            for b in range(1, BUREAUX_PER_COMMUNE + 1)
        ]
    )


def make(out: Path = HERE) -> list[Path]:
    """Write every file into ``out``; return their paths."""
    import fieldexp as fx
    from fieldexp.io.writers import write_precinct_results

    out.mkdir(parents=True, exist_ok=True)
    b = bureaux()
    assignment = fx.Design("precinct_id", blocks="commune_code").assign(b, seed=2026)
    assignment = assignment[["precinct_id", "commune_code", "arm", "probability"]]
    arm = dict(zip(assignment["precinct_id"], assignment["arm"], strict=True))
    rng = np.random.default_rng(2026)
    size = {p: int(rng.integers(650, 1450)) for p in b["precinct_id"]}
    # a station's own propensity to vote, stable across elections (what DiD differences out)
    propensity = {p: float(rng.normal(0.0, 0.05)) for p in b["precinct_id"]}
    written = []
    for k, (name, vintage, lists, mean) in enumerate(ELECTIONS):
        target = k == len(ELECTIONS) - 1
        rows = []
        for s in b.itertuples(index=False):
            z = int(arm[s.precinct_id]) if target else 0
            registered = size[s.precinct_id] + int(rng.integers(-20, 21)) * k
            p = float(np.clip(mean + propensity[s.precinct_id] + rng.normal(0, 0.02) + 0.02 * z, 0.2, 0.95))
            voters = int(rng.binomial(registered, p))
            blank, null = int(rng.binomial(voters, 0.02)), int(rng.binomial(voters, 0.01))
            expressed = voters - blank - null
            weights = np.array([w for _, _, w in lists], dtype=float)
            if target and z:
                weights[0] *= 1.07  # about +1.5 points of the votes cast for the union list
            votes = rng.multinomial(expressed, rng.dirichlet(8 * weights / weights.sum() * 4))
            for i, (label, nuance, _) in enumerate(lists):
                rows.append(
                    {
                        **s._asdict(),
                        "election_id": Path(name).stem,
                        "registered": registered,
                        "voters": voters,
                        "abstentions": registered - voters,
                        "blank": blank,
                        "null": null,
                        "expressed": expressed,
                        "candidate": str(i + 1),
                        "candidate_label": label,
                        "nuance": nuance,
                        "votes": int(votes[i]),
                    }
                )
        results = pd.DataFrame(rows)
        for col in ("registered", "voters", "abstentions", "blank", "null", "expressed", "votes"):
            results[col] = results[col].astype("Int64")
        written.append(write_precinct_results(results, out / name, vintage=vintage))
    assignment.to_csv(out / "assignment.csv", index=False, lineterminator="\n")
    written.append(out / "assignment.csv")
    # the canvassers' tally, one line per canvassed bureau (French headers, as exported)
    logs = []
    for s in b.itertuples(index=False):
        if int(arm[s.precinct_id]) != 1:
            continue
        knocked = int(0.45 * size[s.precinct_id] + rng.integers(-40, 41))
        opened = int(rng.binomial(knocked, 0.42))
        logs.append(
            {
                "Code commune": s.commune_code,
                "N° bureau": int(s.bureau_code),
                "Portes frappées": knocked,
                "Portes ouvertes": opened,
                "Conversations": int(rng.binomial(opened, 0.8)),
            }
        )
    pd.DataFrame(logs).to_csv(out / "portes.csv", index=False, sep=";", lineterminator="\n")
    written.append(out / "portes.csv")
    return written


if __name__ == "__main__":
    for path in make(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
