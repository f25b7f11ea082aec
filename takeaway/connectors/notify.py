"""The console notifier: prints and logs each notice (no account needed)."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.markup import escape

from takeaway.connectors.base import Notice, NoticeLine

log = logging.getLogger("takeaway.notify")


def line_text(line: NoticeLine) -> str:
    due = f", due {line.due_date.isoformat()}" if line.due_date else ", no due date"
    ref = f" [{line.external_id}]" if line.external_id else ""
    said = f' - said: "{line.quote}"' if line.quote else ""
    return f"{line.task} ({line.owner or 'unassigned'}{due}){ref}{said}"


class ConsoleNotifier:
    name = "console"

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> None:
        to = f"to {notice.to.name}" if notice.to else "to the team lead"
        text = "\n".join([f"[{notice.kind}] {to}: {notice.headline}", *(f"  - {line_text(li)}" for li in notice.lines)])
        log.info(text)
        self.console.print(escape(text))
        self.sent.append(notice)
