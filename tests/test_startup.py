"""Ready means ready: what a member types the moment the real ``chatbot run`` logs ``ready``
is answered as it is later.  Start-up leaves work until after ``ready`` (issue #16: the FAQ
engine, the outbox, command-only imports); these commands need each of those at once."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from chatbot.runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path) -> Path:
    text = (ROOT / "config.example.toml").read_text()
    text = text.replace('level = "warning"', 'level = "info"')
    text = text.replace("sqlite:///data/chatbot.db", f"sqlite:///{tmp_path / 'bot.db'}")
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> str:
    regex = re.compile(pattern)
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError(f"the bot exited before {pattern!r}; it wrote: {seen[-40:]}")
        line = raw.decode().rstrip("\n")
        seen.append(line)
        if regex.search(line):
            return line


async def _drain(stream: asyncio.StreamReader, seen: list[str]) -> None:
    """Keep reading the log after ``ready`` (a full pipe would stall the bot)."""
    async for raw in stream:
        seen.append(raw.decode().rstrip("\n"))


@pytest.mark.e2e
async def test_commands_typed_the_instant_the_bot_is_ready_are_answered(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "CHATBOT_DATABASE_URL"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "chatbot", "run", "-c", str(_config(tmp_path))),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=environ,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout
    log: list[str] = []
    out: list[str] = []
    try:
        await asyncio.wait_for(_read_until(proc.stderr, r"event='ready'", log), 60)
        drain = asyncio.create_task(_drain(proc.stderr, log))
        # typed at once, in one write, the moment the log says ready
        proc.stdin.write(
            b"!ask How do I join the user group?\n"
            b"!faq show join-the-group\n"
            b"!meetings\n"
            b"!tz set lagos\n"
            b"/dm\n"
            b"how do I join the user group\n"
            b"/room #general\n"
            b"/as ana\n"
            b"!announce rooms add here\n"
            b"!announce Hello from the start-up test\n"
            b"!announce confirm 1\n"
        )
        await proc.stdin.drain()

        async def replies() -> None:
            await _read_until(stdout, r"^Q: How do I join the user group\?", out)
            await _read_until(stdout, r"Membership is explained", out)
            await _read_until(stdout, r"^`join-the-group` ", out)
            await _read_until(stdout, r"^No meetings are planned yet\.", out)
            await _read_until(stdout, r"^Done: your time zone is Africa/Lagos", out)
            await _read_until(stdout, r"^Q: How do I join the user group\?", out)  # the DM
            await _read_until(stdout, r"Membership is explained", out)
            await _read_until(stdout, r"^Added #general to the broadcast rooms", out)
            await _read_until(stdout, r"^Preview of announcement #1", out)
            await _read_until(stdout, r"^Announcement #1 is on its way to 1 room", out)
            await _read_until(stdout, r"^Hello from the start-up test$", out)  # posted

        await asyncio.wait_for(replies(), 60)
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await drain
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert not [line for line in log if "level='error'" in line], log


@pytest.mark.parametrize("form", [["-c"], ["--config"], ["--config="]])
def test_run_reads_its_config_option_in_every_form(
    form: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``chatbot run`` is read without argparse (start-up): every spelling of ``-c`` names
    the file, and a config error is one line with exit status 2, as for the other commands."""
    missing = str(tmp_path / "missing.toml")
    argv = ["run", form[0] + missing] if form[0].endswith("=") else ["run", form[0], missing]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatbot: config error: ") and "missing.toml" in err
    assert err.count("\n") == 1


def test_run_with_anything_else_is_explained_by_argparse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    assert "--config" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["run", "-c"])
    assert exit_.value.code == 2
    assert "expected one argument" in capsys.readouterr().err
