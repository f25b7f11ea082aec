"""Transcript -> decisions and action items: the LLM finds them, code grounds and completes them.

The model sees numbered transcript lines and returns, per item, the lines it came from, a
short task, the owner's name and the due-date words. Code then checks that the lines exist
and commit someone to something, resolves the owner from who said what to whom, resolves
the due date from the words and the meeting's start, and scores confidence. Transcripts too
long for the model's context are split by token count with overlapping lines and merged.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from takeaway.errors import ExtractionError
from takeaway.extract import dates, grounding, owners
from takeaway.extract.llm import LLM
from takeaway.extract.schemas import ActionItem, Decision, Evidence, LLMUsage
from takeaway.speech.types import Segment, Transcript

PROMPT_VERSION = "minutes_v1"
MAX_ANSWER_TOKENS = 1024
#: a greedy small model can fall into a loop (the same item again and again) until the answer is cut off;
#: such a chunk is asked once more with this frequency penalty before it goes to the fallback model
RETRY_PENALTY = 0.5
OVERLAP_LINES = 3


class InvalidAnswer(ExtractionError):
    """The model's answer is not JSON of the minutes schema (cut off, or malformed)."""


class RawDecision(BaseModel):
    text: str
    lines: list[int]


class RawItem(BaseModel):
    task: str
    owner: str | None = None
    due: str | None = None
    lines: list[int]


class RawMinutes(BaseModel):
    decisions: list[RawDecision] = Field(default_factory=list)
    action_items: list[RawItem] = Field(default_factory=list)


ANSWER_SCHEMA = RawMinutes.model_json_schema()


def load_prompt(version: str = PROMPT_VERSION) -> Template:
    return Template(resources.files("takeaway.extract").joinpath(f"prompts/{version}.md").read_text())


@dataclass
class Extraction:
    decisions: list[Decision]
    action_items: list[ActionItem]
    usage: LLMUsage
    rejected: int = 0


class AnswerCache(Protocol):
    """Stores model answers by (chunk, prompt version, model): re-processing costs no tokens."""

    def get_answer(self, key: str) -> str | None: ...

    def put_answer(self, key: str, model: str, prompt_version: str, answer: str) -> None: ...


class Extractor:
    """Configured once with an LLM backend; called on a named, attributed transcript.

    fallback: a larger model that gets a chunk when the first model's answer does not validate
    (also when asked again with a repetition penalty) or cites lines that are not in the chunk (the
    router). cache: answers already paid for.
    """

    def __init__(self, llm: LLM, prompt_version: str = PROMPT_VERSION, review_confidence: float = 0.6,
                 fallback: LLM | None = None, cache: AnswerCache | None = None,
                 max_answer_tokens: int = MAX_ANSWER_TOKENS):
        self.llm = llm
        self.fallback = fallback
        self.cache = cache
        self.prompt_version = prompt_version
        self.prompt = load_prompt(prompt_version)
        self.review_confidence = review_confidence
        self.max_answer_tokens = max_answer_tokens

    def __call__(self, transcript: Transcript) -> Extraction:
        usage = LLMUsage(model=self.llm.model_id, prompt_version=self.prompt_version)
        raw = RawMinutes()
        for lines in self.chunks(transcript):
            answer = self.ask(lines, usage)
            raw.decisions += answer.decisions
            raw.action_items += answer.action_items
        return self.complete(raw, transcript, usage)

    # -- the model's part -------------------------------------------------------------------
    def lines(self, transcript: Transcript) -> list[str]:
        return [f"[{s.id}] {transcript.display(s.speaker)}: {s.text}" for s in transcript.segments]

    def chunks(self, transcript: Transcript) -> list[list[str]]:
        """Transcript lines split so that prompt + answer fit the model's context, never truncated."""
        lines = self.lines(transcript)
        if not lines:
            return []
        budget = self.llm.context - MAX_ANSWER_TOKENS - self.llm.count_tokens(self.prompt.template) - 64
        costs = [self.llm.count_tokens(line) + 1 for line in lines]
        if max(costs) > budget:
            raise ExtractionError(f"one transcript line needs {max(costs)} tokens, more than the "
                                  f"{budget} the model's context leaves; raise TAKEAWAY_LLM_CONTEXT")
        chunks, start = [], 0
        while start < len(lines):
            end, used = start, 0
            while end < len(lines) and used + costs[end] <= budget:
                used += costs[end]
                end += 1
            chunks.append(lines[start:end])
            if end == len(lines):
                break
            start = max(start + 1, end - OVERLAP_LINES)
        return chunks

    def ask(self, lines: list[str], usage: LLMUsage) -> RawMinutes:
        """The answer for one chunk: from the cache, the first model, or (when that fails) the fallback."""
        messages = [{"role": "system", "content": "You turn meeting transcripts into minutes as JSON."},
                    {"role": "user", "content": self.prompt.substitute(transcript="\n".join(lines))}]
        ids = {int(line[1:line.index("]")]) for line in lines}
        try:
            return self.answer(self.llm, messages, ids, usage)
        except ExtractionError:
            if self.fallback is None:
                raise
            usage.routed += 1
            return self.answer(self.fallback, messages, ids, usage)

    def answer(self, llm: LLM, messages: list[dict], ids: set[int], usage: LLMUsage) -> RawMinutes:
        key = hashlib.sha256(json.dumps([llm.model_id, self.prompt_version, messages]).encode()).hexdigest()
        text = self.cache.get_answer(key) if self.cache else None
        if text is not None:
            usage.cached_calls += 1
            return self.parse(llm, text, ids)
        try:
            text = self.call(llm, messages, usage)
            raw = self.parse(llm, text, ids)
        except InvalidAnswer:
            usage.retried += 1
            text = self.call(llm, messages, usage, RETRY_PENALTY)
            raw = self.parse(llm, text, ids)
        if self.cache:
            self.cache.put_answer(key, llm.model_id, self.prompt_version, text)
        return raw

    def call(self, llm: LLM, messages: list[dict], usage: LLMUsage, penalty: float = 0.0) -> str:
        out = llm.complete(messages, ANSWER_SCHEMA, max_tokens=self.max_answer_tokens, frequency_penalty=penalty)
        usage.prompt_tokens += out.prompt_tokens
        usage.completion_tokens += out.completion_tokens
        usage.calls += 1
        return out.text

    @staticmethod
    def parse(llm: LLM, text: str, ids: set[int]) -> RawMinutes:
        try:
            raw = RawMinutes.model_validate(json.loads(text))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InvalidAnswer(f"{llm.model_id}: the answer does not validate against the minutes schema: "
                                f"{str(exc).splitlines()[0]}") from None
        cited = {i for x in raw.action_items + raw.decisions for i in x.lines}
        if cited - ids:
            raise ExtractionError(f"{llm.model_id}: the answer cites lines {sorted(cited - ids)} "
                                  "that are not in the transcript")
        return raw

    # -- code's part ------------------------------------------------------------------------
    def complete(self, raw: RawMinutes, transcript: Transcript, usage: LLMUsage) -> Extraction:
        by_id = {s.id: s for s in transcript.segments}
        people = people_of(transcript)
        for x in raw.decisions + raw.action_items:
            x.lines = anchor(x.text if isinstance(x, RawDecision) else x.task, x.lines, by_id)
        for d in list(raw.decisions):
            # "I will ..." or "Ben, can you ..." is an action item, not a decision, whatever the model called it
            said = [by_id[i] for i in d.lines if i in by_id]
            if said and all(grounding.is_commitment(s.text) for s in said):
                raw.decisions.remove(d)
                raw.action_items.append(RawItem(task=d.text, lines=d.lines))
        for item in raw.action_items:
            cited = [by_id[i] for i in item.lines if i in by_id]
            if len(cited) == 1 and grounding.resemblance(item.task, cited[0].text) < 40:
                item.task, item.due = describe(cited[0].text), None  # the model's words belong elsewhere
        raw.action_items = [part for item in sorted(raw.action_items, key=lambda x: min(x.lines, default=-1))
                            for part in split_two(item)]
        for item in list(raw.action_items):
            # "we decided to ..." is a decision, whatever the model called it
            said = [by_id[i] for i in item.lines if i in by_id]
            if said and all(grounding.is_decision(s.text) for s in said):
                raw.action_items.remove(item)
                raw.decisions.append(RawDecision(text=item.task, lines=item.lines))
        item_lines = {i for item in raw.action_items for i in item.lines}
        found, cited = [], set()  # (text, evidence) of each decision; the lines they cite
        for d in raw.decisions:
            lines = [i for i in dict.fromkeys(d.lines) if i in by_id]
            if set(d.lines) <= item_lines or not lines or cited & set(lines):
                continue
            if max(grounding.resemblance(d.text, by_id[i].text) for i in lines) < 40:
                continue  # not what the cited lines say
            if not any(grounding.is_decision(by_id[i].text) for i in lines):
                continue  # a question, an idea or a proposal: nothing was settled
            cited.update(lines)
            found.append((d.text.strip(), [evidence_of(by_id[i]) for i in lines]))
        taken = cited | item_lines
        for seg in transcript.segments:
            # a settled statement the model passed over is still a decision
            if seg.id not in taken and grounding.is_decision(seg.text):
                cited.add(seg.id)
                found.append((settled(seg.text), [evidence_of(seg)]))
        found.sort(key=lambda f: f[1][0].segment_id)
        decisions = [Decision(id=f"D{n}", text=text, evidence=evidence) for n, (text, evidence) in enumerate(found, 1)]
        groups: list[tuple[RawItem, list[Segment]]] = []
        rejected = 0
        for item in raw.action_items:
            segments = [by_id[i] for i in sorted(set(item.lines)) if i in by_id]
            actionable = [s for s in segments if grounding.is_actionable(focus(item.task, s.text))]
            if segments and not actionable:
                rejected += 1
                continue
            if actionable and all(grounding.is_confirmation(s.text) and not dates.find_due_phrase(s.text)
                                  for s in actionable):
                # a bare "Sure, I'll do that": it belongs to the request just before it
                prior = next((g for g in groups if any(0 < actionable[0].id - s.id <= 2 for s in g[1])), None)
                if prior:
                    prior[1].extend(actionable)
                    continue
            same = next((g for g in groups if {s.id for s in g[1]} & {s.id for s in actionable}
                         and similar(g[0].task, item.task)), None)
            if same:
                same[1].extend(s for s in actionable if s not in same[1])
                continue
            groups.append((item, actionable))
        covered = {s.id for _, segs in groups for s in segs} | {i for d in raw.decisions for i in d.lines} | cited
        for seg in transcript.segments:
            # a dated commitment or request the model passed over is still an item
            if seg.id not in covered and is_dated_commitment(seg.text):
                groups.append((RawItem(task=describe(seg.text), lines=[seg.id]), [seg]))
        items = merge_repeats([self.item(raw_item, sorted(segs, key=lambda s: s.id), transcript, people)
                               for raw_item, segs in groups])
        seen: dict[str, int] = {}
        for it in items:  # two items said in one turn share an anchor: number the second
            seen[it.id] = seen.get(it.id, 0) + 1
            if seen[it.id] > 1:
                it.id = f"{it.id}-{seen[it.id]}"
        return Extraction(decisions=decisions, action_items=items, usage=usage, rejected=rejected)

    def item(self, raw: RawItem, segments: list[Segment], transcript: Transcript,
             people: list[str]) -> ActionItem:
        flags: list[str] = []
        confidence = 1.0
        if not segments:
            flags.append("evidence not found in the transcript")
            confidence -= 0.5
        if any(s.overlap for s in segments):
            flags.append("evidence is overlapped speech")
        owner, how = None, ""
        for seg in segments:
            owner, how = owners.owner_from_text(seg.text, transcript.name_of(seg.speaker), people)
            if owner:
                break
        if not owner and (named := owners.match_name(raw.owner, people)):
            owner, how = named, "model"
            flags.append("owner named by the model, not traced to the words")
            confidence -= 0.3
        if not owner:
            flags.append("owner unresolved")
            confidence -= 0.5
        words = " ".join(s.text for s in segments).lower()
        said = [p for p in (dates.find_due_phrase(raw.task), dates.find_due_phrase(raw.due or ""))
                if p and p.lower().split()[-1] in words]  # the model's date words, if really in the evidence
        phrase = said[0] if said else next(
            (p for s in segments if (p := dates.find_due_phrase(focus(raw.task, s.text)))), None)
        if raw.due and not phrase:
            flags.append(f"due date {raw.due!r} not found in the evidence")
            confidence -= 0.3
        due = dates.resolve_due(phrase, transcript.recording.start.date())
        if phrase and not due:
            flags.append(f"due date {phrase!r} is not a date")
            confidence -= 0.4
        if not phrase and not raw.due:
            confidence -= 0.1
        confidence = round(max(confidence, 0.0), 2)
        ready = owner is not None and bool(segments) and not flags and confidence >= self.review_confidence
        key = item_id(transcript.recording.meeting_id, segments, raw.task)
        return ActionItem(id=key, description=describe(raw.task), owner=owner, due_date=due, due_phrase=phrase,
                          evidence=[evidence_of(s) for s in segments], confidence=confidence,
                          status="ready" if ready else "needs_review", flags=flags, model=self.llm.model_id,
                          prompt_version=self.prompt_version)


def anchor(text: str, lines: list[int], by_id: dict[int, Segment], reach: int = 2) -> list[int]:
    """The lines an answer cites, moved to a neighbour when the model was off by a line or two:
    when no cited line resembles the item's text but a nearby line clearly does."""
    def score(i: int) -> float:
        return grounding.resemblance(text, by_id[i].text) if i in by_id else 0.0

    cited = max((score(i) for i in lines), default=0.0)
    if cited >= 60 or not lines:
        return lines
    near = {j for i in lines for j in range(i - reach, i + reach + 1) if j in by_id}
    best = max(near, key=score, default=None)
    return [best] if best is not None and score(best) >= 60 and score(best) > cited + 15 else lines


def split_two(item: RawItem) -> list[RawItem]:
    """ "Draft the agenda today and send the invites by Friday": two tasks, two dates, one turn."""
    parts = re.split(r",? and (?:then |also )?(?=[a-z])", item.task, maxsplit=1)
    if len(parts) == 2 and all(dates.find_due_phrase(p) for p in parts):
        return [RawItem(task=p.strip(), owner=item.owner, due=dates.find_due_phrase(p), lines=item.lines)
                for p in parts]
    return [item]


def similar(a: str, b: str) -> bool:
    return fuzz.token_set_ratio(a.lower(), b.lower()) >= 60


def merge_repeats(items: list[ActionItem]) -> list[ActionItem]:
    """One item confirmed twice ("so to confirm, you print the handouts on Monday") stays one item:
    same owner, same due date and a similar task merge, keeping the first and all the evidence."""
    kept: list[ActionItem] = []
    for item in items:
        twin = next((k for k in kept if k.due_date == item.due_date and similar(k.description, item.description)
                     and (k.owner == item.owner or None in (k.owner, item.owner))), None)
        if twin is None:
            kept.append(item)
            continue
        # keep the better-resolved of the two, with the evidence of both
        best, other = (twin, item) if twin.confidence >= item.confidence else (item, twin)
        seen = {e.segment_id for e in best.evidence}
        best.evidence = sorted(best.evidence + [e for e in other.evidence if e.segment_id not in seen],
                               key=lambda e: e.segment_id)
        kept[kept.index(twin)] = best
    return kept


def focus(task: str, text: str) -> str:
    """The sentence of a turn that the task comes from (the whole turn when none stands out)."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+|,?\s+and\s+(?=[a-z])", text.strip()) if p]
    if len(parts) < 2:
        return text
    best = max(parts, key=lambda p: grounding.resemblance(task, p))
    return best if grounding.resemblance(task, best) >= 50 else text


def is_dated_commitment(text: str) -> bool:
    return (grounding.is_commitment(text) and not grounding.is_confirmation(text)
            and dates.find_due_phrase(text) is not None)


def describe(text: str) -> str:
    """A task title from a commitment sentence: "Okay, I will fix the bug by Friday." -> "Fix the bug by Friday"."""
    text = re.sub(r"^(?:\W*(?:ok(?:ay)?|so|and|also|great|good|right|agreed|yes|sure)\b[\s,.!]*)+", "", text,
                  flags=re.I)
    text = re.sub(r"^[A-Z][a-z]+,\s*", "", text)
    text = re.sub(r"^(?:I will|I'll|I am going to|I'm going to|I can|let me|can you|could you|would you|"
                  r"will you|please)\s+", "", text, flags=re.I)
    text = text.strip().rstrip("?.!")
    return text[:1].upper() + text[1:]


def settled(text: str) -> str:
    """A decision's text from the sentence that settles it: "No, we will keep it in person." -> "We will keep
    it in person"."""
    sentence = next(s for s in grounding.sentences(text) if grounding.is_decision(s))
    sentence = re.sub(r"^(?:\W*(?:no|ok(?:ay)?|so|great|good|right|agreed|yes|fine)\b[\s,.!:]*)+", "", sentence, flags=re.I)
    sentence = re.sub(r"^let's make it official\W+", "", sentence, flags=re.I).strip().rstrip(".!")
    return sentence[:1].upper() + sentence[1:]


def people_of(transcript: Transcript) -> list[str]:
    names = list(transcript.recording.participants) + [s.name for s in transcript.speakers if s.name]
    return list(dict.fromkeys(names))


def evidence_of(segment: Segment) -> Evidence:
    return Evidence(segment_id=segment.id, start=round(segment.start, 2), end=round(segment.end, 2),
                    quote=segment.text)


def item_id(meeting_id: str, segments: list[Segment], task: str) -> str:
    """Stable per meeting: where it was said (or, without evidence, what was said)."""
    anchor = ",".join(f"{s.start:.1f}" for s in segments) or task.lower()
    return "A-" + hashlib.sha256(f"{meeting_id}|{anchor}".encode()).hexdigest()[:10]
