"""The real `chatbot run` process with the console adapter, driven through a pipe."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatbot.base.clock import FakeClock
from tests.harness import open_chat, start_chatbot

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


class BotProcess:
    """A running bot whose stdin we type into and whose stdout we read."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr_path: Path) -> None:
        self.proc = proc
        self.stderr_path = stderr_path
        self.seen: list[str] = []

    async def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(self, pattern: str, wait: float = 20.0) -> str:
        """Read output lines until one matches; return everything read up to it."""
        assert self.proc.stdout is not None
        regex = re.compile(pattern)
        chunk: list[str] = []

        async def read() -> str:
            assert self.proc.stdout is not None
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(
                        f"bot exited before {pattern!r}; output: {chunk}; "
                        f"stderr: {self.stderr_path.read_text()[-2000:]}"
                    )
                line = raw.decode().rstrip("\n")
                chunk.append(line)
                self.seen.append(line)
                if regex.search(line):
                    return "\n".join(chunk)

        return await asyncio.wait_for(read(), wait)

    async def ask(self, line: str, pattern: str) -> str:
        await self.say(line)
        return await self.expect(pattern)

    async def finish(self) -> int:
        """Close stdin (end of input ends the bot) and wait for a clean exit."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return await asyncio.wait_for(self.proc.wait(), 20)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    text = (ROOT / "config.example.toml").read_text()
    text = text.replace(
        'database = "sqlite:///data/chatbot.db"', f'database = "sqlite:///{tmp_path / "bot.db"}"'
    )
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.fixture
async def start(config_file: Path, tmp_path: Path) -> AsyncIterator[object]:
    procs: list[asyncio.subprocess.Process] = []

    async def launch() -> BotProcess:
        stderr_path = tmp_path / f"stderr-{len(procs)}.log"
        proc = await start_chatbot(config_file, stderr_path, tmp_path)
        procs.append(proc)
        return BotProcess(proc, stderr_path)

    yield launch
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_newcomer_session(start: object) -> None:
    """Everything the quick start promises a newcomer works in the real process."""
    assert callable(start)
    bot: BotProcess = await start()
    out = await bot.ask("!help", r"!tz")
    await bot.expect(r"!forgetme")
    assert "Here's what I can do" in out
    await bot.ask("!help tz", r"Examples:")
    assert "Pong" in await bot.ask("!ping", r"Pong")
    await bot.ask("!about", r"Start with")
    out = await bot.ask("!tz set Europe/Paris", r"Done: ")
    assert "Europe/Paris" in out
    assert "Africa/Lagos" in await bot.ask("!tz set lagos", r"Done: ")
    assert "America/Sao_Paulo" in await bot.ask("!tz set sao paulo", r"Done: ")
    assert "UTC+05:30" in await bot.ask("!tz set UTC+5:30", r"Done: ")
    out = await bot.ask("!tz set IST", r"Asia/Jerusalem|Europe/Dublin")
    await bot.expect(r"tz set (Asia/Kolkata|Europe/Dublin|Asia/Jerusalem)")
    out = await bot.ask("!tz", r"Your time zone is")
    assert "UTC+05:30" in out
    out = await bot.ask("!mydata", r"forgetme")
    assert "[DM to alice]" in out and '"time_zone": "UTC+05:30"' in out
    await bot.ask("!forgetme", r"forgetme confirm")
    await bot.ask("!forgetme confirm", r"deleted everything")
    assert "haven't set a time zone" in await bot.ask("!tz", r"haven't set")
    assert await bot.finish() == 0


async def test_console_members_rooms_and_dm(start: object) -> None:
    """/as, /room and /dm switch who is talking and where, in piped mode too."""
    assert callable(start)
    bot: BotProcess = await start()
    await bot.say("/as bob")
    await bot.ask("!tz set manila", r"Done: ")
    await bot.say("/dm")
    out = await bot.ask("hello there", r"help")
    assert "`!help`" in out
    await bot.say("/as alice")
    await bot.say("/room #general")
    assert "haven't set" in await bot.ask("!tz", r"haven't set")
    assert await bot.finish() == 0


async def test_sigkill_mid_dialogue_then_resume(start: object) -> None:
    """Killed with SIGKILL in the middle of !setup, the bot resumes at the same step."""
    assert callable(start)
    bot: BotProcess = await start()
    await bot.ask("!setup", r"1/2")
    await bot.ask("lagos", r"2/2")
    bot.proc.send_signal(signal.SIGKILL)
    assert await bot.proc.wait() == -signal.SIGKILL
    again: BotProcess = await start()
    out = await again.ask("fr", r"Say `yes` to confirm")
    assert "time zone: Africa/Lagos" in out and "language: fr" in out
    # French was chosen for the bot's messages: the answers from then on are in French
    assert "Tout est prêt" in await again.ask("yes", r"Tout est prêt")
    assert "Africa/Lagos" in await again.ask("!tz", r"Votre fuseau horaire")
    assert await again.finish() == 0


async def test_the_consoles_own_lines_follow_the_members_language(
    db_url: str, clock: FakeClock
) -> None:
    """The console's own words (its commands' notes, the direct-message tag, an unknown
    console command) are in the language the member at the console chose."""
    chat = await open_chat(db_url, clock)
    try:
        chat.adapter.interactive = True  # notes like /who are printed on a terminal only
        await chat.say("!lang fr")
        assert await chat.say("/frobnicate") == (
            "Commande de console inconnue : '/frobnicate'. /help en donne la liste."
        )
        mydata = await chat.say("!mydata")
        assert "[Message privé à alice]" in mydata and "[DM to" not in mydata
        await chat.say("!lang es")
        assert await chat.say("/room #eventos") == "Ahora estás en #eventos."
        await chat.say("!lang pt", as_="bob")
        assert await chat.say("/who") == "Você é bob em #eventos."
        await chat.say("!lang de")
        assert await chat.say("/dm") == (
            "Du bist jetzt in einer Direktnachricht mit dem Bot. /room #general bringt dich zurück."
        )
        await chat.say("!lang en")
        assert await chat.say("/who") == "You are bob in DM bob."
    finally:
        await chat.bot.close()
