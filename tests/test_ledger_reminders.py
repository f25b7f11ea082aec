"""The local board files each item once; reminders are planned, sent when due, skipped when done."""

from datetime import date, datetime, timezone

from takeaway.connectors.local import LocalTracker
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
    def __init__(self):
        self.sent = []

    def send(self, reminder):
        self.sent.append(reminder)


def test_filing_twice_files_once(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path}/l.db")
    m = minutes_with(item("A-1"), item("A-2"))
    ledger.record_minutes(m)
    first = LocalTracker(ledger).file(m, m.action_items)
    again = LocalTracker(Ledger(f"sqlite:///{tmp_path}/l.db")).file(m, m.action_items)
    assert [r.created for r in first] == [True, True] and [r.created for r in again] == [False, False]
    assert [r.external_id for r in first] == [r.external_id for r in again]
    assert len(ledger.tasks()) == 2


def test_reminder_plan_is_working_day_before_and_due_day_at_nine_local():
    start = datetime.fromisoformat("2026-11-12T10:00:00-05:00")
    plan = reminders.plan(date(2026, 11, 16), start)  # a Monday: the working day before is Friday
    assert [(k, w.isoformat()) for k, w in plan] == [("before", "2026-11-13T09:00:00-05:00"),
                                                     ("due", "2026-11-16T09:00:00-05:00")]
    # due tomorrow: the "before" reminder would be this morning, before the meeting: dropped
    assert [k for k, _ in reminders.plan(date(2026, 11, 13), start)] == ["due"]


def test_send_due_sends_once_and_skips_done(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path}/l.db")
    m = minutes_with(item("A-1"), item("A-2"), item("A-3", owner=None))
    ledger.record_minutes(m)
    LocalTracker(ledger).file(m, m.action_items)
    assert reminders.schedule(ledger, m) == 2  # unowned items get no reminder
    assert reminders.schedule(ledger, m) == 0
    done = next(t for t in ledger.tasks() if t.item_key == "A-2")
    ledger.set_task_state(done.id, "done")
    notifier = Collect()
    early = reminders.send_due(ledger, notifier, datetime(2026, 11, 13, 13, 0, tzinfo=timezone.utc))
    assert early == {"sent": 0, "skipped": 0}
    counts = reminders.send_due(ledger, notifier, datetime(2026, 11, 13, 14, 5, tzinfo=timezone.utc))
    assert counts == {"sent": 1, "skipped": 1}
    assert notifier.sent[0].owner == "David" and notifier.sent[0].quote == "I will do it by Friday"
    assert reminders.send_due(ledger, notifier, datetime(2026, 11, 14, tzinfo=timezone.utc)) == {"sent": 0,
                                                                                               "skipped": 0}
