"""The dateparser fallback, for the phrases our grammar does not read.

Step 5 of :mod:`chatbot.time.parse` (its docstring says how dateparser is set up).  One
English ``DateDataParser`` is built on first need (dateparser takes 0.3–1 s to import, so
nothing here imports it at module level) and reused: its settings object is swapped per call
under a lock, because dateparser has no per-call settings.  Its naive result gets the zone the
phrase is read in attached by :func:`chatbot.time.phrase_instant.localise`, with the same
checks as our grammar's results.  An unreadable phrase is refused with a suggestion when a
word looks like a misspelt date word (``tomorow`` → ``tomorrow``).  It is a module of its own
because it is the only code that touches dateparser's internals.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NoReturn

from chatbot.base.errors import BadArgument
from chatbot.time.phrase_grammar import MONTHS, NUMBER_WORDS, WEEKDAYS
from chatbot.time.phrase_instant import (
    Parsed,
    Reading,
    check_year,
    localise,
    midnight_with_day,
    need_time,
)
from chatbot.time.phrase_prepass import EXAMPLES, clip

log = logging.getLogger(__name__)

# Words a typo might have been meant as (suggestions in error messages).
_VOCABULARY: Final = tuple(
    sorted(
        {w for w in (*WEEKDAYS, *MONTHS) if len(w) > 4}
        | {"today", "tomorrow", "tonight", "next", "week", "noon", "midnight", "midday"}
        | {"hours", "minutes", "days", "weeks", "from", "now", "after"}
    )
)
_HAS_TIME_RE = re.compile(r"\d:\d{2}|\b(?:now|morning|afternoon|evening|night|tonight)\b")
_RELATIVE_WORDS_RE = re.compile(r"^in\b|\b(?:ago|from now|later|hence)$")

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


def get_parser() -> Any:
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


def loaded() -> bool:
    """Whether the shared parser is built (the first :func:`get_parser` call costs 0.3–1 s)."""
    return _PARSER is not None


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


def read_with_dateparser(ctx: Reading) -> Parsed:
    """``ctx`` read by dateparser, with the checks our grammar's results get."""
    base = ctx.now_local.replace(tzinfo=None)
    # Fillers that trip dateparser ("on the 3rd of december") go; "at" it reads itself.
    phrase = " ".join(w for w in ctx.phrase.split() if w not in ("on", "the", "@"))
    parser = get_parser()  # outside the try: a broken install is a bug, not a member's typo
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
            f"'{clip(ctx.text)}' is not a single day. Give the day and the time, "
            "e.g. '3 December 2026 16:00'."
        )
    if found.tzinfo is not None:  # dateparser knew a zone we did not
        offset = found.utcoffset() or timedelta(0)
        check_year(ctx, found.year)
        return Parsed(
            at=found.astimezone(UTC),
            zone_key=_offset_key(offset),
            zone_named_in_phrase=True,
            zone_text=None,
        )
    parts = getattr(data, "parts", None)
    has_time = ("time" in parts) if parts else _HAS_TIME_RE.search(phrase) is not None
    if ctx.midnight and not relative:
        midnight_with_day()
    if relative and not has_time:  # "in a fortnight": counted from now, now's time of day
        hms = (found.hour, found.minute, found.second)
        return ctx.parsed(localise(ctx, found.date(), hms), relative=True)
    if not has_time:
        if not ctx.allow_date_only:
            need_time(ctx, "3 December 2026 15:00")
        return ctx.parsed(localise(ctx, found.date(), (0, 0, 0)), has_time=False)
    return ctx.parsed(localise(ctx, found.date(), (found.hour, found.minute, found.second)))


def _offset_key(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def _unreadable(ctx: Reading) -> NoReturn:
    hint = _suggestion(ctx.text)
    raise BadArgument(f"I can't read '{clip(ctx.text)}' as a date.{hint} {EXAMPLES}")


def _suggestion(text: str) -> str:
    """`` Did you mean 'tomorrow 15:00'?`` when a word looks like a misspelt date word."""
    from rapidfuzz import fuzz, process

    words = text.split()
    changed = False
    for i, word in enumerate(words):
        low = word.casefold()
        if len(low) < 4 or not low.isalpha() or low in _VOCABULARY:
            continue
        if low in WEEKDAYS or low in MONTHS or low in NUMBER_WORDS:
            continue
        hit = process.extractOne(low, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=75)
        if hit is not None:
            words[i] = hit[0]
            changed = True
    return f" Did you mean '{clip(' '.join(words), 60)}'?" if changed else ""
