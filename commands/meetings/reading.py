"""Reading organisers' input: options (``--every 2 weeks``), durations, links, and the date
phrase, read in the organiser's zone unless it names one."""

from __future__ import annotations

import re
from datetime import datetime

from chatbot.base.errors import UserError
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import quote
from chatbot.time.format import format_utc, format_when
from commands.meetings.series import Rule
from commands.meetings.store import MeetingRow

EXAMPLE = '`{p}meeting add "Open meeting" friday 15:00 --duration 1h --every 2 weeks`'

_OPTION = re.compile(r"(?:^|\s)--([a-z]+)\b", re.IGNORECASE)
_DURATION = re.compile(r"^(?:(\d{1,2})h(?:ours?)?)?(?:(\d{1,4})(?:m|mins?|minutes?)?)?$")


def split_options(text: str) -> tuple[str, dict[str, str]]:
    """``friday 15:00 --every 2 weeks --link X`` → (``friday 15:00``, {every: …, link: …})."""
    marks = list(_OPTION.finditer(text))
    if not marks:
        return text.strip(), {}
    head = text[: marks[0].start()].strip()
    options: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        name = mark.group(1).lower()
        if name in options:
            raise UserError(f"--{name} is given twice.")
        options[name] = text[mark.end() : end].strip()
    return head, options


def parse_duration(text: str) -> int:
    """``1h``, ``90m``, ``1h30`` → minutes."""
    found = _DURATION.match(text.strip().lower().replace(" ", ""))
    if found is None or not (found.group(1) or found.group(2)):
        raise UserError("I read a duration like `1h`, `90m` or `1h30`.", markdown=True)
    minutes = int(found.group(1) or 0) * 60 + int(found.group(2) or 0)
    if not 5 <= minutes <= 24 * 60:
        raise UserError("A meeting lasts between 5 minutes and 24 hours.")
    return minutes


def check_link(text: str) -> str:
    link = text.strip()
    if not re.match(r"^https?://\S+$", link) or len(link) > 500:
        raise UserError("The link must be a web address starting with https://.")
    return link


async def suggest_title_quotes(ctx: Context, title: str, phrase: str, details: str) -> None:
    """``!meeting add Open meeting friday 15:00`` reads the title ``Open`` and the date
    ``meeting friday 15:00``: when moving a few words into the title makes the date readable,
    refuse with the command to type, the title in quotes, instead of "cannot read the date"."""
    from chatbot.time.parse import parse_details

    if ctx.incoming.text.split(None, 2)[-1:] and _QUOTED_START.match(
        ctx.incoming.text.split(None, 2)[-1]
    ):
        return  # the title was quoted: the date really is unreadable
    words = phrase.split()
    prefs = await ctx.prefs()
    for taken in range(1, min(4, len(words))):
        try:
            await parse_details(
                " ".join(words[taken:]),
                zone_key=prefs.zone,
                now=ctx.now(),
                date_order=ctx.config.time.date_order,
                lang=prefs.lang,
            )
        except UserError:
            continue
        whole = " ".join([title, *words[:taken]])
        rest = details.split(None, taken)[-1]
        raise UserError(
            f"Is the title {quote(whole)}? A title of several words goes in quotes: "
            f"`{ctx.prefix}meeting add {quote(whole)} {rest}`",
            markdown=True,
        )


_QUOTED_START = re.compile("^[\"'“‘«„]")


async def read_when(ctx: Context, phrase: str) -> tuple[datetime, str]:
    """The instant and the zone it was read in; refused with the reason and an example."""
    from chatbot.time.parse import parse_details
    from chatbot.time.schedule_rules import PastTime, check_schedulable

    example = EXAMPLE.format(p=ctx.prefix)
    if not phrase:
        raise UserError(f"When is it? For example: {example}", markdown=True)
    prefs = await ctx.prefs()
    try:
        parsed = await parse_details(
            phrase,
            zone_key=prefs.zone,
            now=ctx.now(),
            date_order=ctx.config.time.date_order,
            lang=prefs.lang,
        )
    except UserError as exc:
        raise UserError(f"{exc.message} For example: {example}") from None
    try:
        check_schedulable(parsed.at, ctx.now(), phrase, "meeting")
    except PastTime as exc:
        raise UserError(f"{exc.message} For example: {example}") from None
    return parsed.at, parsed.zone_key


def local_iso(at: datetime, zone_key: str) -> str:
    from chatbot.time.zones import zone_from_key

    local = at.astimezone(zone_from_key(zone_key).tzinfo)
    return local.replace(tzinfo=None).isoformat(timespec="minutes")


def describe_times(meeting_row: MeetingRow, at: datetime, now: datetime) -> str:
    """``Fri 4 Dec, 15:00 (London) = 2026-12-04 15:00 UTC, every week (London time)``."""
    text = f"{format_when(at, meeting_row.zone, now=now)} = {format_utc(at)}"
    rule = Rule.decode(meeting_row.rule).describe()
    if rule:
        text += f"; repeats {series_words(rule, at, meeting_row.zone)}"
    return text


def series_words(rule: str, at: datetime, zone_key: str) -> str:
    """``every 2nd Tuesday of the month, 15:00 UTC``: the rule and its wall time, which stays
    the same across daylight-saving changes in that zone."""
    from chatbot.time.zones import zone_from_key

    zone = zone_from_key(zone_key)
    clock = at.astimezone(zone.tzinfo).strftime("%H:%M")
    where = zone.label if zone.label.startswith("UTC") else f"{zone.label} time"
    return f"{rule}, {clock} {where}"
