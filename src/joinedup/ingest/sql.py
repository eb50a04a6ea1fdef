"""Moved to :mod:`joinedup.store.sql`; re-exported for the linkage modules that still import it
from here (delete this module once they import ``joinedup.store.sql``)."""

from joinedup.store.sql import ident, lit, lit_list

__all__ = ["ident", "lit", "lit_list"]
