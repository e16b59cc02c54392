"""Meeting series anchored in the organiser's zone, rendered in members' zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, plain_english
from chatbot.delivery.outbox_payload import decode_payload
from chatbot.messages.events import Reply
from chatbot.messages.localise import text_in
from chatbot.time.format import format_when
from commands.meetings import parse_duration, split_options
from commands.meetings.recurrence import read_option, read_recurrence
from commands.meetings.render import dm_payloads, dm_text, lead_words, parse_leads, rsvp_buttons
from commands.meetings.series import (
    DAYS,
    MONTHLY_NTH,
    WEEKDAYS,
    WEEKS,
    Rule,
    Series,
)

NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
LONDON_WEEKLY = Series(datetime(2027, 3, 10, 15, 0), "Europe/London", Rule(WEEKS, 1))


def _local(at: datetime, zone: str) -> str:
    return format_when(at, zone, now=NOW)


def test_weekly_london_series_across_both_2027_dst_changes() -> None:
    """15:00 London stays 15:00 London; Manila, New York and Lagos move as their rules say."""
    occ = {at.date(): at for at in LONDON_WEEKLY.occurrences(NOW, 40)}
    zones = ("Europe/London", "Asia/Manila", "America/New_York", "Africa/Lagos")
    expected = {
        # before either change: London GMT, New York EST
        date(2027, 3, 10): ("Wed 10 Mar, 15:00 (London)", "Wed 10 Mar, 23:00 (Manila)",
                            "Wed 10 Mar, 10:00 (New York)", "Wed 10 Mar, 16:00 (Lagos)"),
        # New York on EDT (14 March), London still GMT
        date(2027, 3, 17): ("Wed 17 Mar, 15:00 (London)", "Wed 17 Mar, 23:00 (Manila)",
                            "Wed 17 Mar, 11:00 (New York)", "Wed 17 Mar, 16:00 (Lagos)"),
        # London on BST (28 March): an hour earlier in UTC
        date(2027, 3, 31): ("Wed 31 Mar, 15:00 (London)", "Wed 31 Mar, 22:00 (Manila)",
                            "Wed 31 Mar, 10:00 (New York)", "Wed 31 Mar, 15:00 (Lagos)"),
        date(2027, 10, 27): ("Wed 27 Oct, 15:00 (London)", "Wed 27 Oct, 22:00 (Manila)",
                             "Wed 27 Oct, 10:00 (New York)", "Wed 27 Oct, 15:00 (Lagos)"),
        # London back on GMT (31 October), New York still EDT until 7 November
        date(2027, 11, 3): ("Wed 3 Nov, 15:00 (London)", "Wed 3 Nov, 23:00 (Manila)",
                            "Wed 3 Nov, 11:00 (New York)", "Wed 3 Nov, 16:00 (Lagos)"),
        date(2027, 11, 10): ("Wed 10 Nov, 15:00 (London)", "Wed 10 Nov, 23:00 (Manila)",
                             "Wed 10 Nov, 10:00 (New York)", "Wed 10 Nov, 16:00 (Lagos)"),
    }  # fmt: skip
    for day, strings in expected.items():
        assert tuple(_local(occ[day], z) for z in zones) == strings, day
    assert occ[date(2027, 3, 10)].hour == 15 and occ[date(2027, 3, 31)].hour == 14
    assert occ[date(2027, 10, 27)].hour == 14 and occ[date(2027, 11, 3)].hour == 15


def test_lord_howe_half_hour_dst_and_kathmandu() -> None:
    """Lord Howe Island (+11 / +10:30) and Kathmandu (+05:45) get the right local times."""
    occ = {at.date(): at for at in LONDON_WEEKLY.occurrences(NOW, 10)}
    lord_howe = "Australia/Lord_Howe"
    assert _local(occ[date(2027, 3, 31)], lord_howe) == "Thu 1 Apr, 01:00 (Lord Howe Island)"
    # Lord Howe leaves DST on 4 April 2027: half an hour back
    assert _local(occ[date(2027, 4, 7)], lord_howe) == "Thu 8 Apr, 00:30 (Lord Howe Island)"
    assert _local(occ[date(2027, 3, 10)], "Asia/Kathmandu") == "Wed 10 Mar, 20:45 (Kathmandu)"
    assert _local(occ[date(2027, 4, 7)], "Asia/Kathmandu") == "Wed 7 Apr, 19:45 (Kathmandu)"


def test_exdates_monthly_and_daily_rules() -> None:
    """An EXDATE drops one local date; monthly nth weekdays and every-N-days expand."""
    skipped = Series(
        LONDON_WEEKLY.start_local,
        "Europe/London",
        LONDON_WEEKLY.rule,
        frozenset({date(2027, 3, 17)}),
    )
    days = [at.date() for at in skipped.occurrences(NOW, 3)]
    assert days == [date(2027, 3, 10), date(2027, 3, 24), date(2027, 3, 31)]
    monthly = Series(
        datetime(2027, 1, 1, 9, 0), "Asia/Manila", read_option("monthly", "2nd tuesday")
    )
    firsts = monthly.occurrences(NOW, 3)
    assert [format_when(a, "Asia/Manila", now=NOW) for a in firsts] == [
        "Tue 12 Jan, 09:00 (Manila)",
        "Tue 9 Feb, 09:00 (Manila)",
        "Tue 9 Mar, 09:00 (Manila)",
    ]
    last = Series(datetime(2027, 1, 1, 9, 0), "UTC", read_option("monthly", "last friday"))
    assert [a.day for a in last.occurrences(NOW, 2)] == [29, 26]
    every3 = Series(datetime(2027, 1, 6, 8, 0), "UTC", read_option("every", "3 days"))
    assert [a.day for a in every3.occurrences(NOW, 3)] == [6, 9, 12]
    assert every3.includes(datetime(2027, 1, 9, 8, 0, tzinfo=UTC))
    assert not every3.includes(datetime(2027, 1, 10, 8, 0, tzinfo=UTC))
    single = Series(datetime(2027, 1, 6, 8, 0), "UTC")
    assert single.occurrences(NOW, 5) == [datetime(2027, 1, 6, 8, 0, tzinfo=UTC)]
    assert single.next_after(datetime(2027, 1, 7, tzinfo=UTC)) is None


def test_rules_encode_and_describe() -> None:
    """Rules round-trip through their stored form and read as words."""
    for rule, words in (
        (Rule(), ""),
        (Rule(WEEKS, 1), "every week"),
        (Rule(WEEKS, 2), "every 2 weeks"),
        (Rule(DAYS, 1), "every day"),
        (Rule(MONTHLY_NTH, 1, 2, 1), "every 2nd Tuesday of the month"),
        (Rule(MONTHLY_NTH, 1, -1, 4), "every last Friday of the month"),
        (Rule(WEEKS, 1, days=(0, 1, 2, 3, 4)), "every weekday (Monday to Friday)"),
        (Rule(WEEKS, 2, days=(1,)), "every other Tuesday"),
        (Rule(WEEKS, 1, days=(0, 3)), "every Monday and Thursday"),
    ):
        assert Rule.decode(rule.encode()) == rule
        assert rule.describe() == words
    with pytest.raises(UserError, match="Say how it repeats"):
        read_option("every", "blue moon")
    with pytest.raises(UserError, match="--every week"):
        read_option("monthly", "tuesday")


@pytest.mark.parametrize(
    ("phrase", "words", "rest"),
    [
        ("every second Tuesday at 15:00 UTC", "every 2nd Tuesday of the month", "15:00 UTC"),
        ("friday 15:00 every other week", "every 2 weeks", "friday 15:00"),
        ("first monday of the month 14:00", "every 1st Monday of the month", "14:00"),
        ("weekdays 9:00", "every weekday (Monday to Friday)", "9:00"),
        ("monthly on the 2nd tuesday 17:00", "every 2nd Tuesday of the month", "17:00"),
        ("every other tuesday 15:00", "every other Tuesday", "15:00"),
        ("mondays and thursdays 10:00", "every Monday and Thursday", "10:00"),
        ("mon-fri 08:30", "every weekday (Monday to Friday)", "08:30"),
        ("the last friday of each month at 16:00 Europe/Berlin", "every last Friday of the month",
         "16:00 Europe/Berlin"),
        ("every 3 weeks friday 10:00", "every 3 weeks", "friday 10:00"),
    ],
)  # fmt: skip
def test_recurrence_read_as_people_say_it(phrase: str, words: str, rest: str) -> None:
    """Series typed the way organisers say them are read as rules, the rest of the phrase
    still giving the first meeting's time."""
    rule, left = read_recurrence(phrase)
    assert rule is not None and rule.describe() == words
    assert left == rest


@pytest.mark.parametrize(
    ("phrase", "words", "rest"),
    [
        # Spanish
        ("cada segundo martes a las 15:00 UTC", "every 2nd Tuesday of the month", "15:00 UTC"),
        ("el primer lunes del mes a las 18h", "every 1st Monday of the month", "18h"),
        ("el último viernes de cada mes a las 17h", "every last Friday of the month", "17h"),
        ("los martes y jueves a las 18h", "every Tuesday and Thursday", "18h"),
        ("todos los lunes a las 10h", "every Monday", "10h"),
        ("días laborables a las 9h", "every weekday (Monday to Friday)", "9h"),
        ("de lunes a viernes a las 9h", "every weekday (Monday to Friday)", "9h"),
        ("cada dos semanas el viernes 18h", "every 2 weeks", "friday 18h"),
        ("todos los días a las 9", "every day", "9"),
        # French
        ("tous les lundis à 18h", "every Monday", "18h"),
        ("le premier lundi du mois à 18h", "every 1st Monday of the month", "18h"),
        ("chaque mardi et jeudi à 18h", "every Tuesday and Thursday", "18h"),
        ("un mardi sur deux à 18h", "every other Tuesday", "18h"),
        ("jours ouvrables 9h", "every weekday (Monday to Friday)", "9h"),
        ("toutes les deux semaines vendredi 18h", "every 2 weeks", "friday 18h"),
        # Portuguese
        ("toda segunda-feira às 10h", "every Monday", "10h"),
        ("todas as quartas às 18h", "every Wednesday", "18h"),
        ("a segunda terça do mês às 15h", "every 2nd Tuesday of the month", "15h"),
        ("às segundas e quintas às 10h", "every Monday and Thursday", "10h"),
        ("dias úteis às 9h", "every weekday (Monday to Friday)", "9h"),
        ("a cada duas semanas sexta 18h", "every 2 weeks", "friday 18h"),
        # German
        ("jeden Montag um 10 Uhr", "every Monday", "10 Uhr"),
        ("montags und donnerstags 10 Uhr", "every Monday and Thursday", "10 Uhr"),
        ("am ersten Montag im Monat um 18 Uhr", "every 1st Monday of the month", "18 Uhr"),
        ("jeden zweiten Dienstag im Monat 18 Uhr", "every 2nd Tuesday of the month", "18 Uhr"),
        ("jeden zweiten Dienstag 18 Uhr", "every other Tuesday", "18 Uhr"),
        ("Werktage 9 Uhr", "every weekday (Monday to Friday)", "9 Uhr"),
        ("alle zwei Wochen Freitag 18 Uhr", "every 2 weeks", "friday 18 Uhr"),
    ],
)  # fmt: skip
def test_recurrence_in_other_languages(phrase: str, words: str, rest: str) -> None:
    """Series said in Spanish, French, Portuguese or German are the English rules; what is
    left (in the member's language, weekdays in English) gives the first meeting's time.  In
    German and French "every second Tuesday" is every other one, as they mean it."""
    rule, left = read_recurrence(phrase)
    assert rule is not None and rule.describe() == words
    assert left == rest


def test_recurrence_options_in_other_languages() -> None:
    assert read_option("every", "semana").describe() == "every week"
    assert read_option("every", "2 semaines").describe() == "every 2 weeks"
    assert read_option("monthly", "segundo martes").describe() == "every 2nd Tuesday of the month"
    assert read_option("monthly", "letzten Freitag").describe() == "every last Friday of the month"


@pytest.mark.parametrize(
    "phrase",
    [
        "friday 15:00", "tues 15:00", "next monday 9am", "2026-12-08", "viernes 18h",
        "el viernes a las 18h", "vendredi 18h", "sexta-feira 18h", "Freitag 18 Uhr",
        "segunda às 10h", "el martes que viene 18h", "friday 18:00 los angeles",
    ],
)  # fmt: skip
def test_a_single_meeting_is_not_a_series(phrase: str) -> None:
    assert read_recurrence(phrase) == (None, phrase)


def test_weekday_and_biweekly_rules_expand_in_wall_time() -> None:
    """Weekdays skip the weekend; every other Tuesday skips a week; both stay at 09:00 in
    London across the end of summer time."""
    weekdays = Series(datetime(2026, 10, 23, 9, 0), "Europe/London", Rule(WEEKS, 1, days=WEEKDAYS))
    starts = weekdays.occurrences(datetime(2026, 10, 22, tzinfo=UTC), 4)
    assert [s.isoformat() for s in starts] == [
        "2026-10-23T08:00:00+00:00",  # Friday, summer time
        "2026-10-26T09:00:00+00:00",  # Monday, after the change
        "2026-10-27T09:00:00+00:00",
        "2026-10-28T09:00:00+00:00",
    ]
    other = Series(datetime(2026, 12, 1, 15, 0), "UTC", Rule(WEEKS, 2, days=(1,)))
    got = [s.date().isoformat() for s in other.occurrences(datetime(2026, 11, 30, tzinfo=UTC), 3)]
    assert got == ["2026-12-01", "2026-12-15", "2026-12-29"]


def test_options_durations_and_leads() -> None:
    """Options split off the date phrase; durations and lead times are read strictly."""
    assert split_options("friday 15:00 --every 2 weeks --link https://x.org") == (
        "friday 15:00",
        {"every": "2 weeks", "link": "https://x.org"},
    )
    assert split_options("tomorrow 9am") == ("tomorrow 9am", {})
    assert [parse_duration(t) for t in ("1h", "90m", "1h30", "45", "2 h")] == [60, 90, 90, 45, 120]
    for bad in ("", "abc", "3d", "1m", "30h"):
        with pytest.raises(UserError):
            parse_duration(bad)
    assert parse_leads("1d,15m", (1440, 60, 15)) == [1440, 15]
    with pytest.raises(ValueError, match="2m"):
        parse_leads("2m", (1440, 15))
    assert [plain_english(lead_words(m)) for m in (10080, 1440, 60, 15)] == [
        "7 days",
        "1 day",
        "1 hour",
        "15 minutes",
    ]


def test_dm_payloads_carry_only_the_members_own_time() -> None:
    """Each member's DM is rendered in their zone and language and decodes as a reply."""
    at = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    members = [
        ("console:a", "a", "Asia/Kathmandu", None),
        ("console:b", "b", None, None),
        ("console:c", "c", "Europe/Paris", "fr"),
    ]
    out = dm_payloads(4, "Open call", at, "https://meet.example", 15, members, NOW)
    decoded = [decode_payload(p) for _id, _name, p in out]
    texts = [reply for reply, _reader in decoded]
    said = [text_in(_msg(reply.parts[0]), reader.lang) for reply, reader in decoded]
    assert said == [
        "Reminder: Open call starts in 15 minutes, Wed 10 Mar, 20:45 (Kathmandu). "
        "Join: https://meet.example",
        "Reminder: Open call starts in 15 minutes, Wed 10 Mar, 15:00 (UTC). "
        "Join: https://meet.example",
        "Rappel : Open call commence dans 15 minutes, mer. 10 mars, 16:00 (Paris). "
        "Pour rejoindre : https://meet.example",
    ]
    assert [b.command for b in texts[0].buttons] == ["rsvp 4 yes", "rsvp 4 maybe", "rsvp 4 no"]
    assert [text_in(b.label, "fr") for b in texts[2].buttons] == [
        "J'y serai",
        "Peut-être",
        "Je ne peux pas",
    ]
    assert [reader.zone for _reply, reader in decoded] == ["Asia/Kathmandu", None, "Europe/Paris"]
    for (_id, _name, zone, lang), (reply, _reader) in zip(members, decoded, strict=True):
        text = dm_text("Open call", at, zone, lang, 15, "https://meet.example", NOW)
        assert reply == Reply((text,), buttons=rsvp_buttons(4))  # encoded once per language


def _msg(part: object) -> Msg:
    assert isinstance(part, Msg)
    return part
