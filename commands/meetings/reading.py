"""Reading organisers' input: options (``--every 2 weeks``), durations, links, and the date
phrase, read in the organiser's zone unless it names one."""

from __future__ import annotations

import re
from datetime import datetime

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, _p, default_language, verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import quote
from chatbot.messages.events import Code, Plain
from chatbot.time.format import format_utc, format_when
from commands.meetings.series import Rule
from commands.meetings.store import MeetingRow


def example(prefix: str) -> Msg:
    """``!meeting add`` as an example to type, its title and date in the reader's words
    (``"Reunión abierta" viernes 15:00``); the options stay English, as the bot reads them."""
    return verbatim(
        '`{prefix}meeting add "{title}" {at} --duration 1h --every 2 weeks`',
        prefix=prefix,
        title=_p("a meeting's title in a command example (no quotation marks)", "Open meeting"),
        at=_p(
            "date in a command example: write it as the bot reads it in your language",
            "friday 15:00",
        ),
    )


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
            raise UserError(_("{option} is given twice.", option=Plain(f"--{name}")))
        options[name] = text[mark.end() : end].strip()
    return head, options


def parse_duration(text: str) -> int:
    """``1h``, ``90m``, ``1h30`` → minutes."""
    found = _DURATION.match(text.strip().lower().replace(" ", ""))
    if found is None or not (found.group(1) or found.group(2)):
        raise UserError(_("I read a duration like `1h`, `90m` or `1h30`."))
    minutes = int(found.group(1) or 0) * 60 + int(found.group(2) or 0)
    if not 5 <= minutes <= 24 * 60:
        raise UserError(_("A meeting lasts between 5 minutes and 24 hours."))
    return minutes


def check_link(text: str) -> str:
    link = text.strip()
    if not re.match(r"^https?://\S+$", link) or len(link) > 500:
        raise UserError(_("The link must be a web address starting with https://."))
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
            _(
                "Is the title {title}? A title of several words goes in quotes: {example}",
                title=Plain(quote(whole)),
                example=Code(f"{ctx.prefix}meeting add {quote(whole)} {rest}"),
            )
        )


_QUOTED_START = re.compile("^[\"'“‘«„]")


async def read_when(ctx: Context, phrase: str) -> tuple[datetime, str]:
    """The instant and the zone it was read in; refused with the reason and an example."""
    from chatbot.time.parse import parse_details
    from chatbot.time.schedule_rules import PastTime, check_schedulable

    shown = example(ctx.prefix)
    if not phrase:
        raise UserError(_("When is it? For example: {example}", example=shown))
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
        raise UserError(_for_example(exc.message, shown)) from None
    try:
        check_schedulable(parsed.at, ctx.now(), phrase, "meeting")
    except PastTime as exc:
        raise UserError(_for_example(exc.message, shown)) from None
    return parsed.at, parsed.zone_key


def _for_example(reason: str | Msg, example: Msg) -> Msg:
    said = reason if isinstance(reason, Msg) else Plain(reason)
    return _("{reason} For example: {example}", reason=said, example=example)


async def reader_lang(ctx: Context) -> str:
    """The language the caller reads replies in (their ``!lang``, else their app's, else
    the room's, else the bot's): for text rendered before the reply is (dates in a zone)."""
    return (await ctx.reader()).lang or default_language()


def local_iso(at: datetime, zone_key: str) -> str:
    from chatbot.time.zones import zone_from_key

    local = at.astimezone(zone_from_key(zone_key).tzinfo)
    return local.replace(tzinfo=None).isoformat(timespec="minutes")


def describe_times(
    meeting_row: MeetingRow, at: datetime, now: datetime, lang: str | None = None
) -> Msg:
    """``Fri 4 Dec, 15:00 (London) = 2026-12-04 15:00 UTC; repeats every week, 15:00 London
    time``, the date in ``lang``."""
    local = Plain(format_when(at, meeting_row.zone, lang=lang, now=now))
    utc = Plain(format_utc(at))
    rule = Rule.decode(meeting_row.rule).words()
    if rule is None:
        return verbatim("{local} = {utc}", local=local, utc=utc)
    series = series_words(rule, at, meeting_row.zone)
    return _("{local} = {utc}; repeats {series}", local=local, utc=utc, series=series)


def series_words(rule: Msg, at: datetime, zone_key: str) -> Msg:
    """``every 2nd Tuesday of the month, 15:00 UTC``: the rule and its wall time, which stays
    the same across daylight-saving changes in that zone."""
    from chatbot.time.zones import zone_from_key

    zone = zone_from_key(zone_key)
    clock = at.astimezone(zone.tzinfo).strftime("%H:%M")
    if zone.label.startswith("UTC"):
        return verbatim("{rule}, {clock} {zone}", rule=rule, clock=clock, zone=Plain(zone.label))
    return _("{rule}, {clock} {zone} time", rule=rule, clock=clock, zone=Plain(zone.label))
