"""``chatbot check-config``: what is missing or wrong in a config, all at once.

Offline it reads the config, loads every enabled plugin (adapters, command modules and
their settings) and looks at what the bot will need when it starts: the secrets named by
``*_env`` keys, the database's folder, the web extra.  ``--online`` then connects: the
database answers, and each adapter that can (:class:`~chatbot.dispatch.adapter.RoomChecker`)
logs in and says, per room or channel, what the bot may not do there and how to fix it.

Its output stays in English: it is the operator's terminal, not a member's chat (issue #19
translates what members read).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import make_url

from chatbot.base.config import DATABASE_ENV
from chatbot.base.errors import ConfigError

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Adapter, RoomCheck


class Finding(msgspec.Struct, frozen=True):
    """One thing to fix (``error``: the bot will not work) or to know (``warning``)."""

    where: str
    problem: str
    fix: str = ""
    error: bool = True

    def line(self) -> str:
        mark = "error" if self.error else "warning"
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"{mark}: {self.where}: {self.problem}{fix}"


def load_adapters(config: Config, findings: list[Finding]) -> list[Adapter]:
    """The config's adapters; each one that cannot be made is a finding, not a stop."""
    from chatbot.runtime.plugins import ADAPTERS, load

    made: list[Adapter] = []
    for name in config.bot.adapters:
        try:
            made.append(load(ADAPTERS, name)(config))
        except ConfigError as exc:
            findings.append(Finding(f"adapters.{name}", str(exc)))
        except ImportError as exc:
            findings.append(
                Finding(
                    f"adapters.{name}",
                    f"its library is not installed ({exc.name})",
                    "pip install 'wmlib-chatbot[all]' (every platform and the database drivers)",
                )
            )
    return made


def load_commands(config: Config, findings: list[Finding]) -> None:
    from chatbot.runtime.plugins import load_modules

    try:
        load_modules(config.bot.commands)
    except ConfigError as exc:
        findings.append(Finding("bot.commands", str(exc)))


def offline_findings(config: Config) -> tuple[list[Finding], list[Adapter]]:
    findings: list[Finding] = []
    adapters = load_adapters(config, findings)
    load_commands(config, findings)
    findings += _secrets(config)
    findings += _database(config)
    findings += _web(config)
    if not config.permissions.organisers and not config.permissions.admins:
        findings.append(
            Finding(
                "permissions.organisers",
                "nobody is an organiser by config (only platform roles and power levels count)",
                'list the organisers\' ids, e.g. organisers = ["matrix:@ana:example.org"]',
                error=False,
            )
        )
    real = [a for a in config.bot.adapters if a != "console"]
    if real and "console" in config.bot.adapters:
        findings.append(
            Finding(
                "bot.adapters",
                "the console adapter reads this terminal: a service has none",
                f"adapters = {real!r} for the group's bot".replace("'", '"'),
                error=False,
            )
        )
    return findings, adapters


def _secrets(config: Config) -> list[Finding]:
    found: list[Finding] = []
    for platform, table in config.adapters.items():
        if platform not in config.bot.adapters:
            continue
        named = {k: v for k, v in table.items() if k.endswith("_env") and v}
        if platform == "discord":
            named.setdefault("token_env", "DISCORD_TOKEN")
        if platform == "matrix" and not named:
            found.append(
                Finding(
                    "adapters.matrix",
                    "no password_env or access_token_env: the bot cannot log in",
                    'password_env = "WMLIB_MATRIX_PASSWORD", and that variable in .env',
                )
            )
        missing = {k: v for k, v in named.items() if not os.environ.get(str(v))}
        if platform == "matrix" and len(missing) < len(named):
            continue  # one way to log in is enough
        for key, variable in missing.items():
            found.append(
                Finding(
                    f"adapters.{platform}.{key}",
                    f"the environment variable {variable} is not set",
                    f"put {variable}=... in the .env file the service reads "
                    "(systemd EnvironmentFile=, compose env_file:)",
                )
            )
    return found


def _database(config: Config) -> list[Finding]:
    found: list[Finding] = []
    url = config.database_url()
    try:
        parsed = make_url(url)
    except Exception:
        return [Finding("bot.database", f"{url!r} is not a database URL")]
    if parsed.password and not os.environ.get(DATABASE_ENV):
        found.append(
            Finding(
                "bot.database",
                "the URL holds a password, in the config file",
                f"set {DATABASE_ENV} in .env instead, and leave the password out of the file",
                error=False,
            )
        )
    if parsed.drivername.startswith("sqlite"):
        path = Path(parsed.database or "")
        folder = path.parent if str(path) not in ("", ":memory:") else None
        while folder is not None and not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder is not None and not os.access(folder, os.W_OK):
            found.append(
                Finding("bot.database", f"{folder} is not writable: the bot cannot keep {path}")
            )
    elif parsed.drivername.startswith("postgres") and not importlib.util.find_spec("asyncpg"):
        found.append(
            Finding("bot.database", "PostgreSQL needs asyncpg", "pip install 'wmlib-chatbot[all]'")
        )
    return found


def _web(config: Config) -> list[Finding]:
    web = config.web
    if not web.enabled:
        return []
    found: list[Finding] = []
    if not importlib.util.find_spec("aiohttp"):
        found.append(
            Finding(
                "web.enabled", "the web extra is not installed", "pip install 'wmlib-chatbot[all]'"
            )
        )
    if not web.public_url:
        found.append(
            Finding(
                "web.public_url",
                "empty: `!meeting ics` cannot give members a link they can reach",
                "the address of your reverse proxy, e.g. https://bot.example.org",
                error=False,
            )
        )
    public_host = getattr(web, "public_host", "")
    if web.host not in ("127.0.0.1", "::1", "localhost") and not public_host:
        found.append(
            Finding(
                "web.host",
                f"{web.host} serves /metrics and /readyz, which have no authentication",
                "keep host on 127.0.0.1 and publish the feed with public_host/public_port "
                "(README: Publishing the calendar feed)",
                error=False,
            )
        )
    return found


async def online_findings(config: Config, adapters: list[Adapter]) -> list[str]:
    """Connect to the database and let each adapter check its rooms; lines to print."""
    from sqlalchemy import text

    from chatbot.base.clock import SystemClock
    from chatbot.dispatch.adapter import RoomChecker
    from chatbot.storage import Database

    lines: list[str] = []
    db = Database(config.database_url(), SystemClock())
    try:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            lines.append("ok: database answers")
        except Exception as exc:
            lines.append(f"error: database: cannot connect ({type(exc).__name__}: {exc})")
        for adapter in adapters:
            if not isinstance(adapter, RoomChecker):
                continue
            try:
                checks = await adapter.check_rooms(db)
            except Exception as exc:
                lines.append(f"error: {adapter.platform}: cannot log in or list rooms: {exc}")
                continue
            lines += [describe(adapter.platform, check) for check in checks]
            if not checks:
                lines.append(f"warning: {adapter.platform}: the bot is in no room yet")
    finally:
        await db.close()
    return lines


def describe(platform: str, check: RoomCheck) -> str:
    where = f"{platform} {check.name} ({check.room_id})" if check.name else check.room_id
    if check.ok:
        return f"ok: {where}"
    missing = ", ".join(check.missing)
    fix = f"\n    fix: {check.fix}" if check.fix else ""
    return f"error: {where}: the bot cannot {missing}{fix}"


def check_main(config: Config, path: str, *, online: bool) -> int:
    """Print every finding (errors on stderr); exit 2 when one is an error, as ``chatbot
    run`` does on a bad config (0 with warnings only)."""
    import sys

    findings, adapters = offline_findings(config)
    lines = [f.line() for f in findings]
    if online:
        import asyncio

        lines += asyncio.run(online_findings(config, adapters))
    failed = False
    for line in lines:
        error = line.startswith("error")
        failed = failed or error
        print(line, file=sys.stderr if error else sys.stdout)
    summary = (
        f"adapters: {', '.join(config.bot.adapters)}; commands: {', '.join(config.bot.commands)}"
    )
    print(f"{path}: {'NOT OK' if failed else 'OK'} ({summary})")
    return 2 if failed else 0
