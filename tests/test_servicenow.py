"""The ServiceNow tracker over real HTTP against the sandbox's Table API stand-in."""

from datetime import date

import httpx
import pytest

from takeaway.connectors.base import Ticket, TrackerError
from takeaway.connectors.retry import with_retry
from takeaway.connectors.servicenow import ServiceNowTracker
from takeaway.people import Directory, Person
from takeaway.sandbox import CREDENTIALS
from takeaway.settings import ServiceNowSettings
from tests.conftest import FIXTURES

PEOPLE = Directory.load(FIXTURES / "people.yaml")
AUTH = (CREDENTIALS["servicenow"]["user"], CREDENTIALS["servicenow"]["password"])


def tracker(sandbox, table: str = "sc_task", password: str = AUTH[1]) -> ServiceNowTracker:
    settings = ServiceNowSettings(url=f"{sandbox.url}/servicenow", user=AUTH[0], password=password, table=table)
    return ServiceNowTracker(settings, PEOPLE, timeout=5)


def ticket(key: str = "a1b2c3", owner: str | None = "Sarah", **extra) -> Ticket:
    fields = dict(key=key, summary="Send the revised budget to finance",
                  description="Send the revised budget to finance by Friday.\nMeeting: Launch sync.",
                  quote="I'll send the revised budget to finance by Friday", speaker="Sarah Chen",
                  said_at="00:03:12", meeting_title="Launch sync", meeting_start="2025-03-10T10:00:00+01:00",
                  minutes_url="https://minutes.example.com/launch-sync", owner=PEOPLE.find(owner),
                  owner_name=owner, due_date=date(2025, 3, 14))
    return Ticket(**(fields | extra))


def table_api(sandbox, path: str = "") -> str:
    return f"{sandbox.url}/servicenow/api/now/table/{path}"


def user_id(sandbox, email: str) -> str:
    return next(u["sys_id"] for u in sandbox.state("servicenow")["sys_user"] if u["email"] == email)


def records(sandbox, table: str = "sc_task") -> list[dict]:
    return sandbox.state("servicenow")[table]


@pytest.mark.parametrize("table, prefix", [("sc_task", "SCTASK"), ("incident", "INC")])
def test_create_stores_the_fields_a_person_reads(sandbox, table, prefix):
    t = ticket()
    task = tracker(sandbox, table).create(t)
    [record] = records(sandbox, table)
    assert task.external_id == record["number"] == f"{prefix}0010001"
    assert task.url == f"{sandbox.url}/servicenow/nav_to.do?uri={table}.do?sys_id={record['sys_id']}"
    assert not task.done and task.due_date == date(2025, 3, 14) and task.note is None
    assert record["assigned_to"] == user_id(sandbox, "sarah.chen@example.com")
    assert len(record["assigned_to"]) == 32
    assert record["due_date"] == "2025-03-14 17:00:00"
    assert record["short_description"] == t.summary and record["description"] == t.description
    assert record["correlation_id"] == "takeaway-a1b2c3" and record["correlation_display"] == "Takeaway"
    [note] = record["work_notes"]
    assert t.quote in note and "Sarah Chen" in note and "00:03:12" in note and t.minutes_url in note
    assert record["state"] == "1" and record["active"] == "true"


def test_reference_links_and_journal_as_the_table_api_returns_them(sandbox):
    tracker(sandbox).create(ticket())
    [row] = httpx.get(table_api(sandbox, "sc_task"), auth=AUTH).json()["result"]
    assert row["assigned_to"]["link"].endswith(f"/api/now/table/sys_user/{row['assigned_to']['value']}")
    assert row["work_notes"] == ""  # journal fields are not returned as actual values
    assert httpx.get(table_api(sandbox, "task"), auth=AUTH).json()["result"][0]["sys_class_name"] == "sc_task"
    ignored = httpx.get(table_api(sandbox, "sc_task"), params={"sysparm_query": "u_missing=1"}, auth=AUTH)
    assert len(ignored.json()["result"]) == 1  # a condition on an unknown field is ignored, as on an instance


def test_find_by_item_key(sandbox):
    sn = tracker(sandbox)
    assert sn.find("a1b2c3") is None
    created = sn.create(ticket())
    sn.create(ticket(key="other"))
    assert sn.find("a1b2c3").external_id == created.external_id
    assert sn.find("zzz") is None


@pytest.mark.parametrize("table, closed, open_", [("sc_task", "3", "2"), ("incident", "6", "2")])
def test_get_sees_closing_and_a_moved_due_date(sandbox, table, closed, open_):
    sn = tracker(sandbox, table)
    created = sn.create(ticket())
    sys_id = records(sandbox, table)[0]["sys_id"]

    def patch(**fields):
        httpx.patch(table_api(sandbox, f"{table}/{sys_id}"), json=fields, auth=AUTH).raise_for_status()

    patch(state=open_, due_date="2025-04-01 09:00:00")
    now = sn.get(created.external_id)
    assert not now.done and now.due_date == date(2025, 4, 1)
    patch(state=closed)
    assert sn.get(created.external_id).done
    assert records(sandbox, table)[0]["active"] == "false"


def test_get_unknown_number_is_not_found(sandbox):
    with pytest.raises(TrackerError) as err:
        tracker(sandbox).get("SCTASK0099999")
    assert err.value.status == 404 and not err.value.retryable


def test_owner_not_found_is_left_unassigned(sandbox):
    sn = tracker(sandbox)
    nobody = sn.create(ticket(key="k1", owner=None, owner_name="Zed"))
    stranger = Person(name="Xavier Stone", email="xavier.stone@example.com")
    outsider = sn.create(ticket(key="k2").model_copy(update={"owner": stranger}))
    first, second = records(sandbox)
    assert first["assigned_to"] == second["assigned_to"] == ""
    assert "Owner named in the meeting: Zed" in first["work_notes"][0]
    assert nobody.note is None and "Xavier Stone has no ServiceNow user" in outsider.note


def test_server_rejects_what_would_break_the_record(sandbox):
    base = {"short_description": "Budget", "due_date": "2025-03-14 17:00:00"}

    def post(table: str = "sc_task", **fields):
        return httpx.post(table_api(sandbox, table), json=fields, auth=AUTH)

    for fields, field in [({**base, "assigned_to": "sarah.chen@example.com"}, "assigned_to"),
                          ({**base, "due_date": "2025-03-14"}, "due_date"),
                          ({"description": "no summary"}, "short_description"),
                          ({**base, "short_description": "x" * 161}, "short_description")]:
        r = post(**fields)
        assert r.status_code == 400 and r.json()["status"] == "failure"
        assert field in r.json()["error"]["detail"], fields
    assert records(sandbox) == []
    ok = post(**base, u_unknown_field="ignored")
    assert ok.status_code == 201 and "u_unknown_field" not in ok.json()["result"]
    assert ok.headers["Location"].endswith(f"/sc_task/{ok.json()['result']['sys_id']}")
    assert ok.json()["result"]["number"] == "SCTASK0010001"  # rejected inserts used no number
    bad_table = post("u_no_such_table", **base)
    assert bad_table.status_code == 400 and bad_table.json()["error"]["message"] == "Invalid table u_no_such_table"
    missing = httpx.get(table_api(sandbox, "sc_task/" + "0" * 32), auth=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No Record found"
    assert post("sys_user", name="Mallory").status_code == 403


def test_connector_names_the_rejected_field(sandbox):
    sn = tracker(sandbox)
    email_as_id = Person(name="Sarah Chen", email="sarah.chen@example.com",
                         ids={"servicenow": "sarah.chen@example.com"})
    with pytest.raises(TrackerError) as err:
        sn.create(ticket().model_copy(update={"owner": email_as_id}))
    assert err.value.status == 400 and err.value.field == "assigned_to" and not err.value.retryable
    assert "field 'assigned_to'" in str(err.value)
    with pytest.raises(TrackerError) as err:
        sn.create(ticket(summary=" "))
    assert err.value.field == "short_description"


def test_long_summary_is_cut_to_160(sandbox):
    tracker(sandbox).create(ticket(summary="word " * 60))
    stored = records(sandbox)[0]["short_description"]
    assert len(stored) <= 160 and stored.endswith("…")


def test_wrong_password_says_so(sandbox):
    r = httpx.get(table_api(sandbox, "sc_task"), auth=(AUTH[0], "wrong"))
    assert r.status_code == 401 and r.json() == {
        "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
        "status": "failure"}
    with pytest.raises(TrackerError) as err:
        tracker(sandbox, password="wrong").create(ticket())
    assert err.value.status == 401 and not err.value.retryable
    assert "ServiceNow user/password was rejected" in str(err.value)


def test_rate_limit_waits_for_retry_after(sandbox):
    sandbox.fault(vendor="servicenow", method="POST", path="/api/now/table/sc_task", status=429, retry_after=2)
    sleeps: list[float] = []
    task = with_retry(lambda: tracker(sandbox).create(ticket()), sleep=sleeps.append)
    assert sleeps == [2.0] and [r["number"] for r in records(sandbox)] == [task.external_id]


def test_server_error_burst_backs_off_then_files_once(sandbox):
    sandbox.fault(vendor="servicenow", method="POST", path="/api/now/table/sc_task", status=503, times=3)
    sleeps: list[float] = []
    task = with_retry(lambda: tracker(sandbox).create(ticket()), sleep=sleeps.append)
    assert sleeps == [0.5, 1.0, 2.0] and [r["number"] for r in records(sandbox)] == [task.external_id]


def test_lost_reply_then_find_before_create_files_once(sandbox):
    sandbox.fault(vendor="servicenow", method="POST", path="/api/now/table/sc_task", status=502, commit=True)
    sn, t, sleeps = tracker(sandbox), ticket(), []
    task = with_retry(lambda: sn.find(t.key) or sn.create(t), sleep=sleeps.append)
    assert len(sleeps) == 1 and [r["number"] for r in records(sandbox)] == [task.external_id]


def test_unreachable_instance_is_retryable():
    settings = ServiceNowSettings(url="http://127.0.0.1:9", user="u", password="p")
    with pytest.raises(TrackerError) as err:
        ServiceNowTracker(settings, PEOPLE, timeout=2).find("a1b2c3")
    assert err.value.retryable and "cannot reach" in str(err.value)
