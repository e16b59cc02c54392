"""Our own grammar for the common date phrases: exact, and fast (about 0.1 ms a phrase).

Step 4 of :mod:`chatbot.time.parse`: after the pre-pass, a phrase made of times, ``today`` /
``tomorrow``, weekdays with ``this`` / ``next`` / ``next week``, dates in words or digits, or
``in 3 days`` is read word by word into fields (:func:`read_fields`) and the fields into an
instant (:func:`from_fields`), following the interpretation choices listed in
:mod:`chatbot.time.parse`.  ``in 2 hours`` / ``30 minutes from now`` are read by
:func:`read_relative`.  Anything else raises :class:`Fallback` and goes to dateparser: this
module exists so that the shapes members actually type never pay for (or depend on
the whims of) dateparser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import Final

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Plain, _, _n, verbatim
from chatbot.time.phrase_instant import (
    MAX_YEARS_AHEAD,
    WEEKDAY_MSGS,
    Parsed,
    Reading,
    calendar_day,
    check_year,
    day_text,
    localise,
    midnight_with_day,
    need_time,
    too_far,
)
from chatbot.time.phrase_prepass import bad_time, clip, normalise_times

WEEKDAYS: Final = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "weds": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
MONTHS: Final = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "ninety": 90,
}  # fmt: skip
_UNIT_SECONDS: Final = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
#: Seconds in a day.
DAY = 86400
_FILLERS: Final = frozenset({"at", "on", "the", "of", "@"})

# Grammar tokens.
_TIME_TOKEN_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_DATE_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUM_DATE_RE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_SHORT_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})")
_DAY_NUM_RE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_YEAR_RE = re.compile(r"\d{4}")
_HOUR_RE = re.compile(r"\d{1,2}")
_NUMBER_RE = re.compile(r"\d{1,9}(?:[.,]\d{1,6})?")
_COMPACT_DURATION_RE = re.compile(r"(\d+)h(\d{1,2})m?")
_DURATION_PART_RE = re.compile(
    r"\s*(?:,|and)?\s*(?:(?P<half>half\s+an?\s+hour)|"
    r"(?P<num>\d+(?:[.,]\d+)?|[a-z]+)\s*(?P<unit>[a-z]+)(?P<andhalf>\s+and\s+a\s+half)?)"
)
_RELATIVE_RE = re.compile(
    r"in\s+(?P<body>.+?)(?:\s+(?:from\s+now|later))?"
    r"|(?P<body2>.+?)\s+(?P<tail>from\s+now|later|hence|ago)"
)


class Fallback(Exception):
    """The grammar does not cover this phrase: ask dateparser."""


@dataclass(slots=True)
class Fields:
    """The parts of a phrase :func:`read_fields` found, each at most once."""

    time: tuple[int, int, int] | None = None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    rel_days: int | None = None
    weekday: int | None = None
    modifier: str | None = None  # "next", "this" (for a weekday)
    week_offset: int | None = None  # "next week" = 1, "this week" = 0
    numeric: bool = False  # day and month came from digits (12/05): date_order applies

    def set(self, name: str, value: object) -> None:
        if getattr(self, name) is not None:
            raise Fallback
        setattr(self, name, value)


def _number(word: str) -> float | None:
    """``2``, ``1.5``, ``1,5``, ``a``, ``twelve`` as a number; None otherwise (no ``nan``)."""
    if word in NUMBER_WORDS:
        return float(NUMBER_WORDS[word])
    if _NUMBER_RE.fullmatch(word):
        return float(word.replace(",", "."))
    return None


def _parse_duration(body: str) -> tuple[int, float] | None:
    """``2 hours``, ``1h30``, ``90 min``, ``an hour and a half``, ``3 days`` as (whole days and
    weeks, other seconds); None if ``body`` is not a duration."""
    body = body.strip()
    if m := _COMPACT_DURATION_RE.fullmatch(body):
        return 0, int(m[1]) * 3600.0 + int(m[2]) * 60.0
    days, total, pos = 0, 0.0, 0
    while pos < len(body):
        m = _DURATION_PART_RE.match(body, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        if m["half"]:
            total += 1800
            continue
        number, unit = _number(m["num"]), _UNIT_SECONDS.get(m["unit"])
        if number is None or unit is None or number > 10**6:
            return None
        number += 0.5 if m["andhalf"] else 0.0
        if unit >= DAY and number.is_integer():  # calendar days: same time of day
            days += int(number) * unit // DAY
        else:
            total += number * unit
    return (days, total) if pos else None


def read_relative(s: str) -> tuple[int, float] | None:
    """``in 2 hours``, ``in 3 days``, ``30 minutes from now``, ``2 days ago``, ``now`` as
    (whole days, seconds) from now; None for anything else."""
    if s == "now":
        return 0, 0.0
    m = _RELATIVE_RE.fullmatch(s)
    if m is None:
        return None
    parsed = _parse_duration(m["body"] or m["body2"])
    if parsed is None:
        return None
    days, seconds = parsed
    return (-days, -seconds) if m["tail"] == "ago" else (days, seconds)


def from_relative(ctx: Reading, days: int, seconds: float) -> Parsed:
    """The instant ``days`` (calendar days: same wall-clock time) and ``seconds`` from now."""
    if abs(days * DAY + seconds) > (MAX_YEARS_AHEAD + 1) * 366 * DAY:
        raise BadArgument(
            _n(
                "'{phrase}' is more than {n} year away. Give a nearer time.",
                "'{phrase}' is more than {n} years away. Give a nearer time.",
                MAX_YEARS_AHEAD,
                phrase=Plain(clip(ctx.text)),
            )
        )
    at = ctx.now_local
    if days:  # "in 3 days": same wall-clock time, whatever the clocks do meanwhile
        day = at.date() + timedelta(days=days)
        at = localise(ctx, day, (at.hour, at.minute, at.second)) + timedelta(
            microseconds=at.microsecond
        )
    at = at.astimezone(UTC) + timedelta(seconds=round(seconds))
    check_year(ctx, at.astimezone(ctx.zone.tzinfo).year)
    return ctx.parsed(at, relative=True)


def read_english(ctx: Reading, lowered: str) -> Parsed:
    """``lowered`` (English words, lower case: a translated phrase) read as the member's own
    phrase is: a relative phrase, else clock forms and the grammar; :class:`Fallback` when the
    grammar does not cover it.  Messages quote ``ctx.text``, what the member wrote."""
    relative = read_relative(lowered)
    if relative is not None:
        return from_relative(ctx, *relative)
    phrase, midnight = normalise_times(lowered)
    reading = replace(ctx, phrase=phrase, midnight=ctx.midnight or midnight)
    return from_fields(reading, read_fields(phrase.split()))


def read_fields(words: list[str]) -> Fields:
    """The date and time parts of a normalised phrase; ``Fallback`` for anything else."""
    f = Fields()
    i, n = 0, len(words)

    def peek(k: int) -> str:
        return words[i + k] if i + k < n else ""

    while i < n:
        w = words[i].rstrip(".") or words[i]
        if w in _FILLERS:
            if w == "at" and _HOUR_RE.fullmatch(peek(1)) and peek(2) not in MONTHS:
                hour = int(peek(1))  # "at 9" → 09:00
                if hour > 23:
                    bad_time(f"at {hour}")
                f.set("time", (hour, 0, 0))
                i += 2
                continue
            i += 1
        elif m := _TIME_TOKEN_RE.fullmatch(w):
            f.set("time", (int(m[1]), int(m[2]), int(m[3] or 0)))
            i += 1
        elif w == "today":
            f.set("rel_days", 0)
            i += 1
        elif w in ("tomorrow", "tmrw", "tmr"):
            f.set("rel_days", 1)
            i += 1
        elif w == "day" and peek(1) == "after" and peek(2) == "tomorrow":
            f.set("rel_days", 2)
            i += 3
        elif w in WEEKDAYS:
            f.set("weekday", WEEKDAYS[w])
            i += 1
        elif w in ("next", "this", "coming") and peek(1).rstrip(".") in WEEKDAYS:
            f.set("modifier", "this" if w == "coming" else w)
            f.set("weekday", WEEKDAYS[peek(1).rstrip(".")])
            i += 2
        elif w in ("next", "this") and peek(1) == "week":
            f.set("week_offset", 1 if w == "next" else 0)
            i += 2
        elif w == "in" and (amount := _day_amount(peek(1), peek(2))) is not None:
            f.set("rel_days", amount[0])
            i += 1 + amount[1]
        elif w in MONTHS:
            f.set("month", MONTHS[w])
            i += 1
            if (m := _DAY_NUM_RE.fullmatch(peek(0))) and f.day is None:
                f.set("day", int(m[1]))
                i += 1
                if _YEAR_RE.fullmatch(peek(0)):
                    f.set("year", int(peek(0)))
                    i += 1
        elif (m := _DAY_NUM_RE.fullmatch(w)) and (
            peek(1).rstrip(".") in MONTHS or (peek(1) == "of" and peek(2).rstrip(".") in MONTHS)
        ):
            f.set("day", int(m[1]))
            i += 2 if peek(1) == "of" else 1
            f.set("month", MONTHS[words[i].rstrip(".")])
            i += 1
            if _YEAR_RE.fullmatch(peek(0)):
                f.set("year", int(peek(0)))
                i += 1
        elif m := _ISO_DATE_RE.fullmatch(w):
            f.set("year", int(m[1]))
            f.set("month", int(m[2]))
            f.set("day", int(m[3]))
            i += 1
        elif m := _NUM_DATE_RE.fullmatch(w):
            f.set("year", int(m[4]) + (2000 if len(m[4]) == 2 else 0))
            f.set("month", int(m[3]))  # day first; swapped for MDY by the caller
            f.set("day", int(m[1]))
            f.numeric = True
            i += 1
        elif m := _SHORT_DATE_RE.fullmatch(w):
            f.set("month", int(m[2]))
            f.set("day", int(m[1]))
            f.numeric = True
            i += 1
        else:
            raise Fallback
    if f.week_offset is not None and f.weekday is None:
        raise Fallback  # "next week 10:00": let dateparser have its say
    if f.month is not None and f.day is None:
        raise Fallback  # "December 2026"
    return f


def _day_amount(num: str, unit: str) -> tuple[int, int] | None:
    """``in 3 days``, ``in 2 weeks``, ``in 3d`` as (days, words used), or None."""
    if m := re.fullmatch(r"(\d{1,4})([dw])", num):
        return int(m[1]) * (7 if m[2] == "w" else 1), 1
    number = _number(num)
    seconds = _UNIT_SECONDS.get(unit)
    if number is None or not number.is_integer() or seconds is None or seconds < DAY:
        return None
    return int(number) * seconds // DAY, 2


def _make_date(ctx: Reading, year: int, month: int, day: int) -> date:
    check_year(ctx, year)
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            shown = calendar_day(day, month, year)
            raise BadArgument(
                _("There is no {day}. Check the day of the month.", day=shown)
            ) from None
        raise BadArgument(
            _(
                "I can't read '{phrase}' as a date: there is no month {month}. "
                "Write the month as a word, e.g. '3 December 2026 16:00'.",
                phrase=Plain(clip(ctx.text)),
                month=str(month),
            )
        ) from None


def _weekday_date(ctx: Reading, f: Fields, weekday: int, time_ok: bool) -> date:
    today = ctx.now_local.date()
    if f.week_offset is not None:
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * f.week_offset + weekday)
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and (f.modifier == "next" or (f.modifier is None and not time_ok)):
        ahead = 7  # said on that weekday: a week later, unless "this" or still to come today
    return today + timedelta(days=ahead)


def from_fields(ctx: Reading, f: Fields) -> Parsed:
    """The instant ``f`` names in the reading's zone; :class:`Fallback` if no day nor time."""
    today = ctx.now_local.date()
    hms = f.time
    if ctx.midnight and (f.rel_days is not None or f.weekday is not None or f.day is not None):
        midnight_with_day()
    day: date | None = None
    if f.day is not None and f.month is not None:
        year, month, dom = f.year, f.month, f.day
        if f.numeric and ctx.date_order == "MDY":
            month, dom = dom, month
        if year is None:  # the next such date
            day = date(today.year, month, dom) if _valid(today.year, month, dom) else None
            if day is None or day < today:
                day = _make_date(ctx, today.year + 1, month, dom)
        else:
            day = _make_date(ctx, year, month, dom)
    elif f.rel_days is not None:
        if f.rel_days > (MAX_YEARS_AHEAD + 1) * 366:
            too_far(ctx)
        day = today + timedelta(days=f.rel_days)
    if f.weekday is not None:
        if day is not None:
            if day.weekday() != f.weekday:
                raise BadArgument(
                    _(
                        "{day} is a {weekday}, not a {wanted}. Check the date.",
                        day=day_text(day),
                        weekday=WEEKDAY_MSGS[day.weekday()],
                        wanted=WEEKDAY_MSGS[f.weekday],
                    )
                )
        else:
            day = _weekday_date(ctx, f, f.weekday, hms is not None and _still_to_come(ctx, hms))
    if hms is None:
        if day is None:
            raise Fallback
        if not ctx.allow_date_only:
            need_time(ctx, verbatim("{phrase} 15:00", phrase=Plain(clip(ctx.text, 60))))
        return ctx.parsed(localise(ctx, day, (0, 0, 0)), has_time=False)
    if day is None:  # a bare time: its next occurrence
        day = today if _still_to_come(ctx, hms) else today + timedelta(days=1)
    return ctx.parsed(localise(ctx, day, hms))


def _still_to_come(ctx: Reading, hms: tuple[int, int, int]) -> bool:
    """Whether ``hms`` today (wall clock in the zone) is later than now."""
    now = ctx.now_local
    return hms > (now.hour, now.minute, now.second)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
