"""Exactly once, proven against a receiver that de-duplicates like Discord (issue 6).

The fake Discord honours ``nonce`` + ``enforce_nonce`` (a repeated nonce in a channel
returns the existing message), and the Discord adapter derives its nonces from the outbox
row's ``delivery_id``.  So a real ``chatbot run`` process killed with SIGKILL while posting
may re-send its in-flight rows after a restart (or a take-over by a standby instance) and
every room still shows each delivery exactly once.

The processes run the real ``chatbot run``; their config raises the outbox's Discord rate
(5 messages/s by default) and shortens its claim lease (60 s by default) through the
``[outbox]`` section, so that hundreds of posts and a take-over fit in seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from chatbot.base.clock import SystemClock
from chatbot.delivery.outbox_rows import ANNOUNCEMENT, SENT, Delivery, enqueue
from chatbot.messages.events import Plain, Reply, Room
from chatbot.storage import Database
from chatbot.storage.delivery import AnnouncementRow, BroadcastRoomRow, OutboxRow
from tests.discord_fake import Channel, FakeDiscord, Guild, RecordedMessage
from tests.discord_fake.models import JSON

ROOT = Path(__file__).resolve().parent.parent
TOKEN_ENV = "WMLIB_EXACTLY_ONCE_DISCORD_TOKEN"

#: runs ``python -m chatbot`` unchanged but for the outbox's Discord rate and claim lease
CONFIG = """
[bot]
database = "{url}"
adapters = ["discord"]
commands = ["basics", "members", "announce"]
[logging]
level = "info"
[permissions]
organisers = ["discord:{organiser}"]
[instances]
name = "{name}"
lease_seconds = 2
renew_seconds = 0.5
[adapters.discord]
token_env = "{token_env}"
guild_ids = [{guild}]
api_base_url = "{api}"
gateway_url = "{gateway}"
guild_ready_timeout = 0.05
"""


def guild_of(fake: FakeDiscord) -> Guild:
    assert fake.guild is not None
    return fake.guild


def write_config(path: Path, url: str, fake: FakeDiscord, name: str) -> Path:
    guild = guild_of(fake)
    path.write_text(
        CONFIG.format(
            url=url,
            organiser=guild.owner_id,
            name=name,
            token_env=TOKEN_ENV,
            guild=guild.id,
            api=fake.api_base,
            gateway=fake.gateway_url,
        )
    )
    return path


def nonce_of(row_id: int) -> str:
    """The nonce the Discord adapter sends for outbox row ``row_id`` (its first piece)."""
    return hashlib.sha256(f"outbox-{row_id}\x000".encode()).hexdigest()[:25]


class BotProcess:
    """A real ``chatbot run`` process; its log lines (stderr) are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        assert proc.stderr is not None
        self._pump = asyncio.ensure_future(self._read(proc.stderr))

    @classmethod
    async def start(
        cls, config: Path, token: str, *, rate: float, burst: float, lease: float
    ) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if k != "CHATBOT_DATABASE_URL"}
        env[TOKEN_ENV] = token
        tuned = config.with_name(config.stem + "-tuned.toml")
        extra = f"[outbox]\nlease_seconds = {lease}\nrates = {{ discord = [{rate}, {burst}] }}\n"
        await asyncio.to_thread(lambda: tuned.write_text(config.read_text() + extra))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chatbot",
            "run",
            "-c",
            str(tuned),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        return cls(proc)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while raw := await stream.readline():
            async with self._new_line:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._new_line.notify_all()
        async with self._new_line:
            self._new_line.notify_all()

    async def expect_log(self, match: Callable[[str], bool], timeout: float = 20.0) -> str:  # noqa: ASYNC109
        """The first log line that matches, waiting for it (fails if the process ends)."""
        async with self._new_line, asyncio.timeout(timeout):
            while True:
                found = next((line for line in self.lines if match(line)), None)
                if found is not None:
                    return found
                assert not self._pump.done(), f"the bot exited:\n{self.tail()}"
                await self._new_line.wait()

    def tail(self, count: int = 25) -> str:
        return "\n".join(self.lines[-count:])

    async def sigkill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.proc.wait(), 30) == -signal.SIGKILL

    async def terminate(self) -> int:
        """SIGTERM: the bot stops cleanly; its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await self._pump
        return code

    async def cleanup(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(self._pump, return_exceptions=True)


class Stall:
    """Holds the fake's answer to one message create until released: the message is stored
    and its nonce remembered, but the bot never hears back, so it is certain to die with a
    posted row it has not recorded as sent."""

    def __init__(self, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
        self.after: int | None = None
        self.reached = asyncio.Event()
        self.released = asyncio.Event()
        original = fake._dispatch_message

        async def dispatch(event: str, message: JSON) -> int:
            if (
                self.after is not None
                and not self.reached.is_set()
                and event == "MESSAGE_CREATE"
                and len(fake.sent) >= self.after
            ):
                self.reached.set()
                await self.released.wait()
            return await original(event, message)

        monkeypatch.setattr(fake, "_dispatch_message", dispatch)

    def at(self, count: int) -> None:
        """Stall the answer to the ``count``-th recorded message."""
        self.after = count


@pytest.fixture
def stall(discord_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stall]:
    held = Stall(discord_fake, monkeypatch)
    try:
        yield held
    finally:
        held.released.set()


def add_channels(fake: FakeDiscord, count: int) -> list[Channel]:
    guild = guild_of(fake)
    return [fake.add_channel(guild, f"room-{i:04d}") for i in range(count)]


def room_of(channel: Channel) -> Room:
    return Room(f"discord:{channel.id}", "discord", f"#{channel.name}")


def created(fake: FakeDiscord) -> list[RecordedMessage]:
    return [m for m in fake.sent if m.action == "create"]


async def all_posted(fake: FakeDiscord, wanted: set[tuple[int, str]], timeout: float) -> None:  # noqa: ASYNC109
    """Wait (on the fake's recordings) until every (channel, text) has a message."""

    def find() -> bool | None:
        posted = {(m.channel_id, m.content) for m in created(fake)}
        return True if wanted <= posted else None

    await fake.wait_until(find, timeout, f"{len(wanted)} posts")


async def sent_count(db: Database) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == SENT)
        )
    return int(found or 0)


async def until_recorded(db: Database, total: int, bot: BotProcess, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has recorded ``total`` rows as sent.

    A commit is not visible on the fake, so this one wait polls the database (every 50 ms);
    it starts only once the fake has every post, when at most a batch is left to record.
    """
    async with asyncio.timeout(timeout):
        while await sent_count(db) < total:
            assert bot.proc.returncode is None, bot.tail()
            await asyncio.sleep(0.05)


async def check_rows_match_messages(db: Database, fake: FakeDiscord, total: int) -> list[OutboxRow]:
    """Every row is sent and names the one message the fake holds for its nonce."""
    async with db.sessions() as session:
        rows = list((await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all())
    assert len(rows) == total
    assert {r.state for r in rows} == {SENT}
    by_nonce = {m.nonce: m for m in created(fake)}
    for row in rows:
        message = by_nonce[nonce_of(row.id)]
        assert row.message_id == str(message.message_id)
        assert row.room_id == f"discord:{message.channel_id}"
    return rows


@pytest.mark.e2e
async def test_sigkill_mid_broadcast_then_restart_posts_every_room_exactly_once(
    discord_fake: FakeDiscord, stall: Stall, tmp_path: Path
) -> None:
    """Killed (SIGKILL) while posting an announcement to 500 Discord channels, with a posted
    message not yet recorded, and restarted: every channel has the announcement exactly
    once (the re-sent rows hit the nonce) and every outbox row is sent."""
    fake = discord_fake
    channels = add_channels(fake, 500)
    total = len(channels)
    text = "The December call is on Friday at 15:00 UTC"
    organiser = f"discord:{guild_of(fake).owner_id}"
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = write_config(tmp_path / "config.toml", url, fake, "solo")
    db = Database(url, SystemClock())
    await db.upgrade()
    now = datetime.now(UTC)
    rooms = [room_of(c) for c in channels]
    async with db.session() as session:
        await session.execute(
            insert(BroadcastRoomRow),
            [
                {
                    "room_id": r.id,
                    "platform": "discord",
                    "name": r.name,
                    "added_by": organiser,
                    "added_at": now,
                }
                for r in rooms
            ],
        )
        session.add(
            AnnouncementRow(
                id=1,
                text=text,
                created_by=organiser,
                origin_room_id=rooms[0].id,
                rooms="[]",
                state="confirmed",
                created_at=now,
                confirmed_at=now,
            )
        )
        await enqueue(
            session,
            [
                Delivery(
                    "discord",
                    Reply.of(Plain(text)),
                    room=r,
                    kind=ANNOUNCEMENT,
                    owner_id=organiser,
                    ref="announcement:1",
                    due_at=now,
                    expires_at=now + timedelta(hours=6),
                )
                for r in rooms
            ],
            now,
        )
    stall.at(100)
    start = {"rate": 100.0, "burst": 20.0, "lease": 60.0}
    first = await BotProcess.start(config, fake.token, **start)
    second: BotProcess | None = None
    try:
        async with asyncio.timeout(20):
            await stall.reached.wait()
        await first.sigkill()
        stall.released.set()
        posted_before = len(created(fake))
        assert posted_before < total, "the broadcast finished before the kill"
        in_doubt = posted_before - await sent_count(db)  # posted, not recorded as sent
        assert in_doubt >= 1  # at least the stalled one

        second = await BotProcess.start(config, fake.token, **start)
        await all_posted(fake, {(c.id, text) for c in channels}, timeout=25)
        await until_recorded(db, total, second)
        assert await second.terminate() == 0, second.tail()
    finally:
        await first.cleanup()
        if second is not None:
            await second.cleanup()
    per_channel = Counter(m.channel_id for m in created(fake) if m.content == text)
    assert per_channel == {c.id: 1 for c in channels}  # every room exactly once
    assert len(created(fake)) == total
    assert all(m.enforce_nonce for m in created(fake))
    stored = Counter(
        int(m["channel_id"]) for m in fake.messages.values() if m.get("content") == text
    )
    assert stored == per_channel
    assert len(fake.nonce_hits) == in_doubt  # each posted-but-unrecorded row re-sent once
    assert all(r.method == "POST" and r.status == 200 for r in fake.nonce_hits)
    await check_rows_match_messages(db, fake, total)
    await db.close()
    assert fake.gateway.identify_count == 2


@pytest.mark.e2e
@pytest.mark.postgres
async def test_owner_killed_mid_delivery_standby_finishes_each_delivery_exactly_once(
    discord_fake: FakeDiscord, stall: Stall, postgres_url: str, tmp_path: Path
) -> None:
    """Two real bots on one PostgreSQL, 1,000 due deliveries to Discord: the owner of
    ``adapter:discord`` sends while the other stands by; SIGKILLed part-way with a posted
    message unrecorded, the standby takes the connection over and finishes: every delivery
    id appears exactly once at Discord and every row is sent."""
    fake = discord_fake
    channels = add_channels(fake, 250)
    per_room = 4
    total = len(channels) * per_room
    wanted = {(c.id, f"Delivery {n} to {c.name}") for c in channels for n in range(per_room)}
    db = Database(postgres_url, SystemClock())
    await db.upgrade()
    now = datetime.now(UTC)
    async with db.session() as session:
        await enqueue(
            session,
            [
                Delivery("discord", Reply.of(Plain(f"Delivery {n} to {c.name}")), room=room_of(c))
                for n in range(per_room)
                for c in channels
            ],
            now,
        )
    configs = {
        name: write_config(tmp_path / f"{name}.toml", postgres_url, fake, name)
        for name in ("first", "second")
    }
    start = {"rate": 100.0, "burst": 20.0, "lease": 3.0}
    first = await BotProcess.start(configs["first"], fake.token, **start)
    second: BotProcess | None = None
    try:
        await first.expect_log(lambda line: "discord_ready" in line)
        second = await BotProcess.start(configs["second"], fake.token, **start)
        await second.expect_log(lambda line: "standby" in line and "first" in line)
        assert fake.gateway.identify_count == 1  # the standby has not connected
        stall.at(len(created(fake)) + 20)
        async with asyncio.timeout(20):
            await stall.reached.wait()
        await first.sigkill()
        posted_by_first = len(created(fake))  # the standby cannot post for 1.5 s at least
        stall.released.set()
        assert posted_by_first < total, "the owner finished before the kill"

        await second.expect_log(lambda line: "lease_acquired" in line, timeout=10)
        await all_posted(fake, wanted, timeout=25)
        await until_recorded(db, total, second)
        assert await second.terminate() == 0, second.tail()
    finally:
        await first.cleanup()
        if second is not None:
            await second.cleanup()
    messages = created(fake)
    assert len(messages) == total
    assert Counter((m.channel_id, m.content) for m in messages) == dict.fromkeys(wanted, 1)
    rows = await check_rows_match_messages(db, fake, total)
    await db.close()
    nonces = Counter(m.nonce for m in messages)
    assert nonces == {nonce_of(r.id): 1 for r in rows}  # every delivery id exactly once
    recorded_by = Counter(r.claimed_by for r in rows)
    assert set(recorded_by) == {"first", "second"}
    in_doubt = posted_by_first - recorded_by["first"]  # posted, unrecorded at the kill
    assert in_doubt >= 1  # at least the stalled one
    assert len(fake.nonce_hits) == in_doubt  # each re-sent once by the new owner
    assert fake.gateway.identify_count == 2
