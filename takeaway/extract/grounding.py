"""Grounding checks: is an extracted item backed by what was said?

An item's evidence must be real segments; its sentences must commit someone to something:
hypotheticals ("what if", "maybe"), questions that are not requests, rejections and work
already done are not action items.
"""

from __future__ import annotations

import re

from takeaway.extract.owners import DELEGATE, REQUEST, SELF

HEDGE = re.compile(r"\b(?:what if|maybe|perhaps|might|could we|should we|would it|if we have time|"
                   r"if there is time|in theory|let's not|if you need|if needed|if it helps)\b|^\W*if\b", re.I)
DONE = re.compile(r"\balready\b|\b(?:yesterday|last week)\b", re.I)
REJECT = re.compile(r"^\W*(?:no|nope)\b|\bnot now\b", re.I)
CONFIRM = re.compile(r"^\W*(?:sure|ok(?:ay)?|yes|yeah|yep|will do|we'll do|no problem|got it|sounds good|"
                     r"absolutely|of course)\b", re.I)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def is_actionable(text: str) -> bool:
    """Whether a turn can carry an action item: one of its sentences commits, requests or delegates."""
    return any(sentence_is_actionable(s) for s in sentences(text))


def sentence_is_actionable(text: str) -> bool:
    if len(re.findall(r"\w+", text)) < 3:  # "Tom, here." carries no task
        return False
    if HEDGE.search(text):
        return False
    if DONE.search(text) or REJECT.search(text):
        return False
    if text.rstrip().endswith("?") and not REQUEST.search(text):
        return False
    return True


DECIDED = re.compile(r"\bwe(?:'ve| have)? (?:decided|agreed)\b|\blet's make it official\b|\bit(?:'s| is) (?:decided|final)\b|"
                     r"\b(?:let's|we'll|we will) go with\b|\bwe(?:'ll| will| are going to| shall) (?!see\b|talk\b|discuss\b"
                     r"|need\b|try\b|look\b|check\b|do\b)[a-z]+|\b(?:stays|remains) (?:on|at|in|as|the)\b", re.I)


def is_decision(text: str) -> bool:
    """A statement of what the group settled ("we decided to publish in December", "no, we will keep the
    kickoff in person", "the demo stays on Thursday"): one sentence that says so, neither a question, nor
    hedged, nor a personal commitment."""
    return any(DECIDED.search(s) and not SELF.search(s) and not HEDGE.search(s) and not s.rstrip().endswith("?")
               for s in sentences(text))


def is_confirmation(text: str) -> bool:
    """A short reply that accepts a request made just before ("Sure, I will do that.")."""
    return bool(CONFIRM.search(text)) and len(text.split()) <= 8


def is_self_commitment(text: str) -> bool:
    return bool(SELF.search(text))


NOT_PEOPLE = {"We", "They", "It", "That", "This", "He", "She", "Everyone", "Someone", "Nobody", "You", "Which", "What",
              "How", "Who", "Why", "When", "Where"}


def is_delegation(text: str) -> bool:
    """ "Priya will handle the contract": a named person is given the task."""
    return any(m[1] not in NOT_PEOPLE for m in DELEGATE.finditer(text))


def is_commitment(text: str) -> bool:
    """A turn with an actionable sentence in which someone commits ("I will ..."), is asked ("Ben, can
    you ...") or is given a task ("Priya will ...")."""
    return any(sentence_is_actionable(s) and (is_self_commitment(s) or bool(REQUEST.search(s)) or is_delegation(s))
               for s in sentences(text))


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 3 and w not in {"will", "that", "this", "with",
            "from", "have", "could", "would", "should", "please", "about", "them", "they", "their", "your"}]


def resemblance(task: str, text: str) -> float:
    """How much of a task's wording (0..100) is in a sentence: the share of its content words found there."""
    from rapidfuzz import fuzz

    words, said = content_words(task), content_words(text)
    if not words:
        return 0.0
    return 100.0 * sum(any(fuzz.ratio(w, x) >= 80 for x in said) for w in words) / len(words)
