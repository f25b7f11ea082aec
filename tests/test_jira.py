"""The Jira connector against the Jira stand-in, over HTTP with the official `jira` client."""

import socket
from datetime import date

import httpx
import pytest
from jira import JIRA, JIRAError

from conftest import FIXTURES
from takeaway.connectors.base import Ticket, TrackerError
from takeaway.connectors.jira import JiraTracker
from takeaway.connectors.retry import with_retry
from takeaway.people import Directory, Person
from takeaway.sandbox import CREDENTIALS
from takeaway.settings import JiraSettings

PEOPLE = Directory.load(FIXTURES / "people.yaml")
CREDS = CREDENTIALS["jira"]
QUOTE = "I'll send the revised budget to finance by Friday."
MINUTES = "https://minutes.example.com/m/weekly-2025-03-10"


def settings(sandbox, cloud: bool = True, **kw) -> JiraSettings:
    auth = {"email": CREDS["email"], "token": CREDS["token"]} if cloud else {"token": CREDS["pat"]}
    return JiraSettings(url=f"{sandbox.url}/jira", cloud=cloud, **{**auth, **kw})


def tracker(sandbox, cloud: bool = True, **kw) -> JiraTracker:
    return JiraTracker(settings(sandbox, cloud, **kw), PEOPLE)


def client(sandbox, cloud: bool = True) -> JIRA:
    """The official client as an admin would use it, to act on issues or send what the connector won't."""
    auth = {"basic_auth": (CREDS["email"], CREDS["token"])} if cloud else {"token_auth": CREDS["pat"]}
    return JIRA(f"{sandbox.url}/jira", options={"rest_api_version": "3" if cloud else "2"}, max_retries=0, **auth)


def ticket(key: str = "a1b2c3", owner: str | None = "Sarah Chen", due: date | None = date(2025, 3, 14),
           **kw) -> Ticket:
    fields = dict(key=key, summary="Send the revised budget to finance", quote=QUOTE, speaker="Sarah Chen",
                  description=f"Send the revised budget to finance.\n\"{QUOTE}\" (Sarah Chen, 00:03:12)",
                  said_at="00:03:12", meeting_title="Weekly sync", meeting_start="2025-03-10T09:00:00+01:00",
                  minutes_url=MINUTES, owner=PEOPLE.find(owner) if owner else None, owner_name=owner, due_date=due)
    return Ticket(**{**fields, **kw})


def issues(sandbox) -> list[dict]:
    return sandbox.state("jira")["issues"]


def test_cloud_create_sends_adf_account_id_due_date_labels(sandbox):
    task = tracker(sandbox, custom_fields={"customfield_10010": "Weekly sync"}).create(ticket())
    assert task.external_id == "OPS-1" and task.url == f"{sandbox.url}/jira/browse/OPS-1"
    assert task.due_date == date(2025, 3, 14) and task.note is None
    [stored] = issues(sandbox)
    fields = stored["fields"]
    assert stored["api"] == "3" and fields["summary"] == "Send the revised budget to finance"
    assert fields["duedate"] == "2025-03-14" and fields["labels"] == ["takeaway", "takeaway-a1b2c3"]
    assert fields["assignee"]["emailAddress"] == "sarah.chen@example.com"
    assert fields["customfield_10010"] == "Weekly sync"
    doc = fields["description"]
    assert doc["type"] == "doc"
    quote = next(block for block in doc["content"] if block["type"] == "blockquote")
    assert quote["content"][0]["content"][0]["text"] == QUOTE
    links = [mark["attrs"]["href"] for block in doc["content"] for node in block.get("content", [])
             for mark in node.get("marks", [])]
    assert links == [MINUTES]
    assert any("Sarah Chen, at 00:03:12" in node.get("text", "") for block in doc["content"]
               for node in block.get("content", []))
    # what Jira Cloud answers about it: the assignee by accountId, never by user name
    issue = client(sandbox).issue("OPS-1")
    assert issue.fields.assignee.accountId == fields["assignee"]["accountId"]
    assert not hasattr(issue.fields.assignee, "name")


def test_data_center_create_sends_wiki_text_and_user_name(sandbox):
    task = tracker(sandbox, cloud=False).create(ticket(owner="David Okafor"))
    [stored] = issues(sandbox)
    assert task.external_id == "OPS-1" and stored["api"] == "2"
    assert stored["fields"]["assignee"]["name"] == "david.okafor"
    description = stored["fields"]["description"]
    assert isinstance(description, str) and f"{{quote}}{QUOTE}{{quote}}" in description
    assert f"[Minutes|{MINUTES}]" in description
    assert client(sandbox, cloud=False).issue("OPS-1").fields.assignee.name == "david.okafor"


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "dc"])
def test_find_by_the_key_label(sandbox, cloud):
    jira = tracker(sandbox, cloud)
    assert jira.find("a1b2c3") is None
    jira.create(ticket(key="zz9"))
    created = jira.create(ticket())
    found = jira.find("a1b2c3")
    assert found is not None and found.external_id == created.external_id == "OPS-2"
    assert found.due_date == date(2025, 3, 14) and not found.done
    assert jira.find("nope") is None


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "dc"])
def test_get_sees_done_and_a_moved_due_date(sandbox, cloud):
    jira = tracker(sandbox, cloud)
    key = jira.create(ticket()).external_id
    assert jira.get(key).done is False
    admin = client(sandbox, cloud)
    admin.issue(key).update(fields={"duedate": "2025-03-21"})  # PUT issue
    admin.transition_issue(key, "Done")  # POST issue/{key}/transitions
    now = jira.get(key)
    assert now.done is True and now.due_date == date(2025, 3, 21) and now.url.endswith(f"/browse/{key}")


@pytest.mark.parametrize("cloud", [True, False], ids=["cloud", "dc"])
def test_due_date_goes_into_the_description_when_not_on_the_create_screen(sandbox, cloud):
    screen = ["summary", "description", "labels", "assignee"]
    httpx.put(f"{sandbox.url}/jira/_sandbox/screen", json={"fields": screen}).raise_for_status()
    # the screen is what Jira enforces: the field itself is refused
    with pytest.raises(JIRAError) as refused:
        client(sandbox, cloud).create_issue(fields={"project": {"key": "OPS"}, "issuetype": {"id": "10001"},
                                                    "summary": "x", "duedate": "2025-03-14"}, prefetch=False)
    assert "not on the appropriate screen" in refused.value.response.json()["errors"]["duedate"]
    task = tracker(sandbox, cloud).create(ticket())
    assert task.due_date is None and "due date put in the description" in task.note
    [stored] = issues(sandbox)
    assert stored["fields"]["duedate"] is None
    assert "Due: 2025-03-14" in str(stored["fields"]["description"])


def test_owner_without_account_is_left_unassigned_and_directory_ids_are_used(sandbox):
    jira = tracker(sandbox)
    stranger = Person(name="Zed Nobody", email="zed@elsewhere.example")
    task = jira.create(ticket(key="k1", owner=None, owner_name="Zed Nobody").model_copy(update={"owner": stranger}))
    assert "left unassigned" in task.note
    jira.create(ticket(key="k2", owner=None))  # nobody matched: unassigned, nothing to say
    bot_id = issues(sandbox)[0]["fields"]["reporter"]["accountId"]  # an account the email would not find
    named = Person(name="Bot", email="unknown@example.com", ids={"jira": bot_id})
    jira.create(ticket(key="k3").model_copy(update={"owner": named}))
    assignees = [i["fields"]["assignee"] for i in issues(sandbox)]
    assert assignees[:2] == [None, None] and assignees[2]["accountId"] == bot_id


def test_long_summary_is_cut_to_one_line_of_255(sandbox):
    tracker(sandbox).create(ticket(summary="Budget\nreview " + "x" * 300))
    summary = issues(sandbox)[0]["fields"]["summary"]
    assert len(summary) == 255 and summary.startswith("Budget review x") and summary.endswith("…")


BAD_FIELDS = [  # (cloud, field, value sent, what Jira says)
    (True, "summary", "x" * 256, "less than 255 characters"),
    (True, "description", "plain text on v3", "Atlassian Document"),
    (True, "assignee", {"name": "sarah.chen"}, "accountId"),
    (True, "assignee", {"accountId": "no-such-account"}, "does not exist"),
    (True, "duedate", "14/03/2025", "Error parsing date string"),
    (True, "labels", ["meeting notes"], "contains spaces"),
    (True, "customfield_10010", {"value": "x"}, "must be a string"),
    (True, "customfield_99999", "x", "not on the appropriate screen"),
    (False, "assignee", {"name": "nobody"}, "User 'nobody' does not exist"),
    (False, "assignee", {"accountId": "x"}, "'name' property"),
    (False, "description", {"type": "doc", "version": 1, "content": []}, "must be a string"),
]


@pytest.mark.parametrize("cloud,field,value,message", BAD_FIELDS)
def test_server_rejects_what_jira_rejects(sandbox, cloud, field, value, message):
    fields = {"project": {"key": "OPS"}, "issuetype": {"id": "10001"}, "summary": "ok", field: value}
    with pytest.raises(JIRAError) as exc:
        client(sandbox, cloud).create_issue(fields=fields, prefetch=False)
    assert exc.value.status_code == 400 and message in exc.value.response.json()["errors"][field]
    assert issues(sandbox) == []


def test_server_requires_project_summary_and_issue_type(sandbox):
    with pytest.raises(JIRAError) as exc:
        client(sandbox)._session.post(f"{sandbox.url}/jira/rest/api/3/issue", json={"fields": {}})
    assert set(exc.value.response.json()["errors"]) == {"project", "summary", "issuetype"}


@pytest.mark.parametrize("kw,field", [({"custom_fields": {"customfield_10010": {"value": "x"}}}, "customfield_10010"),
                                      ({"labels": ["meeting notes"]}, "labels")])
def test_rejections_become_tracker_errors_naming_the_field(sandbox, kw, field):
    with pytest.raises(TrackerError) as exc:
        tracker(sandbox, **kw).create(ticket())
    err = exc.value
    assert err.status == 400 and err.field == field and not err.retryable and f"field '{field}'" in str(err)


def test_misconfigured_project_and_issue_type(sandbox):
    with pytest.raises(TrackerError) as exc:
        tracker(sandbox, project="NOPE").create(ticket())
    assert exc.value.status == 404 and "No project could be found with key 'NOPE'" in str(exc.value)
    with pytest.raises(TrackerError) as exc:
        tracker(sandbox, issue_type="Epic").create(ticket())
    assert exc.value.field == "issuetype" and "Task, Bug" in str(exc.value)


@pytest.mark.parametrize("cloud,credential", [(True, "Jira API token"), (False, "Jira personal access token")])
def test_wrong_credentials_say_what_to_fix(sandbox, cloud, credential):
    with pytest.raises(TrackerError) as exc:
        tracker(sandbox, cloud, token="wrong").find("a1b2c3")
    assert exc.value.status == 401 and not exc.value.retryable
    assert f"the {credential} was rejected (401)" in str(exc.value)


def test_rate_limit_and_server_errors_are_retried_into_one_issue(sandbox):
    jira = tracker(sandbox)  # the faults hit the create only, not the lookups before it (GETs)
    sandbox.fault(vendor="jira", method="POST", path="/rest/api/3/issue", status=429, retry_after=2)
    sandbox.fault(vendor="jira", method="POST", path="/rest/api/3/issue", status=502, times=2)
    sleeps: list[float] = []
    task = with_retry(lambda: jira.create(ticket()), what="jira create", sleep=sleeps.append)
    assert sleeps == [2.0, 1.0, 2.0]  # Retry-After, then backing off
    assert task.external_id == "OPS-1" and len(issues(sandbox)) == 1


def test_lost_reply_on_create_then_find_first_files_once(sandbox):
    jira = tracker(sandbox)
    sandbox.fault(vendor="jira", method="POST", path="/rest/api/3/issue", status=503, commit=True)
    sleeps: list[float] = []
    item = ticket()
    task = with_retry(lambda: jira.find(item.key) or jira.create(item), sleep=sleeps.append)
    assert sleeps == [0.5] and task.external_id == "OPS-1"
    assert [i["key"] for i in issues(sandbox)] == ["OPS-1"]


def test_no_answer_is_a_retryable_error():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jira"
        jira = JiraTracker(JiraSettings(url=url, email=CREDS["email"], token=CREDS["token"]), PEOPLE, timeout=0.3)
        with pytest.raises(TrackerError) as exc:
            jira.find("a1b2c3")
    assert exc.value.retryable and "no answer" in str(exc.value)


def test_jql_and_removed_cloud_search(sandbox):
    admin = client(sandbox)
    with pytest.raises(JIRAError) as exc:
        admin.search_issues("assignee = currentUser()")
    assert exc.value.status_code == 400
    with pytest.raises(JIRAError) as exc:
        admin.search_issues('project = NOPE AND labels = "x"')
    assert "does not exist for the field 'project'" in exc.value.text
    gone = httpx.get(f"{sandbox.url}/jira/rest/api/3/search", params={"jql": "project = OPS"},
                     auth=(CREDS["email"], CREDS["token"]))
    assert gone.status_code == 410
