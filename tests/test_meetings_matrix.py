"""Meeting posts and RSVP reactions on the test Synapse (issue 7).

A Matrix room post has no single reader, so its time is listed in every zone the room's
members set, grouped and sorted, then UTC.  Its RSVP buttons become reactions that keep
working after a restart.  Nothing sleeps: each step waits for what Synapse delivers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nio import ReactionEvent, RoomMessageNotice, RoomRedactResponse, RoomSendResponse

from adapters.matrix import Reaction
from adapters.matrix.render import render_content
from chatbot.base.clock import FakeClock
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Button, Member, Outgoing, Reader, Reply, Room, When
from chatbot.time.format import room_times
from commands import basics, members
from commands import meetings as meetings_module
from commands.meetings.store import RsvpRow
from tests.matrix_helpers import WAIT, BotAccount, Peer, Running

MODULES: list[Module] = [basics.module, members.module, meetings_module.module]
TITLE = "Call <b>&amp; @room"
SHOWN_TITLE = "Call <b>&amp; @\u200droom"  # @room broken by a zero-width joiner
GOING, MAYBE, CANT = "\u2705", "\U0001f914", "\u274c"
#: 01:00 UTC on Tue 1 Dec 2026, a winter day: Lagos, Paris and Berlin all show 02:00
LOCAL_TIMES = (
    "Tue 09:00 Manila · Tue 02:00 Berlin, Lagos, Paris · Tue 01:00 London · Tue 1 Dec, 01:00 UTC"
)


@pytest.fixture
async def peers(synapse: Any) -> AsyncIterator[dict[str, Peer]]:
    made: dict[str, Peer] = {}
    for name in ("organiser", "manila", "lagos", "london", "paris", "berlin", "nozone"):
        made[name] = await Peer.register(synapse, name)
    yield made
    for peer in made.values():
        await peer.close()


def post_in(room_id: str) -> Callable[[str, Any], bool]:
    return lambda rid, event: (
        rid == room_id
        and isinstance(event, RoomMessageNotice)
        and event.body.startswith("Meeting #1: ")
    )


def threaded_answer(room_id: str, root: str, text: str) -> Callable[[str, Any], bool]:
    """The bot's notice in the thread of ``root`` whose body contains ``text``."""

    def match(rid: str, event: Any) -> bool:
        if rid != room_id or not isinstance(event, RoomMessageNotice) or text not in event.body:
            return False
        relation = event.source["content"].get("m.relates_to", {})
        return bool(relation.get("rel_type") == "m.thread" and relation.get("event_id") == root)

    return match


def bot_reaction(room_id: str, bot: str, event_id: str, key: str) -> Callable[[str, Any], bool]:
    return lambda rid, event: (
        rid == room_id
        and isinstance(event, ReactionEvent)
        and event.sender == bot
        and event.reacts_to == event_id
        and event.key == key
    )


async def react(peer: Peer, room_id: str, event_id: str, key: str) -> str:
    """``peer`` reacts with ``key``; the reaction's event id."""
    relates = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
    sent = await peer.client.room_send(
        room_id, "m.reaction", {"m.relates_to": relates}, ignore_unverified_devices=True
    )
    assert isinstance(sent, RoomSendResponse), sent
    reaction: str = sent.event_id
    return reaction


async def take_back(peer: Peer, room_id: str, reaction: str) -> None:
    """``peer`` removes a reaction (a redaction, as clients do when one clicks it again)."""
    gone = await peer.client.room_redact(room_id, reaction)
    assert isinstance(gone, RoomRedactResponse), gone


async def answer_of(run: Running, meeting: int, peer: Peer) -> str | None:
    async with run.bot.db.sessions() as session:
        row = await session.get(RsvpRow, (meeting, f"matrix:{peer.user_id}"))
    return row.answer if row is not None else None


@pytest.mark.synapse
async def test_room_post_lists_members_zones_and_reactions_rsvp(
    synapse: Any, tmp_path: Path, peers: dict[str, Peer]
) -> None:
    """The post lists the room's zones grouped and sorted plus UTC; ✅ and 🤔 reactions RSVP,
    the second after a restart; a reaction to a member's own look-alike message does not."""
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    organiser = peers["organiser"]
    account = BotAccount(
        synapse,
        await synapse.register(synapse.fresh_localpart("mtgbot")),
        tmp_path,
        f'encryption = false\norganisers = ["{organiser.user_id}"]',
    )
    others = [p for name, p in peers.items() if name != "organiser"]
    try:
        async with account.running(MODULES, clock) as run:
            room_id = await organiser.create_room(
                [account.user_id, *(p.user_id for p in others)], name="meetings"
            )
            await organiser.membership(room_id, account.user_id, "join")
            for peer in others:
                await peer.join(room_id)
                await organiser.membership(room_id, peer.user_id, "join")
            for name, zone in (
                ("lagos", "Africa/Lagos"),
                ("london", "Europe/London"),
                ("paris", "Europe/Paris"),
                ("berlin", "Europe/Berlin"),
            ):
                user_id = peers[name].user_id
                member = Member(f"matrix:{user_id}", "matrix", user_id)
                await run.bot.members.update(member, zone=zone)
            manila = peers["manila"]
            said = await manila.send(room_id, "!tz set Manila")
            assert "Manila" in (await manila.reply_to(room_id, said)).body
            said = await organiser.send(room_id, "!tz set Europe/London")
            await organiser.reply_to(room_id, said)  # the bot has seen every join by now

            said = await organiser.send(room_id, f'!meeting add "{TITLE}" 2026-12-01 01:00')
            assert "not saved yet" in (await organiser.reply_to(room_id, said)).body
            said = await organiser.send(room_id, "!meeting confirm 1")
            assert "is saved" in (await organiser.reply_to(room_id, said)).body

            post = await organiser.wait_for(post_in(room_id), "the meeting's room post")
            content = post.source["content"]
            lines = content["body"].splitlines()
            assert lines[0] == f"Meeting #1: {SHOWN_TITLE} — {LOCAL_TIMES} (1 h)"
            assert lines[-1] == f"React {GOING} Going · {MAYBE} Maybe · {CANT} Can't"
            html = content["formatted_body"]
            assert (
                "<strong>Meeting #1</strong>: Call &lt;b&gt;&amp;amp; @\u200droom — "
                f"{LOCAL_TIMES} (1 h)"
            ) in html
            assert "<b>" not in html
            assert content["m.mentions"] == {}
            assert content["org.wmlib.buttons"] == {
                GOING: "rsvp 1 yes",
                MAYBE: "rsvp 1 maybe",
                CANT: "rsvp 1 no",
            }
            for key in (GOING, MAYBE, CANT):
                await organiser.wait_for(
                    bot_reaction(room_id, account.user_id, post.event_id, key),
                    f"the bot's {key} on its post",
                )

            lagos = peers["lagos"]
            await react(lagos, room_id, post.event_id, GOING)
            answer = await lagos.wait_for(
                threaded_answer(room_id, post.event_id, "You're going to #1"), "the RSVP note"
            )
            assert answer.source["content"]["m.mentions"] == {}  # quiet: nobody is pinged
            assert await answer_of(run, 1, lagos) == "yes"

        async with account.running(MODULES, clock) as run:
            paris = peers["paris"]
            await react(paris, room_id, post.event_id, MAYBE)
            await paris.wait_for(
                threaded_answer(room_id, post.event_id, "Maybe, then, for #1"),
                "the RSVP note after a restart",
            )
            assert await answer_of(run, 1, paris) == "maybe"

            # anyone can put the key in their own message: only the bot's posts count
            got: asyncio.Future[Reaction] = asyncio.get_running_loop().create_future()

            async def hook(reaction: Reaction) -> None:
                if not got.done():
                    got.set_result(reaction)

            run.adapter.on_reaction = hook
            nozone = peers["nozone"]
            fake = await nozone.send(
                room_id, "vote", extra={"org.wmlib.buttons": {GOING: "rsvp 1 yes"}}
            )
            await react(nozone, room_id, fake, GOING)
            reaction = await asyncio.wait_for(got, WAIT)
            assert reaction.message_id == fake
            assert await answer_of(run, 1, nozone) is None
    finally:
        account.forget_env()


def test_zones_with_the_same_wall_time_group_and_follow_the_seasons() -> None:
    """In July Lagos shares London's time and Paris, Berlin theirs; UTC members add no entry."""
    at = datetime(2026, 7, 7, 12, 0, tzinfo=UTC)
    zones = tuple(
        sorted(
            {
                "Africa/Lagos": 1,
                "America/New_York": 2,
                "Asia/Manila": 3,
                "Europe/Berlin": 1,
                "Europe/London": 2,
                "Europe/Paris": 1,
                "UTC": 1,
            }.items()
        )
    )
    assert room_times(at, zones, now=at) == (
        "Tue 20:00 Manila · Tue 14:00 Berlin, Paris · Tue 13:00 London, Lagos · "
        "Tue 08:00 New York · Tue 7 Jul, 12:00 UTC"
    )


def test_a_large_room_lists_its_most_common_local_times() -> None:
    """Past the cap, the most common local times stay (sorted) and the rest are counted."""
    at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    zones = (
        ("America/Bogota", 1),
        ("America/Los_Angeles", 9),
        ("Asia/Kolkata", 7),
        ("Asia/Manila", 8),
        ("Asia/Tokyo", 3),
        ("Europe/Paris", 20),
    )
    assert room_times(at, zones, cap=3, now=at) == (
        "Tue 09:00 Manila · Tue 02:00 Paris · Mon 17:00 Los Angeles · +3 more zones · "
        "Tue 1 Dec, 01:00 UTC"
    )


def test_room_post_without_zones_says_how_to_set_one() -> None:
    """Nobody in the room set a zone: UTC, with the command that changes that."""
    at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    room = Room("matrix:!r:example.org", "matrix", "r")
    reply = Reply.of("Meeting: ", When(at), buttons=(Button("Going", "rsvp 1 yes", "success"),))
    content = render_content(Outgoing(room, reply, Reader(), sent_at=at), "!", ())
    assert content["body"] == (
        "Meeting: Tue 1 Dec, 01:00 UTC (nobody here has set a time zone: `!tz set <city>`)\n"
        "React \u2705 Going"
    )
    assert content["formatted_body"] == (
        "Meeting: Tue 1 Dec, 01:00 UTC (nobody here has set a time zone: "
        "`!tz set &lt;city&gt;`)<br>React \u2705 Going"
    )


@pytest.mark.synapse
async def test_reaction_rsvp_in_an_encrypted_room_after_a_restart(
    synapse: Any, tmp_path: Path
) -> None:
    """In an encrypted room the restarted bot reads its own encrypted post to map a reaction."""
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    user = await synapse.register(synapse.fresh_localpart("mtgbot"))
    peers_root = tmp_path / "peers"
    peers_root.mkdir()
    organiser = await Peer.register(synapse, "organiser", peers_root)
    member = await Peer.register(synapse, "member", peers_root)
    account = BotAccount(synapse, user, tmp_path, f'organisers = ["{organiser.user_id}"]')
    try:
        async with account.running(MODULES, clock) as run:
            room_id = await organiser.create_room(
                [account.user_id, member.user_id], encrypted=True, name="meetings"
            )
            await organiser.membership(room_id, account.user_id, "join")
            await member.join(room_id)
            await organiser.membership(room_id, member.user_id, "join")
            said = await organiser.send(room_id, '!meeting add "Call" 2026-12-01 01:00')
            await organiser.reply_to(room_id, said)
            said = await organiser.send(room_id, "!meeting confirm 1")
            await organiser.reply_to(room_id, said)
            post = await member.wait_for(post_in(room_id), "the meeting's room post")
            assert post.decrypted
            assert "Tue 1 Dec, 01:00 UTC (nobody here has set a time zone" in post.body
            await member.wait_for(
                bot_reaction(room_id, account.user_id, post.event_id, GOING), "the bot's ✅"
            )
        async with account.running(MODULES, clock) as run:
            await react(member, room_id, post.event_id, GOING)
            await member.wait_for(
                threaded_answer(room_id, post.event_id, "You're going to #1"), "the RSVP note"
            )
            assert await answer_of(run, 1, member) == "yes"
    finally:
        await organiser.close()
        await member.close()
        account.forget_env()


@pytest.mark.synapse
async def test_taking_a_reaction_back_withdraws_the_rsvp_it_gave(
    synapse: Any, tmp_path: Path
) -> None:
    """Removing the ✅ that said "going" withdraws the answer; with ✅ and 🤔 both left on the
    post, removing 🤔 leaves the member going; an answer typed after a reaction stays when
    the reaction is removed.  Each step is checked with ``!meeting 1``, which the bot reads
    after the redaction (one room's events are handled in order)."""
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    organiser = await Peer.register(synapse, "organiser")
    member = await Peer.register(synapse, "ines")
    account = BotAccount(
        synapse,
        await synapse.register(synapse.fresh_localpart("mtgbot")),
        tmp_path,
        f'encryption = false\norganisers = ["{organiser.user_id}"]',
    )

    async def counted(room_id: str) -> list[str]:
        said = await member.send(room_id, "!meeting 1")
        body = str((await member.reply_to(room_id, said)).body)
        return [
            line
            for line in body.splitlines()
            if line.startswith(("Going (", "Maybe (", "Can't come"))
        ]

    try:
        async with account.running(MODULES, clock) as run:
            room_id = await organiser.create_room([account.user_id, member.user_id])
            await organiser.membership(room_id, account.user_id, "join")
            await member.join(room_id)
            await organiser.membership(room_id, member.user_id, "join")
            said = await organiser.send(room_id, '!meeting add "Call" 2026-12-01 01:00')
            await organiser.reply_to(room_id, said)
            said = await organiser.send(room_id, "!meeting confirm 1")
            await organiser.reply_to(room_id, said)
            post = await member.wait_for(post_in(room_id), "the meeting's room post")
            await member.wait_for(
                bot_reaction(room_id, account.user_id, post.event_id, CANT), "the bot's ❌"
            )
            nobody = ["Going (0): nobody yet", "Maybe (0): nobody yet"]

            going = await react(member, room_id, post.event_id, GOING)
            await member.wait_for(
                threaded_answer(room_id, post.event_id, "You're going to #1"), "the RSVP note"
            )
            assert await answer_of(run, 1, member) == "yes"
            await take_back(member, room_id, going)
            assert await counted(room_id) == nobody
            assert await answer_of(run, 1, member) is None

            # ✅ then 🤔, both left on the post: 🤔 is the answer; removing it leaves ✅
            going = await react(member, room_id, post.event_id, GOING)
            await member.wait_for(
                threaded_answer(room_id, post.event_id, "You're going to #1"), "the ✅ note"
            )
            maybe = await react(member, room_id, post.event_id, MAYBE)
            await member.wait_for(
                threaded_answer(room_id, post.event_id, "Maybe, then, for #1"), "the 🤔 note"
            )
            assert await answer_of(run, 1, member) == "maybe"
            await take_back(member, room_id, maybe)
            assert (await counted(room_id))[0].startswith("Going (1): ")
            await take_back(member, room_id, going)
            assert await counted(room_id) == nobody

            # an answer typed since the reaction is the member's latest word
            going = await react(member, room_id, post.event_id, GOING)
            await member.wait_for(
                threaded_answer(room_id, post.event_id, "You're going to #1"), "the last ✅ note"
            )
            said = await member.send(room_id, "!rsvp 1 no")
            assert "can't make #1" in (await member.reply_to(room_id, said)).body
            await take_back(member, room_id, going)
            assert await counted(room_id) == [*nobody, "Can't come: 1"]
            assert await answer_of(run, 1, member) == "no"
    finally:
        await organiser.close()
        await member.close()
        account.forget_env()
