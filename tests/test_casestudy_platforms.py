"""Case studies end to end on the real platforms (issue 8): through the test Synapse and
through the fake Discord (modals included), from the submission to the contributor hearing
that it was accepted, with hostile text shown safely on each.

Each test runs a real :class:`~chatbot.runtime.bot.Bot` with the case-study module; notifications
(the review room's note, the contributor's DM) go through the outbox sender.  Nothing sleeps:
every step waits for what the platform records, with a timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageNotice

from adapters.discord import DiscordAdapter
from adapters.matrix import MatrixAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import Config
from chatbot.dispatch.registry import Module
from chatbot.runtime.bot import Bot
from commands import basics, members
from commands import casestudies as cs
from tests.discord_fake import FakeDiscord, RecordedMessage
from tests.discord_fake.interactions import PendingInteraction
from tests.discord_helpers import ORGANISER_ROLE, TOKEN_ENV, discord_config
from tests.harness import ready
from tests.matrix_helpers import WAIT, BotAccount, Peer
from tests.test_casestudies import GOOD, SUMMARY
from tests.test_discord_adapter import text_inputs

MODULES: list[Module] = [basics.module, members.module, cs.module]
#: seconds for the bot to get ready (Matrix logs in and syncs first)
START_TIMEOUT = 60.0
#: seconds to wait for one thing the fake Discord should record
DISCORD_WAIT = 10.0

MATRIX_HOSTILE = "<script>alert(1)</script> @room **bold**"


@contextlib.asynccontextmanager
async def running(
    config: Config, adapter: MatrixAdapter | DiscordAdapter, clock: FakeClock | None = None
) -> AsyncIterator[Bot]:
    """A Bot with the case-study module on one adapter, ready; stopped on exit."""
    bot = Bot(config, clock=clock, adapters=[adapter], modules=MODULES)
    async with ready(bot, START_TIMEOUT):
        yield bot


# -- Matrix -----------------------------------------------------------------------------------


def notice_in(room_id: str, text: str) -> Callable[[str, Any], bool]:
    """Matches the bot's notice in ``room_id`` whose body contains ``text``."""
    return lambda rid, event: (
        rid == room_id and isinstance(event, RoomMessageNotice) and text in event.body
    )


def assert_safe_in_matrix(event: Any, answered: str | None = None) -> None:
    """The hostile title is escaped HTML, ``@room`` is broken and nobody is pinged but the
    member ``answered`` (a reply names its addressee in ``m.mentions``, never the room)."""
    content: dict[str, Any] = event.source["content"]
    html: str = content["formatted_body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "<strong>bold</strong>" not in html and "**bold**" in html
    assert "@\u200droom" in html
    assert "@room" not in html and "@room" not in content["body"]
    mentions: dict[str, Any] = content["m.mentions"]
    assert "room" not in mentions
    assert mentions.get("user_ids", []) in ([], [answered] if answered else [])


@pytest.mark.synapse
async def test_matrix_submission_review_and_acceptance(synapse: Any, tmp_path: Path) -> None:
    """On Synapse: a member's DM dialogue, the review room's note, accept, the member's DM."""
    bot_user = await synapse.register(synapse.fresh_localpart("csbot"))
    account = BotAccount(synapse, bot_user, tmp_path, "encryption = false")
    owner = await Peer.register(synapse, "owner")
    organiser = await Peer.register(synapse, "organiser")
    member = await Peer.register(synapse, "contributor")
    answers = [MATRIX_HOSTILE, *GOOD[1:]]
    try:
        # the review room is one of the group's rooms, where a moderator is an organiser
        review = await owner.create_room([organiser.user_id], name="review")
        await organiser.join(review)
        await owner.set_power(review, organiser.user_id, 50)
        account.extra += f'\norganiser_rooms = ["{review}"]'
        config = account.config()
        async with running(config, MatrixAdapter(config)):
            await owner.client.room_invite(review, account.user_id)
            await owner.membership(review, account.user_id, "join")
            here = await organiser.send(review, "!casestudy reviewroom here")
            assert "announced in this room" in (await organiser.reply_to(review, here)).body

            lobby = await member.create_room([account.user_id], name="lobby")
            await member.membership(lobby, account.user_id, "join")
            start = await member.send(lobby, "!casestudy submit")
            assert "direct message" in (await member.reply_to(lobby, start)).body
            dm = await member.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
            await member.join(dm)
            await member.wait_for(notice_in(dm, f"1/{len(answers)}"), "the first question")
            for number, answer in enumerate(answers, start=2):
                sent = await member.send(dm, answer)
                reply = await member.reply_to(dm, sent)
                expected = f"{number}/{len(answers)}" if number <= len(answers) else "Here is"
                assert expected in reply.body, (answer, reply.body)
            assert_safe_in_matrix(reply, member.user_id)  # the answers shown for confirmation
            confirm = await member.send(dm, "yes")
            thanks = await member.reply_to(dm, confirm)
            assert "Your case study is submitted as #1" in thanks.body

            note = await organiser.wait_for(
                notice_in(review, "Case study #1 was submitted"), "the review room's note"
            )
            assert_safe_in_matrix(note)
            claim = await organiser.send(review, "!casestudy claim 1")
            assert "reviewing case study #1" in (await organiser.reply_to(review, claim)).body
            accept = await organiser.send(review, "!casestudy accept 1")
            assert "is accepted" in (await organiser.reply_to(review, accept)).body

            told = await member.wait_for(
                notice_in(dm, "Good news: your case study #1"), "the acceptance DM", within=WAIT
            )
            assert told.body.endswith(") is accepted.")
            assert_safe_in_matrix(told)
    finally:
        for peer in (owner, organiser, member):
            await peer.close()
        account.forget_env()


# -- Discord ----------------------------------------------------------------------------------


def custom_ids(message: RecordedMessage) -> list[str]:
    """The custom ids of a message's buttons, in order."""
    return [str(c["custom_id"]) for row in message.components for c in row["components"]]


async def interaction_text(pending: PendingInteraction) -> str:
    """The bot's answer to an interaction, whether it answered at once or deferred first."""
    response = await pending.wait_for_response(timeout=DISCORD_WAIT)
    if response.type == 5:
        return (await pending.wait_for_followup(timeout=DISCORD_WAIT)).content
    return response.content or ""


def form_pages(title: str) -> list[dict[str, str]]:
    """Valid answers for the four modal pages of ``!casestudy form``, at most five fields a
    page: the activities end page 2 (the other-activity question depends on them), and as
    "other" is not among them that question is on no page."""
    return [
        {
            "title": title,
            "institution": "Lakeside County Public Library",
            "institution_qid": "Q123456",
            "library_type": "public",
            "country": "Kenya",
        },
        {
            "languages": "en; sw",
            "projects": "wikipedia",
            "activities": "1lib1ref; editathon",
        },
        {
            "period": "2024-01 2024-02",
            "summary": SUMMARY,
            "outcomes": "citations_added 412, participants 18",
            "links": "https://outreachdashboard.wmflabs.org/courses/Lakeside/1Lib1Ref",
            "lessons": "",
        },
        {
            "credit": "User:Example",
            "contact": "example@lakeside.example",
            "consent": "yes",
            "licence": "yes",
        },
    ]


def assert_safe_on_discord(message: RecordedMessage, role_id: int) -> None:
    """The hostile title pings nobody: @everyone is broken, markdown escaped, and the role
    mention typed in the form was read as the role's name."""
    assert f"@\u200beveryone @{ORGANISER_ROLE} \\*\\*bold\\*\\*" in message.content
    assert "@everyone" not in message.content and f"<@&{role_id}>" not in message.content
    assert message.allowed_mentions == {"parse": []}
    assert message.message["mention_everyone"] is False
    assert message.message["mention_roles"] == []
    assert message.message["mentions"] == []


async def test_discord_form_submission_review_and_acceptance(
    discord_fake: FakeDiscord,
    sqlite_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the fake Discord: the paged modal form, the review channel's note, accept, the DM."""
    fake = discord_fake
    guild = fake.guild
    assert guild is not None
    organisers = fake.add_role(guild, ORGANISER_ROLE)
    carol = fake.add_user("carol", global_name="Carol")
    fake.add_member(guild, carol, roles=[organisers])
    bob = fake.user("bob")
    general, events = guild.channel("general"), guild.channel("events")
    title = f"@everyone <@&{organisers.id}> **bold** report"
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = discord_config(sqlite_url, fake)
    async with running(config, DiscordAdapter(config), clock):
        await fake.send_message(events, carol, "!casestudy reviewroom here")
        set_here = await fake.wait_for_message(channel_id=events.id, timeout=DISCORD_WAIT)
        assert set_here.content == "New case studies will be announced in this room."

        await fake.send_message(general, bob, "!casestudy form")
        posted = await fake.wait_for_message(channel_id=general.id, timeout=DISCORD_WAIT)
        assert custom_ids(posted) == ["wmlib:form:casestudy"]
        opened = await fake.click_button(posted, "wmlib:form:casestudy", user=bob)
        modal = await opened.wait_for_response(timeout=DISCORD_WAIT)
        pages = form_pages(title)
        for page, values in enumerate(pages, start=1):
            assert modal.modal is not None
            assert modal.modal["title"] == f"Case study ({page}/{len(pages)})"
            assert text_inputs(modal.modal) == list(values)
            submitted = await fake.submit_modal(modal, values, user=bob)
            if page == len(pages):
                thanks = await interaction_text(submitted)
                break
            saved = await submitted.wait_for_response(timeout=DISCORD_WAIT)
            assert saved.ephemeral and saved.message is not None
            button = f"wmlib:page:{page}:casestudy"
            assert custom_ids(saved.message) == [button]
            clicked = await fake.click_button(saved.message, button, user=bob)
            modal = await clicked.wait_for_response(timeout=DISCORD_WAIT)
        assert thanks.startswith("Thank you! Your case study is submitted as #1.")

        note = await fake.wait_for_message(
            lambda m: m.content.startswith("Case study #1 was submitted by "),
            channel_id=events.id,
            timeout=DISCORD_WAIT,
        )
        assert_safe_on_discord(note, organisers.id)
        await fake.send_message(events, carol, "!casestudy claim 1")
        await fake.wait_for_message(
            channel_id=events.id, content="You're reviewing case study #1.", timeout=DISCORD_WAIT
        )
        await fake.send_message(events, carol, "!casestudy accept 1")
        await fake.wait_for_message(
            lambda m: m.content.startswith("Case study #1 is accepted"),
            channel_id=events.id,
            timeout=DISCORD_WAIT,
        )

        dm = fake.dm_channel(bob)
        told = await fake.wait_for_message(
            lambda m: m.content.startswith("Good news: your case study #1 ("),
            channel_id=dm.id,
            timeout=DISCORD_WAIT,
        )
        assert told.content.endswith(") is accepted.")
        assert_safe_on_discord(told, organisers.id)
