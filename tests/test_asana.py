"""The Asana connector over real HTTP, with the official `asana` client, against the sandbox's stand-in."""

from datetime import date

import asana
import pytest
from asana.rest import ApiException

from takeaway.connectors.asana import AsanaTracker, tracker_error
from takeaway.connectors.base import Ticket, TrackerError
from takeaway.connectors.retry import with_retry
from takeaway.people import Directory, Person
from takeaway.sandbox import CREDENTIALS
from takeaway.sandbox.asana import PROJECT_GID, WORKSPACE_GID
from takeaway.settings import AsanaSettings
from tests.conftest import FIXTURES

PEOPLE = Directory.load(FIXTURES / "people.yaml")
QUOTE = "I'll send the revised budget to finance by Friday."


def settings(sandbox, **kw) -> AsanaSettings:
    values = {"url": f"{sandbox.url}/asana/api/1.0", "token": CREDENTIALS["asana"]["token"],
              "workspace": WORKSPACE_GID, "project": PROJECT_GID, **kw}
    return AsanaSettings(**values)


def ticket(key: str = "m1-3", owner: str | None = "Maria", **kw) -> Ticket:
    values = {"key": key, "summary": "Send the revised budget to finance", "quote": QUOTE,
              "description": f'Send the revised budget to finance.\n\nMaria at 00:03:12: "{QUOTE}"',
              "owner": PEOPLE.find(owner), "owner_name": owner, "due_date": date(2025, 3, 14),
              "meeting_start": "2025-03-10T10:00:00-08:00", **kw}
    return Ticket(**values)


def client(sandbox, token: str = CREDENTIALS["asana"]["token"]) -> asana.TasksApi:
    """The official client, pointed at the sandbox, with its own retries off."""
    config = asana.Configuration()
    config.host, config.access_token, config.retry_strategy = f"{sandbox.url}/asana/api/1.0", token, False
    return asana.TasksApi(asana.ApiClient(config))


def tasks(sandbox) -> list[dict]:
    return sandbox.state("asana")["tasks"]


def test_create_files_the_task(sandbox):
    made = AsanaTracker(settings(sandbox), PEOPLE).create(ticket())
    [task] = tasks(sandbox)
    assert made.external_id == task["gid"] and made.url == task["permalink_url"]
    assert task["name"] == "Send the revised budget to finance"
    assert QUOTE in task["notes"] and task["notes"].splitlines()[-1] == "takeaway-m1-3"
    assert task["assignee"]["gid"] == sandbox.state("asana")["users"]["maria.garcia@example.com"]
    assert task["due_on"] == "2025-03-14" and task["due_at"] is None and task["start_on"] is None
    assert [p["gid"] for p in task["projects"]] == [PROJECT_GID] and task["workspace"]["gid"] == WORKSPACE_GID
    assert made.due_date == date(2025, 3, 14) and not made.done


def test_due_time_sends_due_at_in_the_meeting_zone(sandbox):
    tracker = AsanaTracker(settings(sandbox, due_time="17:00"), PEOPLE)
    made = tracker.create(ticket())
    [task] = tasks(sandbox)
    assert task["due_at"] == "2025-03-15T01:00:00.000Z"  # 17:00 at UTC-8
    assert task["due_on"] == "2025-03-14" and made.due_date == date(2025, 3, 14)


def test_find_by_key(sandbox):
    tracker = AsanaTracker(settings(sandbox), PEOPLE)
    assert tracker.find("m1-3") is None
    made = tracker.create(ticket())
    tracker.create(ticket(key="m1-30"))
    assert tracker.find("m1-3") == made
    assert tracker.find("m1") is None


def test_find_pages_through_the_project(sandbox):
    api = client(sandbox)
    for i in range(101):
        api.create_task({"data": {"name": f"filler {i}", "projects": [PROJECT_GID]}}, {})
    tracker = AsanaTracker(settings(sandbox), PEOPLE)
    made = tracker.create(ticket())
    assert tracker.find("m1-3") == made


def test_get_sees_completion_and_moved_due_date(sandbox):
    tracker = AsanaTracker(settings(sandbox), PEOPLE)
    gid = tracker.create(ticket()).external_id
    client(sandbox).update_task({"data": {"completed": True, "due_on": "2025-04-01"}}, gid, {})
    now = tracker.get(gid)
    assert now.done and now.due_date == date(2025, 4, 1)
    with pytest.raises(TrackerError, match="404"):
        tracker.get("999")


def test_owner_unknown_to_the_directory_or_asana_is_unassigned(sandbox):
    tracker = AsanaTracker(settings(sandbox), PEOPLE)
    tracker.create(ticket(key="a", owner=None))
    tracker.create(ticket(key="b", owner=None).model_copy(
        update={"owner": Person(name="Zed Quill", email="zed@elsewhere.example")}))
    assert [t["assignee"] for t in tasks(sandbox)] == [None, None]


def test_directory_id_is_used_and_lookups_are_cached(sandbox):
    users = sandbox.state("asana")["users"]
    tracker = AsanaTracker(settings(sandbox), PEOPLE)
    sandbox.fault(vendor="asana", path="/users/", status=500, after=1, times=5)  # only one lookup may pass
    tracker.create(ticket(key="a"))
    tracker.create(ticket(key="b"))
    anna = PEOPLE.find("Anna").model_copy(update={"ids": {"asana": users["anna.berg@example.com"]}})
    tracker.create(ticket(key="c").model_copy(update={"owner": anna}))
    assert [t["assignee"]["gid"] for t in tasks(sandbox)] == [users["maria.garcia@example.com"]] * 2 + \
        [users["anna.berg@example.com"]]


@pytest.mark.parametrize("data, field", [
    ({"start_on": "2025-03-10"}, "start_on"),
    ({"due_on": "2025-03-14", "due_at": "2025-03-14T17:00:00Z"}, "due_on"),
    ({"due_on": "14/03/2025"}, "due_on"),
    ({"due_on": "2025-02-30"}, "due_on"),
    ({"due_at": "2025-03-14"}, "due_at"),
    ({"due_on": "2025-03-14", "start_on": "2025-03-14"}, "start_on"),
    ({"assignee": "nobody@example.com"}, "assignee"),
    ({"priority": "high"}, "priority"),
    ({"name": 5}, "name"),
])
def test_server_rejects_what_asana_rejects(sandbox, data, field):
    with pytest.raises(ApiException) as caught:
        client(sandbox).create_task({"data": {"name": "x", "projects": [PROJECT_GID], **data}}, {})
    assert caught.value.status == 400
    error = tracker_error(caught.value)
    assert error.field == field and f"field '{field}'" in str(error) and not error.retryable
    assert tasks(sandbox) == []


def test_server_needs_a_workspace_or_project(sandbox):
    with pytest.raises(ApiException) as caught:
        client(sandbox).create_task({"data": {"name": "x"}}, {})
    assert b"workspace: Missing input" in caught.value.body


def test_rejections_through_the_tracker_name_the_field(sandbox):
    with pytest.raises(TrackerError) as caught:
        AsanaTracker(settings(sandbox, project="42"), PEOPLE).create(ticket())
    assert caught.value.status == 400 and caught.value.field == "projects"
    maria = PEOPLE.find("Maria").model_copy(update={"ids": {"asana": "nobody"}})
    with pytest.raises(TrackerError, match="field 'assignee'"):
        AsanaTracker(settings(sandbox), PEOPLE).create(ticket().model_copy(update={"owner": maria}))


def test_wrong_token_is_401(sandbox):
    with pytest.raises(ApiException) as caught:
        client(sandbox, token="nope").get_task("1", {})
    assert caught.value.status == 401 and b'"Not Authorized"' in caught.value.body
    with pytest.raises(TrackerError) as error:
        AsanaTracker(settings(sandbox, token="nope"), PEOPLE).find("m1-3")
    assert "Asana personal access token was rejected (401)" in str(error.value) and not error.value.retryable


def test_missing_settings_are_named():
    with pytest.raises(TrackerError, match="asana.token, asana.workspace, asana.project"):
        AsanaTracker(AsanaSettings(), PEOPLE)


def test_rate_limit_and_server_errors_are_retried_into_one_task(sandbox):
    sandbox.fault(vendor="asana", method="POST", path="/tasks", status=429, retry_after=3)
    sandbox.fault(vendor="asana", method="POST", path="/tasks", status=503, times=2)
    tracker, waits = AsanaTracker(settings(sandbox), PEOPLE), []
    made = with_retry(lambda: tracker.create(ticket()), sleep=waits.append)
    assert waits == [3.0, 1.0, 2.0]
    assert [t["gid"] for t in tasks(sandbox)] == [made.external_id]


def test_lost_reply_then_find_before_create_makes_one_task(sandbox):
    sandbox.fault(vendor="asana", method="POST", path="/tasks", status=504, commit=True)
    tracker, waits, item = AsanaTracker(settings(sandbox), PEOPLE), [], ticket()
    made = with_retry(lambda: tracker.find(item.key) or tracker.create(item), sleep=waits.append)
    assert len(waits) == 1
    assert [t["gid"] for t in tasks(sandbox)] == [made.external_id]


def test_no_answer_is_retryable():
    tracker = AsanaTracker(AsanaSettings(url="http://127.0.0.1:9/api/1.0", token="t", workspace="1", project="2"),
                           PEOPLE)
    with pytest.raises(TrackerError, match="no answer") as caught:
        tracker.find("m1-3")
    assert caught.value.retryable
