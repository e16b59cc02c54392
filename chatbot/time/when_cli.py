"""``chatbot when "PHRASE" [--zone ZONE] [--now ISO] [--lang CODE]``: read a date phrase as the
bot would.

A command-line window on :func:`chatbot.time.parse.parse_when_sync`, for checking how a phrase
is read without starting the bot (``chatbot`` dispatches ``when`` here).  It is a module of its
own so that the parser carries no argparse and no printing.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from chatbot.base.errors import BadArgument
from chatbot.time.parse import DATE_ORDERS, parse_when_sync
from chatbot.time.phrase_prepass import clip
from chatbot.time.schedule_rules import PastTime, check_schedulable
from chatbot.time.zones import resolve_zone

if TYPE_CHECKING:
    import argparse


class _UsageError(Exception):
    pass


def _cli_parser() -> argparse.ArgumentParser:
    import argparse

    class _ArgumentParser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise _UsageError(message)

    parser = _ArgumentParser(
        prog="chatbot when",
        description="Read a date phrase as the bot would and print the instant in UTC (ISO 8601).",
    )
    parser.add_argument(
        "phrase", help="e.g. 'Friday 18h CET', 'tomorrow 9am', 'viernes 18h', 'demain 9h'"
    )
    parser.add_argument(
        "--zone", help="the zone to read it in (city, IANA name, offset…); default UTC"
    )
    parser.add_argument(
        "--now", help="the current time as ISO 8601 (naive means UTC); default: the clock"
    )
    parser.add_argument(
        "--lang",
        help="the member's language (!lang: es, fr, pt-BR, de…), tried first; phrases in "
        "English, Spanish, French, Portuguese and German are read without it",
    )
    parser.add_argument(
        "--date-order",
        choices=sorted(DATE_ORDERS),
        default="DMY",
        help="how to read 12/05/2026 (default DMY: 12 May)",
    )
    parser.add_argument(
        "--allow-date-only", action="store_true", help="accept a date without a time (00:00)"
    )
    parser.add_argument(
        "--schedule",
        action="store_true",
        help="judge it as a meeting, reminder or announcement time: a time that has passed is "
        "refused (exit status 2, the reason on stderr)",
    )
    return parser


def when_main(argv: list[str]) -> int:
    """``chatbot when "PHRASE" [--zone ZONE] [--now ISO-8601] [--lang CODE]``.

    Prints the instant as ISO 8601 in UTC (its only line on stdout) and returns 0; prints the
    reason on stderr and returns 1 when the phrase, zone or time can't be read; returns 2 for a
    malformed command line (usage on stderr) and, with ``--schedule``, for a time that has
    passed (the reason on stderr).
    """
    parser = _cli_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(parser.format_usage().rstrip(), file=sys.stderr)
        print(f"chatbot when: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    try:
        zone_key = resolve_zone(args.zone).key if args.zone is not None else None
        now = _cli_now(args.now)
        at = parse_when_sync(
            args.phrase,
            zone_key=zone_key,
            now=now,
            date_order=args.date_order,
            allow_date_only=args.allow_date_only,
            lang=args.lang,
        )
    except BadArgument as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.schedule:
        try:
            check_schedulable(at, now, args.phrase)
        except PastTime as exc:
            print(exc, file=sys.stderr)
            return 2
    print(at.isoformat(timespec="seconds"))
    return 0


def _cli_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(
            f"--now must be an ISO 8601 date and time such as 2026-11-25T12:00:00+00:00, "
            f"not '{clip(text)}'."
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
