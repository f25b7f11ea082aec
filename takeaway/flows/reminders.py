"""The `send_reminders` flow: send the reminders whose time has come (run it on a schedule)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from takeaway import engines, reminders
from takeaway.connectors.notify import ConsoleNotifier
from takeaway.settings import Settings


@flow(name="send_reminders")
def send_reminders(now: str | None = None) -> dict[str, int]:
    settings = Settings()
    counts = reminders.send_due(engines.ledger_for(settings), ConsoleNotifier(),
                                datetime.fromisoformat(now) if now else None)
    get_run_logger().info("reminders: %s", counts)
    return counts
