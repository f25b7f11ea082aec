"""Follow-up flows: `send_reminders` and `push_pending` (run them on a schedule) and `file_approved`."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from takeaway import connectors, engines, reminders
from takeaway.connectors.filing import push_pending as push_pending_items
from takeaway.flows.process import file_task, tell_owners
from takeaway.people import Directory
from takeaway.settings import Settings


def tracker_of(settings: Settings, directory: Directory):
    ledger = engines.ledger_for(settings)
    return lambda name: connectors.tracker_for(type(settings)(**{**settings.model_dump(), "tracker": name}),
                                               ledger, directory)


@flow(name="send_reminders")
def send_reminders(now: str | None = None) -> dict[str, int]:
    """Send due reminders: done items (read from the tracker) skipped, moved due dates rescheduled,
    overdue items escalated to the team lead."""
    settings = Settings()
    directory = Directory.load(settings.people_file)
    counts = reminders.send_due(engines.ledger_for(settings), connectors.notifier_for(settings, directory),
                                tracker_of(settings, directory), directory,
                                datetime.fromisoformat(now) if now else None, settings.reminder_hour,
                                settings.reminder_days_before)
    get_run_logger().info("reminders: %s", counts)
    return counts


@flow(name="push_pending")
def push_pending(tracker: str | None = None) -> dict[str, int]:
    """File the items a tracker outage left pending (every tracker that has some, or just `tracker`)."""
    settings = Settings()
    ledger = engines.ledger_for(settings)
    directory = Directory.load(settings.people_file)
    names = {p.tracker for p in ledger.pushes(state="pending")} if tracker is None else {tracker}
    counts = {"created": 0, "found": 0, "existing": 0, "pending": 0}
    for name in sorted(names):
        filed = push_pending_items(tracker_of(settings, directory)(name), ledger, directory, settings.minutes_url,
                                   settings.tracker_attempts, settings.tracker_backoff_s)
        for f in filed:
            counts[f.state] += 1
            if f.state != "pending":
                item = ledger.action_item(f.item_id)
                meeting = ledger.minutes(ledger.item(f.item_id).meeting_id).meeting
                reminders.schedule(ledger, [item], meeting.start, settings.reminder_hour,
                                   settings.reminder_days_before)
                tell_owners(settings, directory, meeting.title, [item], [f])
    get_run_logger().info("push-pending: %s", counts)
    return counts


@flow(name="file_approved")
def file_approved(keys: list[str]) -> dict[str, int]:
    """File items a reviewer approved outside a paused run (`takeaway review`)."""
    settings = Settings()
    ledger = engines.ledger_for(settings)
    by_meeting: dict[str, list[str]] = {}
    for key in keys:
        by_meeting.setdefault(ledger.item(key).meeting_id, []).append(key)
    counts = {"created": 0, "found": 0, "existing": 0, "pending": 0}
    for meeting, meeting_keys in by_meeting.items():
        for f in file_task(ledger.minutes(meeting), settings, meeting_keys):
            counts[f.state] += 1
    return counts

