"""The ``chatbot`` command line.  Imports stay inside the subcommands so ``--help`` is fast.
Its output stays in English: it is the operator's terminal, not a member's chat (issue #19
translates what members read).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chatbot import __version__

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from chatbot.base.config import Config
    from chatbot.runtime.bot import Bot
    from chatbot.runtime.plugins import CliCommand

DEFAULT_CONFIG = "config.toml"


def _config_path(arg: str | None) -> str:
    if arg:
        return arg
    env = os.environ.get("CHATBOT_CONFIG")
    if env:
        return env
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else "config.example.toml"


def build_parser(*, with_plugins: bool = False) -> argparse.ArgumentParser:
    """The parser of the core's own subcommands; ``with_plugins`` lists those that command
    modules declare (for ``--help``)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="chatbot",
        description="Community chat bot of the Wikimedia and Libraries User Group.",
    )
    parser.add_argument("--version", action="version", version=f"chatbot {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    config_help = "config file (default: $CHATBOT_CONFIG, ./config.toml, ./config.example.toml)"

    run = sub.add_parser("run", help="start the bot")
    run.add_argument("-c", "--config", help=config_help)

    check = sub.add_parser("check-config", help="say what is missing or wrong in the config")
    check.add_argument("-c", "--config", help=config_help)
    check.add_argument(
        "--online", action="store_true", help="also log in and check the bot's rights per room"
    )

    sub.add_parser(
        "init",
        add_help=False,
        help="write a commented config.toml and .env for your group: chatbot init --help",
    )
    sub.add_parser(
        "when",
        add_help=False,
        help='read a date phrase as the bot would: chatbot when "PHRASE" [--zone Z] [--now ISO]',
    )

    if with_plugins:
        from chatbot.runtime.plugins import CLI, available

        # named only: describing them would import their modules (and --help must be fast)
        for name, entry in sorted(available(CLI).items()):
            module = entry.value.split(":")[0]
            sub.add_parser(name, add_help=False, help=f"from {module}: chatbot {name} --help")

    backup = sub.add_parser(
        "backup", help="copy the database and Matrix keys into one archive (bot may run)"
    )
    backup.add_argument("-c", "--config", help=config_help)
    backup.add_argument("path", help="the archive to write (.tar.gz), or a folder for it")
    restore = sub.add_parser("restore", help="put a backup archive back (bot stopped)")
    restore.add_argument("-c", "--config", help=config_help)
    restore.add_argument("path", help="an archive written by chatbot backup")
    restore.add_argument("--force", action="store_true", help="replace an existing database")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_cmd", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply schema migrations")
    up.add_argument("-c", "--config", help=config_help)
    return parser


#: how long the collector may stay off if the bot never becomes ready (a safety net)
GC_OFF_AT_MOST = 60.0


def main(argv: list[str] | None = None) -> int:
    # Start-up builds thousands of long-lived objects (classes, mapped tables, indexes) and
    # almost no garbage cycles, so collections then are wasted work: with the collector off
    # until ready, start-up measured 15-25 % faster (benchmarks/startup.py).  ``_run`` turns
    # it back on once the bot is ready; other subcommands are short-lived.
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        gc.enable()


def _main(argv: list[str]) -> int:
    if argv[:1] == ["when"]:
        from chatbot.time.when_cli import when_main

        return when_main(argv[1:])
    if argv[:1] == ["init"]:
        from chatbot.runtime.setup_wizard import init_main

        return init_main(argv[1:])
    from chatbot.base.errors import ConfigError

    plain_run = _plain_run(argv)
    if plain_run is not None:  # ``chatbot run [-c FILE]``, as a service starts it
        return _reported(lambda: _run(_config_path(plain_run or None)))
    if argv and not argv[0].startswith("-") and argv[0] not in _CORE_COMMANDS:
        try:  # a subcommand a command module declares, with a parser of its own
            return _plugin(argv[0], argv[1:])
        except ConfigError as exc:
            print(f"chatbot: {exc}", file=sys.stderr)
            return 2
    parser = build_parser(with_plugins=not argv or argv[0] in ("-h", "--help"))
    args = parser.parse_args(argv)
    if args.cmd is None:
        parser.print_help()
        return 0
    if args.cmd not in ("run", "check-config", "db", "backup", "restore"):
        parser.error(f"unknown command {args.cmd}")
    return _reported(lambda: _command(args))


def _command(args: argparse.Namespace) -> int:
    if args.cmd == "run":
        return _run(_config_path(args.config))
    if args.cmd == "check-config":
        from chatbot.runtime.checks import check_main

        path = _config_path(args.config)
        return check_main(_load(path), path, online=args.online)
    if args.cmd == "db":
        return _db_upgrade(_config_path(args.config))
    from chatbot.runtime import backup

    config = _load(_config_path(args.config))
    if args.cmd == "backup":
        return backup.backup_main(config, Path(args.path))
    return backup.restore_main(config, Path(args.path), force=args.force)


def _reported(main: Callable[[], int]) -> int:
    """Run a subcommand; a config error or a locked database is one line, exit status 2."""
    from chatbot.base.errors import ConfigError, InstanceLocked

    try:
        return main()
    except ConfigError as exc:
        print(f"chatbot: config error: {exc}", file=sys.stderr)
        return 2
    except InstanceLocked as exc:
        print(f"chatbot: {exc}", file=sys.stderr)
        return 2


def _plain_run(argv: list[str]) -> str | None:
    """The config path of a plain ``run`` command line (``""``: none given), read without
    argparse, whose parser and help formatter cost start-up some milliseconds; None for
    anything else (``run --help``, a typo), which argparse reads and explains."""
    if argv == ["run"]:
        return ""
    if len(argv) == 3 and argv[0] == "run" and argv[1] in ("-c", "--config"):
        return argv[2] if argv[2] and not argv[2].startswith("-") else None
    if len(argv) == 2 and argv[0] == "run" and argv[1].startswith("--config="):
        return argv[1].split("=", 1)[1] or None
    return None


def _split_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """Take ``-c FILE`` / ``--config FILE`` out of a subcommand's own arguments."""
    config_arg: str | None = None
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in ("-c", "--config"):
            config_arg = next(args, None)
        elif arg.startswith("--config="):
            config_arg = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return config_arg, rest


_CORE_COMMANDS = frozenset({"run", "check-config", "when", "init", "db", "backup", "restore"})


def _subcommand(name: str) -> CliCommand:
    from chatbot.base.errors import ConfigError
    from chatbot.runtime.plugins import CLI, CliCommand, load

    found = load(CLI, name)
    if not isinstance(found, CliCommand):
        raise ConfigError(f"the entry point chatbot.cli '{name}' is not a CliCommand")
    return found


def _plugin(name: str, argv: list[str]) -> int:
    """``chatbot NAME [-c FILE] …``: a subcommand from the ``chatbot.cli`` entry points."""
    found = _subcommand(name)
    if found.module:
        from chatbot.runtime.plugins import COMMANDS, load

        load(COMMANDS, found.module)  # a clear error if the module is not installed
    config_arg, rest = _split_config(argv)
    return found.main(rest, _config_path(config_arg))


def _load(path: str) -> Config:
    from chatbot.base.config import load_config
    from chatbot.base.logs import configure

    config = load_config(path)
    configure(config.logging.level, config.logging.format)
    return config


def build_bot(config: Config) -> Bot:
    """The bot with the adapters and command modules the config enables."""
    from chatbot.runtime.bot import Bot
    from chatbot.runtime.plugins import ADAPTERS, load, load_modules

    modules = load_modules(config.bot.commands)
    adapters = [load(ADAPTERS, name)(config) for name in config.bot.adapters]
    return Bot(config, adapters=adapters, modules=modules)


def _run(path: str) -> int:
    import asyncio
    import signal

    config = _load(path)
    bot = build_bot(config)

    async def collect_once_ready() -> None:
        try:
            await asyncio.wait_for(bot.ready.wait(), GC_OFF_AT_MOST)
        except TimeoutError:
            pass
        finally:
            gc.freeze()  # what start-up built lives as long as the process: never rescan it
            gc.enable()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bot.stop)
        collector = asyncio.create_task(collect_once_ready())
        try:
            await bot.run()
        finally:
            collector.cancel()

    asyncio.run(serve())
    return 0


def _db_upgrade(path: str) -> int:
    import asyncio

    from chatbot.base.clock import SystemClock
    from chatbot.runtime.plugins import migration_locations
    from chatbot.storage import Database

    config = _load(path)
    locations = migration_locations(config.bot.commands)

    async def upgrade() -> list[str]:
        db = Database(config.database_url(), SystemClock())
        try:
            return await db.upgrade(locations)
        finally:
            await db.close()

    heads = asyncio.run(upgrade())
    print(f"database is at {', '.join(heads)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
