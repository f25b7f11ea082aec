"""Put names on diarization labels.

Evidence, strongest first: a speaker introducing themself ("this is Grace", "Omar here"),
then being addressed by name just before speaking ("Maria, can you ...?" answered by the
next speaker). With a participant list, names must match a participant (near spellings
count); the last unnamed speaker gets the last unclaimed participant. Everyone else is
"Speaker N".
"""

from __future__ import annotations

import re

from takeaway.extract.owners import ADDRESS_START, REQUEST, match_name
from takeaway.speech.types import Segment, Speaker

INTRO = [re.compile(p) for p in (
    r"\b(?:[Tt]his is|[Mm]y name is|I am|I'm|[Ii]t's)\s+([A-Z][a-z]+)\b",
    r"(?:^|[.,!?]\s*)([A-Z][a-z]+)\s+here\b",
)]
# with a participant list, ASR-mangled introductions still count when a word sounds like a participant
# ("Mrs. Brace" for "this is Grace", "Jim's here" for "James here")
LOOSE_INTRO = [re.compile(p, re.I) for p in (
    r"\b(?:this is|my name is|i am|i'm|it's|mrs?\.?|ms\.?)\s+(\w+)",
    r"(?:^|[.,!?]\s*)(\w+)(?:'s)?,?\s+here\b",
)]
GREETING = re.compile(r"^\W*(?:[Hh]i|[Hh]ello|[Hh]ey|[Tt]hanks|[Tt]hank you),?\s+([A-Z][a-z]+)\b")
NOT_NAMES = {"No", "Yes", "Yeah", "Well", "Hi", "Hello", "Thanks", "Great", "Sorry", "Here", "Just", "Glad", "Happy", "Good", "Fine", "Not", "Afraid", "Going", "Sure", "Okay",
             "Covering", "The", "Calling", "Back", "Ready", "Done", "All", "Also"}


def candidates(segments: list[Segment], loose: bool = False) -> dict[str, dict[str, float]]:
    """Votes {label: {name: weight}} from introductions and from being addressed."""
    votes: dict[str, dict[str, float]] = {}

    def vote(label: str | None, name: str, weight: float) -> None:
        if label and name not in NOT_NAMES:
            votes.setdefault(label, {}).setdefault(name, 0.0)
            votes[label][name] += weight

    for i, seg in enumerate(segments):
        for pattern in INTRO:
            for m in pattern.finditer(seg.text):
                vote(seg.speaker, m[1], 3.0)
        for pattern in LOOSE_INTRO if loose else ():
            for m in pattern.finditer(seg.text):
                vote(seg.speaker, m[1].capitalize(), 2.0)
        addressed = ADDRESS_START.search(seg.text) if REQUEST.search(seg.text) or "?" in seg.text else None
        if addressed and i + 1 < len(segments):
            m = addressed
            nxt = segments[i + 1]
            if nxt.speaker != seg.speaker:
                vote(nxt.speaker, m[1], 1.0)
        if (m := GREETING.search(seg.text)) and i > 0 and segments[i - 1].speaker != seg.speaker:
            vote(segments[i - 1].speaker, m[1], 1.0)
    return votes


def name_speakers(segments: list[Segment], participants: list[str]) -> list[Speaker]:
    labels = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    named: dict[str, str] = {}
    scored = []
    for label, names in candidates(segments, loose=bool(participants)).items():
        for name, weight in names.items():
            person = match_name(name, participants) if participants else name
            if person:
                scored.append((weight, label, person))
    for weight, label, person in sorted(scored, reverse=True):
        if label not in named and person not in named.values():
            named[label] = person
    unnamed = [lab for lab in labels if lab not in named]
    unclaimed = [p for p in participants if p not in named.values()]
    if len(unnamed) == 1 and len(unclaimed) == 1:
        named[unnamed[0]] = unclaimed[0]
    return [Speaker(label=label, name=named.get(label)) for label in labels]
