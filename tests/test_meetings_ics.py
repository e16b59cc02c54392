"""The meetings' calendar feed: built, parsed back, expanded, and served by the web app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
import recurring_ical_events
from aiohttp.test_utils import TestClient

from chatbot.base.clock import FakeClock
from chatbot.web.app import ROUTES, add_route, create_app
from commands import basics, members
from commands import meetings as meetings_module
from commands.meetings.ics import PUBLIC_URL_ENV, build_calendar
from commands.meetings.series import DAYS, MONTHLY_NTH, WEEKS, Rule
from commands.meetings.store import CANCELLED, CONFIRMED, MeetingRow
from tests.harness import ConsoleChat, open_chat

Client = TestClient[Any, Any]
MakeClient = Callable[[Any], Awaitable[Client]]

MODULES = [basics.module, members.module, meetings_module.module]
WEB = "[web]\nenabled = true\nport = 0\n"
CREATED = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
YEAR_START = datetime(2027, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2028, 1, 1, tzinfo=UTC)


def row_of(
    start: str,
    zone: str,
    rule: Rule,
    exdates: tuple[str, ...] = (),
    *,
    number: int = 1,
    title: str = "Open meeting",
    link: str | None = None,
) -> MeetingRow:
    return MeetingRow(
        id=number,
        title=title,
        start_local=start,
        zone=zone,
        rule=rule.encode(),
        exdates=json.dumps(list(exdates)),
        duration_minutes=90,
        link=link,
        rooms="[]",
        state=CONFIRMED,
        generation=2,
        created_by="console:ana",
        created_at=CREATED,
        updated_at=CREATED + timedelta(hours=1),
    )


def parse(data: bytes) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(data)
    assert isinstance(calendar, icalendar.Calendar)
    return calendar


def expanded(data: bytes, start: datetime, end: datetime) -> list[datetime]:
    """The starts (UTC) a calendar app computes from the feed, by recurring_ical_events."""
    events = recurring_ical_events.of(parse(data)).between(start, end)
    return sorted(event.decoded("dtstart").astimezone(UTC) for event in events)


def bot_starts(row: MeetingRow, start: datetime, end: datetime) -> list[datetime]:
    """The starts the bot itself reminds of, between ``start`` and ``end``."""
    found = row.series().occurrences(start - timedelta(seconds=1), 1000)
    return [at for at in found if at < end]


SERIES = [
    # weekly in London across both 2027 changes, two occurrences cancelled (GMT and BST)
    ("2027-01-06T15:00", "Europe/London", Rule(WEEKS, 1), ("2027-03-31", "2027-11-03")),
    # Sundays 01:30 London: missing on 28 March (gap), twice on 31 October (the first)
    ("2027-01-03T01:30", "Europe/London", Rule(WEEKS, 1), ("2027-01-10",)),
    # every 2 weeks early in the morning, next to the changes' hour
    ("2027-01-03T02:30", "Europe/London", Rule(WEEKS, 2), ("2027-01-17",)),
    # monthly on the 2nd Tuesday in New York, one cancelled
    ("2027-01-12T17:00", "America/New_York", Rule(MONTHLY_NTH, 1, 2, 1), ("2027-06-08",)),
    # monthly on the last Friday in Sydney (southern-hemisphere DST)
    ("2027-01-29T09:00", "Australia/Sydney", Rule(MONTHLY_NTH, 1, -1, 4), ()),
    # every 3 days in Manila (no DST) and in a fixed-offset zone
    ("2027-01-02T21:00", "Asia/Manila", Rule(DAYS, 3), ("2027-01-05",)),
    ("2027-01-02T08:15", "UTC+05:30", Rule(WEEKS, 1), ("2027-01-09",)),
    ("2027-01-04T12:00", "UTC", Rule(DAYS, 1), ("2027-02-01", "2027-02-02")),
    # the first occurrence itself cancelled
    ("2027-01-07T18:00", "Europe/Berlin", Rule(WEEKS, 1), ("2027-01-07",)),
]


@pytest.mark.parametrize(("start", "zone", "rule", "exdates"), SERIES)
def test_feed_occurrences_match_the_bots_for_a_year(
    start: str, zone: str, rule: Rule, exdates: tuple[str, ...]
) -> None:
    """Expanded by recurring_ical_events, the feed gives exactly the bot's starts for a
    year, cancelled ones left out, across daylight-saving changes."""
    row = row_of(start, zone, rule, exdates)
    data = build_calendar([row], CREATED, "Meetings")
    ours = bot_starts(row, YEAR_START, YEAR_END)
    assert len(ours) >= 10
    assert expanded(data, YEAR_START, YEAR_END) == ours
    cancelled = {date.fromisoformat(d) for d in exdates}
    assert not any(row.series().local_date_of(at) in cancelled for at in ours)


def test_london_weekly_event_fields() -> None:
    """DTSTART is London wall time with its TZID and a VTIMEZONE, the rule is an RRULE and
    cancelled dates are EXDATEs at 15:00 London; UID, DTSTAMP, SEQUENCE, URL are set."""
    row = row_of(
        "2027-01-06T15:00",
        "Europe/London",
        Rule(WEEKS, 1),
        ("2027-03-31", "2027-11-03"),
        link="https://meet.example/x",
    )
    text = build_calendar([row], CREATED, "Meetings").decode()
    assert "DTSTART;TZID=Europe/London:20270106T150000" in text
    assert "RRULE:FREQ=WEEKLY\r\n" in text
    assert "EXDATE;TZID=Europe/London:20270331T150000,20271103T150000" in text
    calendar = parse(text.encode())
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]
    assert {str(s["TZNAME"]) for s in zones[0].subcomponents} == {"GMT", "BST"}
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("duration") == timedelta(minutes=90)
    assert str(event["UID"]).startswith("meeting-1-") and int(event.decoded("sequence")) == 2
    assert event.decoded("dtstamp") == CREATED + timedelta(hours=1)
    assert str(event["URL"]) == "https://meet.example/x"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(calendar["X-WR-CALNAME"]) == "Meetings"


def test_monthly_rule_and_a_single_meeting() -> None:
    """A monthly nth weekday is BYDAY=2TU; a single meeting has no RRULE and one start."""
    monthly = row_of("2027-01-12T17:00", "America/New_York", Rule(MONTHLY_NTH, 1, 2, 1))
    single = row_of("2027-02-03T10:00", "Europe/Berlin", Rule(), number=2)
    data = build_calendar([monthly, single], CREATED, "Meetings")
    text = data.decode()
    assert "RRULE:FREQ=MONTHLY;BYDAY=2TU" in text
    events = {int(str(e["UID"]).split("-")[1]): e for e in parse(data).walk("VEVENT")}
    assert "RRULE" not in events[2]
    assert expanded(data, YEAR_START, YEAR_END).count(datetime(2027, 2, 3, 9, 0, tzinfo=UTC)) == 1
    assert {str(z["TZID"]) for z in parse(data).walk("VTIMEZONE")} == {
        "America/New_York",
        "Europe/Berlin",
    }


def test_a_start_off_the_monthly_rule_is_not_an_occurrence() -> None:
    """After ``edit when`` a monthly series may start on a day off its rule: the bot skips
    that day, so the feed starts on the first real occurrence too."""
    row = row_of("2027-01-04T17:00", "Europe/London", Rule(MONTHLY_NTH, 1, 2, 1))
    data = build_calendar([row], CREATED, "Meetings")
    assert "DTSTART;TZID=Europe/London:20270112T170000" in data.decode()
    assert expanded(data, YEAR_START, YEAR_END) == bot_starts(row, YEAR_START, YEAR_END)


def test_user_text_is_escaped() -> None:
    """Commas, semicolons, backslashes and new lines in a title cannot break the feed."""
    title = 'Call; a, b \\ c\nEND:VEVENT\nBEGIN:VEVENT "x"'
    data = build_calendar([row_of("2027-01-06T15:00", "UTC", Rule(), title=title)], CREATED, "M")
    assert data.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
    (event,) = parse(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == title


# -- served by the web app ------------------------------------------------------------------


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(db_url, clock, extra_config=WEB, modules=MODULES)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def add_series(chat: ConsoleChat) -> None:
    await chat.say("!tz set Europe/London", as_="ana")
    echo = await chat.say('!meeting add "Open meeting" 2026-12-02 15:00 --every week')
    assert "(not saved yet)" in echo
    assert "is saved" in await chat.say("!meeting confirm 1")
    assert "is cancelled" in await chat.say("!meeting cancel 1 --occurrence 2026-12-16")


async def test_the_web_app_serves_the_feeds(
    chat: ConsoleChat, aiohttp_client: MakeClient, clock: FakeClock
) -> None:
    """/meetings.ics and /meetings/1.ics are text/calendar, expand to the bot's starts with
    the cancelled date left out; drafts and unknown meetings are 404."""
    await add_series(chat)
    await chat.say('!meeting add "Draft" 2026-12-03 10:00')
    client = await aiohttp_client(create_app(chat.bot))
    start, end = clock.now(), clock.now() + timedelta(days=365)
    async with chat.bot.db.sessions() as session:
        row = await session.get(MeetingRow, 1)
    assert row is not None
    for path in ("/meetings.ics", "/meetings/1.ics"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type == "text/calendar"
        data = await response.read()
        (event,) = parse(data).walk("VEVENT")
        assert str(event["SUMMARY"]) == "Open meeting"
        starts = expanded(data, start, end)
        assert starts == bot_starts(row, start, end) and len(starts) == 51
        assert datetime(2026, 12, 16, 15, 0, tzinfo=UTC) not in starts
        assert datetime(2027, 6, 2, 14, 0, tzinfo=UTC) in starts  # 15:00 BST
    assert (await client.get("/meetings/2.ics")).status == 404  # a draft
    assert (await client.get("/meetings/99.ics")).status == 404


async def test_a_cancelled_meeting_leaves_the_feed(
    chat: ConsoleChat, aiohttp_client: MakeClient
) -> None:
    """A cancelled series is gone from /meetings.ics; its own .ics says STATUS:CANCELLED
    with a higher SEQUENCE, so calendars that imported it drop it."""
    await add_series(chat)
    client = await aiohttp_client(create_app(chat.bot))
    before = parse(await (await client.get("/meetings/1.ics")).read()).walk("VEVENT")[0]
    assert "cancelled (the whole series)" in await chat.say("!meeting cancel 1")
    assert parse(await (await client.get("/meetings.ics")).read()).walk("VEVENT") == []
    (after,) = parse(await (await client.get("/meetings/1.ics")).read()).walk("VEVENT")
    assert str(after["STATUS"]) == CANCELLED.upper()
    assert int(after.decoded("sequence")) > int(before.decoded("sequence"))
    assert after["UID"] == before["UID"]


async def test_meeting_ics_gives_the_links(
    chat: ConsoleChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``!meeting N ics`` and ``!meeting ics`` give the public links (the environment's
    address, else host and port); drafts have none."""
    await add_series(chat)
    monkeypatch.delenv(PUBLIC_URL_ENV, raising=False)
    assert "http://127.0.0.1:0/meetings/1.ics" in await chat.say("!meeting 1 ics")
    monkeypatch.setenv(PUBLIC_URL_ENV, "https://bot.example.org/")
    reply = await chat.say("!meeting ics 1", as_="bob")
    assert "Open meeting" in reply and "https://bot.example.org/meetings/1.ics" in reply
    assert "https://bot.example.org/meetings.ics" in await chat.say("!meeting ics")
    await chat.say('!meeting add "Draft" 2026-12-03 10:00', as_="ana")
    assert "is a draft: it has no calendar entry" in await chat.say("!meeting 2 ics")


async def test_without_web_there_is_no_feed(db_url: str, clock: FakeClock) -> None:
    """With the web app off, no route is registered and ``!meeting ics`` says it is off."""
    chat = await open_chat(db_url, clock, modules=MODULES)
    try:
        assert ROUTES not in chat.bot.services
        off = await chat.say("!meeting ics")
        assert "calendar feed is off" in off and "`enabled = true` in the `[web]` section" in off
    finally:
        await chat.bot.close()


async def test_add_route_is_idempotent(chat: ConsoleChat) -> None:
    """Routes added twice (a second start-up) are served once; create_app still works."""

    async def handler(request: Any) -> Any:
        raise AssertionError("not called")

    add_route(chat.bot, "get", "/meetings.ics", handler)
    paths = [p for _m, p, _h in chat.bot.services[ROUTES]]
    assert paths.count("/meetings.ics") == 1
    create_app(chat.bot)
