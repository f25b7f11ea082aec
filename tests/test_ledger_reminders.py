"""The local board files each item once; reminders are planned, sent when due, skipped when done,
moved with the tracker's due date and escalated when overdue."""

from datetime import date, datetime, timezone

from takeaway.connectors.filing import file_items
from takeaway.connectors.local import LocalTracker
from takeaway.people import Directory, Person
from takeaway.extract.schemas import ActionItem, Evidence, MeetingInfo, Minutes
from takeaway.ledger import Ledger
from takeaway import reminders


def minutes_with(*items):
    meeting = MeetingInfo(id="m1", title="t", start="2026-11-12T10:00:00-05:00", duration_s=60, language="en",
                          source="x.wav")
    return Minutes(meeting=meeting, speakers=[], segments=[], action_items=list(items))


def item(key, owner="David", due=date(2026, 11, 13)):
    return ActionItem(id=key, description=f"task {key}", owner=owner, due_date=due, due_phrase="by Friday",
                      evidence=[Evidence(segment_id=0, start=1, end=2, quote="I will do it by Friday")],
                      confidence=1.0, status="ready")


class Collect:
    name = "collect"

    def __init__(self):
        self.sent = []

    def send(self, notice):
        self.sent.append(notice)


DIRECTORY = Directory([Person(name="David Okafor", aliases=["David"], email="david@example.com")])


def filed_board(tmp_path, *items):
    ledger = Ledger(f"sqlite:///{tmp_path}/l.db")
    m = minutes_with(*items)
    ledger.record_minutes(m)
    tracker = LocalTracker(ledger)
    file_items(tracker, ledger, m, m.action_items, DIRECTORY)
    return ledger, m, tracker


def test_filing_twice_files_once(tmp_path):
    ledger, m, _ = filed_board(tmp_path, item("A-1"), item("A-2"))
    again = file_items(LocalTracker(Ledger(f"sqlite:///{tmp_path}/l.db")), ledger, m, m.action_items, DIRECTORY)
    assert [f.state for f in again] == ["existing", "existing"]  # the ledger knew
    assert [f.external_id for f in again] == [ledger.pushed("local", "A-1"), ledger.pushed("local", "A-2")]
    assert len(ledger.tasks()) == 2


def test_a_task_the_ledger_lost_is_found_not_duplicated(tmp_path):
    """The tracker created it but the ledger never heard back (a crash): the search finds it."""
    ledger, m, tracker = filed_board(tmp_path, item("A-1"))
    with ledger.session() as s, s.begin():
        s.execute(__import__("sqlalchemy").text("DELETE FROM pushes"))
    again = file_items(tracker, ledger, m, m.action_items, DIRECTORY)
    assert again[0].state == "found" and len(ledger.tasks()) == 1


def test_reminder_plan_is_working_day_before_and_due_day_at_nine_local():
    start = datetime.fromisoformat("2026-11-12T10:00:00-05:00")
    plan = reminders.plan(date(2026, 11, 16), start)  # a Monday: the working day before is Friday
    assert [(k, w.isoformat()) for k, w in plan] == [("before", "2026-11-13T09:00:00-05:00"),
                                                     ("due", "2026-11-16T09:00:00-05:00"),
                                                     ("overdue", "2026-11-17T09:00:00-05:00")]
    # due tomorrow: the "before" reminder would be this morning, before the meeting: dropped
    assert [k for k, _ in reminders.plan(date(2026, 11, 13), start)] == ["due", "overdue"]


def test_send_due_sends_once_skips_done_moves_and_escalates(tmp_path):
    ledger, m, tracker = filed_board(tmp_path, item("A-1"), item("A-2"), item("A-3", owner=None),
                                     item("A-4", due=date(2026, 11, 16)))
    start = m.meeting.start
    assert len(reminders.schedule(ledger, m.action_items, start)) == 7  # unowned items get none
    assert reminders.schedule(ledger, m.action_items, start) == []
    done = next(t for t in ledger.tasks() if t.item_key == "A-2")
    ledger.set_task_state(done.id, "done")
    moved = next(t for t in ledger.tasks() if t.item_key == "A-4")
    with ledger.session() as s, s.begin():  # someone moves A-4 to Monday 23rd in the tracker
        s.get(type(moved), moved.id).due_date = date(2026, 11, 23)
    notifier = Collect()
    send = lambda now: reminders.send_due(ledger, notifier, lambda name: tracker, DIRECTORY, now)  # noqa: E731
    assert send(datetime(2026, 11, 13, 13, 0, tzinfo=timezone.utc))["sent"] == 0  # 8:00 in New York
    counts = send(datetime(2026, 11, 13, 14, 5, tzinfo=timezone.utc))
    assert counts == {"sent": 1, "skipped": 1, "moved": 1, "deferred": 0}
    assert notifier.sent[0].to.email == "david@example.com" and notifier.sent[0].kind == "due"
    assert notifier.sent[0].lines[0].quote == "I will do it by Friday"
    assert ledger.item("A-4").due_date == date(2026, 11, 23)
    assert {r.send_at.date() for r, _, i in ledger.reminders() if i.key == "A-4"} == \
        {date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)}
    counts = send(datetime(2026, 11, 16, 14, 5, tzinfo=timezone.utc))  # Monday: A-1 is overdue
    assert counts["sent"] == 1 and notifier.sent[-1].kind == "overdue" and notifier.sent[-1].to is None
    assert send(datetime(2026, 11, 16, 15, tzinfo=timezone.utc))["sent"] == 0
