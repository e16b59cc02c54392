"""The public meetings page, ``/meetings``: upcoming meetings and series, and past ones with
their minutes.

Each time is written as UTC and in the organiser's zone (right without JavaScript); a few
lines of script (``/static/localtime.js``) rewrite the UTC one in the visitor's own zone,
read from the browser.  Links: join, the meeting's ``.ics`` (add to calendar) and the
whole feed.  Served when ``[web] public_pages = true``; rendered pages are reused for a few
seconds (:class:`chatbot.web.pages.PageCache`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from chatbot.dispatch.host import Host
from chatbot.messages.localise import text_in
from chatbot.time.format import format_when
from chatbot.web.app import add_route
from chatbot.web.pages import add_page_routes, host_of, render_page, site_url
from commands.meetings.ics import PUBLIC_URL_ENV, public_base
from commands.meetings.render import duration_words
from commands.meetings.series import Rule
from commands.meetings.store import MeetingRow, confirmed_meetings

TEMPLATES = Path(__file__).parent / "templates"
#: upcoming starts listed for a series
SERIES_STARTS = 3
#: past meetings listed
PAST_LIMIT = 20


def safe_link(link: str | None) -> str | None:
    """A link fit for ``href``: http(s) only (checked again here, whatever is stored)."""
    if link and (link.startswith("https://") or link.startswith("http://")):
        return link
    return None


def moment(at: datetime, zone: str, lang: str, now: datetime) -> dict[str, str]:
    """One start as the page shows it: ISO UTC for the script, UTC and organiser's texts."""
    utc = at.astimezone(UTC)
    return {
        "iso": utc.strftime("%Y-%m-%dT%H:%MZ"),
        "utc": format_when(utc, None, lang=lang, with_zone=False) + " UTC",
        "organiser": format_when(at, zone, lang=lang, now=now),
    }


def _all_starts(row: MeetingRow, now: datetime) -> tuple[list[datetime], datetime | None]:
    """The next starts (ongoing included) and the latest past start."""
    series = row.series()
    length = timedelta(minutes=row.duration_minutes)
    upcoming = series.occurrences(now - length, SERIES_STARTS)
    last: datetime | None = None
    if not upcoming:
        for start in series.occurrences(row.created_at - timedelta(days=1), 2000):
            if start + length > now:
                break
            last = start
    return upcoming, last


def meeting_view(row: MeetingRow, lang: str, now: datetime, base: str) -> dict[str, Any]:
    words = Rule.decode(row.rule).words()
    rule = "" if words is None else text_in(words, lang)
    return {
        "id": row.id,
        "title": row.title,
        "zone": row.zone,
        "rule": rule,
        "duration": text_in(duration_words(row.duration_minutes), lang),
        "link": safe_link(row.link),
        "minutes": safe_link(row.minutes_link),
        "ics": f"/meetings/{row.id}.ics",
        "webcal": "webcal://" + base.split("://", 1)[-1] + f"/meetings/{row.id}.ics",
    }


async def meetings_page(request: web.Request) -> web.Response:
    bot = host_of(request)

    async def build(lang: str) -> dict[str, Any]:
        now = bot.clock.now()
        base = public_base(bot) if os.environ.get(PUBLIC_URL_ENV) else site_url(request)
        async with bot.db.sessions() as session:
            rows = await confirmed_meetings(session)
        upcoming: list[tuple[datetime, dict[str, Any]]] = []
        past: list[tuple[datetime, dict[str, Any]]] = []
        for row in rows:
            starts, last = _all_starts(row, now)
            view = meeting_view(row, lang, now, base)
            if starts:
                view["starts"] = [moment(at, row.zone, lang, now) for at in starts]
                view["ongoing"] = starts[0] <= now
                upcoming.append((starts[0], view))
            elif last is not None:
                view["last"] = moment(last, row.zone, lang, now)
                past.append((last, view))
        upcoming.sort(key=lambda pair: pair[0])
        past.sort(key=lambda pair: pair[0], reverse=True)
        return {
            "upcoming": [v for _at, v in upcoming],
            "past": [v for _at, v in past[:PAST_LIMIT]],
            "feed": "/meetings.ics",
            "webcal_feed": "webcal://" + base.split("://", 1)[-1] + "/meetings.ics",
            "now": moment(now, "UTC", lang, now),
        }

    return await render_page(request, TEMPLATES, "meetings.html", build)


def add_routes(bot: Host) -> None:
    add_page_routes(bot, "/meetings", "Meetings")
    add_route(bot, "GET", "/meetings", meetings_page)
