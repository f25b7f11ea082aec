"""Give every word a speaker, split segments where the speaker changes, mark overlapped speech."""

from __future__ import annotations

from takeaway.speech.types import Segment, SpeakerTurn, Word


def speaker_at(start: float, end: float, turns: list[SpeakerTurn]) -> str | None:
    """The speaker holding most of [start, end]; the nearest turn's speaker when none overlaps."""
    if not turns:
        return None
    overlap: dict[str, float] = {}
    for t in turns:
        ov = min(end, t.end) - max(start, t.start)
        if ov > 0:
            overlap[t.speaker] = overlap.get(t.speaker, 0.0) + ov
    if overlap:
        return max(overlap, key=overlap.get)
    mid = (start + end) / 2
    return min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker


def overlaps(turns: list[SpeakerTurn]) -> list[tuple[float, float]]:
    """The stretches where two different speakers' turns run at once (a stereo call's channels talking
    together, or a diarizer that reports overlapping turns)."""
    spans: list[tuple[float, float]] = []
    ordered = sorted(turns, key=lambda t: t.start)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.start >= a.end:
                break
            if b.speaker != a.speaker:
                spans.append((b.start, min(a.end, b.end)))
    return spans


def overlapped(start: float, end: float, spans: list[tuple[float, float]], min_s: float = 0.5) -> bool:
    """True when at least `min_s` seconds (or half) of [start, end] is overlapped speech."""
    covered = sum(max(0.0, min(end, e) - max(start, s)) for s, e in spans)
    return covered >= min(min_s, (end - start) / 2) and covered > 0


def attribute(segments: list[Segment], turns: list[SpeakerTurn]) -> list[Segment]:
    """Segments re-cut so that each has one speaker (a word straddling a change goes to whoever holds
    most of it), every word labelled, overlapped speech marked; ids renumbered."""
    spans = overlaps(turns)
    out: list[Segment] = []
    for seg in segments:
        words = seg.words or [Word(start=seg.start, end=seg.end, word=" " + seg.text)]
        runs: list[list[Word]] = []
        for w in words:
            w = w.model_copy(update={"speaker": speaker_at(w.start, w.end, turns)})
            if runs and runs[-1][-1].speaker == w.speaker:
                runs[-1].append(w)
            else:
                runs.append([w])
        for run in runs:
            text = "".join(w.word for w in run).strip()
            if text:
                out.append(Segment(id=len(out), start=run[0].start, end=run[-1].end, speaker=run[0].speaker,
                                   text=text, words=run if seg.words else [],
                                   overlap=overlapped(run[0].start, run[-1].end, spans)))
    return out
