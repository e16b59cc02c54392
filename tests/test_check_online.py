"""``chatbot check-config --online``: the bot logs in and says, per room, what it may not do
(a real Synapse for Matrix; the Discord fake is in test_check_online_discord.py); and a
backup restored on a real homeserver keeps the bot's session."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import RoomPutStateResponse

from adapters.matrix import MatrixAdapter
from chatbot.base.clock import SystemClock
from chatbot.runtime.backup import create_backup, restore_backup
from chatbot.runtime.checks import online_findings
from chatbot.storage import Database
from tests.matrix_helpers import BotAccount, Peer, devices

pytestmark = pytest.mark.synapse


@pytest.fixture
async def alice(synapse: Any) -> AsyncIterator[Peer]:
    peer = await Peer.register(synapse, "alice")
    yield peer
    await peer.close()


async def restrict_messages(peer: Peer, room_id: str, level: int) -> None:
    """Only members with ``level`` may post messages (a read-only announcements room)."""
    got = await peer.client.room_get_state_event(room_id, "m.room.power_levels")
    content = dict(got.content)
    content["events"] = {**content.get("events", {}), "m.room.message": level}
    put = await peer.client.room_put_state(room_id, "m.room.power_levels", content)
    assert isinstance(put, RoomPutStateResponse), put


async def test_online_check_names_each_room_and_what_to_fix(
    synapse: Any, alice: Peer, tmp_path: Path
) -> None:
    user = await synapse.register(synapse.fresh_localpart("bot"))
    absent = "!nowhere:localhost"
    account = BotAccount(synapse, user, tmp_path, f'allowed_rooms = ["{absent}"]')
    try:
        async with account.running():
            fine = await alice.create_room([account.user_id], name="General")
            await alice.membership(fine, account.user_id, "join")
            readonly = await alice.create_room([account.user_id], name="Announcements")
            await alice.membership(readonly, account.user_id, "join")
        await restrict_messages(alice, readonly, 50)
        before = await devices(synapse, user)

        config = account.config()
        lines = await online_findings(config, [MatrixAdapter(config)])
        text = "\n".join(lines)
        assert f"ok: matrix General ({fine})" in lines, text
        assert (
            f"error: matrix Announcements ({readonly}): the bot cannot send messages "
            "(needs power 50, has 0)" in text
        )
        assert f"give {account.user_id} power level 50" in text
        assert f"error: {absent}: the bot cannot post there: it is not in the room" in text
        assert f"fix: invite {account.user_id}" in text
        assert await devices(synapse, user) == before  # the bot's own session, reused

        # without a stored session: a password login for the check, logged out after
        db = Database(config.database_url(), SystemClock())
        await db.drop_state(f"matrix.{account.user_id}.access_token")
        await db.close()
        again = await online_findings(config, [MatrixAdapter(config)])
        assert f"ok: matrix General ({fine})" in again
        assert await devices(synapse, user) == before  # no device left behind
    finally:
        account.forget_env()


async def test_online_check_reports_a_refused_login(synapse: Any, tmp_path: Path) -> None:
    user = await synapse.register(synapse.fresh_localpart("bot"))
    account = BotAccount(synapse, user, tmp_path)
    try:
        os.environ[account.secret_env] = "wrong password"
        config = account.config()
        lines = await online_findings(config, [MatrixAdapter(config)])
        assert lines[0] == "ok: database answers"
        assert lines[1].startswith("error: matrix: cannot log in or list rooms:"), lines
        assert "login as" in lines[1] and "failed" in lines[1]
    finally:
        account.forget_env()


async def test_commands_answered_after_the_backup_are_not_answered_again(
    synapse: Any, tmp_path: Path
) -> None:
    """A backup taken while the bot runs knows nothing of the commands answered after it;
    restored, the bot finds its own replies in the room and does not answer them again."""
    from structlog.testing import capture_logs

    user = await synapse.register(synapse.fresh_localpart("bot"))
    account = BotAccount(synapse, user, tmp_path, "encryption = false")
    archive = tmp_path / "backup.tar.gz"
    alice = await Peer.register(synapse, "alice")
    try:
        async with account.running():
            room_id = await alice.create_room([account.user_id])
            await alice.membership(room_id, account.user_id, "join")
            before = await alice.send(room_id, "!ping")
            await alice.reply_to(room_id, before)
            create_backup(account.config(), archive)  # while the bot runs
            after = await alice.send(room_id, "!echo after the backup")
            await alice.reply_to(room_id, after)
        restore_backup(account.config(), archive, force=True)
        with capture_logs() as logs:
            async with account.running():
                barrier = await alice.send(room_id, "!echo barrier")
                await alice.reply_to(room_id, barrier)
        seen = [e["event_id"] for e in logs if e["event"] == "matrix_already_answered"]
        assert after in seen
        for event_id in (before, after, barrier):
            assert len(alice.replies_to(event_id)) == 1, event_id
    finally:
        await alice.close()
        account.forget_env()


async def test_restore_on_a_new_machine_keeps_the_session_and_answers_nothing_twice(
    synapse: Any, tmp_path: Path
) -> None:
    """The bot's data is lost (database and crypto store); the backup brings it back: same
    device (nothing for members to verify again), the old commands are not answered again,
    the commands sent meanwhile are answered once, and an encrypted room still works."""
    user = await synapse.register(synapse.fresh_localpart("bot"))
    account = BotAccount(synapse, user, tmp_path)
    archive = tmp_path / "backup.tar.gz"
    (tmp_path / "peers").mkdir()
    alice = await Peer.register(synapse, "alice", tmp_path / "peers")  # with encryption
    try:
        async with account.running() as first:
            room_id = await alice.create_room([account.user_id], encrypted=True)
            await alice.membership(room_id, account.user_id, "join")
            old = await alice.send(room_id, "!ping")
            await alice.reply_to(room_id, old)
            device = first.adapter.client.device_id
        create_backup(account.config(), archive)
        shutil.rmtree(tmp_path / "store")
        (tmp_path / "bot.db").unlink()
        meanwhile = await alice.send(room_id, "!echo while it was down")
        restore_backup(account.config(), archive)
        async with account.running() as second:
            assert "while it was down" in (await alice.reply_to(room_id, meanwhile)).body
            barrier = await alice.send(room_id, "!ping")
            await alice.reply_to(room_id, barrier)
            assert second.adapter.client.device_id == device
        for event_id in (old, meanwhile, barrier):
            assert len(alice.replies_to(event_id)) == 1, event_id
        assert await devices(synapse, user) == sorted([user.device_id, device])
    finally:
        await alice.close()
        account.forget_env()
