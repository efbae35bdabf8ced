"""Builders shared by the report tests: a small simulated experiment and its section context.

Imported by name (``from report_builders import ...``), never through ``conftest``, whose
module name is shared by every test folder's conftest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SMALL_SPEC = """\
version = 1

[report]
title = "Small test canvass"
figures = {figures}

[data.voters]
path = "voters.csv"
format = "csv"

[data.vote_history]
path = "vote_history.csv"
format = "long"

[data.contacts]
path = "contacts.csv"
format = "csv"
mapping.columns = {{ canvasser_id = "canvasser" }}

[data.assignment]
path = "assignment.csv"

[design]
unit = "voter_id"
blocks = "precinct_id"
clusters = "household_id"
arms = {{ 0 = 0.5, 1 = 0.5 }}
control = 0
seed = 11

[analysis]
election = "2022_general"
campaign_window = ["2022-10-01", "2022-11-08"]
blocks = "precinct_id"
clusters = "household_id"
covariates = ["voted_2018_general", "voted_2020_general"]
multiplicity = "{multiplicity}"

[outcomes.turnout]
column = "voted"
label = "Turnout in 2022"
estimands = ["ITT", "CACE"]
headline = true
{extra_outcomes}
[subgroups]
by = "propensity_band"

[randomization_inference]
reps = 50
seed = 5

[did]
exposure = "attempted"
estimator = "twfe"
clusters = "household_id"

[costs]
per_attempt = 2.0
per_contact = 3.0
fixed = 100
currency = "EUR"

[privacy]
small_cell = {small_cell}

[coverage]
by = ["precinct_id"]
canvasser = true
"""


def write_small_experiment(
    folder: Path,
    *,
    households: int = 300,
    weak: bool = False,
    effect: float = 0.45,
    canvassers: int = 12,
    small_cell: int = 5,
    multiplicity: str = "holm",
    second_outcome: bool = False,
    figures: bool = False,
    late_contacts: int = 0,
    arms: int = 2,
    shuffle: bool = False,
) -> Path:
    """A small seeded canvassing experiment (CSV files + spec) in ``folder``; returns the spec.

    Two voters per household, six precincts, households randomised 50/50 within precincts.
    ``weak=True`` logs contacts for held-out households at the same rate as for canvassed ones
    (kept by the reconciliation), so contact barely depends on assignment (F near 0).
    ``late_contacts`` adds that many contact rows after the campaign window (set aside).
    ``arms=3`` randomises households to a control (1/2) and two canvass arms (1/4 each; use a
    multiple of 24 households);
    ``shuffle=True`` writes every file with its rows in a random order.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20261129)
    folder.mkdir(parents=True, exist_ok=True)
    hh = [f"H{i:04d}" for i in range(households)]
    precinct = [f"P{1 + i % 6}" for i in range(households)]
    arm = np.zeros(households, dtype=int)
    for p in sorted(set(precinct)):
        idx = rng.permutation([i for i, q in enumerate(precinct) if q == p])
        cuts = (
            [0, len(idx) // 2, 3 * len(idx) // 4, len(idx)]
            if arms == 3
            else [0, len(idx) // 2, len(idx)]
        )
        for a in range(1, arms):
            arm[idx[cuts[a] : cuts[a + 1]]] = a

    shuffler = np.random.default_rng(7)

    def write(frame: pd.DataFrame, name: str) -> None:
        if shuffle:  # its own generator: the data drawn do not change
            frame = frame.iloc[shuffler.permutation(len(frame))]
        frame.to_csv(folder / name, index=False)

    write(
        pd.DataFrame(
            {
                "household_id": hh,
                "precinct_id": precinct,
                "arm": arm,
                "probability": np.where(arm == 0, 0.5, 1 / (2 * (arms - 1))),
            }
        ),
        "assignment.csv",
    )
    voters = []
    for i, h in enumerate(hh):
        for j in range(2):
            voters.append(
                {
                    "voter_id": f"V{2 * i + j:05d}",
                    "household_id": h,
                    "precinct_id": precinct[i],
                    "age": int(rng.integers(18, 90)),
                }
            )
    vf = pd.DataFrame(voters)
    write(vf, "voters.csv")
    n = len(vf)
    h_arm = dict(zip(hh, arm, strict=True))
    z = vf["household_id"].map(h_arm).to_numpy()
    propensity = rng.uniform(0.2, 0.8, n)
    # contacts: canvassed households attempted w.p. 0.8, a conversation w.p. 0.6
    rows = []
    contacted_voter = np.zeros(n, dtype=bool)
    k = 0
    for i, h in enumerate(hh):
        if not (arm[i] >= 1 or weak):
            continue
        if rng.uniform() > 0.8:
            continue
        for j in range(2):
            v = 2 * i + j
            talk = rng.uniform() < 0.6
            contacted_voter[v] = talk
            k += 1
            rows.append(
                {
                    "contact_id": k,
                    "voter_id": f"V{v:05d}",
                    "household_id": h,
                    "timestamp": f"2022-10-{1 + int(rng.integers(0, 28)):02d} 15:00:00",
                    "channel": "door",
                    "result": "Canvassed" if talk else "Not Home",
                    "attempted": 1,
                    "contacted": int(talk),
                    "canvasser_id": f"K{1 + int(rng.integers(0, canvassers))}",
                    "attempt": 1,
                }
            )
    for _ in range(late_contacts):
        k += 1
        v = int(rng.integers(0, n))
        rows.append(
            {
                "contact_id": k,
                "voter_id": f"V{v:05d}",
                "household_id": vf["household_id"].iloc[v],
                "timestamp": "2022-11-20 10:00:00",
                "channel": "door",
                "result": "Canvassed",
                "attempted": 1,
                "contacted": 1,
                "canvasser_id": "K1",
                "attempt": 1,
            }
        )
    write(pd.DataFrame(rows), "contacts.csv")
    hist = []
    elections = [("2018_general", "2018-11-06"), ("2020_general", "2020-11-03")]
    elections.append(("2022_general", "2022-11-08"))
    for e, d in elections:
        lift = effect * contacted_voter * (1 if not weak else 0) if e == "2022_general" else 0
        voted = rng.uniform(size=n) < np.clip(propensity + lift, 0, 1)
        for v in range(n):
            hist.append(
                {
                    "voter_id": f"V{v:05d}",
                    "election_id": e,
                    "election_date": d,
                    "election_type": "general",
                    "voted": int(voted[v]),
                    "method": "",
                }
            )
    write(pd.DataFrame(hist), "vote_history.csv")
    extra = ""
    if second_outcome:
        extra = (
            '\n[outcomes.turnout_again]\ncolumn = "voted"\nlabel = "Turnout (second look)"\n'
            'estimands = ["ITT", "CACE"]\n'
        )
    spec = folder / "small.toml"
    text = SMALL_SPEC
    if arms == 3:
        text = text.replace(
            "arms = {{ 0 = 0.5, 1 = 0.5 }}", "arms = {{ 0 = 0.5, 1 = 0.25, 2 = 0.25 }}"
        )
    spec.write_text(
        text.format(
            figures=str(figures).lower(),
            multiplicity=multiplicity,
            small_cell=small_cell,
            extra_outcomes=extra,
        ),
        encoding="utf-8",
    )
    _ = z
    return spec


@dataclass(frozen=True)
class SmallRun:
    spec: object
    run: object
    ctx: object


def small_context(spec_path: Path) -> SmallRun:
    """Prepare, plan, estimate, randomise and adjust: the context every section receives."""
    import warnings

    from fieldexp.report import prepare_analysis
    from fieldexp.report.plan import adjust_effects, estimate_effects, plan_effects
    from fieldexp.report.sections import ReportContext
    from fieldexp.report.sections.ri import randomize
    from fieldexp.spec import load_spec

    spec = load_spec(spec_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        effects = estimate_effects(run, plan_effects(run))
        ri = randomize(run)
        effects = adjust_effects(
            effects, spec.analysis.multiplicity, ri.results if ri is not None else ()
        )
    return SmallRun(spec, run, ReportContext(run, effects, ri))
