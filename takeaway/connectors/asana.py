"""The Asana tracker: one task per action item in the configured project, through the official client.

- Task: ``name`` = summary, ``notes`` = the description (with the evidence quote) and a last line
  ``takeaway-<item key>``; ``workspace`` and ``projects`` from the settings; ``due_on`` = the due
  date, or with ``due_time`` set, ``due_at`` at that time in the meeting's zone (the offset of
  ``meeting_start``; UTC without one). No start date is ever sent, so never one without a due date.
- Assignee: ``owner.ids["asana"]`` if the directory has it, else the owner's email looked up with
  ``GET /users/{email}`` (Asana accepts an email as the user identifier), cached per process;
  an owner Asana does not know leaves the task unassigned.
- Finding an item: Asana's ``external`` field would hold the key, but Asana documents it as
  OAuth-only and the settings hold a personal access token; task search is premium-only. So
  `find` pages through ``GET /projects/{project}/tasks`` with ``opt_fields=notes,...`` and matches
  the key line (completed tasks included): one request per 100 tasks in the project.
- Failures: `TrackerError` via `http_error` (a 400 names the field Asana's message starts with);
  429, 5xx, timeouts and refused connections are retryable. The client's own urllib3 retries are
  off: callers wrap calls in `with_retry`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timezone

import asana
import urllib3
from asana.rest import ApiException

from takeaway.connectors.base import RemoteTask, Ticket, TrackerError, http_error
from takeaway.people import Directory, Person
from takeaway.settings import AsanaSettings

log = logging.getLogger("takeaway.connectors")
FIELDS = "name,notes,completed,due_on,due_at,permalink_url"
CREDENTIAL = "Asana personal access token"


def key_line(key: str) -> str:
    """The line in a task's notes that marks it as this item: the ticket's `key_label`."""
    return Ticket.model_construct(key=key).key_label


def tracker_error(exc: ApiException) -> TrackerError:
    """The TrackerError for an error answer; the field is the ``<field>:`` prefix of Asana's message."""
    if not exc.status:  # the client's own failure, e.g. TLS: no HTTP status
        return TrackerError(f"Asana: {exc.reason}")
    try:
        errors = json.loads(exc.body or b"{}").get("errors") or []
        detail = "; ".join(e.get("message", "") for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        detail = ""
    detail = detail or str(exc.reason or "")
    field = re.match(r"(\w+): ", detail)
    retry_after = (exc.headers or {}).get("Retry-After")
    return http_error("Asana", exc.status, detail, field=field and field.group(1), retry_after=retry_after,
                      credential=CREDENTIAL)


@contextmanager
def asana_errors() -> Iterator[None]:
    """Client exceptions inside become TrackerErrors."""
    try:
        yield
    except ApiException as exc:
        raise tracker_error(exc) from exc
    except urllib3.exceptions.HTTPError as exc:  # timeouts, refused or dropped connections
        raise TrackerError(f"Asana: no answer ({type(exc).__name__}: {exc})", retryable=True) from exc


def due_date(task: dict) -> date | None:
    """The task's due day: ``due_on`` (Asana sets it from ``due_at`` too), else ``due_at``'s UTC day."""
    if task.get("due_on"):
        return date.fromisoformat(task["due_on"])
    if task.get("due_at"):
        return datetime.fromisoformat(task["due_at"].replace("Z", "+00:00")).date()
    return None


def remote(task: dict) -> RemoteTask:
    return RemoteTask(external_id=task["gid"], url=task.get("permalink_url"), done=bool(task.get("completed")),
                      due_date=due_date(task))


class AsanaTracker:
    """Files tickets as tasks in `settings.project` of `settings.workspace`."""

    name = "asana"

    def __init__(self, settings: AsanaSettings, directory: Directory, timeout: tuple[float, float] = (5, 30)):
        missing = [k for k in ("token", "workspace", "project") if not getattr(settings, k)]
        if missing:
            raise TrackerError(f"Asana: set {', '.join(f'asana.{k}' for k in missing)} in takeaway.toml")
        if settings.due_time:
            try:
                time.fromisoformat(settings.due_time)
            except ValueError:
                raise TrackerError(f"Asana: asana.due_time {settings.due_time!r} is not a time like '17:00'") from None
        self.settings, self.directory, self.timeout = settings, directory, timeout
        config = asana.Configuration()
        config.host = settings.url.rstrip("/")
        config.access_token = settings.token
        config.retry_strategy = False  # no retries, redirects or wrapping: `with_retry` decides
        client = asana.ApiClient(config)
        self.tasks, self.users = asana.TasksApi(client), asana.UsersApi(client)
        self.user_gids: dict[str, str | None] = {}  # email -> gid (None: Asana does not know them)

    def find(self, key: str) -> RemoteTask | None:
        line = key_line(key)
        with asana_errors():
            for task in self.tasks.get_tasks_for_project(self.settings.project, {"opt_fields": FIELDS},
                                                         _request_timeout=self.timeout):
                if line in (task.get("notes") or "").splitlines():
                    return remote(task)
        return None

    def create(self, ticket: Ticket) -> RemoteTask:
        data = {"name": ticket.summary, "notes": f"{ticket.description}\n\n{ticket.key_label}",
                "workspace": self.settings.workspace, "projects": [self.settings.project], **self.due(ticket)}
        assignee = self.assignee(ticket.owner)
        if assignee:
            data["assignee"] = assignee
        with asana_errors():
            task = self.tasks.create_task({"data": data}, {"opt_fields": FIELDS}, _request_timeout=self.timeout)
        log.info("Asana: created task %s for item %s", task["gid"], ticket.key)
        return remote(task)

    def get(self, external_id: str) -> RemoteTask:
        with asana_errors():
            return remote(self.tasks.get_task(external_id, {"opt_fields": FIELDS}, _request_timeout=self.timeout))

    def due(self, ticket: Ticket) -> dict[str, str]:
        """``due_on``, or ``due_at`` at `settings.due_time` in the meeting's zone; nothing without a due date."""
        if ticket.due_date is None:
            return {}
        if not self.settings.due_time:
            return {"due_on": ticket.due_date.isoformat()}
        zone = datetime.fromisoformat(ticket.meeting_start).tzinfo if ticket.meeting_start else None
        at = datetime.combine(ticket.due_date, time.fromisoformat(self.settings.due_time), zone or timezone.utc)
        return {"due_at": at.isoformat()}

    def assignee(self, person: Person | None) -> str | None:
        """The owner's Asana user gid, or None (unassigned)."""
        if person is None:
            return None
        if person.ids.get("asana"):
            return person.ids["asana"]
        if not person.email:
            return None
        if person.email not in self.user_gids:
            try:
                with asana_errors():
                    user = self.users.get_user(person.email, {"workspace": self.settings.workspace,
                                                              "opt_fields": "email"},
                                               _request_timeout=self.timeout)
                self.user_gids[person.email] = user["gid"]
            except TrackerError as exc:
                if exc.status != 404:
                    raise
                log.warning("Asana: no user with email %s; the task stays unassigned", person.email)
                self.user_gids[person.email] = None
        return self.user_gids[person.email]
