"""Notifiers. The default prints and logs each reminder (no account needed)."""

from __future__ import annotations

import logging

from rich.console import Console

from takeaway.connectors.base import Reminder

log = logging.getLogger("takeaway.notify")


class ConsoleNotifier:
    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)

    def send(self, reminder: Reminder) -> None:
        when = "due today" if reminder.kind == "due" else f"due {reminder.due_date}"
        line = f"Reminder to {reminder.owner or 'unassigned'}: {reminder.task} ({when}) - said: \"{reminder.quote}\""
        log.info(line)
        self.console.print(line)
