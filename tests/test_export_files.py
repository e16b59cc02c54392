"""Exports arrive as one file with a one-line summary, not as pages of messages (issue 18).

The reply model carries files (:class:`~chatbot.messages.events.Attachment`); each adapter
sends them its own way: the console writes them to its exports folder and prints the path,
Discord attaches them (checked on the fake, which records the multipart upload), Matrix
uploads them to the media repository and posts an ``m.file`` (checked on the real Synapse,
downloading the bytes back).  ``!casestudy export`` and ``!faq export`` use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nio import DownloadResponse, RoomMessageFile, RoomMessageNotice

from adapters.console import ConsoleSettings, exports_folder
from adapters.discord import DiscordAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.i18n import plain_english, verbatim
from chatbot.delivery.outbox_payload import decode_payload, encode_payload
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Attachment, Plain, Reader, Reply, safe_filename
from chatbot.messages.render import render_plain
from chatbot.runtime.bot import Bot
from chatbot.runtime.replies import SENT_DIRECT
from commands import basics, members
from commands import casestudies as cs
from commands import faq as faq_module
from commands.casestudies import fields
from commands.casestudies.exports import public, read_csv
from commands.casestudies.store import PUBLISHED
from commands.faq.index import parse_kb
from tests.discord_fake import FakeDiscord
from tests.discord_helpers import ORGANISER_ROLE, TOKEN_ENV, discord_config
from tests.harness import ConsoleChat, open_chat, ready
from tests.matrix_helpers import BotAccount, Peer
from tests.test_casestudy_exports import FIXTURES

WAIT = 10.0
CS_MODULES = [basics.module, members.module, cs.module]


async def publish(bot: Bot, count: int) -> list[dict[str, Any]]:
    """``count`` published case studies (the fixtures); their exported objects."""
    store = cs.store_of(bot)
    async with bot.db.session() as session:
        for record in FIXTURES[:count]:
            row = await store.submit(
                session, "console:zoe", "zoe", fields.validate_record(record), bot.clock.now()
            )
            row.state = PUBLISHED
    return [public(s.id, s.record) for s in await store.in_states((PUBLISHED,))]


# -- the reply model --------------------------------------------------------------------------


def test_file_names_are_made_safe() -> None:
    """No path separators, no leading dots, no control characters; long names keep their
    extension; an unsafe name is refused by the Attachment itself."""
    assert safe_filename("../../etc/passwd") == "etc-passwd"
    assert safe_filename("a\\b/c:d.csv") == "a-b-c-d.csv"
    assert safe_filename("..") == "file"
    assert safe_filename("x\u200b\ny.json") == "x-y.json"
    long = safe_filename("n" * 300 + ".csv")
    assert len(long) == 100 and long.endswith(".csv")
    with pytest.raises(ValueError, match="safe file name"):
        Attachment("../secrets.txt", b"")
    with pytest.raises(ValueError, match="safe file name"):
        Attachment("", b"")


def test_plain_text_names_the_file_and_its_size() -> None:
    reply = Reply.of(
        "Here ", Plain("**it** is"), files=(Attachment("a.csv", b"x" * 3000, "text/csv"),)
    )
    assert render_plain(reply) == "Here **it** is\n[file: a.csv, 3 KB]"
    small = Reply.of(files=(Attachment("b.txt", b"x"), Attachment("c.txt", b"xy" * 100)))
    assert render_plain(small) == "[file: b.txt, 1 byte]\n[file: c.txt, 200 bytes]"


def test_outbox_payload_carries_files() -> None:
    """A reply queued for durable delivery keeps its files, bytes intact."""
    data = bytes(range(256)) * 3
    reply = Reply.of("export", private=True, direct=True, files=(Attachment("x.bin", data, "a/b"),))
    decoded, reader = decode_payload(encode_payload(reply, Reader("Europe/Paris")))
    assert decoded == reply and reader == Reader("Europe/Paris")


def test_console_exports_folder() -> None:
    settings = ConsoleSettings()
    assert exports_folder(settings, "sqlite:////srv/bot/data/bot.db") == Path(
        "/srv/bot/data/exports"
    )
    assert exports_folder(settings, "postgresql://u@h/db") == Path("exports")
    assert exports_folder(settings, "sqlite:///:memory:") == Path("exports")
    assert exports_folder(ConsoleSettings(exports="/tmp/x"), "sqlite:///a.db") == Path("/tmp/x")


# -- the console ------------------------------------------------------------------------------


def saved_path(line: str) -> Path:
    """The path the console printed after ``saved as``."""
    return Path(line.rsplit(" saved as ", 1)[1])


def saved_text_in_any_language(line: str) -> str:
    """The text of the file whose path ends the line ("… guardado como PATH")."""
    return Path(line.rsplit(" ", 1)[1]).read_text(encoding="utf-8")


@pytest.fixture
async def cs_chat(sqlite_url: str, clock: FakeClock) -> Any:
    chat = await open_chat(sqlite_url, clock, modules=CS_MODULES)
    yield chat
    await chat.bot.close()


async def test_casestudy_export_is_one_line_and_a_file(
    cs_chat: ConsoleChat, tmp_path: Path
) -> None:
    """One summary line (singular, then plural) and a file next to the database that reads
    back equal to the studies; no contact, no pasted rows."""
    chat = cs_chat
    assert "no published case studies" in await chat.say("!casestudy export csv", as_="ana")
    items = await publish(chat.bot, 1)
    out = await chat.say("!casestudy export csv")
    lines = out.splitlines()
    assert lines[0] == "[DM to ana] 1 published case study as CSV: casestudies-2026-11-25.csv"
    assert lines[1].startswith("[DM to ana] [file: casestudies-2026-11-25.csv, ")
    assert lines[2] == "I've sent you a direct message."
    assert len(lines) == 3 and "outcome_" not in out
    path = saved_path(lines[1])
    assert path.parent == tmp_path / "exports"
    assert read_csv(path.read_text(encoding="utf-8")) == items

    items = await publish(chat.bot, 1)
    out = await chat.say("!casestudy export json")
    assert out.startswith(
        "[DM to ana] 2 published case studies as JSON: casestudies-2026-11-25.json"
    )
    assert json.loads(saved_path(out.splitlines()[1]).read_text(encoding="utf-8")) == items
    again = await chat.say("!casestudy export json")
    second = saved_path(again.splitlines()[1])
    assert second.name == "casestudies-2026-11-25-2.json"  # the first is not overwritten
    wiki = await chat.say("!casestudy export wikitext")
    assert "as wikitext: casestudies-2026-11-25.wiki" in wiki
    assert "Only organisers" in await chat.say("!casestudy export json", as_="bob")


async def test_wikitext_export_is_in_the_organisers_language(cs_chat: ConsoleChat) -> None:
    """An organiser reading Spanish gets the wiki page's own words in Spanish (for their
    community's wiki); CSV stays the schema's codes, the same for everyone."""
    chat = cs_chat
    await publish(chat.bot, 1)
    await chat.say("!lang es", as_="ana")
    out = await chat.say("!casestudy export wikitext")
    assert out.startswith("[Mensaje directo a ana] 1 estudio de caso publicado en wikitext")
    page = saved_text_in_any_language(out.splitlines()[1])
    assert "! Título !! Institución !! País !! Tipo !!" in page
    assert "== Licencia y créditos ==" in page and "Title" not in page
    out = await chat.say("!casestudy export csv")
    csv_text = saved_text_in_any_language(out.splitlines()[1])
    assert csv_text.startswith("id,title,institution,")


async def test_faq_export_is_a_toml_file(sqlite_url: str, clock: FakeClock) -> None:
    """`!faq export` sends the knowledge base in effect as TOML that parses back equal."""
    chat = await open_chat(
        sqlite_url, clock, modules=[basics.module, members.module, faq_module.module]
    )
    try:
        await chat.say('!faq add wikimania "When is Wikimania?" Every summer.', as_="ana")
        out = await chat.say("!faq export")
        first, file_line, notice = out.splitlines()
        kb = chat.bot.services["faq"].kb
        count = len(kb.entries)
        assert first == f"[DM to ana] {count} FAQ entries as TOML: faq-2026-11-25.toml"
        assert notice == "I've sent you a direct message."
        assert parse_kb(saved_path(file_line).read_text(encoding="utf-8")) == kb
        assert "Only organisers" in await chat.say("!faq export", as_="bob")
    finally:
        await chat.bot.close()


# -- Discord ----------------------------------------------------------------------------------

file_test = Module("filetest", "A private reply with a file, for the adapters' tests.")


@file_test.command(help="A private file.", private=True)
async def report(ctx: Context) -> Reply:
    return Reply.of(
        verbatim("Your report:"), private=True, files=(Attachment("report.csv", b"a,b\r\n1,2\r\n"),)
    )


async def test_discord_exports_are_attachments(
    discord_fake: FakeDiscord,
    sqlite_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`!casestudy export` in a channel: a notice there, and in the DM one message with the
    summary and the file as an attachment (multipart upload); a private reply to a slash
    command carries its file in the ephemeral response."""
    fake = discord_fake
    guild = fake.guild
    assert guild is not None
    organisers = fake.add_role(guild, ORGANISER_ROLE)
    carol = fake.add_user("carol", global_name="Carol")
    fake.add_member(guild, carol, roles=[organisers])
    general = guild.channel("general")
    carol_dm = fake.dm_channel(carol)
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = discord_config(sqlite_url, fake)
    adapter = DiscordAdapter(config)
    bot = Bot(config, clock=clock, adapters=[adapter], modules=[*CS_MODULES, file_test])
    async with ready(bot, 60):
        items = await publish(bot, 2)
        start = len(fake.sent)
        await fake.send_message(general, carol, "!casestudy export csv")
        notice = await fake.wait_for_message(channel_id=general.id, start=start, timeout=WAIT)
        answer = await fake.wait_for_message(channel_id=carol_dm.id, start=start, timeout=WAIT)
        assert notice.content == plain_english(SENT_DIRECT)
        assert answer.content == "2 published case studies as CSV: casestudies-2026-11-25.csv"
        [upload] = answer.files
        assert upload.filename == "casestudies-2026-11-25.csv" and upload.field == "files[0]"
        assert read_csv(upload.data.decode("utf-8")) == items
        [attached] = answer.message["attachments"]
        assert attached["filename"] == upload.filename and attached["size"] == upload.size
        assert len([m for m in fake.sent[start:] if m.channel_id == carol_dm.id]) == 1

        pending = await fake.invoke_command("report", {}, user=carol, channel=general)
        response = await pending.wait_for_response(timeout=WAIT)
        assert response.ephemeral and response.content == "Your report:"
        assert [(f.filename, f.data) for f in response.files] == [("report.csv", b"a,b\r\n1,2\r\n")]


# -- Matrix -----------------------------------------------------------------------------------


@pytest.mark.synapse
async def test_matrix_export_is_an_uploaded_m_file(synapse: Any, tmp_path: Path) -> None:
    """`!casestudy export json` in a room: the DM gets the summary, then an m.file whose
    media downloads as exactly the export."""
    user = await synapse.register(synapse.fresh_localpart("bot"))
    (tmp_path / "bot").mkdir()
    alice = await Peer.register(synapse, "alice")
    organisers = f'encryption = false\n[permissions]\norganisers = ["matrix:{alice.user_id}"]'
    account = BotAccount(synapse, user, tmp_path / "bot", organisers)
    try:
        async with account.running(modules=CS_MODULES) as run:
            # alice made the room, so her power level makes her an organiser there
            items = await publish(run.bot, 2)
            room_id = await alice.create_room([account.user_id])
            await alice.membership(room_id, account.user_id, "join")
            command = await alice.send(room_id, "!casestudy export json")
            notice = await alice.reply_to(room_id, command)
            assert "direct message" in notice.body
            dm = await alice.invited(lambda _rid, ev: ev.content.get("is_direct") is True)
            await alice.join(dm)
            summary = await alice.wait_for(
                lambda rid, ev: rid == dm and isinstance(ev, RoomMessageNotice),
                "the summary in the DM",
            )
            event = await alice.wait_for(
                lambda rid, ev: rid == dm and isinstance(ev, RoomMessageFile), "the m.file"
            )
        today = run.bot.clock.now().date().isoformat()
        assert summary.body == f"2 published case studies as JSON: casestudies-{today}.json"
        content = event.source["content"]
        assert content["msgtype"] == "m.file"
        assert content["body"] == summary.body.rsplit(": ", 1)[1]
        downloaded = await alice.client.download(mxc=content["url"])
        assert isinstance(downloaded, DownloadResponse)
        assert content["info"] == {"mimetype": "application/json", "size": len(downloaded.body)}
        assert json.loads(downloaded.body) == items
    finally:
        await alice.close()
        account.forget_env()
