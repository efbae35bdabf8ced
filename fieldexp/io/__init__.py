"""Field data in: readers for voter files, vote histories, contact logs, polling-station results."""

from fieldexp.io.contacts import read_contacts
from fieldexp.io.history import read_vote_history
from fieldexp.io.precinct import read_precinct_results
from fieldexp.io.voters import read_voters
