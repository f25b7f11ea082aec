"""ServiceNow stand-in: an instance's Table API (``/api/now/table``), served at ``<sandbox>/servicenow``.

Documented behaviours it reproduces (ServiceNow REST API reference, "Table API"):

- Basic auth with ``CREDENTIALS["servicenow"]``; anything else is answered 401
  ``{"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
  "status": "failure"}``. Every error has that shape: ``{"error": {"message", "detail"}, "status": "failure"}``.
- ``GET /api/now/table/{table}`` answers ``{"result": [...]}`` with an ``X-Total-Count`` header, and an empty list
  (200) when nothing matches. ``sysparm_query`` is an encoded query: ``field=value`` and ``field!=value``
  conditions joined by ``^``, plus ``ORDERBY<field>`` / ``ORDERBYDESC<field>``; values are case-sensitive;
  a condition on a field the table lacks is ignored, as an instance does by default
  (``glide.invalid_query.returns_no_rows`` false). ``sysparm_limit`` (default 10000), ``sysparm_offset``,
  ``sysparm_fields`` (names the table lacks are ignored) and ``sysparm_exclude_reference_link`` apply.
- ``GET /api/now/table/{table}/{sys_id}`` answers ``{"result": {...}}``; an unknown sys_id is 404
  "No Record found" / "Record doesn't exist or ACL restricts the record retrieval".
- ``POST /api/now/table/{table}`` answers 201 with the whole new record and a ``Location`` header;
  ``PATCH`` (and ``PUT``) ``/api/now/table/{table}/{sys_id}`` answer 200 with the record.
  Fields the table lacks are ignored silently; ``sys_*`` fields and ``number`` are set by the instance, never by
  a body; fields left out of an insert are empty strings. Values are stored and returned as strings.
- Reference fields (``assigned_to``, ``opened_by``, ``caller_id``) hold a sys_user sys_id and are returned as
  ``{"link": ".../api/now/table/sys_user/<sys_id>", "value": "<sys_id>"}`` unless
  ``sysparm_exclude_reference_link=true``; an empty reference is ``""``.
- Journal fields (``work_notes``, ``comments``) append an entry when written and read back as ``""`` over the
  Table API (actual values); `state()` lists the entries.
- Tables: ``task`` and its extensions ``sc_task`` and ``incident`` (reading ``task`` sees the records of both,
  with their ``sys_class_name``), and ``sys_user``, seeded with the people directory (sys_id: the person's
  ``ids["servicenow"]`` or 32 hex digits derived from the email; ``user_name``, ``name``, ``email``) plus the API
  user. ``sys_user`` is read-only for the API user: writes get 403 "Operation Failed" / "ACL Exception Insert
  (Update) Failed due to security constraints". Any other table: 400 "Invalid table <name>".
- New task records get a ``sys_id`` (32 hex), a ``number`` (SCTASK0010001, TASK0010001, INC0010001: one counter
  per table), ``state`` "1", ``active`` "true", ``opened_by`` (the API user), ``opened_at``, ``sys_created_on`` and
  ``sys_updated_on`` (UTC, "YYYY-MM-DD HH:MM:SS"). A closing state (task and sc_task: 3 closed complete,
  4 closed incomplete, 7 closed skipped; incident: 6 resolved, 7 closed, 8 canceled) sets ``active`` "false" and
  ``closed_at``.

Stricter than an instance, on purpose: each is a mistake a connector makes that an instance accepts with a 2xx,
so it shows only when a person opens the record. Each answers 400 with the field's name in the detail:

- ``assigned_to`` (or another sys_user reference) that is not the sys_id of a sys_user record, e.g. an email.
  An instance stores the unresolvable reference silently and the task shows no usable assignee.
- ``due_date`` not ``YYYY-MM-DD HH:MM:SS`` (a real date-time, actual value in UTC). An instance does not reject it.
- ``short_description`` missing or blank on insert, or blanked by an update. Dictionary "mandatory" is enforced by
  forms, not by the Table API; instances that enforce it over REST do so with a data policy (a 403 "Data Policy
  Exception"). We treat it as mandatory on our tables, and answer 400 so the client can name the field.
- ``short_description`` longer than 160 characters, its default dictionary max length.

Not implemented: ``sysparm_display_value``, ``sysparm_input_display_value``, ``^OR``/``^NQ``/``LIKE``/``IN``
queries (400 saying so, rather than a wrong answer), DELETE, attachments, versioned ``/api/now/v2`` URLs.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from takeaway.people import Person
from takeaway.sandbox import CREDENTIALS

#: number prefix of each task table
PREFIXES = {"task": "TASK", "sc_task": "SCTASK", "incident": "INC"}
#: states that close a record, by sys_class_name
CLOSED_STATES = {"task": {"3", "4", "7"}, "sc_task": {"3", "4", "7"}, "incident": {"6", "7", "8"}}
TASK_FIELDS = ("sys_id", "number", "short_description", "description", "state", "active", "assigned_to",
               "due_date", "work_notes", "comments", "correlation_id", "correlation_display", "priority",
               "opened_by", "opened_at", "closed_at", "sys_class_name", "sys_created_on", "sys_updated_on",
               "sys_mod_count")
COLUMNS = {"task": TASK_FIELDS, "sc_task": (*TASK_FIELDS, "request_item"),
           "incident": (*TASK_FIELDS, "caller_id", "category"),
           "sys_user": ("sys_id", "user_name", "name", "first_name", "last_name", "email", "active",
                        "sys_class_name", "sys_created_on", "sys_updated_on")}
REFERENCES = ("assigned_to", "opened_by", "caller_id")  # all point at sys_user
JOURNALS = ("work_notes", "comments")
SET_BY_INSTANCE = ("number", "sys_id", "sys_class_name", "sys_created_on", "sys_updated_on", "sys_mod_count")
SHORT_DESCRIPTION_MAX = 160
DATE_TIME = "%Y-%m-%d %H:%M:%S"


class ServiceNowError(Exception):
    """An error answered in ServiceNow's shape."""

    def __init__(self, status: int, message: str, detail: str | None = None):
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'BASIC realm="Service-now"'} if self.status == 401 else {}
        return JSONResponse({"error": {"message": self.message, "detail": self.detail}, "status": "failure"},
                            status_code=self.status, headers=headers)


class _Route(APIRoute):
    """Answers a `ServiceNowError` raised by a handler or a dependency as ServiceNow would."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceNowError as exc:
                return exc.response()

        return answer


def authenticate(request: Request) -> None:
    """Basic auth with the sandbox's ServiceNow user, else ServiceNow's 401."""
    creds = CREDENTIALS["servicenow"]
    expected = base64.b64encode(f"{creds['user']}:{creds['password']}".encode()).decode()
    if request.headers.get("authorization", "") != f"Basic {expected}":
        raise ServiceNowError(401, "User Not Authenticated", "Required to provide Auth information")


def now() -> str:
    return datetime.now(timezone.utc).strftime(DATE_TIME)


def user_record(name: str, email: str, sys_id: str | None = None) -> dict[str, str]:
    first, _, last = name.partition(" ")
    sys_id = sys_id or hashlib.md5(email.lower().encode()).hexdigest()
    return {"sys_id": sys_id, "user_name": email.split("@")[0], "name": name, "first_name": first,
            "last_name": last, "email": email, "active": "true", "sys_class_name": "sys_user",
            "sys_created_on": "2024-01-01 00:00:00", "sys_updated_on": "2024-01-01 00:00:00"}


class Vendor:
    """The stand-in instance: users from the people directory, task records in memory."""

    def __init__(self, people: list[Person]):
        self.people = people
        bot = CREDENTIALS["servicenow"]["user"]
        self.users = {u["sys_id"]: u for u in
                      [user_record(p.name, p.email or f"{p.name.lower().replace(' ', '.')}@example.com",
                                   p.ids.get("servicenow")) for p in people]
                      + [user_record("Takeaway Bot", f"{bot}@example.com") | {"user_name": bot}]}
        self.bot_id = next(u["sys_id"] for u in self.users.values() if u["user_name"] == bot)
        self.lock = threading.Lock()
        self.reset()
        self.router = APIRouter(route_class=_Route, dependencies=[Depends(authenticate)])
        self.router.add_api_route("/api/now/table/{table}", self.list_records, methods=["GET"])
        self.router.add_api_route("/api/now/table/{table}", self.insert, methods=["POST"])
        self.router.add_api_route("/api/now/table/{table}/{sys_id}", self.read, methods=["GET"])
        self.router.add_api_route("/api/now/table/{table}/{sys_id}", self.update, methods=["PATCH", "PUT"])

    def reset(self) -> None:
        with self.lock:
            self.records: dict[str, dict[str, str]] = {}
            self.journal: dict[str, list[dict[str, str]]] = {}
            self.counters = dict.fromkeys(PREFIXES, 10000)

    def state(self) -> dict:
        """Users and task records by table (sys_class_name); journal fields as lists of entry texts."""
        with self.lock:
            out: dict[str, list[dict]] = {"sys_user": list(self.users.values()), **{t: [] for t in PREFIXES}}
            for sys_id, record in self.records.items():
                entries = self.journal[sys_id]
                out[record["sys_class_name"]].append(
                    record | {j: [e["value"] for e in entries if e["element"] == j] for j in JOURNALS})
            return out

    # --- endpoints

    async def list_records(self, table: str, request: Request) -> JSONResponse:
        params = request.query_params
        with self.lock:
            rows = self.select(self.rows(table), params.get("sysparm_query", ""), COLUMNS[table])
            total = len(rows)
            offset, limit = number_param(params, "sysparm_offset", 0), number_param(params, "sysparm_limit", 10000)
            result = [self.render(r, table, request) for r in rows[offset:offset + limit]]
        return JSONResponse({"result": result}, headers={"X-Total-Count": str(total)})

    async def read(self, table: str, sys_id: str, request: Request) -> JSONResponse:
        with self.lock:
            return JSONResponse({"result": self.render(self.find(table, sys_id), table, request)})

    async def insert(self, table: str, request: Request) -> JSONResponse:
        values = await body(request)
        with self.lock:
            self.rows(table, write="Insert")
            stamp = now()
            record = dict.fromkeys(COLUMNS[table], "") | {
                "sys_id": uuid.uuid4().hex, "state": "1", "active": "true", "opened_by": self.bot_id,
                "opened_at": stamp, "sys_class_name": table, "sys_created_on": stamp, "sys_mod_count": "0"}
            self.journal[record["sys_id"]] = []
            try:
                self.write(record, values, table, creating=True)
            except ServiceNowError:
                del self.journal[record["sys_id"]]
                raise
            self.counters[table] += 1
            record["number"] = f"{PREFIXES[table]}{self.counters[table]:07d}"
            self.records[record["sys_id"]] = record
            result = self.render(record, table, request)
        location = f"{instance_url(request)}/api/now/table/{table}/{record['sys_id']}"
        return JSONResponse({"result": result}, status_code=201, headers={"Location": location})

    async def update(self, table: str, sys_id: str, request: Request) -> JSONResponse:
        values = await body(request)
        with self.lock:
            self.rows(table, write="Update")
            record = self.find(table, sys_id)
            self.write(record, values, table, creating=False)
            return JSONResponse({"result": self.render(record, table, request)})

    # --- the table layer

    def rows(self, table: str, write: str | None = None) -> list[dict[str, str]]:
        """The records `table` holds (a `task` read sees its extensions); `write` names a write to refuse."""
        if table == "sys_user":
            if write:
                raise ServiceNowError(403, "Operation Failed", f"ACL Exception {write} Failed due to security "
                                      "constraints")
            return list(self.users.values())
        if table not in PREFIXES:
            raise ServiceNowError(400, f"Invalid table {table}")
        return [r for r in self.records.values() if table == "task" or r["sys_class_name"] == table]

    def find(self, table: str, sys_id: str) -> dict[str, str]:
        found = [r for r in self.rows(table) if r["sys_id"] == sys_id]
        if not found:
            raise ServiceNowError(404, "No Record found", "Record doesn't exist or ACL restricts the record "
                                  "retrieval")
        return found[0]

    @staticmethod
    def select(rows: list[dict[str, str]], query: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
        """Apply an encoded query: ``f=v`` / ``f!=v`` joined by ``^``, ``ORDERBY[DESC]f``; unknown fields ignored."""
        order: list[tuple[str, bool]] = []
        for term in filter(None, query.split("^")):
            if m := re.fullmatch(r"ORDERBY(DESC)?(\w+)", term):
                order += [(m[2], bool(m[1]))] if m[2] in columns else []
            elif term[:2] not in ("OR", "NQ") and (m := re.fullmatch(r"(\w+?)(!=|=)(.*)", term)):
                field, negate, value = m[1], m[2] == "!=", m[3]
                if field in columns:
                    rows = [r for r in rows if (r.get(field, "") == value) != negate]
            else:
                raise ServiceNowError(400, "Unsupported query", "the sandbox supports only field=value, "
                                      f"field!=value and ORDERBY terms, not {term!r}")
        for field, descending in reversed(order):
            rows = sorted(rows, key=lambda r: r.get(field, ""), reverse=descending)
        return rows

    def write(self, record: dict[str, str], values: dict[str, Any], table: str, creating: bool) -> None:
        """Check then apply `values`: unknown and instance-set fields ignored, journals appended."""
        values = {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                  for k, v in values.items() if k in COLUMNS[table] and k not in SET_BY_INSTANCE}
        self.check(values, creating)
        stamp = now()
        for field in JOURNALS:
            if text := values.pop(field, ""):
                self.journal[record["sys_id"]].append({"element": field, "value": text, "sys_created_on": stamp,
                                                       "sys_created_by": CREDENTIALS["servicenow"]["user"]})
        record |= values
        closed = record["state"] in CLOSED_STATES[record["sys_class_name"]]
        if "state" in values:
            record["active"] = "false" if closed else "true"
            record["closed_at"] = (record["closed_at"] or stamp) if closed else ""
        record["sys_updated_on"] = stamp
        if not creating:
            record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)

    def check(self, values: dict[str, str], creating: bool) -> None:
        """The stricter-than-an-instance checks of the module docstring."""
        short = values.get("short_description", None if not creating else "")
        if short is not None and not short.strip():
            raise invalid("short_description", "Mandatory field missing",
                          "short_description is mandatory and was not given a value")
        if short is not None and len(short) > SHORT_DESCRIPTION_MAX:
            raise invalid("short_description", "Value too long", f"short_description is {len(short)} characters; "
                          f"its max length is {SHORT_DESCRIPTION_MAX}")
        for field in REFERENCES:
            if values.get(field) and values[field] not in self.users:
                raise invalid(field, "Invalid reference", f"{field}: {values[field]!r} is not the sys_id of a "
                              "sys_user record")
        if values.get("due_date"):
            try:
                datetime.strptime(values["due_date"], DATE_TIME)
            except ValueError:
                raise invalid("due_date", "Invalid date-time", f"due_date: {values['due_date']!r} is not a "
                              "date-time in the format YYYY-MM-DD HH:MM:SS") from None

    def render(self, record: dict[str, str], table: str, request: Request) -> dict[str, Any]:
        """The record as the Table API returns it: the table's columns (or sysparm_fields), references as links."""
        params = request.query_params
        wanted = [f.strip() for f in params.get("sysparm_fields", "").split(",") if f.strip() in COLUMNS[table]]
        plain = params.get("sysparm_exclude_reference_link", "false").lower() == "true"
        out: dict[str, Any] = {}
        for field in wanted or COLUMNS[table]:
            value = "" if field in JOURNALS else record.get(field, "")
            if field in REFERENCES and value and not plain:
                value = {"link": f"{instance_url(request)}/api/now/table/sys_user/{value}", "value": value}
            out[field] = value
        return out


def invalid(field: str, message: str, detail: str) -> ServiceNowError:
    return ServiceNowError(400, f"{message}: {field}", detail)


async def body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ServiceNowError(400, "Exception while reading request", "The payload is not a JSON object")
    return data


def number_param(params: Any, name: str, default: int) -> int:
    try:
        return max(0, int(params.get(name, default)))
    except ValueError:
        raise ServiceNowError(400, f"Invalid {name}", f"{name} must be a number") from None


def instance_url(request: Request) -> str:
    """``http://host:port/servicenow``: the URL as requested, up to the API path."""
    return str(request.url).split("/api/now/", 1)[0]
