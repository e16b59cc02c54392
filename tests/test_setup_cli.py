"""``chatbot init`` writes a config the bot accepts; ``chatbot check-config`` names every
missing or wrong piece at once, with the fix."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chatbot.base.config import load_config
from chatbot.runtime.cli import main

GROUP = [
    "--non-interactive",
    "--platforms",
    "matrix,discord",
    "--homeserver",
    "https://matrix.example.org",
    "--matrix-rooms",
    "!general:example.org,!organisers:example.org",
    "--discord-application",
    "1234",
    "--discord-guilds",
    "123456789012345678",
    "--organisers",
    "matrix:@ana:example.org,discord:42",
    "--database",
    "postgresql://wmlib:s3cret@db.example.org/chatbot",
    "--web-url",
    "https://bot.example.org",
]


def test_init_writes_a_config_the_bot_loads_and_keeps_secrets_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--dir", str(tmp_path), *GROUP]) == 0
    out = capsys.readouterr().out
    assert "client_id=1234" in out and "permissions=317827664960" in out  # the invite link
    config = load_config(tmp_path / "config.toml")
    assert config.bot.adapters == ["matrix", "discord"]
    assert config.bot.database == "postgresql://wmlib@db.example.org/chatbot"
    assert "s3cret" not in (tmp_path / "config.toml").read_text()
    assert config.adapters["matrix"]["user_id"] == "@wmlib-bot:example.org"
    assert config.adapters["matrix"]["organiser_rooms"] == [
        "!general:example.org",
        "!organisers:example.org",
    ]
    assert config.adapters["discord"]["guild_ids"] == [123456789012345678]
    assert config.permissions.organisers == ["matrix:@ana:example.org", "discord:42"]
    assert config.web.enabled and config.web.public_url == "https://bot.example.org"
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = dict(
        line.split("=", 1) for line in env.read_text().splitlines() if not line.startswith("#")
    )
    assert values == {
        "CHATBOT_DATABASE_URL": "postgresql://wmlib:s3cret@db.example.org/chatbot",
        "WMLIB_MATRIX_PASSWORD": "",
        "DISCORD_TOKEN": "",
    }
    # a second run does not overwrite what the operator filled in
    assert main(["init", "--dir", str(tmp_path), *GROUP]) == 1
    assert "--force" in capsys.readouterr().err


def test_init_with_no_answers_is_the_console_on_sqlite(tmp_path: Path) -> None:
    assert main(["init", "--dir", str(tmp_path), "--non-interactive"]) == 0
    config = load_config(tmp_path / "config.toml")
    assert config.bot.adapters == ["console"]
    assert config.bot.database.startswith("sqlite:///")


def test_init_refuses_bad_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["init", "--dir", str(tmp_path), "--non-interactive"]
    assert main([*args, "--platforms", "matrix,slack"]) == 2
    assert "unknown platform slack" in capsys.readouterr().err
    assert main([*args, "--platforms", "discord", "--discord-guilds", "My Server"]) == 2
    assert "Copy Server ID" in capsys.readouterr().err
    assert not (tmp_path / "config.toml").exists()


def test_check_config_names_every_problem_with_its_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WMLIB_MATRIX_PASSWORD", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("CHATBOT_DATABASE_URL", raising=False)
    assert main(["init", "--dir", str(tmp_path), *GROUP]) == 0
    capsys.readouterr()
    path = str(tmp_path / "config.toml")
    assert main(["check-config", "-c", path]) == 2
    captured = capsys.readouterr()
    assert "NOT OK" in captured.out
    out = captured.err
    assert (
        "error: adapters.matrix.password_env: the environment variable WMLIB_MATRIX_PASSWORD" in out
    )
    assert "error: adapters.discord.token_env: the environment variable DISCORD_TOKEN" in out
    assert "fix: put DISCORD_TOKEN=... in the .env file" in out
    monkeypatch.setenv("WMLIB_MATRIX_PASSWORD", "x")
    monkeypatch.setenv("DISCORD_TOKEN", "y")
    assert main(["check-config", "-c", path]) == 0
    assert "OK (adapters: matrix, discord" in capsys.readouterr().out


def test_check_config_warnings_do_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ndatabase = "sqlite:///{tmp_path}/bot.db"\n'
        '[web]\nenabled = true\nhost = "0.0.0.0"\n',
        encoding="utf-8",
    )
    assert main(["check-config", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "warning: permissions.organisers: nobody is an organiser" in out
    assert "warning: web.public_url" in out
    assert "warning: web.host: 0.0.0.0 serves /metrics" in out


def test_check_config_an_adapter_that_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[bot]\nadapters = ["matrix"]\n[permissions]\norganisers = ["matrix:@a:x"]\n'
        '[adapters.matrix]\nhomeserver = "https://x"\n',
        encoding="utf-8",
    )
    assert main(["check-config", "-c", str(config)]) == 2
    out = capsys.readouterr().err
    assert "error: adapters.matrix:" in out and "user_id" in out


def test_init_asks_in_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal the missing answers are asked (an empty answer takes the default)."""
    # platforms, database, organisers, feed address, homeserver, bot id, rooms
    answers = iter(["matrix", "", "", "", "https://matrix.example.org", "", "!general:example.org"])
    asked: list[str] = []

    def fake_input(prompt: str) -> str:
        asked.append(prompt)
        return next(answers, "")

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr("sys.stdin", Terminal())
    assert main(["init", "--dir", str(tmp_path)]) == 0
    assert asked[0] == "Platforms (matrix, discord, console) [console]: "
    assert "The bot's Matrix id [@wmlib-bot:example.org]: " in asked
    config = load_config(tmp_path / "config.toml")
    assert config.bot.adapters == ["matrix"]
    assert config.bot.database == "sqlite:///data/chatbot.db"
    assert config.adapters["matrix"]["user_id"] == "@wmlib-bot:example.org"
    assert config.adapters["matrix"]["allowed_rooms"] == ["!general:example.org"]
    assert not config.web.enabled
