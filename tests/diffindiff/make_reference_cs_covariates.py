"""Reference ATT(g,t) with covariates for mpdta from csdid 0.4.3 (Python port of R did / DRDID).

R ``did`` cannot be installed here (no CRAN), and the shared README has R values without covariates
only. csdid ports ``att_gt`` and DRDID's ``drdid_panel`` / ``reg_did_panel`` / ``std_ipw_did_panel``
line by line; these values pin fieldexp's covariate path to it. Regenerate with::

    pip install --target /tmp/fieldexp_peers csdid
    .venv/bin/python tests/diffindiff/make_reference_cs_covariates.py /tmp/fieldexp_peers

It writes ``tests/diffindiff/reference_cs_covariates.csv`` (17 significant digits).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def main() -> None:
    if len(sys.argv) > 1:
        sys.path.append(sys.argv[1])
    from csdid.att_gt import ATTgt

    shared = Path(
        os.environ.get("FIELDEXP_SHARED_DATA", HERE.parents[1].parent / "shared" / "data")
    )
    mp = pd.read_csv(shared / "mpdta.csv").rename(columns={"first.treat": "first_treat"})
    rows = []
    for method in ("dr", "reg", "ipw"):
        out = ATTgt(
            yname="lemp",
            gname="first_treat",
            idname="countyreal",
            tname="year",
            data=mp,
            xformla="~ lpop",
        ).fit(est_method=method, bstrap=False)
        r = out.results
        for g, t, a, s in zip(r["group"], r["year"], r["att"], r["se"], strict=True):
            rows.append((method, int(g), int(t), f"{float(a):.17g}", f"{float(s):.17g}"))
    pd.DataFrame(rows, columns=["est_method", "cohort", "time", "estimate", "std_error"]).to_csv(
        HERE / "reference_cs_covariates.csv", index=False
    )


if __name__ == "__main__":
    main()
