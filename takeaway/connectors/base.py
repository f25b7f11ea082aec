"""The interfaces connectors implement."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel

from takeaway.extract.schemas import ActionItem, Minutes


class TaskRef(BaseModel):
    """Where an action item was filed."""

    item_id: str
    tracker: str
    external_id: str
    created: bool  # False: it was already there (a re-run), nothing new was filed


class Tracker(Protocol):
    name: str

    def file(self, minutes: Minutes, items: list[ActionItem]) -> list[TaskRef]: ...


class Reminder(BaseModel):
    item_id: str
    kind: str
    owner: str | None
    task: str
    due_date: str | None
    quote: str


class Notifier(Protocol):
    def send(self, reminder: Reminder) -> None: ...
