"""The `process_recording` flow: a recording becomes minutes, tasks on the board and reminders.

Decode the file, transcribe it with word timings, work out who spoke, extract decisions and
action items, write minutes.json and minutes.md, file the items, schedule reminders, and
meter the run. Minutes and the action-item table are published as Prefect artifacts.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from takeaway import engines, pipeline, reminders, report
from takeaway.connectors.local import LocalTracker
from takeaway.extract.extract import Extraction
from takeaway.extract.schemas import Minutes
from takeaway.settings import Settings
from takeaway.speech.audio import decode
from takeaway.speech.transcribe import Progress
from takeaway.speech.types import Recording, Transcript

#: set by the CLI to draw a progress bar while transcribing (a callable is no flow parameter)
progress_hook: Progress | None = None


@task(name="speech", cache_policy=NO_CACHE)
def speech_task(recording: Recording, settings: Settings, timings: dict) -> Transcript:
    """Decode, transcribe, diarize, attribute and name; the decoded audio is freed when it returns."""
    logger = get_run_logger()
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
    return pipeline.transcribe(recording, audio, engines.transcriber_for(settings), engines.diarizer_for(settings),
                               progress, timings, settings.asr_name_prompt)


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(transcript: Transcript, settings: Settings) -> Extraction:
    return pipeline.extract(transcript, engines.extractor_for(settings) if transcript.segments else None)


@task(name="file", cache_policy=NO_CACHE)
def file_task(minutes: Minutes, settings: Settings) -> list:
    ledger = engines.ledger_for(settings)
    ledger.record_minutes(minutes)
    refs = LocalTracker(ledger).file(minutes, minutes.action_items)
    new = reminders.schedule(ledger, minutes, settings.reminder_hour, settings.reminder_days_before)
    get_run_logger().info("filed %d new task(s), %d reminder(s) scheduled",
                          sum(r.created for r in refs), new)
    return refs


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@flow(name="process_recording", log_prints=True)
def process_recording(path: str, title: str | None = None, start: str | None = None,
                      participants: list[str] | None = None, out_dir: str = "out", team: str | None = None,
                      use_case: str | None = None) -> Minutes:
    settings = Settings()
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
    refs = file_task(minutes, settings)
    minutes.usage.stages["file"] = {"wall_s": round(time.perf_counter() - t0, 3)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "minutes.json", minutes.model_dump_json(indent=2))
    write_atomic(out / "minutes.md", report.markdown(minutes))
    engines.ledger_for(settings).record_run(minutes, round(time.perf_counter() - began, 3), str(flow_run.id))
    create_markdown_artifact(report.markdown(minutes), key="minutes", description=recording.title)
    create_table_artifact(report.item_rows(minutes) or [{"task": "no action items"}], key="action-items",
                          description=f"{len(refs)} item(s) on the local board")
    return minutes
