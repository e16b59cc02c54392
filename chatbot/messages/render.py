"""Plain-text rendering of replies, shared by the console and as the fallback body elsewhere.

The bot's own strings use a tiny markdown subset; here it is flattened to plain text.
Adapters with rich text (Matrix HTML, Discord markdown) render from the same parts.
Files a reply carries are listed after the text as ``[file: name, N KB]``: where the plain
text is all a reader gets, they at least learn that a file was meant for them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from chatbot.base.i18n import PSEUDO, Msg, _, _n, message_language
from chatbot.messages.events import (
    Attachment,
    Bullets,
    Code,
    Inline,
    Mention,
    Plain,
    Reader,
    Reply,
    When,
)
from chatbot.messages.localise import expand, text_in
from chatbot.time.format import format_when

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def strip_markdown(text: str) -> str:
    """``**bold**`` → ``bold``; backticks stay, they read fine in plain text."""
    if "**" not in text:
        return text
    if text.count("**") % 2 == 0:  # paired, as the bot writes them: no regex, no template
        return text.replace("**", "")
    return _BOLD.sub(r"\1", text)


def render_inline_plain(part: Inline | Bullets, reader: Reader, now: datetime | None = None) -> str:
    """One inline part as plain text (a list is not one: TypeError)."""
    # the class compared first: isinstance() of a msgspec class is slow when it is false
    cls = part.__class__
    if isinstance(part, str):
        return strip_markdown(part)
    if cls is Plain and isinstance(part, Plain):
        return part.text
    if cls is When and isinstance(part, When):
        return format_when(part.at, reader.zone, part.style, reader.lang, now=now)
    if cls is Code and isinstance(part, Code):  # backticks, like the bot's own `code` spans
        return f"`{part.text}`" if "\n" not in part.text else "\n" + part.text + "\n"
    if cls is Mention and isinstance(part, Mention):
        return part.member.display_name
    if isinstance(part, Msg):  # not localised yet (a log line, a test): in the reader's language
        return "".join(render_inline_plain(p, reader, now) for p in expand(part, reader.lang))
    raise TypeError(f"not an inline part: {part!r}")


def file_size(size: int, lang: str | None = None) -> Msg:
    """``1 byte``, ``512 bytes``, ``3 KB`` (rounded up), ``1.5 MB`` (``1,5 Mo`` in French)."""
    if size < 1024:
        return _n("{n} byte", "{n} bytes", size)
    if size < 1024 * 1024:
        return _("{size} KB", size=math.ceil(size / 1024))
    return _("{size} MB", size=_one_decimal(size / (1024 * 1024), lang))


def _one_decimal(value: float, lang: str | None) -> str:
    code = message_language(lang)
    if code in ("en", PSEUDO):
        return f"{value:.1f}"
    from babel.numbers import format_decimal

    return str(format_decimal(value, format="0.0", locale=code))


def describe_file(file: Attachment, lang: str | None = None) -> str:
    """``[file: name, N KB]``: a file in plain text, in the reader's language."""
    msg = _("[file: {name}, {size}]", name=Plain(file.filename), size=file_size(file.size, lang))
    return text_in(msg, lang)


_NOBODY = Reader()


def render_plain(reply: Reply, reader: Reader = _NOBODY, now: datetime | None = None) -> str:
    """The whole reply as plain text in the reader's zone."""
    out: list[str] = []
    for part in reply.parts:
        if isinstance(part, str):  # most parts: no bold, so strip_markdown is not called
            out.append(strip_markdown(part) if "**" in part else part)
        elif part.__class__ is Bullets and isinstance(part, Bullets):
            lines = (
                "• " + "".join(render_inline_plain(p, reader, now) for p in item)
                for item in part.items
            )
            block = "\n".join(lines)
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            out.append(block + "\n")
        else:
            out.append(render_inline_plain(part, reader, now))
    text = "".join(out).rstrip("\n")
    if not reply.files:
        return text
    files = "\n".join(describe_file(f, reader.lang) for f in reply.files)
    return f"{text}\n{files}" if text else files
