"""The stages of :func:`fieldexp.analysis.build_analysis_table`, one module each, in order.

All stages share one DuckDB connection and one :class:`~fieldexp.analysis.stages.context.Build`
(the connection, the registered inputs and the reconciliation entries collected so far); each
creates the temporary tables the next one reads:

1. :mod:`~fieldexp.analysis.stages.inputs` registers the inputs (DataFrames, Parquet, CSV)
   with a ``_row`` position column and normalises them into the views ``AR`` (assignment) and
   ``VR`` (voters);
2. :mod:`~fieldexp.analysis.stages.voters` merges voters with a voter-level assignment
   (``U``, ``VAGG``): duplicate ids, household conflicts, missing ids;
3. :mod:`~fieldexp.analysis.stages.assignment` checks the assignment (``AAGG``), its ids hash
   and control arm, and joins it to the voters (``VA``, households ``HH``);
4. :mod:`~fieldexp.analysis.stages.history` resolves the target and earlier elections and
   folds the vote history into one bit mask per voter (``PV``);
5. :mod:`~fieldexp.analysis.stages.contacts` classifies every contact row (``CR``) and sums the
   used ones per voter (``CV``);
6. :mod:`~fieldexp.analysis.stages.join` writes the unit-level table (outcomes, past votes,
   propensity bands) and closes the reconciliation.
"""
