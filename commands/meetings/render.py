"""What meetings look like: room posts (times as :class:`When`, rendered per platform and
reader) and members' reminder DMs (pre-rendered in each member's own zone and language)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from chatbot.messages.events import Button, Inline, Plain, Reply, When
from chatbot.messages.localise import text_in
from chatbot.time.format import format_when
from commands.meetings.series import Rule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from commands.meetings.store import MeetingRow


def lead_words(minutes: int) -> str:
    """``10080`` → ``7 days``, ``60`` → ``1 hour``, ``15`` → ``15 minutes``."""
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minutes"


def duration_words(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def rsvp_buttons(number: int) -> tuple[Button, ...]:
    return (
        Button("Going", f"rsvp {number} yes", "success"),
        Button("Maybe", f"rsvp {number} maybe", "secondary"),
        Button("Can't", f"rsvp {number} no", "danger"),
    )


def room_post(
    meeting: MeetingRow, at: datetime, prefix: str, lead_minutes: int | None = None
) -> Reply:
    """The post in the meeting's rooms: on confirmation (no lead) or as a reminder."""
    head = (
        f"**Meeting #{meeting.id}**: "
        if lead_minutes is None
        else f"**Reminder** (in {lead_words(lead_minutes)}): meeting #{meeting.id} "
    )
    parts: list[Inline] = [head, Plain(meeting.title), " — ", When(at, "full")]
    recurrence = Rule.decode(meeting.rule).describe()
    if recurrence:
        parts.append(f", {recurrence}")
    parts.append(f" ({duration_words(meeting.duration_minutes)})")
    if meeting.link:
        parts += ["\nJoin: ", Plain(meeting.link)]
    parts.append(
        f"\nComing? `{prefix}rsvp {meeting.id} yes`, `… maybe` or `… no`. "
        f"`{prefix}remind me on` sends you reminders in your own time zone."
    )
    return Reply.of(*parts, buttons=rsvp_buttons(meeting.id))


class _Text(msgspec.Struct, array_like=True):
    tag: str
    text: str


class _Payload(msgspec.Struct, omit_defaults=True):
    parts: list[_Text]
    buttons: list[tuple[str, str, str]] = []


_ENCODER = msgspec.json.Encoder()


def dm_text(
    title: str,
    at: datetime,
    zone: str | None,
    lang: str | None,
    lead_minutes: int,
    link: str | None,
    now: datetime | None = None,
) -> str:
    """A reminder's text with only the member's own local time."""
    local = format_when(at, zone, "full", lang, now=now)
    text = f"Reminder: {title} starts in {lead_words(lead_minutes)}, {local}."
    if link:
        text += f" Join: {link}"
    return text


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

    The payload is what :func:`chatbot.delivery.outbox_payload.encode_payload` would write
    for a reply made of one plain text (the member's own time, already rendered) and the
    RSVP buttons; members sharing a zone and language share one rendering.
    """
    buttons: list[tuple[str, str, str]] = [
        (text_in(b.label, None), b.command, b.style) for b in rsvp_buttons(number)
    ]
    cache: dict[tuple[str | None, str | None], str] = {}
    out: list[tuple[str, str, str]] = []
    for member_id, name, zone, lang in members:
        key = (zone, lang)
        payload = cache.get(key)
        if payload is None:
            text = dm_text(title, at, zone, lang, lead_minutes, link, now)
            payload = cache[key] = _ENCODER.encode(_Payload([_Text("p", text)], buttons)).decode()
        out.append((member_id, name, payload))
    return out


def lead_list(minutes: Sequence[int]) -> str:
    """``7 days, 1 day, 15 minutes``: the lead times on offer, longest first."""
    return ", ".join(lead_words(m) for m in sorted(minutes, reverse=True))


def leads_before(minutes: Sequence[int]) -> str:
    """``1 day before and 15 minutes before``: each lead its own reminder, never read as
    one sum ("1 day, 15 minutes before")."""
    said = [f"{lead_words(m)} before" for m in sorted(minutes, reverse=True)]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


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
