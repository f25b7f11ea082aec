"""The interfaces connectors implement, and the typed values they exchange.

A tracker files a `Ticket` (an action item made ready for a tracker: summary, description with
the evidence quote, owner from the people directory, due date, the item's stable key) and
returns a `RemoteTask`. A notifier sends a `Notice`. Vendor failures become `TrackerError`s
that say whether a retry can help.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Protocol

from pydantic import BaseModel

from takeaway.errors import TakeawayError
from takeaway.people import Person


class Ticket(BaseModel):
    """One action item as a tracker sees it."""

    key: str  # the item's stable id: stored on the remote item and searched before creating
    meeting_id: str = ""
    summary: str  # <= 255 characters
    description: str  # plain text: the task, who said what when, the meeting, a link to the minutes
    quote: str
    speaker: str | None = None
    said_at: str = ""  # "00:03:12" into the recording
    meeting_title: str = ""
    meeting_start: str = ""  # ISO 8601
    minutes_url: str | None = None
    owner: Person | None = None  # None: nobody matched in the directory (the tracker leaves it unassigned)
    owner_name: str | None = None  # the name as extracted
    due_date: date | None = None
    labels: list[str] = []

    @property
    def key_label(self) -> str:
        """The label (or tag, or correlation id) that marks the remote item as this item."""
        return f"takeaway-{self.key}"


class RemoteTask(BaseModel):
    """An item as it stands in a tracker."""

    external_id: str  # e.g. OPS-12, an Asana gid, a ServiceNow number
    url: str | None = None
    done: bool = False
    due_date: date | None = None
    note: str | None = None  # e.g. "due date put in the description: not on the create screen"


class TrackerError(TakeawayError):
    """A vendor call failed. `retryable`: 429, 5xx or a timeout; otherwise the message says what to fix."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 retry_after: float | None = None, field: str | None = None):
        super().__init__(message)
        self.status, self.retryable, self.retry_after, self.field = status, retryable, retry_after, field


def http_error(vendor: str, status: int, detail: str = "", *, field: str | None = None,
               retry_after: str | float | None = None, credential: str = "token") -> TrackerError:
    """The TrackerError for an HTTP status, worded so a user knows what to do."""
    detail = detail.strip()
    if status == 429:
        wait = float(retry_after) if retry_after not in (None, "") else None
        return TrackerError(f"{vendor}: rate limited (429){f', retry after {wait:g} s' if wait else ''}",
                            status=status, retryable=True, retry_after=wait)
    if status >= 500:
        return TrackerError(f"{vendor}: server error {status} {detail}".strip(), status=status, retryable=True)
    if status == 401:
        return TrackerError(f"{vendor}: the {credential} was rejected (401); check it in takeaway.toml", status=status)
    if status == 403:
        return TrackerError(f"{vendor}: permission denied (403) for the configured {credential}: {detail}",
                            status=status)
    if status == 404:
        return TrackerError(f"{vendor}: not found (404): {detail}", status=status)
    what = f" field '{field}'" if field else ""
    return TrackerError(f"{vendor}: request rejected ({status}){what}: {detail}", status=status, field=field)


class Tracker(Protocol):
    name: str

    def find(self, key: str) -> RemoteTask | None:
        """The remote item that carries this item key (label, external field or correlation id), if any."""

    def create(self, ticket: Ticket) -> RemoteTask: ...

    def get(self, external_id: str) -> RemoteTask:
        """The item now: done or not, its due date (a reviewer may have moved it in the tracker)."""


class NoticeLine(BaseModel):
    task: str
    owner: str | None = None
    due_date: date | None = None
    quote: str = ""
    url: str | None = None
    external_id: str | None = None


class Notice(BaseModel):
    """A message for a person (DM) or, with `to=None`, for the team lead's channel."""

    kind: Literal["assigned", "before", "due", "overdue", "digest", "review"]
    to: Person | None = None
    headline: str
    lines: list[NoticeLine] = []


class Notifier(Protocol):
    name: str

    def send(self, notice: Notice) -> None: ...
