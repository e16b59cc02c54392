"""``chatbot export casestudies --format csv|json|wikitext [-o FILE]``.

Exports the published case studies (public fields only; contact details never leave the
database) to stdout or a file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chatbot.runtime.plugins import CliCommand

if TYPE_CHECKING:
    from chatbot.base.config import Config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbot export casestudies", description="Export the published case studies."
    )
    parser.add_argument(
        "--format", choices=("csv", "json", "wikitext"), default="csv", help="default: csv"
    )
    parser.add_argument("-o", "--output", type=Path, help="write to this file, not stdout")
    return parser


async def export_text(config: Config, fmt: str) -> tuple[str, int]:
    """The export of every published study, and how many there are."""
    from chatbot.base.clock import SystemClock
    from chatbot.runtime.plugins import migration_locations
    from chatbot.storage import Database
    from commands.casestudies import MIGRATIONS
    from commands.casestudies.exports import public_of, render
    from commands.casestudies.store import PUBLISHED, CaseStudyStore

    db = Database(config.database_url(), SystemClock())
    try:
        await db.upgrade(migration_locations(config.bot.commands, also=MIGRATIONS))
        studies = await CaseStudyStore(db).in_states((PUBLISHED,))
        return render(fmt, [public_of(s) for s in studies]), len(studies)
    finally:
        await db.close()


def export_main(argv: list[str], config_path: str) -> int:
    """Run the export; returns the exit status (0 ok, 2 usage or config error)."""
    from chatbot.base.config import load_config
    from chatbot.base.errors import ConfigError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return int(exc.code or 0)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"chatbot export casestudies: config error: {exc}", file=sys.stderr)
        return 2
    text, count = asyncio.run(export_text(config, args.format))
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {count} case studies to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _export_entry(argv: list[str], config_path: str) -> int:
    """``chatbot export casestudies …``: case studies are the one kind exported so far."""
    if argv[:1] != ["casestudies"]:
        print("usage: chatbot export casestudies [-c FILE] [--format F] [-o FILE]", file=sys.stderr)
        return 2
    return export_main(argv[1:], config_path)


#: the ``chatbot export`` subcommand (entry point group ``chatbot.cli``)
export_command = CliCommand(
    help="chatbot export casestudies [-c FILE] --format csv|json|wikitext [-o FILE]",
    main=_export_entry,
    module="casestudies",
)
