"""Several instances: one bot per SQLite file; on PostgreSQL, one connection owner per
platform (lease ``adapter:<platform>``) with take-over, and deliveries shared between bots."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.console import ConsoleAdapter
from chatbot.base.clock import FakeClock, SystemClock
from chatbot.base.config import parse_config
from chatbot.base.errors import ConfigError, InstanceLocked
from chatbot.delivery.leases import Leases
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import SENT, Delivery, enqueue
from chatbot.messages.events import Plain, Reply, Room
from chatbot.runtime.bot import Bot
from chatbot.storage import Database
from chatbot.storage.delivery import OutboxRow
from tests.outbox_helpers import Recorder

ROOT = Path(__file__).resolve().parent.parent
PONG = "Pong! I'm here."


class Instance:
    """A real ``chatbot run`` process; stdout and stderr are read line by line into queues."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: asyncio.Queue[str | None] = asyncio.Queue()
        self.err: asyncio.Queue[str | None] = asyncio.Queue()
        self.stderr_seen: list[str] = []
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._pump(proc.stdout, self.out, [])),
            asyncio.ensure_future(self._pump(proc.stderr, self.err, self.stderr_seen)),
        ]

    @classmethod
    async def start(cls, config: Path) -> Instance:
        env = {k: v for k, v in os.environ.items() if k != "CHATBOT_DATABASE_URL"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chatbot",
            "run",
            "-c",
            str(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        return cls(proc)

    @staticmethod
    async def _pump(
        stream: asyncio.StreamReader, queue: asyncio.Queue[str | None], seen: list[str]
    ) -> None:
        while raw := await stream.readline():
            line = raw.decode().rstrip("\n")
            seen.append(line)
            queue.put_nowait(line)
        queue.put_nowait(None)

    async def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(
        self, queue: asyncio.Queue[str | None], match: Callable[[str], bool], wait: float = 30
    ) -> str:
        """The next line of ``queue`` that matches (lines before it are dropped)."""

        async def read() -> str:
            while (line := await queue.get()) is not None:
                if match(line):
                    return line
            raise AssertionError(f"the process ended; stderr: {self.stderr_seen[-20:]}")

        return await asyncio.wait_for(read(), wait)

    async def end(self) -> int:
        """Close stdin (the console's end of input stops the bot) and wait for the exit."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await asyncio.gather(*self._readers)
        return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(*self._readers, return_exceptions=True)

    def pending_output(self) -> list[str]:
        """Stdout lines read but not consumed yet (the process has ended)."""
        lines: list[str] = []
        while not self.out.empty():
            line = self.out.get_nowait()
            if line is not None:
                lines.append(line)
        return lines


# -- one bot per SQLite file ---------------------------------------------------------------

SQLITE_CONFIG = """
[bot]
database = "sqlite:///{db}"
adapters = ["console"]
commands = ["basics"]
[logging]
level = "warning"
"""


async def test_a_second_bot_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    """The instance lock is exclusive per file, released on close, and absent on :memory:."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = parse_config(SQLITE_CONFIG.format(db=tmp_path / "bot.db"))
    first = Bot(config, clock=FakeClock(), adapters=[ConsoleAdapter(config)])
    await first.open()
    second = Database(url, FakeClock())
    try:
        with pytest.raises(InstanceLocked) as refused:
            second.lock_instance()
        assert str(refused.value) == (
            f"another bot instance is already using {tmp_path / 'bot.db'}; "
            "use PostgreSQL to run several instances (see README)"
        )
        assert (tmp_path / "bot.db.lock").exists()
        await first.close()
        second.lock_instance()  # free once the first bot closed
    finally:
        await first.close()
        await second.close()
    memory = Database("sqlite:///:memory:", FakeClock())
    memory.lock_instance()  # nothing to lock
    await memory.close()


@pytest.mark.e2e
async def test_second_process_on_one_sqlite_file_exits_2(tmp_path: Path) -> None:
    """While a bot runs, ``chatbot run`` on the same file exits 2 naming the file and the fix."""
    config = tmp_path / "config.toml"
    config.write_text(SQLITE_CONFIG.format(db=tmp_path / "bot.db"))
    first = await Instance.start(config)
    try:
        await first.say("!ping")
        await first.expect(first.out, lambda line: line == PONG)  # up and serving
        second = await Instance.start(config)
        code = await asyncio.wait_for(second.proc.wait(), 30)
        await second.kill()
        assert code == 2
        assert second.stderr_seen == [
            f"chatbot: another bot instance is already using {tmp_path / 'bot.db'}; "
            "use PostgreSQL to run several instances (see README)"
        ]
        await first.say("!ping")
        await first.expect(first.out, lambda line: line == PONG)  # undisturbed
        assert await first.end() == 0
    finally:
        await first.kill()


# -- one connection owner per platform on PostgreSQL -----------------------------------------

POSTGRES_CONFIG = """
[bot]
database = "{url}"
adapters = ["console"]
commands = ["basics"]
[logging]
level = "info"
[ratelimit]
exempt_platforms = ["console"]
[instances]
name = "{name}"
lease_seconds = {lease}
renew_seconds = {renew}
"""


@pytest.mark.e2e
@pytest.mark.postgres
async def test_standby_takes_over_the_console_when_the_owner_is_killed(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two processes on one PostgreSQL: the first owns ``adapter:console``; the standby does
    not answer a command typed into it until the owner is SIGKILLed, then takes the
    connection over within the lease time and answers it exactly once."""
    lease, renew = 2.0, 0.5
    configs = {}
    for name in ("first", "second"):
        configs[name] = tmp_path / f"{name}.toml"
        configs[name].write_text(
            POSTGRES_CONFIG.format(url=postgres_url, name=name, lease=lease, renew=renew)
        )
    db = Database(postgres_url, SystemClock())
    leases = Leases(db, holder="test")
    first = await Instance.start(configs["first"])
    second: Instance | None = None
    try:
        await first.say("!ping")
        await first.expect(first.out, lambda line: line == PONG)
        assert await leases.holder_of("adapter:console") == "first"
        second = await Instance.start(configs["second"])
        await second.expect(second.err, lambda line: "standby" in line and "first" in line)
        await second.say("!ping")  # waits in the standby's input until it owns the console
        await first.say("!ping")
        await first.expect(first.out, lambda line: line == PONG)
        assert second.out.empty()  # the standby has said nothing
        assert await leases.holder_of("adapter:console") == "first"

        first.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        assert await asyncio.wait_for(first.proc.wait(), 30) == -signal.SIGKILL
        await second.expect(second.out, lambda line: line == PONG, wait=lease + renew + 10)
        took = time.monotonic() - killed
        assert took < lease + renew + 2.0, f"take-over took {took:.1f} s"
        assert await leases.holder_of("adapter:console") == "second"
        assert await second.end() == 0
        assert second.pending_output() == []  # answered exactly once
        assert any("lease_acquired" in line for line in second.stderr_seen)
        assert await leases.holder_of("adapter:console") is None  # released at exit
    finally:
        await first.kill()
        if second is not None:
            await second.kill()
        await db.close()


class Connection(Recorder):
    """A recording adapter that serves until stopped, like a real connection."""

    def __init__(self, *, shared: bool = False) -> None:
        super().__init__()
        self.shared_connection = shared
        self.stopped = asyncio.Event()
        self.on_post: Callable[[], None] = lambda: None

    async def run(self, core: object, started: Callable[[], None]) -> None:
        started()
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()

    async def send(self, out: object) -> object:  # type: ignore[override]
        sent = await super().send(out)  # type: ignore[arg-type]
        self.on_post()
        await asyncio.sleep(0)  # let the other bot in, as a network send would
        return sent


def bot_on(url: str, name: str, adapter: Connection) -> Bot:
    config = parse_config(
        f'[bot]\ndatabase = "{url}"\nadapters = []\ncommands = []\n'
        f'[instances]\nname = "{name}"\nlease_seconds = 2\nrenew_seconds = 0.5\n'
    )
    bot = Bot(config, clock=SystemClock(), adapters=[adapter])  # type: ignore[list-item]
    outbox_of(bot)
    return bot


async def serve_until(bots: list[Bot], done: asyncio.Event) -> None:
    """Run the bots until ``done`` is set, then stop them."""
    tasks = [asyncio.ensure_future(bot.run()) for bot in bots]
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        for bot in bots:
            bot.stop()
        await asyncio.gather(*tasks)


def deliveries(count: int) -> list[Delivery]:
    return [
        Delivery(
            "memory",
            Reply.of(Plain(f"hello {i}")),
            room=Room(f"memory:#r{i}", "memory", f"#r{i}"),
        )
        for i in range(count)
    ]


async def states(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
        )
        return {state: count for state, count in rows.all()}


@pytest.mark.postgres
async def test_two_bots_deliver_1000_rows_exactly_once(postgres_url: str) -> None:
    """Two whole bots (own engines, outbox workers) on one PostgreSQL, both sending on a
    shared connection: 1,000 due deliveries are each posted exactly once."""
    adapters = [Connection(shared=True), Connection(shared=True)]
    bots = [bot_on(postgres_url, f"bot{n}", a) for n, a in enumerate(adapters)]
    all_posted = asyncio.Event()

    def count() -> None:
        if sum(len(a.posts) for a in adapters) >= 1000:
            all_posted.set()

    for adapter in adapters:
        adapter.on_post = count
    await bots[0].db.upgrade()
    async with bots[0].db.session() as session:
        await enqueue(session, deliveries(1000), datetime.now(UTC))
    await serve_until(bots, all_posted)
    delivery_ids = [p[1] for a in adapters for p in a.posts]
    assert len(delivery_ids) == 1000 and len(set(delivery_ids)) == 1000
    assert all(a.posts for a in adapters)  # both bots took a share
    probe = Database(postgres_url, SystemClock())
    try:
        assert await states(probe) == {SENT: 1000}
    finally:
        await probe.close()


@pytest.mark.postgres
async def test_only_the_connection_owner_sends(postgres_url: str) -> None:
    """With a lease-managed connection, the standby bot is ready but its outbox claims
    nothing for that platform: every delivery goes through the owner."""
    owner, standby = Connection(), Connection()
    bots = [bot_on(postgres_url, "owner", owner), bot_on(postgres_url, "standby", standby)]
    await bots[0].db.upgrade()
    all_posted = asyncio.Event()
    tasks = [asyncio.ensure_future(bots[0].run())]
    try:
        await asyncio.wait_for(bots[0].ready.wait(), 30)
        tasks.append(asyncio.ensure_future(bots[1].run()))
        await asyncio.wait_for(bots[1].ready.wait(), 30)
        assert bots[0].connected == {"memory"} and bots[1].connected == set()
        assert bots[1].owns_connection("memory") is False

        def count() -> None:
            if len(owner.posts) >= 200:
                all_posted.set()

        owner.on_post = count
        async with bots[1].db.session() as session:
            await outbox_of(bots[1]).enqueue(session, deliveries(200))
        for bot in bots:
            outbox_of(bot).wake()
        await asyncio.wait_for(all_posted.wait(), 60)
        assert standby.posts == []
        assert len({p[1] for p in owner.posts}) == 200
    finally:
        for bot in bots:
            bot.stop()
        await asyncio.gather(*tasks)


def test_instances_and_web_sections_are_checked() -> None:
    """Defaults as documented; a renewal interval not under the lease is refused by name."""
    config = parse_config("")
    assert (config.instances.name, config.instances.lease_seconds) == ("", 30.0)
    assert config.instances.renew_seconds == 10.0
    assert (config.web.enabled, config.web.host, config.web.port) == (False, "127.0.0.1", 8080)
    with pytest.raises(ConfigError, match=r"<config>:3: instances.renew_seconds: must be"):
        parse_config("[instances]\nlease_seconds = 5\nrenew_seconds = 5\n")
    with pytest.raises(ConfigError, match=r"instances.lease_seconds: must be greater than 0"):
        parse_config("[instances]\nlease_seconds = 0\n")
    with pytest.raises(ConfigError, match=r"web.port"):
        parse_config("[web]\nport = 70000\n")
