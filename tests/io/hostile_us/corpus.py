"""The US half of the hostile / drifted file corpus (issue 10 item 8).

Every file is made by our writers (``fieldexp.io.writers``) from the synthetic field data
(``fieldexp.io.synthetic``), then drifted or damaged the way real exports are: new
vocabularies, unknown codes, truncated lines, headers spelled differently, personal
columns under other names, daylight-saving offsets, day-first dates, concatenated
exports... Each case states the reader call and its expected error or result; the test
``tests/io/test_hostile_us.py`` runs them all and checks the committed files are what
this script writes.

Regenerate (from the repository root)::

    .venv/bin/python tests/io/hostile_us/corpus.py
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SEED = 20261129
HERE = Path(__file__).resolve().parent
FILES = HERE / "files"


@dataclass(frozen=True)
class Case:
    """One hostile file: how to read it and what must happen.

    ``expect`` is ``"ok"`` or the name of the error class; ``match`` a regex the error
    (or, for ``ok``, every warning of class ``warns``) must match; ``checks`` names
    properties of the result checked by the test (see ``test_hostile_us.py``).
    """

    name: str
    file: str
    reader: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    expect: str = "ok"
    match: str = ""
    warns: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    what: str = ""


def _data() -> Any:
    from fieldexp.io.synthetic import synthetic_field_data

    return synthetic_field_data(SEED, n_households=14, n_precincts=2, contact_rate=0.9)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _lines(path: Path) -> list[str]:
    return _text(path).splitlines()


def _write(path: Path, lines: list[str], *, encoding: str = "utf-8", newline: str = "\n") -> None:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))


def _replace_col(text: str, delim: str, col: str, fn: Any) -> str:
    """Apply ``fn(row_index, value)`` to one column of a delimited text."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    k = rows[0].index(col)
    for i, r in enumerate(rows[1:]):
        r[k] = fn(i, r[k])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerows(rows)
    return buf.getvalue()


def build(out: Path = FILES) -> list[Path]:
    """Write every corpus file into ``out``; return the paths (sorted)."""
    from fieldexp.io.writers import write_contacts, write_vote_history, write_voters

    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    d = _data()
    tmp = out / "_base"
    tmp.mkdir()
    try:
        nc = write_vote_history(d.vote_history, tmp / "nc.txt", format="ncvhis", vintage="new")
        nc_text = _text(nc)
        # 1-2. the post-2023 ncvhis descriptions, and an unknown one
        new_names = {
            "ELECTION DAY": "ELECTION DAY IN-PERSON",
            "EARLY VOTING": "EARLY VOTING IN-PERSON",
        }
        t = _replace_col(nc_text, "\t", "voting_method", lambda i, v: new_names.get(v, v))
        (out / "ncvhis_2024_vocabulary.txt").write_text(t)
        t2 = _replace_col(t, "\t", "voting_method", lambda i, v: "DRONE DROP" if i % 7 == 0 else v)
        (out / "ncvhis_unknown_method.txt").write_text(t2)
        # 3. a truncated line (cut download)
        lines = _lines(out / "ncvhis_2024_vocabulary.txt")
        lines[5] = "\t".join(lines[5].split("\t")[:3])
        _write(out / "ncvhis_truncated_line.txt", lines)
        # 4. an extra field on one line
        lines = _lines(out / "ncvhis_2024_vocabulary.txt")
        lines[4] = lines[4] + "\tEXTRA"
        _write(out / "ncvhis_extra_field.txt", lines)
        # 5. duplicated ballots (the real file has them)
        write_vote_history(
            d.vote_history,
            out / "ncvhis_duplicates.txt",
            format="ncvhis",
            duplicate_share=0.25,
            seed=SEED,
        )
        # 6. one Windows-1252 byte in a UTF-8 file
        lines = _lines(out / "ncvhis_2024_vocabulary.txt")
        raw = ("\n".join(lines) + "\n").encode("utf-8").replace(b"ALAMANCE", b"ALAMANC\xc9", 1)
        (out / "ncvhis_latin1_byte.txt").write_bytes(raw)
        # 7. an empty file
        (out / "ncvhis_empty.txt").write_bytes(b"")

        # Ohio / L2 / Florida / long / wide histories
        oh = write_vote_history(d.vote_history, tmp / "oh.csv", format="ohio")
        oh_text = _text(oh)
        rows = list(csv.reader(io.StringIO(oh_text)))
        ecol = next(i for i, c in enumerate(rows[0]) if c.startswith("GENERAL-"))
        for i, r in enumerate(rows[1:]):
            if r[ecol] == "X" and i % 3 == 0:
                r[ecol] = "x"
            if i == 2:
                r[ecol] = "?"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        (out / "ohio_marks_drift.csv").write_text(buf.getvalue())
        l2 = write_vote_history(d.vote_history, tmp / "l2.csv", format="l2")
        l2_text = _text(l2).splitlines()
        l2_text[0] = l2_text[0].replace("Primary_2016_03_15", "Recall_2016_03_15")
        _write(out / "l2_unknown_election_type.csv", l2_text)
        fl = write_vote_history(d.vote_history, tmp / "fl.txt", format="florida")
        fl_lines = _lines(fl)
        fl_lines[1] = fl_lines[1][:-1] + "Z"
        _write(out / "florida_unknown_code.txt", fl_lines)
        lg = write_vote_history(d.vote_history, tmp / "long.csv", format="long")
        lg_text = _replace_col(_text(lg), ",", "voted", lambda i, v: {"1": "Yes", "0": "No"}[v])
        (out / "long_yes_no.csv").write_text(lg_text)
        wd = write_vote_history(d.vote_history, tmp / "wide.csv", format="wide")
        wd_lines = _lines(wd)
        wd_lines.append(wd_lines[1])  # the same voter twice
        _write(out / "wide_repeated_voter.csv", wd_lines)

        # Voter files
        v = d.voters
        vf = write_voters(v, tmp / "v.csv")
        v_text = _text(vf)
        # Ohio SWVF-like: statuses ACTIVE / CONFIRMATION, a new status, personal columns
        swvf = pd.read_csv(io.StringIO(v_text), dtype=str, keep_default_na=False)
        swvf = swvf.rename(
            columns={
                "VoterID": "SOS_VOTERID",
                "status": "VOTER_STATUS",
                "first_name": "FIRST_NAME",
                "last_name": "LAST_NAME",
                "address": "RESIDENTIAL_ADDRESS1",
                "dob": "DATE_OF_BIRTH",
                "precinct": "PRECINCT_NAME",
            }
        ).drop(columns=["household_id"])
        swvf["VOTER_STATUS"] = (
            swvf["VOTER_STATUS"].map({"A": "ACTIVE", "I": "CONFIRMATION"}).fillna("ACTIVE")
        )
        swvf.loc[swvf.index[:2], "VOTER_STATUS"] = "SUSPENSE"
        swvf["MAILING_ADDRESS1"] = "PO Box " + swvf.index.astype(str)
        swvf.to_csv(out / "ohio_swvf_statuses_and_pii.csv", index=False)
        # header spellings of a vendor export
        vend = pd.read_csv(io.StringIO(v_text), dtype=str, keep_default_na=False).rename(
            columns={
                "VoterID": "Voter ID",
                "first_name": "FirstName",
                "last_name": "Last Name",
                "status": "VoterStatus",
                "address": "Mail_Addr1",
                "dob": "Birth Date",
            }
        )
        vend["Cell Phone"] = "555-01" + vend.index.astype(str).str.zfill(2)
        vend["E-mail"] = "p" + vend.index.astype(str) + "@example.org"
        vend.to_csv(out / "voters_header_spellings.csv", index=False)
        # BOM + CRLF, pipe-delimited
        pipe = pd.read_csv(io.StringIO(v_text), dtype=str, keep_default_na=False)
        body = pipe.to_csv(index=False, sep="|", lineterminator="\r\n")
        (out / "voters_bom_crlf_pipe.csv").write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
        # header only
        _write(out / "voters_header_only.csv", [v_text.splitlines()[0]])
        # a concatenated export: the header again inside the data
        vl = v_text.splitlines()
        _write(out / "voters_repeated_header.csv", [*vl[:6], vl[0], *vl[6:]])

        # Contacts
        c = d.contacts
        van = write_contacts(
            c, out / "van_contacts.csv", format="van", results_path=tmp / "res.csv", seed=SEED
        )
        res = pd.read_csv(tmp / "res.csv", dtype=str, keep_default_na=False)
        res[["ResultID", "ResultShortName"]].to_csv(out / "van_results_short.csv", index=False)
        med = res.rename(columns={"ResultName": "ResultMediumName"})
        med["ResultDescription"] = "Description of " + med["ResultMediumName"].str.lower()
        med.to_csv(out / "van_results_medium_description.csv", index=False)
        res[res["ResultName"] != "Not Home"].to_csv(
            out / "van_results_missing_one.csv", index=False
        )
        van_text = _text(van)
        # result names instead of ids, one unknown
        vdf = pd.read_csv(io.StringIO(van_text), dtype=str, keep_default_na=False)
        name_of = dict(zip(res["ResultID"], res["ResultName"], strict=True))
        vn = vdf.assign(ResultName=vdf["ResultID"].map(name_of)).drop(columns="ResultID")
        vn.loc[vn.index[::5], "ResultName"] = "Dog Bit Me"
        vn.to_csv(out / "van_unknown_result_name.csv", index=False)
        # phone and walk rows mixed; type ids only
        mixed = vdf.copy()
        mixed["ContactTypeName"] = ["Phone" if i % 3 == 0 else "Walk" for i in range(len(mixed))]
        mixed["ContactTypeID"] = mixed["ContactTypeName"].map({"Phone": "1", "Walk": "2"})
        mixed.to_csv(out / "van_phone_and_walk.csv", index=False)
        mixed.drop(columns="ContactTypeName").to_csv(out / "van_contact_type_ids.csv", index=False)
        pd.DataFrame(
            {"ContactTypeID": ["1", "2", "37"], "ContactTypeName": ["Phone", "Walk", "SMS Text"]}
        ).to_csv(out / "van_contact_types.csv", index=False)
        # a VanID -> state id crosswalk missing one person
        ids = sorted(set(vdf["VanID"]))
        pd.DataFrame({"VanID": ids[1:], "StateFileID": ["ST-" + i for i in ids[1:]]}).to_csv(
            out / "van_crosswalk.csv", index=False
        )
        # a truncated line
        vl = van_text.splitlines()
        vl[3] = ",".join(vl[3].split(",")[:4])
        _write(out / "van_truncated_line.csv", vl)
        # timestamps across the daylight-saving change, with offsets
        dst = vdf.copy()
        dst["DateCanvassed"] = [
            "2020-11-01T01:30:00-04:00" if i % 2 == 0 else "2020-11-01T01:30:00-05:00"
            for i in range(len(dst))
        ]
        dst.to_csv(out / "van_dst_offsets.csv", index=False)
        # NationBuilder: a new status
        nb = write_contacts(c, tmp / "nb.csv", format="nationbuilder")
        nb_text = _replace_col(
            _text(nb), ",", "status", lambda i, s: "voicemail_full" if i % 4 == 0 else s
        )
        (out / "nationbuilder_unknown_status.csv").write_text(nb_text)
        # generic CSV: day-first dates, ambiguous dates, mixed formats
        cc = write_contacts(c, tmp / "c.csv", format="csv")
        cdf = pd.read_csv(cc, dtype=str, keep_default_na=False)
        ts = pd.to_datetime(cdf["timestamp"])
        cdf.assign(timestamp=["25/10/2020", *ts.iloc[1:].dt.strftime("%d/%m/%Y")]).to_csv(
            out / "contacts_day_first.csv", index=False
        )
        amb = cdf.assign(
            timestamp=[f"{(i % 12) + 1:02d}/{((i + 3) % 12) + 1:02d}/2020" for i in range(len(cdf))]
        )
        amb.to_csv(out / "contacts_ambiguous_dates.csv", index=False)
        mix = cdf.assign(timestamp=list(ts.dt.strftime("%Y-%m-%d")))
        mix.loc[mix.index[0], "timestamp"] = "10/25/2020"
        mix.to_csv(out / "contacts_mixed_date_formats.csv", index=False)
        # UTF-16 with a BOM (Excel "Unicode text"), tab-separated
        u16 = pd.read_csv(io.StringIO(v_text), dtype=str, keep_default_na=False)
        (out / "voters_utf16.txt").write_bytes(
            u16.to_csv(index=False, sep="\t", lineterminator="\r\n").encode("utf-16")
        )
        # a duplicated header name
        hl = v_text.splitlines()
        hl[0] = hl[0].replace("gender", "party")
        _write(out / "voters_duplicated_header.csv", hl)
        # quoted delimiters and line breaks inside values, a blank line between rows
        q = pd.read_csv(io.StringIO(v_text), dtype=str, keep_default_na=False)
        q["address"] = q["address"] + ", Apt 2\nBack door"
        qtext = q.to_csv(index=False, lineterminator="\n").splitlines(keepends=True)
        qtext.insert(4, "\n")
        (out / "voters_quoted_newlines_blank_lines.csv").write_text("".join(qtext))
        # one VanID given two state ids by the crosswalk
        pd.DataFrame(
            {"VanID": [ids[0], ids[0], *ids[1:]], "StateFileID": ["ST-a", "ST-b", *ids[1:]]}
        ).to_csv(out / "van_crosswalk_conflict.csv", index=False)
        # a Results lookup giving one ResultID two names
        bad = pd.concat([res, res.iloc[[0]].assign(ResultName="Something Else")])
        bad.to_csv(out / "van_results_conflict.csv", index=False)
        # an Ohio file with the same election twice (GENERAL-11/03/2020 and GENERAL-11/3/2020)
        odf = pd.read_csv(io.StringIO(oh_text), dtype=str, keep_default_na=False)
        col = next(c for c in odf.columns if c.startswith("GENERAL-"))
        kind, date = col.split("-", 1)
        mm, dd, yy = date.split("/")
        odf[f"{kind}-{int(mm)}/{int(dd)}/{yy}"] = odf[col]
        odf.to_csv(out / "ohio_same_election_twice.csv", index=False)
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    return sorted(out.iterdir())


F = "files/"
CASES: tuple[Case, ...] = (
    Case(
        "ncvhis_2024_vocabulary",
        "ncvhis_2024_vocabulary.txt",
        "vote_history",
        {"format": "ncvhis"},
        checks={"no_unknown": True, "all_voted": True},
        what="post-2023 voting_method descriptions",
    ),
    Case(
        "ncvhis_unknown_method",
        "ncvhis_unknown_method.txt",
        "vote_history",
        {"format": "ncvhis"},
        warns="UnknownCodeWarning",
        match="DRONE DROP",
        checks={"unknown": ("voting_method", "DRONE DROP"), "all_voted": True},
        what="an unknown voting method: a ballot by default, one warning",
    ),
    Case(
        "ncvhis_unknown_method_strict",
        "ncvhis_unknown_method.txt",
        "vote_history",
        {"format": "ncvhis", "strict": True},
        expect="FileFormatError",
        match="DRONE DROP.*strict",
        what="strict refuses it",
    ),
    Case(
        "ncvhis_truncated_line",
        "ncvhis_truncated_line.txt",
        "vote_history",
        {"format": "ncvhis"},
        expect="FileFormatError",
        match=r"line 6 has 3 field\(s\) but the header has 8",
        what="a cut line",
    ),
    Case(
        "ncvhis_extra_field",
        "ncvhis_extra_field.txt",
        "vote_history",
        {"format": "ncvhis"},
        expect="FileFormatError",
        match=r"line 5 has 9 fields but the header has 8",
        what="an extra field",
    ),
    Case(
        "ncvhis_duplicates",
        "ncvhis_duplicates.txt",
        "vote_history",
        {"format": "ncvhis"},
        warns="RowsDroppedWarning",
        match="duplicate voter-election",
        checks={"set_aside_key": "duplicate voter-election row"},
        what="duplicated ballots set aside and counted",
    ),
    Case(
        "ncvhis_latin1_byte",
        "ncvhis_latin1_byte.txt",
        "vote_history",
        {"format": "ncvhis"},
        expect="FileFormatError",
        match=r"not valid UTF-8: byte 0xc9 at line 2",
        what="a Windows-1252 byte",
    ),
    Case(
        "ncvhis_empty",
        "ncvhis_empty.txt",
        "vote_history",
        {"format": "ncvhis"},
        expect="FileFormatError",
        match="is empty",
        what="an empty file",
    ),
    Case(
        "ohio_marks_drift",
        "ohio_marks_drift.csv",
        "vote_history",
        {"format": "ohio"},
        warns="UnknownCodeWarning",
        match=r"'\?' \(1\)",
        checks={"unknown": ("election columns", "x")},
        what="lower-case x and a '?' mark: votes by default",
    ),
    Case(
        "ohio_marks_drift_auto",
        "ohio_marks_drift.csv",
        "vote_history",
        {"format": "auto", "strict": True},
        expect="FileFormatError",
        match=r"'x' \(\d+\)",
        what="format auto finds Ohio; strict refuses the drift",
    ),
    Case(
        "l2_unknown_election_type",
        "l2_unknown_election_type.csv",
        "vote_history",
        {"format": "l2"},
        warns="UnknownCodeWarning",
        match="'recall'",
        checks={"election_type_other": True},
        what="an unknown election type becomes 'other'",
    ),
    Case(
        "florida_unknown_code",
        "florida_unknown_code.txt",
        "vote_history",
        {"format": "florida", "strict": True},
        expect="FileFormatError",
        match=r"'Z' \(1\)",
        what="an unknown Florida history code, strict",
    ),
    Case(
        "long_yes_no",
        "long_yes_no.csv",
        "vote_history",
        {"format": "long"},
        checks={"no_unknown": True},
        what="Yes/No instead of 1/0",
    ),
    Case(
        "wide_repeated_voter",
        "wide_repeated_voter.csv",
        "vote_history",
        {"format": "wide"},
        expect="FileFormatError",
        match="one row per voter",
        what="a voter twice in a wide file",
    ),
    Case(
        "ohio_swvf_statuses_and_pii",
        "ohio_swvf_statuses_and_pii.csv",
        "voters",
        {},
        warns="UnknownCodeWarning",
        match=r"'SUSPENSE' \(2\)",
        checks={"no_personal": True, "status_counts": {"unknown": 2}, "inactive_present": True},
        what="ACTIVE/CONFIRMATION, a new status, personal columns under SWVF names",
    ),
    Case(
        "voters_header_spellings",
        "voters_header_spellings.csv",
        "voters",
        {},
        checks={"no_personal": True, "columns": ["voter_id", "registration_status", "birth_year"]},
        what="Voter ID, FirstName, Last Name, VoterStatus, Mail_Addr1, Birth Date, Cell Phone, E-mail",
    ),
    Case(
        "voters_bom_crlf_pipe",
        "voters_bom_crlf_pipe.csv",
        "voters",
        {"format": "auto"},
        checks={"columns": ["voter_id"], "no_personal": True},
        what="UTF-8 BOM, CRLF, pipe-delimited",
    ),
    Case(
        "voters_header_only",
        "voters_header_only.csv",
        "voters",
        {},
        checks={"rows": 0},
        what="a header and no rows: an empty table, counted",
    ),
    Case(
        "voters_repeated_header",
        "voters_repeated_header.csv",
        "voters",
        {},
        expect="FileFormatError",
        match="repeats its header inside the data .*line 7",
        what="concatenated exports",
    ),
    Case(
        "van_results_short",
        "van_contacts.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_short.csv"},
        checks={"no_unknown": True},
        what="Results lookup with short names only (NH, CV...)",
    ),
    Case(
        "van_results_medium_description",
        "van_contacts.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_medium_description.csv"},
        checks={"no_unknown": True, "same_as": "van_results_short"},
        what="medium names and descriptions: auto picks the known medium names",
    ),
    Case(
        "van_results_description_forced",
        "van_contacts.csv",
        "contacts",
        {
            "format": "van",
            "results": F + "van_results_medium_description.csv",
            "mapping": {"options": {"results_by": "description"}},
        },
        warns="UnknownCodeWarning",
        match="Description of",
        what="results_by=description: unknown, default attempt",
    ),
    Case(
        "van_result_id_missing",
        "van_contacts.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_missing_one.csv"},
        warns="UnknownCodeWarning",
        match=r"'ResultID \d+'",
        what="a ResultID missing from the lookup",
    ),
    Case(
        "van_unknown_result_name",
        "van_unknown_result_name.csv",
        "contacts",
        {"format": "van"},
        warns="UnknownCodeWarning",
        match="Dog Bit Me",
        checks={"unknown": ("result", "Dog Bit Me"), "default_attempt": "Dog Bit Me"},
        what="an unknown result: an attempt that reached nobody",
    ),
    Case(
        "van_phone_and_walk_door_only",
        "van_phone_and_walk.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_short.csv", "channels": ["door"]},
        checks={"channels": ["door"], "set_aside_key": "channel phone not kept (channels: door)"},
        what="phone-bank rows set aside and counted, never canvass contacts",
    ),
    Case(
        "van_contact_type_ids",
        "van_contact_type_ids.csv",
        "contacts",
        {
            "format": "van",
            "results": F + "van_results_short.csv",
            "contact_types": F + "van_contact_types.csv",
        },
        checks={"channels": ["door", "phone"]},
        what="ContactTypeID through the ContactTypes lookup",
    ),
    Case(
        "van_contact_type_ids_no_lookup",
        "van_contact_type_ids.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_short.csv", "channels": ["door"]},
        expect="SpecificationError",
        match="contact_types=",
        what="ids only and a channel filter: the lookup is needed",
    ),
    Case(
        "van_crosswalk",
        "van_contacts.csv",
        "contacts",
        {
            "format": "van",
            "results": F + "van_results_short.csv",
            "crosswalk": F + "van_crosswalk.csv",
        },
        checks={"set_aside_key": "VanID not in the crosswalk", "unit_prefix": "ST-"},
        what="VanID -> state id; the unmatched VanID counted",
    ),
    Case(
        "van_truncated_line",
        "van_truncated_line.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_short.csv"},
        expect="FileFormatError",
        match=r"line 4 has 4 field\(s\) but the header has 6",
        what="a cut line",
    ),
    Case(
        "van_dst_offsets",
        "van_dst_offsets.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_short.csv"},
        checks={"timestamps_utc": ["2020-11-01 05:30:00", "2020-11-01 06:30:00"]},
        what="offsets -04:00 and -05:00 across the DST change: UTC",
    ),
    Case(
        "nationbuilder_unknown_status",
        "nationbuilder_unknown_status.csv",
        "contacts",
        {"format": "auto"},
        warns="UnknownCodeWarning",
        match="voicemail_full",
        checks={"unknown": ("status", "voicemail_full")},
        what="a new NationBuilder status, format auto",
    ),
    Case(
        "contacts_day_first",
        "contacts_day_first.csv",
        "contacts",
        {},
        checks={"first_timestamp": "2020-10-25"},
        what="DD/MM/YYYY detected from a day above 12",
    ),
    Case(
        "contacts_ambiguous_dates",
        "contacts_ambiguous_dates.csv",
        "contacts",
        {},
        warns="AmbiguousDateWarning",
        match="month/day",
        what="all dates fit both orders: warned, month-first",
    ),
    Case(
        "contacts_mixed_date_formats",
        "contacts_mixed_date_formats.csv",
        "contacts",
        {},
        expect="FileFormatError",
        match="must use one date format",
        what="ISO dates and one US date",
    ),
    Case(
        "voters_utf16",
        "voters_utf16.txt",
        "voters",
        {},
        checks={"columns": ["voter_id"], "no_personal": True},
        what="UTF-16 with BOM, tab, CRLF",
    ),
    Case(
        "voters_duplicated_header",
        "voters_duplicated_header.csv",
        "voters",
        {},
        expect="FileFormatError",
        match=r"duplicated header: column\(s\) \['party'\]",
        what="two columns named party",
    ),
    Case(
        "voters_quoted_newlines_blank_lines",
        "voters_quoted_newlines_blank_lines.csv",
        "voters",
        {},
        checks={"no_personal": True, "columns": ["voter_id", "household_id"]},
        what="quoted commas and line breaks in addresses, a blank line: read, not truncated",
    ),
    Case(
        "van_crosswalk_conflict",
        "van_contacts.csv",
        "contacts",
        {
            "format": "van",
            "results": F + "van_results_short.csv",
            "crosswalk": F + "van_crosswalk_conflict.csv",
        },
        expect="FileFormatError",
        match="several state voter ids",
        what="a VanID with two state ids",
    ),
    Case(
        "van_results_conflict",
        "van_contacts.csv",
        "contacts",
        {"format": "van", "results": F + "van_results_conflict.csv"},
        expect="FileFormatError",
        match="one ResultID several names",
        what="a ResultID with two names",
    ),
    Case(
        "ohio_same_election_twice",
        "ohio_same_election_twice.csv",
        "vote_history",
        {"format": "ohio"},
        expect="FileFormatError",
        match="two columns for the same election",
        what="the same election under two spellings",
    ),
    Case(
        "contacts_as_history_auto",
        "van_contacts.csv",
        "vote_history",
        {"format": "auto"},
        expect="SpecificationError",
        match="looks like contacts",
        what="format auto on the wrong table",
    ),
)


if __name__ == "__main__":
    for p in build():
        print(p.relative_to(HERE))
    manifest = HERE / "MANIFEST.md"
    lines = [
        "# US hostile / drifted corpus (generated by corpus.py; do not edit)",
        "",
        "| case | file | reader | expected | what |",
        "|---|---|---|---|---|",
    ]
    for c in CASES:
        exp = c.expect if c.expect != "ok" else ("ok, " + c.warns if c.warns else "ok")
        lines.append(f"| {c.name} | {c.file} | {c.reader} | {exp} | {c.what} |")
    manifest.write_text("\n".join(lines) + "\n")
    print(manifest.relative_to(HERE))
