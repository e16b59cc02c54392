"""One member on two platforms (``!link``): codes, shared settings and data, unlinking,
forgetting, and two instances racing on PostgreSQL.

The two platforms here are two console adapters in one bot (the second one calls itself
``side``): the linking is the core's and the members module's, the same whatever the
platform. tests/test_member_links_platforms.py does it across Matrix (Synapse) and Discord.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.console import ConsoleAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.scheduler import scheduler_of
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Member, Room
from chatbot.runtime.bot import Bot
from chatbot.storage.links import CODES_PER_WINDOW, WRONG_PER_WINDOW
from chatbot.storage.models import LinkCodeRow, MemberLinkRow
from commands import basics, casestudies, meetings, members
from commands.casestudies import desk_store
from commands.casestudies.desk_store import DeskLinkRow
from tests.harness import BASE_CONFIG, ConsoleChat

CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


class SideConsole(ConsoleAdapter):
    """A second console standing for a second platform."""

    platform = "side"


class TwoPlatforms:
    def __init__(self, bot: Bot, main: ConsoleChat, side: ConsoleChat) -> None:
        self.bot = bot
        self.main = main
        self.side = side

    async def code(self, who: str = "alice") -> str:
        said = await self.main.say("!link", as_=who)
        found = CODE.search(said)
        assert found, said
        assert "[DM to" in said or "DM" in said  # the code goes by direct message
        return found.group(1)

    async def link(self, who: str = "alice") -> str:
        code = await self.code(who)
        return await self.side.say(f"!link {code}", as_=who)


async def open_two(url: str, clock: FakeClock, modules: list[Module] | None = None) -> TwoPlatforms:
    config = parse_config(BASE_CONFIG.format(url=url))
    out_main, out_side = io.StringIO(), io.StringIO()
    main = ConsoleAdapter(config, stdin=io.StringIO(""), stdout=out_main)
    side = SideConsole(config, stdin=io.StringIO(""), stdout=out_side)
    bot = Bot(
        config,
        clock=clock,
        adapters=[main, side],
        modules=modules or [basics.module, members.module],
    )
    await bot.open()
    return TwoPlatforms(bot, ConsoleChat(bot, main, out_main), ConsoleChat(bot, side, out_side))


@pytest.fixture
async def two(db_url: str, clock: FakeClock) -> AsyncIterator[TwoPlatforms]:
    chats = await open_two(db_url, clock)
    try:
        yield chats
    finally:
        await chats.bot.close()


async def test_linked_accounts_share_their_settings(two: TwoPlatforms) -> None:
    said = await two.link()
    assert "are now one member" in said
    assert "Europe" not in said  # nothing to choose: neither had settings
    await two.side.say("!tz set Lima", as_="alice")
    assert "America/Lima" in await two.main.say("!tz", as_="alice")
    await two.main.say("!lang es", as_="alice")
    assert "español" in await two.side.say("!lang", as_="alice")
    # somebody else on the side platform is still somebody else
    assert "haven't set a time zone" in await two.side.say("!tz", as_="bob")


async def test_a_room_post_reads_the_members_zone_whichever_account_is_in_the_room(
    two: TwoPlatforms,
) -> None:
    """A post a whole room reads (Matrix lists its members' zones) finds a linked member's
    zone from either account, not the joining account's own row from before the link."""
    await two.side.say("!tz set Tokyo", as_="alice")  # the side account's own, before linking
    await two.link()
    await two.main.say("!tz set Lima", as_="alice")
    zones = await two.bot.members.zones(["side:alice", "console:alice", "side:bob"])
    assert zones == {
        "side:alice": "America/Lima",
        "console:alice": "America/Lima",
        "side:bob": None,
    }


async def test_a_wrong_expired_or_reused_code_is_refused_alike(
    two: TwoPlatforms, clock: FakeClock
) -> None:
    wrong = await two.side.say("!link ABCD-EFGH", as_="alice")
    assert "That code doesn't work" in wrong
    code = await two.code()
    clock.advance(timedelta(minutes=11))
    expired = await two.side.say(f"!link {code}", as_="alice")
    assert expired == wrong  # says nothing about which accounts exist
    code = await two.code()
    assert "are now one member" in await two.side.say(f"!link {code}", as_="alice")
    reused = await two.side.say(f"!link {code}", as_="carol")
    assert reused.replace("carol", "alice") == wrong.replace("carol", "alice")
    assert "haven't set" in await two.side.say("!tz", as_="carol")  # carol linked nothing


async def test_codes_are_stored_hashed_and_rate_limited(two: TwoPlatforms) -> None:
    codes = [await two.code() for _ in range(CODES_PER_WINDOW)]
    more = await two.main.say("!link", as_="alice")
    assert "a lot of link codes" in more and not CODE.search(more)
    async with two.bot.db.sessions() as session:
        stored = (await session.scalars(select(LinkCodeRow.code_hash))).all()
    assert len(stored) == CODES_PER_WINDOW
    assert not any(
        code in hashed or code.replace("-", "") in hashed for code in codes for hashed in stored
    )
    for n in range(WRONG_PER_WINDOW):
        await two.side.say(f"!link ZZZZ-ZZ{n:02d}", as_="mallory")
    # after too many wrong codes even a right one is refused for a while
    blocked = await two.side.say(f"!link {codes[0]}", as_="mallory")
    assert "a lot of link codes" in blocked


async def test_a_code_is_for_the_other_platform(two: TwoPlatforms) -> None:
    code = await two.code()
    assert "this very account" in await two.main.say(f"!link {code}", as_="alice")
    # another account on the same platform cannot take the member's platform slot
    said = await two.main.say(f"!link {code}", as_="bob")
    assert "already have an account on this platform" in said


async def test_both_accounts_with_settings_choose_per_setting(two: TwoPlatforms) -> None:
    await two.main.say("!tz set Paris", as_="alice")
    await two.side.say("!tz set Lima", as_="alice")
    await two.side.say("!lang id", as_="alice")  # dates only: the messages stay English
    said = await two.link()
    assert "Europe/Paris" in said and "America/Lima" in said
    assert "link keep" in said
    # only the side account had a language: adopted without asking
    assert "language:" not in said.split("now one member")[1]
    assert "Europe/Paris" in await two.side.say("!tz", as_="alice")  # kept for now
    chosen = await two.side.say("!link keep 2", as_="alice")
    assert "America/Lima" in chosen
    assert "America/Lima" in await two.main.say("!tz", as_="alice")


async def test_unlink_separates_and_keeps_a_copy(two: TwoPlatforms) -> None:
    await two.link()
    await two.side.say("!tz set Manila", as_="alice")
    said = await two.side.say("!unlink", as_="alice")
    assert "on its own again" in said
    await two.main.say("!tz set Lagos", as_="alice")
    assert "Asia/Manila" in await two.side.say("!tz", as_="alice")
    assert "Africa/Lagos" in await two.main.say("!tz", as_="alice")
    assert "isn't linked" in await two.side.say("!unlink", as_="alice")


async def _deliver(two: TwoPlatforms) -> tuple[list[str], list[str]]:
    """Run the due jobs and the outbox; the lines each console printed."""
    scheduler, outbox = scheduler_of(two.bot), outbox_of(two.bot)
    for out in (two.main.out, two.side.out):
        out.seek(0)
        out.truncate()
    while await scheduler.run_once():
        pass
    while await outbox.run_once():
        pass
    return two.main.out.getvalue().splitlines(), two.side.out.getvalue().splitlines()


async def test_one_reminder_where_the_member_is_and_after_unlink_where_the_key_is(
    db_url: str, clock: FakeClock
) -> None:
    two = await open_two(db_url, clock, [basics.module, members.module, meetings.module])
    try:
        said = await two.main.say('!meeting add "Call" 2026-11-27 15:00 UTC', as_="ana")
        assert "not saved yet" in said
        assert "is saved" in await two.main.say("!meeting confirm 1", as_="ana")
        await two.link()
        clock.advance(timedelta(minutes=1))  # alice speaks on the side platform last
        assert "I'll DM you" in await two.side.say("!remind me on 1d,1h", as_="alice")
        said = await two.side.say("!remind via matrix", as_="alice")
        assert "`!remind via console`, `!remind via side`, or `!remind via auto`" in said
        clock.set(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
        main, side = await _deliver(two)
        assert [line for line in side if line.startswith("[DM to alice]")] == [
            "[DM to alice] Reminder: Call starts in 1 day, Fri 27 Nov, 15:00 (UTC)."
        ]
        assert not [line for line in main if line.startswith("[DM to alice]")]
        # apart again: the reminders stay with the account that asked for the code
        assert "on its own again" in await two.side.say("!unlink", as_="alice")
        clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))
        main, side = await _deliver(two)
        assert [line for line in main if line.startswith("[DM to alice]")] == [
            "[DM to alice] Reminder: Call starts in 1 hour, Fri 27 Nov, 15:00 (UTC)."
        ]
        assert not [line for line in side if line.startswith("[DM to")]
        said = await two.side.say("!remind via console", as_="alice")
        assert "You have no Console account linked to this one" in said
    finally:
        await two.bot.close()


async def test_mydata_and_forgetme_cover_both_accounts(two: TwoPlatforms) -> None:
    await two.link()
    await two.side.say("!tz set Lima", as_="alice")
    data = await two.side.say("!mydata", as_="alice")
    assert '"linked_accounts"' in data and "side:alice" in data and "console:alice" in data
    await two.side.say("!forgetme confirm", as_="alice")
    assert "haven't set a time zone" in await two.main.say("!tz", as_="alice")
    assert "haven't set a time zone" in await two.side.say("!tz", as_="alice")
    async with two.bot.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MemberLinkRow)) == 0


async def test_forgetme_ends_review_desk_links_asked_from_either_account(
    db_url: str, clock: FakeClock
) -> None:
    two = await open_two(db_url, clock, [basics.module, members.module, casestudies.module])
    try:
        await two.link("olga")
        side = Member("side:olga", "side", "olga", person="console:olga")
        await desk_store.new_link(two.bot.db, side, Room("side:dm", "side", "DM"), clock.now())
        await two.main.say("!forgetme confirm", as_="olga")
        async with two.bot.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(DeskLinkRow)) == 0
    finally:
        await two.bot.close()


async def test_two_instances_never_link_one_account_to_two_members(
    postgres_url: str, clock: FakeClock
) -> None:
    """Alice and Bob each ask for a code on the main platform; Mallory's side account types
    both at the same instant, through two instances sharing one PostgreSQL database."""
    first = await open_two(postgres_url, clock)
    second = await open_two(postgres_url, clock)
    try:
        for round_ in range(5):
            a, b = f"alice{round_}", f"bob{round_}"
            code_a, code_b = await first.code(a), await first.code(b)
            said = await asyncio.gather(
                first.side.say(f"!link {code_a}", as_=f"mallory{round_}"),
                second.side.say(f"!link {code_b}", as_=f"mallory{round_}"),
            )
            assert sum("are now one member" in s for s in said) == 1, said
            async with first.bot.db.sessions() as session:
                people = (
                    await session.scalars(
                        select(MemberLinkRow.person_id).where(
                            MemberLinkRow.account_id == f"side:mallory{round_}"
                        )
                    )
                ).all()
            assert len(people) == 1
    finally:
        await first.bot.close()
        await second.bot.close()
