"""The Slack notifier: Block Kit messages to owners (DMs) and to the lead's channel, with the official slack_sdk.

A notice for a person goes to their DM: their Slack id is ``ids.slack`` in the people directory, or is looked
up once by email (users.lookupByEmail, cached), then conversations.open gives the DM channel. A notice for
nobody goes to ``[slack] lead_channel`` (or, without one, to the lead's DM). Each message has a header with
the headline, a section per item (task, owner, due date, the evidence quote, a link to the tracker item) and a
plain ``text`` fallback for notifications.

Reminders Slack should deliver itself are scheduled with chat.scheduleMessage (reminders.add needs a user
token, and Slack retired the reminders API in 2023). Failures become `TrackerError`s: 429 and 5xx are retried
by `with_retry` (honouring Retry-After); the others say what to fix and carry Slack's error code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from takeaway.connectors.base import Notice, NoticeLine, TrackerError, http_error
from takeaway.connectors.retry import with_retry
from takeaway.errors import TakeawayError
from takeaway.people import Directory, Person
from takeaway.settings import SlackSettings

MAX_BLOCKS, MAX_HEADER, MAX_SECTION, MAX_FALLBACK = 50, 150, 3000, 4000  # Block Kit and chat.postMessage limits
AUTH_ERRORS = {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
NOT_FOUND = {"users_not_found", "user_not_found"}
HINTS = {
    "channel_not_found": "check [slack] lead_channel and that the app can see the channel",
    "not_in_channel": "invite the app to the channel (/invite @app)",
    "time_in_past": "the time has already passed",
    "time_too_far": "Slack schedules at most 120 days ahead",
}


class SlackError(TrackerError):
    """A Slack Web API failure; `code` is Slack's error string, e.g. ``channel_not_found``."""

    def __init__(self, message: str, *, code: str, status: int | None = None):
        super().__init__(message, status=status)
        self.code = code


def slack_error(exc: SlackApiError, method: str) -> TrackerError:
    """The TrackerError for a failed Web API call: retryable for 429 and 5xx, worded for the rest."""
    resp = exc.response
    code, status = str(resp.get("error") or ""), resp.status_code
    if status == 429 or code in ("ratelimited", "rate_limited") or status >= 500:
        headers = {k.lower(): v for k, v in dict(resp.headers or {}).items()}
        return http_error("slack", 429 if status < 500 else status, f"{method} {code}".strip(),
                          retry_after=headers.get("retry-after"))
    if code in AUTH_ERRORS:
        return SlackError(f"slack: Slack bot token rejected ({code}); check [slack] token in takeaway.toml",
                          code=code, status=401)
    if code == "missing_scope":
        needed = resp.get("needed") or "a scope"
        return SlackError(f"slack: the bot token lacks the {needed} scope that {method} needs; add it under "
                          "OAuth & Permissions and reinstall the app", code=code, status=403)
    detail = "; ".join((resp.get("response_metadata") or {}).get("messages", [])) or HINTS.get(code, "")
    return SlackError(f"slack: {method} failed: {code}{f' ({detail})' if detail else ''}", code=code, status=status)


def escape(text: str) -> str:
    """Text made safe for mrkdwn: Slack reads &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_text(line: NoticeLine) -> str:
    """One item in mrkdwn: the task, owner and due date, the quote as a block quote, the tracker link."""
    parts = [f"*{escape(clip(line.task, 500))}*"]
    facts = [f"Owner: {escape(line.owner)}" if line.owner else "",
             f"Due: {line.due_date.strftime('%a %Y-%m-%d')}" if line.due_date else ""]
    if any(facts):
        parts.append(" · ".join(f for f in facts if f))
    if line.quote:
        parts.append("\n".join(f"> {escape(q)}" for q in clip(line.quote, 1500).splitlines()))
    if line.url:
        parts.append(f"<{line.url}|{escape(line.external_id or 'Open in tracker')}>")
    elif line.external_id:
        parts.append(f"Tracker: `{escape(line.external_id)}`")
    return clip("\n".join(parts), MAX_SECTION)


def notice_blocks(notice: Notice) -> list[dict]:
    """A header with the headline, then a section per line; past 50 blocks a context line counts the rest."""
    headline = clip(notice.headline or notice.kind, MAX_HEADER)
    header = {"type": "header", "text": {"type": "plain_text", "text": headline}}
    lines = [{"type": "section", "text": {"type": "mrkdwn", "text": line_text(line)}} for line in notice.lines]
    if len(lines) > MAX_BLOCKS - 1:
        keep = MAX_BLOCKS - 2
        more = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {len(lines) - keep} more"}]}
        lines = [*lines[:keep], more]
    return [header, *lines]


def fallback_text(notice: Notice) -> str:
    """The plain text notifications and old clients show."""
    items = "; ".join(f"{line.task} (due {line.due_date})" if line.due_date else line.task for line in notice.lines)
    return clip(f"{notice.headline}: {items}" if items else notice.headline or notice.kind, MAX_FALLBACK)


class SlackNotifier:
    """Sends notices through a Slack bot token (xoxb-...)."""

    name = "slack"

    def __init__(self, settings: SlackSettings, directory: Directory, *, sleep: Callable[[float], None] = time.sleep,
                 attempts: int = 5):
        if not settings.token:
            raise TakeawayError("slack: no bot token; set [slack] token (xoxb-...) in takeaway.toml")
        self.settings, self.directory = settings, directory
        self.client = WebClient(token=settings.token, base_url=settings.url.rstrip("/") + "/")
        self.sleep, self.attempts = sleep, attempts
        self._users: dict[str, str] = {}  # email (lower case) -> Slack user id
        self._dms: dict[str, str] = {}  # Slack user id -> DM channel id

    def send(self, notice: Notice) -> None:
        self._call("chat.postMessage", channel=self.channel_for(notice.to), text=fallback_text(notice),
                   blocks=notice_blocks(notice))

    def schedule(self, notice: Notice, when: datetime) -> str:
        """Have Slack post the notice at `when` (naive: local time); returns the scheduled_message_id."""
        resp = self._call("chat.scheduleMessage", channel=self.channel_for(notice.to), post_at=int(when.timestamp()),
                          text=fallback_text(notice), blocks=notice_blocks(notice))
        return str(resp["scheduled_message_id"])

    def cancel(self, channel: str, scheduled_message_id: str) -> None:
        """Delete a scheduled message before Slack posts it; `channel` as given by `channel_for`."""
        self._call("chat.deleteScheduledMessage", channel=channel, scheduled_message_id=scheduled_message_id)

    def channel_for(self, to: Person | None) -> str:
        """Where a notice goes: the person's DM, or for nobody the lead channel (else the lead's DM)."""
        if to is None:
            if self.settings.lead_channel:
                return self.settings.lead_channel
            to = self.directory.lead()
            if to is None:
                raise TakeawayError("slack: set [slack] lead_channel or mark the lead in the people directory")
        user = self.user_id(to)
        if user not in self._dms:
            self._dms[user] = self._call("conversations.open", users=user)["channel"]["id"]
        return self._dms[user]

    def user_id(self, person: Person) -> str:
        """The person's Slack user id: ``ids.slack``, else looked up by email once."""
        if person.ids.get("slack"):
            return person.ids["slack"]
        if not person.email:
            raise SlackError(f"slack: {person.name} has no email or ids.slack in the people directory",
                             code="users_not_found")
        key = person.email.lower()
        if key not in self._users:
            try:
                self._users[key] = self._call("users.lookupByEmail", email=person.email)["user"]["id"]
            except SlackError as exc:
                if exc.code not in NOT_FOUND:
                    raise
                raise SlackError(f"slack: no Slack user has the email {person.email} ({person.name}); fix the email "
                                 "or set ids.slack in the people directory", code=exc.code) from exc
        return self._users[key]

    def _call(self, method: str, **args: object) -> SlackResponse:
        """Call a Web API method through the sdk, retrying 429 (after Retry-After), 5xx and lost connections."""
        sdk_method = getattr(self.client, method.replace(".", "_"))

        def once() -> SlackResponse:
            try:
                return sdk_method(**args)
            except SlackApiError as exc:
                raise slack_error(exc, method) from exc
            except OSError as exc:  # URLError, timeouts, refused connections
                raise TrackerError(f"slack: cannot reach {self.settings.url} ({exc})", retryable=True) from exc

        return with_retry(once, what=f"slack {method}", attempts=self.attempts, sleep=self.sleep)
