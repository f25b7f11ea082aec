"""The Slack Web API stand-in: ``POST|GET /slack/api/<method>`` (slack_sdk's base_url ``<sandbox>/slack/api/``).

One user per person of the directory (their ``ids.slack`` if set, else ``U0000000n``; ``profile.email``),
channels ``#general``, ``#launch-leads`` and ``#support``, a bot user and, for the user token, the team
lead. Documented behaviours checked (https://docs.slack.dev/reference/methods/<method>):

- Errors are HTTP 200 with ``{"ok": false, "error": "<code>"}``; rate limits are HTTP 429 with Retry-After and
  ``ratelimited`` (injected through the sandbox's faults). Unknown methods: ``unknown_method``.
- Arguments come as a query string, a form (``blocks`` then a JSON-encoded string) or a JSON body.
- Token: ``Authorization: Bearer`` or a ``token`` query/form argument; a JSON body must use the header (a
  ``token`` field in it is ignored). None: ``not_authed``; not one of `CREDENTIALS`: ``invalid_auth``.
  A missing required argument: ``invalid_arguments`` with ``response_metadata.messages``.
- auth.test: url, team, user, team_id, user_id, and bot_id for a bot token.
- users.lookupByEmail: the user whose profile.email matches (case-insensitive); else ``users_not_found``.
- conversations.open: ``users`` (1 to 8 comma-separated ids) opens a D... (one user) or G... (several)
  conversation, ``already_open`` on the second call; ``channel`` resumes one. Unknown user:
  ``user_not_found``; over 8: ``too_many_users``; neither argument: ``users_list_not_supplied``.
- chat.postMessage: ``channel`` is an id (C..., an opened D.../G...), a user id (the app's DM with them) or a
  name (``#launch-leads`` or ``launch-leads``); else ``channel_not_found``. Neither text nor blocks:
  ``no_text``; text over 40,000 characters: ``msg_too_long``; blocks not a JSON array:
  ``invalid_blocks_format``; blocks against the Block Kit reference: ``invalid_blocks`` with
  ``response_metadata.messages`` naming the JSON pointer, for: more than 50 blocks; an unknown block type;
  block_id over 255 characters or repeated; header text not plain_text or over 150; section without text
  or fields, text not mrkdwn/plain_text, empty or over 3,000, fields not 1 to 10 or one over 2,000;
  context elements not 1 to 10 text objects or images; actions elements not 1 to 25; image without
  image_url or alt_text (alt_text up to 2,000); markdown text empty or over 12,000.
- chat.scheduleMessage: the postMessage checks, and ``post_at`` (Unix time) not a number: ``invalid_time``;
  in the past: ``time_in_past``; more than 120 days ahead: ``time_too_far``. Returns
  ``scheduled_message_id`` (Q...). A message is posted once its time has come (on the next request).
- chat.deleteScheduledMessage: an id that is unknown, already posted, deleted or for another channel:
  ``invalid_scheduled_message_id``.
- chat.scheduledMessages.list: the pending messages (id, channel_id, post_at, date_created, text),
  filtered by channel, oldest and latest, with ``response_metadata.next_cursor``.
- reminders.add: user tokens only; a bot token gets ``not_allowed_token_type``. ``time``: a Unix time (up
  to five years ahead), seconds from now (up to 24 hours) or "in N minutes|hours|days|weeks"; otherwise
  ``cannot_parse``.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from takeaway.people import Person
from takeaway.sandbox import CREDENTIALS

TEAM_ID, TEAM = "T0SANDBOX", "Takeaway Sandbox"
BOT_USER, BOT_ID, BOT_NAME = "U0BOT0001", "B0BOT0001", "takeaway"
CHANNELS = {"C0GENERAL1": "general", "C0LAUNCH01": "launch-leads", "C0SUPPORT1": "support"}
MAX_TEXT = 40_000  # chat.postMessage: "Provide no more than 40,000 characters"
MAX_AHEAD = 120 * 86400  # chat.scheduleMessage: "up to 120 days into the future"
UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
TEXT_TYPES = ("plain_text", "mrkdwn")


class SlackError(Exception):
    """Answered as ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, code: str, **extra: Any):
        super().__init__(code)
        self.code, self.extra = code, extra


@dataclass
class Call:
    """One request: its arguments and who made it."""

    args: dict[str, Any]
    kind: str  # "bot" or "user"
    user: str  # the caller's user id
    now: float

    def need(self, name: str) -> Any:
        if self.args.get(name) in (None, ""):
            messages = [f"[ERROR] missing required field: {name}"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        return self.args[name]


# --- Block Kit checks: each returns problems as "<what> [json-pointer:<where>]" ------------------------------

def text_object(obj: Any, at: str, types: tuple[str, ...] = TEXT_TYPES, limit: int = 3000) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        return [f"must be a text object of type {' or '.join(types)} [json-pointer:{at}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{at}/text]"]
    return [f"must be less than {limit + 1} characters [json-pointer:{at}/text]"] if len(text) > limit else []


def elements(block: dict, at: str, most: int, check: Callable[[Any, str], list[str]]) -> list[str]:
    items = block.get("elements")
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        return [f"must have 1 to {most} items [json-pointer:{at}/elements]"]
    return [p for i, item in enumerate(items) for p in check(item, f"{at}/elements/{i}")]


def image(block: dict, at: str) -> list[str]:
    if not isinstance(block, dict) or not block.get("image_url") and not block.get("slack_file"):
        return [f"must provide image_url [json-pointer:{at}]"]
    alt = block.get("alt_text")
    ok = isinstance(alt, str) and 0 < len(alt) <= 2000
    return [] if ok else [f"alt_text must be 1 to 2000 characters [json-pointer:{at}/alt_text]"]


def section(block: dict, at: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"must provide text or fields [json-pointer:{at}]"]
    problems = text_object(block["text"], f"{at}/text") if "text" in block else []
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
            return [*problems, f"must have 1 to 10 items [json-pointer:{at}/fields]"]
        problems += [p for i, f in enumerate(fields) for p in text_object(f, f"{at}/fields/{i}", limit=2000)]
    return problems


BLOCKS: dict[str, Callable[[dict, str], list[str]]] = {
    "header": lambda b, at: text_object(b.get("text"), f"{at}/text", ("plain_text",), 150),
    "section": section,
    "divider": lambda b, at: [],
    "context": lambda b, at: elements(b, at, 10, lambda e, p: image(e, p) if isinstance(e, dict)
                                      and e.get("type") == "image" else text_object(e, p)),
    "actions": lambda b, at: elements(b, at, 25, lambda e, p: [] if isinstance(e, dict) and e.get("type")
                                      else [f"must be an element [json-pointer:{p}]"]),
    "image": image,
    "markdown": lambda b, at: [] if isinstance(b.get("text"), str) and 0 < len(b["text"]) <= 12000
    else [f"must be 1 to 12000 characters [json-pointer:{at}/text]"],
    "rich_text": lambda b, at: [] if isinstance(b.get("elements"), list)
    else [f"must provide elements [json-pointer:{at}/elements]"],
}


def block_problems(blocks: list) -> list[str]:
    """What Slack would reject in a message's blocks, as its ``[ERROR] ...`` messages; [] when valid."""
    if len(blocks) > 50:
        return ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    problems, seen = [], set()
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCKS:
            problems.append(f"unsupported type: {kind} [json-pointer:{at}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None and (not isinstance(block_id, str) or not 0 < len(block_id) <= 255 or block_id in seen):
            problems.append(f"block_id must be 1 to 255 characters and unique [json-pointer:{at}/block_id]")
        seen.add(block_id)
        problems += BLOCKS[kind](block, at)
    return [f"[ERROR] {p}" for p in problems]


class Vendor:
    """The Slack workspace: users, channels, messages, scheduled messages and reminders."""

    def __init__(self, people: list[Person]):
        self.people = people
        self.users = [self._user(p, i) for i, p in enumerate(people)]
        self.by_id = {u["id"]: u for u in self.users}
        owner = next((p for p in people if p.lead), people[0] if people else None)
        self.owner = self.users[people.index(owner)]["id"] if owner else "U0OWNER01"  # the user token's user
        self.methods: dict[str, Callable[[Call], dict]] = {
            "auth.test": self.auth_test, "users.lookupByEmail": self.lookup_by_email,
            "conversations.open": self.conversations_open, "chat.postMessage": self.post_message,
            "chat.scheduleMessage": self.schedule_message, "chat.deleteScheduledMessage": self.delete_scheduled,
            "chat.scheduledMessages.list": self.list_scheduled, "reminders.add": self.reminders_add,
        }
        self.router = APIRouter()
        self.router.add_api_route("/api/{method}", self.call, methods=["GET", "POST"])
        self.reset()

    @staticmethod
    def _user(person: Person, i: int) -> dict:
        name = (person.email or person.name).split("@")[0].lower().replace(" ", ".")
        return {"id": person.ids.get("slack") or f"U0{i + 1:07d}", "team_id": TEAM_ID, "name": name,
                "real_name": person.name, "deleted": False, "is_bot": False, "tz": "UTC",
                "profile": {"real_name": person.name, "display_name": person.name.split()[0], "email": person.email}}

    def reset(self) -> None:
        self.messages: list[dict] = []
        self.scheduled: dict[str, dict] = {}
        self.reminders: list[dict] = []
        self.conversations: dict[str, dict] = {}  # opened D... and G... conversations
        self.calls: list[str] = []
        self.seq = 0

    def state(self) -> dict:
        self._deliver_due(time.time())
        dms: dict[str, list[dict]] = {}
        for msg in self.messages:
            conv = self.conversations.get(msg["channel"], {})
            if conv.get("is_im"):
                dms.setdefault(conv["user"], []).append(msg)
        return {"users": [{"id": u["id"], "name": u["real_name"], "email": u["profile"]["email"]} for u in self.users],
                "channels": [{"id": cid, "name": name} for cid, name in CHANNELS.items()],
                "messages": self.messages, "dms": dms, "scheduled": list(self.scheduled.values()),
                "reminders": self.reminders, "calls": self.calls}

    # --- the HTTP side ----------------------------------------------------------------------------------------

    async def call(self, method: str, request: Request) -> JSONResponse:
        """Any Web API method: parse arguments and token, run it, answer Slack's envelope."""
        self.calls.append(method)
        try:
            args, token = await self._args(request)
            kind = self._auth(request, token)
            now = time.time()
            self._deliver_due(now)
            if method not in self.methods:
                raise SlackError("unknown_method", req_method=method)
            caller = BOT_USER if kind == "bot" else self.owner
            body = {"ok": True, **self.methods[method](Call(args, kind, caller, now))}
        except SlackError as exc:
            body = {"ok": False, "error": exc.code, **exc.extra}
        return JSONResponse(body)

    @staticmethod
    async def _args(request: Request) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query_params)
        token = args.pop("token", None)
        body = await request.body()
        if body and request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(data, dict):
                raise SlackError("json_not_object")
            data.pop("token", None)  # JSON bodies carry the token in the Authorization header only
            args.update(data)
        elif body:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            token = form.pop("token", token)
            args.update(form)
        return args, token

    @staticmethod
    def _auth(request: Request, token: str | None) -> str:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else token
        if not token:
            raise SlackError("not_authed")
        kinds = {CREDENTIALS["slack"]["bot_token"]: "bot", CREDENTIALS["slack"]["user_token"]: "user"}
        if token not in kinds:
            raise SlackError("invalid_auth")
        return kinds[token]

    # --- helpers ----------------------------------------------------------------------------------------------

    def _channel(self, ref: str) -> str:
        """The conversation id for an id, a user id (the app's DM) or a channel name; else channel_not_found."""
        names = {name: cid for cid, name in CHANNELS.items()}
        if ref in CHANNELS or ref in self.conversations:
            return ref
        if ref.lstrip("#") in names:
            return names[ref.lstrip("#")]
        if ref in self.by_id:
            return self._open([ref])[0]["id"]
        raise SlackError("channel_not_found")

    def _open(self, users: list[str]) -> tuple[dict, bool]:
        cid = "D" + users[0][1:] if len(users) == 1 else f"G{zlib.crc32(','.join(sorted(users)).encode()):08X}"
        already = cid in self.conversations
        conv = self.conversations.setdefault(cid, {"id": cid, "is_im": len(users) == 1, "is_mpim": len(users) > 1,
                                                   "user": users[0], "members": users})
        return conv, already

    @staticmethod
    def _content(args: dict[str, Any]) -> tuple[str, list]:
        text, blocks = args.get("text") or "", args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        if blocks is not None and not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        problems = block_problems(blocks or [])
        if problems:
            raise SlackError("invalid_blocks", response_metadata={"messages": problems})
        return text, blocks or []

    def _post(self, channel: str, text: str, blocks: list, user: str, now: float) -> dict:
        self.seq += 1
        msg = {"type": "message", "channel": channel, "ts": f"{int(now)}.{self.seq:06d}", "text": text,
               "blocks": blocks, "user": user, "team": TEAM_ID}
        if user == BOT_USER:
            msg.update(bot_id=BOT_ID, subtype="bot_message")
        self.messages.append(msg)
        return msg

    def _deliver_due(self, now: float) -> None:
        for sid, item in list(self.scheduled.items()):
            if item["post_at"] <= now:
                del self.scheduled[sid]
                self._post(item["channel_id"], item["text"], item["blocks"], item["user"], now)

    # --- methods ----------------------------------------------------------------------------------------------

    def auth_test(self, call: Call) -> dict:
        user = BOT_NAME if call.kind == "bot" else self.by_id.get(call.user, {}).get("name", "owner")
        return {"url": "https://takeaway-sandbox.slack.com/", "team": TEAM, "user": user, "team_id": TEAM_ID,
                "user_id": call.user, **({"bot_id": BOT_ID} if call.kind == "bot" else {})}

    def lookup_by_email(self, call: Call) -> dict:
        email = str(call.need("email")).lower()
        user = next((u for u in self.users if (u["profile"]["email"] or "").lower() == email), None)
        if user is None:
            raise SlackError("users_not_found")
        return {"user": user}

    def conversations_open(self, call: Call) -> dict:
        if call.args.get("channel"):
            if call.args["channel"] not in self.conversations:
                raise SlackError("channel_not_found")
            return {"no_op": True, "already_open": True, "channel": {"id": call.args["channel"]}}
        users = [u.strip() for u in str(call.args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        if any(u not in self.by_id for u in users):
            raise SlackError("user_not_found")
        conv, already = self._open(users)
        full = str(call.args.get("return_im", "")).lower() in ("1", "true")
        return {"no_op": already, "already_open": already, "channel": conv if full else {"id": conv["id"]}}

    def post_message(self, call: Call) -> dict:
        channel = self._channel(str(call.need("channel")))
        msg = self._post(channel, *self._content(call.args), call.user, call.now)
        return {"channel": channel, "ts": msg["ts"], "message": msg}

    def schedule_message(self, call: Call) -> dict:
        channel = self._channel(str(call.need("channel")))
        text, blocks = self._content(call.args)
        try:
            post_at = int(float(call.need("post_at")))
        except (TypeError, ValueError):
            raise SlackError("invalid_time") from None
        if post_at <= call.now:
            raise SlackError("time_in_past")
        if post_at > call.now + MAX_AHEAD:
            raise SlackError("time_too_far")
        self.seq += 1
        sid = f"Q{self.seq:09d}"
        self.scheduled[sid] = {"id": sid, "channel_id": channel, "post_at": post_at, "date_created": int(call.now),
                               "text": text, "blocks": blocks, "user": call.user}
        return {"channel": channel, "scheduled_message_id": sid, "post_at": post_at,
                "message": {"type": "message", "text": text, "blocks": blocks, "user": call.user}}

    def delete_scheduled(self, call: Call) -> dict:
        channel = self._channel(str(call.need("channel")))
        item = self.scheduled.get(str(call.need("scheduled_message_id")))
        if item is None or item["channel_id"] != channel:
            raise SlackError("invalid_scheduled_message_id")
        del self.scheduled[item["id"]]
        return {}

    def list_scheduled(self, call: Call) -> dict:
        channel = self._channel(str(call.args["channel"])) if call.args.get("channel") else None
        oldest, latest = float(call.args.get("oldest") or 0), float(call.args.get("latest") or "inf")
        items = sorted((m for m in self.scheduled.values() if channel in (None, m["channel_id"])
                        and oldest <= m["post_at"] <= latest), key=lambda m: m["post_at"])
        fields = ("id", "channel_id", "post_at", "date_created", "text")
        limit = int(call.args.get("limit") or 100)
        return {"scheduled_messages": [{k: m[k] for k in fields} for m in items[:limit]],
                "response_metadata": {"next_cursor": ""}}

    def reminders_add(self, call: Call) -> dict:
        if call.kind != "user":
            raise SlackError("not_allowed_token_type")
        text, when = str(call.need("text")), str(call.need("time")).strip().lower()
        now = int(call.now)
        if re.fullmatch(r"\d+(\.\d+)?", when):
            at = int(float(when))
            at = now + at if at <= 86400 else at  # seconds from now when within 24 hours, else a Unix time
        elif match := re.fullmatch(r"in (\d+) (minute|hour|day|week)s?", when):
            at = now + int(match[1]) * UNITS[match[2]]
        else:
            raise SlackError("cannot_parse")
        if at > now + 5 * 365 * 86400:
            raise SlackError("cannot_parse")
        self.seq += 1
        reminder = {"id": f"Rm{self.seq:08d}", "creator": call.user, "user": call.user, "text": text,
                    "recurring": False, "time": at, "complete_ts": 0}
        self.reminders.append(reminder)
        return {"reminder": reminder}
