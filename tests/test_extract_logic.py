"""The code around the model: re-anchoring, splitting, merging, conversions (with scripted answers).

These pin the post-processing with answers written by hand; tests/test_pipeline_e2e.py and
tests/test_openai_backend.py run the real model.
"""

import json

import numpy as np

from conftest import typed_transcript

from takeaway.extract.extract import Extractor, RawItem, anchor, split_two
from takeaway.extract.llm import Completion
from takeaway.speech.diarize import fold_small
from takeaway.speech.naming import name_speakers
from takeaway.speech.types import Segment

LINES = [("S0", "Hi Mark, Lena here. Let's plan the workshop."),
         ("S1", "Mark here, sounds good."),
         ("S0", "I will draft the agenda today and send the invites by Friday."),
         ("S1", "I will order the catering next Tuesday."),
         ("S0", "Mark, can you print the handouts on Monday?"),
         ("S1", "Sure, I will do that."),
         ("S0", "Great. So to confirm, you print the handouts on Monday."),
         ("S1", "If the room is free, I will book it tomorrow."),
         ("S0", "We decided to hold it in the big hall.")]


def transcript():
    return typed_transcript(LINES, {"S0": "Lena", "S1": "Mark"}, "2026-11-25T11:00:00+00:00", "Workshop")


class Scripted:
    """An LLM stand-in that returns a fixed answer (to test the code around the model)."""

    model_id = "scripted"
    context = 8192

    def __init__(self, answer: dict):
        self.answer = json.dumps(answer)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(self, messages, schema, max_tokens=1024, frequency_penalty=0.0):
        return Completion(text=self.answer, prompt_tokens=10, completion_tokens=5, model=self.model_id)


class Looping(Scripted):
    """A greedy small model caught in a loop: the same decision until the answer is cut off, unless
    repetition is penalized."""

    penalties: list[float]

    def complete(self, messages, schema, max_tokens=1024, frequency_penalty=0.0):
        self.penalties.append(frequency_penalty)
        if frequency_penalty:
            return super().complete(messages, schema, max_tokens)
        loop = '{"decisions": [' + ', '.join(['{"text": "Hold it in the big hall", "lines": [8]}'] * 40)
        return Completion(text=loop[:1500], prompt_tokens=10, completion_tokens=max_tokens, model=self.model_id)


def test_a_small_models_mistakes_are_mended_by_code():
    answer = {"decisions": [{"text": "Order the catering next Tuesday", "lines": [3]}],
              "action_items": [
                  {"task": "Draft the agenda today and send the invites by Friday", "lines": [2]},
                  {"task": "Print the handouts", "lines": [5]},          # off by one: the request is line 4
                  {"task": "Print the handouts on Monday", "lines": [6]},  # the same item confirmed again
                  {"task": "Book the room", "lines": [7]},               # conditional: not an item
                  {"task": "Hold it in the big hall", "lines": [8]}]}    # a decision, not an item
    result = Extractor(Scripted(answer))(transcript())
    got = sorted((i.description, i.owner, str(i.due_date)) for i in result.action_items)
    assert got == [("Draft the agenda today", "Lena", "2026-11-25"), ("Order the catering next Tuesday", "Mark",
                                                                       "2026-12-01"),
                   ("Print the handouts", "Mark", "2026-11-30"), ("Send the invites by Friday", "Lena", "2026-11-27")]
    handouts = next(i for i in result.action_items if i.description == "Print the handouts")
    assert [e.segment_id for e in handouts.evidence] == [4, 6]
    assert len({i.id for i in result.action_items}) == 4
    assert [d.text for d in result.decisions] == ["Hold it in the big hall"]


def test_answers_citing_lines_outside_the_transcript_fail_validation():
    import pytest

    from takeaway.errors import ExtractionError

    with pytest.raises(ExtractionError, match="not in the transcript"):
        Extractor(Scripted({"decisions": [], "action_items": [{"task": "x", "lines": [99]}]}))(transcript())


def test_an_answer_cut_off_by_a_loop_is_asked_again_with_a_repetition_penalty():
    import pytest

    from takeaway.errors import ExtractionError

    llm = Looping({"decisions": [{"text": "Hold it in the big hall", "lines": [8]}], "action_items": []})
    llm.penalties = []
    result = Extractor(llm)(transcript())
    assert llm.penalties == [0.0, 0.5] and result.usage.retried == 1 and result.usage.calls == 2
    assert [d.text for d in result.decisions] == ["Hold it in the big hall"]
    stuck = Looping({})
    stuck.answer, stuck.penalties = "{\"decisions\": [", []  # loops whatever the penalty
    with pytest.raises(ExtractionError, match="does not validate"):
        Extractor(stuck)(transcript())


def test_anchor_and_split():
    by_id = {s.id: s for s in transcript().segments}
    assert anchor("Print the handouts on Monday", [5], by_id) == [4]
    assert anchor("Sure", [5], by_id) == [5]
    parts = split_two(RawItem(task="Draft the agenda today and send the invites by Friday", lines=[2]))
    assert [p.task for p in parts] == ["Draft the agenda today", "send the invites by Friday"]
    assert split_two(RawItem(task="Draft and send the agenda by Friday", lines=[2]))[0].task.startswith("Draft and")


def test_brief_clusters_fold_into_the_nearest_voice():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=256), rng.normal(size=256)
    emb = np.array([a + rng.normal(scale=0.1, size=256) for _ in range(20)] +
                   [b + rng.normal(scale=0.1, size=256) for _ in range(20)] + [a + rng.normal(scale=0.5, size=256)])
    labels = np.array([0] * 20 + [1] * 20 + [2])
    assert list(np.unique(fold_small(emb, labels, 4, 1))) == [0, 1]
    assert fold_small(emb, labels, 4, 1)[-1] == 0
    assert list(np.unique(fold_small(emb, labels, 0, 1, max_speakers=3))) == [0, 1, 2]
    assert len(np.unique(fold_small(emb, labels, 0, 1, max_speakers=1))) == 1


def test_mangled_introductions_still_name_participants():
    segs = [Segment(id=0, start=0, end=2, speaker="A", text="Mrs. Brace, the draft came back."),
            Segment(id=1, start=2, end=4, speaker="B", text="Jim's here, I am covering support."),
            Segment(id=2, start=4, end=6, speaker="C", text="Okay, sounds good.")]
    names = {s.label: s.name for s in name_speakers(segs, ["Grace", "James", "Helen"])}
    assert names == {"A": "Grace", "B": "James", "C": "Helen"}
    assert {s.name for s in name_speakers(segs, [])} == {None}


def test_cost_estimate_and_tags_reach_the_minutes():
    from takeaway import pipeline
    from takeaway.extract.extract import Extraction
    from takeaway.extract.schemas import LLMUsage

    usage = LLMUsage(model="m", prompt_version="v", prompt_tokens=2000, completion_tokens=500, calls=1)
    minutes = pipeline.minutes_of(transcript(), Extraction([], [], usage), {"transcribe": {"wall_s": 3.0}},
                                  {"team": "mobile"}, price_in_per_1k=0.5, price_out_per_1k=2.0)
    assert minutes.usage.llm.cost == 2.0 and minutes.usage.tags == {"team": "mobile"}
    assert minutes.usage.rtf == round(3.0 / 27, 4)


def test_an_item_whose_evidence_is_overlapped_speech_goes_to_review():
    from conftest import typed_transcript

    t = typed_transcript([("A", "David, please send the report by Friday."), ("B", "Sure.")],
                         {"A": "Sarah", "B": "David"}, "2026-11-12T10:00:00-05:00")
    answer = {"decisions": [], "action_items": [{"task": "Send the report", "lines": [0], "owner": "David",
                                                 "due": "by Friday"}]}
    clean = Extractor(Scripted(answer))(t).action_items[0]
    t.segments[0].overlap = True
    noisy = Extractor(Scripted(answer))(t).action_items[0]
    assert clean.status == "ready" and noisy.status == "needs_review"
    assert "evidence is overlapped speech" in noisy.flags


def test_decisions_are_settled_statements_and_none_is_passed_over():
    lines = [("S0", "Should we move the demo?"),
             ("S1", "No, the demo stays on Thursday."),
             ("S0", "Let's plan the launch party."),
             ("S1", "Ok, we'll do."),
             ("S0", "Great. Let's make it official: we will launch on December first.")]
    t = typed_transcript(lines, {"S0": "Rosa", "S1": "Sam"}, "2026-11-06T09:15:00-05:00", "Standup")
    # the model calls a question and a proposal decisions, and misses the two that were settled
    answer = {"decisions": [{"text": "Move the demo", "lines": [0]}, {"text": "Plan the launch party", "lines": [2]}],
              "action_items": []}
    result = Extractor(Scripted(answer))(t)
    assert [(d.id, d.text, [e.segment_id for e in d.evidence]) for d in result.decisions] == [
        ("D1", "The demo stays on Thursday", [1]), ("D2", "We will launch on December first", [4])]
