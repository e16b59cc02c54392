"""Recurrence as organisers say it: ``every second Tuesday``, ``every other week``, ``first
monday of the month``, ``weekdays``, ``monthly on the 2nd tuesday``; and in Spanish, French,
Portuguese and German (``cada segundo martes``, ``tous les lundis``, ``toda segunda-feira``,
``jeden Montag``, ``días laborables``), put in these English words first by
:mod:`commands.meetings.recurrence_words`.

:func:`read_recurrence` finds such an expression in a meeting's date phrase and returns the
:class:`~commands.meetings.series.Rule` (an RRULE) with the rest of the phrase, which still
says when the first meeting is (``at 15:00 UTC``).  The ``--every`` and ``--monthly`` options
accept the same expressions.  ``every second Tuesday`` means the 2nd Tuesday of each month, as
people use it for monthly calls; ``every other Tuesday`` means every two weeks.
"""

from __future__ import annotations

import re
from functools import cache

from chatbot.base.errors import UserError
from chatbot.base.i18n import _
from chatbot.messages.events import Plain
from commands.meetings.recurrence_words import to_english
from commands.meetings.series import DAYS, MONTHLY_NTH, ORDINALS, WEEKDAYS, WEEKS, Rule

_DAY_WORDS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_DAY = r"(?:" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")s?"
_ORD = r"(?:first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)"
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_EACH = r"(?:every|each)"


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """(pattern, what it makes), tried in order; the first that matches wins.  Compiled on
    first use: only meeting commands read recurrences, and start-up need not compile them."""
    return [
        # the 2nd tuesday of the month / every first monday of each month
        (
            re.compile(
                rf"\b(?:{_EACH}\s+|on\s+the\s+|the\s+)?(?P<ord>{_ORD})\s+(?P<day>{_DAY})\s+"
                rf"(?:of|in)\s+(?:the|each|every|a)\s+month\b"
            ),
            "monthly",
        ),
        # monthly on the 2nd tuesday / monthly, last friday
        (
            re.compile(rf"\bmonthly,?\s+(?:on\s+)?(?:the\s+)?(?P<ord>{_ORD})\s+(?P<day>{_DAY})\b"),
            "monthly",
        ),
        # every other tuesday / every second week on tuesday / biweekly on fridays
        (
            re.compile(
                rf"\b(?:{_EACH}\s+other|fortnightly\s+on|biweekly\s+on|{_EACH}\s+(?:2|two|second"
                rf"|2nd|other)\s+weeks?\s+on)\s+(?P<days>{_DAY}(?:\s*(?:,|and|&)\s*{_DAY})*)\b"
            ),
            "biweekly-days",
        ),
        # every second tuesday (of the month, as people say it) / each last friday
        (re.compile(rf"\b{_EACH}\s+(?P<ord>{_ORD})\s+(?P<day>{_DAY})\b"), "monthly"),
        # weekdays / every weekday / monday to friday / mon-fri
        (
            re.compile(
                rf"\b(?:(?:{_EACH}|on)\s+)?(?:week\s?days?|working\s+days|"
                r"mon(?:day)?s?\s*(?:-|–|to|through|thru)\s*fri(?:day)?s?)\b"
            ),
            "weekdays",
        ),
        # every other week / every second week / every 2 weeks / fortnightly / biweekly
        (
            re.compile(
                rf"\b(?:{_EACH}\s+(?:other|second|2nd)\s+week|fortnightly|biweekly|"
                rf"{_EACH}\s+fortnight)\b"
            ),
            "every-2-weeks",
        ),
        # every 3 weeks / every two days
        (
            re.compile(
                rf"\b{_EACH}\s+(?P<n>\d{{1,3}}|two|three|four|five|six)\s+(?P<unit>weeks?|days?)\b"
            ),
            "every-n",
        ),
        # every week / weekly / every day / daily
        (re.compile(rf"\b(?:{_EACH}\s+(?P<unit>week|day)|(?P<adj>weekly|daily))\b"), "every-1"),
        # every monday and thursday / on tuesdays / mondays
        (
            re.compile(rf"\b(?:(?:{_EACH}|on)\s+)?(?P<days>{_DAY}(?:\s*(?:,|and|&)\s*{_DAY})*)\b"),
            "weekly-days",
        ),
    ]


def _day(word: str) -> int:
    word = word.casefold()
    return _DAY_WORDS.get(word, _DAY_WORDS.get(word.removesuffix("s"), 0))


def _days(text: str) -> tuple[int, ...]:
    words = re.findall(_DAY, text)
    return tuple(sorted({_day(w) for w in words}))


def read_recurrence(phrase: str) -> tuple[Rule | None, str]:
    """``every second Tuesday at 15:00 UTC`` → (2nd Tuesday monthly, ``15:00 UTC``);
    a phrase without a recurrence comes back unchanged with ``None``.  In another language
    (``cada martes a las 15h``) the rest is the phrase with its weekdays in English."""
    text = " ".join(phrase.split())
    for candidate in dict.fromkeys((to_english(text), text)):
        rule, rest = _read(candidate)
        if rule is not None:
            return rule, rest
    return None, text


def _read(text: str) -> tuple[Rule | None, str]:
    low = text.lower()  # not casefold: "ß" would shift the positions cut out of text
    for pattern, kind in _patterns():
        found = pattern.search(low)
        if found is None:
            continue
        if kind == "weekly-days" and not _is_recurring_days(low, found):
            continue
        rule = _rule(kind, found)
        rest = (text[: found.start()] + " " + text[found.end() :]).strip(" ,")
        rest = _lead().sub("", rest)
        return rule, " ".join(rest.split())
    return None, text


@cache
def _lead() -> re.Pattern[str]:
    """Words before the first date left when the recurrence is cut out ("cada martes a las
    15h")."""
    return re.compile(
        r"^(?:(?:at|on|from|starting|a\s+las|a\s+la|à|a|às|as|um|ab|el|le|la|o|am|desde|dès"
        r"|a\s+partir\s+del?|à\s+partir\s+du|ab\s+dem)\s+)+",
        re.IGNORECASE,
    )


def _is_recurring_days(low: str, found: re.Match[str]) -> bool:
    """``mondays``, ``every monday``, ``on tuesdays``: yes; a bare ``monday`` (the date of a
    single meeting) or ``next monday``: no."""
    said = found.group(0)
    if said.startswith(("every", "each")):
        return True
    plural = any(
        word not in _DAY_WORDS and word.removesuffix("s") in _DAY_WORDS
        for word in re.findall(r"[a-z]+", found.group("days"))
    )
    return plural and not low[: found.start()].endswith(("next ", "this ", "last "))


def _rule(kind: str, found: re.Match[str]) -> Rule:
    if kind == "monthly":
        return Rule(MONTHLY_NTH, 1, ORDINALS[found.group("ord")], _day(found.group("day")))
    if kind == "weekdays":
        return Rule(WEEKS, 1, days=WEEKDAYS)
    if kind == "biweekly-days":
        return Rule(WEEKS, 2, days=_days(found.group("days")))
    if kind == "every-2-weeks":
        return Rule(WEEKS, 2)
    if kind == "every-n":
        raw = found.group("n")
        interval = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        if not 1 <= interval <= 365:
            raise UserError(_("A meeting repeats every 1 to 365 days or weeks."))
        return Rule(DAYS if found.group("unit").startswith("day") else WEEKS, interval)
    if kind == "every-1":
        unit = found.group("unit") or found.group("adj")
        return Rule(DAYS if unit.startswith(("day", "daily")) else WEEKS, 1)
    days = _days(found.group("days"))
    return Rule(WEEKS, 1, days=days)


def read_option(name: str, value: str) -> Rule:
    """``--every`` / ``--monthly`` values: ``2 weeks``, ``other week``, ``second tuesday``,
    ``weekday``, ``2nd tuesday``; refused with the forms it reads otherwise."""
    lead = "monthly " if name == "monthly" else "every "
    rule, rest = read_recurrence(lead + value)
    if rule is None or rest:
        raise UserError(
            _(
                "I can't read {option}. Say how it repeats the way you would say it: "
                "`--every week`, `--every 2 weeks`, `--every other tuesday`, `--every weekday`, "
                "`--every 2nd tuesday` (of the month) or `--monthly last friday`; or put it in "
                "the date: `friday 15:00 every other week`.",
                option=Plain(f"--{name} {value[:40]}"),
            )
        )
    return rule
