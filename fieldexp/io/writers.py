"""Writers: canonical tables -> files in each supported layout.

They exist so that fixtures (``fixtures/io/``) and round-trip tests are made by our own
code: write a canonical table in a layout, read it back with the matching reader,
compare. They are faithful to the layouts as far as ``docs/data.md`` describes them;
they are not certified copies of any vendor's export.

Regenerate the shipped fixtures with::

    .venv/bin/python -m fieldexp.io.writers fixtures/io --seed 20261125
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import SpecificationError
from fieldexp.io.mappings import mapping_table

__all__ = [
    "write_contacts",
    "write_fixtures",
    "write_precinct_results",
    "write_vote_history",
    "write_voters",
]

_STATUS_CODE = {"active": "A", "inactive": "I", "removed": "R", "pending": "P", "unknown": "U"}
_NC_METHOD = {
    "old": {
        "in_person": "IN-PERSON",
        "early": "ABSENTEE ONESTOP",
        "mail": "ABSENTEE BY MAIL",
        "absentee": "ABSENTEE",
        "provisional": "PROVISIONAL",
    },
    "new": {
        "in_person": "ELECTION DAY",
        "early": "EARLY VOTING",
        "mail": "BY MAIL",
        "absentee": "BY MAIL",
        "provisional": "PROVISIONAL",
    },
}
_FL_CODE = {
    ("1", "absentee"): "A",
    ("1", "mail"): "A",
    ("1", "early"): "E",
    ("1", "in_person"): "Y",
    ("1", ""): "Y",
    ("0", "absentee_not_counted"): "B",
    ("0", "provisional_not_counted"): "P",
    ("0", ""): "N",
}
_FL_TYPE = {
    "general": "GEN",
    "primary": "PRI",
    "presidential_primary": "PPP",
    "runoff": "RUN",
    "special": "OTH",
    "municipal": "OTH",
    "other": "OTH",
}


def _date(s: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(s).dt.strftime(fmt).where(s.notna(), "")


def write_voters(voters: pd.DataFrame, path: str | Path, *, format: str = "csv") -> Path:
    """Write a voters table (with optional PII columns) as a US-style CSV or an REU extract."""
    p = Path(path)
    v = voters
    if format == "csv":
        out = pd.DataFrame(
            {
                "VoterID": v["voter_id"],
                "household_id": v["household_id"],
                "precinct": v["precinct_id"],
                "status": v["registration_status"].map(_STATUS_CODE),
                "registration_date": _date(v["registration_date"], "%Y-%m-%d"),
                "gender": v["gender"],
                "party": v["party"],
            }
        )
        for col in ("first_name", "last_name", "address"):
            if col in v.columns:
                out[col] = v[col]
        if "birth_date" in v.columns:
            out["dob"] = _date(v["birth_date"], "%Y-%m-%d")
        elif "birth_year" in v.columns:
            out["birth_year"] = v["birth_year"]
        out.to_csv(p, index=False)
    elif format == "reu":
        commune = v["precinct_id"].str.split("_").str[0]
        bureau = v["precinct_id"].str.split("_").str[1]
        out = pd.DataFrame(
            {
                "Nom de naissance": v.get("last_name", pd.Series("X", index=v.index)).str.upper(),
                "Prénoms": v.get("first_name", pd.Series("Y", index=v.index)),
                "Sexe": v["gender"],
                "Date de naissance": _date(v["birth_date"], "%d/%m/%Y")
                if "birth_date" in v
                else "",
                "Numéro de voie": v["address"].str.split(" ", n=1).str[0] if "address" in v else "",
                "Libellé de voie": v["address"].str.split(" ", n=1).str[1]
                if "address" in v
                else "",
                "Code postal": "75001",
                "Commune": "Ville",
                "Code commune": commune,
                "Code du bureau de vote": bureau.str.lstrip("0"),
                "Libellé du bureau de vote": "Bureau " + bureau,
                "Identifiant national électeur": v["voter_id"],
            }
        )
        out.to_csv(p, index=False, sep=";", encoding="utf-8")
    else:
        raise SpecificationError(f"write_voters: format must be 'csv' or 'reu', got {format!r}")
    return p


def write_vote_history(
    history: pd.DataFrame,
    path: str | Path,
    *,
    format: str = "long",
    vintage: str = "new",
    duplicate_share: float = 0.0,
    seed: int = 0,
) -> Path:
    """Write a long vote history in one of the reader's layouts.

    ``ncvhis`` and ``florida`` list ballots only (voted rows, plus Florida's
    not-counted ones); ``vintage`` picks the ncvhis ``voting_method`` value set
    (``"old"`` or ``"new"``); ``duplicate_share`` repeats that share of ncvhis rows.
    """
    p = Path(path)
    h = history
    voted = h["voted"].astype("int64").astype("str")
    method = h["method"].astype("str").where(h["method"].notna(), "")
    if format == "long":
        out = h.assign(election_date=_date(h["election_date"], "%Y-%m-%d"))
        out.to_csv(p, index=False)
    elif format == "ncvhis":
        rows = h[h["voted"] == 1]
        mm = _NC_METHOD[vintage]
        dates = _date(rows["election_date"], "%m/%d/%Y")
        out = pd.DataFrame(
            {
                "county_id": "1",
                "county_desc": "ALAMANCE",
                "voter_reg_num": rows["voter_id"].str[-6:],
                "election_lbl": dates,
                "election_desc": dates + " " + rows["election_type"].str.upper(),
                "voting_method": rows["method"].map(mm).fillna(mm["in_person"]),
                "voted_party_cd": "UNA",
                "ncid": rows["voter_id"],
            }
        )
        if duplicate_share > 0:
            rng = np.random.default_rng(seed)
            extra = out.sample(frac=duplicate_share, random_state=rng)
            out = pd.concat([out, extra]).sort_index(kind="stable")
        out.to_csv(p, index=False, sep="\t", quoting=csv.QUOTE_NONE)
    elif format == "florida":
        codes = [
            _FL_CODE.get((v, m), "Y" if v == "1" else "N")
            for v, m in zip(voted, method, strict=True)
        ]
        out = pd.DataFrame(
            {
                "county": "DAD",
                "voter_id": h["voter_id"],
                "date": _date(h["election_date"], "%m/%d/%Y"),
                "type": h["election_type"].map(_FL_TYPE).fillna("OTH"),
                "code": codes,
            }
        )
        out = out[np.asarray(codes) != "N"]
        out.to_csv(p, index=False, header=False, sep="\t")
    elif format in ("wide", "ohio", "l2"):
        wide = h.pivot_table(index="voter_id", columns="election_id", values="voted", aggfunc="max")
        meta = h.drop_duplicates("election_id").set_index("election_id")
        cols = {}
        for eid in wide.columns:
            kind = str(meta.loc[eid, "election_type"])
            date = pd.Timestamp(str(meta.loc[eid, "election_date"]))
            if format == "ohio":
                name = f"{kind.upper()}-{date:%m/%d/%Y}"
                mark = "X"
            elif format == "l2":
                name = f"{''.join(w.title() for w in kind.split('_'))}_{date:%Y_%m_%d}"
                mark = "Y"
            else:
                name = f"{kind}_{date:%Y-%m-%d}"
                mark = "1"
            col = wide[eid].astype("float").map({1.0: mark, 0.0: "" if format != "wide" else "0"})
            if format == "ohio" and "ballot_party" in h.columns:
                party = h[h["election_id"] == eid].set_index("voter_id")["ballot_party"]
                party = party.reindex(wide.index)
                col = party.where(party.notna() & (col == "X"), col)
            cols[name] = col
        idname = {"ohio": "SOS_VOTERID", "l2": "LALVOTERID", "wide": "voter_id"}[format]
        out = pd.DataFrame(cols).rename_axis(idname).reset_index()
        out.to_csv(p, index=False)
    else:
        raise SpecificationError(f"write_vote_history: unknown format {format!r}")
    return p


def write_contacts(
    contacts: pd.DataFrame,
    path: str | Path,
    *,
    format: str = "csv",
    results_path: str | Path | None = None,
    seed: int = 0,
) -> Path:
    """Write a contacts table as a VAN export (+ its Results lookup), NationBuilder or CSV.

    VAN result ids are drawn at random per call, as they differ between accounts; the
    lookup written to ``results_path`` is the only way to read them back.
    """
    p = Path(path)
    c = contacts
    if format == "csv":
        c.assign(timestamp=_date(c["timestamp"], "%Y-%m-%d %H:%M:%S")).to_csv(p, index=False)
        return p
    table = mapping_table("contact_results")
    if format == "van":
        t = table[table["format"] == "van"]
        name_of: dict[str, str] = {}
        short_of: dict[str, str] = {}
        for code, result in zip(t["code"], t["result"], strict=True):
            if code.isupper() and len(code) <= 3:  # VAN short names (NH, CV, RF...)
                short_of.setdefault(result, code)
            else:
                name_of.setdefault(result, code)
        names = c["result"].map(name_of)
        rng = np.random.default_rng(seed)
        uniq = sorted(set(name_of.values()))
        ids = rng.permutation(np.arange(10, 10 + len(uniq)))
        id_of = dict(zip(uniq, map(str, ids), strict=True))
        result_of = {v: k for k, v in name_of.items()}
        out = pd.DataFrame(
            {
                "VanID": c["unit_id"],
                "DateCanvassed": _date(c["timestamp"], "%m/%d/%Y"),
                "ContactTypeID": "2",
                "ContactTypeName": c["channel"]
                .map({"door": "Walk", "phone": "Phone"})
                .fillna("Walk"),
                "ResultID": names.map(id_of),
                "CanvassedBy": c.get("canvasser", ""),
            }
        )
        out.to_csv(p, index=False)
        if results_path is not None:
            pd.DataFrame(
                {
                    "ResultID": list(id_of.values()),
                    "ResultShortName": [short_of.get(result_of[n], "") for n in id_of],
                    "ResultName": list(id_of),
                }
            ).to_csv(results_path, index=False)
    elif format == "nationbuilder":
        t = table[table["format"] == "nationbuilder"]
        name_of = dict(zip(t["result"], t["code"], strict=True))
        name_of.update(
            {
                "canvassed": "answered",
                "not_home": "no_answer",
                "moved": "bad_info",
                "language_barrier": "answered",
                "inaccessible": "inaccessible",
            }
        )
        out = pd.DataFrame(
            {
                "person_id": c["unit_id"],
                "created_at": _date(c["timestamp"], "%Y-%m-%dT%H:%M:%S"),
                "method": c["channel"]
                .map({"door": "door_knock", "phone": "phone_call"})
                .fillna("other"),
                "status": c["result"].map(name_of).fillna("other"),
                "author_id": c.get("canvasser", ""),
            }
        )
        out.to_csv(p, index=False)
    else:
        raise SpecificationError(f"write_contacts: unknown format {format!r}")
    return p


def write_precinct_results(
    results: pd.DataFrame,
    path: str | Path,
    *,
    vintage: str = "2017",
) -> Path:
    """Write precinct results in a Ministry of the Interior layout.

    ``vintage``: ``"2017"`` (``Code du b.vote``, one labelled candidate block then
    unlabelled repeats, UTF-8), ``"2022"`` (``Code B.Vote``, ``N.Pan.``,
    ``Code Nuance``), ``"2024"`` (``Code BV``, suffixed blocks ``Numéro de panneau 1``...),
    ``"2014"`` (Latin-1, no header, one row per candidate, blank+null together).
    """
    p = Path(path)
    r = results.sort_values(["precinct_id", "candidate"], key=lambda s: s.map(str), kind="stable")
    dept = r["department_code"].astype("str")
    commune = [
        c[len(d) :] if c.startswith(d) else c for c, d in zip(r["commune_code"], dept, strict=True)
    ]
    r = r.assign(commune_short=commune)
    if vintage == "2014":
        with p.open("w", encoding="latin-1", newline="") as fh:
            w = csv.writer(fh, delimiter=";")
            for cand in r.itertuples(index=False):
                last, _, first = str(cand.candidate_label).partition(" ")
                w.writerow(
                    [
                        1,
                        cand.department_code,
                        str(cand.commune_short).lstrip("0"),
                        "Commune",
                        str(cand.bureau_code).lstrip("0"),
                        cand.registered,
                        cand.voters,
                        cand.expressed,
                        cand.candidate,
                        last,
                        first,
                        cand.nuance,
                        cand.votes,
                    ]
                )
        return p
    names = {
        "2017": (
            "Code du département",
            "Code de la commune",
            "Code du b.vote",
            "N°Panneau",
            "Nuance",
        ),
        "2022": (
            "Code du département",
            "Code de la commune",
            "Code B.Vote",
            "N.Pan.",
            "Code Nuance",
        ),
        "2024": (
            "Code département",
            "Code commune",
            "Code BV",
            "Numéro de panneau",
            "Nuance candidat",
        ),
    }.get(vintage)
    if names is None:
        raise SpecificationError(f"write_precinct_results: unknown vintage {vintage!r}")
    d_name, c_name, b_name, pan, nua = names
    fixed = [
        d_name,
        "Libellé du département",
        c_name,
        "Libellé de la commune",
        b_name,
        "Inscrits",
        "Abstentions",
        "% Abs/Ins",
        "Votants",
        "Blancs",
        "Nuls",
        "Exprimés",
    ]
    block = [pan, "Sexe", "Nom", "Prénom", nua, "Voix", "% Voix/Ins", "% Voix/Exp"]
    groups = list(r.groupby("precinct_id", sort=True))
    k = max(len(g) for _, g in groups)
    if vintage == "2024":
        fixed[2] = r["commune_code"].iloc[0] and c_name
        header = fixed + [f"{b} {i}" for i in range(1, k + 1) for b in block]
    else:
        header = fixed + block
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        for _, g in groups:
            f: dict[Any, Any] = g.iloc[0].to_dict()
            com = f["commune_code"] if vintage == "2024" else f["commune_short"]
            reg = int(f["registered"])
            row: list[Any] = [
                f["department_code"],
                "Dept",
                com,
                "Commune",
                f["bureau_code"],
                reg,
                int(f["abstentions"]),
                f"{100 * int(f['abstentions']) / reg:.2f}".replace(".", ","),
                int(f["voters"]),
                int(f["blank"]),
                int(f["null"]),
                int(f["expressed"]),
            ]
            for c in g.to_dict("records"):
                last, _, first = str(c["candidate_label"]).partition(" ")
                votes = int(c["votes"])
                row += [
                    c["candidate"],
                    "M",
                    last,
                    first,
                    c["nuance"],
                    votes,
                    f"{100 * votes / reg:.2f}".replace(".", ","),
                    f"{100 * votes / max(int(c['expressed']), 1):.2f}".replace(".", ","),
                ]
            if vintage == "2024":
                row += [""] * (len(header) - len(row))
            w.writerow(row)
    return p


def write_fixtures(out: str | Path, *, seed: int = 20261125) -> list[Path]:
    """Write the small sample files of every layout into ``out`` (see fixtures/io/README.md)."""
    from fieldexp.io.synthetic import synthetic_field_data, synthetic_precinct_results

    o = Path(out)
    o.mkdir(parents=True, exist_ok=True)
    data = synthetic_field_data(seed, n_households=120, n_precincts=3)
    files = [
        write_voters(data.voters, o / "voters.csv"),
        write_vote_history(data.vote_history, o / "history_long.csv", format="long"),
        write_vote_history(data.vote_history, o / "history_wide.csv", format="wide"),
        write_vote_history(
            data.vote_history,
            o / "ncvhis.txt",
            format="ncvhis",
            vintage="new",
            duplicate_share=0.02,
            seed=seed,
        ),
        write_vote_history(data.vote_history, o / "ncvhis_old.txt", format="ncvhis", vintage="old"),
        write_vote_history(data.vote_history, o / "ohio.csv", format="ohio"),
        write_vote_history(data.vote_history, o / "l2.csv", format="l2"),
        write_vote_history(data.vote_history, o / "florida.txt", format="florida"),
        write_contacts(data.contacts, o / "contacts.csv", format="csv"),
        write_contacts(
            data.contacts,
            o / "van_contacts.csv",
            format="van",
            results_path=o / "van_results.csv",
            seed=seed,
        ),
        o / "van_results.csv",
        write_contacts(data.contacts, o / "nationbuilder_contacts.csv", format="nationbuilder"),
    ]
    assignment = data.assignment
    assignment.to_csv(o / "assignment.csv", index=False)
    files.append(o / "assignment.csv")
    fr = synthetic_precinct_results(seed, election_id="synthetic")
    for vintage in ("2014", "2017", "2022", "2024"):
        files.append(write_precinct_results(fr, o / f"fr_results_{vintage}.csv", vintage=vintage))
    # an REU extract whose bureaux match the results' polling stations
    reu = data.voters.assign(
        precinct_id=np.array(sorted(fr["precinct_id"].unique()))[
            pd.factorize(data.voters["precinct_id"], sort=True)[0] % fr["precinct_id"].nunique()
        ],
        voter_id=["FR" + v[1:] for v in data.voters["voter_id"]],
    )
    files.append(write_voters(reu, o / "reu_extract.csv", format="reu"))
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write fieldexp's synthetic I/O fixtures.")
    parser.add_argument("out", help="output folder, e.g. fixtures/io")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args(argv)
    for f in write_fixtures(args.out, seed=args.seed):
        print(f)


if __name__ == "__main__":  # pragma: no cover
    main()
