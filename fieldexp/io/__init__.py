"""Field data in: readers for voter files, vote histories, contact logs and polling-station
results, each returning a validated canonical table (see ``docs/data.md``).

* :func:`read_voters` (``csv``, ``reu``)
* :func:`read_vote_history` (``long``, ``wide``, ``ncvhis``, ``ohio``, ``l2``, ``florida``)
* :func:`read_contacts` (``van``, ``nationbuilder``, ``csv``)
* :func:`read_precinct_results` (``fr-interieur``)
* :func:`read_door_logs` (doors knocked / opened / conversations per polling station)

Mapping tables (column names, result codes, history codes) are CSV files in
``fieldexp/io/mappings/``; :func:`mapping_table` returns an editable copy and every
reader takes ``mapping=`` overrides. :func:`inspect_file` (``fieldexp inspect FILE``)
detects a file's layout and shows its mapping, codes and counts; readers accept
``format="auto"``. :func:`pseudonymise` replaces ids with salted
hashes for exports.
"""

from fieldexp.io.accounting import ImportRecord, import_record
from fieldexp.io.contacts import read_contacts, read_van_results
from fieldexp.io.dates import AmbiguousDateWarning
from fieldexp.io.doorlogs import read_door_logs
from fieldexp.io.history import read_vote_history
from fieldexp.io.mappings import mapping_table
from fieldexp.io.precinct import read_precinct_results
from fieldexp.io.privacy import drop_pii, pseudonymise
from fieldexp.io.schema import (
    SCHEMAS,
    validate_assignment,
    validate_contacts,
    validate_precinct_results,
    validate_vote_history,
    validate_voters,
)
from fieldexp.io.sniff import Inspection, inspect_file
from fieldexp.io.vocab import UnknownCodeWarning
from fieldexp.io.voters import read_voters

__all__ = [
    "SCHEMAS",
    "AmbiguousDateWarning",
    "ImportRecord",
    "Inspection",
    "UnknownCodeWarning",
    "drop_pii",
    "import_record",
    "inspect_file",
    "mapping_table",
    "pseudonymise",
    "read_contacts",
    "read_door_logs",
    "read_precinct_results",
    "read_van_results",
    "read_vote_history",
    "read_voters",
    "validate_assignment",
    "validate_contacts",
    "validate_precinct_results",
    "validate_vote_history",
    "validate_voters",
]
