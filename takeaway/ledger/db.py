"""The ledger database (SQLAlchemy; SQLite by default, any SQLAlchemy URL such as PostgreSQL).

Every stage writes here: the meeting and its minutes, each extracted item, each push to a
tracker (unique per tracker and item key, so a re-run files nothing twice), the local board's
tasks, reminders, per-run metering and an audit trail.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from takeaway.extract.schemas import ActionItem, Minutes


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Base(DeclarativeBase):
    pass


class MeetingRow(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    start: Mapped[str] = mapped_column(String(40))
    duration_s: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    minutes: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ItemRow(Base):
    __tablename__ = "items"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None]
    due_phrase: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
    review: Mapped[str | None] = mapped_column(String(20))  # None (no review needed) | pending | approved | rejected
    reviewer: Mapped[str | None] = mapped_column(String(200))


class PushRow(Base):
    """One item in one tracker: the idempotency record. `pending` until the tracker has it."""

    __tablename__ = "pushes"
    __table_args__ = (UniqueConstraint("tracker", "item_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracker: Mapped[str] = mapped_column(String(40))
    item_key: Mapped[str] = mapped_column(ForeignKey("items.key"))
    state: Mapped[str] = mapped_column(String(20), default="filed")  # filed | pending
    external_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    pushed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaskRow(Base):
    """A task on the local board."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(ForeignKey("items.key"), unique=True)
    meeting_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | needs_review | done
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderRow(Base):
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("item_key", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(ForeignKey("items.key"))
    kind: Mapped[str] = mapped_column(String(20))  # before | due | overdue
    send_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | sent | skipped
    done_at: Mapped[datetime | None]


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[str] = mapped_column(String(32))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    audio_s: Mapped[float] = mapped_column(Float)
    wall_s: Mapped[float] = mapped_column(Float)
    rtf: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(40))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    items_found: Mapped[int] = mapped_column(Integer)
    items_ready: Mapped[int] = mapped_column(Integer)
    decisions: Mapped[int] = mapped_column(Integer)
    stages: Mapped[dict] = mapped_column(JSON)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    cached_calls: Mapped[int] = mapped_column(Integer, default=0)
    team: Mapped[str | None] = mapped_column(String(100))
    use_case: Mapped[str | None] = mapped_column(String(100))


class AnswerRow(Base):
    """A model's answer to one prompt, by hash of (model, prompt version, messages)."""

    __tablename__ = "llm_answers"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(40))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict] = mapped_column(JSON)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Ledger:
    """The database, opened once per process: `Ledger(url)`."""

    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        Base.metadata.create_all(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def audit(self, session: Session, event: str, **detail) -> None:
        session.add(AuditRow(event=event, detail=json.loads(json.dumps(detail, default=str))))

    def note(self, event: str, **detail) -> None:
        """Record an event outside any other change (e.g. a message sent)."""
        with self.session() as s, s.begin():
            self.audit(s, event, **detail)

    def noted(self, event: str, **detail) -> bool:
        """Whether the audit trail already holds this event with this detail."""
        detail = json.loads(json.dumps(detail, default=str))
        with self.session() as s:
            return any(row.detail == detail for row in s.scalars(select(AuditRow).where(AuditRow.event == event)))

    # -- meetings and items -----------------------------------------------------------------
    def record_minutes(self, minutes: Minutes) -> None:
        """Store the meeting and its items (re-recording the same meeting updates, never duplicates;
        a reviewer's decisions and edits on an item are kept)."""
        m = minutes.meeting
        with self.session() as s, s.begin():
            s.merge(MeetingRow(id=m.id, title=m.title, start=m.start, duration_s=m.duration_s, language=m.language,
                               source=m.source, minutes=minutes.model_dump(mode="json")))
            for item in minutes.action_items:
                if s.get(ItemRow, item.id) is None:
                    s.add(item_row(m.id, item))
            self.audit(s, "minutes.recorded", meeting=m.id, items=len(minutes.action_items),
                       decisions=len(minutes.decisions))

    def record_run(self, minutes: Minutes, wall_s: float, flow_run_id: str | None = None) -> None:
        u = minutes.usage
        with self.session() as s, s.begin():
            s.add(RunRow(meeting_id=minutes.meeting.id, flow_run_id=flow_run_id, audio_s=u.audio_s, wall_s=wall_s,
                         rtf=u.rtf, model=u.llm.model, prompt_version=u.llm.prompt_version,
                         prompt_tokens=u.llm.prompt_tokens, completion_tokens=u.llm.completion_tokens,
                         items_found=len(minutes.action_items),
                         items_ready=sum(i.status == "ready" for i in minutes.action_items),
                         decisions=len(minutes.decisions), stages=u.stages, cost=u.llm.cost,
                         cached_calls=u.llm.cached_calls, team=u.tags.get("team"), use_case=u.tags.get("use_case")))

    def runs(self) -> list[RunRow]:
        with self.session() as s:
            return list(s.scalars(select(RunRow).order_by(RunRow.id)))

    # -- LLM answers (the extraction cache) ----------------------------------------------------
    def get_answer(self, key: str) -> str | None:
        with self.session() as s:
            row = s.get(AnswerRow, key)
            return row.answer if row else None

    def put_answer(self, key: str, model: str, prompt_version: str, answer: str) -> None:
        with self.session() as s, s.begin():
            s.merge(AnswerRow(key=key, model=model, prompt_version=prompt_version, answer=answer))

    def minutes(self, meeting_id: str) -> Minutes:
        with self.session() as s:
            return Minutes.model_validate(s.get(MeetingRow, meeting_id).minutes)

    def item(self, key: str) -> ItemRow | None:
        with self.session() as s:
            return s.get(ItemRow, key)

    def action_item(self, key: str) -> ActionItem:
        """The item as it stands now (with a reviewer's edits)."""
        row = self.item(key)
        return ActionItem(id=row.key, description=row.description, owner=row.owner, due_date=row.due_date,
                          due_phrase=row.due_phrase, evidence=row.evidence, confidence=row.confidence,
                          status=row.status, model=row.model, prompt_version=row.prompt_version)

    # -- review -----------------------------------------------------------------------------
    def update_item(self, key: str, event: str, review: str | None = None, reviewer: str | None = None,
                    **edits) -> None:
        """Change an item: a review state (pending, approved, rejected) and edits (owner, due_date,
        description); `event` names the change in the audit trail."""
        with self.session() as s, s.begin():
            row = s.get(ItemRow, key)
            if review:
                row.review, row.reviewer = review, reviewer or row.reviewer
                if review == "approved":
                    row.status = "ready"
            for field, value in edits.items():
                if value is not None:
                    setattr(row, field, value)
            self.audit(s, event, item=key, review=review, reviewer=reviewer, **edits)

    def items_in_review(self, meeting_id: str | None = None) -> list[ItemRow]:
        with self.session() as s:
            query = select(ItemRow).where(ItemRow.review == "pending")
            if meeting_id:
                query = query.where(ItemRow.meeting_id == meeting_id)
            return list(s.scalars(query))

    # -- pushes -----------------------------------------------------------------------------
    def push(self, tracker: str, item_key: str) -> PushRow | None:
        with self.session() as s:
            return s.scalar(select(PushRow).where(PushRow.tracker == tracker, PushRow.item_key == item_key))

    def pushed(self, tracker: str, item_key: str) -> str | None:
        row = self.push(tracker, item_key)
        return row.external_id if row and row.state == "filed" else None

    def _upsert_push(self, s: Session, tracker: str, item_key: str) -> PushRow:
        row = s.scalar(select(PushRow).where(PushRow.tracker == tracker, PushRow.item_key == item_key))
        if row is None:
            row = PushRow(tracker=tracker, item_key=item_key, attempts=0)
            s.add(row)
        return row

    def record_push(self, tracker: str, item_key: str, external_id: str, url: str | None = None) -> None:
        with self.session() as s, s.begin():
            row = self._upsert_push(s, tracker, item_key)
            row.state, row.external_id, row.url, row.error = "filed", external_id, url, None
            row.attempts = (row.attempts or 0) + 1
            self.audit(s, "item.pushed", tracker=tracker, item=item_key, external_id=external_id)

    def mark_pending(self, tracker: str, item_key: str, error: str) -> None:
        with self.session() as s, s.begin():
            row = self._upsert_push(s, tracker, item_key)
            row.state, row.error, row.attempts = "pending", error, (row.attempts or 0) + 1
            self.audit(s, "item.pending", tracker=tracker, item=item_key, error=error)

    def pushes(self, state: str | None = None, tracker: str | None = None) -> list[PushRow]:
        with self.session() as s:
            query = select(PushRow).order_by(PushRow.id)
            if state:
                query = query.where(PushRow.state == state)
            if tracker:
                query = query.where(PushRow.tracker == tracker)
            return list(s.scalars(query))

    # -- local board ------------------------------------------------------------------------
    def tasks(self, state: str | None = None) -> list[TaskRow]:
        with self.session() as s:
            query = select(TaskRow).order_by(TaskRow.id)
            if state:
                query = query.where(TaskRow.state == state)
            return list(s.scalars(query))

    def set_task_state(self, task_id: int, state: str) -> TaskRow:
        with self.session() as s, s.begin():
            task = s.get(TaskRow, task_id)
            if task is None:
                raise KeyError(task_id)
            task.state = state
            self.audit(s, "task.state", task=task_id, state=state)
            return task

    # -- reminders --------------------------------------------------------------------------
    def schedule_reminder(self, item_key: str, kind: str, send_at: datetime) -> bool:
        with self.session() as s, s.begin():
            exists = s.scalar(select(ReminderRow).where(ReminderRow.item_key == item_key, ReminderRow.kind == kind))
            if exists:
                return False
            s.add(ReminderRow(item_key=item_key, kind=kind, send_at=send_at.astimezone(timezone.utc)))
            return True

    def unschedule_reminders(self, item_key: str) -> int:
        """Drop an item's reminders not yet sent (its due date moved); returns how many."""
        with self.session() as s, s.begin():
            rows = list(s.scalars(select(ReminderRow).where(ReminderRow.item_key == item_key,
                                                            ReminderRow.state == "scheduled")))
            for row in rows:
                s.delete(row)
            return len(rows)

    def reminders(self) -> list[tuple[ReminderRow, TaskRow | None, ItemRow]]:
        with self.session() as s:
            rows = s.execute(select(ReminderRow, TaskRow, ItemRow)
                             .join(ItemRow, ItemRow.key == ReminderRow.item_key)
                             .outerjoin(TaskRow, TaskRow.item_key == ReminderRow.item_key)
                             .order_by(ReminderRow.send_at))
            return [tuple(r) for r in rows]

    def finish_reminder(self, reminder_id: int, state: str) -> None:
        with self.session() as s, s.begin():
            row = s.get(ReminderRow, reminder_id)
            row.state, row.done_at = state, utcnow()
            self.audit(s, f"reminder.{state}", reminder=reminder_id, item=row.item_key)


def item_row(meeting_id: str, item: ActionItem) -> ItemRow:
    return ItemRow(key=item.id, meeting_id=meeting_id, description=item.description, owner=item.owner,
                   due_date=item.due_date, due_phrase=item.due_phrase, status=item.status,
                   confidence=item.confidence, evidence=[e.model_dump() for e in item.evidence], model=item.model,
                   prompt_version=item.prompt_version)
