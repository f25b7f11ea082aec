"""Give every word a speaker and split segments where the speaker changes."""

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


def attribute(segments: list[Segment], turns: list[SpeakerTurn]) -> list[Segment]:
    """Segments re-cut so that each has one speaker, every word labelled; ids renumbered."""
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
                                   text=text, words=run if seg.words else []))
    return out
