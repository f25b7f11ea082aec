"""Grounding checks: is an extracted item backed by what was said?

An item's evidence must be real segments; its sentences must commit someone to something:
hypotheticals ("what if", "maybe"), questions that are not requests, rejections and work
already done are not action items.
"""

from __future__ import annotations

import re

from takeaway.extract.owners import REQUEST, SELF

HEDGE = re.compile(r"\b(?:what if|maybe|perhaps|might|could we|should we|would it|if we have time|"
                   r"if there is time|in theory|let's not)\b", re.I)
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
    if HEDGE.search(text) and not re.search(r"\bI will\b|\bI'll\b", text):
        return False
    if DONE.search(text) or REJECT.search(text):
        return False
    if text.rstrip().endswith("?") and not REQUEST.search(text):
        return False
    return True


def is_confirmation(text: str) -> bool:
    """A short reply that accepts a request made just before ("Sure, I will do that.")."""
    return bool(CONFIRM.search(text)) and len(text.split()) <= 8


def is_self_commitment(text: str) -> bool:
    return bool(SELF.search(text))


def is_commitment(text: str) -> bool:
    """An actionable turn in which someone commits ("I will ...") or is asked ("Ben, can you ...")."""
    return is_actionable(text) and (is_self_commitment(text) or bool(REQUEST.search(text)))
