"""The `process_recording` flow: a recording becomes minutes, tasks in the team's tracker and reminders.

Decode the file, transcribe it with word timings, work out who spoke, extract decisions and
action items, write minutes.json and minutes.md, hold the items the approval policy says a
reviewer must see (pausing for Prefect's input form when `review_wait_s` > 0), file the rest
exactly once, tell owners and the team lead, schedule reminders, and meter the run. Minutes and
the action-item table are published as Prefect artifacts.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run

from takeaway import connectors, engines, pipeline, reminders, report, review
from takeaway.connectors.base import Notice, NoticeLine, TrackerError
from takeaway.connectors.filing import Filed, file_items
from takeaway.connectors.retry import with_retry
from takeaway.extract.extract import Extraction
from takeaway.flows.schedule import schedule_runs
from takeaway.extract.schemas import Minutes
from takeaway.people import Directory
from takeaway.settings import Settings
from takeaway.speech.audio import decode
from takeaway.speech.transcribe import Progress
from takeaway.speech.types import Recording, Transcript

#: set by the CLI to draw a progress bar while transcribing (a callable is no flow parameter)
progress_hook: Progress | None = None


def speech_key(recording: Recording, settings: Settings) -> Path:
    """Where this recording's transcript is kept: by file hash, participants and every speech setting."""
    fields = {k: v for k, v in settings.model_dump(mode="json").items()
              if k.startswith(("asr_", "min_speakers", "max_speakers", "speaker_"))}
    fields["participants"] = recording.participants
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    return settings.home / "transcripts" / f"{recording.meeting_id}-{digest}.json"


@task(name="speech", cache_policy=NO_CACHE)
def speech_task(recording: Recording, settings: Settings, timings: dict) -> Transcript:
    """Decode, transcribe, diarize, attribute and name; the decoded audio is freed when it returns.
    With `speech_cache`, a recording heard before with the same settings is read back instead."""
    logger = get_run_logger()
    cached = speech_key(recording, settings)
    if settings.speech_cache and cached.exists():
        transcript = Transcript.model_validate_json(cached.read_text())
        logger.info("transcript read from %s (speech_cache)", cached)
        timings["speech_cache"] = {"wall_s": 0.0}
        return transcript.model_copy(update={"recording": recording})
    marks = set()

    def progress(done: float, total: float) -> None:
        if progress_hook:
            progress_hook(done, total)
        pct = int(100 * done / total) // 10 * 10 if total else 100
        if pct not in marks:
            marks.add(pct)
            logger.info("transcribed %d%% of %.0f s", pct, total)

    t0 = time.perf_counter()
    audio = decode(recording.path)
    timings["decode"] = {"wall_s": round(time.perf_counter() - t0, 3)}
    transcript = pipeline.transcribe(recording, audio, engines.transcriber_for(settings),
                                     engines.diarizer_for(settings), progress, timings, settings.asr_name_prompt)
    if settings.speech_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, transcript.model_dump_json())
    return transcript


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(transcript: Transcript, settings: Settings) -> Extraction:
    return pipeline.extract(transcript, engines.extractor_for(settings) if transcript.segments else None)


@task(name="hold", cache_policy=NO_CACHE)
def hold_task(minutes: Minutes, settings: Settings) -> tuple[list[str], list[str]]:
    """Store the minutes; returns (items to file, items waiting for review) by the approval policy."""
    ledger = engines.ledger_for(settings)
    ledger.record_minutes(minutes)
    to_file, waiting = [], []
    for item in minutes.action_items:
        row = ledger.item(item.id)
        if row.review is None and review.held(item, settings.approval):
            ledger.update_item(item.id, "review.held", "pending")
            row.review = "pending"
        if row.review in (None, "approved"):
            to_file.append(item.id)
        elif row.review == "pending":
            waiting.append(item.id)
    return to_file, waiting


def send_notice(notifier, notice: Notice) -> bool:
    """Send a notice; a chat outage is logged, never fails the run (the tasks are already filed)."""
    try:
        with_retry(lambda: notifier.send(notice), what=f"{notifier.name} message", attempts=3)
        return True
    except TrackerError as exc:
        get_run_logger().warning("could not send the %s notice: %s", notice.kind, exc)
        return False


@task(name="file", cache_policy=NO_CACHE)
def file_task(minutes: Minutes, settings: Settings, keys: list[str]) -> list[Filed]:
    """File the items in the team's tracker exactly once, DM each owner, schedule reminders."""
    logger = get_run_logger()
    ledger = engines.ledger_for(settings)
    directory = Directory.load(settings.people_file)
    items = [ledger.action_item(k) for k in keys]
    try:
        tracker = connectors.tracker_for(settings, ledger, directory)
    except TrackerError as exc:  # the tracker is down at connect time: everything stays pending
        for item in items:
            ledger.mark_pending(settings.tracker, item.id, str(exc))
        logger.warning("%s unreachable, %d item(s) pending: %s", settings.tracker, len(items), exc)
        return [Filed(item_id=i.id, tracker=settings.tracker, state="pending", error=str(exc)) for i in items]
    filed = file_items(tracker, ledger, minutes, items, directory, settings.minutes_url, settings.tracker_attempts,
                       settings.tracker_backoff_s)
    for f in filed:
        if f.note:
            logger.warning("%s %s: %s", tracker.name, f.external_id, f.note)
    ok = {f.item_id: f for f in filed if f.state != "pending"}
    new = reminders.schedule(ledger, [i for i in items if i.id in ok], minutes.meeting.start,
                             settings.reminder_hour, settings.reminder_days_before)
    schedule_runs(new)
    tell_owners(settings, directory, minutes.meeting.title, items, filed)
    logger.info("%s: %d created, %d already there, %d pending; %d reminder(s) scheduled", tracker.name,
                sum(f.state == "created" for f in filed), sum(f.state in ("found", "existing") for f in filed),
                sum(f.state == "pending" for f in filed), len(new))
    return filed


def tell_owners(settings: Settings, directory: Directory, title: str, items: list, filed: list[Filed]) -> None:
    """DM each owner the items newly filed for them (created now, or found on the tracker after a lost reply)."""
    notifier = connectors.notifier_for(settings, directory)
    new = {f.item_id: f for f in filed if f.state in ("created", "found")}
    for item in items:
        owner = directory.find(item.owner)
        if item.id in new and owner:
            send_notice(notifier, Notice(kind="assigned", to=owner, headline=f"New task from \"{title}\"",
                                         lines=[line_for(item, new[item.id])]))


def line_for(item, filed: Filed | None = None) -> NoticeLine:
    return NoticeLine(task=item.description, owner=item.owner, due_date=item.due_date,
                      quote=item.evidence[0].quote if item.evidence else "", url=filed.url if filed else None,
                      external_id=filed.external_id if filed else None)


def await_review(settings: Settings, waiting: list[str]) -> list[str]:
    """Pause for Prefect's review form; returns the approved item ids (the rest stay as decided)."""
    ledger = engines.ledger_for(settings)
    form = review.ReviewForm.with_initial_data(
        description=f"{len(waiting)} item(s) need a reviewer: set each decision to approve or reject "
                    "(edit owner, due date or description if needed).",
        items=review.form_for([ledger.item(k) for k in waiting]))
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=settings.review_wait_s, poll_interval=2)
    except FlowPauseTimeout:
        get_run_logger().warning("no review within %d s: %d item(s) stay pending", settings.review_wait_s,
                                 len(waiting))
        return []
    return review.apply(ledger, answer.items, answer.reviewer)["approve"]


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@flow(name="process_recording", log_prints=True)
def process_recording(path: str, title: str | None = None, start: str | None = None,
                      participants: list[str] | None = None, out_dir: str = "out", team: str | None = None,
                      use_case: str | None = None, tracker: str | None = None,
                      notify: str | None = None) -> Minutes:
    overrides = {k: v for k, v in (("tracker", tracker), ("notify", notify)) if v}
    settings = Settings().for_team(team)
    settings = type(settings)(**{**settings.model_dump(), **overrides}) if overrides else settings
    connectors.check_config(settings)
    began = time.perf_counter()
    recording = pipeline.make_recording(path, title, datetime.fromisoformat(start) if start else None, participants)
    timings: dict = {}
    transcript = speech_task(recording, settings, timings)
    t0 = time.perf_counter()
    extraction = extract_task(transcript, settings)
    timings["extract"] = {"wall_s": round(time.perf_counter() - t0, 3),
                          "prompt_tokens": extraction.usage.prompt_tokens,
                          "completion_tokens": extraction.usage.completion_tokens}
    tags = {k: v for k, v in (("team", team), ("use_case", use_case)) if v}
    minutes = pipeline.minutes_of(transcript, extraction, timings, tags, settings.price_in_per_1k,
                                  settings.price_out_per_1k)
    t0 = time.perf_counter()
    to_file, waiting = hold_task(minutes, settings)
    filed = file_task(minutes, settings, to_file)
    if waiting and settings.review_wait_s > 0:
        approved = await_review(settings, waiting)
        filed += file_task(minutes, settings, approved)
    minutes.usage.stages["file"] = {"wall_s": round(time.perf_counter() - t0, 3)}
    tell_lead(minutes, settings, filed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "minutes.json", minutes.model_dump_json(indent=2))
    write_atomic(out / "minutes.md", report.markdown(minutes))
    engines.ledger_for(settings).record_run(minutes, round(time.perf_counter() - began, 3), str(flow_run.id))
    create_markdown_artifact(report.markdown(minutes), key="minutes", description=recording.title)
    create_table_artifact(report.item_rows(minutes) or [{"task": "no action items"}], key="action-items",
                          description=f"{sum(f.state != 'pending' for f in filed)} item(s) in {settings.tracker}")
    return minutes


def tell_lead(minutes: Minutes, settings: Settings, filed: list[Filed]) -> None:
    """The per-meeting digest for the team lead: what was filed where, what waits for review or a retry."""
    ledger = engines.ledger_for(settings)
    directory = Directory.load(settings.people_file)
    notifier = connectors.notifier_for(settings, directory)
    by_id = {f.item_id: f for f in filed}
    waiting = ledger.items_in_review(minutes.meeting.id)
    pending = [f for f in filed if f.state == "pending"]
    lines = [line_for(i, by_id[i.id]) for i in minutes.action_items if i.id in by_id and by_id[i.id].state != "pending"]
    headline = f"{minutes.meeting.title}: {len(lines)} task(s) in {settings.tracker}"
    if pending:
        headline += f", {len(pending)} pending (tracker unavailable; `takeaway push-pending` retries)"
    if waiting:
        headline += f", {len(waiting)} waiting for review (`takeaway review`)"
    tell_lead_once(ledger, notifier, minutes.meeting.id, Notice(kind="digest", to=None, headline=headline,
                                                                lines=lines))
    if waiting:
        tell_lead_once(ledger, notifier, minutes.meeting.id, Notice(
            kind="review", to=None, headline=f"{len(waiting)} item(s) from \"{minutes.meeting.title}\" wait for "
                                             "your review: run `takeaway review`",
            lines=[NoticeLine(task=r.description, owner=r.owner, due_date=r.due_date,
                              quote=r.evidence[0]["quote"] if r.evidence else "") for r in waiting]))


def tell_lead_once(ledger, notifier, meeting_id: str, notice: Notice) -> None:
    """Send the lead a meeting's notice unless the very same one was sent before: a re-run that changed
    nothing does not tell the lead again; a changed state (items filed after an outage) does."""
    sent = {"meeting": meeting_id, "notify": notifier.name,
            "notice": hashlib.sha256(notice.model_dump_json().encode()).hexdigest()[:16]}
    if ledger.noted(f"{notice.kind}.sent", **sent):
        get_run_logger().info("the team lead already has this %s; not sent again", notice.kind)
    elif send_notice(notifier, notice):
        ledger.note(f"{notice.kind}.sent", **sent)
