"""Owners resolved from the evidence, not from the model's say-so.

In order: the person a request is addressed to ("Maria, can you ..."), a named delegate
("Priya will handle it"), the speaker of a self-commitment ("I'll ..."). Names are matched to
the meeting's people (participants and named speakers) by spelling similarity, so ASR
spellings still land on a real person. No match means no owner: the item goes to review.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

REQUEST = re.compile(r"\b(?:can|could|would|will) you\b|\bplease\b|\bi need you\b|\bi'd like you\b", re.I)
ADDRESS_START = re.compile(r"^(?:\W*(?:ok(?:ay)?|so|and|also|great|good|right|alright|then)\W+)*([A-Z][a-z]+)\s*,")
ADDRESS_END = re.compile(r",\s*([A-Z][a-z]+)\s*[?.!]*$")
DELEGATE = re.compile(r"\b([A-Z][a-z]+) (?:will|is going to|can|should|'ll|is gonna)\b")
SELF = re.compile(r"\b(?:I will|I'll|I am going to|I'm going to|I'm gonna|I can|let me|I'll take|"
                  r"I will take|I shall|I'd be happy to)\b", re.I)


def match_name(candidate: str | None, people: list[str], cutoff: float = 75) -> str | None:
    """The person in `people` that `candidate` names (first names and near spellings count)."""
    if not candidate or not people:
        return None
    candidate = candidate.strip()
    for person in people:
        if candidate.lower() in (person.lower(), person.split()[0].lower()):
            return person
    firsts = {p.split()[0].lower(): p for p in people}
    hit = process.extractOne(candidate.lower(), list(firsts), scorer=sounds_like, score_cutoff=cutoff)
    return firsts[hit[0]] if hit else None


def skeleton(word: str) -> str:
    """First letter and the consonants after it, repeats folded: 'james' -> 'jms', 'jim' -> 'jm'."""
    out = word[:1]
    for ch in word[1:]:
        if ch not in "aeiouyhw" and ch != out[-1]:
            out += ch
    return out


def sounds_like(a: str, b: str, **_) -> float:
    """Spelling or sound similarity (0..100) of two names as heard: 'Brace'~'Grace', 'Jim'~'James'."""
    if len(a) < 3 or len(b) < 3:
        return fuzz.ratio(a, b)
    return max(fuzz.ratio(a, b), fuzz.ratio(skeleton(a), skeleton(b)))


def owner_from_text(text: str, speaker: str | None, people: list[str]) -> tuple[str | None, str]:
    """(owner, how) for one evidence sentence said by `speaker`."""
    if REQUEST.search(text):
        for pattern in (ADDRESS_START, ADDRESS_END):
            if (m := pattern.search(text)) and (name := match_name(m[1], people)):
                return name, "addressed"
    for m in DELEGATE.finditer(text):
        if (name := match_name(m[1], people, cutoff=85)) and name != speaker:
            return name, "delegated"
    if SELF.search(text) and speaker:
        return speaker, "self"
    return None, ""
