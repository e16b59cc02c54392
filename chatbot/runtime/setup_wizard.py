"""``chatbot init``: write a commented ``config.toml`` and an ``.env`` template for a group.

Every answer can be given as a flag (for scripts and tests: ``--non-interactive`` never
asks); in a terminal the missing ones are asked, with the default in brackets.  Secrets
are never asked for: they go in the ``.env`` file, which the operator fills in and which
systemd (``EnvironmentFile=``) and compose (``env_file:``) read.  The written config is
checked by the same loader the bot uses before ``init`` reports success.

Its output stays in English: it is the operator's terminal, not a member's chat (issue #19
translates what members read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from chatbot.base.config import DATABASE_ENV, load_config

PLATFORMS = ("matrix", "discord", "console")
COMMANDS = ["basics", "members", "faq", "announce", "meetings", "casestudies"]
MATRIX_PASSWORD_ENV = "WMLIB_MATRIX_PASSWORD"
DISCORD_TOKEN_ENV = "DISCORD_TOKEN"
#: View Channels, Send Messages, Send Messages in Threads, Create Public Threads, Embed
#: Links, Read Message History, Add Reactions, Manage Events (see README: Discord)
DISCORD_PERMISSIONS = sum(1 << bit for bit in (10, 11, 38, 35, 14, 16, 6, 33))
INVITE = (
    "https://discord.com/oauth2/authorize?client_id={app}"
    "&scope=bot+applications.commands&permissions={perms}"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbot init",
        description="Write a commented config.toml and a .env template for your group.",
    )
    add = parser.add_argument
    add("--dir", default=".", help="where to write config.toml and .env (default: here)")
    add("--platforms", help="comma-separated: matrix, discord, console")
    add("--homeserver", help="Matrix homeserver URL, e.g. https://matrix.example.org")
    add("--matrix-user", help="the bot's Matrix id, e.g. @wmlib-bot:example.org")
    add("--matrix-rooms", help="room ids the bot joins and whose moderators are organisers")
    add("--discord-application", help="the Discord application id (for the invite link)")
    add("--discord-guilds", help="comma-separated Discord server (guild) ids")
    add("--discord-organiser-roles", help="comma-separated role names, e.g. Organisers")
    add("--organisers", help="comma-separated ids: matrix:@ana:example.org,discord:1234")
    add("--database", help="sqlite:///data/chatbot.db (default) or postgresql://user@host/db")
    add("--web-url", help="public address of the calendar feed, e.g. https://bot.example.org")
    add("--non-interactive", action="store_true", help="never ask; use flags and defaults")
    add("--force", action="store_true", help="overwrite existing files")
    return parser


def _items(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Answers:
    """The answers, from flags or asked in the terminal."""

    def __init__(self, args: argparse.Namespace, ask: Callable[[str], str] | None) -> None:
        self.args = args
        self.ask = ask

    def get(self, name: str, question: str, default: str = "") -> str:
        value: str | None = getattr(self.args, name)
        if value is None and self.ask is not None:
            hint = f" [{default}]" if default else ""
            value = self.ask(f"{question}{hint}: ").strip()
        return value if value else default


def render_config(answers: Answers) -> tuple[str, list[str]]:
    """The config text and the lines of the ``.env`` template."""
    platforms = _items(answers.get("platforms", "Platforms (matrix, discord, console)", "console"))
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise ValueError(f"unknown platform {', '.join(unknown)}: choose from {PLATFORMS}")
    database = answers.get("database", "Database URL", "sqlite:///data/chatbot.db")
    env = [
        "# Secrets of the WMLib bot, one NAME=value a line (no quotes, no comment after a",
        "# value). Read by systemd (EnvironmentFile=) and docker compose (env_file:).",
        "# Keep it private (chmod 600); never commit it.",
    ]
    try:
        url = make_url(database)
    except ArgumentError:
        raise ValueError(f"{database!r} is not a database URL") from None
    if url.password:  # the whole URL in .env, the config shows it without the password
        env += ["# the database URL with its password (it wins over [bot] database)"]
        env.append(f"{DATABASE_ENV}={database}")
        database = url._replace(password=None).render_as_string(hide_password=False)
        database_note = f"# the password is in .env ({DATABASE_ENV})"
    else:
        database_note = "# or set CHATBOT_DATABASE_URL in .env when the URL holds a password"
    organisers = _items(answers.get("organisers", "Organisers (platform:id, comma-separated)"))
    lines = [
        "# Configuration of the WMLib community bot, written by `chatbot init`.",
        "# Every key, with its default, is in config.example.toml. Check this file with",
        "#   chatbot check-config -c config.toml            (offline)",
        "#   chatbot check-config -c config.toml --online   (logs in, checks every room)",
        "# Secrets never go here: keys ending in _env name a variable set in .env.",
        "",
        "[bot]",
        f"database = {_toml_str(database)}  {database_note}",
        f"adapters = {_toml_list(platforms)}",
        f"commands = {_toml_list(COMMANDS)}",
        "",
        "[permissions]",
        "# Platform-scoped ids: matrix:@user:server, discord:USER_ID, console:NAME.",
        f"organisers = {_toml_list(organisers)}",
        "admins = []",
        "",
        "[logging]",
        'level = "info"      # debug, info, warning or error',
        'format = "keyvalue" # or json (for a log collector)',
    ]
    web = answers.get("web_url", "Public address of the calendar feed (empty: none)")
    lines += [
        "",
        "[web]",
        "# Health, metrics and the calendar feed. The admin side (/metrics, /readyz) stays on",
        "# this address; the public side (/meetings.ics) on public_host:public_port, for a",
        "# reverse proxy (see README: Publishing the calendar feed).",
        f"enabled = {'true' if web else 'false'}",
        'host = "127.0.0.1"',
        "port = 8080",
        f"public_url = {_toml_str(web)}",
    ]
    if "matrix" in platforms:
        lines += _matrix(answers)
        env += ["# the Matrix bot account's password", f"{MATRIX_PASSWORD_ENV}="]
    if "discord" in platforms:
        lines += _discord(answers)
        env += [
            "# Discord Developer Portal > your application > Bot > Token",
            f"{DISCORD_TOKEN_ENV}=",
        ]
    if "console" in platforms:
        lines += ["", "[adapters.console]", 'member = "alice"', 'room = "#general"']
    return "\n".join(lines) + "\n", env


def _matrix(answers: Answers) -> list[str]:
    homeserver = answers.get("homeserver", "Matrix homeserver", "https://matrix.example.org")
    server = homeserver.split("://", 1)[-1].split("/")[0].removeprefix("matrix.")
    user = answers.get("matrix_user", "The bot's Matrix id", f"@wmlib-bot:{server}")
    rooms = _items(answers.get("matrix_rooms", "The group's Matrix room ids (!abc:server)"))
    return [
        "",
        "[adapters.matrix]",
        f"homeserver = {_toml_str(homeserver)}",
        f"user_id = {_toml_str(user)}",
        f'password_env = "{MATRIX_PASSWORD_ENV}"   # set in .env',
        "# the encryption keys of the bot's session: back it up (chatbot backup does)",
        'store_path = "data/matrix-store"',
        "# rooms the bot joins whoever invites it; their moderators are organisers everywhere",
        f"allowed_rooms = {_toml_list(rooms)}",
        f"organiser_rooms = {_toml_list(rooms)}",
    ]


def _discord(answers: Answers) -> list[str]:
    guilds = _items(answers.get("discord_guilds", "Discord server ids (comma-separated)"))
    bad = [g for g in guilds if not g.isdigit()]
    if bad:
        raise ValueError(f"Discord server ids are numbers (Copy Server ID): not {', '.join(bad)}")
    roles = _items(answers.get("discord_organiser_roles", "Discord organiser roles", "Organisers"))
    return [
        "",
        "[adapters.discord]",
        f'token_env = "{DISCORD_TOKEN_ENV}"   # set in .env',
        f"guild_ids = [{', '.join(guilds)}]   # slash commands appear at once there",
        f"organiser_roles = {_toml_list(roles)}",
        "# meetings also as server events (needs Manage Events)",
        "scheduled_events = true",
    ]


def init_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    interactive = not args.non_interactive and sys.stdin.isatty()
    folder = Path(args.dir)
    config_path, env_path = folder / "config.toml", folder / ".env"
    existing = [p for p in (config_path, env_path) if p.exists()]
    if existing and not args.force:
        names = " and ".join(str(p) for p in existing)
        print(f"chatbot init: {names} already exist; --force overwrites", file=sys.stderr)
        return 1
    try:
        text, env = render_config(Answers(args, input if interactive else None))
    except ValueError as exc:
        print(f"chatbot init: {exc}", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text, encoding="utf-8")
    env_path.touch(mode=0o600)
    env_path.chmod(0o600)
    env_path.write_text("\n".join(env) + "\n", encoding="utf-8")
    config = load_config(config_path)  # what the bot will read: fail here, not at start
    print(f"wrote {config_path} and {env_path} (fill in the secrets)")
    if "discord" in config.bot.adapters:
        app = args.discord_application or "APPLICATION_ID"
        print("invite the Discord bot: " + INVITE.format(app=app, perms=DISCORD_PERMISSIONS))
    print(f"next: chatbot check-config -c {config_path} --online")
    return 0
