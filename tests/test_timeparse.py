"""Date phrases read in the member's zone: chatbot.time.parse."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NoReturn, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.base.errors import AmbiguousZone, BadArgument
from chatbot.time import phrase_dateparser
from chatbot.time.parse import (
    Parsed,
    parse_details,
    parse_details_sync,
    parse_when,
    parse_when_sync,
)
from chatbot.time.when_cli import when_main

T = TypeVar("T")

#: Wednesday 25 November 2026, 12:00 UTC: 13:00 in Paris, 20:00 in Manila.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PARIS = "Europe/Paris"
MANILA = "Asia/Manila"


def utc(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def when(text: str, zone: str | None = PARIS, now: datetime = NOW, **kw: Any) -> datetime:
    return parse_when_sync(text, zone_key=zone, now=now, **kw)


def refusal(text: str, zone: str | None = PARIS, now: datetime = NOW, **kw: Any) -> str:
    with pytest.raises(BadArgument) as info:
        parse_when_sync(text, zone_key=zone, now=now, **kw)
    return str(info.value)


# Phrase → expected instant for an organiser in Paris and one in Manila.
NAMED_ZONE = [
    ("tomorrow 9am Europe/Paris", "2026-11-26 08:00"),
    ("2026-12-03 14:00 America/New_York", "2026-12-03 19:00"),
    ("Saturday 20:00 Europe/Berlin", "2026-11-28 19:00"),
    ("next week Wednesday 14:00 GMT+2", "2026-12-02 12:00"),
    ("Friday 18h CET", "2026-11-27 17:00"),
    ("friday 18h CET", "2026-11-27 17:00"),
    ("next Tuesday at 15:00 UTC", "2026-12-01 15:00"),
    ("next Monday 10:30 PST", "2026-11-30 18:30"),
    ("in 2 hours UTC", "2026-11-25 14:00"),
    ("in 30 minutes Asia/Manila", "2026-11-25 12:30"),
    ("tomorrow at noon Asia/Manila", "2026-11-26 04:00"),
    ("3 December 2026 at 4pm America/New_York", "2026-12-03 21:00"),
    ("12/05/2026 09:00 Asia/Manila", "2026-05-12 01:00"),
    ("15:00 UTC", "2026-11-25 15:00"),
    ("Friday 18:00 UTC-03:00", "2026-11-27 21:00"),
    ("tomorrow 9am +05:30", "2026-11-26 03:30"),
    ("2026-12-03T14:00:00+05:30", "2026-12-03 08:30"),
    ("2026-12-03T14:00Z", "2026-12-03 14:00"),
    ("tomorrow 9am (america/new york)", "2026-11-26 14:00"),
]

# Phrase → (expected in Paris, expected in Manila).
MEMBER_ZONE = [
    ("tomorrow 9am", "2026-11-26 08:00", "2026-11-26 01:00"),
    ("2026-12-03 14:00", "2026-12-03 13:00", "2026-12-03 06:00"),
    ("Saturday 20:00", "2026-11-28 19:00", "2026-11-28 12:00"),
    ("next week Wednesday 14:00", "2026-12-02 13:00", "2026-12-02 06:00"),
    ("Wednesday next week 14:00", "2026-12-02 13:00", "2026-12-02 06:00"),
    ("Friday 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
    ("friday 18h30", "2026-11-27 17:30", "2026-11-27 10:30"),
    ("Friday 18.30h", "2026-11-27 17:30", "2026-11-27 10:30"),
    ("next Tuesday at 15:00", "2026-12-01 14:00", "2026-12-01 07:00"),
    ("next Monday 10:30", "2026-11-30 09:30", "2026-11-30 02:30"),
    ("in 2 hours", "2026-11-25 14:00", "2026-11-25 14:00"),
    ("in 30 minutes", "2026-11-25 12:30", "2026-11-25 12:30"),
    ("tomorrow at noon", "2026-11-26 11:00", "2026-11-26 04:00"),
    ("3 December 2026 at 4pm", "2026-12-03 15:00", "2026-12-03 08:00"),
    ("12/05/2026 09:00", "2026-05-12 07:00", "2026-05-12 01:00"),
    ("15:00", "2026-11-25 14:00", "2026-11-26 07:00"),
    ("December 3rd at 4 p.m.", "2026-12-03 15:00", "2026-12-03 08:00"),
    ("on the 3rd of December at 16:00", "2026-12-03 15:00", "2026-12-03 08:00"),
    ("day after tomorrow at 9", "2026-11-27 08:00", "2026-11-27 01:00"),
    ("in 2 days at 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
    ("midnight", "2026-11-25 23:00", "2026-11-25 16:00"),
    ("tonight 8pm", "2026-11-25 19:00", "2026-11-25 12:00"),
]


@pytest.mark.parametrize(("phrase", "expected"), NAMED_ZONE)
@pytest.mark.parametrize("organiser", [PARIS, MANILA])
def test_zone_named_in_phrase_wins(phrase: str, expected: str, organiser: str) -> None:
    """A zone written in the phrase overrides the organiser's own zone."""
    assert when(phrase, organiser) == utc(expected)


@pytest.mark.parametrize(("phrase", "paris", "manila"), MEMBER_ZONE)
def test_phrase_read_in_member_zone(phrase: str, paris: str, manila: str) -> None:
    """Without a zone in the phrase, it is read in the organiser's zone."""
    assert when(phrase, PARIS) == utc(paris)
    assert when(phrase, MANILA) == utc(manila)


def test_no_zone_key_means_utc() -> None:
    """A member with no zone set is read in UTC."""
    assert when("tomorrow 9am", None) == utc("2026-11-26 09:00")


def test_result_is_aware_utc() -> None:
    """The instant comes back aware, in UTC, whatever zone ``now`` was given in."""
    now = NOW.astimezone(timezone(timedelta(hours=-5)))
    at = when("Friday 18h CET", MANILA, now)
    assert at.tzinfo is UTC
    assert at == utc("2026-11-27 17:00")


def test_month_first_date_order() -> None:
    """``date_order="MDY"`` reads 12/05/2026 as 5 December."""
    assert when("12/05/2026 09:00", "UTC", date_order="MDY") == utc("2026-12-05 09:00")
    assert when("12/05/2026 09:00", "UTC") == utc("2026-05-12 09:00")
    assert when("2026/12/05 09:00", "UTC", date_order="MDY") == utc("2026-12-05 09:00")


def test_date_without_year_is_the_next_one() -> None:
    """``3 December`` is this year's; a date already past this year is next year's."""
    assert when("3 December 16:00", "UTC") == utc("2026-12-03 16:00")
    assert when("1 March 10:00", "UTC") == utc("2027-03-01 10:00")


# --- weekdays and bare times ------------------------------------------------------------------

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_next_tuesday_on_monday_is_tomorrow() -> None:
    """'next Tuesday' said on a Monday is the coming Tuesday, the next day."""
    assert when("next Tuesday 15:00", "UTC", MONDAY) == utc("2026-11-24 15:00")


def test_next_tuesday_on_tuesday_is_a_week_later() -> None:
    """'next Tuesday' said on a Tuesday is the Tuesday a week later, even later that day."""
    assert when("next Tuesday 15:00", "UTC", TUESDAY) == utc("2026-12-01 15:00")


def test_next_tuesday_on_wednesday_is_six_days_later() -> None:
    """'next Tuesday' said on a Wednesday is the coming Tuesday."""
    assert when("next Tuesday 15:00", "UTC", NOW) == utc("2026-12-01 15:00")


def test_weekday_on_that_day_is_its_next_occurrence() -> None:
    """'Tuesday 15:00' on Tuesday at noon is today; 'Tuesday 10:00' is next week."""
    assert when("Tuesday 15:00", "UTC", TUESDAY) == utc("2026-11-24 15:00")
    assert when("Tuesday 10:00", "UTC", TUESDAY) == utc("2026-12-01 10:00")


def test_this_weekday_on_that_day_is_today() -> None:
    """'this Tuesday 10:00' said on Tuesday at noon is today (already past)."""
    assert when("this Tuesday 10:00", "UTC", TUESDAY) == utc("2026-11-24 10:00")


def test_next_week_weekday_uses_monday_weeks() -> None:
    """'next week Monday' said on Sunday is the next day; said on Wednesday, 5 days later."""
    assert when("next week Monday 10:00", "UTC", SUNDAY) == utc("2026-11-30 10:00")
    assert when("next week Monday 10:00", "UTC", NOW) == utc("2026-11-30 10:00")
    assert when("next week Wednesday 10:00", "UTC", NOW) == utc("2026-12-02 10:00")


def test_bare_time_is_next_occurrence() -> None:
    """'15:00 UTC' is today while still to come, else tomorrow."""
    assert when("15:00 UTC", now=NOW) == utc("2026-11-25 15:00")
    later = NOW.replace(hour=16)
    assert when("15:00 UTC", now=later) == utc("2026-11-26 15:00")
    assert when("15:00 UTC", now=NOW.replace(hour=15)) == utc("2026-11-26 15:00")


def test_relative_days_counted_in_the_named_zone() -> None:
    """'tomorrow … Europe/Paris' is tomorrow in Paris, even where it is already later."""
    late = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 04:00 on the 26th in Manila
    assert when("tomorrow 9am Europe/Paris", MANILA, late) == utc("2026-11-26 08:00")
    assert when("tomorrow 9am", MANILA, late) == utc("2026-11-27 01:00")


# --- daylight saving time ---------------------------------------------------------------------

LONDON = "Europe/London"


def test_after_eu_spring_change_london_is_bst() -> None:
    """A date after 28 March 2027 in London is read as BST (UTC+1)."""
    assert when("2027-04-01 10:00", LONDON) == utc("2027-04-01 09:00")
    before = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)  # Friday, still GMT
    assert when("Monday 10:00", LONDON, before) == utc("2027-03-29 09:00")
    assert when("Friday 10:00", LONDON, before) == utc("2027-04-02 09:00")


def test_in_days_keeps_wall_clock_across_change() -> None:
    """'in 3 days' keeps the time of day over a clock change; 'in 72 hours' does not."""
    before = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)
    assert when("in 3 days", LONDON, before) == utc("2027-03-29 11:00")
    assert when("in 72 hours", LONDON, before) == utc("2027-03-29 12:00")


def test_nonexistent_local_time_is_refused() -> None:
    """01:30 on 28 March 2027 does not exist in London; the message says what to do."""
    message = refusal("28 March 2027 01:30", LONDON)
    assert "01:30 does not exist on 28 March 2027 in Europe/London" in message
    assert "clocks go forward" in message
    assert "02:30" in message


def test_repeated_local_time_takes_first() -> None:
    """01:30 on 31 October 2027 happens twice in London; the first (BST) is taken."""
    assert when("31 October 2027 01:30", LONDON) == utc("2027-10-31 00:30")


# --- details ----------------------------------------------------------------------------------


def test_details_say_zone_named_in_phrase() -> None:
    """``parse_details_sync`` tells a zone from the phrase from the member's zone."""
    named = parse_details_sync("Friday 18h CET", zone_key=PARIS, now=NOW)
    assert named == Parsed(
        at=utc("2026-11-27 17:00"),
        zone_key="Europe/Brussels",
        zone_named_in_phrase=True,
        zone_text="CET",
    )
    own = parse_details_sync("Friday 18h", zone_key=PARIS, now=NOW)
    assert (own.zone_key, own.zone_named_in_phrase, own.zone_text) == (PARIS, False, None)
    assert own.local.isoformat() == "2026-11-27T18:00:00+01:00"
    offset = parse_details_sync("Friday 18:00 GMT+2", zone_key=PARIS, now=NOW)
    assert (offset.zone_key, offset.zone_text) == ("UTC+02:00", "GMT+2")


def test_details_mark_relative_phrases() -> None:
    """'in 2 hours' is marked relative: the zone played no part."""
    parsed = parse_details_sync("in 2 hours", zone_key=MANILA, now=NOW)
    assert parsed.relative
    assert parsed.at == utc("2026-11-25 14:00")


def test_date_only_allowed_with_flag() -> None:
    """With ``allow_date_only`` a bare date is 00:00 local and ``has_time`` is False."""
    parsed = parse_details_sync("3 December 2026", zone_key=PARIS, now=NOW, allow_date_only=True)
    assert parsed.at == utc("2026-12-02 23:00")
    assert not parsed.has_time


# --- refusals ---------------------------------------------------------------------------------


def test_empty_is_refused() -> None:
    """An empty or blank phrase asks for a time with examples."""
    assert refusal("") == "Tell me when. Try 'tomorrow 15:00' or 'next Friday 18:00 UTC'."
    assert refusal("   \n") == refusal("")


def test_misspelt_phrase_gets_a_suggestion() -> None:
    """'tomorow' is refused with the likely word and working examples."""
    assert refusal("tomorow") == (
        "I can't read 'tomorow' as a date. Did you mean 'tomorrow'? "
        "Try 'tomorrow 15:00' or 'next Friday 18:00 UTC'."
    )


def test_gibberish_is_refused() -> None:
    """Text with no date in it is refused with examples."""
    assert refusal("banana split") == (
        "I can't read 'banana split' as a date. Try 'tomorrow 15:00' or 'next Friday 18:00 UTC'."
    )


def test_date_without_time_is_refused() -> None:
    """A meeting needs a time: '3 December 2026' alone is refused."""
    message = refusal("3 December 2026")
    assert "has a day but no time" in message
    assert "'3 December 2026 15:00'" in message
    assert "no time" in refusal("tomorrow")


def test_absurd_years_are_refused() -> None:
    """Years more than five ahead, or before 1970, are refused."""
    assert "more than 5 years ahead" in refusal("2040-01-01 10:00")
    assert "before 1970" in refusal("1969-12-31 10:00")
    assert "more than 5 years away" in refusal("in 3000 days")


def test_huge_input_is_refused() -> None:
    """More than 200 characters is refused before any parsing."""
    message = refusal("tomorrow 15:00 " + "x" * 200)
    assert message.startswith("That is too long for a date (215 characters; at most 200).")


def test_control_characters_are_refused() -> None:
    """Control characters (other than ordinary whitespace) are refused."""
    assert "control characters" in refusal("tomorrow\x0015:00")
    assert "control characters" in refusal("tomorrow \x1b[31m15:00")


def test_invisible_format_characters_are_ignored() -> None:
    """Zero-width spaces pasted with a phrase are dropped, not refused."""
    assert when("tomorrow\u200b 9am") == utc("2026-11-26 08:00")


def test_ambiguous_abbreviation_names_candidates() -> None:
    """IST could be India, Ireland or Israel: refused, naming them, with an example."""
    with pytest.raises(AmbiguousZone) as info:
        when("Friday 18:00 IST")
    assert info.value.candidates == ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")
    assert str(info.value) == (
        "IST can mean several zones (Asia/Kolkata, Europe/Dublin, Asia/Jerusalem). "
        "Write the zone name instead, e.g. 'Friday 18:00 Asia/Kolkata'."
    )
    with pytest.raises(AmbiguousZone):
        when("friday 18:00 cst")


def test_two_zones_are_refused() -> None:
    """A phrase naming two zones is refused."""
    assert "more than one time zone ('CET' and 'UTC')" in refusal("Friday 18:00 CET UTC")


def test_impossible_times_are_refused() -> None:
    """25:00 or 13pm is not a time of day."""
    assert refusal("tomorrow 25:00").startswith("'25:00' is not a time of day.")
    assert refusal("13pm tomorrow").startswith("'13pm' is not a time of day.")


def test_impossible_offset_is_refused() -> None:
    """UTC+15 is not a real zone."""
    assert "offsets go from UTC-12:00 to UTC+14:00" in refusal("Friday 18:00 UTC+15")


def test_impossible_date_is_refused() -> None:
    """31 February does not exist."""
    message = refusal("31/02/2026 10:00")
    assert message == "There is no 31 February 2026. Check the day of the month."


def test_weekday_that_contradicts_date_is_refused() -> None:
    """'Friday 3 December 2026' is refused: that day is a Thursday."""
    assert refusal("Friday 3 December 2026 10:00") == (
        "3 December 2026 is a Thursday, not a Friday. Check the date."
    )


def test_midnight_with_a_day_is_refused() -> None:
    """'Friday midnight' could mean two nights: the member is asked for 00:00."""
    assert "start or the end of that day" in refusal("Friday midnight")


def test_zone_alone_is_refused() -> None:
    """A zone with no day or time asks for one."""
    assert refusal("Europe/Paris") == (
        "'Europe/Paris' is only a time zone. Add a day and a time, "
        "e.g. 'tomorrow 15:00 Europe/Paris'."
    )


def test_unknown_zone_name_gets_suggestions() -> None:
    """A misspelt IANA name is read when the match is clear."""
    assert when("Friday 18:00 Europe/Pariss", MANILA) == utc("2026-11-27 17:00")


def test_bad_arguments_are_programming_errors() -> None:
    """A naive ``now`` or an unknown ``date_order`` is a bug: ValueError, not BadArgument."""
    with pytest.raises(ValueError, match="aware"):
        parse_when_sync("tomorrow 9am", zone_key=None, now=datetime(2026, 11, 25, 12))
    with pytest.raises(ValueError, match="date_order"):
        when("tomorrow 9am", date_order="XYZ")


# --- never anything but a datetime or BadArgument ---------------------------------------------

WORDS = [
    "tomorrow", "next", "week", "Friday", "in", "2", "hours", "at", "noon", "midnight", "3",
    "December", "2026", "15:00", "18h", "CET", "UTC", "GMT+2", "+05:30", "Europe/Paris", "pm",
    "ago", "the", "of", "12/05/2026", "-", "/", ":", "day", "after", "IST", "9am", "24:00", "a",
    "half", "Z", "2026-12-03", "99999", "tonight", "1h30", "from", "now",
]  # fmt: skip
phrases = st.one_of(
    st.text(max_size=220),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.lists(st.sampled_from(WORDS), max_size=6).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(
    text=phrases,
    zone=st.sampled_from([PARIS, MANILA, None, "UTC+05:30", "America/St_Johns"]),
    minutes=st.integers(min_value=0, max_value=5 * 366 * 24 * 60),
)
def test_any_text_gives_datetime_or_bad_argument(text: str, zone: str | None, minutes: int) -> None:
    """Whatever is typed, the answer is an aware UTC datetime or a BadArgument."""
    now = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    try:
        at: datetime | None = parse_when_sync(text, zone_key=zone, now=now)
    except BadArgument as exc:
        at, message = None, exc.message
    else:
        message = ""
    assert (at is not None and at.tzinfo is UTC) or message


# --- async API: first load off the event loop -------------------------------------------------


async def test_async_matches_sync() -> None:
    """``parse_when`` and ``parse_details`` give the sync results."""
    assert await parse_when("Friday 18h CET", zone_key=MANILA, now=NOW) == utc("2026-11-27 17:00")
    parsed = await parse_details("tonight 8pm", zone_key=PARIS, now=NOW)
    assert parsed.at == utc("2026-11-25 19:00")
    with pytest.raises(BadArgument):
        await parse_when("tomorow", zone_key=PARIS, now=NOW)


async def test_first_dateparser_load_runs_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """dateparser is first built through ``asyncio.to_thread``; later calls run directly."""
    calls: list[str] = []
    real = asyncio.to_thread

    async def spy(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        calls.append(getattr(func, "__name__", "?"))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(phrase_dateparser, "_PARSER", None)
    monkeypatch.setattr(asyncio, "to_thread", spy)
    first = await parse_when("tonight 8pm", zone_key=PARIS, now=NOW)
    assert calls == ["get_parser"]
    again = await parse_when("tonight 8pm", zone_key=PARIS, now=NOW)
    assert first == again == utc("2026-11-25 19:00")
    assert calls == ["get_parser"]


async def test_grammar_phrases_never_load_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The common shapes are read without dateparser at all."""

    def boom() -> NoReturn:
        raise AssertionError("dateparser should not be needed")

    monkeypatch.setattr(phrase_dateparser, "_PARSER", None)
    monkeypatch.setattr(phrase_dateparser, "get_parser", boom)
    for phrase, paris, _ in MEMBER_ZONE:
        if phrase != "tonight 8pm":
            assert await parse_when(phrase, zone_key=PARIS, now=NOW) == utc(paris)


def test_import_does_not_load_dateparser() -> None:
    """Importing chatbot.time.parse stays cheap: dateparser is imported on first need."""
    code = "import sys, chatbot.time.parse; print('dateparser' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- CLI --------------------------------------------------------------------------------------


def test_cli_prints_utc_instant(capsys: pytest.CaptureFixture[str]) -> None:
    """``chatbot when`` prints the instant in UTC as its only stdout line."""
    assert when_main(["Friday 18h CET", "--now", "2026-11-25T12:00:00+00:00"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("2026-11-27T17:00:00+00:00\n", "")


def test_cli_zone_and_naive_now(capsys: pytest.CaptureFixture[str]) -> None:
    """``--zone`` takes a city; a naive ``--now`` is UTC."""
    assert when_main(["tomorrow 9am", "--zone", "Manila", "--now", "2026-11-25T12:00"]) == 0
    assert capsys.readouterr().out == "2026-11-26T01:00:00+00:00\n"


def test_cli_refusal_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable phrase, zone or --now prints the reason on stderr and returns 1."""
    assert when_main(["tomorow", "--now", "2026-11-25T12:00Z"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("I can't read 'tomorow' as a date.")
    assert when_main(["tomorrow 9am", "--zone", "Qwxyz"]) == 1
    assert "I don't know the zone 'Qwxyz'" in capsys.readouterr().err
    assert when_main(["tomorrow 9am", "--now", "yesterday"]) == 1
    assert "--now must be an ISO 8601" in capsys.readouterr().err


def test_cli_schedule_applies_the_bots_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """``--schedule`` judges the time as a meeting or announcement would be: a time that has
    passed is refused (exit 2, the reason on stderr, nothing on stdout); without it, any
    time converts."""
    now = ["--now", "2026-11-25T12:00Z"]
    assert when_main(["today 09:00", *now, "--schedule"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("'today 09:00' is 2026-11-25 09:00 UTC, which has already passed")
    assert "it is now 2026-11-25 12:00 UTC" in err
    assert when_main(["today 09:00", *now]) == 0
    assert capsys.readouterr().out == "2026-11-25T09:00:00+00:00\n"
    assert when_main(["today 13:00", *now, "--schedule"]) == 0
    assert capsys.readouterr().out == "2026-11-25T13:00:00+00:00\n"


def test_one_rule_for_every_scheduled_time() -> None:
    """Meetings, reminders and announcements are refused by one function, in one wording."""
    from datetime import UTC, datetime

    from chatbot.time.schedule_rules import PastTime, check_schedulable

    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    for kind, named in [("meeting", "a meeting"), ("announcement", "an announcement")]:
        with pytest.raises(PastTime, match=f"has already passed: {named} can only be set"):
            check_schedulable(now, now, "now", kind)
    check_schedulable(now.replace(minute=1), now)


def test_cli_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed command line prints usage on stderr and returns 2."""
    assert when_main([]) == 2
    err = capsys.readouterr().err
    assert "usage: chatbot when" in err


def test_cli_in_subprocess() -> None:
    """The CLI entry works in a fresh interpreter (dateparser loaded there too)."""
    code = (
        "import sys; from chatbot.time.when_cli import when_main; sys.exit(when_main(sys.argv[1:]))"
    )
    ok = subprocess.run(
        [sys.executable, "-c", code, "tonight 8pm", "--zone", "Europe/Paris", "--now",
         "2026-11-25T12:00:00Z"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "2026-11-25T19:00:00+00:00\n", "")
    bad = subprocess.run(
        [sys.executable, "-c", code, "3 December 2026", "--now", "2026-11-25T12:00:00Z"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "has a day but no time" in bad.stderr


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("monday 10am lagos", "2026-11-30T09:00:00+00:00"),
        ("tomorrow 09:00 sao paulo", "2026-11-26T12:00:00+00:00"),
        ("friday 18:00 são paulo", "2026-11-27T21:00:00+00:00"),
        ("monday 10am new york", "2026-11-30T15:00:00+00:00"),
        ("friday 18h in paris", "2026-11-27T17:00:00+00:00"),
        ("tomorrow 9am manila time", "2026-11-26T01:00:00+00:00"),
        ("friday 15:00 ciudad de méxico", "2026-11-27T21:00:00+00:00"),
        ("friday 10:00 münchen", "2026-11-27T09:00:00+00:00"),
        ("friday 18:00 next week", "2026-12-04T18:00:00+00:00"),
        ("friday 18:00 rio de janeiro", "2026-11-27T21:00:00+00:00"),
        ("friday 18:00 santo domingo", "2026-11-27T22:00:00+00:00"),
        ("friday 18:00 hoi an", "2026-11-27T11:00:00+00:00"),
        ("friday 18:00 port of spain", "2026-11-27T22:00:00+00:00"),
        ("tomorrow noon madrid", "2026-11-26T11:00:00+00:00"),
    ],
)
def test_a_place_at_the_end_of_a_phrase(phrase: str, expected: str) -> None:
    """Cities typed after the time are read by the same rules as ``!tz set``: several
    words, accents or none, a leading 'in', a trailing 'time'; date words are not places, but
    a name may hold one (Rio de Janeiro: janeiro is January in Portuguese)."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert parse_when_sync(phrase, zone_key=None, now=now).isoformat() == expected


def test_a_place_in_several_zones_is_asked_about() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    with pytest.raises(AmbiguousZone, match="portland can be in several zones"):
        parse_when_sync("monday 10am portland", zone_key=None, now=now)
