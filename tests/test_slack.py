"""The Slack notifier over real HTTP with slack_sdk, against the sandbox's Slack stand-in."""

import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from takeaway.connectors.base import Notice, NoticeLine, TrackerError
from takeaway.connectors.slack import SlackNotifier, slack_error
from takeaway.people import Directory, Person
from takeaway.sandbox import CREDENTIALS
from takeaway.settings import SlackSettings

PEOPLE = Directory.load(Path(__file__).resolve().parent.parent / "fixtures" / "people.yaml")
BOT, USER = CREDENTIALS["slack"]["bot_token"], CREDENTIALS["slack"]["user_token"]
MARIA = PEOPLE.find("Maria")
LINE = NoticeLine(task="Send the launch checklist to legal", owner="Maria Garcia", due_date=date(2025, 3, 14),
                  quote="I'll send the checklist to legal by Friday", url="https://jira.example.com/browse/OPS-12",
                  external_id="OPS-12")


def notifier(sandbox, token: str = BOT, sleeps: list[float] | None = None) -> SlackNotifier:
    """A notifier on the sandbox whose waits are recorded in `sleeps` instead of slept."""
    settings = SlackSettings(url=f"{sandbox.url}/slack/api/", token=token, lead_channel="#launch-leads")
    return SlackNotifier(settings, PEOPLE, sleep=(sleeps if sleeps is not None else []).append)


def client(sandbox, token: str | None = BOT) -> WebClient:
    return WebClient(token=token, base_url=f"{sandbox.url}/slack/api/")


def user_id(sandbox, email: str) -> str:
    return next(u["id"] for u in sandbox.state("slack")["users"] if u["email"] == email)


def texts(message: dict) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if "text" in b)


def test_dm_by_email_carries_task_due_date_quote_and_link(sandbox):
    slack = notifier(sandbox)
    notice = Notice(kind="assigned", to=MARIA, headline="New action item from Launch sync", lines=[LINE])
    slack.send(notice)
    slack.send(notice.model_copy(update={"kind": "before", "headline": "Due tomorrow"}))

    state = sandbox.state("slack")
    [first, second] = state["dms"][user_id(sandbox, MARIA.email)]
    assert first["channel"].startswith("D") and first["bot_id"]
    assert first["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                                             "text": "New action item from Launch sync"}}
    body = texts(first)
    assert "*Send the launch checklist to legal*" in body and "Owner: Maria Garcia" in body
    assert "2025-03-14" in body and "> I'll send the checklist to legal by Friday" in body
    assert "<https://jira.example.com/browse/OPS-12|OPS-12>" in body
    assert first["text"].startswith("New action item from Launch sync: Send the launch checklist")
    assert second["blocks"][0]["text"]["text"] == "Due tomorrow"
    # the email lookup and the DM are cached for the process
    assert state["calls"].count("users.lookupByEmail") == 1 and state["calls"].count("conversations.open") == 1


def test_slack_id_in_directory_skips_the_lookup(sandbox):
    uid = user_id(sandbox, "david.okafor@example.com")
    notifier(sandbox).send(Notice(kind="due", to=Person(name="David Okafor", ids={"slack": uid}), headline="Due today",
                                  lines=[LINE]))
    state = sandbox.state("slack")
    assert "users.lookupByEmail" not in state["calls"] and len(state["dms"][uid]) == 1


def test_digest_goes_to_the_lead_channel_within_block_limits(sandbox):
    slack = notifier(sandbox)
    lines = [LINE.model_copy(update={"task": f"Task {i} <b> & co", "url": None, "external_id": f"OPS-{i}"})
             for i in range(3)]
    slack.send(Notice(kind="digest", headline="Launch sync: 3 action items", lines=lines))
    slack.send(Notice(kind="digest", headline="x" * 300, lines=[LINE] * 60))  # over the header and block limits

    launch = next(c["id"] for c in sandbox.state("slack")["channels"] if c["name"] == "launch-leads")
    small, big = sandbox.state("slack")["messages"]
    assert small["channel"] == big["channel"] == launch
    assert len(small["blocks"]) == 4 and "*Task 1 &lt;b&gt; &amp; co*" in texts(small)
    assert "Tracker: `OPS-2`" in texts(small)
    assert len(big["blocks"]) == 50 and big["blocks"][-1]["type"] == "context"
    assert len(big["blocks"][0]["text"]["text"]) == 150


def test_unknown_email_is_a_clear_error(sandbox):
    stranger = Person(name="Zoe Stranger", email="zoe@elsewhere.example")
    with pytest.raises(TrackerError, match=r"no Slack user has the email zoe@elsewhere\.example") as err:
        notifier(sandbox).send(Notice(kind="assigned", to=stranger, headline="New item", lines=[LINE]))
    assert not err.value.retryable and err.value.code == "users_not_found"
    assert sandbox.state("slack")["messages"] == []


@pytest.mark.parametrize(("args", "error", "pointer"), [
    ({"blocks": [{"type": "section", "text": {"type": "markdown", "text": "hi"}}]}, "invalid_blocks", "/blocks/0/text"),
    ({"blocks": [{"type": "section"}]}, "invalid_blocks", "/blocks/0"),
    ({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "*hi*"}}]}, "invalid_blocks", "/blocks/0/text"),
    ({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}, "invalid_blocks",
     "/blocks/0/text/text"),
    ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}]}, "invalid_blocks",
     "/blocks/0/text/text"),
    ({"blocks": [{"type": "divider"}] * 51}, "invalid_blocks", "/blocks"),
    ({"blocks": [{"type": "carousel"}]}, "invalid_blocks", "/blocks/0/type"),
    ({"blocks": [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}]}, "invalid_blocks",
     "/blocks/1/block_id"),
    ({"blocks": "not json"}, "invalid_blocks_format", None),
    ({"text": None}, "no_text", None),
    ({"text": "x" * 40_001}, "msg_too_long", None),
    ({"channel": "#nowhere"}, "channel_not_found", None),
])
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_server_rejects_what_slack_rejects(sandbox, args, error, pointer):
    with pytest.raises(SlackApiError) as err:
        client(sandbox).chat_postMessage(**{"channel": "#launch-leads", "text": "fallback", **args})
    assert err.value.response.status_code == 200 and err.value.response["error"] == error
    if pointer:
        assert any(f"[json-pointer:{pointer}]" in m for m in err.value.response["response_metadata"]["messages"])
    assert sandbox.state("slack")["messages"] == []


def test_reminders_add_needs_a_user_token(sandbox):
    with pytest.raises(SlackApiError) as err:
        client(sandbox, BOT).reminders_add(text="Send the checklist", time="in 15 minutes")
    assert err.value.response["error"] == "not_allowed_token_type"
    reminder = client(sandbox, USER).reminders_add(text="Send the checklist", time="in 15 minutes")["reminder"]
    assert reminder["text"] == "Send the checklist" and abs(reminder["time"] - time.time() - 900) < 5
    with pytest.raises(SlackApiError, match="cannot_parse"):
        client(sandbox, USER).reminders_add(text="x", time="whenever")


def test_schedule_refuses_past_and_far_times(sandbox):
    slack, notice = notifier(sandbox), Notice(kind="due", to=MARIA, headline="Due today", lines=[LINE])
    with pytest.raises(TrackerError, match="time_in_past") as err:
        slack.schedule(notice, datetime.now() - timedelta(hours=1))
    assert not err.value.retryable
    with pytest.raises(TrackerError, match="time_too_far"):
        slack.schedule(notice, datetime.now() + timedelta(days=121))
    assert sandbox.state("slack")["scheduled"] == []


def test_schedule_list_cancel_and_delivery(sandbox):
    slack, web = notifier(sandbox), client(sandbox)
    notice = Notice(kind="before", to=MARIA, headline="Due tomorrow", lines=[LINE])
    sid = slack.schedule(notice, datetime.now() + timedelta(days=1))
    channel = slack.channel_for(MARIA)
    [listed] = web.chat_scheduledMessages_list(channel=channel)["scheduled_messages"]
    assert listed["id"] == sid and listed["channel_id"] == channel and listed["text"].startswith("Due tomorrow")

    slack.cancel(channel, sid)
    assert web.chat_scheduledMessages_list()["scheduled_messages"] == []
    with pytest.raises(TrackerError, match="invalid_scheduled_message_id"):
        slack.cancel(channel, sid)

    slack.schedule(notice, datetime.now() + timedelta(seconds=1.5))  # Slack posts it when its time comes
    time.sleep(2)
    state = sandbox.state("slack")
    assert state["scheduled"] == [] and state["dms"][user_id(sandbox, MARIA.email)][0]["text"].startswith("Due")


def test_tokens_rejected_and_accepted(sandbox):
    with pytest.raises(TrackerError, match="Slack bot token rejected") as err:
        notifier(sandbox, token="xoxb-not-a-real-token").send(Notice(kind="digest", headline="Digest", lines=[LINE]))
    assert err.value.status == 401 and not err.value.retryable
    with pytest.raises(SlackApiError, match="not_authed"):
        client(sandbox, None).auth_test()
    assert client(sandbox, BOT).auth_test()["bot_id"] and "bot_id" not in client(sandbox, USER).auth_test().data
    url = f"{sandbox.url}/slack/api/auth.test"
    assert httpx.post(url, data={"token": BOT}).json()["ok"]  # a form field may carry the token ...
    assert httpx.post(url, json={"token": BOT}).json() == {"ok": False, "error": "not_authed"}  # ... a JSON body not


def test_rate_limit_and_server_errors_are_retried(sandbox):
    sleeps: list[float] = []
    sandbox.fault(vendor="slack", path="chat.postMessage", status=429, retry_after=2, times=1)
    sandbox.fault(vendor="slack", path="chat.postMessage", status=503, times=1)  # the next try
    notifier(sandbox, sleeps=sleeps).send(Notice(kind="digest", headline="Digest", lines=[LINE]))
    assert sleeps == [2.0, 1.0]  # Retry-After honoured, then exponential backoff for the 503
    assert len(sandbox.state("slack")["messages"]) == 1


def test_missing_scope_names_the_scope():
    data = {"ok": False, "error": "missing_scope", "needed": "users:read.email"}
    response = SlackResponse(client=None, http_verb="GET", api_url="users.lookupByEmail", req_args={}, headers={},
                             status_code=200, data=data)
    error = slack_error(SlackApiError("failed", response), "users.lookupByEmail")
    assert "users:read.email" in str(error) and not error.retryable
