"""A stand-in for the Asana REST API (``/asana/api/1.0``): one workspace, one project, a user per person.

It answers the calls `takeaway.connectors.asana` makes through the official `asana` client, as
Asana documents them (developers.asana.com: API reference, "Errors", "Dates and times",
"Pagination", "Input/output options"):

- Auth: ``Authorization: Bearer <personal access token>``; a missing or wrong token gets
  ``401 {"errors": [{"message": "Not Authorized"}]}``.
- Envelopes: bodies are sent as ``{"data": {...}}`` and answers come back as ``{"data": ...}``;
  errors as ``{"errors": [{"message": "<field>: <what is wrong>"}]}`` (the docs' own example is
  ``workspace: Missing input``). The messages here are worded after that pattern, not copied.
- ``GET /users/{user_gid}``: the identifier may be a gid, an email or ``me``; unknown: 404.
- ``POST /tasks`` (201) and ``PUT /tasks/{task_gid}`` (200), which reject with 400:
  a field that is not a writable task field; a value of the wrong type; no ``workspace``
  and no ``projects`` on create ("Every task is required to be created in a specific workspace
  ... need not be set explicitly if you specify projects"); an unknown workspace, project or
  assignee (a gid, an email or ``me``); both ``due_on`` and ``due_at`` ("should not be used
  together"); ``due_on``/``start_on`` not ``YYYY-MM-DD``; ``due_at`` not an ISO 8601 date-time;
  ``start_on`` without ``due_on`` or ``due_at`` in the same request ("You must specify a due date
  in order to set a start date"); ``start_on`` not before the due date (Asana's own importer drops
  start dates equal to due dates because the API rejects them).
- ``due_at`` comes back in UTC (``YYYY-MM-DDTHH:mm:ss.fffZ``) and sets ``due_on`` to its day
  where it was given (Asana localizes ``due_on`` to the user's zone; here the sender's offset
  stands in for it); setting one of them clears the other; ``completed`` sets ``completed_at``.
- ``GET /tasks/{task_gid}``: the full record; unknown: 404.
- ``GET /projects/{project_gid}/tasks``: compact records (gid, name, resource_type,
  resource_subtype) in creation order, ``limit`` 1..100 and an opaque ``offset`` token, with
  ``next_page`` ``{offset, path, uri}`` or null.
- ``opt_fields`` (comma-separated) narrows any task answer to gid plus those fields.
- Rate limits (429 with Retry-After) and 5xx come from the sandbox's fault injection.

Not modelled: ``external`` (Asana documents it as OAuth-only, and the stand-in takes a personal
access token), tags, sections, custom fields, ``start_at``, task search (premium).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from takeaway.people import Person
from takeaway.sandbox import ASANA_PROJECT as PROJECT_GID
from takeaway.sandbox import ASANA_WORKSPACE as WORKSPACE_GID
from takeaway.sandbox import CREDENTIALS

BOT_GID = "1200000000000009"  # the user the token belongs to ("me")
WRITABLE: dict[str, tuple[type, ...]] = {
    "name": (str,), "notes": (str,), "assignee": (str, type(None)), "completed": (bool,),
    "due_on": (str, type(None)), "due_at": (str, type(None)), "start_on": (str, type(None)),
    "workspace": (str,), "projects": (list,),
}
CREATE_ONLY = {"workspace", "projects"}
COMPACT = ("name", "resource_type", "resource_subtype")


class AsanaError(Exception):
    """An error answer: `status` and the message Asana would put in ``errors[0].message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class AsanaRoute(APIRoute):
    """Turns `AsanaError` into Asana's error body (a router cannot register exception handlers)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def answer(request: Request):
            try:
                return await handler(request)
            except AsanaError as exc:
                return JSONResponse({"errors": [{"message": exc.message}]}, status_code=exc.status)

        return answer


def authorize(request: Request) -> None:
    """Bearer personal access token, or 401."""
    if request.headers.get("authorization") != f"Bearer {CREDENTIALS['asana']['token']}":
        raise AsanaError(401, "Not Authorized")


def parse_day(field: str, value: str) -> date:
    """A ``YYYY-MM-DD`` date, or 400 naming the field."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise AsanaError(400, f"{field}: Invalid date, expected YYYY-MM-DD: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AsanaError(400, f"{field}: Invalid date: {value!r}") from None


def parse_moment(field: str, value: str) -> datetime:
    """An ISO 8601 date-time (no offset: UTC), or 400 naming the field."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or "T" not in value.upper():
        raise AsanaError(400, f"{field}: Invalid date-time, expected ISO 8601: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def whole(field: str, value: str) -> int:
    """A non-negative integer query parameter, or 400 naming it (offset tokens are indexes here)."""
    if not value.isdigit():
        raise AsanaError(400, f"{field}: Invalid value {value!r}")
    return int(value)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def shape(record: dict, fields: str | None, compact: bool = False) -> dict:
    """The record as answered: all of it, the compact form, or gid plus the `opt_fields`."""
    if fields:
        wanted = [f.strip() for f in fields.split(",") if f.strip()]
    else:
        wanted = list(COMPACT) if compact else list(record)
    return {"gid": record["gid"], **{f: record[f] for f in wanted if f in record}}


class Vendor:
    """The Asana stand-in: `router` is mounted at ``/asana``."""

    def __init__(self, people: list[Person]):
        self.users = [{"gid": BOT_GID, "resource_type": "user", "name": "Takeaway Bot",
                       "email": "takeaway-bot@example.com"}]
        self.users += [{"gid": str(int(BOT_GID) + 1000 + i), "resource_type": "user", "name": p.name,
                        "email": p.email} for i, p in enumerate(people) if p.email]
        self.workspace = {"gid": WORKSPACE_GID, "resource_type": "workspace", "name": "Takeaway"}
        self.project = {"gid": PROJECT_GID, "resource_type": "project", "name": "Meeting action items"}
        self.tasks: dict[str, dict] = {}
        self.next_gid = 1200000000100001
        self.router = APIRouter(prefix="/api/1.0", route_class=AsanaRoute, dependencies=[Depends(authorize)])
        self.router.add_api_route("/users/{user_gid}", self.get_user, methods=["GET"])
        self.router.add_api_route("/tasks", self.create_task, methods=["POST"])
        self.router.add_api_route("/tasks/{task_gid}", self.get_task, methods=["GET"])
        self.router.add_api_route("/tasks/{task_gid}", self.update_task, methods=["PUT"])
        self.router.add_api_route("/projects/{project_gid}/tasks", self.project_tasks, methods=["GET"])

    def reset(self) -> None:
        self.tasks.clear()

    def state(self) -> dict:
        return {"workspace": self.workspace["gid"], "project": self.project["gid"],
                "users": {u["email"]: u["gid"] for u in self.users}, "tasks": list(self.tasks.values())}

    # lookups

    def user(self, ident: str) -> dict | None:
        """A user by gid, email or ``me``."""
        ident = BOT_GID if ident == "me" else ident
        return next((u for u in self.users if ident in (u["gid"], u["email"])), None)

    def task(self, gid: str) -> dict:
        if gid not in self.tasks:
            raise AsanaError(404, f"task: Unknown object: {gid}")
        return self.tasks[gid]

    # endpoints

    async def get_user(self, user_gid: str, opt_fields: str | None = None) -> dict:
        user = self.user(user_gid)
        if user is None:
            raise AsanaError(404, f"user: Unknown object: {user_gid}")
        return {"data": shape({**user, "workspaces": [self.workspace]}, opt_fields)}

    async def create_task(self, request: Request, opt_fields: str | None = None) -> JSONResponse:
        data = await self.body(request)
        if "workspace" not in data and not data.get("projects"):
            raise AsanaError(400, "workspace: Missing input")
        if data.get("workspace", WORKSPACE_GID) != WORKSPACE_GID:
            raise AsanaError(400, f"workspace: Not a recognized ID: {data['workspace']}")
        unknown = [p for p in data.get("projects", []) if p != PROJECT_GID]
        if unknown:
            raise AsanaError(400, f"projects: Not a recognized ID: {unknown[0]}")
        gid, self.next_gid = str(self.next_gid), self.next_gid + 1
        now = utc_stamp(datetime.now(timezone.utc))
        record = {"gid": gid, "resource_type": "task", "resource_subtype": "default_task", "name": "",
                  "notes": "", "assignee": None, "completed": False, "completed_at": None, "due_on": None,
                  "due_at": None, "start_on": None, "created_at": now, "modified_at": now,
                  "workspace": self.workspace,
                  "projects": [self.project] if data.get("projects") else [],
                  "permalink_url": f"{request.base_url}asana/0/{PROJECT_GID}/{gid}"}
        self.apply(record, data)
        self.tasks[gid] = record
        return JSONResponse({"data": shape(record, opt_fields)}, status_code=201)

    async def get_task(self, task_gid: str, opt_fields: str | None = None) -> dict:
        return {"data": shape(self.task(task_gid), opt_fields)}

    async def update_task(self, task_gid: str, request: Request, opt_fields: str | None = None) -> dict:
        record = self.task(task_gid)
        data = await self.body(request)
        fixed = CREATE_ONLY & data.keys()
        if fixed:
            raise AsanaError(400, f"{min(fixed)}: Cannot be changed with PUT /tasks (use addProject)")
        self.apply(record, data)
        record["modified_at"] = utc_stamp(datetime.now(timezone.utc))
        return {"data": shape(record, opt_fields)}

    async def project_tasks(self, request: Request, project_gid: str, limit: str | None = None,
                            offset: str | None = None, opt_fields: str | None = None) -> dict:
        if project_gid != PROJECT_GID:
            raise AsanaError(404, f"project: Unknown object: {project_gid}")
        size, start = whole("limit", limit or "100"), whole("offset", offset or "0")
        if not 1 <= size <= 100:
            raise AsanaError(400, "limit: must be between 1 and 100")
        tasks = [t for t in self.tasks.values() if self.project in t["projects"]]
        page = [shape(t, opt_fields, compact=True) for t in tasks[start:start + size]]
        next_page = None
        if start + size < len(tasks):
            path = f"/projects/{project_gid}/tasks?limit={size}&offset={start + size}"
            next_page = {"offset": str(start + size), "path": path,
                         "uri": f"{request.base_url}asana/api/1.0{path}"}
        return {"data": page, "next_page": next_page}

    # validation

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        """The ``data`` object of a JSON body, with only writable fields of the right types."""
        try:
            body = await request.json()
        except ValueError:
            raise AsanaError(400, "Could not parse request data, invalid JSON") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise AsanaError(400, "data: Missing input")
        for field, value in data.items():
            if field not in WRITABLE:
                raise AsanaError(400, f"{field}: Unknown field or not writable")
            if not isinstance(value, WRITABLE[field]):
                raise AsanaError(400, f"{field}: Invalid value {value!r}")
        return data

    def apply(self, record: dict, data: dict) -> None:
        """Check the dates and the assignee of a create or update, then write the fields."""
        if "due_on" in data and "due_at" in data:
            raise AsanaError(400, "due_on: Only one of due_on and due_at may be given")
        if data.get("due_on") is not None:
            parse_day("due_on", data["due_on"])
        if data.get("due_at") is not None:
            moment = parse_moment("due_at", data["due_at"])
            data = {**data, "due_at": utc_stamp(moment), "due_on": moment.date().isoformat()}
        elif "due_at" in data:
            data = {**data, "due_on": None}
        elif "due_on" in data:
            data = {**data, "due_at": None}
        if data.get("start_on") is not None:
            if data.get("due_on") is None:
                raise AsanaError(400, "start_on: You must specify a due date in order to set a start date")
            if parse_day("start_on", data["start_on"]) >= date.fromisoformat(data["due_on"]):
                raise AsanaError(400, "start_on: Start date must be before the due date")
        if data.get("assignee") is not None:
            user = self.user(data["assignee"])
            if user is None:
                raise AsanaError(400, f"assignee: Not a recognized ID: {data['assignee']}")
            data = {**data, "assignee": {k: user[k] for k in ("gid", "resource_type", "name")}}
        if "completed" in data:
            record["completed_at"] = utc_stamp(datetime.now(timezone.utc)) if data["completed"] else None
        record.update({k: v for k, v in data.items() if k not in CREATE_ONLY})
