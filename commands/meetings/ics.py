"""The meetings as an iCalendar feed: ``/meetings.ics`` and ``/meetings/<id>.ics``.

Served by the web app (``[web] enabled``; needs ``aiohttp`` and ``icalendar``).  Each meeting
is one VEVENT whose DTSTART is the first start as wall time in the organiser's zone (with
its TZID and a VTIMEZONE), so calendar apps expand the RRULE in that zone exactly as
:mod:`.series` does and show every member the times in their own zone.  Cancelled
occurrences are EXDATEs at the series' local time; fixed-offset zones and UTC are written in
UTC (their wall time never jumps, so the expansion is the same).  User text (titles, links)
is escaped by ``icalendar``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec
from aiohttp import web
from icalendar import Calendar, Event

from chatbot.time.zones import zone_from_key
from commands.meetings.series import Rule, Series
from commands.meetings.store import CANCELLED, CONFIRMED, MeetingRow, confirmed_meetings

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host

#: the environment variable with the web app's public address (no ``[web] public_url`` yet)
PUBLIC_URL_ENV = "CHATBOT_PUBLIC_URL"
CONTENT_TYPE = "text/calendar"
PRODID = "-//Wikimedia and Libraries User Group//chatbot meetings//EN"
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: how many years of VTIMEZONE transitions after the latest start (or now)
_ZONE_YEARS = 5


def public_base(bot: Host) -> str:
    """The web app's public address: ``[web] public_url``, ``$CHATBOT_PUBLIC_URL``, else
    ``http://host:port``."""
    settings = bot.config.web
    found = settings.public_url.strip() or os.environ.get(PUBLIC_URL_ENV, "").strip()
    if found:
        return found.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def feed_url(bot: Host, number: int | None = None) -> str:
    """The address of the whole feed, or of one meeting's ``.ics``."""
    path = "/meetings.ics" if number is None else f"/meetings/{number}.ics"
    return public_base(bot) + path


def rrule_of(rule: Rule) -> dict[str, Any] | None:
    """The RRULE value for a rule (``None`` for a single meeting)."""
    parts = rule.rrule_parts()
    return dict(parts) if parts else None


def _first_local(series: Series) -> datetime | None:
    """The series' first wall-time start, cancelled or not: iCalendar always counts DTSTART
    as an occurrence, while ``dateutil`` skips a start that does not match the rule."""
    return next(msgspec.structs.replace(series, exdates=frozenset()).local_starts(), None)


def _aware(local: datetime, zone_key: str) -> datetime:
    """A wall time as written in the feed: in its IANA zone (TZID), else in UTC."""
    tz = zone_from_key(zone_key).tzinfo
    if isinstance(tz, ZoneInfo):
        return local.replace(tzinfo=tz)
    return local.replace(tzinfo=tz).astimezone(UTC)


def _uid(row: MeetingRow) -> str:
    return f"meeting-{row.id}-{row.created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}@wmlib-chatbot"


def meeting_event(row: MeetingRow, base: str = "") -> Event | None:
    """One VEVENT for a confirmed or cancelled meeting; ``None`` if it has no start."""
    series = row.series()
    first = _first_local(series)
    if first is None:
        return None
    event = Event()
    event.add("uid", _uid(row))
    event.add("dtstamp", row.updated_at.astimezone(UTC))
    event.add("created", row.created_at.astimezone(UTC))
    event.add("last-modified", row.updated_at.astimezone(UTC))
    event.add("sequence", row.generation)
    event.add("summary", row.title)
    event.add("dtstart", _aware(first, row.zone))
    event.add("duration", timedelta(minutes=row.duration_minutes))
    rule = rrule_of(series.rule)
    if rule is not None:
        event.add("rrule", rule)
        cancelled = sorted(d for d in series.exdates if d >= first.date())
        if cancelled:
            at = first.time()
            event.add("exdate", [_aware(datetime.combine(d, at), row.zone) for d in cancelled])
    # the feed is fetched by calendar apps, which send no reader language: its few words
    # stay in English (the title, times and link are what calendars show)
    lines = [f"Meeting #{row.id}"]
    described = series.rule.describe()
    if described:
        lines.append(f"{described.capitalize()} at the same local time in {row.zone}.")
    if row.link:
        event.add("url", row.link)
        event.add("location", row.link)
        lines.append(row.link)
    elif base:
        event.add("url", f"{base}/meetings/{row.id}.ics")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if row.state == CANCELLED else "CONFIRMED")
    return event


def build_calendar(rows: Iterable[MeetingRow], now: datetime, name: str, base: str = "") -> bytes:
    """The iCalendar text of the meetings, with a VTIMEZONE for each zone used."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    starts: list[date] = []
    for row in rows:
        event = meeting_event(row, base)
        if event is not None:
            calendar.add_component(event)
            starts.append(event.decoded("dtstart").date())
    if starts:
        latest = max(max(starts), now.date())
        calendar.add_missing_timezones(
            first_date=min(starts) - timedelta(days=1),
            last_date=date(latest.year + _ZONE_YEARS, 1, 1),
        )
    data: bytes = calendar.to_ical()
    return data


# -- the web app's routes ------------------------------------------------------------------


def _bot_of(request: web.Request) -> Host:
    from chatbot.web.app import BOT

    return request.app[BOT]


def _calendar_response(body: bytes, filename: str) -> web.Response:
    response = web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


async def all_meetings(request: web.Request) -> web.Response:
    """``/meetings.ics``: every confirmed meeting and series."""
    bot = _bot_of(request)
    async with bot.db.sessions() as session:
        rows = await confirmed_meetings(session)
    name = f"{bot.config.bot.name} meetings"
    body = build_calendar(rows, bot.clock.now(), name, public_base(bot))
    return _calendar_response(body, "meetings.ics")


async def one_meeting(request: web.Request) -> web.Response:
    """``/meetings/<id>.ics``: one confirmed (or cancelled, with STATUS:CANCELLED) meeting."""
    bot = _bot_of(request)
    try:
        number = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with bot.db.sessions() as session:
        row = await session.get(MeetingRow, number)
    if row is None or row.state not in (CONFIRMED, CANCELLED):
        raise web.HTTPNotFound()
    name = f"{bot.config.bot.name}: {row.title}"
    body = build_calendar([row], bot.clock.now(), name, public_base(bot))
    return _calendar_response(body, f"meeting-{number}.ics")


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/meetings.ics", all_meetings),
    ("GET", r"/meetings/{id:\d+}.ics", one_meeting),
)
