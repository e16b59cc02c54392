"""The command registry: declarations drive parsing, errors and help."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Literal

import pytest
from structlog.testing import capture_logs

from chatbot.base.clock import FakeClock
from chatbot.base.errors import BadArgument
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import Aliases, Integer, YesNoMaybe, split_args
from chatbot.dispatch.registry import Group, Level, Module, Registry
from chatbot.messages.events import Plain, Reply
from chatbot.messages.localise import text_in
from commands import basics, members
from tests.harness import ConsoleChat, open_chat


def data(text: str) -> Reply:
    """What these test commands answer: their arguments echoed, data rather than the bot's
    words (so the run's translation check does not count them)."""
    return Reply.of(Plain(text))


def make_module() -> Module:
    module = Module("demo", "Commands for tests.")

    @module.command(help="Echo text back.", aliases=("say",))
    async def echo(ctx: Context, text: str) -> Reply:
        return data(f"echo: {text}")

    @module.command(help="Add two numbers.")
    async def add(ctx: Context, a: int, b: Annotated[int, Integer(maximum=100)] = 1) -> Reply:
        return data(str(a + b))

    @module.command(help="Pick a colour.")
    async def pick(ctx: Context, colour: Literal["red", "green"], note: str = "") -> Reply:
        return data(f"{colour}|{note}")

    @module.command(help="Pick a size.")
    async def size(
        ctx: Context,
        value: Annotated[Literal["small", "large"], Aliases({"small": ["pequeño", "klein"]})],
    ) -> Reply:
        return data(value)

    @module.command(help="Answer.")
    async def answer(ctx: Context, number: int, said: YesNoMaybe) -> Reply:
        return data(f"{number}:{said}")

    @module.command(help="Wait a while.")
    async def wait(ctx: Context, span: timedelta) -> Reply:
        return data(f"{int(span.total_seconds())}s")

    @module.command(help="Organisers only.", level=Level.ORGANISER)
    async def secret(ctx: Context) -> Reply:
        return data("the secret")

    @module.command(help="Admins only.", level=Level.ADMIN)
    async def shutdown(ctx: Context) -> Reply:
        return data("bye")

    @module.command(help="Always fails.")
    async def crash(ctx: Context) -> Reply:
        raise RuntimeError("database exploded")

    grp = module.group("thing", "Things with subcommands.")

    @grp.command(default=True, help="Show a thing.")
    async def show(ctx: Context, number: int) -> Reply:
        return data(f"thing {number}")

    @grp.command(help="Rename a thing.", aliases=("mv",))
    async def rename(ctx: Context, number: int, title: str) -> Reply:
        return data(f"renamed {number} to {title}")

    @module.command(help="Add an entry.", examples=['entry wikimania "When?" Every summer.'])
    async def entry(ctx: Context, id: str, question: str, answer: str) -> Reply:
        return data(f"{id}|{question}|{answer}")

    bare = module.group("bare", "A group without a default.")

    @bare.command(help="One.")
    async def one(ctx: Context) -> Reply:
        return data("one")

    return module


@pytest.fixture
async def demo(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(
        sqlite_url, clock, modules=[basics.module, members.module, make_module()]
    )
    yield chat
    await chat.bot.close()


async def test_quoted_and_unicode_arguments(demo: ConsoleChat) -> None:
    """Quoted phrases stay whole, in straight or typographic quotes, in any script."""
    assert await demo.say('!thing rename 3 "Édit-a-thon à Lagos"') == (
        "renamed 3 to Édit-a-thon à Lagos"
    )
    assert await demo.say("!thing mv 4 “Wiki Loves Libraries”") == (
        "renamed 4 to Wiki Loves Libraries"
    )
    assert await demo.say("!echo  पुस्तकालय  and   spaces") == "echo: पुस्तकालय  and   spaces"


async def test_unbalanced_quote_is_explained(demo: ConsoleChat) -> None:
    """An unclosed quote gets a reply saying so, not a crash."""
    out = await demo.say('!thing rename 3 "never closed')
    assert "opening quote" in out


async def test_alias_and_default_subcommand(demo: ConsoleChat) -> None:
    """Aliases work, and a group runs its default when no subcommand is named."""
    assert await demo.say("!say hi") == "echo: hi"
    assert await demo.say("!thing 12") == "thing 12"
    assert await demo.say("!THING 12") == "thing 12"


async def test_wrong_argument_gets_usage(demo: ConsoleChat) -> None:
    """A bad argument says what was wrong and shows the usage line."""
    out = await demo.say("!add two 3")
    assert "'two' is not a whole number." in out
    assert "Usage: `!add <a> [b]`" in out
    out = await demo.say("!add 1 500")
    assert "at most 100" in out
    out = await demo.say("!pick blue")
    assert "not one of: `red`, `green`" in out
    assert await demo.say("!pick GREEN later") == "green|later"


async def test_choices_with_aliases(demo: ConsoleChat) -> None:
    """A ``Literal`` with ``Aliases`` takes its options or their aliases (any case, accents
    optional) and gives the option; the usage still lists the options only."""
    assert await demo.say("!size Large") == "large"
    assert await demo.say("!size pequeño") == "small"
    assert await demo.say("!size PEQUENO") == "small"
    assert await demo.say("!size klein") == "small"
    assert "'grande' is not one of: `small`, `large`." in await demo.say("!size grande")
    for word, value in [("sí", "yes"), ("oui", "yes"), ("talvez", "maybe"), ("nein", "no")]:
        assert await demo.say(f"!answer 3 {word}") == f"3:{value}"
    assert await demo.say("!answer 3 tal vez") == "3:maybe"  # several words: rest of the line
    assert await demo.say("!answer 3 a lo mejor") == "3:maybe"


def test_aliases_are_checked_when_declared() -> None:
    module = Module("bad-aliases", "Bad.")
    with pytest.raises(TypeError, match="unknown options"):

        @module.command(help="x")
        async def typo(
            ctx: Context, v: Annotated[Literal["on", "off"], Aliases({"onn": ["an"]})]
        ) -> str:
            return v

    with pytest.raises(TypeError, match="go with a Literal"):

        @module.command(help="x")
        async def not_literal(ctx: Context, v: Annotated[str, Aliases({"a": ["b"]})]) -> str:
            return v


async def test_missing_and_extra_arguments(demo: ConsoleChat) -> None:
    """Missing and unexpected arguments are named."""
    out = await demo.say("!add")
    assert "The a is missing: a number." in out
    assert "(a)" not in out
    out = await demo.say("!thing rename")
    assert "The number is missing: a number." in out
    out = await demo.say("!entry wikimania")
    assert (
        'The question is missing: some text. For example: `!entry wikimania "When?" Every '
        "summer.`\nUsage: `!entry <id> <question> <answer>…`"
    ) in out
    assert "didn't expect '9'" in await demo.say("!add 1 2 9")
    assert await demo.say("!add 5") == "6"


async def test_duration_argument(demo: ConsoleChat) -> None:
    """Durations read the way people write them."""
    assert await demo.say("!wait 1h30m") == "5400s"
    assert await demo.say("!wait 2 days") == "172800s"
    assert "as a duration" in await demo.say("!wait soonish")


async def test_unknown_command_suggests(demo: ConsoleChat) -> None:
    """A typo gets a 'did you mean'."""
    out = await demo.say("!pnig")
    assert "I don't know the command !pnig." in out
    assert "Did you mean `!ping`?" in out
    out = await demo.say("!bare two")
    assert "has no subcommand two" in out
    assert "It has: `one`" in out
    assert "needs a subcommand" in await demo.say("!bare")


async def test_not_a_command_is_ignored(demo: ConsoleChat) -> None:
    """Ordinary chat and exclamations in a room get no reply."""
    assert await demo.say("hello everyone!") == ""
    assert await demo.say("!!!") == ""
    assert await demo.say("! wow") == ""


async def test_permission_levels(demo: ConsoleChat) -> None:
    """Organiser and admin commands are refused to members, allowed by config and platform."""
    assert "Only organisers can use `!secret`" in await demo.say("!secret", as_="bob")
    assert await demo.say("!secret", as_="ana") == "the secret"  # config allow-list
    assert await demo.say("!secret", as_="olga") == "the secret"  # the platform says so
    assert "Only bot admins" in await demo.say("!shutdown", as_="ana")
    assert await demo.say("!shutdown", as_="root") == "bye"


async def test_handler_crash_gives_reference(demo: ConsoleChat) -> None:
    """A bug in a handler gives the member a reference, never a traceback."""
    with capture_logs() as logs:
        out = await demo.say("!crash")
    assert out.startswith("Sorry, something broke on my side (ref ")
    assert "Traceback" not in out and "exploded" not in out
    ref = out.split("(ref ")[1].split(")")[0]
    [entry] = [e for e in logs if e["event"] == "handler_failed"]
    assert entry["ref"] == ref
    assert entry["command"] == "crash"
    assert entry["room"] == "console:#general"
    assert entry["log_level"] == "error" and entry["exc_info"] is True


def test_module_refuses_clashes() -> None:
    """Two modules cannot claim the same command; nothing of the second is added."""
    registry = Registry()
    registry.add_module(make_module())
    other = Module("other", "Clashes.")

    @other.command(help="A new one.")
    async def fresh(ctx: Context) -> str:
        return ""

    @other.command(help="Taken.")
    async def echo(ctx: Context) -> str:
        return ""

    with pytest.raises(ValueError, match="already taken: echo"):
        registry.add_module(other)
    assert "fresh" not in registry.top


def test_declarations_refuse_misuse() -> None:
    """Sync handlers and unparseable annotations are refused when declared."""
    module = Module("bad", "Bad.")
    with pytest.raises(TypeError, match="async"):

        @module.command(help="x")  # type: ignore[arg-type]
        def sync(ctx: Context) -> str:
            return ""

    with pytest.raises(TypeError, match="no converter"):

        @module.command(help="x")
        async def weird(ctx: Context, value: bytes) -> str:
            return ""


def test_split_args_keeps_apostrophes() -> None:
    """An apostrophe inside a word is text, not a quote."""
    assert [t.text for t in split_args("don't 'quoted words' l'école")] == [
        "don't",
        "quoted words",
        "l'école",
    ]
    with pytest.raises(BadArgument):
        split_args("«sans fin")


def test_help_text_lists_group() -> None:
    """A group lists its commands with usage lines."""
    module = make_module()
    group = module.commands["thing"]
    assert isinstance(group, Group)
    assert [text_in(c.usage("!"), "en") for c in group.commands()] == [
        "!thing <number>",
        "!thing rename <number> <title>…",
    ]


async def test_words_that_could_group_two_ways_are_not_half_read(demo: ConsoleChat) -> None:
    """A quoted phrase that lands in the rest of the line means the words before it were
    meant together: nothing is run, and the reply shows the line to type, quoted right."""
    out = await demo.say('!entry bad id "What is it?" An answer.')
    assert "bad|id" not in out
    assert "which words go together" in out
    assert '!entry "bad id" "What is it?" An answer.' in out
    # typographic quotes and apostrophes: the suggested line reads back the same way
    out = await demo.say("!entry it's my id “Q?” A")
    assert '!entry "it\'s my id" "Q?" A' in out
    # the ordinary ways are read as before
    assert await demo.say('!entry wikimania "When is it?" Every "summer".') == (
        'wikimania|When is it?|Every "summer".'
    )
    assert await demo.say('!entry "bad id" "Q?" A') == "bad id|Q?|A"
    # a word from a fixed list before the rest is never in doubt
    assert await demo.say('!pick red "a note in quotes"') == "red|a note in quotes"
