"""The core's replies in Spanish, French, Portuguese and German: a member's console walk
(``!lang``, ``!help`` and its translated name, ``!tz set ciudad de méxico``, ``!when`` with
a date phrase in their language, the setup dialogue naming a step in their language), the
translated command names clashing with nothing, and messages kept untranslated in the outbox
until they are sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatbot.base.i18n import _, _n
from chatbot.delivery.outbox_payload import decode_payload, encode_payload
from chatbot.dispatch.registry import Registry
from chatbot.messages.events import Button, Plain, Reader, Reply, When
from chatbot.runtime.plugins import COMMANDS, available, load_modules
from tests.harness import ConsoleChat

#: lang, help's name there, what the help overview starts with, the date phrase, what
#: ``!tz set`` and ``!when`` answer, the time zone step's title there
LANGUAGES = [
    (
        "es",
        "ayuda",
        "Esto es lo que puedo hacer.",
        "mañana 18:00",
        "Listo: tu zona horaria es America/Mexico_City",
        "mañana 18:00 es jue, 26 nov, 18:00 (Mexico City) para ti (00:00 UTC).",
        "zona horaria",
        "¿Dónde estás?",
    ),
    (
        "fr",
        "aide",
        "Voici ce que je sais faire.",
        "demain 18:00",
        "C'est fait : votre fuseau horaire est America/Mexico_City",
        "demain 18:00, c'est jeu. 26 nov., 18:00 (Mexico City) pour vous (00:00 UTC).",
        "fuseau horaire",
        "Où êtes-vous ?",
    ),
    (
        "pt",
        "ajuda",
        "Veja o que eu sei fazer.",
        "amanhã 18:00",
        "Pronto: seu fuso horário é America/Mexico_City",
        "amanhã 18:00 é qui., 26 de nov. 18:00 (Mexico City) para você (00:00 UTC).",
        "Fuso Horário",
        "Onde você está?",
    ),
    (
        "de",
        "hilfe",
        "Das kann ich.",
        "morgen 18:00",
        "Erledigt: Deine Zeitzone ist America/Mexico_City",
        "morgen 18:00 ist für dich Do., 26. Nov., 18:00 (Mexico City) (00:00 UTC).",
        "zeitzone",
        "Wo bist du?",
    ),
]


@pytest.mark.parametrize(
    ("lang", "help_name", "overview", "phrase", "tz_done", "when_said", "step", "question"),
    LANGUAGES,
)
async def test_console_walk_in_the_members_language(
    chat: ConsoleChat,
    lang: str,
    help_name: str,
    overview: str,
    phrase: str,
    tz_done: str,
    when_said: str,
    step: str,
    question: str,
) -> None:
    await chat.say(f"!lang {lang}")
    listing = await chat.say("!help")
    assert listing.startswith(overview)
    assert "`!tz`" in listing  # command names stay English in the listing
    assert await chat.say(f"!{help_name}") == listing
    assert (await chat.say("!tz set ciudad de méxico")).startswith(tz_done)
    assert await chat.say(f"!when {phrase}") == when_said
    # the setup dialogue: a step named by its title in the member's language
    assert question in await chat.say("!setup")
    await chat.say("lagos")
    review = await chat.say("skip")
    # the keyword to confirm is the member's own word, one the dialogue accepts
    yes = {"es": "`sí`", "fr": "`oui`", "pt": "`sim`", "de": "`ja`"}[lang]
    assert "Africa/Lagos" in review and yes in review and "`yes`" not in review
    again = await chat.say(step)
    assert again.startswith("1/2 ") and question in again and "Africa/Lagos" in again
    await chat.say("cancel")


async def test_spanish_errors_and_usage(chat: ConsoleChat) -> None:
    await chat.say("!lang es")
    assert await chat.say("!foo") == (
        "No conozco el comando !foo. ¿Quisiste decir `!fuso`? "
        "Escribe `!help` para ver lo que puedo hacer."
    )
    missing = await chat.say("!tz set")
    assert missing.startswith("Falta `zona`: una ciudad (Lagos)")
    assert "Por ejemplo: `!tz set Lagos`" in missing
    assert "Uso: `!tz set <zona>…` (más: `!help tz set`)" in missing
    assert "No esperaba «extra» al final." in await chat.say("!ping extra")
    assert await chat.say("!ping") == "¡Pong! Aquí estoy."
    assert "`comando` (opcional): el nombre de un comando, p. ej., tz" in await chat.say(
        "!ayuda help"
    )
    assert "Esto borra todo lo que guardo sobre ti" in await chat.say("!forgetme")


async def test_translated_names_run_the_same_commands(chat: ConsoleChat) -> None:
    await chat.say("!tz set Lagos")
    shown = await chat.say("!tz")
    for name in ("zona", "fuseau", "fuso", "zeitzone", "timezone"):
        assert await chat.say(f"!{name}") == shown
    said = await chat.say("!when friday 18h")
    for name in ("cuando", "cuándo", "quand", "quando", "wann"):
        assert await chat.say(f"!{name} friday 18h") == said
    assert "Also: `!commands`, `!ayuda`, `!aide`, `!ajuda`, `!hilfe`" in await chat.say(
        "!help help"
    )


def test_translated_names_clash_with_no_module() -> None:
    """Every installed command module loads into one registry (which refuses a name
    taken twice), the translated names included."""
    registry = Registry()
    for module in load_modules(sorted(available(COMMANDS))):
        registry.add_module(module)
    for name in ("ayuda", "aide", "ajuda", "hilfe", "zona", "fuseau", "fuso", "zeitzone"):
        assert name in registry.top


def test_outbox_rows_keep_messages_for_their_reader() -> None:
    """A queued reply is translated when it is sent, for its reader: its messages are stored
    as messages, placeholders (user text, times, counts, nested messages) and all."""
    at = datetime(2026, 11, 25, 12, tzinfo=UTC)
    said = _n(
        "I couldn't post your reminder{number} in {target} ({platform}) after {n} attempt: {error}",
        "I couldn't post your reminder{number} in {target} ({platform}) after {n} attempts: "
        "{error}",
        3,
        number=" #2",
        target=Plain("#general"),
        platform="matrix",
        error=_("Sorry, something broke on my side (ref {ref}). ", ref="x1"),
    )
    reply = Reply.of(said, " ", When(at, "full"), buttons=(Button(_("Pong! I'm here."), "ping"),))
    back, reader = decode_payload(encode_payload(reply, Reader("Europe/Paris", "es")))
    assert back == reply and reader == Reader("Europe/Paris", "es")
    # rows queued before labels could be messages still decode
    old = '{"parts":[["s","hi"]],"buttons":[["Yes","rsvp 1 yes","primary"]]}'
    assert decode_payload(old)[0].buttons[0].label == "Yes"


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [
        ("es", "(máximo 1 día)", "(máximo 366 días)"),
        ("fr", "(au plus 1 jour)", "(au plus 366 jours)"),
        ("pt", "(no máximo 1 dia)", "(no máximo 366 dias)"),
        ("de", "(höchstens 1 Tag)", "(höchstens 366 Tage)"),
    ],
)
def test_counts_take_the_languages_plural_forms(lang: str, one: str, many: str) -> None:
    from chatbot.messages.localise import text_in

    def said(n: int) -> str:
        return text_in(
            _n(
                "That duration is too long (at most {n} day).",
                "That duration is too long (at most {n} days).",
                n,
            ),
            lang,
        )

    assert one in said(1) and many in said(366)


async def test_french_spaces_the_colon_of_labelled_lines(chat: ConsoleChat) -> None:
    """A label and its value are one message, so French writes its space before the colon
    (the glossary's rule: a plain space before : ; ? !) where English writes none."""
    await chat.say("!lang fr")
    group = await chat.say("!aide tz")
    assert group.startswith("!tz : "), group
    command = await chat.say("!aide tz set")
    assert command.startswith("`!tz set <fuseau>…` : Choisissez"), command
    assert "\n  `fuseau` : une ville" in command, command
    await chat.say("!lang en")
    assert (await chat.say("!help tz")).startswith("!tz: ")
