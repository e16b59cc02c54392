"""Replies as Matrix message content: a plain ``body`` and an HTML ``formatted_body``.

The bot's own strings (bare ``str`` parts) use a small markdown subset (``**bold**``,
``` `code` ```) that becomes ``<strong>`` and ``<code>``; every piece of user text (``Plain``,
``Code``, display names, button labels) is HTML-escaped and has ``@room`` broken with a
zero-width joiner, so a reply can never ping a whole room.  Intentional mentions
(``m.mentions``) name at most the member being answered, and only they get a pill.

A post the bot makes on its own in a shared room (an announcement, a meeting) has no single
reader: its full times list every zone the room's members set (:func:`room_times`).  Buttons
become reactions: the post says which key does what and carries the mapping under
:data:`BUTTONS_KEY`, so a reaction still works after a restart (see
:mod:`adapters.matrix.reactions`).
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import msgspec

from chatbot.base.i18n import Msg, _, default_language
from chatbot.messages.events import (
    Bullets,
    Button,
    Code,
    Inline,
    Mention,
    Outgoing,
    Part,
    Plain,
    Reader,
    Reply,
    When,
)
from chatbot.messages.localise import text_in
from chatbot.messages.render import render_plain
from chatbot.time.format import format_when, room_times, zone_parts

HTML_FORMAT = "org.matrix.custom.html"
MATRIX_TO = "https://matrix.to/#/"
NOTICE = "m.notice"
#: Matrix refuses events over 65536 bytes; leave room for the envelope and encryption.
MAX_CONTENT_BYTES = 48_000

ZWJ = "\u200d"
_ROOM_PING = re.compile(r"@room", re.IGNORECASE)
_CODE_SPAN = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+\-]{1,20}")

BUTTONS_KEY = "org.wmlib.buttons"
"""Event content key of a message with buttons: ``{reaction key: command}``."""
_STYLE_KEYS = {"success": "\u2705", "danger": "\u274c", "secondary": "\U0001f914"}
_SPARE_KEYS = tuple(f"{n}\ufe0f\u20e3" for n in range(1, 10))  # keycaps 1️⃣ … 9️⃣
_VS16 = "\ufe0f"

RoomZones = tuple[tuple[str, int], ...]
"""(zone key, members in it) of a room's joined members, sorted by key."""


class ByReaction(msgspec.Struct, frozen=True):
    """The ``handle`` of an :class:`Incoming` a reaction made: its answer goes, without a
    ping, into the thread of the post that was reacted to (``thread_root``)."""

    thread_root: str


def reaction_keys(buttons: tuple[Button, ...]) -> list[tuple[str, Button]]:
    """A reaction key per button: ✅ for ``success``, ❌ for ``danger``, 🤔 for
    ``secondary``; keycaps 1️⃣, 2️⃣ … for the rest and for a second button of one style."""
    used: set[str] = set()
    spare = iter(_SPARE_KEYS)
    out: list[tuple[str, Button]] = []
    for button in buttons:
        key = _STYLE_KEYS.get(button.style)
        if key is None or key in used:
            key = next(spare, None)
            if key is None:
                break  # more than a dozen buttons: the text still names their commands
        used.add(key)
        out.append((key, button))
    return out


def same_key(key: str) -> str:
    """A reaction key as compared: clients differ on the emoji variation selector."""
    return key.replace(_VS16, "")


def defuse(text: str) -> str:
    """Break ``@room`` (any case) so no client or push rule reads it as a room ping."""
    if "@" not in text:
        return text
    return _ROOM_PING.sub(lambda m: m.group(0)[0] + ZWJ + m.group(0)[1:], text)


def user_html(text: str) -> str:
    """User text as HTML: escaped, ``@room`` broken, newlines kept."""
    return html.escape(defuse(text)).replace("\n", "<br>")


def markdown_html(text: str) -> str:
    """The bot's own markdown subset as HTML; everything else is escaped, and ``@room``
    broken even in the bot's own words ("mass pings such as @room are removed")."""
    text = defuse(text)
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_bold_html(text[last : match.start()]))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    out.append(_bold_html(text[last:]))
    return "".join(out).replace("\n", "<br>")


def _bold_html(text: str) -> str:
    escaped = html.escape(text)
    return _BOLD.sub(r"<strong>\1</strong>", escaped) if "**" in escaped else escaped


def pill(user_id: str, name: str) -> str:
    """A Matrix mention: a matrix.to link that clients show as a pill."""
    href = html.escape(MATRIX_TO + quote(user_id, safe="@:"), quote=True)
    return f'<a href="{href}">{user_html(name)}</a>'


def when_text(
    part: When,
    reader: Reader,
    now: datetime | None,
    room_zones: RoomZones | None = None,
    prefix: str = "!",
) -> str:
    """The instant in the reader's zone, followed by UTC when that zone is not UTC; in a
    post for a whole room (``room_zones`` given), a full time lists every member's zone."""
    if room_zones is not None and part.style == "full":
        lang = reader.lang or default_language()  # the room's language, else the bot's
        hint = text_in(
            _("nobody here has set a time zone: `{prefix}tz set <city>`", prefix=prefix),
            lang,
        )
        return room_times(part.at, room_zones, now=now, hint=hint, lang=lang)
    local = format_when(part.at, reader.zone, part.style, reader.lang, now=now)
    if part.style == "date" or not reader.zone:
        return local
    tz, label = zone_parts(reader.zone)
    if label == "UTC":
        return local
    same_day = part.at.astimezone(tz).date() == part.at.astimezone(UTC).date()
    utc = format_when(part.at, None, "time" if same_day else "short", reader.lang, now=now)
    return f"{local} / {utc}"


class _Renderer:
    """One reply rendered for one reader, collecting who it mentions on the way."""

    def __init__(self, out: Outgoing, prefix: str, room_zones: RoomZones | None) -> None:
        self.out = out
        self.prefix = prefix
        self.room_zones = room_zones
        self.reactions = reaction_keys(out.reply.buttons)
        answered = out.in_reply_to.member if out.in_reply_to is not None else None
        self.answered = answered if answered is not None and answered.platform == "matrix" else None
        self.mentioned: list[str] = []

    # -- plain body ------------------------------------------------------------------------

    def plain_part(self, part: Inline) -> Inline:
        """A part the plain renderer shows literally, with user text defused."""
        if isinstance(part, Plain):
            return Plain(defuse(part.text))
        if isinstance(part, Code):
            return Code(defuse(part.text), part.language)
        if isinstance(part, When):
            return Plain(self.when(part))
        if isinstance(part, Mention):
            return Plain(defuse(part.member.display_name))
        return part

    def body(self) -> str:
        parts: list[Part] = []
        for part in self.out.reply.parts:
            if isinstance(part, Bullets):
                items = tuple(tuple(self.plain_part(p) for p in item) for item in part.items)
                parts.append(Bullets(items))
            else:
                parts.append(self.plain_part(part))
        text = render_plain(Reply(tuple(parts)), self.out.reader, self.out.sent_at)
        lang = self.out.reader.lang
        if self.reactions:
            keys = " · ".join(f"{k} {defuse(text_in(b.label, lang))}" for k, b in self.reactions)
            line = text_in(_("React {keys}", keys=keys), lang)
            text = (text + "\n" if text else "") + line
        hints = self.button_hints()
        if hints:
            lines = [
                "• " + text_in(_hint(defuse(label), command), lang) for label, command in hints
            ]
            text = (text + "\n" if text else "") + "\n".join(lines)
        return defuse(text)  # the bot's own words too: its body never pings the room

    # -- HTML ------------------------------------------------------------------------------

    def inline_html(self, part: Inline) -> str:
        if isinstance(part, str):
            return markdown_html(part)
        if isinstance(part, Plain):
            return user_html(part.text)
        if isinstance(part, Code):
            text = html.escape(defuse(part.text))
            if "\n" not in part.text:
                return f"<code>{text}</code>"
            lang = part.language if _LANGUAGE.fullmatch(part.language) else ""
            attr = f' class="language-{lang}"' if lang else ""
            return f"<pre><code{attr}>{text.rstrip()}</code></pre>"
        if isinstance(part, When):
            return html.escape(self.when(part))
        if isinstance(part, Mention):
            return self.mention_html(part)
        raise TypeError(f"not an inline part: {part!r}")

    def when(self, part: When) -> str:
        out = self.out
        return when_text(part, out.reader, out.sent_at, self.room_zones, self.prefix)

    def mention_html(self, part: Mention) -> str:
        member = part.member
        if self.answered is not None and member.id == self.answered.id:
            user_id = member.native_id
            if user_id not in self.mentioned:
                self.mentioned.append(user_id)
            return pill(user_id, member.display_name)
        return user_html(member.display_name)

    def formatted_body(self) -> str:
        chunks: list[str] = []
        for part in self.out.reply.parts:
            if isinstance(part, Bullets):
                items = "".join(
                    "<li>" + "".join(self.inline_html(p) for p in item) + "</li>"
                    for item in part.items
                )
                chunks.append(_BLOCK_START + f"<ul>{items}</ul>" + _BLOCK_END)
            else:
                rendered = self.inline_html(part)
                if rendered.startswith("<pre>"):
                    rendered = _BLOCK_START + rendered + _BLOCK_END
                chunks.append(rendered)
        lang = self.out.reader.lang
        if self.reactions:
            keys = " · ".join(f"{k} {user_html(text_in(b.label, lang))}" for k, b in self.reactions)
            react = _html_around(text_in(_("React {keys}", keys=_SLOT), lang), keys)
            after_block = bool(chunks) and chunks[-1].endswith(_BLOCK_END)
            chunks.append(("" if after_block or not chunks else "<br>") + react)
        hints = self.button_hints()
        if hints:
            items = "".join(
                "<li>"
                + _html_around(
                    text_in(_hint(_SLOT, _SLOT2), lang),
                    user_html(label),
                    html.escape(command),
                )
                + "</li>"
                for label, command in hints
            )
            chunks.append(_BLOCK_START + f"<ul>{items}</ul>" + _BLOCK_END)
        return _tidy_blocks("".join(chunks))

    def button_hints(self) -> list[tuple[str, str]]:
        """Buttons no reaction key was left for, as the command to type."""
        offered = {id(b) for _, b in self.reactions}
        return [
            (text_in(b.label, self.out.reader.lang), f"{self.prefix}{b.command}")
            for b in self.out.reply.buttons
            if id(b) not in offered
        ]

    # -- envelope --------------------------------------------------------------------------

    def relation(self) -> dict[str, Any] | None:
        incoming = self.out.in_reply_to
        if incoming is None or not incoming.event_id or incoming.room.id != self.out.room.id:
            return None
        if isinstance(incoming.handle, ByReaction):
            root = incoming.handle.thread_root
            return {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root},
            }
        reply_to = {"event_id": incoming.event_id}
        if incoming.thread_id:
            return {
                "rel_type": "m.thread",
                "event_id": incoming.thread_id,
                "is_falling_back": False,
                "m.in_reply_to": reply_to,
            }
        return {"m.in_reply_to": reply_to}


#: where a value goes in a translated sentence rendered as HTML (see :func:`_html_around`)
_SLOT = "\x01"
_SLOT2 = "\x02"


def _hint(label: str, command: str) -> Msg:
    """A button no reaction was left for: what to type instead."""
    return _("{label}: type `{command}`", label=label, command=command)


def _html_around(text: str, *values: str) -> str:
    """A translated sentence in the bot's markdown as HTML, with its slots (:data:`_SLOT`,
    :data:`_SLOT2`) filled by ``values``, already HTML."""
    rendered = markdown_html(text)
    for slot, value in zip((_SLOT, _SLOT2), values, strict=False):
        rendered = rendered.replace(slot, value)
    return rendered


_BLOCK_START = "\x00B"
_BLOCK_END = "\x00E"


def _tidy_blocks(text: str) -> str:
    """Drop the line breaks that would only add blank lines around block elements."""
    text = re.sub(r"(?:<br>)*\x00B", "", text)
    text = re.sub(r"\x00E(?:<br>)*", "", text)
    return re.sub(r"(?:<br>)+$", "", text)


def render_content(
    out: Outgoing, prefix: str = "!", room_zones: RoomZones | None = None
) -> dict[str, Any]:
    """The ``m.room.message`` content for one reply: an ``m.notice`` in HTML and plain text.

    ``prefix`` is the command prefix, shown in hints ("`!tz set <city>`").  ``room_zones``
    is given for a post the whole room reads (see :func:`when_text`).
    """
    renderer = _Renderer(out, prefix, room_zones)
    formatted = renderer.formatted_body()  # first: it collects the pills
    body = renderer.body()
    relation = renderer.relation()
    mentioned = list(renderer.mentioned)
    quiet = out.in_reply_to is not None and isinstance(out.in_reply_to.handle, ByReaction)
    if relation is not None and renderer.answered is not None and not quiet:
        # A reply notifies the member it answers (as Element does for replies), nobody else.
        answered = renderer.answered.native_id
        if answered not in mentioned:
            mentioned.append(answered)
    content: dict[str, Any] = {
        "msgtype": NOTICE,
        "body": body,
        "format": HTML_FORMAT,
        "formatted_body": formatted,
        "m.mentions": {"user_ids": mentioned} if mentioned else {},
    }
    if relation is not None:
        content["m.relates_to"] = relation
    if renderer.reactions:
        content[BUTTONS_KEY] = {key: b.command for key, b in renderer.reactions}
    return fit_content(content)


_TOO_LONG = "\n… (cut: the full answer is too long for one Matrix message)"


def fit_content(content: dict[str, Any]) -> dict[str, Any]:
    """Keep an event under Matrix's size limit: drop the HTML first, then cut the text."""
    if _size(content) <= MAX_CONTENT_BYTES:
        return content
    content = {k: v for k, v in content.items() if k not in ("format", "formatted_body")}
    body: str = content["body"]
    while _size(content) > MAX_CONTENT_BYTES and body:
        excess = _size(content) - MAX_CONTENT_BYTES
        body = body[: max(0, len(body) - max(excess, 1024))]
        content["body"] = body + _TOO_LONG
    return content


def _size(content: dict[str, Any]) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode())
