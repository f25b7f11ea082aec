"""The `local` tracker: tasks on a board kept in the ledger (`takeaway tasks`, `takeaway done`)."""

from __future__ import annotations

from sqlalchemy import select

from takeaway.connectors.base import RemoteTask, Ticket
from takeaway.ledger.db import Ledger, TaskRow


class LocalTracker:
    name = "local"

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    @staticmethod
    def _remote(task: TaskRow) -> RemoteTask:
        return RemoteTask(external_id=f"TW-{task.id}", done=task.state == "done", due_date=task.due_date)

    def find(self, key: str) -> RemoteTask | None:
        with self.ledger.session() as s:
            task = s.scalar(select(TaskRow).where(TaskRow.item_key == key))
            return self._remote(task) if task else None

    def create(self, ticket: Ticket) -> RemoteTask:
        with self.ledger.session() as s, s.begin():
            task = TaskRow(item_key=ticket.key, meeting_id=ticket.meeting_id, title=ticket.summary,
                           owner=ticket.owner.name if ticket.owner else ticket.owner_name, due_date=ticket.due_date)
            s.add(task)
            s.flush()
            return self._remote(task)

    def get(self, external_id: str) -> RemoteTask:
        with self.ledger.session() as s:
            task = s.get(TaskRow, int(external_id.upper().removeprefix("TW-")))
            if task is None:
                raise KeyError(external_id)
            return self._remote(task)
