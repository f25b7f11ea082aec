"""Due dates are resolved in code against the meeting's date (Thursday 2026-11-12)."""

from datetime import date

import pytest

from takeaway.extract.dates import find_due_phrase, resolve_due

THURSDAY = date(2026, 11, 12)


@pytest.mark.parametrize("sentence,phrase,due", [
    ("I will fix the login bug by Friday.", "by Friday", "2026-11-13"),
    ("Please update the page by Friday next week.", "by Friday next week", "2026-11-20"),
    ("Send it by end of day tomorrow?", "by end of day tomorrow", "2026-11-13"),
    ("EOD tomorrow works.", "EOD tomorrow", "2026-11-13"),
    ("I'll book it for next Monday.", "for next Monday", "2026-11-16"),
    ("Let's have it done next Friday.", "next Friday", "2026-11-20"),
    ("Can you do it this Friday?", "this Friday", "2026-11-13"),
    ("I'll send it today.", "today", "2026-11-12"),
    ("Done by the end of the week.", "by the end of the week", "2026-11-13"),
    ("By the end of next week please.", "By the end of next week", "2026-11-20"),
    ("Finish it by end of the month.", "by end of the month", "2026-11-30"),
    ("I will do it my end on the month.", "end on the month", "2026-11-30"),  # tiny.en for "by the end of"
    ("I need it by the 3rd.", "by the 3rd", "2026-12-03"),
    ("Ship on December 1st.", "on December 1st", "2026-12-01"),
    ("In two weeks we review.", "In two weeks", "2026-11-26"),
    ("Due the day after tomorrow.", "Due the day after tomorrow", "2026-11-14"),
    ("By 2026-12-24 at the latest.", "By 2026-12-24", "2026-12-24"),
])
def test_phrases_resolve_against_the_meeting_date(sentence, phrase, due):
    found = find_due_phrase(sentence)
    assert found == phrase
    assert resolve_due(found, THURSDAY) == date.fromisoformat(due)


@pytest.mark.parametrize("sentence", ["I'll get to it before the holidays.", "We'll do that soon.",
                                      "Let's look at it sometime."])
def test_vague_phrases_are_found_but_not_dated(sentence):
    phrase = find_due_phrase(sentence)
    assert phrase is not None
    assert resolve_due(phrase, THURSDAY) is None


def test_no_phrase_no_date():
    assert find_due_phrase("I uploaded the screenshots.") is None
    assert resolve_due(None, THURSDAY) is None
