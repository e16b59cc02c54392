"""Replies as Discord markdown, cut into messages Discord accepts (at most 2000 characters).

The bot's own strings already use Discord's markdown (``**bold**``, ```code```); user text
(:class:`Plain`, :class:`Code`) is escaped so it shows literally and never pings anyone;
instants become native ``<t:…>`` timestamps, which every reader sees in their own zone.
"""

from __future__ import annotations

import re

import discord

from chatbot.base.i18n import Msg
from chatbot.messages.events import Bullets, Code, Inline, Mention, Plain, Reply, When
from chatbot.messages.localise import expand

MAX_CONTENT = 2000
#: ``When.style`` → Discord timestamp style (``F`` long date and time, ``D`` date, ``t`` time…)
TIMESTAMP_STYLES = {"full": "F", "date": "D", "time": "t", "short": "f"}

_FENCE = "```"
_CLOSE = "\n```"
_LANGUAGE = re.compile(r"[A-Za-z0-9_+\-]{1,20}")
#: a backtick with two more after it: where a fence would start or end
_TICKS = re.compile(r"`(?=``)")
_NUMBERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
#: a link (left whole: escaping it would break it), or a character or line start that is
#: markup in Discord (discord.py's ``escape_markdown`` rules, brackets one by one)
_ESCAPE = re.compile(
    r"(?P<url><[^: >]+:/[^ >]+>|(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s])"
    r"|(?P<markup>[_\\~|*`\[\]]|^>(?:>>)?\s|^#{1,3}|^\s*-)",
    re.MULTILINE,
)
#: a mass ping named in the bot's own words ("mass pings such as @everyone are removed")
_MASS_PING = re.compile(r"@(everyone|here)\b")
#: Discord's own tags: mentions ``<@id>`` ``<@&id>`` ``<#id>``, ``<t:…>`` timestamps,
#: ``</command:id>`` buttons and ``<:name:id>`` ``<a:name:id>`` emoji
_TAG = re.compile(r"<(?=[@#:]|[at]:|/[^>\n]+:\d)")


def escape_user_text(text: str) -> str:
    """Markdown shown literally and mentions (``@everyone``, ``<@&id>``…) broken up.

    Like discord.py's ``escape_markdown`` (links left whole, so they still work; quotes,
    headings and ``-`` lists escaped at a line start), but a markdown link's brackets are
    escaped one by one: discord.py escapes a whole ``[text](url)`` with one backslash and
    leaves what is inside, to the end of the line (``**bold**``, spoilers, a lone backtick),
    as markup.  A numbered list (``1. ``) and Discord's ``<…>`` tags (a channel link, a
    timestamp, a command or an emoji typed as text) are escaped too."""
    escaped = _ESCAPE.sub(_escaped, text)
    escaped = _NUMBERED.sub(r"\1\\.", escaped)
    escaped = discord.utils.escape_mentions(escaped)
    return _TAG.sub(r"\\<", escaped) if "<" in escaped else escaped


def _escaped(match: re.Match[str]) -> str:
    return match.group("url") or "\\" + match.group("markup")


def inline_code(text: str) -> str:
    """One line of user text as inline code, whatever backticks it holds."""
    if not text:
        return ""
    if "`" not in text:
        return f"`{text}`"
    if "``" not in text:
        return f"`` {text} ``"
    return "`" + text.replace("`", "ˋ") + "`"


def code_block(text: str, language: str = "") -> str:
    """A fenced block; three backticks in the text (anywhere: Discord closes a block there)
    are broken with a zero-width space, however long the run."""
    lang = language if _LANGUAGE.fullmatch(language) else ""
    body = _TICKS.sub("`\u200b", text).rstrip("\n")
    return f"{_FENCE}{lang}\n{body}\n{_FENCE}"


def timestamp(when: When) -> str:
    unix = int(when.at.timestamp())
    native = f"<t:{unix}:{TIMESTAMP_STYLES.get(when.style, 'F')}>"
    return f"{native} (<t:{unix}:R>)" if when.relative else native


def mention(part: Mention) -> str:
    member = part.member
    if member.platform == "discord" and member.native_id.isdigit():
        return f"<@{member.native_id}>"
    return escape_user_text(member.display_name)


def render_inline(part: Inline) -> str:
    """One inline part; a multi-line :class:`Code` becomes a block (see :func:`render`)."""
    if isinstance(part, str):  # the bot's words; "@everyone" in them names, never pings
        return _MASS_PING.sub("@\u200b\\1", part) if "@" in part else part
    if isinstance(part, Plain):
        return escape_user_text(part.text)
    if isinstance(part, Code):
        return code_block(part.text, part.language) if "\n" in part.text else inline_code(part.text)
    if isinstance(part, When):
        return timestamp(part)
    if isinstance(part, Mention):
        return mention(part)
    raise TypeError(f"not an inline part: {part!r}")


def render(reply: Reply) -> str:
    """The whole reply as Discord markdown (possibly longer than one message).

    A block (a list, a code block) starts on a line of its own and what follows it starts
    on the next line.  Discord's lists run on until a blank line (a line right after an item
    is read as more of that item), so a list is followed by a blank line."""
    out: list[str] = []
    after = ""  # what must separate the last block from whatever follows it
    for part in reply.parts:
        if isinstance(part, Bullets):
            text = "\n".join("- " + "".join(render_inline(p) for p in item) for item in part.items)
        else:
            text = render_inline(part)
        if not text:
            continue  # an empty part must not undo the break a block needs
        block = isinstance(part, Bullets) or (isinstance(part, Code) and "\n" in part.text)
        if after:
            out.append(after)
            text = text.lstrip("\n")
        elif block and out and not out[-1].endswith("\n"):
            out.append("\n")
        out.append(text)
        after = ("\n\n" if isinstance(part, Bullets) else "\n") if block else ""
    return "".join(out).strip("\n")


def message_markdown(msg: Msg, lang: str | None) -> str:
    """One of the adapter's own messages as Discord markdown in ``lang``: any value in it
    that came from a member escaped, as in a reply (``text_in`` would keep it as it is)."""
    return render(Reply(tuple(expand(msg, lang))))


def mentioned_ids(reply: Reply) -> set[str]:
    """Scoped ids of the members a reply mentions."""
    found: set[str] = set()
    for part in reply.parts:
        inline = [p for item in part.items for p in item] if isinstance(part, Bullets) else [part]
        found.update(p.member.id for p in inline if isinstance(p, Mention))
    return found


def split_content(text: str, limit: int = MAX_CONTENT) -> list[str]:
    """Cut at line boundaries into pieces of at most ``limit`` characters.

    A code block cut in two is closed at the end of one piece and reopened (with its
    language) at the start of the next; a single line longer than a piece is cut hard.
    """
    if len(text) <= limit:
        return [text]
    piece_max = limit - len(_CLOSE) - 1 - len(_FENCE) - 20  # room for closing + reopening
    chunks: list[str] = []
    lines: list[str] = []
    size = 0
    fence: str | None = None  # the opening line of the block open at the end of ``lines``

    def flush() -> None:
        nonlocal lines, size
        body = "\n".join(lines) + (_CLOSE if fence is not None else "")
        if body.strip():
            chunks.append(body)
        lines = [fence] if fence is not None else []
        size = len(fence) if fence is not None else 0

    for line in text.split("\n"):
        pieces = [line[i : i + piece_max] for i in range(0, len(line), piece_max)] or [""]
        for piece in pieces:
            is_fence = piece.startswith(_FENCE)
            after = (None if fence is not None else piece) if is_fence else fence
            needed = size + (1 if lines else 0) + len(piece)
            reserve = len(_CLOSE) if after is not None else 0
            if needed + reserve > limit and lines:
                flush()
            size += (1 if lines else 0) + len(piece)
            lines.append(piece)
            if is_fence:
                fence = after
    if lines:
        flush()
    return chunks
