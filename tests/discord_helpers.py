"""A real bot with the Discord adapter, run against the fake Discord, and a test module."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Annotated, Literal

from adapters.discord import DiscordAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config, parse_config
from chatbot.base.i18n import verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import Integer
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import Button, Form, FormField, Member, Mention, Plain, Reply
from chatbot.runtime.bot import Bot
from chatbot.time.zones import Zone
from commands import basics, members
from tests.discord_fake import FakeDiscord, Guild

TOKEN_ENV = "WMLIB_TEST_DISCORD_TOKEN"
#: seconds for the bot to become ready, and to stop
START_TIMEOUT = 10.0
ORGANISER_ROLE = "Organisers"

CONFIG = """
[bot]
database = "{url}"
adapters = ["discord"]

[ratelimit]
member_rate = 1.0
member_burst = 1000
room_rate = 1.0
room_burst = 1000

[adapters.discord]
token_env = "{token_env}"
guild_ids = [{guild_ids}]
organiser_roles = ["{role}"]
api_base_url = "{api}"
gateway_url = "{gateway}"
guild_ready_timeout = 0.05
defer_after = {defer_after}
"""


def discord_config(
    url: str,
    fake: FakeDiscord,
    *,
    defer_after: float = 2.0,
    shards: int | None = None,
    scheduled_events: bool = False,
    guild_ids: list[int] | None = None,
) -> Config:
    """The test bot's config; ``guild_ids`` defaults to the fake's main guild."""
    assert fake.guild is not None
    extra = "" if shards is None else f"shards = {shards}\n"
    if scheduled_events:
        extra += "scheduled_events = true\n"
    text = CONFIG.format(
        url=url,
        token_env=TOKEN_ENV,
        guild_ids=", ".join(
            str(g) for g in (guild_ids if guild_ids is not None else [fake.guild.id])
        ),
        role=ORGANISER_ROLE,
        api=fake.api_base,
        gateway=fake.gateway_url,
        defer_after=defer_after,
    )
    return parse_config(text + extra)


@dataclass
class Gate:
    """Lets a test hold the slow command until it has seen the deferral."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)


SURVEY = Form(
    id="survey",
    title=verbatim("Community survey"),
    fields=tuple(
        FormField(f"q{i}", verbatim("Question {i}", i=str(i)), required=i < 3) for i in range(1, 8)
    ),
    command="survey-done",
)


def make_test_module(gate: Gate) -> Module:
    """Commands exercising organiser checks, slowness, options, buttons and forms."""
    module = Module("discordtest", "Commands for the Discord adapter tests.")

    @module.command(help="Organiser tools.", level=Level.ORGANISER)
    async def organise(ctx: Context) -> Reply:
        return Reply.of(verbatim("Organiser tools unlocked."))

    @module.command(help="Takes its time.", private=True)
    async def slow(ctx: Context) -> Reply:
        gate.entered.set()
        await gate.opened.wait()
        return Reply.of(verbatim("Finally done."))

    @module.command(help="Takes its time, then answers only you.")
    async def slowsecret(ctx: Context) -> Reply:
        gate.entered.set()
        await gate.opened.wait()
        return Reply.of(verbatim("Only for you."), private=True)

    @module.command(help="Say something back.", params={"text": "what to say"})
    async def echo(ctx: Context, text: str) -> Reply:
        return Reply.of(verbatim("You said: {text}", text=Plain(text)))

    @module.command(help="Greet a member.", params={"who": "the member to greet"})
    async def greet(ctx: Context, who: Member) -> Reply:
        return Reply.of(verbatim("Hello {who}!", who=Mention(who)))

    @module.command(help="Count up to a number, in a colour.")
    async def count(
        ctx: Context,
        n: Annotated[int, Integer(label="n", minimum=1, maximum=10)],
        colour: Literal["red", "green"] = "red",
    ) -> Reply:
        return Reply.of(
            verbatim(
                "{numbers} ({colour})",
                numbers=", ".join(str(i) for i in range(1, n + 1)),
                colour=colour,
            )
        )

    @module.command(help="Where a time zone is.")
    async def where(ctx: Context, zone: Zone) -> Reply:
        return Reply.of(verbatim("That is {zone}.", zone=zone.key))

    @module.command(help="A menu of buttons.")
    async def menu(ctx: Context) -> Reply:
        return Reply.of(
            verbatim("Pick one:"),
            buttons=(
                Button(verbatim("Ping"), "ping", "primary"),
                Button(verbatim("Echo"), "echo hello there"),
            ),
        )

    @module.command(help="Answer the community survey.")
    async def survey(ctx: Context) -> Reply:
        return Reply.of(verbatim("Please fill in the survey."), form=SURVEY)

    @module.command(name="survey-done", help="Receives the survey.", hidden=True)
    async def survey_done(ctx: Context) -> Reply:
        values = ctx.incoming.form_values or {}
        listed = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
        return Reply.of(verbatim("Thanks! {listed}", listed=Plain(listed)))

    return module


@dataclass
class RunningBot:
    bot: Bot
    adapter: DiscordAdapter


StartBot = Callable[..., AbstractAsyncContextManager[RunningBot]]
"""The ``start_bot`` fixture (see :mod:`tests.discord_fixtures`)."""


def main_guild(fake: FakeDiscord) -> Guild:
    assert fake.guild is not None
    return fake.guild


@contextlib.asynccontextmanager
async def running_bot(
    config: Config, clock: FakeClock, gate: Gate, *, modules: list[Module] | None = None
) -> AsyncIterator[RunningBot]:
    """Start a Bot with the Discord adapter, wait until it is ready, stop it on exit."""
    timeout = START_TIMEOUT
    adapter = DiscordAdapter(config)
    bot = Bot(
        config,
        clock=clock,
        adapters=[adapter],
        modules=modules or [basics.module, members.module, make_test_module(gate)],
    )
    task = asyncio.create_task(bot.run(), name="bot")
    ready = asyncio.create_task(bot.ready.wait(), name="bot-ready")
    done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when="FIRST_COMPLETED")
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        task.cancel()
        raise TimeoutError(f"the bot was not ready after {timeout}s")
    try:
        yield RunningBot(bot, adapter)
    finally:
        gate.opened.set()
        bot.stop()
        await asyncio.wait_for(task, timeout)
