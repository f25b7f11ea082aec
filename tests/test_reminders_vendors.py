"""Reminders read the tracker over real HTTP: an issue done in Jira is skipped, a due date moved in Jira
moves the reminders, the owner gets a Slack DM and an overdue item goes to the lead's channel."""

from datetime import date, datetime, timezone

from jira import JIRA

from conftest import FIXTURES
from takeaway import reminders
from takeaway.connectors.filing import file_items
from takeaway.connectors.jira import JiraTracker
from takeaway.connectors.slack import SlackNotifier
from takeaway.extract.schemas import ActionItem, Evidence, MeetingInfo, Minutes
from takeaway.ledger import Ledger
from takeaway.people import Directory
from takeaway.sandbox import CREDENTIALS, SLACK_LEAD_CHANNEL
from takeaway.settings import JiraSettings, SlackSettings


def item(key, owner, due):
    return ActionItem(id=key, description=f"task {key}", owner=owner, due_date=due, due_phrase="by Friday",
                      evidence=[Evidence(segment_id=0, start=1, end=2, quote=f"I will do {key} by Friday")],
                      confidence=1.0, status="ready")


def test_reminders_follow_jira_and_go_out_on_slack(sandbox, tmp_path):
    directory = Directory.load(FIXTURES / "people.yaml")
    jira_settings = JiraSettings(url=f"{sandbox.url}/jira", email=CREDENTIALS["jira"]["email"],
                                 token=CREDENTIALS["jira"]["token"])
    jira = JiraTracker(jira_settings, directory)
    slack = SlackNotifier(SlackSettings(url=f"{sandbox.url}/slack/api/", token=CREDENTIALS["slack"]["bot_token"],
                                        lead_channel=SLACK_LEAD_CHANNEL), directory)
    ledger = Ledger(f"sqlite:///{tmp_path}/l.db")
    meeting = MeetingInfo(id="m1", title="Weekly", start="2026-11-12T10:00:00-05:00", duration_s=60,
                          language="en", source="x.wav")
    m = Minutes(meeting=meeting, speakers=[], segments=[], action_items=[
        item("R-1", "David", date(2026, 11, 13)), item("R-2", "Maria", date(2026, 11, 13)),
        item("R-3", "James", date(2026, 11, 13))])
    ledger.record_minutes(m)
    filed = {f.item_id: f.external_id for f in file_items(jira, ledger, m, m.action_items, directory)}
    reminders.schedule(ledger, m.action_items, meeting.start)

    client = JIRA(server=jira_settings.url, basic_auth=(jira_settings.email, jira_settings.token),
                  options={"rest_api_version": "3"})  # Cloud
    done = next(t["id"] for t in client.transitions(filed["R-2"]) if t["name"] == "Done")
    client.transition_issue(filed["R-2"], done)  # Maria finished
    client.issue(filed["R-3"]).update(fields={"duedate": "2026-11-20"})  # James's task moved a week

    friday = datetime(2026, 11, 13, 14, 5, tzinfo=timezone.utc)  # 09:05 in New York
    counts = reminders.send_due(ledger, slack, lambda name: jira, directory, friday)
    assert counts == {"sent": 1, "skipped": 1, "moved": 1, "deferred": 0}
    state = sandbox.state("slack")
    david = next(u["id"] for u in state["users"] if u["email"] == "david.okafor@example.com")
    assert len(state["dms"][david]) == 1 and "task R-1" in state["dms"][david][0]["text"]
    assert ledger.item("R-3").due_date == date(2026, 11, 20)

    monday = datetime(2026, 11, 16, 14, 5, tzinfo=timezone.utc)
    counts = reminders.send_due(ledger, slack, lambda name: jira, directory, monday)
    assert counts["sent"] == 1  # R-1 is overdue: escalated; R-2 done; R-3 not due yet
    lead = [msg for msg in sandbox.state("slack")["messages"] if msg["channel"] == "C0LAUNCH01"]
    assert len(lead) == 1 and "Overdue" in lead[0]["text"] and "task R-1" in lead[0]["text"]
