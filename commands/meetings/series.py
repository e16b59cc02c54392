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

from chatbot.base.i18n import N_, Msg, _, _n, _p, plain_english, verbatim
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
            return _(MONTHLY_WORDS[self.nth], weekday=WEEKDAY_WORDS[self.weekday])
        if self.kind == DAYS:
            return _n("every day", "every {n} days", self.interval)
        if not self.days:
            return _n("every week", "every {n} weeks", self.interval)
        if self.days == WEEKDAYS:
            return _("every weekday (Monday to Friday)")
        on = _and_days([WEEKDAY_WORDS[d] for d in self.days])
        if self.interval == 1:
            return _("every {days}", days=on)
        if self.interval == 2:
            return _("every other {days}", days=on)
        return _("every {n} weeks on {days}", n=self.interval, days=on)


def _and_days(names: list[Msg]) -> Msg:
    if len(names) == 1:
        return names[0]
    head = names[0]
    for name in names[1:-1]:
        head = verbatim("{a}, {b}", a=head, b=name)
    return _("{days} and {last}", days=head, last=names[-1])


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
#: "every nth weekday of the month", one message per n (ordinals agree with the weekday)
MONTHLY_WORDS = {
    1: N_("every 1st {weekday} of the month"),
    2: N_("every 2nd {weekday} of the month"),
    3: N_("every 3rd {weekday} of the month"),
    4: N_("every 4th {weekday} of the month"),
    5: N_("every 5th {weekday} of the month"),
    -1: N_("every last {weekday} of the month"),
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
