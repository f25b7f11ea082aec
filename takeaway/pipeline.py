"""The stages of one recording as plain functions (flows/ wraps them as Prefect tasks).

Recording -> Transcript -> Minutes; each stage takes the previous value and returns the next.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from pathlib import Path

from takeaway.extract.extract import Extraction, Extractor
from takeaway.extract.schemas import LLMUsage, MeetingInfo, Minutes, Usage
from takeaway.speech.attribute import attribute, merge_channels
from takeaway.speech.audio import Audio
from takeaway.speech.diarize import EmbeddedDiarizer, channel_turns, is_call, label
from takeaway.speech.naming import name_speakers
from takeaway.speech.transcribe import Progress, Transcriber
from takeaway.speech.types import Recording, Transcript


def file_id(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def make_recording(path: str | Path, title: str | None = None, start: datetime | None = None,
                   participants: list[str] | None = None, source: str = "cli") -> Recording:
    """A Recording for `path`; without `start`, the file's modification time (local zone) is used."""
    path = Path(path)
    start_source = "given"
    if start is None:
        start = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).astimezone()
        start_source = "file"
    elif start.tzinfo is None:
        start = start.astimezone()
    return Recording(path=path, meeting_id=file_id(path), title=title or path.stem.replace("_", " "),
                     start=start, start_source=start_source, participants=participants or [], source=source)


def transcribe(recording: Recording, audio: Audio, transcriber: Transcriber, diarizer: EmbeddedDiarizer,
               progress: Progress | None = None, timings: dict | None = None, name_prompt: bool = True) -> Transcript:
    """Transcribe, diarize, attribute every word to a speaker and name the speakers.

    A call recording with one speaker per channel is transcribed channel by channel instead: each
    channel's words are its speaker's, and crosstalk neither blurs the words nor their speaker."""
    timings = timings if timings is not None else {}
    names = recording.participants if name_prompt else None
    t0 = time.perf_counter()
    if is_call(audio):
        channels, language = [], "en"
        for ch, samples in enumerate(audio.samples):
            def shifted(done: float, total: float, ch: int = ch) -> None:
                if progress:
                    progress(ch * total + done, audio.channels * total)

            segments, language = transcriber(samples, shifted, names)
            channels.append(segments)
        t1 = time.perf_counter()
        turns = channel_turns(audio.samples) if any(channels) else []
        t2 = time.perf_counter()
        segments = merge_channels(channels, turns, [label(ch) for ch in range(audio.channels)])
    else:
        segments, language = transcriber(audio.mono, progress, names)
        t1 = time.perf_counter()
        turns = diarizer(audio, len(recording.participants) or None) if segments else []
        t2 = time.perf_counter()
        segments = attribute(segments, turns)
    speakers = name_speakers(segments, recording.participants)
    timings["transcribe"] = {"wall_s": round(t1 - t0, 3)}
    timings["diarize"] = {"wall_s": round(t2 - t1, 3)}
    return Transcript(recording=recording, duration_s=round(audio.duration_s, 3), language=language,
                      segments=segments, speakers=speakers, turns=turns)


def extract(transcript: Transcript, extractor: Extractor | None) -> Extraction:
    """Decisions and action items; a transcript without speech asks no model and yields nothing."""
    if not transcript.segments or extractor is None:
        return Extraction(decisions=[], action_items=[], usage=LLMUsage())
    return extractor(transcript)


def minutes_of(transcript: Transcript, extraction: Extraction, timings: dict, tags: dict[str, str] | None = None,
               price_in_per_1k: float = 0.0, price_out_per_1k: float = 0.0) -> Minutes:
    rec = transcript.recording
    llm = extraction.usage
    llm.cost = round(llm.prompt_tokens / 1000 * price_in_per_1k + llm.completion_tokens / 1000 * price_out_per_1k, 6)
    speech_s = sum(v["wall_s"] for k, v in timings.items() if k in ("decode", "transcribe", "diarize"))
    audio_s = transcript.duration_s
    return Minutes(
        meeting=MeetingInfo(id=rec.meeting_id, title=rec.title, start=rec.start.isoformat(),
                            duration_s=audio_s, language=transcript.language, source=str(rec.path)),
        speakers=transcript.speakers, segments=transcript.segments, decisions=extraction.decisions,
        action_items=extraction.action_items,
        usage=Usage(tags=tags or {}, stages=timings, audio_s=audio_s, rtf=round(speech_s / audio_s, 4) if audio_s else 0.0,
                    llm=extraction.usage))
