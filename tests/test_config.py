"""Configuration errors name the key and the line; secrets stay out of the file."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import msgspec
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


# -- the example shows the code's defaults ---------------------------------------------------

_KEY_LINE = re.compile(r"^(?:#\s?)?([a-z_]+\s*=.*)$")
_TABLE_LINE = re.compile(r"^(?:#\s?)?\[([a-z_.]+)\]\s*$")
#: a value that is not the default says so: ``# example (default: []``) or ``(required)``
_MARKER = re.compile(r"#\s*example\b[^(]*\((?:default: (?P<default>.+?)|(?P<required>required))\)")


def _sections() -> dict[str, type[msgspec.Struct]]:
    from adapters.discord import DiscordSettings
    from adapters.matrix import MatrixSettings
    from chatbot.base import config as config_module
    from commands.faq.service import FaqSettings

    tables: dict[str, type[msgspec.Struct]] = {
        field.name: field.type
        for field in msgspec.structs.fields(config_module.Config)
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct)
    }
    tables["modules.faq"] = FaqSettings
    tables["adapters.console"] = ConsoleSettings
    tables["adapters.matrix"] = MatrixSettings
    tables["adapters.discord"] = DiscordSettings
    return tables


def _default(field: msgspec.structs.FieldInfo) -> Any:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return msgspec.NODEFAULT


def test_example_config_shows_every_key_with_the_codes_default() -> None:
    """Every key of every section is in config.example.toml (commented out for the optional
    platforms), with the default the code uses, unless its comment says it is an example
    and names the real default: one source of defaults, and the file cannot drift from it."""
    sections = _sections()
    seen: dict[str, set[str]] = {name: set() for name in sections}
    wrong: list[str] = []
    table = ""
    for number, line in enumerate((ROOT / "config.example.toml").read_text().splitlines(), 1):
        header = _TABLE_LINE.match(line)
        if header:
            table = header.group(1)
            continue
        found = _KEY_LINE.match(line)
        if not found or table not in sections:
            continue
        try:
            (key, value), *_ = tomllib.loads(found.group(1)).items()
        except tomllib.TOMLDecodeError:
            continue  # prose in a comment
        fields = {f.name: f for f in msgspec.structs.fields(sections[table])}
        if key not in fields:
            wrong.append(f"line {number}: {table}.{key} is not a key")
            continue
        seen[table].add(key)
        default = _default(fields[key])
        marker = _MARKER.search(line)
        if marker is None:
            if value != default:
                wrong.append(f"line {number}: {table}.{key} = {value!r}, default {default!r}")
        elif marker.group("required"):
            if default is not msgspec.NODEFAULT:
                wrong.append(f"line {number}: {table}.{key} is not required")
        else:
            stated = marker.group("default")
            said = None if stated == "unset" else tomllib.loads(f"v = {stated}")["v"]
            if said != default:
                wrong.append(f"line {number}: {table}.{key} default is {default!r}, not {stated}")
    for name, cls in sections.items():
        for field in msgspec.structs.fields(cls):
            if field.name not in seen[name] and name not in ("adapters", "modules"):
                wrong.append(f"{name}.{field.name} is missing")
    assert wrong == [], "\n".join(wrong)


def test_default_config_enables_every_shipped_command_module() -> None:
    """A config that names no command modules (as the README's Matrix section shows) gets
    them all, !ask, !meeting and !casestudy included."""
    from chatbot.runtime.plugins import COMMANDS, available

    config = parse_config('[bot]\nadapters = ["console"]\n')
    assert sorted(config.bot.commands) == sorted(available(COMMANDS))
