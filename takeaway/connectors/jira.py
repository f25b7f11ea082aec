"""The Jira tracker: Jira Cloud (REST v3) or Jira Data Center (REST v2) through the official `jira` client.

Each item becomes one issue in `settings.project` carrying the label ``takeaway-<item key>``; `find`
searches that label, so a caller that retries find-then-create files an item once. Cloud gets an
Atlassian Document description and an assignee by accountId, Data Center wiki text and an assignee by
user name; either id is looked up by the owner's email (cached for the process) unless the people
directory gives it (``ids: {jira: ...}``). An owner without an account leaves the issue unassigned.
If the create screen lacks the due date field, the date goes into the description and the returned
task's `note` says so. No retries here: every failure is a `TrackerError` for the caller's
`with_retry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError
from jira.resources import Issue

from takeaway.connectors.base import RemoteTask, Ticket, TrackerError, http_error
from takeaway.errors import TakeawayError
from takeaway.people import Directory, Person
from takeaway.settings import JiraSettings

log = logging.getLogger("takeaway.connectors")
T = TypeVar("T")

#: (site URL, cloud, email) -> accountId (Cloud) or user name (Data Center), for the life of the process
_USER_IDS: dict[tuple[str, bool, str], str] = {}


def jql_string(value: str) -> str:
    """`value` as a quoted JQL string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def one_line(text: str, limit: int = 255) -> str:
    """A summary Jira accepts: one line, at most `limit` characters (cut with an ellipsis)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


class JiraTracker:
    """Files tickets as Jira issues; see the module docstring."""

    name = "jira"

    def __init__(self, settings: JiraSettings, directory: Directory, *, timeout: float = 30.0):
        if not settings.url or not settings.token or (settings.cloud and not settings.email):
            need = "url, email and token" if settings.cloud else "url and token"
            raise TakeawayError(f"jira: set {need} under [jira] in takeaway.toml")
        self.settings, self.directory, self.timeout = settings, directory, timeout
        self.credential = "Jira API token" if settings.cloud else "Jira personal access token"
        self._client: JIRA | None = None
        self._create_meta: tuple[str, set[str]] | None = None  # issue type id, fields on the create screen

    # --- the Tracker protocol -----------------------------------------------------------------------

    def find(self, key: str) -> RemoteTask | None:
        label = Ticket.model_construct(key=key).key_label
        jql = f"project = {jql_string(self.settings.project)} AND labels = {jql_string(label)}"
        issues = self._call(lambda: self.client.search_issues(jql, maxResults=1, fields="status,duedate"))
        return self._remote(issues[0]) if issues else None

    def create(self, ticket: Ticket) -> RemoteTask:
        issue_type, screen = self._meta()
        notes: list[str] = []
        due_in_text = ticket.due_date is not None and "duedate" not in screen
        if due_in_text:
            notes.append("due date put in the description: the field is not on the create screen")
        fields: dict[str, Any] = {
            "project": {"key": self.settings.project},
            "issuetype": {"id": issue_type},
            "summary": one_line(ticket.summary),
            "description": self._description(ticket, due_in_text),
            "labels": [*self.settings.labels, ticket.key_label],
            **self.settings.custom_fields,
        }
        if ticket.due_date is not None and not due_in_text:
            fields["duedate"] = ticket.due_date.isoformat()
        assignee = self._user_id(ticket.owner) if ticket.owner else None
        if assignee:
            fields["assignee"] = {"accountId": assignee} if self.settings.cloud else {"name": assignee}
        elif ticket.owner or ticket.owner_name:
            who = ticket.owner.name if ticket.owner else ticket.owner_name
            notes.append(f"left unassigned: no Jira account found for {who}")
        issue = self._call(lambda: self.client.create_issue(fields=fields, prefetch=False))
        return RemoteTask(external_id=issue.key, url=self._browse(issue.key),
                          due_date=None if due_in_text else ticket.due_date, note="; ".join(notes) or None)

    def get(self, external_id: str) -> RemoteTask:
        return self._remote(self._call(lambda: self.client.issue(external_id, fields="status,duedate")))

    # --- calls and errors ---------------------------------------------------------------------------

    @property
    def client(self) -> JIRA:
        """The client, made on first use (it asks the server for its deployment type, so it can fail)."""
        if self._client is None:
            s = self.settings
            auth: dict[str, Any] = {"basic_auth": (s.email, s.token)} if s.cloud else {"token_auth": s.token}
            self._client = self._call(lambda: JIRA(s.url, options={"rest_api_version": "3" if s.cloud else "2"},
                                                   max_retries=0, timeout=self.timeout, **auth))
        return self._client

    def _call(self, call: Callable[[], T]) -> T:
        """Run one client call; any failure becomes a TrackerError (retryable for 429, 5xx, timeouts)."""
        try:
            return call()
        except TrackerError:
            raise
        except JIRAError as exc:
            raise self._error(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TrackerError(f"Jira: no answer from {self.settings.url} ({type(exc).__name__})",
                               retryable=True) from exc

    def _error(self, exc: JIRAError) -> TrackerError:
        if exc.status_code is None:  # raised by the client itself, not the server
            return TrackerError(f"Jira: {exc.text}")
        messages, errors = [], {}
        try:
            body = exc.response.json()
            messages, errors = body.get("errorMessages") or [], body.get("errors") or {}
        except (AttributeError, ValueError):
            pass
        detail = "; ".join([*messages, *(f"{k}: {v}" for k, v in errors.items())]) or exc.text or ""
        retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
        try:
            retry_after = float(retry_after) if retry_after else None
        except ValueError:  # an HTTP date: fall back to backing off
            retry_after = None
        return http_error("Jira", exc.status_code, detail, field=next(iter(errors), None), retry_after=retry_after,
                          credential=self.credential)

    # --- helpers ------------------------------------------------------------------------------------

    def _meta(self) -> tuple[str, set[str]]:
        """The configured issue type's id and the fields on its create screen (asked once)."""
        if self._create_meta is None:
            s, cloud = self.settings, self.settings.cloud
            path = f"issue/createmeta/{s.project}/issuetypes"
            types = self._pages(path, "issueTypes" if cloud else "values")
            issue_type = next((t for t in types if t["name"].lower() == s.issue_type.lower()), None)
            if issue_type is None:
                names = ", ".join(t["name"] for t in types)
                raise TrackerError(f"Jira: project {s.project} has no issue type '{s.issue_type}' (it has: {names})",
                                   field="issuetype")
            fields = self._pages(f"{path}/{issue_type['id']}", "fields" if cloud else "values")
            self._create_meta = issue_type["id"], {f["fieldId"] for f in fields}
        return self._create_meta

    def _pages(self, path: str, key: str) -> list[dict]:
        """Every item of a paged create-metadata answer. (The client's `project_issue_fields` refuses Cloud,
        pycontribs/jira#2353, so this reads the documented endpoint directly.)"""
        items: list[dict] = []
        while True:
            page = self._call(lambda: self.client._get_json(path, params={"startAt": len(items), "maxResults": 100}))
            items += page.get(key, [])
            if not page.get(key) or page.get("isLast") or len(items) >= page.get("total", len(items)):
                return items

    def _user_id(self, person: Person) -> str | None:
        """The owner's accountId (Cloud) or user name (Data Center): from the directory, else by email."""
        if person.ids.get("jira"):
            return person.ids["jira"]
        if not person.email:
            return None
        cache_key = (str(self.settings.url), self.settings.cloud, person.email.lower())
        if cache_key not in _USER_IDS:
            cloud = self.settings.cloud
            users = self._call(lambda: self.client.search_users(query=person.email) if cloud
                               else self.client.search_users(user=person.email))
            same = [u for u in users if getattr(u, "emailAddress", "").lower() == person.email.lower()]
            if not same and len(users) == 1 and not getattr(users[0], "emailAddress", ""):
                same = list(users)  # Cloud hides the email of users who chose so; the query matched it
            if not same:
                log.info("jira: no account for %s; the issue stays unassigned", person.email)
                return None
            _USER_IDS[cache_key] = same[0].accountId if cloud else same[0].name
        return _USER_IDS[cache_key]

    def _description(self, ticket: Ticket, with_due: bool) -> dict | str:
        """The task, the evidence quote with who said it when, the minutes link (and the due date if asked)."""
        said = ", ".join(filter(None, [ticket.speaker, ticket.said_at and f"at {ticket.said_at}",
                                       ticket.meeting_title and f"in {ticket.meeting_title}", ticket.meeting_start]))
        due = f"Due: {ticket.due_date.isoformat()}" if with_due and ticket.due_date else ""
        if not self.settings.cloud:  # wiki markup
            parts = [ticket.summary, f"{{quote}}{ticket.quote}{{quote}}" if ticket.quote else "",
                     f"— {said}" if said else "", due,
                     f"[Minutes|{ticket.minutes_url}]" if ticket.minutes_url else ""]
            return "\n\n".join(p for p in parts if p)

        def paragraph(*nodes: dict) -> dict:
            return {"type": "paragraph", "content": list(nodes)}

        def text(value: str, **marks: str) -> dict:
            node: dict[str, Any] = {"type": "text", "text": value}
            if marks:
                node["marks"] = [{"type": "link", "attrs": marks}]
            return node

        content = [paragraph(text(ticket.summary))]
        if ticket.quote:
            content.append({"type": "blockquote", "content": [paragraph(text(ticket.quote))]})
        if said:
            content.append(paragraph(text(f"— {said}")))
        if due:
            content.append(paragraph(text(due)))
        if ticket.minutes_url:
            content.append(paragraph(text("Minutes", href=ticket.minutes_url)))
        return {"type": "doc", "version": 1, "content": content}

    def _remote(self, issue: Issue) -> RemoteTask:
        due = getattr(issue.fields, "duedate", None)
        return RemoteTask(external_id=issue.key, url=self._browse(issue.key),
                          done=issue.fields.status.statusCategory.key == "done",
                          due_date=date.fromisoformat(due) if due else None)

    def _browse(self, key: str) -> str:
        return f"{str(self.settings.url).rstrip('/')}/browse/{key}"
