"""A reply and its reader as the compact JSON stored in an outbox row's ``payload``.

Rows wait in the database, possibly across a restart or for another instance, so what to post
is stored as data rather than objects: :func:`encode_payload` when queueing,
:func:`decode_payload` when sending.  Short tags keep a fan-out of thousands of rows small.
Files (:class:`~chatbot.messages.events.Attachment`) travel along, their bytes in base64.
Forms are refused: they need a member to answer them.  Messages (:class:`Msg`) are stored
untranslated, with their placeholders' values, and translated when the row is sent, for
its reader.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import msgspec

from chatbot.base.i18n import Msg
from chatbot.messages.events import (
    Attachment,
    Bullets,
    Button,
    Code,
    Inline,
    Member,
    Mention,
    Part,
    Plain,
    Reader,
    Reply,
    When,
)


def _enc_inline(part: Inline) -> list[Any]:
    if isinstance(part, str):
        return ["s", part]
    if isinstance(part, Plain):
        return ["p", part.text]
    if isinstance(part, Code):
        return ["c", part.text, part.language]
    if isinstance(part, When):
        return ["w", part.at.astimezone(UTC).isoformat(), part.style, part.relative]
    if isinstance(part, Mention):
        m = part.member
        return ["m", m.id, m.platform, m.display_name]
    if isinstance(part, Msg):
        args = [[name, _enc_value(value)] for name, value in part.args]
        return ["t", part.text, args, part.plural, part.n, part.context, part.verbatim]
    raise TypeError(f"not an inline part: {part!r}")


def _enc_value(value: Any) -> list[Any]:
    """A placeholder's value: a number, or a part (a string, a message, user text, …)."""
    if isinstance(value, bool):
        raise TypeError("a message placeholder cannot be a bool")
    if isinstance(value, int | float):
        return ["n", value]
    return _enc_inline(value)


def _dec_value(data: list[Any]) -> Any:
    return data[1] if data[0] == "n" else _dec_inline(data)


def _dec_inline(data: list[Any]) -> Inline:
    tag = data[0]
    if tag == "s":
        return str(data[1])
    if tag == "p":
        return Plain(data[1])
    if tag == "c":
        return Code(data[1], data[2])
    if tag == "w":
        return When(datetime.fromisoformat(data[1]), data[2], bool(data[3]))
    if tag == "m":
        return Mention(Member(data[1], data[2], data[3]))
    if tag == "t":
        _tag, text, args, plural, n, context, verbatim = data
        values = tuple((name, _dec_value(value)) for name, value in args)
        return Msg(text, values, plural=plural, n=n, context=context, verbatim=bool(verbatim))
    raise ValueError(f"unknown part tag {tag!r}")


#: The reader of a reply queued for nobody in particular (no zone, no language).
NO_READER = Reader()


def encode_payload(reply: Reply, reader: Reader = NO_READER) -> str:
    """A reply and its reader as compact JSON (forms are not queued: they need a caller)."""
    if reply.form is not None:
        raise ValueError("a reply with a form cannot go through the outbox")
    parts: list[Any] = []
    for part in reply.parts:
        if isinstance(part, Bullets):
            parts.append(["b", [[_enc_inline(p) for p in item] for item in part.items]])
        else:
            parts.append(_enc_inline(part))
    data: dict[str, Any] = {"parts": parts}
    if reply.private:
        data["private"] = True
    if reply.direct:
        data["direct"] = True
    if reply.buttons:
        data["buttons"] = [[_enc_inline(b.label), b.command, b.style] for b in reply.buttons]
    if reply.files:
        data["files"] = [
            [f.filename, f.mime, base64.b64encode(f.data).decode("ascii")] for f in reply.files
        ]
    if reader.zone or reader.lang:
        data["reader"] = [reader.zone, reader.lang]
    return msgspec.json.encode(data).decode()


def _label(data: str | list[Any]) -> str | Msg:
    """A button's label: a string in rows queued before labels could be messages."""
    if isinstance(data, str):
        return data
    label = _dec_inline(data)
    assert isinstance(label, str | Msg)
    return label


def decode_payload(text: str) -> tuple[Reply, Reader]:
    data = msgspec.json.decode(text)
    parts: list[Part] = []
    for raw in data["parts"]:
        if raw[0] == "b":
            parts.append(Bullets(tuple(tuple(_dec_inline(p) for p in item) for item in raw[1])))
        else:
            parts.append(_dec_inline(raw))
    buttons = tuple(
        Button(_label(label), cmd, style) for label, cmd, style in data.get("buttons", ())
    )
    files = tuple(
        Attachment(name, base64.b64decode(blob), mime) for name, mime, blob in data.get("files", ())
    )
    reply = Reply(
        tuple(parts),
        private=bool(data.get("private", False)),
        direct=bool(data.get("direct", False)),
        buttons=buttons,
        files=files,
    )
    zone, lang = data.get("reader", (None, None))
    return reply, Reader(zone, lang)
