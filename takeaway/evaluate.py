"""Score the pipeline on labelled cases (folders with gold.json; format in fixtures/make_fixtures.py).

Per case: WER (jiwer, on text put through Whisper's English normalizer, the usual form for
comparing recognizers: "four dollars and ninety nine cents" and "$4.99" are the same words;
`wer_raw` is lower-cased text without punctuation only), DER (pyannote.metrics, collar 0 and 0.25 s),
decision and action-item precision/recall (a predicted item matches a gold item when its
evidence overlaps the gold turn), owner and due-date accuracy on matched items, items from
silence, LLM tokens and wall time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import jiwer
from rich.table import Table

from takeaway import engines, pipeline
from takeaway.errors import TakeawayError
from takeaway.settings import Settings
from takeaway.speech.audio import decode

RAW = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                     jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
TOLERANCE_S = 0.5


def der(gold_turns: list[dict], segments, collar: float) -> float | None:
    """segments: anything with start, end and speaker (the diarizer's turns, or transcript segments)."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    if not gold_turns:
        return None
    ref, hyp = Annotation(), Annotation()
    for t in gold_turns:
        ref[Segment(t["start"], t["end"])] = t["speaker"]
    for s in segments:
        if s.end > s.start:
            hyp[Segment(s.start, s.end)] = s.speaker or "?"
    uem = Timeline([Segment(0, max(ref.get_timeline().extent().end, hyp.get_timeline().extent().end
                                   if hyp else 0))])
    return float(DiarizationErrorRate(collar=collar)(ref, hyp, uem=uem))


def match(predicted: list, gold: list[dict], turns: list[dict]) -> list[tuple[int, int]]:
    """(pred index, gold index) pairs: evidence overlapping the gold item's turn, greedily, one to one."""
    pairs, used = [], set()
    for pi, p in enumerate(predicted):
        for gi, g in enumerate(gold):
            turn = turns[g["turn"]]
            if gi not in used and any(e.start < turn["end"] + TOLERANCE_S and e.end > turn["start"] - TOLERANCE_S
                                      for e in p.evidence):
                pairs.append((pi, gi))
                used.add(gi)
                break
    return pairs


def wer(reference: str, hypothesis: str, normalize: bool = True) -> float | None:
    """Word error rate; with `normalize`, both texts first go through Whisper's English normalizer."""
    if not reference.strip():
        return None
    if normalize:
        from whisper_normalizer.english import EnglishTextNormalizer

        english = EnglishTextNormalizer()
        reference, hypothesis = english(reference), english(hypothesis)
    return round(jiwer.wer(reference, hypothesis or "", reference_transform=RAW, hypothesis_transform=RAW), 3)


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def score_case(case: Path, settings: Settings, out: Path | None = None) -> dict:
    """One case's scores; with `out`, its minutes (transcript, items, usage) go to out/<case>.json."""
    gold = json.loads((case / "gold.json").read_text())
    meeting = gold["meeting"]
    began = time.perf_counter()
    recording = pipeline.make_recording(case / gold["audio"], meeting["title"],
                                        datetime.fromisoformat(meeting["start"]), meeting.get("participants"))
    timings: dict = {}
    transcript = pipeline.transcribe(recording, decode(recording.path), engines.transcriber_for(settings),
                                     engines.diarizer_for(settings), timings=timings,
                                     name_prompt=settings.asr_name_prompt)
    spoken = transcript.turns or transcript.segments
    extraction = pipeline.extract(transcript, engines.extractor_for(settings) if transcript.segments else None)
    wall = time.perf_counter() - began
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{case.name}.json").write_text(pipeline.minutes_of(transcript, extraction, timings).model_dump_json(
            indent=1))
    ref_text = gold.get("reference_text") or " ".join(t["text"] for t in gold["turns"])
    hyp_text = " ".join(s.text for s in transcript.segments)
    items, gold_items = extraction.action_items, gold["action_items"]
    pairs = match(items, gold_items, gold["turns"])
    dpairs = match(extraction.decisions, gold["decisions"], gold["turns"])
    owners_ok = sum(items[p].owner == gold_items[g]["owner"] for p, g in pairs)
    segments = {seg.id: seg for seg in transcript.segments}
    cited = [e for i in items for e in i.evidence]
    grounded = sum(e.segment_id in segments and segments[e.segment_id].text == e.quote
                   and abs(segments[e.segment_id].start - e.start) < 0.05 for e in cited)
    dates_ok = sum((items[p].due_date.isoformat() if items[p].due_date else None) == gold_items[g]["due_date"]
                   for p, g in pairs)
    return {
        "case": case.name,
        "audio_s": round(transcript.duration_s, 1),
        "wer": wer(ref_text, hyp_text), "wer_raw": wer(ref_text, hyp_text, normalize=False),
        "der": None if not gold["turns"] else round(der(gold["turns"], spoken, 0.0), 3),
        "der_collar_0.25": None if not gold["turns"] else round(der(gold["turns"], spoken, 0.25), 3),
        "gold_items": len(gold_items), "items": len(items), "matched": len(pairs),
        "item_precision": ratio(len(pairs), len(items)), "item_recall": ratio(len(pairs), len(gold_items)),
        "owner_accuracy": ratio(owners_ok, len(pairs)), "due_accuracy": ratio(dates_ok, len(pairs)),
        "decision_precision": ratio(len(dpairs), len(extraction.decisions)),
        "decision_recall": ratio(len(dpairs), len(gold["decisions"])),
        "grounding": ratio(grounded, len(cited)),
        "items_from_silence": len(items) if not gold["turns"] else 0,
        "tokens": extraction.usage.prompt_tokens + extraction.usage.completion_tokens,
        "wall_s": round(wall, 1),
    }


def overall(cases: list[dict]) -> dict:
    total = {k: sum(c[k] for c in cases) for k in ("gold_items", "items", "matched", "items_from_silence", "tokens")}
    owners = sum((c["owner_accuracy"] or 0) * c["matched"] for c in cases)
    dates = sum((c["due_accuracy"] or 0) * c["matched"] for c in cases)
    def mean(key: str) -> float | None:
        """Mean over the cases that have this score; None when none has it."""
        scored = [c[key] for c in cases if c[key] is not None]
        return round(sum(scored) / len(scored), 3) if scored else None

    return {"case": "overall", "audio_s": round(sum(c["audio_s"] for c in cases), 1), "wer": mean("wer"), "wer_raw": mean("wer_raw"),
            "der": mean("der"), "der_collar_0.25": mean("der_collar_0.25"), **total,
            "item_precision": ratio(total["matched"], total["items"]),
            "item_recall": ratio(total["matched"], total["gold_items"]),
            "owner_accuracy": ratio(round(owners), total["matched"]),
            "due_accuracy": ratio(round(dates), total["matched"]),
            "decision_precision": mean("decision_precision"), "decision_recall": mean("decision_recall"),
            "grounding": mean("grounding"),
            "wall_s": round(sum(c["wall_s"] for c in cases), 1)}


def run(folder: Path, settings: Settings | None = None, progress: Callable[[str], None] | None = None,
        only: list[str] | None = None, out: Path | None = None) -> list[dict]:
    cases = sorted(p.parent for p in Path(folder).glob("*/gold.json") if not only or p.parent.name in only)
    if not cases:
        raise TakeawayError(f"{folder}: no cases (subfolders with gold.json)")
    settings = settings or Settings()
    results = []
    for case in cases:
        if progress:
            progress(case.name)
        results.append(score_case(case, settings, out))
    return results + [overall(results)]


COLUMNS = {"case": "case", "audio_s": "audio s", "wer": "WER", "wer_raw": "WER raw", "der": "DER", "der_collar_0.25": "DER c.25",
           "item_precision": "item P", "item_recall": "item R", "owner_accuracy": "owner", "due_accuracy": "due",
           "decision_precision": "dec P", "decision_recall": "dec R", "grounding": "grounded",
           "items_from_silence": "items w/o speech",
           "tokens": "tokens", "wall_s": "wall s"}


def table(results: list[dict]) -> Table:
    t = Table(title="Evaluation")
    for header in COLUMNS.values():
        t.add_column(header)
    for r in results:
        t.add_row(*["-" if r.get(c) is None else str(r[c]) for c in COLUMNS])
    return t
