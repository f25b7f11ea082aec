"""The ServiceNow tracker: one record per action item in a task table, through the Table API.

The table is `settings.table` (``sc_task``, ``task`` or ``incident``). A record is written as:

- ``short_description``: the summary, cut to 160 characters (the field's default max length) with an ellipsis;
- ``description``: the ticket's description;
- ``work_notes``: the evidence (quote, speaker, time into the recording, meeting, minutes link), as a journal entry;
- ``due_date``: the due date at 17:00:00. The Table API takes actual values, which are UTC, so that is 17:00 UTC:
  late enough to be "that day" in Europe and the Americas' mornings, without pretending to know a time nobody
  said. Only the date is read back;
- ``assigned_to``: the owner's sys_user sys_id: ``owner.ids["servicenow"]`` when the directory has it, else the
  sys_user found by the owner's email (cached for the process). No owner, or none found: left unassigned, and the
  work notes say who was named;
- ``correlation_id``: the item's label (``takeaway-<key>``), which `find` searches; ``correlation_display``:
  "Takeaway". Labels have no ServiceNow field and are not sent.

`external_id` is the record's ``number`` (e.g. SCTASK0010001): what people quote. The URL opens the record's form
(``nav_to.do?uri=<table>.do?sys_id=...``). A record is done when its state closes it: 3 closed complete,
4 closed incomplete or 7 closed skipped for task and sc_task; 6 resolved, 7 closed or 8 canceled for incident.

No retries here: callers wrap calls in `with_retry`. Timeouts and connection errors are retryable TrackerErrors;
HTTP errors become TrackerErrors through `http_error`, naming the field ServiceNow's message names.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx

from takeaway.connectors.base import RemoteTask, Ticket, TrackerError, http_error
from takeaway.people import Directory, Person
from takeaway.settings import ServiceNowSettings

VENDOR = "ServiceNow"
CLOSED_STATES = {"task": {"3", "4", "7"}, "sc_task": {"3", "4", "7"}, "incident": {"6", "7", "8"}}
SHORT_DESCRIPTION_MAX = 160
DUE_TIME = "17:00:00"  # UTC, see the module docstring
#: the fields read back: enough for a RemoteTask
FIELDS = "sys_id,number,state,due_date,sys_class_name,correlation_id"
#: the reply wanted from every request: those fields, references as plain sys_ids
REPLY = {"sysparm_fields": FIELDS, "sysparm_exclude_reference_link": "true"}


class ServiceNowTracker:
    name = "servicenow"

    def __init__(self, settings: ServiceNowSettings, directory: Directory, *, timeout: float = 30.0):
        if not (settings.url and settings.user and settings.password):
            raise TrackerError("ServiceNow: set servicenow.url, servicenow.user and servicenow.password "
                               "in takeaway.toml")
        self.table, self.directory = settings.table, directory
        self.url = settings.url.rstrip("/")
        self.http = httpx.Client(base_url=f"{self.url}/api/now/table", auth=(settings.user, settings.password),
                                 timeout=timeout, headers={"Accept": "application/json"})
        self.user_ids: dict[str, str | None] = {}  # email -> sys_id (None: no such user)

    def find(self, key: str) -> RemoteTask | None:
        """The record whose correlation_id is the item's label, if any."""
        label = Ticket.model_construct(key=key).key_label  # the label `create` wrote, from the one definition
        record = self.lookup(self.table, "correlation_id", label)
        return self.remote(record) if record else None

    def create(self, ticket: Ticket) -> RemoteTask:
        assignee = self.sys_id(ticket.owner) if ticket.owner else None
        fields: dict[str, Any] = {
            "short_description": shorten(ticket.summary),
            "description": ticket.description,
            "work_notes": work_notes(ticket, assigned=assignee is not None),
            "correlation_id": ticket.key_label,
            "correlation_display": "Takeaway",
        }
        if ticket.due_date:
            fields["due_date"] = f"{ticket.due_date.isoformat()} {DUE_TIME}"
        if assignee:
            fields["assigned_to"] = assignee
        record = self.call("POST", f"/{self.table}", params=REPLY, json=fields)["result"]
        note = None
        if ticket.owner and not assignee:
            by = f" with email {ticket.owner.email}" if ticket.owner.email else " (no email in the directory)"
            note = f"{ticket.owner.name} has no ServiceNow user{by}; left unassigned"
        return self.remote(record, note=note)

    def get(self, external_id: str) -> RemoteTask:
        """The record numbered `external_id` as it stands now."""
        record = self.lookup(self.table, "number", external_id)
        if not record:
            raise http_error(VENDOR, 404, f"no {self.table} record numbered {external_id}")
        return self.remote(record)

    # --- helpers

    def sys_id(self, person: Person) -> str | None:
        """The person's sys_user sys_id: from the directory, else looked up by email (cached)."""
        if person.ids.get("servicenow"):
            return person.ids["servicenow"]
        if not person.email:
            return None
        if person.email not in self.user_ids:
            user = self.lookup("sys_user", "email", person.email, fields="sys_id,email")
            self.user_ids[person.email] = user["sys_id"] if user else None
        return self.user_ids[person.email]

    def lookup(self, table: str, field: str, value: str, fields: str = FIELDS) -> dict[str, Any] | None:
        """The record of `table` whose `field` is `value`, if any.

        The answer is checked: an instance ignores a query condition on a field the table lacks (e.g. a custom
        table without correlation_id) and would return any record.
        """
        params = REPLY | {"sysparm_query": f"{field}={value}", "sysparm_fields": fields, "sysparm_limit": "1"}
        rows = self.call("GET", f"/{table}", params=params)["result"]
        return rows[0] if rows and rows[0].get(field) == value else None

    def call(self, method: str, path: str, *, params: dict[str, str],
             json: dict[str, Any] | None = None) -> dict[str, Any]:
        """One Table API request; its JSON body, or a TrackerError."""
        try:
            response = self.http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise TrackerError(f"{VENDOR}: no answer from {self.url} in time ({type(exc).__name__})",
                               retryable=True) from exc
        except httpx.TransportError as exc:
            raise TrackerError(f"{VENDOR}: cannot reach {self.url}: {exc}", retryable=True) from exc
        if response.status_code >= 400:
            raise error(response, json or {})
        try:
            return response.json()
        except ValueError:  # e.g. the HTML page of a hibernating developer instance
            raise TrackerError(f"{VENDOR}: {self.url} did not answer with JSON (status {response.status_code}); "
                               "check the instance URL and that the instance is awake",
                               status=response.status_code) from None

    def remote(self, record: dict[str, Any], note: str | None = None) -> RemoteTask:
        table = record.get("sys_class_name") or self.table
        url = f"{self.url}/nav_to.do?uri={table}.do?sys_id={record['sys_id']}"
        return RemoteTask(external_id=record["number"], url=url,
                          done=record.get("state", "") in CLOSED_STATES.get(table, CLOSED_STATES["task"]),
                          due_date=date.fromisoformat(record["due_date"][:10]) if record.get("due_date") else None,
                          note=note)


def error(response: httpx.Response, sent: dict[str, Any]) -> TrackerError:
    """The TrackerError for a ServiceNow error reply; `field` is the first sent field its message names."""
    try:
        problem = response.json().get("error") or {}
    except (ValueError, AttributeError):
        problem = {}
    if not isinstance(problem, dict):
        problem = {"message": str(problem)}
    text = ": ".join(str(problem[k]) for k in ("message", "detail") if problem.get(k)) or response.text[:200]
    field = next((f for f in sent if re.search(rf"\b{re.escape(f)}\b", text)), None)
    retry_after = response.headers.get("Retry-After")
    return http_error(VENDOR, response.status_code, text, field=field,
                      retry_after=retry_after if retry_after and is_number(retry_after) else None,
                      credential="ServiceNow user/password")


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def shorten(summary: str) -> str:
    return summary if len(summary) <= SHORT_DESCRIPTION_MAX else summary[:SHORT_DESCRIPTION_MAX - 1].rstrip() + "…"


def work_notes(ticket: Ticket, assigned: bool) -> str:
    """The evidence: the quote, who said it when, in which meeting, the minutes link; and an unassigned owner."""
    said = f"— {ticket.speaker or 'an unidentified speaker'}"
    said += f", at {ticket.said_at} into the recording" if ticket.said_at else ""
    if ticket.meeting_title:
        said += f", in “{ticket.meeting_title}”" + (f" ({ticket.meeting_start})" if ticket.meeting_start else "")
    lines = [f"“{ticket.quote}”", said]
    if ticket.minutes_url:
        lines.append(f"Minutes: {ticket.minutes_url}")
    owner = ticket.owner.name if ticket.owner else ticket.owner_name
    if owner and not assigned:
        lines.append(f"Owner named in the meeting: {owner} (no ServiceNow user found; left unassigned)")
    return "\n".join(lines)
