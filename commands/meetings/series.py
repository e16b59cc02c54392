"""Meeting times and recurrences, anchored in the organiser's zone.

A series is a first start in *local wall time* (naive) plus the zone it was given in and an
optional rule.  Occurrences are expanded by ``dateutil.rrule`` in that wall time and each is
only then converted to UTC, so "15:00 Europe/London every week" stays 15:00 in London across
daylight-saving changes (and moves by an hour in UTC).  Cancelled occurrences are EXDATEs:
local dates left out of the expansion.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Literal

import msgspec
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule, weekday
from dateutil.rrule import weekdays as _WEEKDAYS

from chatbot.base.i18n import Msg, _, _n, _p, plain_english, together
from chatbot.time.zones import zone_from_key

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3}
ORDINALS |= {"4th": 4, "fourth": 4, "last": -1, "5th": 5, "fifth": 5}
#: how far ahead a series is expanded when looking for its next occurrence
_HORIZON = 800

NONE = ""
DAYS = "days"
WEEKS = "weeks"
MONTHLY_NTH = "monthly"


class Rule(msgspec.Struct, frozen=True):
    """How a meeting repeats: every ``interval`` days or weeks (weeks optionally on given
    weekdays, ``days``), or a monthly nth weekday.  Each is an RFC 5545 RRULE (see
    :meth:`rrule_parts`), expanded by ``dateutil`` in the series' wall time."""

    kind: str = NONE
    interval: int = 1
    nth: int = 0
    weekday: int = 0  # 0 = Monday
    #: weekly rules only: the weekdays it falls on (0 = Monday); empty: the first start's
    days: tuple[int, ...] = ()

    def encode(self) -> str:
        """``weeks:2``, ``weeks:1:0,1,2,3,4`` (weekdays), ``days:1``, ``monthly:2:1`` (2nd
        Tuesday), or ``""``."""
        if self.kind == NONE:
            return ""
        if self.kind == MONTHLY_NTH:
            return f"{MONTHLY_NTH}:{self.nth}:{self.weekday}"
        if self.days:
            return f"{self.kind}:{self.interval}:{','.join(map(str, self.days))}"
        return f"{self.kind}:{self.interval}"

    @classmethod
    def decode(cls, text: str | None) -> Rule:
        if not text:
            return cls()
        parts = text.split(":")
        if parts[0] == MONTHLY_NTH:
            return cls(MONTHLY_NTH, 1, int(parts[1]), int(parts[2]))
        days = tuple(int(d) for d in parts[2].split(",")) if len(parts) > 2 else ()
        return cls(parts[0], int(parts[1]), days=days)

    def rrule_parts(self) -> dict[str, str | int | list[str]]:
        """The rule as RRULE parts (``{"FREQ": "MONTHLY", "BYDAY": ["2TU"]}``); ``{}`` for a
        single meeting."""
        if self.kind == NONE:
            return {}
        if self.kind == MONTHLY_NTH:
            return {"FREQ": "MONTHLY", "BYDAY": [f"{self.nth}{_BYDAY[self.weekday]}"]}
        parts: dict[str, str | int | list[str]] = {
            "FREQ": "DAILY" if self.kind == DAYS else "WEEKLY"
        }
        if self.interval != 1:
            parts["INTERVAL"] = self.interval
        if self.days:
            parts["BYDAY"] = [_BYDAY[d] for d in self.days]
        return parts

    def describe(self) -> str:
        """The rule in English words (``every 2 weeks``, ``every 2nd Tuesday of the month``,
        ``every weekday``), ``""`` for a single meeting: for logs and the calendar feed."""
        words = self.words()
        return "" if words is None else plain_english(words)

    def words(self) -> Msg | None:
        """The rule as a message, translated for its reader; None for a single meeting."""
        if self.kind == NONE:
            return None
        if self.kind == MONTHLY_NTH:
            return MONTHLY_WORDS[(self.nth, self.weekday)]
        if self.kind == DAYS:
            return _n("every day", "every {n} days", self.interval)
        if not self.days:
            return _n("every week", "every {n} weeks", self.interval)
        if self.days == WEEKDAYS:
            return _("every weekday (Monday to Friday)")
        on = together([WEEKDAY_WORDS[d] for d in self.days])
        if self.interval == 1:
            return _("every {days}", days=on)
        if self.interval == 2:
            return _("every other {days}", days=on)
        return _("every {n} weeks on {days}", n=self.interval, days=on)


#: weekday names (Monday first), translated for each reader
WEEKDAY_WORDS = (
    _p("weekday", "Monday"),
    _p("weekday", "Tuesday"),
    _p("weekday", "Wednesday"),
    _p("weekday", "Thursday"),
    _p("weekday", "Friday"),
    _p("weekday", "Saturday"),
    _p("weekday", "Sunday"),
)
#: "every nth weekday of the month": one whole message per ordinal and weekday, since the
#: ordinal agrees with the weekday's gender, which differs between weekdays in some languages
#: (Portuguese: "primeira segunda-feira" but "primeiro sábado")
MONTHLY_WORDS: dict[tuple[int, int], Msg] = {
    (1, 0): _("every 1st Monday of the month"),
    (1, 1): _("every 1st Tuesday of the month"),
    (1, 2): _("every 1st Wednesday of the month"),
    (1, 3): _("every 1st Thursday of the month"),
    (1, 4): _("every 1st Friday of the month"),
    (1, 5): _("every 1st Saturday of the month"),
    (1, 6): _("every 1st Sunday of the month"),
    (2, 0): _("every 2nd Monday of the month"),
    (2, 1): _("every 2nd Tuesday of the month"),
    (2, 2): _("every 2nd Wednesday of the month"),
    (2, 3): _("every 2nd Thursday of the month"),
    (2, 4): _("every 2nd Friday of the month"),
    (2, 5): _("every 2nd Saturday of the month"),
    (2, 6): _("every 2nd Sunday of the month"),
    (3, 0): _("every 3rd Monday of the month"),
    (3, 1): _("every 3rd Tuesday of the month"),
    (3, 2): _("every 3rd Wednesday of the month"),
    (3, 3): _("every 3rd Thursday of the month"),
    (3, 4): _("every 3rd Friday of the month"),
    (3, 5): _("every 3rd Saturday of the month"),
    (3, 6): _("every 3rd Sunday of the month"),
    (4, 0): _("every 4th Monday of the month"),
    (4, 1): _("every 4th Tuesday of the month"),
    (4, 2): _("every 4th Wednesday of the month"),
    (4, 3): _("every 4th Thursday of the month"),
    (4, 4): _("every 4th Friday of the month"),
    (4, 5): _("every 4th Saturday of the month"),
    (4, 6): _("every 4th Sunday of the month"),
    (5, 0): _("every 5th Monday of the month"),
    (5, 1): _("every 5th Tuesday of the month"),
    (5, 2): _("every 5th Wednesday of the month"),
    (5, 3): _("every 5th Thursday of the month"),
    (5, 4): _("every 5th Friday of the month"),
    (5, 5): _("every 5th Saturday of the month"),
    (5, 6): _("every 5th Sunday of the month"),
    (-1, 0): _("every last Monday of the month"),
    (-1, 1): _("every last Tuesday of the month"),
    (-1, 2): _("every last Wednesday of the month"),
    (-1, 3): _("every last Thursday of the month"),
    (-1, 4): _("every last Friday of the month"),
    (-1, 5): _("every last Saturday of the month"),
    (-1, 6): _("every last Sunday of the month"),
}


_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS = (0, 1, 2, 3, 4)


class Series(msgspec.Struct, frozen=True):
    """A first start (local wall time in ``zone_key``), a rule and cancelled local dates."""

    start_local: datetime
    zone_key: str
    rule: Rule = Rule()
    exdates: frozenset[date] = msgspec.field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.start_local.tzinfo is not None:
            raise ValueError("start_local is wall time: naive")

    def to_utc(self, local: datetime) -> datetime:
        """A wall time in the series' zone as an instant in UTC."""
        tz = zone_from_key(self.zone_key).tzinfo
        return local.replace(tzinfo=tz).astimezone(UTC)

    def _rrule(self) -> rrule | None:
        rule = self.rule
        if rule.kind == NONE:
            return None
        if rule.kind == MONTHLY_NTH:
            day: weekday = _WEEKDAYS[rule.weekday](rule.nth)
            return rrule(MONTHLY, dtstart=self.start_local, byweekday=day, cache=False)
        freq: Literal[3, 2] = DAILY if rule.kind == DAYS else WEEKLY
        if rule.days:
            return rrule(
                freq,
                dtstart=self.start_local,
                interval=rule.interval,
                byweekday=rule.days,
                cache=False,
            )
        return rrule(freq, dtstart=self.start_local, interval=rule.interval, cache=False)

    def local_starts(self) -> Iterator[datetime]:
        """Wall-time starts, in order (EXDATEs left out), up to about two years of them."""
        expanded = self._rrule()
        source: Iterator[datetime] = (
            iter([self.start_local]) if expanded is None else iter(expanded)
        )
        for count, local in enumerate(source):
            if count >= _HORIZON:
                return
            if local.date() not in self.exdates:
                yield local

    def occurrences(self, after: datetime, limit: int = 1) -> list[datetime]:
        """The next ``limit`` starts (UTC) strictly after ``after``."""
        found: list[datetime] = []
        for local in self.local_starts():
            at = self.to_utc(local)
            if at > after:
                found.append(at)
                if len(found) >= limit:
                    break
        return found

    def next_after(self, after: datetime) -> datetime | None:
        found = self.occurrences(after, 1)
        return found[0] if found else None

    def includes(self, at: datetime) -> bool:
        """Whether ``at`` (UTC) is one of the starts."""
        for local in self.local_starts():
            start = self.to_utc(local)
            if start == at:
                return True
            if start > at:
                return False
        return False

    def local_date_of(self, at: datetime) -> date:
        return at.astimezone(zone_from_key(self.zone_key).tzinfo).date()
