"""Discord's markdown rendering against Matrix's HTML, shape by shape.

One reply is rendered by both adapters and each rendering is read back as the lines a
reader sees, each with its kind (text, list item, code, quote, heading) and its visible
text.  Discord is read the way its client reads markdown: a list runs on until a blank line
(a line after an item without one is part of that item), ``> `` starts a quote, ``#`` a
heading, and a line starting ``1. `` is a list item.  Matrix is read from its HTML.  For
every shape both must show the same lines.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from adapters.discord.render import escape_user_text, render
from adapters.matrix.render import render_content
from chatbot.messages.events import Bullets, Code, Member, Mention, Outgoing, Plain, Reply, Room

Line = tuple[str, str]

_INVISIBLE = str.maketrans("", "", "\u200b\u200d")
_TOKEN = re.compile(r"(?P<code>(`+) ?(?P<inner>.+?) ?\2)|\\(?P<escaped>[^\w\s])|\*\*")
_ITEM = re.compile(r"(?:[-*+]|\d+\.) ")


def visible(markdown: str) -> str:
    """What Discord shows of one line: escapes resolved, bold and code marks gone."""

    def token(match: re.Match[str]) -> str:
        if match.group("code") is not None:
            return match.group("inner")
        if match.group("escaped") is not None:
            return match.group("escaped")
        return ""

    return _TOKEN.sub(token, markdown).translate(_INVISIBLE).strip()


def discord_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    in_code = False
    in_list = False
    quote_rest = False
    for line in text.split("\n"):
        if in_code:
            if line.startswith("```"):
                in_code = False
            else:
                lines.append(("code", line))
            continue
        if not line.strip():
            in_list = False
            continue
        if in_list and not _ITEM.match(line):
            lines.append(("continuation", visible(line)))  # swallowed by the list item
            continue
        if line.startswith("```"):
            in_code = True
            rest = line[3:]
            if rest.endswith("```") and len(rest) >= 3:  # ```one line```
                lines.append(("code", rest[:-3]))
                in_code = False
            continue
        if quote_rest:
            lines.append(("quote", visible(line)))
        elif _ITEM.match(line):
            in_list = True
            lines.append(("item", visible(_ITEM.sub("", line, count=1))))
        elif line.startswith(">>> "):
            quote_rest = True
            lines.append(("quote", visible(line[4:])))
        elif line.startswith("> "):
            lines.append(("quote", visible(line[2:])))
        elif re.match(r"#{1,3} ", line) or line.startswith("-# "):
            lines.append(("heading", visible(line.split(" ", 1)[1])))
        else:
            lines.append(("text", visible(line)))
    return lines


class _MatrixLines(HTMLParser):
    """The lines of Matrix's ``formatted_body``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.kind = "text"
        self.current = ""
        self.in_pre = False

    def flush(self, next_kind: str | None = None) -> None:
        text = self.current.translate(_INVISIBLE).strip()
        if text:
            self.lines.append((self.kind, text))
        self.current = ""
        if next_kind is not None:
            self.kind = next_kind

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.flush("continuation" if self.kind in ("item", "continuation") else None)
        elif tag == "li":
            self.flush("item")
        elif tag in ("ul", "ol"):
            self.flush("text")
        elif tag == "pre":
            self.flush()
            self.in_pre = True
        elif tag == "blockquote":
            self.flush("quote")
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush("heading")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.lines.extend(("code", line) for line in self.current.split("\n"))
            self.current = ""
            self.in_pre = False
        elif tag in ("li", "ul", "ol", "blockquote") or re.fullmatch(r"h[1-6]", tag):
            self.flush("text")

    def handle_data(self, data: str) -> None:
        self.current += data

    def close(self) -> None:
        super().close()
        self.flush()


def matrix_lines(reply: Reply) -> list[Line]:
    out = Outgoing(Room("matrix:!r:example.org", "matrix", "room"), reply)
    parser = _MatrixLines()
    parser.feed(render_content(out)["formatted_body"])
    parser.close()
    return parser.lines


ANA = Member("matrix:@ana:example.org", "matrix", "Ana María")
TOPICS = Bullets(
    ((Plain("How do I join?"), " (`!faq show 3`)"), (Plain("Events near me"), " (`!faq show 7`)"))
)

SHAPES: dict[str, Reply] = {
    "unanswered ask (a list, an empty part, then text)": Reply.of(
        "I don't know the answer to “",
        Plain("who runs the archive?"),
        "” yet. I've noted your question for the organisers.",
        "\nThe nearest topics I know:\n",
        TOPICS,
        "",
        "You can also ask in the room, or browse with `!faq list`.",
    ),
    "list, then text": Reply.of("Rooms:\n", TOPICS, "Done."),
    "text, list, then a new line of text": Reply.of("Rooms:", TOPICS, "\nDone."),
    "list at the end": Reply.of("Announcements go to:\n", TOPICS),
    "list first": Reply.of(TOPICS, "That is all."),
    "two lists": Reply.of("Going:\n", TOPICS, "Maybe:\n", Bullets(((Plain("carol"),),))),
    "list, then code": Reply.of(TOPICS, Code('{\n  "a": 1\n}', "json")),
    "code between text": Reply.of("Here:", Code("line one\nline two"), "after"),
    "code, then a list": Reply.of(Code("x = 1\ny = 2", "python"), TOPICS),
    "code at the end": Reply.of("Your data:\n", Code('{\n  "zone": "UTC"\n}', "json")),
    "bold, inline code and a mention": Reply.of(
        "**Q:** ", Plain("What?"), "\nAsk ", Mention(ANA), " or type `!help`."
    ),
    "user text that looks like markdown blocks": Reply.of(
        "You said: ",
        Plain(
            "> not a quote\n# not a heading\n## nor this\n- not a list\n* nor this\n"
            "1. not a numbered list\n-# not small print\n>>> not a long quote"
        ),
    ),
    "list items that look like markdown blocks": Reply.of(
        "Titles:\n",
        Bullets(((Plain("# hash"),), (Plain("> arrow"),), (Plain("2. second"),))),
    ),
    "user text over several lines": Reply.of("Line:\n", Plain("first\nsecond"), "\nend"),
    "a list item over two lines": Reply.of(
        "Note:\n", Bullets(((Plain("first line\nsecond line"),),)), "after"
    ),
    "empty parts between lines": Reply.of("a", "", "\n", "", "b"),
}


@pytest.mark.parametrize("reply", SHAPES.values(), ids=list(SHAPES))
def test_discord_shows_the_lines_matrix_shows(reply: Reply) -> None:
    """Same lines, same kinds (text, list item, code, quote, heading), same visible text."""
    assert discord_lines(render(reply)) == matrix_lines(reply)


def test_text_after_a_list_is_on_its_own_line() -> None:
    """The unanswered `!ask`: the line after the nearest topics does not run into the last
    topic ("…)You can also ask") nor continue its list item."""
    rendered = render(SHAPES["unanswered ask (a list, an empty part, then text)"])
    assert rendered.endswith(
        "(`!faq show 7`)\n\nYou can also ask in the room, or browse with `!faq list`."
    )


def test_user_text_never_starts_a_block() -> None:
    """Quotes, headings, lists and numbered lists in member text are shown literally."""
    escaped = escape_user_text("1. one\n  2) two\n10. ten\n> q\n# h\n- l")
    assert [kind for kind, _ in discord_lines(escaped)] == ["text"] * 6


def test_mentions_in_user_text_are_broken() -> None:
    """Whatever reaches the renderer as user text (from Matrix, say) pings nobody, and the
    tags show as typed (escaped), not as mentions."""
    assert render(Reply.of(Plain("@everyone <@&123456789012345678> <@123456789012345678>"))) == (
        "@\u200beveryone \\<@\u200b&123456789012345678> \\<@\u200b123456789012345678>"
    )
