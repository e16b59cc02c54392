"""A member's own settings: time zone, language, their data and forgetting it."""

from __future__ import annotations

import json

import pytest

from chatbot.base.clock import FakeClock
from chatbot.base.i18n import Msg, verbatim
from tests.harness import ConsoleChat


async def test_tz_unset_shows_utc_and_how_to_set(chat: ConsoleChat) -> None:
    """Without a zone, times are in UTC and the member is told how to set theirs."""
    out = await chat.say("!tz")
    assert "haven't set a time zone yet" in out
    assert "Wed 25 Nov, 12:00 (UTC)" in out
    assert "`!tz set Lagos`" in out


async def test_tz_set_by_name_city_and_offset(chat: ConsoleChat) -> None:
    """IANA names, fuzzy cities and offsets all work, and !tz shows the local time."""
    out = await chat.say("!tz set Europe/Paris")
    assert out.startswith("Done: your time zone is Europe/Paris.")
    assert "Wed 25 Nov, 13:00 (Paris)" in out
    assert "Africa/Lagos" in await chat.say("!tz set lagos")
    assert "America/Sao_Paulo (São Paulo)" in await chat.say("!tz set sao paulo")
    assert "Asia/Manila" in await chat.say("!tz set manilla")
    out = await chat.say("!tz set UTC+5:30")
    assert "UTC+05:30" in out and "doesn't follow daylight saving" in out
    out = await chat.say("!tz")
    assert "Your time zone is **UTC+05:30**" not in out  # markdown is flattened in the console
    assert "Your time zone is UTC+05:30. It's Wed 25 Nov, 17:30 (UTC+05:30) there." in out


async def test_tz_ambiguous_abbreviation_offers_choices(chat: ConsoleChat) -> None:
    """IST could be India, Ireland or Israel: the member gets the commands to pick one."""
    out = await chat.say("!tz set IST")
    assert "IST can mean several zones" in out
    for zone in ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"):
        assert f"`!tz set {zone}`" in out


async def test_tz_unknown_gives_suggestions(chat: ConsoleChat) -> None:
    """Nonsense is refused with the usage line, and nothing is stored."""
    out = await chat.say("!tz set Atlantis Deep")
    assert "Usage: `!tz set <zone>…`" in out
    assert "haven't set" in await chat.say("!tz")


async def test_times_follow_the_members_zone(chat: ConsoleChat, clock: FakeClock) -> None:
    """Two members see the same instant each in their own zone."""
    await chat.say("!tz set Asia/Manila", as_="rosa")
    await chat.say("!tz set America/New_York", as_="sam")
    assert "Wed 25 Nov, 20:00 (Manila)" in await chat.say("!tz", as_="rosa")
    assert "Wed 25 Nov, 07:00 (New York)" in await chat.say("!tz", as_="sam")


async def test_lang_changes_date_language(chat: ConsoleChat) -> None:
    """!lang fr writes dates in French; a bad code is explained; en goes back."""
    await chat.say("!tz set Europe/Paris")
    out = await chat.say("!lang fr")
    assert "mer. 25 nov., 13:00 (Paris)" in out
    assert "français" in await chat.say("!lang")
    assert "Je ne connais pas le code de langue « xx-zz-yy »" in await chat.say("!lang xx-zz-yy")
    assert "Wed 25 Nov, 13:00 (Paris)" in await chat.say("!lang en")


async def test_mydata_goes_by_dm_as_json(chat: ConsoleChat) -> None:
    """!mydata sends the member's stored data as JSON by direct message."""
    await chat.say("!tz set Africa/Nairobi", as_="wanjiru")
    out = await chat.say("!mydata")
    assert "I've sent you a direct message." in out
    lines = [
        line.removeprefix("[DM to wanjiru] ")
        for line in out.splitlines()
        if line.startswith("[DM to wanjiru]")
    ]
    text = "\n".join(lines)
    data = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert data["member_id"] == "console:wanjiru"
    assert data["profile"]["time_zone"] == "Africa/Nairobi"


async def test_forgetme_needs_confirm(chat: ConsoleChat) -> None:
    """!forgetme explains first; only the confirm deletes."""
    await chat.say("!tz set Asia/Kathmandu")
    assert "type `!forgetme confirm`" in await chat.say("!forgetme")
    assert "Kathmandu" in await chat.say("!tz")
    assert "deleted everything" in await chat.say("!forgetme confirm")
    assert "haven't set" in await chat.say("!tz")
    out = await chat.say("!mydata", room="dm")
    assert '"profile"' not in out


async def test_setup_dialogue(chat: ConsoleChat) -> None:
    """!setup asks for a zone and a language, re-asks on nonsense, and saves both."""
    assert "1/2" in await chat.say("!setup")
    out = await chat.say("IST")
    assert "IST can mean several zones" in out and "1/2" in out
    assert "2/2" in await chat.say("Asia/Kolkata")
    out = await chat.say("skip")
    assert "time zone: Asia/Kolkata" in out and "language: (skipped)" in out
    assert "All set!" in await chat.say("yes")
    assert "Asia/Kolkata" in await chat.say("!tz")


async def test_when_shows_a_time_in_my_zone(chat: ConsoleChat) -> None:
    """!when reads a phrase (in its own zone if it names one) and shows it in mine."""
    await chat.say("!tz set Asia/Manila")
    out = await chat.say("!when friday 18h CET")
    assert out == "friday 18h CET is Sat 28 Nov, 01:00 (Manila) for you (17:00 UTC)."
    out = await chat.say("!when tomorrow 9am")
    assert out == "tomorrow 9am is Thu 26 Nov, 09:00 (Manila) for you (01:00 UTC)."
    out = await chat.say("!when tomorow")
    assert "I can't read" in out and "Usage: `!when <moment>…`" in out
    assert "Set your zone" in await chat.say("!when 15:00 UTC", as_="newbie")


async def test_when_names_utc_once_for_a_member_in_utc(chat: ConsoleChat) -> None:
    """A member whose zone is UTC (or on UTC's offset then) sees the time once, not twice."""
    await chat.say("!tz set UTC")
    out = await chat.say("!when friday 18h CET")
    assert out == "friday 18h CET is Fri 27 Nov, 17:00 (UTC) for you."
    await chat.say("!tz set Europe/London")  # GMT in November: the same clock as UTC
    out = await chat.say("!when friday 18h CET")
    assert out == "friday 18h CET is Fri 27 Nov, 17:00 (London) for you."


async def test_forgetme_warns_before_confirm_about_what_stays(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A module's warning (e.g. published texts stay) is shown before the confirm."""
    from chatbot.dispatch.registry import Module
    from commands import basics, members
    from tests.harness import open_chat

    extra = Module("keeper", "Keeps published things.")

    @extra.on_forget_warning
    async def warn(bot: object, member_id: str) -> Msg | None:
        return verbatim("Your published text stays ({member_id}).", member_id=member_id)

    chat = await open_chat(sqlite_url, clock, modules=[basics.module, members.module, extra])
    try:
        out = await chat.say("!forgetme", as_="zed")
        assert "Your published text stays (console:zed)." in out
        assert out.index("stays") < out.index("forgetme confirm")
    finally:
        await chat.bot.close()


async def test_when_reads_other_languages_in_my_zone(chat: ConsoleChat) -> None:
    """!when reads Spanish, French, Portuguese and German phrases in the member's zone; the
    member's !lang decides when a phrase reads differently in two of them (``do``: Sunday in
    Spanish, Thursday in German)."""
    await chat.say("!tz set Europe/Berlin")
    out = await chat.say("!when mañana a las 18h")
    assert out == "mañana a las 18h is Thu 26 Nov, 18:00 (Berlin) for you (17:00 UTC)."
    for phrase, local in [
        ("viernes 18h", "Fri 27 Nov, 18:00"),
        ("demain 9h", "Thu 26 Nov, 09:00"),
        ("sexta-feira 18h", "Fri 27 Nov, 18:00"),
        ("amanhã às 18:00", "Thu 26 Nov, 18:00"),
        ("morgen um 18 Uhr", "Thu 26 Nov, 18:00"),
        ("vendredi 18h Lisboa", "Fri 27 Nov, 19:00"),
    ]:
        assert f"{phrase} is {local} (Berlin)" in await chat.say(f"!when {phrase}"), phrase
    assert "Sun 29 Nov, 18:00" in await chat.say("!when do 18h")
    await chat.say("!lang de")
    assert "Do., 26. Nov., 18:00 (Berlin)" in await chat.say("!when do 18h")
    assert "'viernes' hat einen Tag, aber keine Uhrzeit" in await chat.say("!when viernes")


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("Alemania", "Europe/Berlin"),
        ("Allemagne", "Europe/Berlin"),
        ("Deutschland", "Europe/Berlin"),
        ("Londres", "Europe/London"),
        ("Nueva York", "America/New_York"),
        ("Múnich", "Europe/Berlin"),
        ("Ciudad de México", "America/Mexico_City"),
        ("Genève", "Europe/Zurich"),
        ("Wien", "Europe/Vienna"),
        ("Lisboa", "Europe/Lisbon"),
    ],
)
async def test_tz_set_with_names_in_other_languages(
    chat: ConsoleChat, place: str, zone: str
) -> None:
    """Countries and cities as Spanish, French, Portuguese and German speakers write them."""
    assert f"your time zone is {zone}" in await chat.say(f"!tz set {place}")


async def test_tz_set_brasil_asks_which_zone(chat: ConsoleChat) -> None:
    out = await chat.say("!tz set Brasil")
    assert "can mean several zones" in out or "matches several time zones" in out
    assert "America/Sao_Paulo" in out and "America/Manaus" in out


@pytest.mark.parametrize("word", ["confirmar", "confirmer", "bestätigen", "sí", "oui", "ja"])
async def test_forgetme_confirmed_in_other_languages(chat: ConsoleChat, word: str) -> None:
    await chat.say("!tz set Asia/Kathmandu")
    assert "type `!forgetme confirm`" in await chat.say("!forgetme no")
    assert "Kathmandu" in await chat.say("!tz")
    assert "deleted everything" in await chat.say(f"!forgetme {word}")
    assert "haven't set" in await chat.say("!tz")


#: per language: the line ``!forgetme`` ends with, naming the word to type in that language
FORGETME_CONFIRM = {
    "es": ("Para continuar, escribe `!forgetme confirmar`.", "confirmar"),
    "fr": ("Pour continuer, tapez `!forgetme confirmer`.", "confirmer"),
    "pt": ("Para continuar, digite `!forgetme confirmar`.", "confirmar"),
    "de": ("Wenn du fortfahren willst, tippe `!forgetme bestätigen`.", "bestätigen"),
}


@pytest.mark.parametrize("lang", sorted(FORGETME_CONFIRM))
async def test_forgetme_shows_the_readers_own_confirm_word_and_takes_it(
    chat: ConsoleChat, lang: str
) -> None:
    """``!forgetme`` tells a Spanish reader to type ``confirmar`` (not the English
    ``confirm``), ``!help forgetme``'s example says the same, and typing what was shown
    deletes their data."""
    line, word = FORGETME_CONFIRM[lang]
    await chat.say("!tz set Asia/Kathmandu")
    await chat.say(f"!lang {lang}")
    warning = await chat.say("!forgetme")
    assert warning.endswith(line), warning
    assert "forgetme confirm`" not in warning
    assert f"`!forgetme {word}`" in await chat.say("!help forgetme")
    typed = line[line.index("`") + 1 : line.rindex("`")]  # the command as shown
    await chat.say(typed)
    assert "haven't set" in await chat.say("!tz")  # the zone is gone, the language too


async def test_forgetme_in_english_is_unchanged(chat: ConsoleChat) -> None:
    assert (await chat.say("!forgetme")).endswith("To go ahead, type `!forgetme confirm`.")
    assert "Examples: `!forgetme`, `!forgetme confirm`" in await chat.say("!help forgetme")
