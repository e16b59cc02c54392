"""What meetings look like: room posts (times as :class:`When`, rendered per platform and
reader) and members' reminder DMs (pre-rendered in each member's own zone and language)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from chatbot.base.i18n import Msg, _, _n, _p, together, verbatim
from chatbot.delivery.outbox_payload import encode_payload
from chatbot.dispatch.answers import SHOWN_KEYWORDS
from chatbot.messages.events import Button, Part, Plain, Reader, Reply, When
from chatbot.time.format import format_when
from commands.meetings.series import Rule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from commands.meetings.store import MeetingRow


def lead_words(minutes: int) -> Msg:
    """``10080`` → ``7 days``, ``60`` → ``1 hour``, ``15`` → ``15 minutes``."""
    if minutes % 1440 == 0:
        return _n("{n} day", "{n} days", minutes // 1440)
    if minutes % 60 == 0:
        return _n("{n} hour", "{n} hours", minutes // 60)
    return _n("{n} minute", "{n} minutes", minutes)


def duration_words(minutes: int) -> Msg:
    """``1 h 30 min``: the same abbreviations in every language the bot speaks."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return verbatim("{h} h {m} min", h=str(hours), m=str(rest))
    return verbatim("{h} h", h=str(hours)) if hours else verbatim("{m} min", m=str(rest))


def answer_words() -> dict[str, Msg]:
    """``yes``, ``maybe`` and ``no`` as the reader types them to ``!rsvp`` (``sí``, ``oui``,
    ``ja``): placeholder values for a hint's code spans, words the command accepts."""
    return {name: SHOWN_KEYWORDS[name] for name in ("yes", "maybe", "no")}


def rsvp_usage(prefix: str, number: int | str) -> Msg:
    """`` `!rsvp 3 yes|maybe|no` `` with the answers in the reader's language."""
    return verbatim(
        "`{prefix}rsvp {number} {yes}|{maybe}|{no}`",
        prefix=prefix,
        number=str(number),
        **answer_words(),
    )


def rsvp_buttons(number: int) -> tuple[Button, ...]:
    return (
        Button(_p("rsvp", "Going"), f"rsvp {number} yes", "success"),
        Button(_p("rsvp", "Maybe"), f"rsvp {number} maybe", "secondary"),
        Button(_p("rsvp", "Can't"), f"rsvp {number} no", "danger"),
    )


def recurrence_part(meeting: MeetingRow) -> list[Part]:
    """``, every week`` after a time, or nothing for a single meeting."""
    rule = Rule.decode(meeting.rule).words()
    return [] if rule is None else [verbatim(", {rule}", rule=rule)]


def room_post(
    meeting: MeetingRow, at: datetime, prefix: str, lead_minutes: int | None = None
) -> Reply:
    """The post in the meeting's rooms: on confirmation (no lead) or as a reminder."""
    number, title, when = str(meeting.id), Plain(meeting.title), When(at, "full")
    head = (
        _("**Meeting #{number}**: {title} — {when}", number=number, title=title, when=when)
        if lead_minutes is None
        else _(
            "**Reminder** (in {lead}): meeting #{number} {title} — {when}",
            lead=lead_words(lead_minutes),
            number=number,
            title=title,
            when=when,
        )
    )
    parts: list[Part] = [head, *recurrence_part(meeting)]
    parts.append(verbatim(" ({duration})", duration=duration_words(meeting.duration_minutes)))
    if meeting.link:
        parts += ["\n", _("Join: {link}", link=Plain(meeting.link))]
    parts += [
        "\n",
        _(
            "Coming? `{prefix}rsvp {number} {yes}`, `… {maybe}` or `… {no}`. "
            "`{prefix}remind me {on}` sends you reminders in your own time zone.",
            prefix=prefix,
            number=number,
            on=SHOWN_KEYWORDS["on"],
            **answer_words(),
        ),
    ]
    return Reply.of(*parts, buttons=rsvp_buttons(meeting.id))


def dm_text(
    title: str,
    at: datetime,
    zone: str | None,
    lang: str | None,
    lead_minutes: int,
    link: str | None,
    now: datetime | None = None,
) -> Msg:
    """A reminder's text with only the member's own local time (rendered in ``lang``; the
    message itself is translated for the same reader when it is sent)."""
    local = format_when(at, zone, "full", lang, now=now)
    return _dm_message(title, Plain(local), lead_minutes, link)


def _dm_message(title: str, when: Plain, lead_minutes: int, link: str | None) -> Msg:
    lead = lead_words(lead_minutes)
    if link:
        return _(
            "Reminder: {title} starts in {lead}, {when}. Join: {link}",
            title=Plain(title),
            lead=lead,
            when=when,
            link=Plain(link),
        )
    return _(
        "Reminder: {title} starts in {lead}, {when}.", title=Plain(title), lead=lead, when=when
    )


#: stands for the member's time and zone in a payload encoded once per language (private-use
#: characters: JSON keeps them as they are, and no title or link holds them)
_TIME_MARK = "\ue000time\ue000"
_ZONE_MARK = "\ue000zone\ue000"
_ENCODE_STR = msgspec.json.Encoder().encode


def dm_payloads(
    number: int,
    title: str,
    at: datetime,
    link: str | None,
    lead_minutes: int,
    members: Sequence[tuple[str, str, str | None, str | None]],
    now: datetime | None = None,
) -> list[tuple[str, str, str]]:
    """(member id, name, encoded outbox payload) for each (id, name, zone, lang).

    The payload is a reply made of the reminder (the member's own time, already rendered in
    their language) and the RSVP buttons, for a reader in that zone and language.  Members
    sharing a zone and language share one rendering, and the reply is encoded once per
    language, with each zone's time put into a copy (a fan-out to thousands of members).
    """
    buttons = rsvp_buttons(number)
    marked = _TIME_MARK in title or _TIME_MARK in (link or "")
    templates: dict[str | None, str] = {}
    cache: dict[tuple[str | None, str | None], str] = {}
    out: list[tuple[str, str, str]] = []
    for member_id, name, zone, lang in members:
        key = (zone, lang)
        payload = cache.get(key)
        if payload is None:
            local = format_when(at, zone, "full", lang, now=now)
            if zone is None or marked:
                text = _dm_message(title, Plain(local), lead_minutes, link)
                payload = encode_payload(Reply((text,), buttons=buttons), Reader(zone, lang))
            else:
                template = templates.get(lang)
                if template is None:
                    text = _dm_message(title, Plain(_TIME_MARK), lead_minutes, link)
                    reply = Reply((text,), buttons=buttons)
                    template = templates[lang] = encode_payload(reply, Reader(_ZONE_MARK, lang))
                payload = template.replace(_json(_TIME_MARK), _json(local)).replace(
                    _json(_ZONE_MARK), _json(zone)
                )
            cache[key] = payload
        out.append((member_id, name, payload))
    return out


def _json(text: str) -> str:
    return _ENCODE_STR(text).decode()


def lead_list(minutes: Sequence[int]) -> Msg:
    """``7 days, 1 day, 15 minutes``: the lead times on offer, longest first."""
    said = [lead_words(m) for m in sorted(minutes, reverse=True)]
    head = said[0]
    for item in said[1:]:
        head = verbatim("{a}, {b}", a=head, b=item)
    return head


def leads_before(minutes: Sequence[int]) -> Msg:
    """``1 day before and 15 minutes before``: each lead its own reminder, never read as
    one sum ("1 day, 15 minutes before")."""
    return together([_("{lead} before", lead=lead_words(m)) for m in sorted(minutes, reverse=True)])


def parse_leads(text: str, allowed: Sequence[int]) -> list[int]:
    """``1d,15m`` → minutes; only the lead times the bot schedules are accepted."""
    units = {"d": 1440, "h": 60, "m": 1}
    found: set[int] = set()
    for raw in text.replace(" ", ",").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        unit = units.get(item[-1])
        if unit is None or not item[:-1].isdigit():
            raise ValueError(item)
        minutes = int(item[:-1]) * unit
        if minutes not in allowed:
            raise ValueError(item)
        found.add(minutes)
    return sorted(found, reverse=True)


def as_delta(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
