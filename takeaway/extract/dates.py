"""Due dates resolved in code from the spoken phrase and the meeting's start (never by the LLM).

`find_due_phrase` finds a due-date phrase in text; `resolve_due` turns a phrase into a date
relative to the meeting's local date. Vague phrases ("soon", "before the holidays") are found
but resolve to None, so the item goes to review instead of getting a guessed date.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [m.lower() for m in calendar.month_name[1:]]
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
            "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
            "twentieth": 20, "twenty first": 21, "twenty second": 22, "twenty third": 23, "twenty fourth": 24,
            "twenty fifth": 25, "twenty sixth": 26, "twenty seventh": 27, "twenty eighth": 28,
            "twenty ninth": 29, "thirtieth": 30, "thirty first": 31}

_WD = "|".join(WEEKDAYS)
_MON = "|".join(MONTHS + [m[:3] for m in MONTHS])
_NUM = r"\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True))
_ORD = r"\d{1,2}(?:st|nd|rd|th)?|" + "|".join(sorted(ORDINALS, key=len, reverse=True))
_EOD = r"(?:(?:the )?end of (?:the )?(?:business )?day|eod|cob|close of business)"

PATTERNS = [
    rf"\d{{4}}-\d{{2}}-\d{{2}}",
    rf"(?:{_EOD},? )?(?:the )?day after tomorrow",
    rf"{_EOD},? tomorrow|tomorrow,? {_EOD}|tomorrow(?: morning| afternoon| evening| night)?",
    rf"(?:the )?end (?:of|on|off) (?:the |this )?(?:week|month)|(?:the )?end (?:of|on|off) next (?:week|month)",
    rf"(?:next|this) (?:{_WD})|(?:{_WD}),? (?:next|this) week|(?:{_WD})",
    rf"in (?:{_NUM}) (?:days?|weeks?|months?)",
    rf"(?:{_MON})\.? (?:the )?(?:{_ORD})|(?:the )?(?:{_ORD}) of (?:{_MON})",
    rf"the (?:{_ORD})\b",
    rf"{_EOD}|today|tonight|this (?:morning|afternoon|evening)",
    rf"next (?:week|month)",
    r"(?:as soon as possible|asap|soon|later|sometime|some time|eventually|"
    r"before the (?:holidays?|break|launch|release|end of (?:the )?year|new year)|next quarter|end of (?:the )?year)",
]
_PREFIX = r"(?:\b(?:by|on|before|until|due|for|no later than)\s+)?"
FINDER = re.compile(_PREFIX + r"\b(?:" + "|".join(f"(?:{p})" for p in PATTERNS) + r")\b", re.IGNORECASE)


def find_due_phrase(text: str) -> str | None:
    """The first due-date phrase in `text`, with its preposition ("by Friday next week")."""
    match = FINDER.search(text)
    return match.group(0).strip() if match else None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


def _ordinal(word: str) -> int:
    word = word.strip()
    digits = re.match(r"\d+", word)
    return int(digits.group(0)) if digits else ORDINALS[word]


def _month(word: str) -> int:
    word = word.rstrip(".")
    return next(i + 1 for i, m in enumerate(MONTHS) if m.startswith(word[:3]))


def _friday(d: date, weeks_ahead: int = 0) -> date:
    monday = d - timedelta(days=d.weekday()) + timedelta(weeks=weeks_ahead)
    return monday + timedelta(days=4)


def _add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _next_day_of_month(d: date, day: int, month: int | None = None) -> date | None:
    candidates = []
    for offset in range(0, 13):
        probe = _add_months(d.replace(day=1), offset)
        if month and probe.month != month:
            continue
        if day <= calendar.monthrange(probe.year, probe.month)[1]:
            candidate = probe.replace(day=day)
            if candidate >= d:
                candidates.append(candidate)
    return min(candidates) if candidates else None


def resolve_due(phrase: str | None, today: date) -> date | None:
    """The date `phrase` names, said on `today`; None for vague or unknown phrases."""
    if not phrase:
        return None
    p = re.sub(r"[^\w\s-]", " ", phrase.lower())
    p = re.sub(r"^(?:by|on|before|until|due|for|no later than)\s+", "", re.sub(r"\s+", " ", p).strip())
    p = re.sub(r"\bend (?:on|off) ", "end of ", p)  # what small ASR models hear for "end of"
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", p):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if "day after tomorrow" in p:
        return today + timedelta(days=2)
    if "tomorrow" in p:
        return today + timedelta(days=1)
    if re.search(r"end of (?:the |this )?week", p):
        return _friday(today) if today.weekday() <= 4 else _friday(today, 1)
    if "end of next week" in p:
        return _friday(today, 1)
    if re.search(r"end of (?:the |this )?month", p):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if "end of next month" in p:
        nxt = _add_months(today.replace(day=1), 1)
        return nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])
    if m := re.search(rf"\b({_WD})\b", p):
        target = WEEKDAYS.index(m[1])
        monday = today - timedelta(days=today.weekday())
        if "next" in p:
            return monday + timedelta(weeks=1, days=target)
        if "this" in p and monday + timedelta(days=target) >= today:
            return monday + timedelta(days=target)
        return today + timedelta(days=(target - today.weekday()) % 7 or 7)
    if m := re.search(rf"\bin ({_NUM}) (day|week|month)s?", p):
        n = _number(m[1])
        if m[2] == "month":
            return _add_months(today, n)
        return today + timedelta(days=n * (7 if m[2] == "week" else 1))
    if m := re.search(rf"\b({_MON}) (?:the )?({_ORD})\b", p):
        return _next_day_of_month(today, _ordinal(m[2]), _month(m[1]))
    if m := re.search(rf"\b({_ORD}) of ({_MON})\b", p):
        return _next_day_of_month(today, _ordinal(m[1]), _month(m[2]))
    if m := re.fullmatch(rf"the ({_ORD})", p):
        return _next_day_of_month(today, _ordinal(m[1]))
    if re.search(rf"{_EOD}|today|tonight|this (?:morning|afternoon|evening)", p):
        return today
    if p == "next week":
        return _friday(today, 1)
    if p == "next month":
        nxt = _add_months(today.replace(day=1), 1)
        return nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])
    return None
