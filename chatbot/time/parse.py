"""Natural-language date phrases → an aware UTC instant.

``!meeting add "Friday 18h CET"``, ``!remind me in 2 hours``, ``!when 15:00 UTC``,
``!when viernes 18h``, ``!when demain 9h``: members write times the way they speak, in their own
zone and in English, Spanish, French, Portuguese or German.  This module reads those phrases.

How a phrase is read
====================

1. **Checks**: empty, longer than :data:`MAX_PHRASE_LENGTH`, control or unusual characters →
   :class:`~chatbot.base.errors.BadArgument`.  Invisible format characters (zero-width spaces,
   direction marks pasted with a phrase) are dropped.
2. **Zone pre-pass**: one zone named in the phrase is found and removed: an IANA name
   (``Europe/Paris``, ``america/new_york``, ``America/Sao Paulo``), an abbreviation from
   :data:`chatbot.time.zones.ZONE_ABBREVIATIONS` (``CET``, ``PST``…; an ambiguous one such as
   ``IST`` raises :class:`~chatbot.base.errors.AmbiguousZone` naming the candidates), an offset
   (``UTC``, ``GMT+2``, ``UTC-03:00``, or ``+05:30``/``Z`` right after a time), or a place at
   the end of the phrase, read as ``!tz set`` reads it (``friday 18:00 são paulo``, ``mañana
   18h ciudad de méxico``; date words of the five languages are never places).  Without one the
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
5. Anything else goes to **dateparser**, in each language in turn: the member's ``!lang``
   first when it is one of es/fr/pt/de, then English, then the others (never language
   auto-detection, which costs up to 20 ms a phrase).  English phrases go to one
   ``DateDataParser(languages=["en"])`` built lazily and reused, with ``RELATIVE_BASE`` = now as
   naive local time in the zone, ``PREFER_DATES_FROM="future"`` and ``DATE_ORDER`` from the
   caller, no ``timestamp`` parser.  Spanish, French, Portuguese and German phrases are
   *translated* by dateparser's locale for the language into English words (``viernes 18:00``
   → ``friday 18:00``, ``mañana a las 18h`` → ``in 1 day 18:00``, ``dans 2 heures`` → ``in 2
   hour``) and the translation is read by our grammar, so a phrase means the same in every
   language (dateparser's own reading differs: it puts ``viernes 18:00`` said on a Friday
   morning a week later, and misses ``próximo lunes``, ``a las 6 de la tarde``, ``um 18 Uhr``,
   which :mod:`~chatbot.time.phrase_languages` rewrites first).  Its naive result gets the zone
   attached here with zoneinfo.  ``RETURN_AS_TIMEZONE_AWARE`` is left at dateparser's default
   (naive unless the phrase had a zone) rather than ``False``: with ``False`` a zone that only
   dateparser knows (``ACWST``) would be silently dropped and the time misread in the member's
   zone.  dateparser has no per-call settings, so the parser's settings object is swapped for
   each call (under a lock) instead of building a parser per phrase.
6. **Checks on the result**: a time is required (meetings need one) unless
   ``allow_date_only``; the year must lie between 1970 and five years from now; a local time that
   does not exist (skipped by a spring-forward change) is refused with an explanation; a local
   time that happens twice (autumn change) is taken at its first occurrence (``fold=0``); a
   month without its day (``december 18:00``, ``diciembre 18h``) is refused rather than given
   today's day of the month, as dateparser would.

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

Importing this module is cheap; dateparser and its five languages are loaded when the first
phrase needs them (about 0.5–1 s).  :func:`parse_when` / :func:`parse_details` do that first
load in a worker thread (``asyncio.to_thread``) and call the loaded parser directly afterwards;
:func:`warm_up` loads it ahead of time (the bot does, in a thread, once it is ready).
:func:`parse_when_sync` / :func:`parse_details_sync` are for the CLI and benchmarks.

Where the code is
=================

This module is the entry point: the public functions, and ``_analyse``, which puts steps 1–4
together.  The steps live in modules of their own, each importing only those listed before it:

* :mod:`chatbot.time.phrase_vocabulary`: weekday, month and date words of es/fr/pt/de, for the
  code that must know them without dateparser (the place pre-pass, meeting recurrences);
* :mod:`chatbot.time.phrase_prepass`: steps 1–3, the checks, the zone named in the phrase, clock
  forms rewritten;
* :mod:`chatbot.time.phrase_instant`: :class:`Parsed`, the limits, and step 6, the checks every
  result passes (year range, clock changes);
* :mod:`chatbot.time.phrase_grammar`: step 4, our grammar;
* :mod:`chatbot.time.phrase_languages`: step 5 for es/fr/pt/de, what dateparser's translation
  misses, rewritten;
* :mod:`chatbot.time.phrase_dateparser`: step 5, dateparser and the order of the languages.

The ``chatbot when`` command line is :mod:`chatbot.time.when_cli`, which uses this module.
"""

from __future__ import annotations

from datetime import datetime

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Plain, _
from chatbot.time import phrase_dateparser
from chatbot.time.phrase_grammar import (
    Fallback,
    from_fields,
    from_relative,
    read_fields,
    read_relative,
)
from chatbot.time.phrase_instant import (
    DATE_ORDERS,
    MAX_YEARS_AHEAD,
    MIN_YEAR,
    Parsed,
    Reading,
)
from chatbot.time.phrase_prepass import MAX_PHRASE_LENGTH, clean, clip, normalise_times, take_zone
from chatbot.time.zones import zone_from_key

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
]


async def parse_when(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
    lang: str | None = None,
) -> datetime:
    """``text`` read as an instant (aware, UTC); :class:`BadArgument` when it can't be.

    ``zone_key`` is the member's stored zone (``None`` = UTC), used unless the phrase names
    one; ``now`` is an aware datetime (``ctx.now()``).  ``date_order`` (``DMY``, ``MDY`` or
    ``YMD``) says how ``12/05/2026`` is read; ``allow_date_only`` accepts a date without a time
    (00:00 local); ``lang`` is the member's ``!lang`` (``fr``, ``pt-BR``, None): a phrase in
    Spanish, French, Portuguese or German is read whatever it is, but the member's language is
    tried first.  The result may be in the past ("today 09:00" at noon): callers that need a
    future time check it (``DateTimeArg`` does).  A naive ``now``, an unknown ``date_order`` or a
    corrupt ``zone_key`` is a bug: ``ValueError`` (or ``KeyError`` from
    :func:`chatbot.time.zones.zone_from_key`), never ``BadArgument``.
    """
    parsed = await parse_details(
        text,
        zone_key=zone_key,
        now=now,
        date_order=date_order,
        allow_date_only=allow_date_only,
        lang=lang,
    )
    return parsed.at


async def parse_details(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
    lang: str | None = None,
) -> Parsed:
    """Like :func:`parse_when`, with the zone used and whether the phrase named it."""
    outcome = _analyse(text, zone_key, now, date_order, allow_date_only)
    if isinstance(outcome, Parsed):
        return outcome
    if not phrase_dateparser.loaded():  # first use: it takes a second to load, keep the loop free
        import asyncio  # here, so that the CLI does not pay for it

        await asyncio.to_thread(phrase_dateparser.get_parser)
    return phrase_dateparser.read_with_dateparser(outcome, lang)


def parse_when_sync(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
    lang: str | None = None,
) -> datetime:
    """:func:`parse_when` for code outside the event loop (CLI, benchmarks)."""
    return parse_details_sync(
        text,
        zone_key=zone_key,
        now=now,
        date_order=date_order,
        allow_date_only=allow_date_only,
        lang=lang,
    ).at


def parse_details_sync(
    text: str,
    *,
    zone_key: str | None,
    now: datetime,
    date_order: str = "DMY",
    allow_date_only: bool = False,
    lang: str | None = None,
) -> Parsed:
    """:func:`parse_details` for code outside the event loop (CLI, benchmarks)."""
    outcome = _analyse(text, zone_key, now, date_order, allow_date_only)
    if isinstance(outcome, Parsed):
        return outcome
    return phrase_dateparser.read_with_dateparser(outcome, lang)


def warm_up() -> None:
    """Load dateparser and its five languages now (blocking, about 0.5–1 s) rather than on the
    first unusual or non-English phrase."""
    phrase_dateparser.get_parser()


def _analyse(
    text: str,
    zone_key: str | None,
    now: datetime,
    date_order: str,
    allow_date_only: bool,
) -> Parsed | Reading:
    """A :class:`Parsed`, or the reading dateparser needs when our grammar can't read it.

    Steps 1–4: the checks and pre-pass (:mod:`~chatbot.time.phrase_prepass`), then a relative
    phrase (``in 2 hours``) or our grammar (:mod:`~chatbot.time.phrase_grammar`).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {sorted(DATE_ORDERS)}, not {date_order!r}")
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    cleaned = clean(text)
    rest, found = take_zone(cleaned)
    zone = found.zone if found else zone_from_key(zone_key or "UTC")
    lowered = rest.casefold()
    relative = read_relative(lowered)  # before "2h" could become a time of day
    phrase, midnight = normalise_times(lowered) if relative is None else (lowered, False)
    ctx = Reading(
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
            _(
                "'{phrase}' is only a time zone. Add a day and a time, "
                "e.g. 'tomorrow 15:00 {zone}'.",
                phrase=Plain(clip(cleaned)),
                zone=Plain(found.text if found else "UTC"),
            )
        )
    if relative is not None:
        return from_relative(ctx, *relative)
    try:
        return from_fields(ctx, read_fields(phrase.split()))
    except Fallback:
        return ctx
