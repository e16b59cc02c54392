"""``chatbot faq import FILE`` and ``chatbot faq export``: the knowledge base as a TOML file.

``export`` prints the effective knowledge base (the shipped base with the organisers'
changes applied) as TOML.  ``import FILE`` validates the file with the engine's rules and
makes it the effective knowledge base: the database keeps only how it differs from the
shipped base (changed and added entries, and shipped entries the file leaves out).  With
``--merge`` the file's entries are added or replaced and nothing is removed.
``import(export())`` changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chatbot.runtime.plugins import CliCommand

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from chatbot.base.config import Config
    from commands.faq.service import FaqService


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbot faq", description="Import or export the FAQ knowledge base."
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import", help="replace the knowledge base with a TOML file (validated first)"
    )
    imp.add_argument("file", type=Path, help="knowledge base TOML ([[entry]] tables)")
    imp.add_argument(
        "--merge",
        action="store_true",
        help="only add or replace the file's entries; remove nothing",
    )
    exp = sub.add_parser("export", help="print the effective knowledge base as TOML")
    exp.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    return parser


async def _with_service(config: Config, action: Callable[[FaqService], Awaitable[int]]) -> int:
    from chatbot.base.clock import SystemClock
    from chatbot.runtime.plugins import migration_locations
    from chatbot.storage import Database
    from commands.faq import MIGRATIONS
    from commands.faq.service import FaqService, kb_paths

    db = Database(config.database_url(), SystemClock())
    try:
        await db.upgrade(migration_locations(config.bot.commands, also=MIGRATIONS))
        paths, method = kb_paths(config)
        svc = FaqService(db, config.bot.prefix, paths, method)
        await svc.load()
        return await action(svc)
    finally:
        await db.close()


def faq_main(argv: list[str], config_path: str) -> int:
    """Run ``chatbot faq ACTION …``; returns the exit status (0 ok, 1 invalid file, 2 usage)."""
    from chatbot.base.config import load_config
    from chatbot.base.errors import ConfigError
    from commands.faq.index import KbError, dump_kb, load_kb

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return int(exc.code or 0)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"chatbot faq: config error: {exc}", file=sys.stderr)
        return 2

    if args.action == "export":

        async def export(svc: FaqService) -> int:
            text = dump_kb(svc.kb)
            if args.output is not None:
                args.output.write_text(text, encoding="utf-8")
                print(f"wrote {len(svc.kb)} entries to {args.output}", file=sys.stderr)
            else:
                sys.stdout.write(text)
            return 0

        return asyncio.run(_with_service(config, export))

    try:
        kb = load_kb(args.file)
    except FileNotFoundError:
        print(f"chatbot faq: {args.file}: no such file", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        print(f"chatbot faq: {args.file}: cannot read it ({exc})", file=sys.stderr)
        return 1
    except KbError as exc:
        print(f"chatbot faq: nothing imported. {exc}", file=sys.stderr)
        return 1

    async def import_(svc: FaqService) -> int:
        overrides = await svc.import_kb(kb, keep_others=args.merge)
        removed = sum(1 for o in overrides if o.entry is None)
        added = sum(1 for o in overrides if o.entry is not None and not svc.in_base(o.id))
        changed = len(overrides) - removed - added
        print(
            f"imported {args.file}: {len(svc.kb)} entries in effect "
            f"({changed} changed and {added} added compared with the shipped base, "
            f"{removed} shipped entries left out)"
        )
        return 0

    return asyncio.run(_with_service(config, import_))


#: the ``chatbot faq`` subcommand (entry point group ``chatbot.cli``)
faq_command = CliCommand(
    help="knowledge base: chatbot faq [-c FILE] import FILE [--merge] | export [-o FILE]",
    main=faq_main,
    module="faq",
)
