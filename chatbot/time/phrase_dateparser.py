"""The dateparser step, for the phrases our grammar does not read: unusual English shapes and
phrases in Spanish, French, Portuguese and German.

Step 5 of :mod:`chatbot.time.parse` (its docstring says how dateparser is set up).  The
languages are tried in :func:`~chatbot.time.phrase_languages.language_order` (the member's
``!lang`` first, else English first); the first that reads the phrase wins:

* **English**: one English ``DateDataParser``, built on first need and reused: its settings
  object is swapped per call under a lock, because dateparser has no per-call settings;
* **es, fr, pt, de**: dateparser's locale for the language translates the phrase into English
  words (after :func:`~chatbot.time.phrase_languages.rewrite`), which our grammar reads
  (:func:`~chatbot.time.phrase_grammar.read_english`), or, failing that, the English parser.

dateparser takes 0.3–1 s to import and load these five languages, so nothing here imports it at
module level: :func:`get_parser` loads it all at once, on first need (and
:mod:`~chatbot.time.phrase_languages` is imported then too).  Its naive result gets the
zone the phrase is read in attached by :func:`chatbot.time.phrase_instant.localise`, with the
same checks as our grammar's results.  An unreadable phrase is refused with a suggestion when a
word looks like a misspelt date word (``tomorow`` → ``tomorrow``); a phrase one language reads
but refuses (``viernes`` without a time) gets that refusal.  It is a module of its own because
it is the only code that touches dateparser's internals.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NoReturn

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Plain, _
from chatbot.time.phrase_grammar import MONTHS, NUMBER_WORDS, WEEKDAYS, Fallback, read_english
from chatbot.time.phrase_instant import (
    Parsed,
    Reading,
    check_year,
    localise,
    midnight_with_day,
    need_time,
)
from chatbot.time.phrase_prepass import EXAMPLES, clip, normalise_times
from chatbot.time.phrase_vocabulary import DATE_WORDS as OTHER_DATE_WORDS
from chatbot.time.phrase_vocabulary import OTHER_LANGUAGES
from chatbot.time.phrase_vocabulary import WEEKDAYS as OTHER_WEEKDAYS

log = logging.getLogger(__name__)

# Words a typo might have been meant as (suggestions in error messages).
_VOCABULARY: Final = tuple(
    sorted(
        {w for w in (*WEEKDAYS, *MONTHS) if len(w) > 4}
        | {"today", "tomorrow", "tonight", "next", "week", "noon", "midnight", "midday"}
        | {"hours", "minutes", "days", "weeks", "from", "now", "after"}
        | {w for table in OTHER_WEEKDAYS.values() for w in table if len(w) > 4}
        | {"mañana", "demain", "amanhã", "morgen", "heute", "übermorgen", "próximo", "prochain"}
    )
)
_HAS_TIME_RE = re.compile(r"\d:\d{2}|\b(?:now|morning|afternoon|evening|night|tonight)\b")
_RELATIVE_WORDS_RE = re.compile(r"^in\b|\b(?:ago|from now|later|hence)$")

_PARSER: Any = None  # dateparser.date.DateDataParser, built once
_DEFAULT_SETTINGS: Any = None  # dateparser.conf.settings
_LOCALES: dict[str, Any] = {}  # es/fr/pt/de → dateparser.languages.locale.Locale
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


_WARM_UP: Final = {
    "es": "el próximo viernes a las 18:00",
    "fr": "vendredi prochain à 18:00",
    "pt": "sexta-feira às 18:00",
    "de": "nächsten freitag um 18:00",
}


def get_parser() -> Any:
    """The shared English ``DateDataParser``, with the es/fr/pt/de locales that translate
    (all loaded and warmed on first use)."""
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
                from dateparser.languages.loader import default_loader

                for language in OTHER_LANGUAGES:
                    locale = default_loader.get_locale(language)
                    # compiles the locale's dictionary (the first translation costs 20 ms)
                    locale.translate(_WARM_UP[language], settings=default_settings)
                    _LOCALES[language] = locale
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


def _translate(language: str, phrase: str) -> str:
    """``phrase`` in dateparser's English words, as ``language``'s locale translates it."""
    translated: str = _LOCALES[language].translate(phrase, settings=_DEFAULT_SETTINGS)
    return translated


def read_with_dateparser(ctx: Reading, lang: str | None = None) -> Parsed:
    """``ctx`` read in each language in turn (``lang``, the member's, first), with the checks
    our grammar's results get; the first refusal, or "I can't read", when none reads it."""
    get_parser()  # outside the try: a broken install is a bug, not a member's typo
    # here, not at the top: its regular expressions need compiling only once a phrase needs it
    from chatbot.time.phrase_languages import language_order

    refusal: BadArgument | None = None
    for language in language_order(lang):
        try:
            parsed = _read_in(ctx, language)
        except BadArgument as exc:
            refusal = refusal or exc
            continue
        if parsed is not None:
            return parsed
    if refusal is not None:
        raise refusal
    _unreadable(ctx)


def _read_in(ctx: Reading, language: str) -> Parsed | None:
    """``ctx`` read as ``language``; None when that language does not read it."""
    if language == "en":
        return _read_english(ctx)
    from chatbot.time.phrase_languages import translate_phrase

    english = translate_phrase(ctx.phrase, language, _translate)
    if english is None:
        return None
    try:
        return read_english(ctx, english)
    except Fallback:
        phrase, midnight = normalise_times(english)
        return _read_english(replace(ctx, phrase=phrase, midnight=ctx.midnight or midnight))


def _read_english(ctx: Reading) -> Parsed | None:
    """``ctx.phrase`` read by the English ``DateDataParser``; None when it can't."""
    base = ctx.now_local.replace(tzinfo=None)
    # Fillers that trip dateparser ("on the 3rd of december"); "at" it reads itself.
    phrase = " ".join(w for w in ctx.phrase.split() if w not in ("on", "the", "@"))
    try:
        data = _dateparser_read(_PARSER, phrase, ctx.date_order, base)
    except Exception:  # a bug of dateparser's on odd text must not become ours
        log.debug("dateparser failed on %r", phrase, exc_info=True)
        return None
    found: datetime | None = data.date_obj
    if found is None:
        return None
    relative = _RELATIVE_WORDS_RE.search(phrase) is not None
    period = getattr(data, "period", "day")
    parts: tuple[str, ...] = tuple(getattr(data, "parts", None) or ())
    # "december 18:00", "18:00 mayo": dateparser takes today's day of the month, unasked
    no_day = "day" not in parts and bool({"month", "year"} & set(parts))
    if (period not in ("day", "time") or no_day) and not relative:
        raise BadArgument(
            _(
                "'{phrase}' is not a single day. Give the day and the time, "
                "e.g. '3 December 2026 16:00'.",
                phrase=Plain(clip(ctx.text)),
            )
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
    has_time = ("time" in parts) if parts else _HAS_TIME_RE.search(phrase) is not None
    if ctx.midnight and not relative:
        midnight_with_day()
    if relative and not has_time:  # "in a fortnight": counted from now, now's time of day
        hms = (found.hour, found.minute, found.second)
        return ctx.parsed(localise(ctx, found.date(), hms), relative=True)
    if not has_time:
        if not ctx.allow_date_only:
            need_time(ctx, _("3 December 2026 15:00"))
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
    typed = Plain(clip(ctx.text))
    if hint is None:
        raise BadArgument(
            _("I can't read '{phrase}' as a date. {examples}", phrase=typed, examples=EXAMPLES)
        )
    raise BadArgument(
        _(
            "I can't read '{phrase}' as a date. Did you mean '{suggestion}'? {examples}",
            phrase=typed,
            suggestion=Plain(hint),
            examples=EXAMPLES,
        )
    )


def _suggestion(text: str) -> str | None:
    """The phrase with a misspelt date word put right (``tomorrow 15:00``), if one is."""
    from rapidfuzz import fuzz, process

    words = text.split()
    changed = False
    for i, word in enumerate(words):
        low = word.casefold()
        if len(low) < 4 or not low.isalpha() or low in _VOCABULARY:
            continue
        if low in WEEKDAYS or low in MONTHS or low in NUMBER_WORDS or low in OTHER_DATE_WORDS:
            continue
        hit = process.extractOne(low, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=75)
        if hit is not None:
            words[i] = hit[0]
            changed = True
    return clip(" ".join(words), 60) if changed else None
