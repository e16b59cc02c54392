"""Hostile text typed by members and organisers, through the real commands, shown literally
on every platform: every reply the bot makes (the console's) is also rendered as Matrix HTML
and as Discord markdown, and checked for markup or pings that came from the typed text.

The hostile pieces: a backtick (to break out of a code span), a markdown link, ``@everyone``,
``@here``, ``@room``, HTML, ``**bold**``, a spoiler and a code span of its own.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from adapters.console import ConsoleAdapter
from adapters.discord.render import escape_user_text, message_markdown, render
from adapters.discord.scheduled_events import _event_body
from adapters.matrix.render import render_content
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.base.i18n import _, verbatim
from chatbot.dispatch.adapter import Sent
from chatbot.messages.events import Code, Outgoing, Plain, Reply, Room
from chatbot.messages.localise import localise
from chatbot.messages.render import render_plain
from chatbot.runtime.bot import Bot
from commands import announce, basics, members
from commands import faq as faq_module
from commands import meetings as meetings_module
from commands.faq.service import answer_parts
from commands.meetings.platform_events import event_spec
from commands.meetings.store import MeetingRow
from tests.harness import BASE_CONFIG, ConsoleChat

#: one piece of each kind, with no double quote (it goes inside a quoted title)
HOSTILE = (
    "x` [link](https://evil.example) @everyone @here @room <b>x</b> **bold** ||spoiler|| `tick`"
)
#: the same without backticks (an FAQ answer's backticks are kept as code, by design)
NO_TICKS = "[link](https://evil.example) @everyone @here <b>x</b> ||spoiler||"
#: the same as one word (a title typed without quotes)
WORD = "x`[link](https://evil.example)<b>x</b>**bold**||spoiler||"
EVIL_LINK = "https://evil.example/[x](https://evil.example)||s||<#123>"

MODULES = [
    basics.module,
    members.module,
    meetings_module.module,
    announce.module,
    faq_module.module,
]


class RecordingConsole(ConsoleAdapter):
    """The console adapter, keeping every reply it is given (as the core hands it over)."""

    sent: list[Outgoing]

    async def send(self, out: Outgoing) -> Sent | None:
        self.sent.append(out)
        return await super().send(out)


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    config = parse_config(BASE_CONFIG.format(url=sqlite_url))
    out = io.StringIO()
    adapter = RecordingConsole(config, stdin=io.StringIO(""), stdout=out)
    adapter.sent = []
    bot = Bot(config, clock=clock, adapters=[adapter], modules=MODULES)
    await bot.open()
    chat = ConsoleChat(bot, adapter, out)
    try:
        yield chat
    finally:
        await bot.close()


def sent(chat: ConsoleChat) -> list[Outgoing]:
    assert isinstance(chat.adapter, RecordingConsole)
    return chat.adapter.sent


async def deliver(chat: ConsoleChat) -> str:
    """Room posts and notices waiting in the outbox, sent; what the console printed."""
    return await chat.deliver()


# -- what each platform would show --------------------------------------------------------------


def code_spans(text: str) -> tuple[list[str], str]:
    """Discord markdown cut into its inline code spans (their text) and everything outside
    them (CommonMark: a run of backticks closes at the next run of the same length)."""
    spans: list[str] = []
    outside: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            outside.append(text[i : i + 2])
            i += 2
            continue
        if text[i] != "`":
            outside.append(text[i])
            i += 1
            continue
        run = len(text[i:]) - len(text[i:].lstrip("`"))
        closing = re.compile(rf"(?<!`)`{{{run}}}(?!`)").search(text, i + run)
        if closing is None:
            outside.append("`" * run)
            i += run
            continue
        spans.append(text[i + run : closing.start()])
        i = closing.end()
    return spans, "".join(outside)


def assert_discord_safe(markdown: str) -> None:
    """Outside code spans, nothing from the hostile text is markup or a ping."""
    spans, outside = code_spans(markdown)
    assert not re.search(r"@(everyone|here)", outside), markdown
    assert not re.search(r"(?<!\\)\[link\]\(", outside), markdown
    assert "||spoiler||" not in outside and "**bold**" not in outside, markdown
    assert not re.search(r"(?<!\\)<@", outside), markdown
    assert "tick" not in spans, markdown  # the member's `tick` stays text, not code


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_matrix_safe(content: dict[str, Any]) -> str:
    """Only the bot's own tags, no link but a mention pill, ``@room`` broken everywhere, and
    the room never named in ``m.mentions``; the formatted body's text."""
    html = content.get("formatted_body", "")
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in {"strong", "code", "pre", "br", "ul", "li", "a"}, html
        if tag == "a":
            assert (attrs.get("href") or "").startswith("https://matrix.to/#/@"), html
    assert "<strong>bold</strong>" not in html and "<code>tick</code>" not in html, html
    shown = "".join(parser.text)
    assert not re.search("@room", shown, re.IGNORECASE), html
    assert not re.search("@room", content["body"], re.IGNORECASE), content["body"]
    assert "room" not in content["m.mentions"]
    return shown


def check_everything(chat: ConsoleChat) -> None:
    """Every reply so far, rendered for Matrix and Discord, is safe."""
    for out in sent(chat):
        shown = localise(out)
        assert_discord_safe(render(shown.reply))
        assert_matrix_safe(render_content(shown, "!"))


# -- the two hand-made code spans that let a title out ------------------------------------------


async def test_repeating_meeting_without_a_time_quotes_the_title_as_code(
    chat: ConsoleChat,
) -> None:
    """``!meeting add "<title>" every friday`` asks for a time with the command to type: the
    title with its backtick stays inside the code on every platform."""
    said = await chat.say(f'!meeting add "{HOSTILE}" every friday', as_="ana")
    assert said.startswith("Repeating every Friday: at what time? For example: ")
    assert f'`!meeting add "{HOSTILE}" every friday 15:00 UTC`' in said  # the console's text
    out = localise(sent(chat)[-1])

    discord = render(out.reply)
    assert_discord_safe(discord)
    spans, _outside = code_spans(discord)
    assert f'!meeting add "{HOSTILE}" every friday 15:00 UTC' in [s.strip() for s in spans]

    content = render_content(out, "!")
    shown = assert_matrix_safe(content)
    html = content["formatted_body"]
    assert "<code>!meeting add &quot;x` [link](https://evil.example) @everyone" in html
    assert (
        "&lt;b&gt;x&lt;/b&gt; **bold** ||spoiler|| `tick`&quot; every friday 15:00 UTC</code>"
        in html
    )
    assert '"x` [link](https://evil.example) @everyone @here @\u200droom <b>x</b>' in shown


async def test_title_in_several_words_is_suggested_as_code(chat: ConsoleChat) -> None:
    """``!meeting add <words> friday 15:00`` suggests the quoted title: the typed words stay
    inside the suggested command's code, on Matrix and on Discord."""
    said = await chat.say(f"!meeting add {WORD} @everyone @room friday 15:00", as_="ana")
    assert said.startswith("Is the title ")
    assert f'`!meeting add "{WORD} @everyone @room" friday 15:00`' in said
    out = localise(sent(chat)[-1])

    discord = render(out.reply)
    assert_discord_safe(discord)
    spans, outside = code_spans(discord)
    assert f'!meeting add "{WORD} @everyone @room" friday 15:00' in [s.strip() for s in spans]
    assert escape_user_text(f'"{WORD} @everyone @room"') in outside  # "Is the title …?"

    content = render_content(out, "!")
    assert_matrix_safe(content)
    assert (
        "<code>!meeting add &quot;x`[link](https://evil.example)&lt;b&gt;x&lt;/b&gt;**bold**"
        "||spoiler|| @everyone @\u200droom&quot; friday 15:00</code>" in content["formatted_body"]
    )


# -- code parts, on every renderer --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["a`b", "`lead", "trail`", "a``b", "@everyone <@123> @room", "**x** [l](https://e.x) ||s||"],
)
def test_code_part_shows_its_text_literally(text: str) -> None:
    """A :class:`Code` part holding backticks, pings or markup stays one code span: Discord
    (its text whole, or with look-alike backticks when it holds a double one), Matrix HTML
    (escaped, ``@room`` broken) and plain text."""
    reply = Reply.of("Type ", Code(text), " then.")
    discord = render(reply)
    spans, outside = code_spans(discord)
    assert outside == "Type  then."
    assert [s.strip() for s in spans] == [text.replace("`", "ˋ") if "``" in text else text]

    content = render_content(Outgoing(_ROOM, reply), "!")
    html = content["formatted_body"]
    assert html.startswith("Type <code>") and html.endswith("</code> then.")
    parser = _Tags()
    parser.feed(html)
    assert [t for t, _a in parser.tags] == ["code"]
    defused = text.replace("@room", "@\u200droom")
    assert "".join(parser.text) == f"Type {defused} then."
    assert render_plain(reply) == f"Type `{text}` then."


_ROOM = Room("matrix:!r:example.org", "matrix", "!r:example.org")


# -- everything else a member or organiser types --------------------------------------------------


async def test_hostile_input_everywhere_is_shown_literally(chat: ConsoleChat) -> None:
    """Arguments, titles, links, announcements, FAQ entries, questions, typos of commands:
    each reply, post and notice is safe on Matrix and Discord, and shows the text as typed."""
    for line in (
        f"!tz set {HOSTILE}",
        f"!lang {WORD}",
        f"!help {WORD}",
        f"!{WORD}",
        f"!tz {WORD}",
        f"!meeting {WORD}",
        f"!remind via {WORD}",
        f"!remind me on {WORD}",
        f"!rsvp 1 {WORD}",
        f"!meeting add {HOSTILE}",
        f'!meeting add "{HOSTILE}" friday 15:00 --{WORD} 2',
        f'!meeting add "{HOSTILE}" {WORD} 15:00',
        f'!meeting add "{HOSTILE}" friday 15:00 --link {EVIL_LINK}',
        "!meeting confirm 1",
        f"!meeting edit 1 title {HOSTILE} again",
        f"!meeting edit 1 when {HOSTILE}",
        f"!meeting cancel 1 --occurrence {WORD}",
        "!meetings",
        "!meeting 1",
        "!rsvp 1 yes",
        f"!faq list {HOSTILE}",
        f"!faq show {WORD}",
        f'!faq add evil "{HOSTILE}?" "Say `@room` then **now** and {NO_TICKS}"',
        "!faq show evil",
        f"!faq alias evil {HOSTILE} please",
        f"!faq edit evil tags {HOSTILE}",
        "!faq show evil",
        f"!ask {HOSTILE} unknown words zzqx",
        "!faq unanswered",
        "!announce rooms add here",
        f"!announce rooms add {WORD}",
        f"!announce {HOSTILE}",
        "!announce confirm 1",
        "!announce list",
    ):
        await chat.say(line, as_="ana", room="#general")
    posted = await deliver(chat)
    assert "Meeting #1: " in posted and f"Join: {EVIL_LINK}" in posted  # the room post
    check_everything(chat)

    # the meeting's room post shows the title literally on both platforms
    posts = [
        localise(out)
        for out in sent(chat)
        if out.in_reply_to is None and "Meeting #1: " in render_plain(localise(out).reply)
    ]
    assert posts
    discord = render(posts[0].reply)
    assert escape_user_text(HOSTILE) in discord
    assert escape_user_text(EVIL_LINK) in discord

    # the FAQ entry's own `code` is a code part: @room broken in it too
    answer = next(
        localise(out) for out in sent(chat) if f"Q: {HOSTILE}?" in render_plain(localise(out).reply)
    )
    content = render_content(answer, "!")
    assert "<code>@\u200droom</code>" in content["formatted_body"]
    assert "<strong>now</strong>" in content["formatted_body"]  # the organiser's own bold
    assert "`@room`" in render(answer.reply)


def test_faq_answer_keeps_code_and_one_line_bold_only() -> None:
    """An answer's `code` becomes a code part and its **bold** stays; bold over a line break
    (which could start a heading) or around markup is shown literally."""
    assert answer_parts("Type `!tz set Lagos` **now**") == [
        Plain("Type "),
        Code("!tz set Lagos"),
        Plain(" "),
        verbatim("**{bold}**", bold="now"),
    ]
    assert answer_parts("**a\n# big**") == [Plain("**a\n# big**")]
    assert answer_parts("**[x](https://evil.example)**") == [Plain("**[x](https://evil.example)**")]


async def test_discord_event_description_escapes_the_link(chat: ConsoleChat) -> None:
    """A meeting published as a Discord scheduled event: its link is user text in the
    description (shown as typed, no masked link, no spoiler), the bot's markdown stays."""
    await chat.say(f'!meeting add "{HOSTILE}" friday 15:00 --link {EVIL_LINK}', as_="ana")
    assert "is saved" in await chat.say("!meeting confirm 1")
    async with chat.bot.db.sessions() as session:
        row = (await session.scalars(select(MeetingRow))).one()
    at = row.series().next_after(chat.bot.clock.now())
    assert at is not None
    body = _event_body(event_spec(chat.bot, row, at))
    description: str = body["description"]
    # the link itself stays whole (Discord links all of it); the channel tag after it is text
    assert "Join: https://evil.example/[x](https://evil.example)||s||\\<#123>" in description
    assert_discord_safe(description)
    assert "`!rsvp 1 yes|maybe|no`" in description  # the bot's own code span
    assert body["name"] == HOSTILE  # an event's name is plain text on Discord


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        # discord.py escapes a whole [text](url) with one backslash, leaving what follows on
        # the line (bold, spoilers, a backtick that pairs with the bot's next code span)
        (
            "[a](b) **bold** ||s|| `x` (c)",
            "\\[a\\](b) \\*\\*bold\\*\\* \\|\\|s\\|\\| \\`x\\` (c)",
        ),
        ("[link](https://evil.example)", "\\[link\\](https://evil.example)"),
        (
            "see <#123>, <t:0:F>, </tz set:1> <:e:1>",
            "see \\<#123>, \\<t:0:F>, \\</tz set:1> \\<:e:1>",
        ),
        ("@everyone @here", "@\u200beveryone @\u200bhere"),
        ("<b>x</b> a < b", "<b>x</b> a < b"),
        ("https://x.example/a_b*c", "https://x.example/a_b*c"),  # a link still works
    ],
)
def test_discord_user_text_is_escaped_whole(typed: str, escaped: str) -> None:
    """User text on Discord: every markup character escaped, links kept whole, Discord's
    own ``<…>`` tags and mass pings broken."""
    assert escape_user_text(typed) == escaped
    assert render(Reply.of("You said: ", Plain(typed))) == f"You said: {escaped}"


def test_bot_words_naming_mass_pings_ping_nobody() -> None:
    """The bot's own words may name @everyone or @room ("mass pings are removed"): Discord
    and Matrix show them broken, so no client reads them as a ping."""
    reply = Reply.of("Mass pings (@everyone, @here, @room) are removed.")
    assert render(reply) == "Mass pings (@\u200beveryone, @\u200bhere, @room) are removed."
    content = render_content(Outgoing(_ROOM, reply), "!")
    assert "@\u200droom" in content["body"] and "@\u200droom" in content["formatted_body"]
    assert_matrix_safe(content)


def test_discord_adapter_own_words_escape_what_they_quote() -> None:
    """The Discord adapter's own short answers (an expired button, a saved form page) are
    rendered like replies: a value a member typed in them is escaped, not pasted in."""
    said = _("I don't know the command {name}.", name=Plain("**x** @everyone"))
    assert message_markdown(said, "en") == "I don't know the command \\*\\*x\\*\\* @\u200beveryone."


@pytest.mark.parametrize("ticks", ["```", "````", "``````"])
def test_discord_code_block_cannot_be_closed_from_inside(ticks: str) -> None:
    """A block of user text (``!mydata``, say) holding a run of three or more backticks: the
    run is broken, so the block ends where the bot ends it and what follows is still code."""
    text = f'{{"name": "a\n{ticks}\n**b** [x](https://evil.example) @everyone"}}'
    markdown = render(Reply.of("Your data:\n", Code(text, "json")))
    assert markdown.startswith("Your data:\n```json\n") and markdown.endswith("\n```")
    inside = markdown.removeprefix("Your data:\n```json\n").removesuffix("\n```")
    assert "```" not in inside
    assert inside.replace("\u200b", "") == text
