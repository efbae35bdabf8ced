"""Randomised designs: declare (:class:`Design`), assign, make walk lists, size and diagnose.

``fieldexp.power`` and ``fieldexp.diagnose`` live in :mod:`fieldexp.design.power` and
:mod:`fieldexp.diagnosis`.
"""

from __future__ import annotations

from fieldexp.design.assign import ids_sha256
from fieldexp.design.spec import Design, Exclusion
from fieldexp.design.walk import walk_list

__all__ = ["Design", "Exclusion", "ids_sha256", "walk_list"]
