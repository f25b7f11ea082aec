"""Owners come from who said what to whom; distractors are not action items."""

import pytest

from takeaway.extract import grounding
from takeaway.extract.owners import match_name, owner_from_text

PEOPLE = ["Sarah Lee", "David", "Maria", "James"]


@pytest.mark.parametrize("text,speaker,owner,how", [
    ("Maria, can you send the draft by tomorrow?", "Sarah Lee", "Maria", "addressed"),
    ("Can you update the page by Friday, James?", "Sarah Lee", "James", "addressed"),
    ("I will fix the login bug by Friday.", "David", "David", "self"),
    ("Okay, I'll book the room.", "Sarah Lee", "Sarah Lee", "self"),
    ("Maria will handle the press release.", "David", "Maria", "delegated"),
    ("We will launch on Monday.", "Sarah Lee", None, ""),
])
def test_owner_from_evidence(text, speaker, owner, how):
    assert owner_from_text(text, speaker, PEOPLE) == (owner, how)


def test_names_heard_wrongly_still_match_people():
    assert match_name("Marie", PEOPLE) == "Maria"
    assert match_name("sarah", PEOPLE) == "Sarah Lee"
    assert match_name("Zoltan", PEOPLE) is None


@pytest.mark.parametrize("text", [
    "What if we also launched the web version?",
    "Maybe we could translate the app, but let's not decide that today.",
    "Did anyone check the screenshots?",
    "Yes, I already uploaded them yesterday.",
    "If we have time, I might look at the tablet layout.",
    "No, that is too much for now.",
])
def test_distractors_are_not_actionable(text):
    assert not grounding.is_actionable(text)


@pytest.mark.parametrize("text", ["I will fix the bug by Friday.", "Maria, can you send the draft?",
                                  "James, please update the help page."])
def test_commitments_and_requests_are_actionable(text):
    assert grounding.is_actionable(text)


def test_confirmation():
    assert grounding.is_confirmation("Sure, I will do that.")
    assert not grounding.is_confirmation("I will fix the login bug by Friday.")


@pytest.mark.parametrize("text", [
    "Thank you for calling Acme support. How can I help you today?",  # "How can" names no one
    "Thanks for joining. Should we move the demo to Friday?",
])
def test_a_greeting_beside_a_question_is_no_commitment(text):
    assert not grounding.is_commitment(text)


@pytest.mark.parametrize("text,settled", [
    ("Good. We decided to publish the report in December.", True),
    ("No, we will keep the kickoff in person.", True),
    ("No, the demo stays on Thursday.", True),
    ("Should we keep the kickoff in person?", False),
    ("Maybe we will move it online.", False),
    ("Okay, we'll do.", False),
    ("We will see next week.", False),
    ("I will keep the notes.", False),
])
def test_a_decision_is_a_settled_group_statement(text, settled):
    assert grounding.is_decision(text) is settled
