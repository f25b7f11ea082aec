"""The CLI around connectors: `takeaway review` from the terminal, settings checked before any work."""

from datetime import date

from takeaway.extract.schemas import ActionItem, Evidence, MeetingInfo, Minutes
from takeaway.ledger import Ledger
from takeaway.settings import Settings


def held(key, owner):
    return ActionItem(id=key, description=f"task {key}", owner=owner, due_date=None, due_phrase="before the holidays",
                      evidence=[Evidence(segment_id=0, start=1, end=2, quote=f"{key} before the holidays")],
                      confidence=0.5, status="needs_review", flags=["due date 'before the holidays' is not a date"])


def test_review_from_the_terminal(prefect_server, home, cli):
    ledger = Ledger(Settings().ledger_url)
    meeting = MeetingInfo(id="m-review", title="Planning", start="2026-11-12T10:00:00-05:00", duration_s=60,
                          language="en", source="x.wav")
    m = Minutes(meeting=meeting, speakers=[], segments=[], action_items=[held("H-1", "David"), held("H-2", "Maria"),
                                                                           held("H-3", "James")])
    ledger.record_minutes(m)
    for i in m.action_items:
        ledger.update_item(i.id, "review.held", "pending")
    # approve H-1 as is, edit H-2 (owner, date, text) and approve it, skip H-3
    answers = "a\ne\nGrace\n2026-12-18\nSend the holiday schedule\ns\n"
    result = cli(["review", "--reviewer", "Sarah"], input=answers)
    assert result.exit_code == 0, result.output
    assert "2 approved, 0 rejected, 1 left for later" in result.output
    assert "Filed in local: 2 created" in result.output
    tasks = {t.item_key: t for t in ledger.tasks()}
    assert set(tasks) == {"H-1", "H-2"}
    assert tasks["H-2"].owner == "Grace" and tasks["H-2"].due_date == date(2026, 12, 18)
    assert tasks["H-2"].title == "Send the holiday schedule"
    assert [r.key for r in ledger.items_in_review()] == ["H-3"]
    assert ledger.item("H-2").reviewer == "Sarah"


def test_a_tracker_without_settings_stops_before_any_work(home, monkeypatch, cli):
    for key in ("TAKEAWAY_JIRA__URL", "TAKEAWAY_JIRA__TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TAKEAWAY_TRACKER", "local")  # the CLI sets it from --tracker; restored after the test
    result = cli(["process", "fixtures/team_meeting/team_meeting.flac", "--tracker", "jira"])
    assert result.exit_code == 2
    assert "jira: set jira.url, jira.token in takeaway.toml (or TAKEAWAY_JIRA__URL)" in result.output
    assert not (home / "transcripts").exists()


def test_an_unknown_people_file_is_one_clear_error(home, monkeypatch, cli):
    monkeypatch.setenv("TAKEAWAY_PEOPLE_FILE", "")  # the CLI sets it from --people; restored after the test
    result = cli(["process", "fixtures/team_meeting/team_meeting.flac", "--people", "nope.yaml"])
    assert result.exit_code == 2 and "people directory nope.yaml not found" in result.output
