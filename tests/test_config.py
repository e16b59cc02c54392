"""Configuration errors name the key and the line; secrets stay out of the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console import ConsoleSettings
from chatbot.base.config import adapter_settings, load_config, parse_config
from chatbot.base.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_is_valid() -> None:
    """The shipped example loads as it is."""
    config = load_config(ROOT / "config.example.toml")
    assert config.bot.prefix == "!"
    assert config.bot.adapters == ["console"]
    assert adapter_settings(config, "console", ConsoleSettings).member == "alice"


def test_unknown_key_names_key_and_line() -> None:
    """A misspelt key is an error naming it and its line."""
    text = "[bot]\nname = 'x'\n\n[ratelimit]\nmember_brust = 3\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "my.toml")
    assert str(info.value).startswith("my.toml:5: ratelimit.member_brust: unknown key")


def test_wrong_type_names_key_and_line() -> None:
    """A value of the wrong type says what was expected, where."""
    text = "[bot]\nprefix = '!'\n[ratelimit]\nmember_burst = 'lots'\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.toml")
    message = str(info.value)
    assert message.startswith("c.toml:4: ratelimit.member_burst:")
    assert "Expected `int`, got `str`" in message


def test_bad_values_are_refused() -> None:
    """Values of the right type but meaningless are refused with the reason."""
    with pytest.raises(ConfigError, match=r"ratelimit\.member_rate: must be greater than 0"):
        parse_config("[ratelimit]\nmember_rate = 0.0\n")
    with pytest.raises(ConfigError, match=r"bot\.prefix"):
        parse_config("[bot]\nprefix = ''\n")


def test_adapter_section_errors_name_the_adapter_key() -> None:
    """An adapter's own settings are validated with the full key path and line."""
    config = parse_config("[adapters.console]\nmember = 'a'\ncolour = true\n", "x.toml")
    with pytest.raises(ConfigError, match=r"x.toml:3: adapters.console.colour: unknown key"):
        adapter_settings(config, "console", ConsoleSettings)


def test_secrets_in_file_are_refused() -> None:
    """A password written in the file is refused with a pointer to environment variables."""
    text = "[adapters.matrix]\nhomeserver = 'https://x'\npassword = 'hunter2'\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "s.toml")
    message = str(info.value)
    assert "s.toml:3: adapters.matrix.password" in message
    assert "environment variable" in message and "hunter2" not in message
    config = parse_config("[adapters.matrix]\npassword_env = 'MATRIX_PASSWORD'\n")
    assert config.adapters["matrix"]["password_env"] == "MATRIX_PASSWORD"


def test_invalid_toml() -> None:
    """A syntax error names the file and the TOML parser's position."""
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML: .*line 2"):
        parse_config("[bot]\nname = \n", "bad.toml")


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHATBOT_DATABASE_URL overrides the file, so a password never needs to be in it."""
    monkeypatch.setenv("CHATBOT_DATABASE_URL", "postgresql://bot:pw@db/x")
    assert parse_config("").database_url() == "postgresql://bot:pw@db/x"


def test_check_config_cli(tmp_path: Path) -> None:
    """`chatbot check-config` validates without starting and exits 2 on errors."""
    ok = subprocess.run(
        [sys.executable, "-m", "chatbot", "check-config", "-c", str(ROOT / "config.example.toml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot]\nadapters = ['console', 'telegraph']\n")
    out = subprocess.run(
        [sys.executable, "-m", "chatbot", "check-config", "-c", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "no adapter called 'telegraph'" in out.stderr
