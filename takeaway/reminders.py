"""Reminders: planned from due dates, stored in the ledger, sent when due, skipped when done."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from takeaway.connectors.base import Notifier, Reminder
from takeaway.extract.schemas import Minutes
from takeaway.ledger.db import Ledger, as_utc


def working_days_before(day: date, n: int) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def plan(due: date, meeting_start: datetime, hour: int = 9, days_before: int = 1) -> list[tuple[str, datetime]]:
    """(kind, when) pairs: `days_before` working days ahead and on the day, at `hour` in the meeting's zone.
    Times already past at the meeting's start are dropped."""
    tz = meeting_start.tzinfo
    plans = [("before", working_days_before(due, days_before)), ("due", due)] if days_before else [("due", due)]
    out = []
    for kind, day in plans:
        when = datetime.combine(day, time(hour), tzinfo=tz)
        if when > meeting_start:
            out.append((kind, when))
    return out


def schedule(ledger: Ledger, minutes: Minutes, hour: int = 9, days_before: int = 1) -> int:
    """Store reminders for every dated, owned item; returns how many are new."""
    start = datetime.fromisoformat(minutes.meeting.start)
    new = 0
    for item in minutes.action_items:
        if item.due_date and item.owner:
            for kind, when in plan(item.due_date, start, hour, days_before):
                new += ledger.schedule_reminder(item.id, kind, when)
    return new


def send_due(ledger: Ledger, notifier: Notifier, now: datetime | None = None) -> dict[str, int]:
    """Send every scheduled reminder whose time has come; items whose task is done are skipped."""
    now = now or datetime.now(timezone.utc)
    counts = {"sent": 0, "skipped": 0}
    for reminder, task, item in ledger.reminders():
        if reminder.state != "scheduled" or as_utc(reminder.send_at) > now:
            continue
        if task is not None and task.state == "done":
            ledger.finish_reminder(reminder.id, "skipped")
            counts["skipped"] += 1
            continue
        quote = item.evidence[0]["quote"] if item.evidence else ""
        notifier.send(Reminder(item_id=item.key, kind=reminder.kind, owner=item.owner, task=item.description,
                               due_date=item.due_date.isoformat() if item.due_date else None, quote=quote))
        ledger.finish_reminder(reminder.id, "sent")
        counts["sent"] += 1
    return counts
