"""Give every word a speaker, split segments where the speaker changes, mark overlapped speech.

A call recording transcribed channel by channel needs no attribution: `merge_channels` labels each
channel's segments with its speaker and interleaves them by time."""

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


def merge_channels(channels: list[list[Segment]], turns: list[SpeakerTurn], labels: list[str],
                   max_pause_s: float = 1.5) -> list[Segment]:
    """Each channel's segments, spoken by that channel's speaker (`labels`), merged in time order.

    The VAD joins a channel's speech across the other side's turns, so a segment is cut where the
    other channel speaks in a pause between its words (or a pause exceeds `max_pause_s`): each
    segment is one turn. Overlapped speech (both channels at once) is marked; ids renumbered."""
    spans = overlaps(turns)
    pieces: list[tuple[Segment, str]] = []
    for segments, speaker in zip(channels, labels):
        others = [t for t in turns if t.speaker != speaker]
        for seg in segments:
            for run in split_at_turns(seg.words, others, max_pause_s) if seg.words else [[]]:
                words = [w.model_copy(update={"speaker": speaker}) for w in run]
                text = "".join(w.word for w in run).strip() if run else seg.text
                if text:
                    pieces.append((seg.model_copy(update={"start": run[0].start if run else seg.start,
                                                          "end": run[-1].end if run else seg.end,
                                                          "text": text, "words": words}), speaker))
    pieces.sort(key=lambda pair: (pair[0].start, pair[0].end))
    return [seg.model_copy(update={"id": i, "speaker": speaker, "overlap": overlapped(seg.start, seg.end, spans)})
            for i, (seg, speaker) in enumerate(pieces)]


def split_at_turns(words: list[Word], others: list[SpeakerTurn], max_pause_s: float) -> list[list[Word]]:
    """Words in runs, cut at pauses in which another speaker starts talking, or longer than `max_pause_s`."""
    runs: list[list[Word]] = []
    for w in words:
        if runs:
            gap_start, gap_end = runs[-1][-1].end, w.start
            if gap_end - gap_start > max_pause_s or any(gap_start <= t.start < gap_end for t in others):
                runs.append([w])
                continue
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs
