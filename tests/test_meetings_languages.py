"""Meetings said and answered in Spanish, French, Portuguese and German: ``!meeting add`` with a
series and a date in the organiser's language, ``!rsvp 1 sim``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from commands import basics, members
from commands import meetings as meetings_module
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, meetings_module.module]


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(db_url, clock, modules=MODULES)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def test_series_added_in_spanish(chat: ConsoleChat) -> None:
    """``cada segundo martes a las 15h`` is the 2nd Tuesday of each month at 15:00 in the
    organiser's zone; the first is 8 December (it is Wednesday 25 November)."""
    await chat.say("!tz set Madrid", as_="ana")
    echo = await chat.say('!meeting add "Llamada" cada segundo martes a las 15h', room="#general")
    assert "(not saved yet)" in echo, echo
    assert "Tue 8 Dec, 15:00 (Madrid) = 2026-12-08 14:00 UTC" in echo
    assert "every 2nd Tuesday of the month" in echo


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('!meeting add "Appel" vendredi prochain à 18h', "Fri 27 Nov, 18:00 (Madrid)"),
        ('!meeting add "Chamada" sexta-feira às 18h', "Fri 27 Nov, 18:00 (Madrid)"),
        ('!meeting add "Anruf" morgen um 18 Uhr', "Thu 26 Nov, 18:00 (Madrid)"),
        ('!meeting add "Llamada" mañana a las 18h', "Thu 26 Nov, 18:00 (Madrid)"),
        ('!meeting add "Réunion" tous les lundis à 10h', "Mon 30 Nov, 10:00 (Madrid)"),
    ],
)
async def test_meeting_dates_in_other_languages(
    chat: ConsoleChat, line: str, expected: str
) -> None:
    await chat.say("!tz set Madrid", as_="ana")
    echo = await chat.say(line, room="#general")
    assert "(not saved yet)" in echo and expected in echo, echo


async def test_rsvp_in_the_members_language(chat: ConsoleChat) -> None:
    """``!rsvp 1 sí|sim|oui|ja``, ``quizás|talvez|peut-être|vielleicht|tal vez``,
    ``no|não|non|nein`` are yes, maybe and no; anything else is refused with the choices."""
    await chat.say('!meeting add "Open call" 2026-12-02 15:00 UTC', as_="ana", room="#general")
    assert "is saved" in await chat.say("!meeting confirm 1")
    answers = {
        "yes": ["sí", "si", "sim", "oui", "ja", "Sí."],
        "maybe": ["quizás", "quizas", "talvez", "peut-être", "vielleicht", "tal vez"],
        "no": ["no", "não", "nao", "non", "nein"],
    }
    said = {"yes": "You're going to #1", "maybe": "Maybe, then, for #1", "no": "Noted: you can't"}
    for answer, words in answers.items():
        for index, word in enumerate(words):
            out = await chat.say(f"!rsvp 1 {word}", as_=f"{answer}{index}")
            assert out.startswith(said[answer]), (word, out)
    shown = await chat.say("!meeting 1", as_="bob")
    assert "Going (6):" in shown and "Maybe (6):" in shown and "Can't come: 5" in shown
    refused = await chat.say("!rsvp 1 bof", as_="zoe")
    assert "'bof' is not one of: yes, no, maybe." in refused
