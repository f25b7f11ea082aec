"""End to end: the fixture meeting filed in Jira, Asana and ServiceNow stand-ins over real HTTP, once,
through an outage, a reply lost after the vendor acted, a retry and a full re-run; Slack gets the DMs
and the digest; the approval pause is answered through Prefect's API."""

import threading
import time

import pytest

from conftest import FIXTURES, gold
from takeaway.sandbox import environment

pytestmark = pytest.mark.slow

CREATE = {"jira": ("POST", "/rest/api/3/issue"), "asana": ("POST", "/api/1.0/tasks"),
          "servicenow": ("POST", "/api/now/table/sc_task")}


def remote_keys(sandbox, tracker: str) -> list[str]:
    """The item key stored on each remote item (label, notes line or correlation id)."""
    state = sandbox.state(tracker)
    if tracker == "jira":
        return [lb for i in state["issues"] for lb in i["fields"]["labels"] if lb.startswith("takeaway-")]
    if tracker == "asana":
        return [line for t in state["tasks"] for line in t["notes"].splitlines() if line.startswith("takeaway-")]
    return [r["correlation_id"] for r in state["sc_task"]]


@pytest.fixture()
def configured(sandbox, monkeypatch):
    for key, value in environment(sandbox.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TAKEAWAY_PEOPLE_FILE", str(FIXTURES / "people.yaml"))
    monkeypatch.setenv("TAKEAWAY_NOTIFY", "slack")
    monkeypatch.setenv("TAKEAWAY_TRACKER_BACKOFF_S", "0.01")
    return sandbox


def process(out, **params):
    from takeaway.flows.process import process_recording

    g = gold("team_meeting")
    return process_recording(str(FIXTURES / "team_meeting" / g["audio"]), g["meeting"]["title"],
                             g["meeting"]["start"], g["meeting"]["participants"], str(out), **params)


@pytest.mark.parametrize("tracker", ["jira", "asana", "servicenow"])
def test_each_item_filed_once_through_outage_lost_reply_and_rerun(prefect_server, configured, tracker, tmp_path):
    from takeaway.engines import ledger_for
    from takeaway.flows.followup import push_pending
    from takeaway.settings import Settings

    sandbox = configured
    method, path = CREATE[tracker]
    # the tracker takes the first item, then every create fails (an outage midway through the run)
    sandbox.fault(vendor=tracker, method=method, path=path, status=503, after=1, times=10_000)
    minutes = process(tmp_path / "1", tracker=tracker)
    ready = [i.id for i in minutes.action_items if i.status == "ready"]
    assert len(ready) >= 3
    assert len(remote_keys(sandbox, tracker)) == 1
    ledger = ledger_for(Settings())
    assert len(ledger.pushes(state="pending", tracker=tracker)) == len(ready) - 1

    # the outage ends; the vendor creates the next item but its reply is lost (as if we crashed)
    sandbox.http.delete("/_sandbox/faults")
    sandbox.fault(vendor=tracker, method=method, path=path, status=502, times=1, commit=True)
    counts = push_pending(tracker)
    assert counts == {"created": len(ready) - 2, "found": 1, "existing": 0, "pending": 0}
    assert sorted(remote_keys(sandbox, tracker)) == sorted(f"takeaway-{k}" for k in ready)

    # a full re-run files nothing new
    process(tmp_path / "2", tracker=tracker)
    assert sorted(remote_keys(sandbox, tracker)) == sorted(f"takeaway-{k}" for k in ready)
    assert not ledger.pushes(state="pending", tracker=tracker)

    slack = sandbox.state("slack")
    dm_users = {u["email"] for u in slack["users"] if slack["dms"].get(u["id"])}
    owners = {"david.okafor@example.com", "maria.garcia@example.com", "james.miller@example.com",
              "sarah.chen@example.com"}
    assert dm_users == owners  # every owner heard of their item once it was filed, outage or not
    assert sum(len(v) for v in slack["dms"].values()) == len(ready)
    digests = [m for m in slack["messages"] if m["channel"] == "C0LAUNCH01"]
    assert len(digests) == 2 and "pending" in digests[0]["text"]  # the second: everything filed now

    # one more re-run changes nothing: the lead is not told the same thing again
    process(tmp_path / "3", tracker=tracker)
    assert len([m for m in sandbox.state("slack")["messages"] if m["channel"] == "C0LAUNCH01"]) == 2


def test_review_pause_is_answered_through_prefect(prefect_server, configured, tmp_path, monkeypatch):
    """approval=all: the run pauses with the review form; approving one item (with a new owner) and
    rejecting the rest through Prefect's API resumes it, and only the approved item is filed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    from takeaway.engines import ledger_for
    from takeaway.settings import Settings

    monkeypatch.setenv("TAKEAWAY_APPROVAL", "all")
    monkeypatch.setenv("TAKEAWAY_REVIEW_WAIT_S", "120")
    monkeypatch.setenv("TAKEAWAY_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")  # nothing reviewed or filed yet
    result = {}
    run = threading.Thread(target=lambda: result.update(minutes=process(tmp_path / "out", tracker="servicenow")))
    run.start()
    paused = []
    deadline = time.monotonic() + 240
    with get_client(sync_client=True) as client:
        while not paused and time.monotonic() < deadline and run.is_alive():
            paused = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
            time.sleep(1)
    assert paused, "the run never paused for review"
    ledger = ledger_for(Settings())
    waiting = ledger.items_in_review()
    assert len(waiting) >= 3
    first, rest = waiting[0], waiting[1:]
    answer = {"reviewer": "Sarah Chen", "items": [
        {"item_id": first.key, "decision": "approve", "owner": "Grace"},
        *({"item_id": r.key, "decision": "reject"} for r in rest)]}
    resume_flow_run(paused[0].id, run_input=answer)
    run.join(timeout=120)
    assert "minutes" in result
    assert remote_keys(configured, "servicenow") == [f"takeaway-{first.key}"]
    record = configured.state("servicenow")["sc_task"][0]
    grace = next(u for u in configured.state("servicenow")["sys_user"] if u["email"] == "grace.lee@example.com")
    assert record["assigned_to"] == grace["sys_id"]
    assert ledger.item(first.key).review == "approved" and ledger.item(rest[0].key).review == "rejected"


def fresh_ledger_with_cached_answers(tmp_path) -> str:
    """A copy of the session's ledger that keeps the LLM answers (no tokens spent again) and forgets
    every meeting, item and push."""
    import shutil
    import sqlite3

    from takeaway.engines import ledger_for
    from takeaway.settings import Settings

    ledger_for(Settings())  # make sure it exists
    copy = tmp_path / "ledger.db"
    shutil.copy(Settings().ledger_url.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as db:
        for table in ("reminders", "pushes", "tasks", "items", "meetings", "runs", "audit"):
            db.execute(f"DELETE FROM {table}")
    return f"sqlite:///{copy}"


def test_a_run_killed_midway_files_nothing_twice(prefect_server, configured, tmp_path):
    """`takeaway process --tracker jira` is killed (SIGKILL) while Jira is answering a create it has
    already done; running it again files every item exactly once."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    sandbox = configured
    g = gold("team_meeting")
    cmd = [sys.executable, "-m", "takeaway.cli", "process", str(FIXTURES / "team_meeting" / g["audio"]),
           "--title", g["meeting"]["title"], "--start", g["meeting"]["start"],
           "--participants", ";".join(g["meeting"]["participants"]), "--tracker", "jira", "--notify", "slack"]
    env = {**os.environ, "TAKEAWAY_DATABASE_URL": fresh_ledger_with_cached_answers(tmp_path)}
    # the second create is done by Jira, whose answer then hangs
    sandbox.fault(vendor="jira", method="POST", path="/rest/api/3/issue", after=1, commit=True, delay_s=120,
                  status=200)
    log = open(tmp_path / "run1.log", "w")
    run = subprocess.Popen(cmd + ["--out", str(tmp_path / "1")], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 600
    while len(remote_keys(sandbox, "jira")) < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.5)
    assert len(remote_keys(sandbox, "jira")) == 2, (tmp_path / "run1.log").read_text()[-3000:]
    run.send_signal(signal.SIGKILL)
    run.wait()
    sandbox.http.delete("/_sandbox/faults")
    again = subprocess.run(cmd + ["--out", str(tmp_path / "2")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    keys = remote_keys(sandbox, "jira")
    assert len(keys) == len(set(keys)) >= 3  # every item once, the one whose answer was lost included
    # the run says where each item went
    issues = [i["key"] for i in sandbox.state("jira")["issues"]]
    assert "Filed in jira" in again.stdout and all(key in again.stdout for key in issues), again.stdout
