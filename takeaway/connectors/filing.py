"""Filing items in a tracker exactly once, in effect.

For each item: the ledger says whether it is already filed; if not, the tracker is searched for
the item's key (a crash after the vendor created it but before the ledger heard back leaves it
there), and only then is it created. Vendor calls retry (429 Retry-After, 5xx, timeouts); an
item that still fails stays `pending` in the ledger and `push_pending` files it later.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel

from takeaway.connectors.base import RemoteTask, Ticket, Tracker, TrackerError
from takeaway.connectors.retry import with_retry
from takeaway.extract.schemas import ActionItem, Minutes
from takeaway.ledger.db import Ledger
from takeaway.people import Directory
from takeaway.report import clock

log = logging.getLogger("takeaway.connectors")
SUMMARY_LIMIT = 255


class Filed(BaseModel):
    item_id: str
    tracker: str
    state: str  # created | found (on the tracker, unknown to the ledger) | existing (in the ledger) | pending
    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    note: str | None = None


def ticket_for(minutes: Minutes, item: ActionItem, directory: Directory, minutes_url: str | None = None) -> Ticket:
    """The ticket for one item: summary, a description quoting what was said, the owner from the directory."""
    ev = item.evidence[0] if item.evidence else None
    seg = next((s for s in minutes.segments if ev and s.id == ev.segment_id), None)
    speaker = next((sp.name for sp in minutes.speakers if seg and sp.label == seg.speaker), None)
    owner = directory.find(item.owner)
    link = f"{minutes_url.rstrip('/')}/{minutes.meeting.id}" if minutes_url else None
    said_at = clock(ev.start) if ev else ""
    summary = item.description if len(item.description) <= SUMMARY_LIMIT else \
        item.description[:SUMMARY_LIMIT - 1].rstrip() + "…"
    lines = [f"Said by {speaker or 'an unidentified speaker'} at {said_at} in \"{minutes.meeting.title}\" "
             f"({minutes.meeting.start[:16].replace('T', ' ')}):" if ev else "",
             f"> {ev.quote}" if ev else "",
             f"Owner: {owner.name if owner else (item.owner or 'not assigned')}"
             + ("" if owner or not item.owner else " (not in the people directory)"),
             f"Due: {item.due_date.isoformat()}" + (f" (\"{item.due_phrase}\")" if item.due_phrase else "")
             if item.due_date else "Due: no date was said",
             f"Minutes: {link}" if link else "",
             f"Takeaway item {item.id}"]
    return Ticket(key=item.id, meeting_id=minutes.meeting.id, summary=summary,
                  description=item.description + "\n\n" + "\n".join(line for line in lines if line),
                  quote=ev.quote if ev else "", speaker=speaker, said_at=said_at, meeting_title=minutes.meeting.title,
                  meeting_start=minutes.meeting.start, minutes_url=link, owner=owner, owner_name=item.owner,
                  due_date=item.due_date)


def file_one(tracker: Tracker, ledger: Ledger, ticket: Ticket, attempts: int = 5, backoff_s: float = 0.5) -> Filed:
    """File one ticket unless the ledger or the tracker already has it; failures leave it pending."""
    push = ledger.push(tracker.name, ticket.key)
    if push and push.state == "filed":
        return Filed(item_id=ticket.key, tracker=tracker.name, state="existing", external_id=push.external_id,
                     url=push.url)
    created = []

    def find_or_create() -> RemoteTask:
        # searched again on every retry: a create whose reply was lost must not be repeated
        found = tracker.find(ticket.key)
        if found is None:
            found = tracker.create(ticket)
            created.append(found)
        return found

    try:
        remote = with_retry(find_or_create, what=f"{tracker.name} filing", attempts=attempts, base_delay=backoff_s)
        state = "created" if created and created[-1] is remote else "found"
    except TrackerError as exc:
        ledger.mark_pending(tracker.name, ticket.key, str(exc))
        log.warning("item %s stays pending: %s", ticket.key, exc)
        return Filed(item_id=ticket.key, tracker=tracker.name, state="pending", error=str(exc))
    ledger.record_push(tracker.name, ticket.key, remote.external_id, remote.url)
    return Filed(item_id=ticket.key, tracker=tracker.name, state=state, external_id=remote.external_id,
                 url=remote.url, note=remote.note)


def file_items(tracker: Tracker, ledger: Ledger, minutes: Minutes, items: list[ActionItem], directory: Directory,
               minutes_url: str | None = None, attempts: int = 5, backoff_s: float = 0.5) -> list[Filed]:
    return [file_one(tracker, ledger, ticket_for(minutes, item, directory, minutes_url), attempts, backoff_s)
            for item in items]


def push_pending(tracker: Tracker, ledger: Ledger, directory: Directory, minutes_url: str | None = None,
                 attempts: int = 5, backoff_s: float = 0.5) -> list[Filed]:
    """Retry every item still pending for this tracker (with a reviewer's edits, if any)."""
    out = []
    for push in ledger.pushes(state="pending", tracker=tracker.name):
        item = ledger.action_item(push.item_key)
        minutes = ledger.minutes(ledger.item(push.item_key).meeting_id)
        out.append(file_one(tracker, ledger, ticket_for(minutes, item, directory, minutes_url), attempts, backoff_s))
    return out
