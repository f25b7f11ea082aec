"""A Jira stand-in: Jira Cloud (REST v3) and Jira Data Center 9 (REST v2) under ``/jira``.

The REST version in the path picks the flavour: ``/jira/rest/api/3/...`` answers as Jira Cloud,
``/jira/rest/api/2/...`` as Jira Data Center. So a client whose server URL is ``<sandbox>/jira``
and whose ``rest_api_version`` is "3" sees a Cloud site, with "2" a Data Center one. One project,
OPS, with the issue types Task and Bug and the workflow To Do -> In Progress -> Done; the users
are the people directory's, plus the bot whose credentials are in ``CREDENTIALS["jira"]``.

Documented behaviours it checks (bodies of 400s are Jira's
``{"errorMessages": [...], "errors": {"<field>": "<message>"}}``):

- Authentication: Cloud takes basic auth with the account's email and API token, Data Center a
  personal access token as ``Authorization: Bearer``; wrong or missing credentials get 401
  (``serverInfo`` alone also answers anonymous callers, as on a real site).
- ``GET serverInfo``: ``deploymentType`` "Cloud" (v3) or "Server" (v2) with ``versionNumbers``;
  ``GET myself``; ``GET field`` (system fields and the text custom field ``customfield_10010``).
- ``GET project/{key}`` with its issue types; 404 for an unknown project.
- Create metadata, ``GET issue/createmeta/{project}/issuetypes[/{issueTypeId}]``: Cloud pages carry
  ``issueTypes`` / ``fields``, Data Center pages ``values`` with ``isLast``. The create screen is
  `Vendor.screen` (a test can change it with ``PUT /jira/_sandbox/screen {"fields": [...]}``).
- User search: Cloud ``user/search?query=`` (``username`` is refused: GDPR strict mode); Data
  Center ``user/search?username=`` (matches user name, display name or email).
- ``POST issue`` answers 201 ``{"id", "key": "OPS-<n>", "self"}`` and rejects with 400:
  project or issue type missing or unknown; summary missing, longer than 255 characters or with a
  line break; a field that is not on the create screen ("Field 'x' cannot be set. It is not on the
  appropriate screen, or unknown."); ``duedate`` not ``YYYY-MM-DD``; a label with a space; on Cloud
  a description that is not an Atlassian Document (ADF), an assignee given by anything but
  ``accountId`` (real Cloud may ignore it silently; the stand-in is stricter) or an unknown
  ``accountId``; on Data Center a description that is not a string, an assignee without ``name`` or
  an unknown user name; a text custom field whose value is not a string.
- ``GET issue/{idOrKey}`` (``fields=`` selects fields), 404 for an unknown issue; ``PUT issue/{key}``
  edits fields with the same checks (204); ``GET/POST issue/{key}/transitions`` moves the status,
  whose ``statusCategory.key`` is "new", "indeterminate" or "done".
- JQL search: Data Center ``GET/POST search`` (``startAt`` / ``total`` pages); Cloud
  ``GET/POST search/jql`` (``nextPageToken`` pages; only ``id`` unless ``fields`` is given), while
  Cloud's removed ``search`` answers 410. The JQL understood is clauses ``field = value`` or
  ``field in (a, b)`` joined by AND, on project, labels, key, status and statusCategory, optionally
  followed by ORDER BY (ignored); anything else is a 400 like Jira's.
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from takeaway.people import Person
from takeaway.sandbox import CREDENTIALS, JIRA_PROJECT

PROJECT = {"id": "10000", "key": JIRA_PROJECT, "name": "Operations"}
ISSUE_TYPES = [{"id": "10001", "name": "Task", "subtask": False, "description": "A small, distinct piece of work."},
               {"id": "10002", "name": "Bug", "subtask": False, "description": "A problem or error."}]
CATEGORIES = {"new": {"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"},
              "indeterminate": {"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"},
              "done": {"id": 3, "key": "done", "name": "Done", "colorName": "green"}}
STATUSES = {"To Do": {"id": "10000", "name": "To Do", "statusCategory": CATEGORIES["new"]},
            "In Progress": {"id": "3", "name": "In Progress", "statusCategory": CATEGORIES["indeterminate"]},
            "Done": {"id": "10001", "name": "Done", "statusCategory": CATEGORIES["done"]}}
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}
TEXT_FIELD = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"
#: field id -> (name, schema)
FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "project": ("Project", {"type": "project", "system": "project"}),
    "issuetype": ("Issue Type", {"type": "issuetype", "system": "issuetype"}),
    "summary": ("Summary", {"type": "string", "system": "summary"}),
    "description": ("Description", {"type": "string", "system": "description"}),
    "duedate": ("Due date", {"type": "date", "system": "duedate"}),
    "labels": ("Labels", {"type": "array", "items": "string", "system": "labels"}),
    "assignee": ("Assignee", {"type": "user", "system": "assignee"}),
    "reporter": ("Reporter", {"type": "user", "system": "reporter"}),
    "status": ("Status", {"type": "status", "system": "status"}),
    "created": ("Created", {"type": "datetime", "system": "created"}),
    "updated": ("Updated", {"type": "datetime", "system": "updated"}),
    "customfield_10010": ("Meeting", {"type": "string", "custom": TEXT_FIELD, "customId": 10010}),
}
DEFAULT_SCREEN = ("project", "issuetype", "summary", "description", "duedate", "labels", "assignee", "reporter",
                  "customfield_10010")
REQUIRED = {"project", "issuetype", "summary"}
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class JiraError(Exception):
    """An error answered in Jira's shape."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, messages, errors)
        self.status, self.messages, self.errors, self.headers = status, messages or [], errors or {}, headers

    def response(self) -> JSONResponse:
        return JSONResponse({"errorMessages": self.messages, "errors": self.errors}, self.status, headers=self.headers)


class JiraRoute(APIRoute):
    """Answers a `JiraError` raised by an endpoint or a dependency in Jira's error shape."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except JiraError as exc:
                return exc.response()

        return run


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def server_of(request: Request) -> str:
    """The site URL the client used (``http://host:port/jira``): links in answers point back to it."""
    return str(request.url).split("/rest/")[0]


def adf_text(doc: dict) -> str:
    """The text of an ADF document, a line per block."""
    def text(node: dict) -> str:
        return node.get("text", "") + "".join(text(n) for n in node.get("content", []))
    return "\n".join(text(block) for block in doc.get("content", []))


def adf_doc(text: str) -> dict:
    """A plain string as an ADF document, a paragraph per line."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")]}


def is_adf(value: Any) -> bool:
    """Whether `value` is an ADF document: a `doc` of typed nodes whose text nodes carry text."""
    def node_ok(node: Any) -> bool:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            return False
        if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
            return False
        content = node.get("content", [])
        return isinstance(content, list) and all(node_ok(n) for n in content)
    return isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1 and node_ok(value)


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


JQL_CLAUSE = re.compile(r"""\s*(?P<field>\w+)\s*(?P<op>=|in\b)\s*
    (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?P<list>[^)]*)\)|[^\s()"']+)\s*(?P<more>and\b)?""",
                        re.I | re.X)


def parse_jql(jql: str) -> list[tuple[str, list[str]]]:
    """`field = value` / `field in (a, b)` clauses joined by AND, as (field, accepted values)."""
    query = re.split(r"\border\s+by\b", jql, maxsplit=1, flags=re.I)[0].strip()
    clauses, pos = [], 0
    while pos < len(query):
        m = JQL_CLAUSE.match(query, pos)
        if not m or (m.end() < len(query) and not m["more"]) or (m["more"] and m.end() == len(query)):
            raise JiraError(400, [f"Error in the JQL Query: the query '{jql}' is not understood near character "
                                  f"{pos + 1}."])
        values = [unquote(v.strip()) for v in m["list"].split(",")] if m["list"] is not None else [unquote(m["value"])]
        clauses.append((m["field"].lower(), values))
        pos = m.end()
    return clauses


class Vendor:
    """The Jira stand-in: its users, the project's create screen and the issues filed."""

    def __init__(self, people: list[Person]):
        bot = CREDENTIALS["jira"]["email"]
        self.users = [self._user(Person(name="Takeaway Bot", email=bot), 0)] + \
            [self._user(p, i) for i, p in enumerate(people, start=1) if p.email]
        self.bot = self.users[0]
        self.lock = threading.Lock()
        self.reset()
        self.router = APIRouter(route_class=JiraRoute)
        self.router.include_router(self._api(), prefix="/rest/api/{version}")
        self.router.add_api_route("/_sandbox/screen", self.set_screen, methods=["PUT"])

    @staticmethod
    def _user(person: Person, n: int) -> dict[str, str]:
        email = person.email or ""
        account = person.ids.get("jira") or f"712020:{uuid.uuid5(uuid.NAMESPACE_URL, 'jira:' + email)}"
        return {"accountId": account, "name": email.split("@")[0], "key": f"JIRAUSER{10100 + n}",
                "emailAddress": email, "displayName": person.name}

    def reset(self) -> None:
        with self.lock:
            self.issues: dict[str, dict[str, Any]] = {}
            self.screen: set[str] = set(DEFAULT_SCREEN)
            self.requests = 0

    def state(self) -> dict:
        with self.lock:
            return {"issues": list(self.issues.values()), "requests": self.requests, "screen": sorted(self.screen)}

    def set_screen(self, body: dict[str, list[str]]) -> dict:
        """Sets the fields on the project's create screen (project and issue type always stay)."""
        with self.lock:
            self.screen = set(body.get("fields", [])) | {"project", "issuetype"}
        return {"screen": sorted(self.screen)}

    # --- the REST API -------------------------------------------------------------------------------

    def _api(self) -> APIRouter:
        api = APIRouter(route_class=JiraRoute, dependencies=[Depends(self.authorize)])
        for method, path, endpoint in [
            ("GET", "/serverInfo", self.server_info), ("GET", "/myself", self.myself), ("GET", "/field", self.fields),
            ("GET", "/project/{key}", self.project),
            ("GET", "/issue/createmeta/{key}/issuetypes", self.createmeta_types),
            ("GET", "/issue/createmeta/{key}/issuetypes/{type_id}", self.createmeta_fields),
            ("GET", "/user/search", self.user_search),
            ("POST", "/issue", self.create_issue), ("GET", "/issue/{key}", self.get_issue),
            ("PUT", "/issue/{key}", self.edit_issue), ("GET", "/issue/{key}/transitions", self.transitions),
            ("POST", "/issue/{key}/transitions", self.transition),
            ("GET", "/search", self.search), ("POST", "/search", self.search),
            ("GET", "/search/jql", self.search_jql), ("POST", "/search/jql", self.search_jql),
        ]:
            api.add_api_route(path, endpoint, methods=[method])
        return api

    def authorize(self, request: Request, version: str) -> None:
        """Cloud (v3): basic auth email + API token; Data Center (v2): bearer personal access token."""
        if version not in ("2", "3"):
            raise JiraError(404, [f"No REST API version {version} here."])
        with self.lock:
            self.requests += 1
        creds = CREDENTIALS["jira"]
        expected = ("Basic " + base64.b64encode(f"{creds['email']}:{creds['token']}".encode()).decode()
                    if version == "3" else f"Bearer {creds['pat']}")
        given = request.headers.get("authorization")
        if given == expected or (given is None and request.url.path.endswith("/serverInfo")):
            return
        raise JiraError(401, ["Client must be authenticated to access this resource."],
                        headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})

    def server_info(self, request: Request, version: str) -> dict:
        cloud = version == "3"
        return {"baseUrl": server_of(request), "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.0",
                "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 0],
                "deploymentType": "Cloud" if cloud else "Server", "buildNumber": 100300 if cloud else 9120000,
                "serverTime": now(), "serverTitle": "Takeaway sandbox Jira"}

    def myself(self, request: Request, version: str) -> dict:
        return self.render_user(self.bot, version == "3", server_of(request))

    def fields(self) -> list[dict]:
        return [{"id": fid, "key": fid, "name": name, "custom": "custom" in schema, "orderable": True,
                 "navigable": True, "searchable": True, "clauseNames": [fid, name.lower()], "schema": schema}
                for fid, (name, schema) in FIELDS.items()]

    def project(self, request: Request, key: str, version: str) -> dict:
        server = server_of(request)
        return {**self.find_project(key), "self": f"{server}/rest/api/{version}/project/{PROJECT['id']}",
                "projectTypeKey": "software", "style": "classic", "simplified": False,
                "issueTypes": [self.render_type(t, server, version) for t in ISSUE_TYPES]}

    def createmeta_types(self, request: Request, key: str, version: str, startAt: int = 0,
                         maxResults: int = 50) -> dict:
        self.find_project(key)
        server = server_of(request)
        items = [self.render_type(t, server, version) for t in ISSUE_TYPES]
        return self.page(items, "issueTypes" if version == "3" else "values", startAt, maxResults, version)

    def createmeta_fields(self, key: str, type_id: str, version: str, startAt: int = 0, maxResults: int = 50) -> dict:
        self.find_project(key)
        if not any(t["id"] == type_id for t in ISSUE_TYPES):
            raise JiraError(404, [f"Issue type with id '{type_id}' does not exist or is not available."])
        with self.lock:
            screen = set(self.screen)
        items = [{"fieldId": fid, "key": fid, "name": name, "required": fid in REQUIRED, "schema": schema,
                  "hasDefaultValue": False, "operations": ["set"] if schema["type"] != "array" else ["add", "set"]}
                 for fid, (name, schema) in FIELDS.items() if fid in screen]
        return self.page(items, "fields" if version == "3" else "values", startAt, maxResults, version)

    def user_search(self, request: Request, version: str, query: str | None = None, username: str | None = None,
                    startAt: int = 0, maxResults: int = 50) -> list[dict]:
        cloud = version == "3"
        if cloud and username:
            raise JiraError(400, ["The query parameter 'username' is not supported in GDPR strict mode."])
        term = (query if cloud else username) or ""
        if not term:
            raise JiraError(400, ["The query parameter 'query' is required." if cloud
                                  else "The username query parameter was not provided"])
        term = term.lower()
        hits = [u for u in self.users if any(term in u[k].lower() for k in ("emailAddress", "displayName", "name"))]
        return [self.render_user(u, cloud, server_of(request)) for u in hits[startAt:startAt + maxResults]]

    async def create_issue(self, request: Request, version: str) -> JSONResponse:
        cloud, server = version == "3", server_of(request)
        fields = (await self.body(request)).get("fields")
        if not isinstance(fields, dict):
            raise JiraError(400, ["Can not deserialize the request: 'fields' must be an object."])
        with self.lock:
            checked = self.check(fields, cloud, self.screen, creating=True)
            n = len(self.issues) + 1
            issue = {"id": str(10000 + n), "key": f"{PROJECT['key']}-{n}", "api": version,
                     "fields": {"status": "To Do", "reporter": self.bot, "assignee": None, "labels": [],
                                "duedate": None, "description": None, "created": now(), "updated": now(),
                                **checked}}
            self.issues[issue["key"]] = issue
        return JSONResponse({"id": issue["id"], "key": issue["key"],
                             "self": f"{server}/rest/api/{version}/issue/{issue['id']}"}, 201)

    def get_issue(self, request: Request, key: str, version: str, fields: list[str] | None = Query(None)) -> dict:
        with self.lock:
            issue = self.find_issue(key)
            return self.render_issue(issue, version, server_of(request), self.wanted(fields, "*all"))

    async def edit_issue(self, request: Request, key: str, version: str) -> Response:
        body = await self.body(request)
        if body.get("update"):
            raise JiraError(400, ["The stand-in supports editing through 'fields' only."])
        with self.lock:
            issue = self.find_issue(key)
            issue["fields"].update(self.check(body.get("fields") or {}, version == "3", set(DEFAULT_SCREEN),
                                               creating=False))
            issue["fields"]["updated"] = now()
        return Response(status_code=204)

    def transitions(self, request: Request, key: str, version: str) -> dict:
        server = server_of(request)
        with self.lock:
            self.find_issue(key)
        return {"expand": "transitions", "transitions": [
            {"id": tid, "name": name, "hasScreen": False, "isGlobal": True, "isInitial": False,
             "isConditional": False, "to": self.render_status(name, server, version)}
            for tid, name in TRANSITIONS.items()]}

    async def transition(self, request: Request, key: str, version: str) -> Response:
        tid = str(((await self.body(request)).get("transition") or {}).get("id", ""))
        with self.lock:
            issue = self.find_issue(key)
            if tid not in TRANSITIONS:
                raise JiraError(400, [f"Transition id '{tid}' is not valid for this issue."])
            issue["fields"]["status"], issue["fields"]["updated"] = TRANSITIONS[tid], now()
        return Response(status_code=204)

    async def search(self, request: Request, version: str) -> dict:
        """Data Center's search (and Cloud's, which Atlassian removed: 410)."""
        if version == "3":
            raise JiraError(410, ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                  "API."])
        args = await self.search_args(request)
        start, size = int(args.get("startAt") or 0), int(args.get("maxResults") or 50)
        hits = self.run_jql(args.get("jql") or "")
        issues = [self.render_issue(i, version, server_of(request), self.wanted(args.get("fields"), "*all"))
                  for i in hits[start:start + size]]
        return {"expand": "names,schema", "startAt": start, "maxResults": size, "total": len(hits), "issues": issues}

    async def search_jql(self, request: Request, version: str) -> dict:
        """Cloud's enhanced search: pages by `nextPageToken`, no total."""
        if version != "3":
            raise JiraError(404, ["null for uri: /rest/api/2/search/jql"])
        args = await self.search_args(request)
        start, size = int(args.get("nextPageToken") or 0), int(args.get("maxResults") or 50)
        hits = self.run_jql(args.get("jql") or "")
        issues = [self.render_issue(i, version, server_of(request), self.wanted(args.get("fields"), "id"))
                  for i in hits[start:start + size]]
        more = start + size < len(hits)
        return {"issues": issues, "isLast": not more, **({"nextPageToken": str(start + size)} if more else {})}

    # --- checks -------------------------------------------------------------------------------------

    def check(self, fields: dict[str, Any], cloud: bool, screen: set[str], creating: bool) -> dict[str, Any]:
        """The fields as stored, or a 400 naming every field Jira would reject."""
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        if creating:
            for name in REQUIRED - set(fields):
                errors[name] = {"project": "Specify a valid project ID or key", "issuetype": "Specify an issue type",
                                "summary": "You must specify a summary of the issue."}[name]
        for name, value in fields.items():
            if name not in screen or name not in FIELDS:
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                continue
            try:
                out[name] = self.convert(name, value, cloud)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise JiraError(400, [], errors)
        return out

    def convert(self, name: str, value: Any, cloud: bool) -> Any:
        """One field's value as stored; ValueError with Jira's message if Jira rejects it."""
        if name == "project":
            ref = value if isinstance(value, dict) else {}
            if str(ref.get("id")) != PROJECT["id"] and ref.get("key") != PROJECT["key"]:
                raise ValueError("Specify a valid project ID or key")
            return PROJECT["key"]
        if name == "issuetype":
            ref = value if isinstance(value, dict) else {}
            hit = next((t for t in ISSUE_TYPES if str(ref.get("id")) == t["id"] or ref.get("name") == t["name"]), None)
            if hit is None:
                raise ValueError("Specify a valid issue type")
            return hit["name"]
        if name == "summary":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("You must specify a summary of the issue.")
            if len(value) > 255:
                raise ValueError("Summary must be less than 255 characters.")
            if "\n" in value or "\r" in value:
                raise ValueError("The summary is invalid because it contains newline characters.")
            return value
        if name == "description":
            if value is not None and cloud and not is_adf(value):
                raise ValueError(NOT_ADF)
            if value is not None and not cloud and not isinstance(value, str):
                raise ValueError("Operation value must be a string")
            return value
        if name == "duedate":
            if value is not None and not (isinstance(value, str) and DATE.fullmatch(value) and self.is_date(value)):
                raise ValueError(f"Error parsing date string: {value}")
            return value
        if name == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError("Operation value must be an array of strings")
            spaced = next((v for v in value if re.search(r"\s", v)), None)
            if spaced is not None:
                raise ValueError(f"The label '{spaced}' contains spaces which is invalid.")
            return value
        if name in ("assignee", "reporter"):
            return None if value is None else self.user_ref(value, cloud)
        if FIELDS[name][1].get("custom") == TEXT_FIELD:
            if not isinstance(value, str):
                raise ValueError("Operation value must be a string")
            if len(value) > 255:
                raise ValueError("The entered text is too long. It exceeds the allowed limit of 255 characters.")
        return value

    @staticmethod
    def is_date(value: str) -> bool:
        try:
            date.fromisoformat(value)
            return True
        except ValueError:
            return False

    def user_ref(self, value: Any, cloud: bool) -> dict[str, str]:
        """The user a `{"accountId": ...}` (Cloud) or `{"name": ...}` (Data Center) reference names."""
        ref = value if isinstance(value, dict) else {}
        if cloud:
            if set(ref) != {"accountId"}:
                raise ValueError("'accountId' must be the only user identifying property in GDPR strict mode.")
            hit = next((u for u in self.users if u["accountId"] == ref["accountId"]), None)
            if hit is None:
                raise ValueError("Specified user does not exist or you do not have required permissions")
            return hit
        if not isinstance(ref.get("name"), str):
            raise ValueError("expected Object containing a 'name' property")
        hit = next((u for u in self.users if u["name"] == ref["name"]), None)
        if hit is None:
            raise ValueError(f"User '{ref['name']}' does not exist.")
        return hit

    def run_jql(self, jql: str) -> list[dict]:
        """The issues matching `jql`, newest first."""
        tests = {"project": lambda i, v: i["fields"]["project"].lower() == v.lower() or v == PROJECT["id"],
                 "labels": lambda i, v: v in i["fields"]["labels"],
                 "key": lambda i, v: v.upper() in (i["key"], i["id"]),
                 "issuekey": lambda i, v: v.upper() in (i["key"], i["id"]),
                 "status": lambda i, v: i["fields"]["status"].lower() == v.lower(),
                 "statuscategory": lambda i, v: v.lower() in (
                     STATUSES[i["fields"]["status"]]["statusCategory"]["key"],
                     STATUSES[i["fields"]["status"]]["statusCategory"]["name"].lower())}
        clauses = parse_jql(jql)
        for field, values in clauses:
            if field not in tests:
                raise JiraError(400, [f"Field '{field}' does not exist or you do not have permission to view it."])
            bad = next((v for v in values if field == "project" and v.upper() not in (PROJECT["key"], PROJECT["id"])),
                       None)
            if bad is not None:
                raise JiraError(400, [f"The value '{bad}' does not exist for the field 'project'."])
        with self.lock:
            issues = list(self.issues.values())
        hits = [i for i in issues if all(any(tests[f](i, v) for v in vs) for f, vs in clauses)]
        return sorted(hits, key=lambda i: int(i["id"]), reverse=True)

    # --- helpers ------------------------------------------------------------------------------------

    @staticmethod
    async def body(request: Request) -> dict:
        try:
            data = await request.json()
        except ValueError:
            raise JiraError(400, ["Unexpected character: the request body is not JSON."]) from None
        if not isinstance(data, dict):
            raise JiraError(400, ["Can not deserialize the request: expected a JSON object."])
        return data

    async def search_args(self, request: Request) -> dict[str, Any]:
        """Search parameters from the query string (GET) or the JSON body (POST)."""
        if request.method == "POST":
            return await self.body(request)
        params = request.query_params
        return {**dict(params), "fields": params.getlist("fields") or None}

    @staticmethod
    def wanted(fields: list[str] | str | None, default: str) -> set[str] | None:
        """The field ids a `fields` parameter asks for; None: all of them."""
        names = [f.strip() for item in ([fields] if isinstance(fields, str) else fields or [default])
                 for f in item.split(",") if f.strip()]
        return None if {"*all", "*navigable"} & set(names) else set(names)

    def find_project(self, key: str) -> dict:
        if key.upper() not in (PROJECT["key"], PROJECT["id"]):
            raise JiraError(404, [f"No project could be found with key '{key}'."])
        return dict(PROJECT)

    def find_issue(self, key: str) -> dict:
        issue = self.issues.get(key.upper()) or next((i for i in self.issues.values() if i["id"] == key), None)
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    @staticmethod
    def page(items: list, key: str, start: int, size: int, version: str) -> dict:
        out = {key: items[start:start + size], "startAt": start, "maxResults": size, "total": len(items)}
        return out if version == "3" else {**out, "isLast": start + size >= len(items)}

    @staticmethod
    def render_type(issue_type: dict, server: str, version: str) -> dict:
        return {**issue_type, "self": f"{server}/rest/api/{version}/issuetype/{issue_type['id']}"}

    @staticmethod
    def render_status(name: str, server: str, version: str) -> dict:
        status = STATUSES[name]
        category = status["statusCategory"]
        return {**status, "self": f"{server}/rest/api/{version}/status/{status['id']}",
                "statusCategory": {**category, "self": f"{server}/rest/api/{version}/statuscategory/{category['id']}"}}

    @staticmethod
    def render_user(user: dict | None, cloud: bool, server: str) -> dict | None:
        """A user as Cloud (accountId, no user name) or Data Center (name and key) shows it."""
        if user is None:
            return None
        shown = {"emailAddress": user["emailAddress"], "displayName": user["displayName"], "active": True,
                 "timeZone": "UTC"}
        if cloud:
            return {"self": f"{server}/rest/api/3/user?accountId={user['accountId']}", "accountId": user["accountId"],
                    "accountType": "atlassian", **shown}
        return {"self": f"{server}/rest/api/2/user?username={user['name']}", "name": user["name"],
                "key": user["key"], **shown}

    def render_issue(self, issue: dict, version: str, server: str, wanted: set[str] | None) -> dict:
        """An issue as the REST API returns it, with the fields asked for."""
        cloud, stored = version == "3", issue["fields"]
        description = stored["description"]
        if isinstance(description, str) and cloud:
            description = adf_doc(description)
        elif isinstance(description, dict) and not cloud:
            description = adf_text(description)
        done = stored["status"] == "Done"
        fields = {**stored, "description": description,
                  "project": {**PROJECT, "self": f"{server}/rest/api/{version}/project/{PROJECT['id']}"},
                  "issuetype": self.render_type(next(t for t in ISSUE_TYPES if t["name"] == stored["issuetype"]),
                                                server, version),
                  "status": self.render_status(stored["status"], server, version),
                  "assignee": self.render_user(stored["assignee"], cloud, server),
                  "reporter": self.render_user(stored["reporter"], cloud, server),
                  "resolution": {"id": "10000", "name": "Done"} if done else None,
                  "resolutiondate": stored["updated"] if done else None}
        if wanted is not None:
            fields = {k: v for k, v in fields.items() if k in wanted}
        return {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                "id": issue["id"], "key": issue["key"], "self": f"{server}/rest/api/{version}/issue/{issue['id']}",
                "fields": fields}
