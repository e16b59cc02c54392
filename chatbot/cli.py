"""The ``chatbot`` command line.  Imports stay inside the subcommands so ``--help`` is fast."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chatbot import __version__

if TYPE_CHECKING:
    from chatbot.bot import Bot
    from chatbot.config import Config

DEFAULT_CONFIG = "config.toml"


def _config_path(arg: str | None) -> str:
    if arg:
        return arg
    env = os.environ.get("CHATBOT_CONFIG")
    if env:
        return env
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else "config.example.toml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbot",
        description="Community chat bot of the Wikimedia and Libraries User Group.",
    )
    parser.add_argument("--version", action="version", version=f"chatbot {__version__}")
    sub = parser.add_subparsers(dest="cmd", metavar="COMMAND")
    config_help = "config file (default: $CHATBOT_CONFIG, ./config.toml, ./config.example.toml)"

    run = sub.add_parser("run", help="start the bot")
    run.add_argument("-c", "--config", help=config_help)

    check = sub.add_parser("check-config", help="validate the config without starting")
    check.add_argument("-c", "--config", help=config_help)

    sub.add_parser(
        "when",
        add_help=False,
        help='read a date phrase as the bot would: chatbot when "PHRASE" [--zone Z] [--now ISO]',
    )

    sub.add_parser(
        "export",
        add_help=False,
        help="chatbot export casestudies [-c FILE] --format csv|json|wikitext [-o FILE]",
    )
    sub.add_parser(
        "faq",
        add_help=False,
        help="knowledge base: chatbot faq [-c FILE] import FILE [--merge] | export [-o FILE]",
    )

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
        from chatbot.timeparse import when_main

        return when_main(argv[1:])
    parser = build_parser()
    args = None
    if argv[:1] != ["faq"] and argv[:2] != ["export", "casestudies"]:
        args = parser.parse_args(argv)
        if args.cmd is None:
            parser.print_help()
            return 0
    from chatbot.errors import ConfigError, InstanceLocked

    try:
        if args is None:  # subcommands with parsers of their own
            if argv[0] == "faq":
                return _faq(argv[1:])
            return _export_casestudies(argv[2:])
        if args.cmd == "run":
            return _run(_config_path(args.config))
        if args.cmd == "check-config":
            return _check(_config_path(args.config))
        if args.cmd == "db":
            return _db_upgrade(_config_path(args.config))
    except ConfigError as exc:
        print(f"chatbot: config error: {exc}", file=sys.stderr)
        return 2
    except InstanceLocked as exc:
        print(f"chatbot: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.cmd}")


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


def _export_casestudies(argv: list[str]) -> int:
    """``chatbot export casestudies …``, handled by the case-study module's own parser."""
    config_arg, rest = _split_config(argv)
    from chatbot.plugins import COMMANDS, load

    load(COMMANDS, "casestudies")
    from commands.casestudies.cli import export_main

    return export_main(rest, _config_path(config_arg))


def _faq(argv: list[str]) -> int:
    """``chatbot faq [-c FILE] import|export …``, handled by the faq module's own parser."""
    config_arg, rest = _split_config(argv)
    from chatbot.plugins import COMMANDS, load

    load(COMMANDS, "faq")  # a clear error if the module is not installed
    from commands.faq.cli import faq_main

    return faq_main(rest, _config_path(config_arg))


def _load(path: str) -> Config:
    from chatbot.config import load_config
    from chatbot.logs import configure

    config = load_config(path)
    configure(config.logging.level, config.logging.format)
    return config


def build_bot(config: Config) -> Bot:
    """The bot with the adapters and command modules the config enables."""
    from chatbot.bot import Bot
    from chatbot.plugins import ADAPTERS, load, load_modules

    modules = load_modules(config.bot.commands)
    adapters = [load(ADAPTERS, name)(config) for name in config.bot.adapters]
    return Bot(config, adapters=adapters, modules=modules)


def _check(path: str) -> int:
    config = _load(path)
    build_bot(config)  # loads every plugin and validates its settings
    print(
        f"{path}: OK (adapters: {', '.join(config.bot.adapters)}; "
        f"commands: {', '.join(config.bot.commands)})"
    )
    return 0


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

    from chatbot.clock import SystemClock
    from chatbot.plugins import migration_locations
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
