"""Reminders: planned from due dates, stored in the ledger, sent when due.

Before each send the item is read back from its tracker: done items are skipped, a due date
moved in the tracker moves the reminders, and reminders still open the working day after the
due date escalate to the team lead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

from takeaway.connectors.base import Notice, NoticeLine, Notifier, RemoteTask, Tracker, TrackerError
from takeaway.connectors.retry import with_retry
from takeaway.ledger.db import ItemRow, Ledger, as_utc
from takeaway.people import Directory

log = logging.getLogger("takeaway.reminders")


def working_days_before(day: date, n: int) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def plan(due: date, meeting_start: datetime, hour: int = 9, days_before: int = 1) -> list[tuple[str, datetime]]:
    """(kind, when) pairs: `days_before` working days ahead, on the day, and (escalation) the working day
    after, at `hour` in the meeting's zone. Times already past at the meeting's start are dropped."""
    tz = meeting_start.tzinfo
    plans = [("before", working_days_before(due, days_before))] if days_before else []
    plans += [("due", due), ("overdue", next_working_day(due))]
    out = []
    for kind, day in plans:
        when = datetime.combine(day, time(hour), tzinfo=tz)
        if when > meeting_start:
            out.append((kind, when))
    return out


def schedule_item(ledger: Ledger, key: str, due: date, meeting_start: datetime, hour: int = 9,
                  days_before: int = 1) -> list[tuple[str, datetime]]:
    """Store an item's reminders; returns the new ones."""
    return [(kind, when) for kind, when in plan(due, meeting_start, hour, days_before)
            if ledger.schedule_reminder(key, kind, when)]


def schedule(ledger: Ledger, items: list, meeting_start: str, hour: int = 9,
             days_before: int = 1) -> list[tuple[str, str, datetime]]:
    """Reminders for every dated, owned item; returns the new (item, kind, when)."""
    start = datetime.fromisoformat(meeting_start)
    return [(item.id, kind, when) for item in items if item.due_date and item.owner
            for kind, when in schedule_item(ledger, item.id, item.due_date, start, hour, days_before)]


def remote_state(ledger: Ledger, item: ItemRow, tracker_of: Callable[[str], Tracker]) -> RemoteTask | None:
    """The item as its tracker has it now, or None when it was never filed."""
    push = next((p for p in ledger.pushes(state="filed") if p.item_key == item.key), None)
    if push is None:
        return None
    tracker = tracker_of(push.tracker)
    return with_retry(lambda: tracker.get(push.external_id), what=f"{tracker.name} read", attempts=3)


def send_due(ledger: Ledger, notifier: Notifier, tracker_of: Callable[[str], Tracker],
             directory: Directory | None = None, now: datetime | None = None, hour: int = 9,
             days_before: int = 1) -> dict[str, int]:
    """Send every scheduled reminder whose time has come. Counts: sent, skipped (done), moved (the
    tracker's due date changed: rescheduled), deferred (the tracker could not be read: tried next time)."""
    now = now or datetime.now(timezone.utc)
    directory = directory or Directory([])
    counts = {"sent": 0, "skipped": 0, "moved": 0, "deferred": 0}
    for reminder, _task, item in ledger.reminders():
        if reminder.state != "scheduled" or as_utc(reminder.send_at) > now:
            continue
        try:
            remote = remote_state(ledger, item, tracker_of)
        except TrackerError as exc:
            log.warning("reminder for %s deferred: %s", item.key, exc)
            counts["deferred"] += 1
            continue
        if remote and remote.done:
            ledger.finish_reminder(reminder.id, "skipped")
            counts["skipped"] += 1
            continue
        if remote and remote.due_date and remote.due_date != item.due_date:
            ledger.unschedule_reminders(item.key)
            ledger.update_item(item.key, "item.due_moved", due_date=remote.due_date)
            start = datetime.fromisoformat(ledger.minutes(item.meeting_id).meeting.start)
            schedule_item(ledger, item.key, remote.due_date, start, hour, days_before)
            counts["moved"] += 1
            continue
        notifier.send(notice_for(reminder.kind, item, remote, directory))
        ledger.finish_reminder(reminder.id, "sent")
        counts["sent"] += 1
    return counts


def notice_for(kind: str, item: ItemRow, remote: RemoteTask | None, directory: Directory) -> Notice:
    line = NoticeLine(task=item.description, owner=item.owner, due_date=item.due_date,
                      quote=item.evidence[0]["quote"] if item.evidence else "",
                      url=remote.url if remote else None, external_id=remote.external_id if remote else None)
    owner = directory.find(item.owner)
    if kind == "overdue":
        return Notice(kind="overdue", to=None, headline=f"Overdue: {item.owner or 'unassigned'} has not finished "
                      f"\"{item.description}\" (due {item.due_date})", lines=[line])
    headline = "Due today" if kind == "due" else f"Due {item.due_date:%A %d %B}"
    return Notice(kind=kind, to=owner, headline=f"{headline}: {item.description}", lines=[line])
