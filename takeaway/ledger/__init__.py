"""The ledger: meetings, items, pushes, tasks of the local board, reminders, runs, audit."""

from takeaway.ledger.db import Ledger

__all__ = ["Ledger"]
