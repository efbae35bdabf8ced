"""Writers for the French Ministry of the Interior results layouts, vintage by vintage.

Each layout in :data:`FR_LAYOUTS` is written as published on data.gouv.fr (header, block
order, delimiter, encoding, line ending, quoting); ``verified`` says whether the header
was checked against a published file's header (see ``docs/data.md`` for the sources).
They feed the round-trip tests and the hostile corpus (``tests/io/hostile/``):
``fr_sample_results`` draws a canonical table suited to a layout (accented names, a
Corsican and an overseas commune, candidate counts that vary between constituencies),
``write_fr_results`` writes it, and ``read_precinct_results`` must give it back.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import SpecificationError

__all__ = ["FR_LAYOUTS", "FrLayout", "fr_sample_results", "write_fr_results"]


@dataclass(frozen=True)
class FrLayout:
    """One published results layout."""

    kind: str  # pres, leg, euro, mun
    style: str  # headerless13, headerless15, wide, numbered
    encoding: str
    delimiter: str
    verified: str  # how the header was checked ("" = not verified)


_OLD = "cp1252"
FR_LAYOUTS: dict[str, FrLayout] = {
    "pres2012": FrLayout(
        "pres", "headerless15", _OLD, ";", "column positions (PR12_Bvot_T1T2.txt)"
    ),
    "leg2012": FrLayout("leg", "headerless15", _OLD, ";", "column positions (LG12_Bvot_T1T2.txt)"),
    "mun2014": FrLayout("mun", "headerless13", _OLD, ";", "column positions (MN14_Bvot_T1T2.txt)"),
    "euro2014": FrLayout("euro", "headerless13", _OLD, ";", ""),
    "pres2017": FrLayout("pres", "wide", _OLD, ";", "header (PR17_BVot_T1_FE.txt)"),
    "leg2017": FrLayout("leg", "wide", _OLD, ";", "header (Leg_2017_Resultats_BVT_T1_c.txt)"),
    "euro2019": FrLayout("euro", "wide", _OLD, ";", "header names (two independent readers)"),
    "mun2020": FrLayout("mun", "wide", _OLD, "\t", "positions + block names (partly)"),
    "pres2022": FrLayout("pres", "wide", _OLD, ";", "header (resultats-par-niveau-burvot-t1)"),
    "leg2022": FrLayout("leg", "wide", _OLD, ";", "header (resultats-par-niveau-burvot-t1)"),
    "leg2024": FrLayout(
        "leg", "numbered", "utf-8", ";", "header (resultats-definitifs-par-bureau-de-vote.csv)"
    ),
    "euro2024": FrLayout(
        "euro",
        "numbered",
        "utf-8",
        ";",
        "header + quoting (resultats-definitifs-par-bureau-de-vote.csv)",
    ),
}

_FIXED_OLD = [
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
]
_FIXED_2024 = [
    "Code département",
    "Libellé département",
    "Code commune",
    "Libellé commune",
    "Code BV",
    "Inscrits",
    "Votants",
    "% Votants",
    "Abstentions",
    "% Abstentions",
    "Exprimés",
    "% Exprimés/inscrits",
    "% Exprimés/votants",
    "Blancs",
    "% Blancs/inscrits",
    "% Blancs/votants",
    "Nuls",
    "% Nuls/inscrits",
    "% Nuls/votants",
]
_BLOCKS = {
    "pres": ["N°Panneau", "Sexe", "Nom", "Prénom", "Voix", "% Voix/Ins", "% Voix/Exp"],
    "leg": ["N°Panneau", "Sexe", "Nom", "Prénom", "Nuance", "Voix", "% Voix/Ins", "% Voix/Exp"],
    "euro2019": [
        "N°Liste",
        "Libellé Abrégé Liste",
        "Libellé Etendu Liste",
        "Nom Tête de Liste",
        "Voix",
        "% Voix/Ins",
        "% Voix/Exp",
    ],
    "mun2020": [
        "N.Pan.",
        "Code Nuance",
        "Sexe",
        "Nom",
        "Prénom",
        "Liste",
        "Voix",
        "% Voix/Ins",
        "% Voix/Exp",
    ],
    "leg2024": [
        "Numéro de panneau",
        "Nuance candidat",
        "Nom candidat",
        "Prénom candidat",
        "Sexe candidat",
        "Voix",
        "% Voix/inscrits",
        "% Voix/exprimés",
        "Elu",
    ],
    "euro2024": [
        "Numéro de panneau",
        "Nuance liste",
        "Libellé abrégé de liste",
        "Libellé de liste",
        "Voix",
        "% Voix/inscrits",
        "% Voix/exprimés",
        "Sièges",
    ],
}

_COMMUNES = (  # (département as in 2012-2022 files, 2024 code, commune number, label)
    ("01", "01", "004", "Ambérieu-en-Bugey"),
    ("2A", "2A", "004", "Ajaccio"),
    ("ZA", "971", "101", "Les Abymes"),
)
_PEOPLE = [
    ("F", "LÉGER", "Anaïs", "DVG"),
    ("M", "MÉLENCHON", "Jean-Luc", "FI"),
    ("F", "NOËL", "Françoise", "ECO"),
    ("M", "DUPONT-AIGNAN", "Nicolas", "DLF"),
    ("F", "O'BRIEN", "Zoé", "DVD"),
    ("M", "ÇELIK", "Kémal", "DIV"),
    ("F", "MARTIN", "Hélène", "RN"),
]
_LISTS = [
    ("LFI", "LA FRANCE INSOUMISE", "Liste « La France insoumise – Union populaire »"),
    ("ENS", "BESOIN D'EUROPE", "Besoin d'Europe ; avec Renaissance"),
    ("LRN", "LA FRANCE REVIENT", "La France revient ! Avec Jordan Bardella"),
    ("LECO", "ÉCOLOGIE", "Europe Écologie – Les Écologistes"),
    ("LDIV", "ŒUVRER", "Œuvrer ensemble, à l'écoute"),
]


def fr_sample_results(seed: int, layout: str, *, election_id: str | None = None) -> pd.DataFrame:
    """A canonical ``precinct_results`` table suited to ``layout`` (the truth to read back).

    Extra columns ``sex, last_name, first_name, list_short, list_label`` carry what the
    writer needs. Legislative and municipal candidate counts vary between communes (rows
    of different lengths); 2012 layouts hold both rounds (``election_id`` ends in
    ``_t1``/``_t2``, as the reader names them from the file stem).
    """
    lay = _layout(layout)
    rng = np.random.default_rng(seed)
    eid = election_id if election_id is not None else layout
    rounds = (1, 2) if lay.style == "headerless15" else (1,)
    rows: list[dict[str, Any]] = []
    for r in rounds:
        for ci, (dept, dept24, com, label) in enumerate(_COMMUNES):
            if lay.kind == "pres":
                ncand = 5 if r == 1 else 2
            elif lay.kind == "euro":
                ncand = len(_LISTS)
            else:
                ncand = (3, 5, 2)[ci] if r == 1 else 2
            for b in (1, 2):
                registered = int(rng.integers(400, 1400))
                voters = int(rng.binomial(registered, 0.55))
                blank = int(rng.binomial(voters, 0.03))
                null = int(rng.binomial(voters, 0.01))
                expressed = voters - blank - null
                votes = rng.multinomial(expressed, rng.dirichlet(np.ones(ncand)))
                for k in range(ncand):
                    sex, last, first, nuance = _PEOPLE[(k + ci) % len(_PEOPLE)]
                    short, lab = "", ""
                    if lay.kind == "euro" or (lay.kind == "mun" and ci != 2):
                        nuance, short, lab = _LISTS[(k + ci) % len(_LISTS)]
                    d = dept24 if lay.style == "numbered" else dept
                    insee = ("971" + com[-2:]) if dept == "ZA" else dept24 + com
                    rows.append(
                        {
                            "precinct_id": f"{insee}_{b:04d}",
                            "election_id": f"{eid}_t{r}"
                            if lay.style.startswith("headerless")
                            else eid,
                            "department_code": "971" if dept == "ZA" else dept24,
                            "commune_code": insee,
                            "bureau_code": f"{b:04d}",
                            "registered": registered,
                            "voters": voters,
                            "abstentions": registered - voters,
                            "blank": blank,
                            "null": null,
                            "expressed": expressed,
                            "candidate": str(k + 1 + (1 if layout == "pres2012" else 0)),
                            "nuance": nuance,
                            "votes": int(votes[k]),
                            "sex": sex,
                            "last_name": last,
                            "first_name": first,
                            "list_short": short,
                            "list_label": lab,
                            "commune_label": label,
                            "dept_in_file": d,
                        }
                    )
    df = pd.DataFrame(rows)
    if lay.style.startswith("headerless"):  # blank and null are counted together
        df["null"] = df["blank"] + df["null"]
        df["blank"] = pd.NA
    if lay.kind == "euro" and lay.style.startswith("headerless"):
        df["last_name"], df["first_name"] = df["list_short"], ""
    names = (df["last_name"] + " " + df["first_name"]).str.strip()
    lab_col = df["list_label"].where(df["list_label"] != "", df["list_short"])
    if lay.style.startswith("headerless"):
        lab_col = names
    df["candidate_label"] = lab_col.where(lab_col != "", names)
    for col in ("registered", "voters", "abstentions", "blank", "null", "expressed", "votes"):
        df[col] = df[col].astype("Int64")
    return df


def _layout(layout: str) -> FrLayout:
    if layout not in FR_LAYOUTS:
        raise SpecificationError(
            f"French results layout must be one of {sorted(FR_LAYOUTS)}, got {layout!r}"
        )
    return FR_LAYOUTS[layout]


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.2f}".replace(".", ",") if den else "0,00"


def write_fr_results(results: pd.DataFrame, path: str | Path, *, layout: str) -> Path:
    """Write a table from :func:`fr_sample_results` in one published layout."""
    lay = _layout(layout)
    p = Path(path)
    r = results
    if lay.style.startswith("headerless"):
        lines = []
        for c in r.itertuples(index=False):
            commune = (
                str(c.commune_code)[-3:]
                if str(c.dept_in_file) != "ZA"
                else "1" + str(c.commune_code)[-2:]
            )
            rnd = str(c.election_id).rsplit("_t", 1)[-1] if "_t" in str(c.election_id) else "1"
            head = [rnd, c.dept_in_file, commune, c.commune_label]
            if lay.style == "headerless15":
                head += ["01", "01"]  # circonscription législative, canton
            counts = [c.bureau_code, c.registered, c.voters, c.expressed, c.candidate]
            lines.append([*head, *counts, c.last_name, c.first_name, c.nuance, c.votes])
        _write_rows(p, lines, lay, quoting=csv.QUOTE_MINIMAL)
        return p
    key = layout if layout in _BLOCKS else lay.kind
    block = _BLOCKS[key]
    groups = list(r.groupby(["precinct_id"], sort=True))
    if lay.style == "numbered":
        fixed = list(_FIXED_2024)
        if layout == "euro2024":
            fixed = ["Code localisation", "Libellé localisation", *fixed]
        k = max(len(g) for _, g in groups)
        header = fixed + [f"{b} {i}" for i in range(1, k + 1) for b in block]
    else:
        fixed = list(_FIXED_OLD)
        if lay.kind in ("euro", "mun"):  # no constituency columns
            fixed = fixed[:2] + fixed[4:]
        if layout == "mun2020":
            fixed[4] = "Code B.Vote"
        header = fixed + block
    out: list[list[Any]] = []
    for _, g in groups:
        f = g.iloc[0]
        reg, vot, exp = int(f["registered"]), int(f["voters"]), int(f["expressed"])
        bl, nu, ab = int(f["blank"]), int(f["null"]), int(f["abstentions"])
        if lay.style == "numbered":
            row: list[Any] = [f["dept_in_file"], "Dépt", f["commune_code"], f["commune_label"]]
            row += [f["bureau_code"], reg, vot, _pct(vot, reg), ab, _pct(ab, reg), exp]
            row += [_pct(exp, reg), _pct(exp, vot), bl, _pct(bl, reg), _pct(bl, vot), nu]
            row += [_pct(nu, reg), _pct(nu, vot)]
            if layout == "euro2024":
                row = ["FE", "France", *row]
        else:
            commune = (
                str(f["commune_code"])[-3:]
                if f["dept_in_file"] != "ZA"
                else "1" + str(f["commune_code"])[-2:]
            )
            row = [f["dept_in_file"], "Dépt"]
            if lay.kind in ("pres", "leg"):
                row += ["01", "1ère circonscription"]
            row += [commune, f["commune_label"], f["bureau_code"], reg, ab, _pct(ab, reg), vot]
            row += [_pct(vot, reg), bl, _pct(bl, reg), _pct(bl, vot), nu, _pct(nu, reg)]
            row += [_pct(nu, vot), exp, _pct(exp, reg), _pct(exp, vot)]
        for rec in g.to_dict("records"):
            cand: dict[str, Any] = {str(k): v for k, v in rec.items()}
            v = int(cand["votes"])
            values = {
                "N°Panneau": cand["candidate"],
                "N°Liste": cand["candidate"],
                "N.Pan.": cand["candidate"],
                "Numéro de panneau": cand["candidate"],
                "Sexe": cand["sex"],
                "Sexe candidat": cand["sex"],
                "Nom": cand["last_name"],
                "Nom candidat": cand["last_name"],
                "Prénom": cand["first_name"],
                "Prénom candidat": cand["first_name"],
                "Nuance": cand["nuance"],
                "Code Nuance": cand["nuance"],
                "Nuance candidat": cand["nuance"],
                "Nuance liste": cand["nuance"],
                "Libellé Abrégé Liste": cand["list_short"],
                "Libellé abrégé de liste": cand["list_short"],
                "Libellé Etendu Liste": cand["list_label"],
                "Libellé de liste": cand["list_label"],
                "Liste": cand["list_label"],
                "Nom Tête de Liste": f"{cand['last_name']} {cand['first_name']}",
                "Voix": v,
                "% Voix/Ins": _pct(v, reg),
                "% Voix/inscrits": _pct(v, reg),
                "% Voix/Exp": _pct(v, exp),
                "% Voix/exprimés": _pct(v, exp),
                "Elu": "",
                "Sièges": "0",
            }
            row += [values[b] for b in block]
        if lay.style == "numbered":
            row += [""] * (len(header) - len(row))
        out.append(row)
    quoting = csv.QUOTE_NONNUMERIC if layout == "euro2024" else csv.QUOTE_MINIMAL
    _write_rows(p, [header, *out], lay, quoting=quoting)
    return p


def _write_rows(p: Path, rows: list[list[Any]], lay: FrLayout, *, quoting: Any) -> None:
    newline = "\r\n" if lay.encoding == _OLD else "\n"
    with p.open("w", encoding=lay.encoding, newline="") as fh:
        if quoting == csv.QUOTE_NONNUMERIC:
            # the 2024 European file quotes text and leaves counts bare
            for row in rows:
                cells = [
                    str(v) if isinstance(v, (int, np.integer)) or _bare(v) else _quote(v)
                    for v in row
                ]
                fh.write(lay.delimiter.join(cells) + newline)
            return
        w = csv.writer(fh, delimiter=lay.delimiter, lineterminator=newline, quoting=quoting)
        w.writerows(rows)


def _bare(v: object) -> bool:
    return isinstance(v, str) and v in (
        "Inscrits",
        "Votants",
        "Abstentions",
        "Exprimés",
        "Blancs",
        "Nuls",
    )


def _quote(v: object) -> str:
    return '"' + str(v).replace('"', '""') + '"'
