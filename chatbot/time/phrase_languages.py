"""Date phrases in Spanish, French, Portuguese and German: tidied, translated by dateparser,
read by our grammar.

Step 5 of :mod:`chatbot.time.parse`, for a phrase our English grammar did not read.  dateparser
knows these languages' words, but its own reading of their phrases would give them other
meanings than the same phrase has in English: it puts ``viernes 18:00`` said on a Friday
morning a week later, does not know ``próximo lunes`` or ``el viernes``, and reads ``morgen
um 18 Uhr`` as tomorrow at the current time.  So dateparser's locale for the language
*translates* the phrase (``viernes`` → ``friday``, ``mañana`` → ``in 1 day``, ``dans 2
heures`` → ``in 2 hour``) and our grammar reads the translation
(:func:`~chatbot.time.phrase_grammar.read_english`): ``viernes 18h`` means what ``friday 18h``
means, by the same rules, in the member's zone.

What the translation misses is rewritten first by :func:`rewrite`, from the small tables
below (they name no weekday or month: those are dateparser's): articles and prepositions
(``el``, ``à``, ``às``, ``am``, ``um``), clock forms (``18 Uhr``, ``18 heures``, ``a las 6``),
parts of the day (``6 de la tarde`` → 18:00, ``ce soir``), noon and midnight, ``next`` and
``this`` (``próximo``, ``que viene``, ``prochain``, ``que vem``, ``nächsten``, ``diese``),
relative leads (``dentro de``, ``daqui a``) and half hours.  :func:`tidy` then turns
dateparser's ``0 day ago`` into ``today``.  This module does not import dateparser: the
caller passes the translating function (:mod:`chatbot.time.phrase_dateparser` owns it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Final

from chatbot.time.phrase_grammar import WEEKDAYS as ENGLISH_WEEKDAYS
from chatbot.time.phrase_grammar import read_relative
from chatbot.time.phrase_vocabulary import MONTHS, OTHER_LANGUAGES, WEEKDAYS, fold
from chatbot.time.phrase_vocabulary import any_of as _alternation
from chatbot.time.phrase_vocabulary import tolerant as _tolerant

__all__ = ["OTHER_LANGUAGES", "Translate", "language_order", "rewrite", "tidy", "translate_phrase"]

#: a translating function: (language, phrase) → the phrase in dateparser's English words
Translate = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class _Language:
    """What dateparser's translation of one language misses (lower case, with accents)."""

    #: words dropped: articles, prepositions before a day or a time
    fillers: tuple[str, ...]
    #: "this": before a weekday or week
    this: tuple[str, ...]
    #: "next": before a weekday or week
    next_before: tuple[str, ...]
    #: "next": after a weekday or week ("el lunes que viene")
    next_after: tuple[str, ...]
    #: the word for "week"
    week: tuple[str, ...]
    #: a time follows ("a las 6", "um 8")
    clock_leads: tuple[str, ...]
    #: a duration follows ("dentro de 2 horas")
    relative_leads: tuple[str, ...]
    #: a duration follows, counted back ("il y a 2 heures")
    past_leads: tuple[str, ...]
    #: "this evening" and the like: (words, "am" or "pm"), read as today at that part of day
    today_parts: tuple[tuple[str, str], ...]
    #: after a time or anywhere in the phrase: the time is in the afternoon or evening…
    pm_words: tuple[str, ...]
    #: …or in the morning
    am_words: tuple[str, ...]
    #: (words, English): the day after tomorrow, noon, midnight; "coming" is "this"
    phrases: tuple[tuple[str, str], ...] = ()


_LANGUAGES: Final[dict[str, _Language]] = {
    "es": _Language(
        fillers=("a las", "a la", "a", "el", "la", "los", "las", "al", "hacia", "sobre", "para"),
        this=("este", "esta"),
        next_before=("próximo", "próxima"),
        next_after=("que viene", "próximo", "próxima", "entrante"),
        week=("semana",),
        clock_leads=("a las", "a la", "hacia las", "sobre las"),
        relative_leads=("dentro de", "en"),
        past_leads=("hace",),
        today_parts=(("esta noche", "pm"), ("esta tarde", "pm"), ("esta mañana", "am")),
        pm_words=(
            "de la tarde", "de la noche", "por la tarde", "por la noche", "en la tarde",
            "en la noche", "tarde", "noche",
        ),
        am_words=("de la mañana", "por la mañana", "en la mañana", "de la madrugada"),
        phrases=(("pasado mañana", "day after tomorrow"), ("mediodía", "noon"),
                 ("medianoche", "midnight")),
    ),
    "fr": _Language(
        fillers=("le", "la", "l'", "à", "a", "au", "vers", "dès", "pour"),
        this=("ce", "cette", "cet"),
        next_before=("prochain", "prochaine"),
        next_after=("prochain", "prochaine", "qui vient"),
        week=("semaine",),
        clock_leads=("à", "vers", "dès"),
        relative_leads=("dans", "d'ici"),
        past_leads=("il y a",),
        today_parts=(("ce soir", "pm"), ("cet après-midi", "pm"), ("ce matin", "am")),
        pm_words=("du soir", "de l'après-midi", "l'après-midi", "après-midi", "le soir", "soir"),
        am_words=("du matin", "le matin", "matin"),
        phrases=(("midi", "noon"), ("minuit", "midnight")),
    ),
    "pt": _Language(
        fillers=(
            "às", "as", "à", "a", "o", "os", "ao", "na", "no", "nas", "nos", "pelas", "pela",
            "pelo", "para", "feira",
        ),
        this=("esta", "este", "nesta", "neste"),
        next_before=("próxima", "próximo"),
        next_after=("que vem", "próxima", "próximo"),
        week=("semana",),
        clock_leads=("às", "as", "pelas", "por volta das"),
        relative_leads=("daqui a", "dentro de", "em"),
        past_leads=("há",),
        today_parts=(("esta noite", "pm"), ("esta tarde", "pm"), ("esta manhã", "am")),
        pm_words=(
            "da tarde", "da noite", "à tarde", "à noite", "de tarde", "de noite", "pela tarde",
            "pela noite", "tarde", "noite",
        ),
        am_words=("da manhã", "de manhã", "pela manhã", "da madrugada", "manhã"),
        phrases=(("depois de amanhã", "day after tomorrow"), ("meio-dia", "noon"),
                 ("meia-noite", "midnight"), ("seg", "monday")),
    ),
    "de": _Language(
        fillers=("am", "um", "den", "dem", "der", "ab", "gegen"),
        this=("diesen", "diese", "dieser", "dieses"),
        next_before=("nächsten", "nächste", "nächster", "nächstes"),
        next_after=(),
        week=("woche",),
        clock_leads=("um", "ab", "gegen"),
        relative_leads=(),
        past_leads=("vor",),
        today_parts=(("heute morgen", "am"), ("heute früh", "am"), ("heute vormittag", "am")),
        pm_words=("abends", "abend", "nachmittags", "nachmittag", "nachts", "mittags"),
        am_words=("morgens", "vormittags", "vormittag", "in der früh", "früh"),
        phrases=(("mittag", "noon"), ("mitternacht", "midnight"), ("kommenden", "coming"),
                 ("kommende", "coming")),
    ),
}  # fmt: skip

# "half an hour" and "an hour and a half" in every language, as minutes dateparser reads
_HALF_HOUR_RE = re.compile(
    r"(?:une\s+|eine\s+|uma\s+)?(?:media\s+hora|meia\s+hora|demi-heure|demie?\s+heure|"
    r"halbe\s+stunde)",
)
_HOURS_AND_HALF_RE = re.compile(
    r"(\d{1,3}|una?|uma|une|eine?)\s+(?:horas?|heures?|stunden?)\s+(?:y|e|et|und)\s+"
    r"(?:media|meia|demie)"
)
_ONE: Final = frozenset({"un", "una", "uma", "une", "ein", "eine"})
# "1º", "1.º", "1ª", "1er", "1re", "1ère"
_ORDINAL_RE = re.compile(r"(?<![\w:.])(\d{1,2})(?:\.?[ºª°]|er|re|ère)(?!\w)")
# "18 Uhr", "18 Uhr 30", "18.30 Uhr", "18 h 30", "18 heures", "18 horas", "18hs"
_UNIT_CLOCK_RE = re.compile(
    r"(?<![\w:.])(\d{1,2})(?:[.:](\d{2}))?\s*(?:uhr|hs|hrs|h|heures?|horas?)"
    r"(?:\s*(\d{2})(?![\w:.]))?(?![\w:])"
)
# "18:00 y media", "6:00 et quart", "18:00 e meia": "a las 18 y media" once 18 is 18:00
_PAST_HOUR_RE = re.compile(
    r"(?<![\w:])(\d{1,2}):00\s+(?:y|e|et)\s+(media|meia|demie|cuarto|quart|quinze)(?!\w)"
)
_PAST_HOUR: Final = {"media": 30, "meia": 30, "demie": 30, "cuarto": 15, "quart": 15, "quinze": 15}
_CLOCK_TOKEN_RE = re.compile(r"(?<![\w:])(\d{1,2}):(\d{2})(?![\w:])")
_SPACES_RE = re.compile(r"\s+")
_RELATIVE_TAIL_RE = re.compile(r"\d|(?:un|una|uma|une|ein|eine|einer|einem)\b")
_DURATION_LEAD_RE = re.compile(
    r"(?:^|\s)(?:in|dans|en|em|within|dentro de|daqui a|il y a|hace|há|vor)\s*$"
)
_HOUR_BEFORE = r"(?:(?<![\w:.])(?P<hour>\d{1,2})\s+)?"


def _word(pattern: str) -> str:
    """``pattern`` as whole words (letters, digits, apostrophes and hyphens join words)."""
    return rf"(?<![\w'’\-]){pattern}(?![\w\-])"


@dataclass(frozen=True, slots=True)
class _Rules:
    """One language's tables compiled (see :func:`_rules`)."""

    relative: re.Pattern[str] | None
    past: re.Pattern[str]
    phrases: tuple[tuple[re.Pattern[str], str], ...]
    today: tuple[tuple[re.Pattern[str], str], ...]
    pm: re.Pattern[str]
    am: re.Pattern[str]
    clock_lead: re.Pattern[str] | None
    next_after: re.Pattern[str] | None
    next_before: re.Pattern[str]
    this: re.Pattern[str]
    fillers: re.Pattern[str]
    months: frozenset[str]


@cache
def _rules(language: str) -> _Rules:
    """The compiled rules for ``language`` (built on first use, once)."""
    lang = _LANGUAGES[language]
    days = list(WEEKDAYS[language]) + [w + "s" for w in WEEKDAYS[language] if len(w) > 3]
    day_or_week = _alternation([*days, *lang.week])
    relative = None
    if lang.relative_leads:
        relative = re.compile(rf"^{_alternation(lang.relative_leads)}\s+")
    clock_lead = None
    if lang.clock_leads:
        clock_lead = re.compile(
            _word(rf"({_alternation(lang.clock_leads)})") + r"\s+(\d{1,2})(?![\w:.,/])"
        )
    next_after = None
    if lang.next_after:
        next_after = re.compile(
            _word(rf"({day_or_week})") + rf"\s+{_alternation(lang.next_after)}(?![\w\-])"
        )
    months = {fold(m) for m in MONTHS[language]}
    return _Rules(
        relative=relative,
        past=re.compile(rf"^{_alternation(lang.past_leads)}\s+"),
        phrases=tuple((re.compile(_word(_tolerant(w))), en) for w, en in lang.phrases),
        today=tuple((re.compile(_word(_tolerant(w))), part) for w, part in lang.today_parts),
        pm=re.compile(_HOUR_BEFORE + _word(_alternation(lang.pm_words))),
        am=re.compile(_HOUR_BEFORE + _word(_alternation(lang.am_words))),
        clock_lead=clock_lead,
        next_after=next_after,
        next_before=re.compile(_word(_alternation(lang.next_before))),
        this=re.compile(_word(_alternation(lang.this)) + rf"(?=\s+{day_or_week}(?![\w\-]))"),
        fillers=re.compile(_word(_alternation(lang.fillers))),
        months=frozenset(months),
    )


def _half_hours(s: str) -> str:
    def hours_and_half(m: re.Match[str]) -> str:
        hours = 1 if m[1] in _ONE else int(m[1])
        return f"{hours * 60 + 30} min"

    s = _HOURS_AND_HALF_RE.sub(hours_and_half, s)
    return _HALF_HOUR_RE.sub("30 min", s)


def _clock_forms(s: str, rules: _Rules) -> str:
    """``18 Uhr 30`` → ``18:30``; ``a las 6`` → ``a las 06:00`` (not ``dans 2 heures``);
    ``18:00 y media`` → ``18:30``."""

    def unit_clock(m: re.Match[str]) -> str:
        if _DURATION_LEAD_RE.search(m.string, 0, m.start()):
            return m.group()
        hour, minute = int(m[1]), int(m[2] or m[3] or 0)
        if hour > 23 or minute > 59:
            return m.group()  # not a time: left for the grammar to refuse
        return f"{hour:02d}:{minute:02d}"

    def lead_clock(m: re.Match[str]) -> str:
        following = m.string[m.end() :].split()[:2]
        if following and following[0] == "de":
            following = following[1:]
        if following and fold(following[0].rstrip(".")) in rules.months:
            return m.group()  # "às 3 de dezembro": a day, not a time
        hour = int(m[2])
        return m.group() if hour > 23 else f"{m[1]} {hour:02d}:00"

    s = _UNIT_CLOCK_RE.sub(unit_clock, s)
    if rules.clock_lead is not None:
        s = rules.clock_lead.sub(lead_clock, s)
    return _PAST_HOUR_RE.sub(lambda m: f"{int(m[1]):02d}:{_PAST_HOUR[m[2]]:02d}", s)


def _hour_before(m: re.Match[str]) -> str:
    """A part-of-day word dropped; the bare hour before it, if any, made a time (``6 de la
    tarde`` → ``06:00``, shifted to 18:00 by :func:`_apply_part`)."""
    hour = m["hour"]
    return f" {int(hour):02d}:00 " if hour is not None and int(hour) <= 23 else " "


def _day_part(s: str, rules: _Rules) -> tuple[str, str | None]:
    """The phrase without its part-of-day words, and "am", "pm" or None."""
    part = None
    for pattern, said in rules.today:
        s, found = pattern.subn("today", s)
        part = said if found else part
    s, pm = rules.pm.subn(_hour_before, s)
    s, am = rules.am.subn(_hour_before, s)
    if pm and not am:
        part = "pm"
    elif am and not pm:
        part = "am"
    return s, part


def _apply_part(s: str, part: str | None) -> str:
    """``06:00`` with "pm" → ``18:00``; ``12:00`` with "am" → ``00:00``."""
    if part is None:
        return s

    def shift(m: re.Match[str]) -> str:
        hour = int(m[1])
        if part == "pm" and 1 <= hour <= 11:
            hour += 12
        elif part == "am" and hour == 12:
            hour = 0
        return f"{hour:02d}:{m[2]}"

    return _CLOCK_TOKEN_RE.sub(shift, s)


def rewrite(phrase: str, language: str) -> str:
    """``phrase`` (lower case, after the pre-pass) with what dateparser's ``language`` locale
    does not translate rewritten: ``el próximo viernes a las 6 de la tarde`` → ``next viernes
    18:00``; ``vendredi prochain à 18:00`` → ``next vendredi 18:00``."""
    rules = _rules(language)
    s = _half_hours(phrase)
    s = _ORDINAL_RE.sub(r"\1", s)
    if rules.relative is not None:
        m = rules.relative.match(s)
        if m is not None and _RELATIVE_TAIL_RE.match(s, m.end()):
            s = "in " + s[m.end() :]
    m = rules.past.match(s)
    if m is not None and _RELATIVE_TAIL_RE.match(s, m.end()):
        return s  # "il y a 2 heures": dateparser translates it whole ("2 hour ago")
    for pattern, english in rules.phrases:
        s = pattern.sub(english, s)
    s, part = _day_part(s, rules)
    s = _apply_part(_clock_forms(s, rules), part)
    if rules.next_after is not None:
        s = rules.next_after.sub(r"next \1", s)
    s = rules.next_before.sub("next", s)
    s = rules.this.sub("this", s)
    s = rules.fillers.sub(" ", s)
    s = re.sub(r"(?<!\w)d[íi]a\s+(?=\d)", "", s)  # "el día 3 de diciembre"
    return _SPACES_RE.sub(" ", s).strip()


_ZERO_AGO_RE = re.compile(r"\b0 day ago\b")
_NOW_RE = re.compile(r"\b0 (?:second|minute|hour) ago\b")
_IN_A_WEEK_RE = re.compile(r"\bin 1 week\b")
_DAY_WORD_RE = re.compile(r"\bin ([12]) day\b")


def tidy(translated: str) -> str:
    """dateparser's translation of a phrase that is not a duration in our grammar's words:
    ``0 day ago`` → ``today``, ``in 1 day`` (``mañana``, ``demain``) → ``tomorrow`` (so that
    ``mañana`` alone asks for a time as ``tomorrow`` does), ``in 1 week`` next to a weekday
    (``la semaine prochaine mercredi``) → ``next week``."""
    s = _ZERO_AGO_RE.sub("today", translated)
    s = _NOW_RE.sub("now", s)
    s = _DAY_WORD_RE.sub(lambda m: "tomorrow" if m[1] == "1" else "day after tomorrow", s)
    if _IN_A_WEEK_RE.search(s) and any(w.rstrip(".") in ENGLISH_WEEKDAYS for w in s.split()):
        s = _IN_A_WEEK_RE.sub("next week", s)
    return _SPACES_RE.sub(" ", s).strip()


def translate_phrase(phrase: str, language: str, translate: Translate) -> str | None:
    """``phrase`` rewritten and translated from ``language`` into our grammar's English;
    None when that changes nothing (the grammar has read it as it is already).  A duration
    (``dans 2 heures``, ``en 1h30``) is rewritten as ``in …``; one counted back (``hace 2
    horas``) dateparser translates whole (``2 hour ago``)."""
    rewritten = rewrite(phrase, language)
    duration = rewritten.startswith("in ")
    if duration and read_relative(rewritten) is not None:  # "in 1h30": ours already
        return rewritten
    english = _SPACES_RE.sub(" ", translate(language, rewritten)).strip()
    if not (duration or english.endswith(" ago")):
        english = tidy(english)
    return None if english == phrase else english


def language_order(lang: str | None) -> tuple[str, ...]:
    """The languages a phrase is tried in: the member's own first (``!lang``: ``pt-BR`` is
    Portuguese), then English, then the others; English first when it is not one of them."""
    primary = (lang or "").replace("_", "-").split("-")[0].casefold()
    if primary in OTHER_LANGUAGES:
        return (primary, "en", *(other for other in OTHER_LANGUAGES if other != primary))
    return ("en", *OTHER_LANGUAGES)
