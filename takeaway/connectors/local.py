"""The `local` tracker: tasks on a board kept in the ledger, filed exactly once per item."""

from __future__ import annotations

from takeaway.connectors.base import TaskRef
from takeaway.extract.schemas import ActionItem, Minutes
from takeaway.ledger.db import Ledger, TaskRow


class LocalTracker:
    name = "local"

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    def file(self, minutes: Minutes, items: list[ActionItem]) -> list[TaskRef]:
        refs = []
        for item in items:
            existing = self.ledger.pushed(self.name, item.id)
            if existing:
                refs.append(TaskRef(item_id=item.id, tracker=self.name, external_id=existing, created=False))
                continue
            with self.ledger.session() as s, s.begin():
                task = TaskRow(item_key=item.id, meeting_id=minutes.meeting.id, title=item.description,
                               owner=item.owner, due_date=item.due_date,
                               state="open" if item.status == "ready" else "needs_review")
                s.add(task)
                s.flush()
                external_id = f"TW-{task.id}"
                self.ledger.record_push(s, self.name, item.id, external_id)
            refs.append(TaskRef(item_id=item.id, tracker=self.name, external_id=external_id, created=True))
        return refs
