"""A date phrase's result and the checks every instant passes, whoever read the phrase.

:class:`Parsed` is what :mod:`chatbot.time.parse` returns; :class:`Reading` is a phrase being
read (its text after the pre-pass, the zone, now).  :func:`localise` turns a day and a clock
time into an instant in that zone, refusing a time a spring-forward change skips, and
:func:`check_year` keeps results between :data:`MIN_YEAR` and :data:`MAX_YEARS_AHEAD` years
from now.  Our grammar (:mod:`chatbot.time.phrase_grammar`) and the dateparser fallback
(:mod:`chatbot.time.phrase_dateparser`) both end here, so the two give the same answers and
the same refusals for the same day and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, NoReturn
from zoneinfo import ZoneInfo

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Msg, Plain, _, _n
from chatbot.time.phrase_prepass import ZoneFound, clip
from chatbot.time.zones import Zone, zone_from_key

#: A phrase may reach at most this many years past the current year…
MAX_YEARS_AHEAD: Final = 5
#: …and no earlier than this year.
MIN_YEAR: Final = 1970
#: Accepted values of ``date_order`` (how ``12/05/2026`` is read).
DATE_ORDERS: Final = frozenset({"DMY", "MDY", "YMD"})
#: Month names for messages, indexed by month number.
MONTH_NAMES: Final = (
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
#: The same, as messages: shown in the reader's language.
MONTH_MSGS: Final = (
    _("January"), _("January"), _("February"), _("March"), _("April"), _("May"), _("June"),
    _("July"), _("August"), _("September"), _("October"), _("November"), _("December"),
)  # fmt: skip
#: Weekday names (Monday first) as messages.
WEEKDAY_MSGS: Final = (
    _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
    _("Sunday"),
)  # fmt: skip


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


@dataclass(slots=True)
class Reading:
    """A phrase being read: what the pre-pass made of it, the zone it is read in, now."""

    text: str  # as the member wrote it (for messages)
    phrase: str  # zone removed, normalised, lower case
    zone: Zone
    zone_found: ZoneFound | None
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


def day_text(d: date) -> Msg:
    """A day in a message: ``3 December 2026`` in the reader's words."""
    return calendar_day(d.day, d.month, d.year)


def calendar_day(day: int, month: int, year: int) -> Msg:
    """Day, month and year, which need not exist (``31 February 2026``), in a message."""
    return _("{day} {month} {year}", day=str(day), month=MONTH_MSGS[month], year=str(year))


def check_year(ctx: Reading, year: int) -> None:
    if year < MIN_YEAR:
        raise BadArgument(
            _(
                "'{phrase}' is before {year}. Give a date from now on.",
                phrase=Plain(clip(ctx.text)),
                year=str(MIN_YEAR),
            )
        )
    if year > ctx.now_local.year + MAX_YEARS_AHEAD:
        too_far(ctx)


def too_far(ctx: Reading) -> NoReturn:
    raise BadArgument(
        _n(
            "'{phrase}' is more than {n} year ahead. Give a nearer date.",
            "'{phrase}' is more than {n} years ahead. Give a nearer date.",
            MAX_YEARS_AHEAD,
            phrase=Plain(clip(ctx.text)),
        )
    )


def localise(ctx: Reading, day: date, hms: tuple[int, int, int]) -> datetime:
    """``day`` at ``hms`` in the context's zone; refuses a time skipped by a clock change."""
    check_year(ctx, day.year)
    tz = ctx.zone.tzinfo
    local = datetime(day.year, day.month, day.day, *hms, tzinfo=tz)  # fold=0: first of two
    if isinstance(tz, ZoneInfo):
        back = local.astimezone(UTC).astimezone(tz)
        if back.replace(tzinfo=None) != local.replace(tzinfo=None):
            skipped, after = f"{hms[0]:02d}:{hms[1]:02d}", f"{back:%H:%M}"
            raise BadArgument(
                _(
                    "{time} does not exist on {day} in {zone}: the clocks go forward that "
                    "night, straight to {after}. Pick another time, e.g. {after}.",
                    time=skipped,
                    day=day_text(day),
                    zone=Plain(ctx.zone.key),
                    after=after,
                )
            )
    return local


def need_time(ctx: Reading, example: Msg) -> NoReturn:
    raise BadArgument(
        _(
            "'{phrase}' has a day but no time, and meetings need one. Add a time, "
            "e.g. '{example}'.",
            phrase=Plain(clip(ctx.text)),
            example=example,
        )
    )


def midnight_with_day() -> NoReturn:
    raise BadArgument(
        _(
            "'Midnight' with a day could mean the start or the end of that day. Write 00:00 "
            "with the day you mean, e.g. 'Saturday 00:00' for the night from Friday to Saturday."
        )
    )
