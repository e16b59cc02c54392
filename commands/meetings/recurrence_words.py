"""Recurrences said in Spanish, French, Portuguese and German, put in the English words
:mod:`commands.meetings.recurrence` reads.

``cada segundo martes`` → ``every second tuesday``, ``tous les lundis`` → ``every mondays``,
``toda segunda-feira`` → ``every monday``, ``jeden Montag`` → ``every monday``, ``el primer
lunes del mes`` → ``the first monday of the month``, ``días laborables`` / ``jours ouvrables`` /
``dias úteis`` / ``Werktage`` → ``weekdays``.  The rules are the English ones; only the words
change, so a series means the same whatever language it was said in.  Two meanings follow the
language rather than the words: German ``jeden zweiten Dienstag`` and French ``un mardi sur
deux`` are every other Tuesday (``every second Tuesday`` in English is the 2nd Tuesday of the
month).  Portuguese ``segunda``, ``quarta``, ``quinta`` are weekdays (Monday, Wednesday,
Thursday) unless a weekday follows (``a segunda terça do mês``: the second Tuesday).

:func:`to_english` rewrites only these words and keeps the rest of the phrase as typed, case
included (``a las 15:00 ET``): the date phrase parser reads what is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Final

from chatbot.time.phrase_vocabulary import WEEKDAYS, any_of, fold

_ENGLISH_DAYS: Final = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
_EN_DAY = "(?:" + "|".join(_ENGLISH_DAYS) + ")s?"
#: Portuguese weekdays that are also ordinals (segunda = second, quarta = fourth…)
_PT_AMBIGUOUS: Final = {"segunda": 0, "quarta": 2, "quinta": 3}

#: (words, English), whole phrases first: tried in this order
_PHRASES: Final = (
    (
        (
            "días laborables", "dias laborables", "días hábiles", "entre semana",
            "de lunes a viernes", "jours ouvrables", "jours ouvrés", "en semaine",
            "du lundi au vendredi", "dias úteis", "de segunda a sexta", "an werktagen",
            "werktage", "werktags", "wochentags", "montags bis freitags", "montag bis freitag",
        ),
        "weekdays",
    ),
    (
        (
            "de cada mes", "del mes", "de todos los meses", "de chaque mois", "du mois",
            "de tous les mois", "de cada mês", "do mês", "de todo mês", "de todos os meses",
            "im monat", "des monats", "jeden monats", "eines monats",
        ),
        "of the month",
    ),
    (
        (
            "cada dos semanas", "cada 2 semanas", "quincenalmente", "quincenal",
            "toutes les deux semaines", "toutes les 2 semaines", "une semaine sur deux",
            "tous les quinze jours", "a cada duas semanas", "a cada 2 semanas",
            "de duas em duas semanas", "quinzenalmente", "quinzenal", "alle zwei wochen",
            "alle 2 wochen", "alle vierzehn tage", "alle 14 tage", "jede zweite woche",
            "zweiwöchentlich", "vierzehntägig", "14-tägig",
        ),
        "fortnightly",
    ),
    (
        (
            "semanalmente", "semanal", "todas las semanas", "cada semana", "hebdomadaire",
            "toutes les semaines", "chaque semaine", "toda semana", "todas as semanas",
            "wöchentlich", "jede woche",
        ),
        "weekly",
    ),
    (
        (
            "diariamente", "diario", "diário", "todos los días", "cada día", "quotidiennement",
            "quotidien", "tous les jours", "chaque jour", "todos os dias", "todo dia",
            "täglich", "jeden tag",
        ),
        "daily",
    ),
    (("mensualmente", "mensual", "mensuellement", "mensuel", "mensalmente", "mensal", "monatlich"),
     "monthly"),
)  # fmt: skip

_ORDINALS: Final = {
    "first": ("primer", "primero", "primera", "premier", "première", "primeiro", "primeira",
              "erste", "ersten", "erster", "1."),
    "second": ("segundo", "segunda", "deuxième", "second", "seconde", "zweite", "zweiten",
               "zweiter", "2."),
    "third": ("tercer", "tercero", "tercera", "troisième", "terceiro", "terceira", "dritte",
              "dritten", "dritter", "3."),
    "fourth": ("cuarto", "cuarta", "quatrième", "quarto", "quarta", "vierte", "vierten",
               "vierter", "4."),
    "fifth": ("quinto", "quinta", "cinquième", "fünfte", "fünften", "fünfter", "5."),
    "last": ("último", "última", "dernier", "dernière", "letzte", "letzten", "letzter"),
}  # fmt: skip
_EVERY: Final = (
    "todos los", "todas las", "cada", "tous les", "toutes les", "chaque", "todos os", "todas as",
    "a cada", "toda", "todo", "jeden", "jede", "jeder", "jedes", "alle",
)  # fmt: skip
#: "los lunes", "les lundis", "às segundas": on that weekday, every week
_HABITUAL: Final = ("los", "las", "les", "os", "as", "às", "nas", "nos", "aux")
#: an article before an ordinal ("el primer lunes") is "the"
_ARTICLES: Final = ("el", "la", "le", "o", "a", "am", "den", "der", "au")
_UNITS: Final = (
    (("semanas", "semaines", "wochen"), "weeks"),
    (("semana", "semaine", "woche"), "week"),
    (("días", "dias", "jours", "tage", "tagen"), "days"),
    (("día", "dia", "jour", "tag"), "day"),
    (("dos", "deux", "duas", "dois", "zwei"), "two"),
    (("tres", "trois", "três", "drei"), "three"),
    (("cuatro", "quatre", "quatro", "vier"), "four"),
    (("cinco", "cinq", "fünf"), "five"),
    (("seis", "six", "sechs"), "six"),
)
_AND: Final = ("y", "e", "et", "und", "&")


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w\-]){pattern}(?![\w\-])", re.IGNORECASE)


def _plural(word: str) -> str:
    if word.endswith("-feira"):  # segunda-feira → segundas-feiras
        return word[: -len("-feira")] + "s-feiras"
    return word if word.endswith("s") else word + "s"


@cache
def _day_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(foreign weekday, English) patterns, plurals and full names first; abbreviations
    (``mar``: March in English) and the Portuguese ordinals-or-weekdays are left out."""
    pairs: dict[str, str] = {}
    for table in WEEKDAYS.values():
        for word, index in table.items():
            if len(fold(word)) <= 3 or word in _PT_AMBIGUOUS:
                continue
            english = _ENGLISH_DAYS[index]
            if _plural(word) != word:  # Spanish "martes" is one Tuesday or several
                pairs.setdefault(_plural(word), english + "s")
            pairs.setdefault(word, english)
    ordered = sorted(pairs, key=len, reverse=True)
    return tuple((_words(any_of([word])), pairs[word]) for word in ordered)


_Replacement = str | Callable[[re.Match[str]], str]


def _on_plural(m: re.Match[str]) -> str:
    day = m[1].casefold()
    return f"on {day if day.endswith('s') else day + 's'}"


@cache
def _rules() -> tuple[tuple[re.Pattern[str], _Replacement], ...]:
    """The (pattern, replacement) rewrites after weekday names, in order."""
    ordinal = {word: english for english, words in _ORDINALS.items() for word in words}
    rules: list[tuple[re.Pattern[str], _Replacement]] = [
        # German and French "every other": jeden zweiten Dienstag, un mardi sur deux
        (
            _words(rf"jeden\s+zweiten\s+({_EN_DAY})(?!\s+of the month)"),
            r"every other \1",
        ),
        (_words(rf"une?\s+({_EN_DAY})\s+sur\s+deux"), r"every other \1"),
        # "el primer lunes": the first monday
        (_words(rf"{any_of(_ARTICLES)}(?=\s+(?:{any_of(ordinal)})\s+{_EN_DAY})"), "the"),
    ]
    for word, english in sorted(ordinal.items(), key=lambda p: -len(p[0])):
        rules.append((_words(rf"{any_of([word])}(?=\s+{_EN_DAY}(?![\w\-]))"), english))
    for word, index in _PT_AMBIGUOUS.items():
        rules.append((_words(any_of([word, word + "-feira"])), _ENGLISH_DAYS[index]))
        rules.append((_words(any_of([word + "s"])), _ENGLISH_DAYS[index] + "s"))
    rules += [
        (_words(any_of(_EVERY)), "every"),  # before "los": "todos los lunes"
        (_words(rf"{any_of(_HABITUAL)}\s+({_EN_DAY})"), _on_plural),
        *((_words(any_of(words)), english) for words, english in _UNITS),
        (_words(rf"({_EN_DAY})\s+{any_of(_AND)}(?=\s+{_EN_DAY}(?![\w\-]))"), r"\1 and"),
    ]
    return tuple(rules)


@cache
def _phrase_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_words(any_of(words)), english) for words, english in _PHRASES)


def to_english(phrase: str) -> str:
    """``phrase`` with its es/fr/pt/de recurrence words in English, the rest as typed."""
    if phrase.isascii() and not _maybe_foreign().search(phrase):
        return phrase  # English (the usual case): nothing to do
    s = phrase
    for pattern, english in _phrase_patterns():
        s = pattern.sub(english, s)
    for pattern, english in _day_patterns():
        s = pattern.sub(english, s)
    for pattern, replacement in _rules():
        s = pattern.sub(replacement, s)
    return s


# ASCII words that only the other languages use in recurrences (a cheap test for English);
# compiled on first use, like the rules above: only meeting commands need it, not start-up
@cache
def _maybe_foreign() -> re.Pattern[str]:
    return re.compile(
        r"(?<![\w\-])(?:cada|todos?|todas?|tous|toutes|chaque|jeden?|jeder|jedes|alle|los|las|les"
        r"|os|as|nas|nos|aux|el|la|le|am|den|der|semanas?|semaines?|wochen?|dias?|jours?|tage|mes"
        r"|mois|monat|monats|werktage|werktags|wochentags|primer[oa]?|premiere?|primeir[oa]|erste"
        r"|segund[oa]s?|tercer[oa]?|terceir[oa]|dritte|cuart[oa]|quart[oa]s?|quint[oa]s?|ultim[oa]"
        r"|dernier|letzte|\w+s?-feiras?|lunes|martes|miercoles|jueves|viernes|sabados?|domingos?"
        r"|lundis?|mardis?|mercredis?|jeudis?|vendredis?|samedis?|dimanches?|tercas?|sextas?"
        r"|montags?|dienstags?|mittwochs?|donnerstags?|freitags?|samstags?|sonntags?|sonnabends?"
        r"|semanal\w*|hebdomadaire|diari[oa]\w*|quotidien\w*|mensu\w+|mensal\w*|quin[cz]enal\w*"
        r"|zweiwochentlich|vierzehntagig|14-tagig|monatlich|taglich|wochentlich)(?![\w\-])",
        re.IGNORECASE,
    )
