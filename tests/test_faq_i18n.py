"""The FAQ speaks the member's language: the words around an answer, "I don't know", the
organisers' confirmations and errors follow ``!lang`` (the answers are the knowledge base's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from chatbot.messages.events import Outgoing, Reader, Reply, Room
from chatbot.messages.localise import localise
from commands.faq.service import FaqService
from tests.harness import ConsoleChat
from tests.test_faq_commands import open_faq_chat


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat on SQLite with the FAQ module."""
    chat = await open_faq_chat(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


#: per language: the question line, "See also", "I don't know", "noted", the nearest topics,
#: and "you're welcome"
FRAMES = {
    "es": (
        "P: ",
        "Ver también: ",
        "Todavía no sé la respuesta a «how do I join the Wikimedia Foundation board",
        "He anotado tu pregunta para los organizadores.",
        "Los temas más cercanos que conozco:\n• ",
        "¡De nada!",
    ),
    "fr": (
        "Q : ",
        "Voir aussi : ",
        "Je ne connais pas encore la réponse à « how do I join the Wikimedia Foundation board",
        "J'ai noté votre question pour l'équipe d'organisation.",
        "Les sujets les plus proches que je connaisse :\n• ",
        "Avec plaisir !",
    ),
    "pt": (
        "P: ",
        "Veja também: ",
        "Ainda não sei a resposta para “how do I join the Wikimedia Foundation board",
        "Anotei sua pergunta para os organizadores.",
        "Os temas mais próximos que eu conheço:\n• ",
        "De nada!",
    ),
    "de": (
        "F: ",
        "Siehe auch: ",
        "Die Antwort auf „how do I join the Wikimedia Foundation board",
        "Ich habe deine Frage für das Organisationsteam notiert.",
        "Die nächstliegenden Themen, die ich kenne:\n• ",
        "Gern geschehen!",
    ),
}


@pytest.mark.parametrize("lang", sorted(FRAMES))
async def test_a_question_is_framed_in_the_members_language(chat: ConsoleChat, lang: str) -> None:
    """After ``!lang``, an answer's frame, "I don't know" and thanks are in that language;
    the entry's own text stays as the knowledge base has it."""
    question, see_also, unknown, noted, nearest, welcome = FRAMES[lang]
    await chat.say(f"!lang {lang}", as_="bob")
    out = await chat.say("!ask 1lib1ref campaign", as_="bob")
    assert out.startswith(question) and "#1Lib1Ref" in out.splitlines()[0], out
    assert see_also in out and "See also" not in out
    out = await chat.say("!ask how do I join the Wikimedia Foundation board of trustees")
    assert out.startswith(unknown), out
    assert noted in out and nearest in out and "`!faq list`" in out
    assert "I don't know" not in out and "organisers" not in out
    assert await chat.say("thanks bot!", room="dm") == welcome


async def test_a_dm_question_is_answered_in_german(chat: ConsoleChat) -> None:
    """A question sent by direct message gets the German frame too."""
    await chat.say("!lang de", as_="bob")
    out = await chat.say("how do i jion the group?", room="dm")
    assert out.startswith("F: How do I join the user group?"), out


async def test_faq_add_is_confirmed_in_spanish(chat: ConsoleChat) -> None:
    """An organiser with ``!lang es`` gets ``!faq add``'s confirmation, an edit's and a
    refused id's reason in Spanish; the entry's text is theirs, untouched."""
    await chat.say("!lang es", as_="ana")
    out = await chat.say('!faq add wifi "Where is the wifi password?" On the desk.', as_="ana")
    assert out == (
        "Añadí `wifi`. `!faq alias wifi <formulación>` añade otras formas de preguntarlo y "
        "`!faq edit wifi tags <temas>`, sus temas."
    )
    out = await chat.say("!faq edit wifi answer At the front desk.", as_="ana")
    assert out == "Cambié el campo «respuesta» de `wifi`."
    out = await chat.say('!faq add -wifi "Wifi?" On the desk.', as_="ana")
    assert "No puedo guardar la entrada '-wifi': el campo 'id' debe tener de 1 a 100" in out
    out = await chat.say('!faq add wifi "Wifi?" On the desk.', as_="ana")
    assert "Ya hay una entrada 'wifi'. Cámbiala con `!faq edit wifi …`" in out
    assert await chat.say("!faq remove wifi", as_="ana") == "Eliminé `wifi`."


async def test_faq_list_counts_in_french(chat: ConsoleChat) -> None:
    """The topic list's count follows French plural rules and wording."""
    await chat.say("!lang fr", as_="bob")
    out = await chat.say("!faq list", as_="bob")
    assert out.startswith("La base de connaissances contient "), out
    assert " entrées sur ces thèmes :" in out.splitlines()[0]
    out = await chat.say("!faq list nosuchtopic", as_="bob")
    assert out.startswith("Aucune entrée n'a le thème nosuchtopic."), out


async def test_other_language_pointer_names_the_language_in_portuguese(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the model, a member reading Portuguese who writes in Spanish is told so in
    Portuguese, the language named in Portuguese."""
    from commands.faq.service import METHOD_ENV

    monkeypatch.setenv(METHOD_ENV, "plain")
    chat = await open_faq_chat(sqlite_url, clock)
    try:
        await chat.say("!lang pt-BR", as_="bob")
        out = await chat.say("!ask ¿Dónde está el informe anual del grupo?", as_="bob")
        assert out.startswith(
            "Parece que você escreveu em espanhol. Por enquanto só consigo responder em inglês"
        ), out
    finally:
        await chat.bot.close()


# -- an entry's id as code, on every platform -------------------------------------------------


def _platform_renders(out: Outgoing) -> tuple[str, str]:
    """``out`` as Discord markdown and as Matrix HTML, each in its reader's language."""
    from adapters.discord.render import render
    from adapters.matrix.render import render_content

    read = localise(out)
    return render(read.reply), render_content(read, "!")["formatted_body"]


async def test_an_entry_id_is_code_on_discord_and_matrix(chat: ConsoleChat) -> None:
    """ "There's already an entry" and "changed at the same time" show the entry's id and the
    command to type as code spans: on Discord without backslashes (``join\\-the\\-group``)
    and on Matrix as ``<code>`` (not literal backticks), in English and in Spanish."""
    sent = chat.record_sent()
    for lang, lead in (("en", "Change it with "), ("es", "Cámbiala con ")):
        await chat.say(f"!lang {lang}", as_="olga")
        sent.clear()
        await chat.say('!faq add join-the-group "Q?" A.')
        discord, matrix = _platform_renders(sent[-1])
        assert f"{lead}`!faq edit join-the-group …`" in discord, discord
        assert f"{lead}<code>!faq edit join-the-group …</code>" in matrix, matrix
        assert "\\-" not in discord and "`" not in matrix
    svc = chat.bot.services["faq"]
    assert isinstance(svc, FaqService)
    changed = await svc._changed("join-the-group", "any", "console:ana")
    room = Room("matrix:!r:example.org", "matrix", "r")
    cases: list[tuple[str | None, str]] = [
        (None, "`join-the-group` was changed by another organiser at the same time"),
        ("de", "Der Eintrag `join-the-group` wurde von jemand anderem aus dem Organisationsteam"),
    ]
    for reader_lang, phrase in cases:
        discord, matrix = _platform_renders(
            Outgoing(room, Reply.of(changed.message), Reader(lang=reader_lang))
        )
        assert discord.startswith(phrase), discord
        assert "`!faq show join-the-group` " in discord and "\\" not in discord, discord
        assert "<code>join-the-group</code>" in matrix and "`" not in matrix, matrix
        assert "<code>!faq show join-the-group</code>" in matrix
