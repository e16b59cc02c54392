"""Natural-language date phrases → an aware UTC instant.

``!meeting add "Friday 18h CET"``, ``!remind me in 2 hours``, ``!when 15:00 UTC``: members
write times the way they speak, in their own zone.  This module reads those phrases.

How a phrase is read
====================

1. **Checks**: empty, longer than :data:`MAX_PHRASE_LENGTH`, control or unusual characters →
   :class:`~chatbot.base.errors.BadArgument`.  Invisible format characters (zero-width spaces,
   direction marks pasted with a phrase) are dropped.
2. **Zone pre-pass**: one zone named in the phrase is found and removed: an IANA name
   (``Europe/Paris``, ``america/new_york``, ``America/Sao Paulo``), an abbreviation from
   :data:`chatbot.time.zones.ZONE_ABBREVIATIONS` (``CET``, ``PST``…; an ambiguous one such as
   ``IST`` raises :class:`~chatbot.base.errors.AmbiguousZone` naming the candidates), an offset
   (``UTC``, ``GMT+2``, ``UTC-03:00``, or ``+05:30``/``Z`` right after a time).  Without one the
   phrase is read in the member's zone (``zone_key``; UTC when ``None``).  Everything relative
   (today, tomorrow, Friday) is then counted in the zone the phrase is read in: "tomorrow 9am
   Europe/Paris" is tomorrow in Paris.
3. **Normalisation**: ``18h``, ``18h30``, ``18.30h`` → ``18:00``, ``18:30``; ``4pm``,
   ``9.30 a.m.`` → ``16:00``, ``09:30``; ``noon``/``midday`` → ``12:00``; ``midnight`` →
   ``00:00``; ISO ``2026-12-03T14:00`` is split; commas and brackets become spaces.
4. **Our own grammar** reads the common shapes exactly and fast (about 0.1 ms): times,
   ``today``/``tomorrow``/``day after tomorrow``, weekdays with ``this``/``next``/``next week``,
   ``3 December [2026]``, ``December 3rd[, 2026]``, ``2026-12-03``, ``12/05/2026`` (order from
   ``date_order``), ``in 2 hours``, ``in 1h30``, ``half an hour from now``, ``in 3 days at
   10:00``, ``now``.
5. Anything else goes to **dateparser**: one ``DateDataParser(languages=["en"])`` built lazily
   and reused (never language auto-detection, which costs up to 20 ms a phrase), with
   ``RELATIVE_BASE`` = now as naive local time in the zone, ``PREFER_DATES_FROM="future"`` and
   ``DATE_ORDER`` from the caller, no ``timestamp`` parser.  Its naive result gets the zone
   attached here with zoneinfo.  ``RETURN_AS_TIMEZONE_AWARE`` is left at dateparser's default
   (naive unless the phrase had a zone) rather than ``False``: with ``False`` a zone that only
   dateparser knows (``ACWST``) would be silently dropped and the time misread in the member's
   zone.  dateparser has no per-call settings, so the parser's settings object is swapped for
   each call (under a lock) instead of building a parser per phrase.
6. **Checks on the result**: a time is required (meetings need one) unless
   ``allow_date_only``; the year must lie between 1970 and five years from now; a local time that
   does not exist (skipped by a spring-forward change) is refused with an explanation; a local
   time that happens twice (autumn change) is taken at its first occurrence (``fold=0``).

Interpretation choices
======================

* **A bare time** (``15:00``, ``15:00 UTC``) is the *next* occurrence: today if it is still to
  come in that zone, otherwise tomorrow.
* **A weekday** (``Saturday 20:00``, ``this Saturday``) is the coming one; said on that weekday it
  is today if the time is still to come, else a week later.  ``this Wednesday`` said on a
  Wednesday is always today.
* **next Tuesday** is the coming Tuesday (said on Monday: the next day), except on a Tuesday,
  where it is a week later.  dateparser itself is not asked: it is not consistent about this.
* **next week Wednesday** / **Wednesday next week** is the Wednesday of next calendar week, weeks
  starting on Monday (ISO 8601): said on a Sunday, "next week Monday" is the next day.
* **A date without a year** (``3 December 16:00``) is the next such date: this year, or next year
  once it has passed.
* **Numeric dates** follow ``date_order`` (default ``DMY``: ``12/05/2026`` is 12 May); a
  four-digit first part is always year-month-day.  ``at 9`` (a bare hour after "at") is 09:00,
  24-hour clock.
* **midnight** alone is the next 00:00.  With a day ("Friday midnight") it is refused as
  ambiguous (the start or the end of Friday?); the member is asked for 00:00 on the day meant.
* **Relative phrases** count from ``now``: ``in 2 hours`` is exactly two hours later, whatever
  the zone; ``in 3 days`` keeps the time of day even across a clock change (``in 72 hours``
  does not).
* Zone abbreviations follow :mod:`chatbot.time.zones`: ``CET`` is ``Europe/Brussels`` (so it
  follows summer time), ``PST`` the US Pacific zone, ``GMT`` and ``UTC`` the fixed offset.
  Lower-case abbreviations are read too (``friday 18h cet``), except those that are English
  words (``eat``, ``met``…) and the two-letter ones (``ET``, ``PT``…), which must be upper case.

Loading
=======

Importing this module is cheap; dateparser is imported when the first phrase needs it (about
0.3–1 s).  :func:`parse_when` / :func:`parse_details` do that first load in a worker thread
(``asyncio.to_thread``) and call the loaded parser directly afterwards; :func:`warm_up` loads it
ahead of time.  :func:`parse_when_sync` / :func:`parse_details_sync` are for the CLI and
benchmarks.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NoReturn
from zoneinfo import ZoneInfo

from chatbot.base.errors import AmbiguousZone, BadArgument
from chatbot.time.zones import (
    ZONE_ABBREVIATIONS,
    Zone,
    lookup_exact,
    resolve_zone,
    zone_for_abbreviation,
    zone_from_key,
)

if TYPE_CHECKING:
    import argparse

__all__ = [
    "DATE_ORDERS",
    "MAX_PHRASE_LENGTH",
    "MAX_YEARS_AHEAD",
    "MIN_YEAR",
    "Parsed",
    "parse_details",
    "parse_details_sync",
    "parse_when",
    "parse_when_sync",
    "warm_up",
    "when_main",
]

log = logging.getLogger(__name__)

#: Longer phrases are refused before any parsing.
MAX_PHRASE_LENGTH: Final = 200
#: A phrase may reach at most this many years past the current year…
MAX_YEARS_AHEAD: Final = 5
#: …and no earlier than this year.
MIN_YEAR: Final = 1970
#: Accepted values of ``date_order`` (how ``12/05/2026`` is read).
DATE_ORDERS: Final = frozenset({"DMY", "MDY", "YMD"})

_EXAMPLES = "Try 'tomorrow 15:00' or 'next Friday 18:00 UTC'."


@dataclass(frozen=True, slots=True)
class Parsed:
    """A phrase read as an instant, with how it was read (for echoing it back)."""

    #: The instant, aware, in UTC.
    at: datetime
    #: The key of the zone the phrase was read in (``Europe/Paris``, ``UTC+02:00``, ``UTC``).
    zone_key: str
    #: True when the phrase named its zone (``… CET``); False when the member's zone was used.
    zone_named_in_phrase: bool
    #: The zone as written in the phrase (``CET``, ``GMT+2``), or None.
    zone_text: str | None
    #: False only for a date without a time, accepted with ``allow_date_only`` (00:00 local).
    has_time: bool = True
    #: True for phrases counted from now (``in 2 hours``), where the zone plays no part.
    relative: bool = False

    @property
    def local(self) -> datetime:
        """The instant in the zone it was read in."""
        return self.at.astimezone(zone_from_key(self.zone_key).tzinfo)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


async def parse_when(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
) -> datetime:
    """``text`` read as an instant (aware, UTC); :class:`BadArgument` when it can't be.

    ``zone_key`` is the member's stored zone (``None`` = UTC), used unless the phrase names
    one; ``now`` is an aware datetime (``ctx.now()``).  ``date_order`` (``DMY``, ``MDY`` or
    ``YMD``) says how ``12/05/2026`` is read; ``allow_date_only`` accepts a date without a time
    (00:00 local).  The result may be in the past ("today 09:00" at noon): callers that need a
    future time check it (``DateTimeArg`` does).  A naive ``now``, an unknown ``date_order`` or a
    corrupt ``zone_key`` is a bug: ``ValueError`` (or ``KeyError`` from
    :func:`chatbot.time.zones.zone_from_key`), never ``BadArgument``.
    """
    parsed = await parse_details(
        text, zone_key=zone_key, now=now, date_order=date_order, allow_date_only=allow_date_only
    )
    return parsed.at


async def parse_details(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
) -> Parsed:
    """Like :func:`parse_when`, with the zone used and whether the phrase named it."""
    outcome = _analyse(text, zone_key, now, date_order, allow_date_only)
    if isinstance(outcome, Parsed):
        return outcome
    if _PARSER is None:  # first use: dateparser takes a second to load, keep the loop free
        import asyncio  # here, so that the CLI does not pay for it

        await asyncio.to_thread(_get_parser)
    return _with_dateparser(outcome)


def parse_when_sync(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
) -> datetime:
    """:func:`parse_when` for code outside the event loop (CLI, benchmarks)."""
    return parse_details_sync(
        text, zone_key=zone_key, now=now, date_order=date_order, allow_date_only=allow_date_only
    ).at


def parse_details_sync(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
) -> Parsed:
    """:func:`parse_details` for code outside the event loop (CLI, benchmarks)."""
    outcome = _analyse(text, zone_key, now, date_order, allow_date_only)
    if isinstance(outcome, Parsed):
        return outcome
    return _with_dateparser(outcome)


def warm_up() -> None:
    """Load dateparser now (blocking, about 0.3–1 s) rather than on the first unusual phrase."""
    _get_parser()


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

_WEEKDAYS: Final = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "weds": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY_NAMES: Final = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
_MONTHS: Final = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_MONTH_NAMES: Final = (
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_NUMBER_WORDS: Final = {
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
_DAY = 86400
_FILLERS: Final = frozenset({"at", "on", "the", "of", "@"})
# Lower-case words that are zone abbreviations too: only their upper-case spelling is a zone.
_ENGLISH_ABBREVIATIONS: Final = frozenset(
    {"art", "bot", "cat", "cot", "eat", "met", "pet", "wet", "west", "wit"}
)
# Words a typo might have been meant as (suggestions in error messages).
_VOCABULARY: Final = tuple(
    sorted(
        {w for w in (*_WEEKDAYS, *_MONTHS) if len(w) > 4}
        | {"today", "tomorrow", "tonight", "next", "week", "noon", "midnight", "midday"}
        | {"hours", "minutes", "days", "weeks", "from", "now", "after"}
    )
)

# ---------------------------------------------------------------------------------------------
# Regular expressions (pre-pass)
# ---------------------------------------------------------------------------------------------

_SPACES_RE = re.compile(r"\s+")
_BRACKETS_RE = re.compile(r"[()\[\]{},;]")
_TRAILING_PUNCT_RE = re.compile(r"[\s.!?]+$")
_ISO_T_RE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})[Tt](\d{1,2}:\d{2})")
_TIME_Z_RE = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)[zZ](?![\w])")
_NAMED_OFFSET_RE = re.compile(
    r"(?<![\w/+\-])(?:utc|gmt)(?:\s*[+\-−–]\s*\d{1,2}(?:[:.h]?\d{2})?)?(?![\w:/+\-])",
    re.IGNORECASE,
)
# A bare offset right after a time: "14:00 +05:30", "14:00:00+05:30", "18:00 -3".  A minus
# without a space only counts after seconds, so that "18:00-20:00" is not read as UTC-20.
_BARE_OFFSET_RE = re.compile(
    r"(?P<time>\d{1,2}:\d{2}(?P<sec>:\d{2}(?:[.,]\d+)?)?|\d{1,2}(?:[.:]\d{2})?\s*[ap]\.?m\.?)"
    r"(?P<space>\s*)(?P<off>[+\-−]\d{2}:?\d{2}|[+\-−]\d{1,2})(?![\w:])",
    re.IGNORECASE,
)
_IANA_RE = re.compile(r"(?<![\w/])[A-Za-z][A-Za-z_\-]*(?:/[A-Za-z0-9_+\-]+)+(?![\w/])")
_WORD_RE = re.compile(r"(?<![\w/+\-:.])[A-Za-z]{2,5}(?![\w/])")
_FOLLOWING_WORD_RE = re.compile(r"\s+([A-Za-z][A-Za-z\-']*)")

_AMPM_RE = re.compile(
    r"(?<![\w:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?(?!\w)", re.IGNORECASE
)
_H_TIME_RE = re.compile(r"(?<![\w:.])(?<!in )(\d{1,2})(?:h(\d{2})?|[.:](\d{2})\s?h)(?!\w)")
_NOON_RE = re.compile(r"\b(?:12\s+)?(?:noon|midday)\b")
_MIDNIGHT_RE = re.compile(r"\b(?:12\s+)?midnight\b")
_CLOCK_RE = re.compile(r"(?<![\w:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\w:])")
_TIME_TOKEN_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_HAS_TIME_RE = re.compile(r"\d:\d{2}|\b(?:now|morning|afternoon|evening|night|tonight)\b")
_RELATIVE_WORDS_RE = re.compile(r"^in\b|\b(?:ago|from now|later|hence)$")

# Grammar tokens.
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


# ---------------------------------------------------------------------------------------------
# Pre-pass
# ---------------------------------------------------------------------------------------------


def _clip(text: str, limit: int = 40) -> str:
    """User text quoted back in an error: short and on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _clean(text: str) -> str:
    """The phrase checked and tidied: NFKC, no format characters, single spaces."""
    if len(text) > MAX_PHRASE_LENGTH:
        raise BadArgument(
            f"That is too long for a date ({len(text)} characters; at most "
            f"{MAX_PHRASE_LENGTH}). {_EXAMPLES}"
        )
    plain = text.isascii() and text.isprintable()  # the usual case: skip the slow checks
    for ch in "" if plain else text:
        cat = unicodedata.category(ch)
        if cat == "Cc" and ch not in " \t\n\r":
            raise BadArgument(
                f"That date contains control characters. Type it again as plain text. {_EXAMPLES}"
            )
        if cat in ("Cs", "Co", "Cn"):
            raise BadArgument(
                f"That date contains unusual characters. Type it again as plain text. {_EXAMPLES}"
            )
    s = text
    if not plain:
        s = unicodedata.normalize("NFKC", s)
        s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    s = _SPACES_RE.sub(" ", _BRACKETS_RE.sub(" ", s)).strip()
    s = _ISO_T_RE.sub(r"\1 \2", s)  # 2026-12-03T14:00 → 2026-12-03 14:00
    s = _TRAILING_PUNCT_RE.sub("", s)
    if not s:
        raise BadArgument(f"Tell me when. {_EXAMPLES}")
    if len(s) > MAX_PHRASE_LENGTH:
        raise BadArgument(
            f"That is too long for a date ({len(s)} characters; at most {MAX_PHRASE_LENGTH}). "
            f"{_EXAMPLES}"
        )
    return s


@dataclass(slots=True)
class _ZoneFound:
    zone: Zone
    text: str


def _ambiguous_in_phrase(exc: AmbiguousZone, phrase: str, m: re.Match[str]) -> NoReturn:
    """Refuse ``Friday 18:00 IST`` with the candidates and the phrase rewritten with one."""
    first = exc.candidates[0]
    listed = ", ".join(exc.candidates)
    example = phrase[: m.start()] + first + phrase[m.end() :]
    raise AmbiguousZone(
        f"{m.group().upper()} can mean several zones ({listed}). Write the zone name instead, "
        f"e.g. '{_clip(example, 60)}'.",
        exc.candidates,
    ) from None


def _take_zone(s: str) -> tuple[str, _ZoneFound | None]:
    """Find and remove the zone named in the phrase; the rest of the phrase and the zone."""
    found: list[tuple[int, int, _ZoneFound]] = []  # (start, end, zone) in s

    def spans_free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b, _ in found)

    # "14:00Z", "2026-12-03 14:00:00Z"
    for m in _TIME_Z_RE.finditer(s):
        found.append((m.end(1), m.end(), _ZoneFound(zone_from_key("UTC"), "Z")))
    # "UTC", "GMT+2", "utc -03:00"
    for m in _NAMED_OFFSET_RE.finditer(s):
        if spans_free(m.start(), m.end()):
            zone = lookup_exact(m.group())  # BadArgument for UTC+15, UTC+5:20
            if zone is not None:
                found.append((m.start(), m.end(), _ZoneFound(zone, m.group())))
    # "14:00 +05:30", "14:00:00+05:30"
    for m in _BARE_OFFSET_RE.finditer(s):
        off = m.group("off")
        if not spans_free(m.start("off"), m.end("off")):
            continue
        if off[0] != "+" and not m.group("space") and not m.group("sec"):
            continue
        zone = lookup_exact(off)
        if zone is not None:
            found.append((m.start("off"), m.end("off"), _ZoneFound(zone, off)))
    # "Europe/Paris", "america/new_york", "America/Sao Paulo"
    for m in _IANA_RE.finditer(s):
        if not spans_free(m.start(), m.end()):
            continue
        end, zone = m.end(), lookup_exact(m.group())
        pos = m.end()
        for _ in range(2):  # names written with spaces for underscores
            if zone is not None:
                break
            nxt = _FOLLOWING_WORD_RE.match(s, pos)
            if nxt is None:
                break
            pos = nxt.end()
            zone = lookup_exact(s[m.start() : pos])
            if zone is not None:
                end = pos
        if zone is None:
            zone = resolve_zone(m.group())  # typo-tolerant; ZoneNotFound with suggestions
        found.append((m.start(), end, _ZoneFound(zone, s[m.start() : end])))
    # "CET", "PST", "cet"
    for m in _WORD_RE.finditer(s):
        word = m.group()
        upper = word.upper()
        if upper not in ZONE_ABBREVIATIONS or not spans_free(m.start(), m.end()):
            continue
        if word != upper and (len(word) < 3 or word.casefold() in _ENGLISH_ABBREVIATIONS):
            continue
        try:
            key = zone_for_abbreviation(upper)
        except AmbiguousZone as exc:
            _ambiguous_in_phrase(exc, s, m)
        if key is not None:
            found.append((m.start(), m.end(), _ZoneFound(zone_from_key(key), word)))

    if not found:
        return s, None
    if len(found) > 1:
        names = " and ".join(f"'{f.text}'" for _, _, f in sorted(found, key=lambda t: t[0]))
        raise BadArgument(
            f"'{_clip(s)}' names more than one time zone ({names}). Keep one, "
            "e.g. 'Friday 18:00 CET'."
        )
    start, end, zone_found = found[0]
    rest = s[end:]
    if re.match(r"\s+time\b", rest, re.IGNORECASE):  # "18:00 CET time"
        rest = rest.lstrip()[4:]
    return _SPACES_RE.sub(" ", f"{s[:start]} {rest}").strip(), zone_found


def _bad_time(shown: str) -> NoReturn:
    raise BadArgument(
        f"'{shown}' is not a time of day. Use 00:00 to 23:59, or 1am to 12pm, "
        "e.g. 'tomorrow 15:00'."
    )


def _normalise_times(s: str) -> tuple[str, bool]:
    """Times rewritten as ``HH:MM``; also whether the phrase said "midnight"."""

    def ampm(m: re.Match[str]) -> str:
        hour, minute = int(m[1]), int(m[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            _bad_time(m.group().strip())
        hour = hour % 12 + (12 if m[3].lower() == "p" else 0)
        return f"{hour:02d}:{minute:02d}"

    def h_time(m: re.Match[str]) -> str:
        hour, minute = int(m[1]), int(m[2] or m[3] or 0)
        if hour > 23 or minute > 59:
            _bad_time(m.group())
        return f"{hour:02d}:{minute:02d}"

    s = _AMPM_RE.sub(ampm, s)
    s = _H_TIME_RE.sub(h_time, s)
    s = _NOON_RE.sub("12:00", s)
    s, midnights = _MIDNIGHT_RE.subn("00:00", s)
    for m in _CLOCK_RE.finditer(s):
        if int(m[1]) > 23 or int(m[2]) > 59 or (m[3] is not None and int(m[3]) > 59):
            _bad_time(m.group())
    return s, midnights > 0


# ---------------------------------------------------------------------------------------------
# Our grammar
# ---------------------------------------------------------------------------------------------


class _Fallback(Exception):
    """The grammar does not cover this phrase: ask dateparser."""


@dataclass(slots=True)
class _Fields:
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
            raise _Fallback
        setattr(self, name, value)


def _number(word: str) -> float | None:
    """``2``, ``1.5``, ``1,5``, ``a``, ``twelve`` as a number; None otherwise (no ``nan``)."""
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
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
        if unit >= _DAY and number.is_integer():  # calendar days: same time of day
            days += int(number) * unit // _DAY
        else:
            total += number * unit
    return (days, total) if pos else None


def _relative(s: str) -> tuple[int, float] | None:
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


def _read_fields(words: list[str]) -> _Fields:
    """The date and time parts of a normalised phrase; ``_Fallback`` for anything else."""
    f = _Fields()
    i, n = 0, len(words)

    def peek(k: int) -> str:
        return words[i + k] if i + k < n else ""

    while i < n:
        w = words[i].rstrip(".") or words[i]
        if w in _FILLERS:
            if w == "at" and _HOUR_RE.fullmatch(peek(1)) and peek(2) not in _MONTHS:
                hour = int(peek(1))  # "at 9" → 09:00
                if hour > 23:
                    _bad_time(f"at {hour}")
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
        elif w in _WEEKDAYS:
            f.set("weekday", _WEEKDAYS[w])
            i += 1
        elif w in ("next", "this", "coming") and peek(1).rstrip(".") in _WEEKDAYS:
            f.set("modifier", "this" if w == "coming" else w)
            f.set("weekday", _WEEKDAYS[peek(1).rstrip(".")])
            i += 2
        elif w in ("next", "this") and peek(1) == "week":
            f.set("week_offset", 1 if w == "next" else 0)
            i += 2
        elif w == "in" and (amount := _day_amount(peek(1), peek(2))) is not None:
            f.set("rel_days", amount[0])
            i += 1 + amount[1]
        elif w in _MONTHS:
            f.set("month", _MONTHS[w])
            i += 1
            if (m := _DAY_NUM_RE.fullmatch(peek(0))) and f.day is None:
                f.set("day", int(m[1]))
                i += 1
                if _YEAR_RE.fullmatch(peek(0)):
                    f.set("year", int(peek(0)))
                    i += 1
        elif (m := _DAY_NUM_RE.fullmatch(w)) and (
            peek(1).rstrip(".") in _MONTHS or (peek(1) == "of" and peek(2).rstrip(".") in _MONTHS)
        ):
            f.set("day", int(m[1]))
            i += 2 if peek(1) == "of" else 1
            f.set("month", _MONTHS[words[i].rstrip(".")])
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
            raise _Fallback
    if f.week_offset is not None and f.weekday is None:
        raise _Fallback  # "next week 10:00": let dateparser have its say
    if f.month is not None and f.day is None:
        raise _Fallback  # "December 2026"
    return f


def _day_amount(num: str, unit: str) -> tuple[int, int] | None:
    """``in 3 days``, ``in 2 weeks``, ``in 3d`` as (days, words used), or None."""
    if m := re.fullmatch(r"(\d{1,4})([dw])", num):
        return int(m[1]) * (7 if m[2] == "w" else 1), 1
    number = _number(num)
    seconds = _UNIT_SECONDS.get(unit)
    if number is None or not number.is_integer() or seconds is None or seconds < _DAY:
        return None
    return int(number) * seconds // _DAY, 2


# ---------------------------------------------------------------------------------------------
# Putting an instant together
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    text: str  # as the member wrote it (for messages)
    phrase: str  # zone removed, normalised, lower case
    zone: Zone
    zone_found: _ZoneFound | None
    now: datetime  # aware
    now_local: datetime  # aware, in zone
    date_order: str
    allow_date_only: bool
    midnight: bool

    def parsed(self, at: datetime, *, has_time: bool = True, relative: bool = False) -> Parsed:
        found = self.zone_found
        return Parsed(
            at=at.astimezone(UTC),
            zone_key=self.zone.key,
            zone_named_in_phrase=found is not None,
            zone_text=found.text if found else None,
            has_time=has_time,
            relative=relative,
        )


def _day_text(d: date) -> str:
    return f"{d.day} {_MONTH_NAMES[d.month]} {d.year}"


def _make_date(ctx: _Context, year: int, month: int, day: int) -> date:
    _check_year(ctx, year)
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            shown = f"{day} {_MONTH_NAMES[month]} {year}"
            raise BadArgument(f"There is no {shown}. Check the day of the month.") from None
        raise BadArgument(
            f"I can't read '{_clip(ctx.text)}' as a date: there is no month {month}. "
            f"Write the month as a word, e.g. '3 December 2026 16:00'."
        ) from None


def _check_year(ctx: _Context, year: int) -> None:
    if year < MIN_YEAR:
        raise BadArgument(f"'{_clip(ctx.text)}' is before {MIN_YEAR}. Give a date from now on.")
    if year > ctx.now_local.year + MAX_YEARS_AHEAD:
        _too_far(ctx)


def _too_far(ctx: _Context) -> NoReturn:
    raise BadArgument(
        f"'{_clip(ctx.text)}' is more than {MAX_YEARS_AHEAD} years ahead. Give a nearer date."
    )


def _localise(ctx: _Context, day: date, hms: tuple[int, int, int]) -> datetime:
    """``day`` at ``hms`` in the context's zone; refuses a time skipped by a clock change."""
    _check_year(ctx, day.year)
    tz = ctx.zone.tzinfo
    local = datetime(day.year, day.month, day.day, *hms, tzinfo=tz)  # fold=0: first of two
    if isinstance(tz, ZoneInfo):
        back = local.astimezone(UTC).astimezone(tz)
        if back.replace(tzinfo=None) != local.replace(tzinfo=None):
            raise BadArgument(
                f"{hms[0]:02d}:{hms[1]:02d} does not exist on {_day_text(day)} in "
                f"{ctx.zone.key}: the clocks go forward that night, straight to "
                f"{back:%H:%M}. Pick another time, e.g. {back:%H:%M}."
            )
    return local


def _weekday_date(ctx: _Context, f: _Fields, weekday: int, time_ok: bool) -> date:
    today = ctx.now_local.date()
    if f.week_offset is not None:
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * f.week_offset + weekday)
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and (f.modifier == "next" or (f.modifier is None and not time_ok)):
        ahead = 7  # said on that weekday: a week later, unless "this" or still to come today
    return today + timedelta(days=ahead)


def _from_fields(ctx: _Context, f: _Fields) -> Parsed:
    today = ctx.now_local.date()
    hms = f.time
    if ctx.midnight and (f.rel_days is not None or f.weekday is not None or f.day is not None):
        _midnight_with_day()
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
            _too_far(ctx)
        day = today + timedelta(days=f.rel_days)
    if f.weekday is not None:
        if day is not None:
            if day.weekday() != f.weekday:
                raise BadArgument(
                    f"{_day_text(day)} is a {_WEEKDAY_NAMES[day.weekday()]}, not a "
                    f"{_WEEKDAY_NAMES[f.weekday]}. Check the date."
                )
        else:
            day = _weekday_date(ctx, f, f.weekday, hms is not None and _still_to_come(ctx, hms))
    if hms is None:
        if day is None:
            raise _Fallback
        if not ctx.allow_date_only:
            _need_time(ctx, f"{_clip(ctx.text, 60)} 15:00")
        return ctx.parsed(_localise(ctx, day, (0, 0, 0)), has_time=False)
    if day is None:  # a bare time: its next occurrence
        day = today if _still_to_come(ctx, hms) else today + timedelta(days=1)
    return ctx.parsed(_localise(ctx, day, hms))


def _midnight_with_day() -> NoReturn:
    raise BadArgument(
        "'Midnight' with a day could mean the start or the end of that day. Write 00:00 "
        "with the day you mean, e.g. 'Saturday 00:00' for the night from Friday to Saturday."
    )


def _still_to_come(ctx: _Context, hms: tuple[int, int, int]) -> bool:
    """Whether ``hms`` today (wall clock in the zone) is later than now."""
    now = ctx.now_local
    return hms > (now.hour, now.minute, now.second)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _need_time(ctx: _Context, example: str) -> NoReturn:
    raise BadArgument(
        f"'{_clip(ctx.text)}' has a day but no time, and meetings need one. Add a time, "
        f"e.g. '{example}'."
    )


# ---------------------------------------------------------------------------------------------
# Analysis: the pre-pass, then our grammar; what is left is for dateparser
# ---------------------------------------------------------------------------------------------


def _analyse(
    text: str,
    zone_key: str | None,
    now: datetime,
    date_order: str,
    allow_date_only: bool,
) -> Parsed | _Context:
    """A :class:`Parsed`, or the context dateparser needs when our grammar can't read it."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {sorted(DATE_ORDERS)}, not {date_order!r}")
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    cleaned = _clean(text)
    rest, found = _take_zone(cleaned)
    zone = found.zone if found else zone_from_key(zone_key or "UTC")
    lowered = rest.casefold()
    relative = _relative(lowered)  # before "2h" could become a time of day
    phrase, midnight = _normalise_times(lowered) if relative is None else (lowered, False)
    ctx = _Context(
        text=cleaned,
        phrase=phrase,
        zone=zone,
        zone_found=found,
        now=now,
        now_local=now.astimezone(zone.tzinfo),
        date_order=date_order,
        allow_date_only=allow_date_only,
        midnight=midnight,
    )
    if not phrase:
        raise BadArgument(
            f"'{_clip(cleaned)}' is only a time zone. Add a day and a time, "
            f"e.g. 'tomorrow 15:00 {found.text if found else 'UTC'}'."
        )
    if relative is not None:
        days, seconds = relative
        if abs(days * _DAY + seconds) > (MAX_YEARS_AHEAD + 1) * 366 * _DAY:
            raise BadArgument(
                f"'{_clip(cleaned)}' is more than {MAX_YEARS_AHEAD} years away. Give a nearer time."
            )
        at = ctx.now_local
        if days:  # "in 3 days": same wall-clock time, whatever the clocks do meanwhile
            day = at.date() + timedelta(days=days)
            at = _localise(ctx, day, (at.hour, at.minute, at.second)) + timedelta(
                microseconds=at.microsecond
            )
        at = at.astimezone(UTC) + timedelta(seconds=round(seconds))
        _check_year(ctx, at.astimezone(zone.tzinfo).year)
        return ctx.parsed(at, relative=True)
    try:
        return _from_fields(ctx, _read_fields(phrase.split()))
    except _Fallback:
        return ctx


# ---------------------------------------------------------------------------------------------
# dateparser
# ---------------------------------------------------------------------------------------------

_PARSER: Any = None  # dateparser.date.DateDataParser, built once
_DEFAULT_SETTINGS: Any = None  # dateparser.conf.settings
_BUILD_LOCK = threading.Lock()
_PARSE_LOCK = threading.Lock()  # the parser's settings are swapped per call
# No "timestamp" parser: a ten-digit number is not a date a member means.
_PARSERS: Final = ("relative-time", "custom-formats", "absolute-time")


def _settings_dict(date_order: str, base: datetime) -> dict[str, Any]:
    return {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": date_order,
        "PARSERS": list(_PARSERS),
        # RETURN_AS_TIMEZONE_AWARE stays at dateparser's default: naive unless the phrase
        # named a zone our pre-pass did not know (then aware, and it is respected).
    }


def _get_parser() -> Any:
    """The shared English ``DateDataParser`` (built and warmed on first use)."""
    global _PARSER, _DEFAULT_SETTINGS
    if _PARSER is not None:
        return _PARSER
    with _BUILD_LOCK:
        if _PARSER is None:
            with warnings.catch_warnings():
                for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                    warnings.simplefilter("ignore", category)
                from dateparser.conf import settings as default_settings
                from dateparser.date import DateDataParser

                base = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 (dateparser wants naive)
                parser = DateDataParser(languages=["en"], settings=_settings_dict("DMY", base))
                for phrase in ("tomorrow 10:00", "3 december 2026 16:00", "friday 18:00"):
                    parser.get_date_data(phrase)  # loads the locale data and compiles regexes
                if not hasattr(parser, "_settings"):
                    raise RuntimeError("unsupported dateparser: DateDataParser has no _settings")
            _DEFAULT_SETTINGS = default_settings
            _PARSER = parser
    return _PARSER


def _dateparser_read(parser: Any, phrase: str, date_order: str, base: datetime) -> Any:
    """dateparser's ``DateData`` for ``phrase``, read relative to naive ``base``."""
    mod = _settings_dict(date_order, base)
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        settings = _DEFAULT_SETTINGS.replace(mod_settings=mod, **mod)
        with _PARSE_LOCK:
            parser._settings = settings
            return parser.get_date_data(phrase)


def _with_dateparser(ctx: _Context) -> Parsed:
    base = ctx.now_local.replace(tzinfo=None)
    # Fillers that trip dateparser ("on the 3rd of december") go; "at" it reads itself.
    phrase = " ".join(w for w in ctx.phrase.split() if w not in ("on", "the", "@"))
    parser = _get_parser()  # outside the try: a broken install is a bug, not a member's typo
    try:
        data = _dateparser_read(parser, phrase, ctx.date_order, base)
    except Exception:  # a bug of dateparser's on odd text must not become ours
        log.debug("dateparser failed on %r", phrase, exc_info=True)
        _unreadable(ctx)
    found: datetime | None = data.date_obj
    if found is None:
        _unreadable(ctx)
    relative = _RELATIVE_WORDS_RE.search(phrase) is not None
    period = getattr(data, "period", "day")
    if period not in ("day", "time") and not relative:
        raise BadArgument(
            f"'{_clip(ctx.text)}' is not a single day. Give the day and the time, "
            "e.g. '3 December 2026 16:00'."
        )
    if found.tzinfo is not None:  # dateparser knew a zone we did not
        offset = found.utcoffset() or timedelta(0)
        _check_year(ctx, found.year)
        return Parsed(
            at=found.astimezone(UTC),
            zone_key=_offset_key(offset),
            zone_named_in_phrase=True,
            zone_text=None,
        )
    parts = getattr(data, "parts", None)
    has_time = ("time" in parts) if parts else _HAS_TIME_RE.search(phrase) is not None
    if ctx.midnight and not relative:
        _midnight_with_day()
    if relative and not has_time:  # "in a fortnight": counted from now, now's time of day
        hms = (found.hour, found.minute, found.second)
        return ctx.parsed(_localise(ctx, found.date(), hms), relative=True)
    if not has_time:
        if not ctx.allow_date_only:
            _need_time(ctx, "3 December 2026 15:00")
        return ctx.parsed(_localise(ctx, found.date(), (0, 0, 0)), has_time=False)
    return ctx.parsed(_localise(ctx, found.date(), (found.hour, found.minute, found.second)))


def _offset_key(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def _unreadable(ctx: _Context) -> NoReturn:
    hint = _suggestion(ctx.text)
    raise BadArgument(f"I can't read '{_clip(ctx.text)}' as a date.{hint} {_EXAMPLES}")


def _suggestion(text: str) -> str:
    """`` Did you mean 'tomorrow 15:00'?`` when a word looks like a misspelt date word."""
    from rapidfuzz import fuzz, process

    words = text.split()
    changed = False
    for i, word in enumerate(words):
        low = word.casefold()
        if len(low) < 4 or not low.isalpha() or low in _VOCABULARY:
            continue
        if low in _WEEKDAYS or low in _MONTHS or low in _NUMBER_WORDS:
            continue
        hit = process.extractOne(low, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=75)
        if hit is not None:
            words[i] = hit[0]
            changed = True
    return f" Did you mean '{_clip(' '.join(words), 60)}'?" if changed else ""


# ---------------------------------------------------------------------------------------------
# CLI: chatbot when "PHRASE" [--zone ZONE] [--now ISO]
# ---------------------------------------------------------------------------------------------


class _UsageError(Exception):
    pass


def _cli_parser() -> argparse.ArgumentParser:
    import argparse

    class _ArgumentParser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise _UsageError(message)

    parser = _ArgumentParser(
        prog="chatbot when",
        description="Read a date phrase as the bot would and print the instant in UTC (ISO 8601).",
    )
    parser.add_argument("phrase", help="e.g. 'Friday 18h CET' or 'tomorrow 9am'")
    parser.add_argument(
        "--zone", help="the zone to read it in (city, IANA name, offset…); default UTC"
    )
    parser.add_argument(
        "--now", help="the current time as ISO 8601 (naive means UTC); default: the clock"
    )
    parser.add_argument(
        "--date-order",
        choices=sorted(DATE_ORDERS),
        default="DMY",
        help="how to read 12/05/2026 (default DMY: 12 May)",
    )
    parser.add_argument(
        "--allow-date-only", action="store_true", help="accept a date without a time (00:00)"
    )
    return parser


def when_main(argv: list[str]) -> int:
    """``chatbot when "PHRASE" [--zone ZONE] [--now ISO-8601]``.

    Prints the instant as ISO 8601 in UTC (its only line on stdout) and returns 0; prints the
    reason on stderr and returns 1 when the phrase, zone or time can't be read; returns 2 for a
    malformed command line (usage on stderr).
    """
    parser = _cli_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(parser.format_usage().rstrip(), file=sys.stderr)
        print(f"chatbot when: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    try:
        zone_key = resolve_zone(args.zone).key if args.zone is not None else None
        now = _cli_now(args.now)
        at = parse_when_sync(
            args.phrase,
            zone_key=zone_key,
            now=now,
            date_order=args.date_order,
            allow_date_only=args.allow_date_only,
        )
    except BadArgument as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(at.isoformat(timespec="seconds"))
    return 0


def _cli_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(
            f"--now must be an ISO 8601 date and time such as 2026-11-25T12:00:00+00:00, "
            f"not '{_clip(text)}'."
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
