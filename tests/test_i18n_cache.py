"""What the dispatch path keeps between replies never shows a reader stale or wrong text: a
member who changes ``!lang`` reads the next reply in the new language (repeated messages,
kept once translated, included), a new default language and reloaded catalogs take effect at
once, and values that compare equal but read differently (``1``, ``1.0``, ``True``) are told
apart."""

from __future__ import annotations

import gettext

import pytest

from chatbot.base import i18n
from chatbot.base.i18n import _, forget_catalogs, set_default_language
from chatbot.messages.events import Plain
from chatbot.messages.localise import expand, text_in
from tests.harness import ConsoleChat


async def test_the_reply_right_after_lang_is_in_the_new_language(chat: ConsoleChat) -> None:
    # each twice, so that the second comes from what was kept of the first
    for _round in range(2):
        assert await chat.say("!ping") == "Pong! I'm here."
        assert "Did you mean `!ping`?" in await chat.say("!pnig")
    await chat.say("!lang es")
    assert await chat.say("!ping") == "¡Pong! Aquí estoy."
    assert await chat.say("!pnig") == (
        "No conozco el comando !pnig. ¿Quisiste decir `!ping`? "
        "Escribe `!help` para ver lo que puedo hacer."
    )
    await chat.say("!lang fr")
    assert await chat.say("!ping") == "Pong ! Je suis là."
    await chat.say("!lang en")
    assert await chat.say("!ping") == "Pong! I'm here."
    assert "Did you mean `!ping`?" in await chat.say("!pnig")


async def test_each_member_reads_their_own_language(chat: ConsoleChat) -> None:
    await chat.say("!lang de", as_="rosa")
    assert await chat.say("!ping", as_="sam") == "Pong! I'm here."
    assert await chat.say("!ping", as_="rosa") == "Pong! Ich bin da."
    assert await chat.say("!ping", as_="sam") == "Pong! I'm here."


def test_a_new_default_language_applies_to_kept_messages() -> None:
    msg = _("Type `{prefix}help` to see what I can do.", prefix="!")
    try:
        assert text_in(msg, None) == "Type `!help` to see what I can do."
        set_default_language("es")
        assert text_in(msg, None) == "Escribe `!help` para ver lo que puedo hacer."
    finally:
        set_default_language("en")
    assert text_in(msg, None) == "Type `!help` to see what I can do."


def test_reloaded_catalogs_replace_kept_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    msg = _("Type `{prefix}help` to see what I can do.", prefix="!")
    assert text_in(msg, "es") == "Escribe `!help` para ver lo que puedo hacer."

    class Reworded(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return "Teclea `{prefix}help` para ver lo que sé hacer."

    forget_catalogs()
    monkeypatch.setitem(i18n._catalogs, "es", Reworded())
    try:
        assert text_in(msg, "es") == "Teclea `!help` para ver lo que sé hacer."
    finally:
        forget_catalogs()
    assert text_in(msg, "es") == "Escribe `!help` para ver lo que puedo hacer."


def test_equal_values_that_read_differently_are_told_apart() -> None:
    count = "Type `{prefix}help` to see what I can do."
    assert text_in(_(count, prefix=1), "en") == "Type `1help` to see what I can do."
    assert text_in(_(count, prefix=1.0), "en") == "Type `1.0help` to see what I can do."
    with pytest.raises(TypeError):
        text_in(_(count, prefix=True), "en")
    assert text_in(_(count, prefix=1), "en") == "Type `1help` to see what I can do."
    # a member's words (a Plain) stay a part of their own, to be escaped by the renderer
    assert expand(_(count, prefix=Plain("<b>")), "en") == [
        "Type `",
        Plain("<b>"),
        "help` to see what I can do.",
    ]
