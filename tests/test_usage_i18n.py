"""Usage lines, argument errors and examples in the member's language: the parameters are
named in their words (``!rsvp <número> <respuesta>``), the example in an error is one to type
(prefix and code span), and an example shown in their words is one the bot takes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatbot.base.clock import FakeClock
from chatbot.base.i18n import Msg
from chatbot.dispatch.registry import Command, Module
from chatbot.messages.localise import text_in
from commands import announce, basics, members
from commands import meetings as meetings_module
from tests.harness import ConsoleChat, open_chat
from tests.test_faq_commands import MODULES as FAQ_MODULES

LANGS = ("es", "fr", "pt", "de")


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(
        sqlite_url, clock, modules=[basics.module, members.module, meetings_module.module]
    )
    try:
        yield chat
    finally:
        await chat.bot.close()


#: per language: ``!help tz set``'s usage line and parameter line, ``!tz set``'s error and
#: usage, ``!rsvp``'s error and usage
EXPECTED = {
    "es": (
        "`!tz set <zona>…`: Elige tu zona horaria",
        "\n  `zona`: una ciudad (Lagos)",
        "Falta `zona`: una ciudad (Lagos), un nombre de zona (Europe/Paris) o un desfase "
        "(UTC+5:30). Por ejemplo: `!tz set Lagos`\nUso: `!tz set <zona>…` (más: `!help tz set`)",
        "Falta `número`: la reunión. Por ejemplo: `!rsvp 3 sí`\n"
        "Uso: `!rsvp <número> <respuesta>` (más: `!help rsvp`)",
    ),
    "fr": (
        "`!tz set <fuseau>…` : Choisissez votre fuseau horaire",
        "\n  `fuseau` : une ville (Lagos)",
        "Il manque `fuseau` : une ville (Lagos), un nom de fuseau (Europe/Paris) ou un décalage "
        "(UTC+5:30). Par exemple : `!tz set Lagos`\n"
        "Utilisation : `!tz set <fuseau>…` (plus : `!help tz set`)",
        "Il manque `numéro` : la réunion. Par exemple : `!rsvp 3 oui`\n"
        "Utilisation : `!rsvp <numéro> <réponse>` (plus : `!help rsvp`)",
    ),
    "pt": (
        "`!tz set <fuso>…`: ",
        "\n  `fuso`: uma cidade (Lagos)",
        "Falta `fuso`: uma cidade (Lagos), um nome de fuso (Europe/Paris) ou uma diferença "
        "(UTC+5:30). Por exemplo: `!tz set Lagos`\nUso: `!tz set <fuso>…` (mais: `!help tz set`)",
        "Falta `número`: a reunião. Por exemplo: `!rsvp 3 sim`\n"
        "Uso: `!rsvp <número> <resposta>` (mais: `!help rsvp`)",
    ),
    "de": (
        "`!tz set <Zeitzone>…`: Leg deine Zeitzone fest",
        "\n  `Zeitzone`: eine Stadt (Lagos)",
        "`Zeitzone` fehlt: eine Stadt (Lagos), ein Zonenname (Europe/Paris) oder ein Versatz "
        "(UTC+5:30). Zum Beispiel: `!tz set Lagos`\n"
        "Verwendung: `!tz set <Zeitzone>…` (mehr: `!help tz set`)",
        "`Nummer` fehlt: das Treffen. Zum Beispiel: `!rsvp 3 ja`\n"
        "Verwendung: `!rsvp <Nummer> <Antwort>` (mehr: `!help rsvp`)",
    ),
}


def example_in(error: str) -> str:
    """The example that ends an error's first line (its last code span)."""
    spans: list[str] = re.findall(r"`([^`]*)`", error.split("\n")[0])
    return spans[-1]


@pytest.mark.parametrize("lang", LANGS)
async def test_usage_and_missing_arguments_in_the_members_words(
    chat: ConsoleChat, lang: str
) -> None:
    """``!help tz set`` and a missing argument name the parameter in the member's language
    and end with an example to type, which the bot then takes."""
    usage, param, no_zone, no_number = EXPECTED[lang]
    await chat.say(f"!lang {lang}")
    shown = await chat.say("!help tz set")
    assert shown.startswith(usage) and param in shown, shown
    assert "<zone>" not in shown and "`zone`" not in shown
    assert await chat.say("!tz set") == no_zone
    assert await chat.say("!rsvp") == no_number
    # the examples shown work as typed
    assert "Africa/Lagos" in await chat.say(example_in(no_zone))
    await chat.say('!meeting add "Open call" 2026-12-30 15:00 UTC', as_="ana", room="#general")
    await chat.say("!meeting confirm 1")
    await chat.say('!meeting add "Call 2" 2026-12-31 15:00 UTC')
    await chat.say("!meeting confirm 2")
    await chat.say('!meeting add "Call 3" 2027-01-06 15:00 UTC')
    await chat.say("!meeting confirm 3")
    await chat.say(f"!lang {lang}", as_="zoe")
    said_yes = await chat.say(example_in(no_number), as_="zoe")
    await chat.say("!lang en", as_="zoe")
    assert (await chat.say("!meeting 3", as_="zoe")).count("Going (1): ") == 1, said_yes


async def test_english_is_unchanged(chat: ConsoleChat) -> None:
    """English readers see the parameters' own names; the example in an error is now a code
    span with the prefix, as in ``!help``."""
    shown = await chat.say("!help tz set")
    assert shown.startswith("`!tz set <zone>…`: Set your time zone")
    assert "\n  `zone`: a city (Lagos)" in shown
    assert await chat.say("!tz set") == (
        "The zone is missing: a city (Lagos), a zone name (Europe/Paris) or an offset "
        "(UTC+5:30). For example: `!tz set Lagos`\nUsage: `!tz set <zone>…` (more: "
        "`!help tz set`)"
    )
    assert await chat.say("!rsvp") == (
        "The number is missing: the meeting. For example: `!rsvp 3 yes`\n"
        "Usage: `!rsvp <number> <answer>` (more: `!help rsvp`)"
    )
    assert "Examples: `!rsvp 3 yes`, `!rsvp 3 maybe`, `!rsvp 3 no`" in await chat.say("!help rsvp")


@pytest.mark.parametrize("lang", LANGS)
async def test_help_shows_examples_in_the_members_words(chat: ConsoleChat, lang: str) -> None:
    words = {
        "es": ("`!rsvp 3 sí`, `!rsvp 3 quizás`, `!rsvp 3 no`", "`!when viernes 18h CET`"),
        "fr": ("`!rsvp 3 oui`, `!rsvp 3 peut-être`, `!rsvp 3 non`", "`!when vendredi 18h CET`"),
        "pt": ("`!rsvp 3 sim`, `!rsvp 3 talvez`, `!rsvp 3 não`", "`!when sexta-feira 18h CET`"),
        "de": ("`!rsvp 3 ja`, `!rsvp 3 vielleicht`, `!rsvp 3 nein`", "`!when Freitag 18 Uhr CET`"),
    }
    rsvp, when = words[lang]
    await chat.say(f"!lang {lang}")
    assert rsvp in await chat.say("!help rsvp")
    assert when in await chat.say("!help when")


# -- every example shown in a member's words is one the bot takes ---------------------------

ALL_MODULES = [*FAQ_MODULES, announce.module, meetings_module.module]
#: run before each example, so that ``!rsvp 3`` and ``!meeting 3`` name a meeting
SETUP = [
    *[
        line
        for n, day in enumerate(("2026-12-30", "2026-12-31", "2027-01-06"), start=1)
        for line in (f'!meeting add "Call {n}" {day} 15:00 UTC', f"!meeting confirm {n}")
    ],
]


def translated_examples(lang: str) -> list[tuple[Command, Msg, str, str]]:
    """(command, example, the English example, the example as ``lang``'s readers see it) of
    each example that reads differently in ``lang``."""
    from chatbot.dispatch.registry import Registry

    registry = Registry()
    for module in {id(m): m for m in ALL_MODULES}.values():
        registry.add_module(module)
    found = []
    for command in registry.all_commands():
        for example in command.examples:
            if isinstance(example, Msg) and (shown := text_in(example, lang)) != (
                english := text_in(example, "en")
            ):
                found.append((command, example, english, shown))
    return found


async def organiser_chat(url: str, clock: FakeClock, lang: str) -> ConsoleChat:
    """A fresh bot, an organiser reading ``lang``, three meetings."""
    chat = await open_chat(url, clock, modules=ALL_MODULES)
    await chat.say(f"!lang {lang}", as_="ana", room="#general")
    for setup in SETUP:
        await chat.say(setup)
    return chat


@pytest.mark.parametrize("lang", LANGS)
async def test_every_example_in_the_members_words_is_one_the_bot_takes(
    tmp_path: Path, clock: FakeClock, lang: str
) -> None:
    """Typed as shown, each example that ``!help`` gives in the reader's words (``!rsvp 3
    sí``, ``!when viernes 18h CET``, ``!meeting add "Reunión abierta APAC" viernes 09:00 …``)
    gets the same reply as its English form: two fresh bots, one given the English examples
    and the other the translated ones in the same order, answer alike (the same meeting, the
    same time, no usage error)."""
    examples = translated_examples(lang)
    assert len(examples) >= 10, examples
    english_chat = await organiser_chat(f"sqlite:///{tmp_path}/en.db", clock, lang)
    their_chat = await organiser_chat(f"sqlite:///{tmp_path}/{lang}.db", clock, lang)
    try:
        for command, example, english, shown in examples:
            replies = [await english_chat.say(f"!{english}"), await their_chat.say(f"!{shown}")]
            usage = text_in(command.usage("!"), lang)
            assert usage not in replies[0], (english, replies[0])
            # what the member typed comes back quoted (a date phrase, a title): read both
            # replies with the example's words in English
            words = [(text_in(v, lang), text_in(v, "en")) for _k, v in example.args]
            assert same_but_quoted(replies[1], replies[0], words), (shown, replies)
    finally:
        await english_chat.bot.close()
        await their_chat.bot.close()


def same_but_quoted(reply: str, english_reply: str, words: list[tuple[str, str]]) -> bool:
    """Whether two replies are the same once each of the example's words (as typed in the
    member's language) is read as its English form in both."""
    for theirs, ours in words:
        reply = reply.replace(theirs, ours)
        english_reply = english_reply.replace(theirs, ours)
    return reply == english_reply


@pytest.mark.parametrize("lang", LANGS)
def test_every_parameter_of_the_shipped_commands_is_named_in_the_catalog(lang: str) -> None:
    """The catalogs name every parameter members see in a usage line: the extractor found
    them in the signatures, and each has a translation."""
    from babel.messages.pofile import read_po

    from chatbot.base.i18n import PARAM_CONTEXT
    from chatbot.messages.catalogs import po_path
    from commands import casestudies

    with po_path(lang).open("rb") as fp:
        cat = read_po(fp)
    modules = {id(m): m for m in [*ALL_MODULES, casestudies.module]}.values()
    params = {p.name for m in modules for c in _commands(m) for p in c.params}
    assert {"number", "zone", "title", "answer"} <= params
    for name in params:
        entry = cat.get(name.replace("_", " "), PARAM_CONTEXT)
        assert entry is not None and entry.string and not entry.fuzzy, (lang, name)


def _commands(module: Module) -> list[Command]:
    from chatbot.dispatch.registry import Group

    found: list[Command] = []
    for item in module.commands.values():
        found += item.commands() if isinstance(item, Group) else [item]
    return found


def test_the_extractor_reads_parameters_from_signatures() -> None:
    """Each parameter after ``ctx`` of a function declared with ``@….command``, its
    underscores as spaces; not one the decorator names otherwise, nor a plain function's."""
    import ast

    from chatbot.messages.extract_params import parameter_names

    source = """
@tz.command(help=_("x"), names={"zone": _p("c", "city")})
async def set(ctx, zone, time_zone_hint="", *, when=None): ...

async def helper(ctx, number): ...

@module.on_startup
async def start(bot, other): ...
"""
    names = [name for _line, name in parameter_names(ast.parse(source))]
    assert names == ["time zone hint", "when"]


# -- what a member fills in, in the reader's words ------------------------------------------

#: ``<…>`` placeholders spelt the same in English and in the language (French ``<date>``)
SAME_WORD = {"es": set(), "fr": {"<date>", "<question>", "<code>"}, "pt": set(), "de": set()}
_FILL_IN = re.compile(r"<[^<>{}`\s][^<>{}`]{0,30}>")


@pytest.mark.parametrize("lang", LANGS)
def test_no_english_fill_in_placeholder_is_left_in_a_translation(lang: str) -> None:
    """What a member fills in (``--at <when>``, ``--occurrence <date>``, ``<city>``) is
    named in the reader's words in every message of every catalog; ``<id>`` stays."""
    from babel.messages.pofile import read_po

    from chatbot.messages.catalogs import po_path

    with po_path(lang).open("rb") as fp:
        cat = read_po(fp)
    left = []
    for entry in cat:
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        english = set(_FILL_IN.findall(" ".join(str(i) for i in ids)))
        for text in (str(t) for t in strings if t):
            kept = (set(_FILL_IN.findall(text)) & english) - {"<id>"} - SAME_WORD[lang]
            left += [(ph, text) for ph in kept]
    assert left == []


#: per language: ``!help announce``'s ``--at``, ``!help meeting cancel``'s ``--occurrence``,
#: ``!help announce rooms``' action words (English, to type, as code), ``!meeting edit``'s
#: refusal of a field named in the reader's words (the fields to type, as code)
FILL_INS = {
    "es": (
        "(añade `--at <cuándo>` para programarlo)",
        "`fecha` (opcional): `--occurrence <fecha>` para una fecha",
        "`acción` (opcional): `list`, `add` o `remove`",
        "no es una de estas opciones: `title`, `when`, `link`, `duration`.",
    ),
    "fr": (
        "(ajoutez `--at <quand>` pour la programmer)",
        "`date` (facultatif) : `--occurrence <date>` pour une date",
        "`action` (facultatif) : `list`, `add` ou `remove`",
        "`title`, `when`, `link`, `duration`.",
    ),
    "pt": (
        "(adicione `--at <quando>` para agendá-lo)",
        "`data` (opcional): `--occurrence <data>` para uma data",
        "`ação` (opcional): `list`, `add` ou `remove`",
        "`title`, `when`, `link`, `duration`.",
    ),
    "de": (
        "(mit `--at <Zeitpunkt>` planst du sie)",
        "`Termin` (optional): `--occurrence <Datum>` für einen Termin",
        "`Aktion` (optional): `list`, `add` oder `remove`",
        "„wann“ ist keine dieser Möglichkeiten: `title`, `when`, `link`, `duration`.",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
async def test_help_names_what_to_fill_in_in_the_readers_words(
    sqlite_url: str, clock: FakeClock, lang: str
) -> None:
    at, occurrence, action, field = FILL_INS[lang]
    chat = await open_chat(sqlite_url, clock, modules=ALL_MODULES)
    try:
        await chat.say(f"!lang {lang}", as_="ana")
        shown = await chat.say("!help announce")
        assert at in shown and "<when>" not in shown, shown
        assert occurrence in await chat.say("!help meeting cancel")
        assert action in await chat.say("!help announce rooms")
        await chat.say(SETUP[0])
        assert field in await chat.say("!meeting edit 1 wann 16:00")
        await chat.say("!lang en")
        assert "(add `--at <when>` to schedule it)" in await chat.say("!help announce")
        assert "`action` (optional): `list`, `add` or `remove`" in await chat.say(
            "!help announce rooms"
        )
    finally:
        await chat.bot.close()
