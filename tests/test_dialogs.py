"""The conversation engine: ask, validate, back, skip, help, review, confirm, resume, expire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from chatbot.base.clock import FakeClock
from chatbot.base.errors import UserError
from chatbot.base.i18n import verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import Dialog, Step
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Plain, Reply
from commands import basics, members
from tests.harness import ConsoleChat, open_chat

SAVED: list[dict[str, Any]] = []
#: what the next completions raise, in turn (then they save)
FAILS: list[Exception] = []


def _year(text: str) -> int:
    if not text.strip().isdigit() or not 1900 <= int(text) <= 2100:
        raise UserError(verbatim("Give a year between 1900 and 2100, e.g. 2024."))
    return int(text)


async def _done(ctx: Context, answers: dict[str, Any]) -> Reply:
    if FAILS:
        raise FAILS.pop(0)
    SAVED.append(answers)
    return Reply.of(Plain(f"Saved {answers['title']} ({answers['year']})."))


def _kind(text: str) -> str:
    word = text.strip().casefold()
    if word not in ("online", "in person"):
        raise UserError("Say online or in person.")
    return word


def _in_person(answers: dict[str, Any]) -> bool:
    return answers.get("kind") == "in person"


def _venue_saved(ctx: Context, answers: dict[str, Any]) -> Any:
    return _done(ctx, {**answers, "year": answers.get("venue", "no venue")})


def event_module() -> Module:
    module = Module("events-demo", "A small dialogue for tests.")
    module.dialog(
        Dialog(
            name="event",
            title="event report",
            steps=(
                Step(
                    "title", verbatim("What was the event called?"), help=verbatim("A short name.")
                ),
                Step("year", verbatim("Which year?"), validate=_year),
                Step("notes", verbatim("Anything to add?"), optional=True),
            ),
            on_complete=_done,
            expire_after=timedelta(hours=2),
        )
    )

    module.dialog(
        Dialog(
            name="visit",
            title="visit report",
            steps=(
                Step("title", verbatim("What was the visit called?")),
                Step("kind", verbatim("Online or in person?"), validate=_kind),
                Step("venue", verbatim("Where was it?"), when=_in_person),
                Step("notes", verbatim("Anything to add?"), optional=True),
            ),
            on_complete=_venue_saved,
        )
    )

    @module.command(help="Report an event.")
    async def report(ctx: Context) -> Reply:
        return await ctx.dialogs.start(ctx, "event")

    @module.command(help="Report a visit.")
    async def visit(ctx: Context) -> Reply:
        return await ctx.dialogs.start(ctx, "visit")

    return module


@pytest.fixture
async def demo(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    SAVED.clear()
    FAILS.clear()
    chat = await open_chat(db_url, clock, modules=[basics.module, members.module, event_module()])
    yield chat
    await chat.bot.close()


async def test_full_dialogue_with_reask_back_skip_and_review(demo: ConsoleChat) -> None:
    """Bad answers are re-asked with the reason; back, skip and review edits work."""
    out = await demo.say("!report")
    assert "**1/3**" not in out and "1/3 What was the event called?" in out
    assert "2/3 Which year?" in await demo.say("Edit-a-thon at Lakeside")
    out = await demo.say("last year")
    assert "Give a year between 1900 and 2100" in out and "2/3 Which year?" in out
    out = await demo.say("back")
    assert "1/3 What was the event called?" in out
    assert "Current answer: Edit-a-thon at Lakeside" in out
    await demo.say("#1Lib1Ref at Lakeside")
    await demo.say("2024")
    out = await demo.say("skip")
    assert "Here is your event report:" in out
    assert "• title: #1Lib1Ref at Lakeside" in out
    assert "• notes: (skipped)" in out
    out = await demo.say("year")
    assert "2/3 Which year?" in out and "Current answer: 2024" in out
    out = await demo.say("2025")
    assert "• year: 2025" in out  # straight back to the review
    assert await demo.say("yes") == "Saved #1Lib1Ref at Lakeside (2025)."
    assert SAVED == [{"title": "#1Lib1Ref at Lakeside", "year": 2025, "notes": None}]
    assert await demo.say("yes") == ""  # the dialogue is over: plain chat again


async def test_required_step_cannot_be_skipped_and_help(demo: ConsoleChat) -> None:
    """Skipping a required question is refused; help explains the question."""
    await demo.say("!report")
    out = await demo.say("skip")
    assert "This one is needed" in out
    out = await demo.say("help")
    assert "A short name." in out and "`cancel`" in out
    out = await demo.say("!help")
    assert "A short name." in out  # !help inside a dialogue is the dialogue's help
    assert await demo.say("cancel") == "Cancelled your event report. Nothing was saved."
    assert SAVED == []


@pytest.mark.parametrize(
    ("back", "skip", "help_", "yes", "cancel"),
    [
        ("atrás", "saltar", "ayuda", "sí", "cancelar"),
        ("retour", "passer", "aide", "oui", "annuler"),
        ("voltar", "pular", "ajuda", "sim", "cancelar"),
        ("zurück", "überspringen", "hilfe", "ja", "abbrechen"),
    ],
)
async def test_dialogue_words_in_other_languages(
    demo: ConsoleChat, back: str, skip: str, help_: str, yes: str, cancel: str
) -> None:
    """back, skip, help, yes and cancel are understood in Spanish, French, Portuguese and
    German, typed alone or as a command (``!atrás``), accents optional."""
    await demo.say("!report")
    assert "A short name." in await demo.say(help_)
    await demo.say("Lakeside")
    assert "1/3 What was the event called?" in await demo.say(back.upper())
    await demo.say("Lakeside")
    await demo.say("2024")
    assert "Here is your event report:" in await demo.say(skip)
    assert await demo.say(yes) == "Saved Lakeside (2024)."
    await demo.say("!report")
    await demo.say("Lakeside")
    assert "1/3" in await demo.say(f"!{back}")
    assert await demo.say(cancel) == "Cancelled your event report. Nothing was saved."


async def test_no_is_not_a_dialogue_word(demo: ConsoleChat) -> None:
    """``no`` (English, Spanish, Portuguese) does not confirm, cancel or skip: at the review it
    gets the hint, and as an answer it is an answer."""
    await demo.say("!report")
    assert "2/3" in await demo.say("no")
    await demo.say("2024")
    await demo.say("skip")
    assert "Say `yes` to confirm" in await demo.say("no")
    assert "Say `yes` to confirm" in await demo.say("non")


async def test_commands_still_work_mid_dialogue(demo: ConsoleChat) -> None:
    """A command in the middle of a dialogue is answered and the dialogue waits."""
    await demo.say("!report")
    assert await demo.say("!ping") == "Pong! I'm here."
    assert "2/3" in await demo.say("Wikidata day")


async def test_dialogues_are_per_member_and_room(demo: ConsoleChat) -> None:
    """Another member, or the same member elsewhere, is not caught in someone's dialogue."""
    await demo.say("!report", as_="alice")
    assert await demo.say("hello", as_="bob") == ""
    assert await demo.say("hello", as_="alice", room="#other") == ""
    assert "2/3" in await demo.say("Wikidata day", as_="alice", room="#general")


async def test_resume_after_restart(db_url: str, clock: FakeClock) -> None:
    """A new bot process on the same database resumes the member at the same step."""
    SAVED.clear()
    first = await open_chat(db_url, clock, modules=[basics.module, event_module()])
    await first.say("!report")
    await first.say("Commons upload day")
    await first.bot.close()
    second = await open_chat(db_url, clock, modules=[basics.module, event_module()])
    try:
        out = await second.say("2023")
        assert "3/3 Anything to add?" in out
        await second.say("skip")
        assert await second.say("confirm") == "Saved Commons upload day (2023)."
    finally:
        await second.bot.close()


async def test_expired_dialogue_is_dropped(demo: ConsoleChat, clock: FakeClock) -> None:
    """After its expiry, the next message says the dialogue expired instead of resuming it."""
    await demo.say("!report")
    clock.advance(timedelta(hours=3))
    out = await demo.say("A late answer")
    assert "expired" in out
    assert await demo.say("Another") == ""


async def test_review_keeps_each_code_span_whole(demo: ConsoleChat) -> None:
    """The review's hint names the first answer in one code span, so a rich renderer (Matrix
    HTML) shows `title` as code and the rest as text."""
    from adapters.matrix.render import render_content
    from chatbot.messages.localise import localise

    sent = demo.record_sent()
    await demo.say("!report")
    await demo.say("Lakeside")
    await demo.say("2024")
    assert "Here is your event report:" in await demo.say("skip")
    html = render_content(localise(sent[-1]))["formatted_body"]
    assert html.endswith("(e.g. <code>title</code>), or <code>cancel</code>."), html[-120:]


async def test_a_refused_or_failed_completion_keeps_the_answers(demo: ConsoleChat) -> None:
    """Only a completion that succeeds ends the dialogue: a refusal or a crash leaves the
    member at the review with every answer, told how to go on."""
    await demo.say("!report")
    await demo.say("Wikidata day")
    await demo.say("2024")
    await demo.say("skip")
    FAILS.extend(
        [UserError(verbatim("The events calendar is closed for edits today.")), OSError("disk")]
    )
    refused = await demo.say("yes")
    assert "The events calendar is closed for edits today." in refused
    assert "Your answers are kept: say `yes` to try again" in refused
    failed = await demo.say("yes")
    assert "Sorry, something broke on my side while saving your event report (ref " in failed
    assert "Your answers are kept" in failed
    review = await demo.say("help")
    assert "• title: Wikidata day" in review and "• year: 2024" in review
    assert SAVED == []
    assert await demo.say("yes") == "Saved Wikidata day (2024)."
    assert SAVED == [{"title": "Wikidata day", "year": 2024, "notes": None}]
    assert await demo.say("yes") == ""  # over only now


async def test_a_step_is_asked_only_when_it_applies(demo: ConsoleChat) -> None:
    """A question that depends on an earlier answer is not asked, not reviewed and not
    reached by `back` when it doesn't apply; an edit that makes it apply asks it, and one
    that makes it no longer apply drops its answer."""
    assert "1/3 What was the visit called?" in await demo.say("!visit")
    assert "2/3 Online or in person?" in await demo.say("Wikidata workshop")
    assert "3/3 Anything to add?" in await demo.say("online")  # no venue question
    back = await demo.say("back")
    assert "2/3 Online or in person?" in back
    assert "3/3 Anything to add?" in await demo.say("online")
    review = await demo.say("skip")
    assert "• kind: online" in review and "venue" not in review
    assert "doesn't apply" in await demo.say("venue")
    asked = await demo.say("kind")
    assert "Online or in person?" in asked
    opened = await demo.say("in person")  # the edit opens the venue question: asked first
    assert "3/4 Where was it?" in opened
    review = await demo.say("Lakeside library")
    assert "• venue: Lakeside library" in review
    await demo.say("kind")
    review = await demo.say("online")
    assert "venue" not in review and "• kind: online" in review
    assert await demo.say("yes") == "Saved Wikidata workshop (no venue)."
    assert SAVED == [
        {"title": "Wikidata workshop", "kind": "online", "notes": None, "year": "no venue"}
    ]


async def test_a_dependent_step_after_restart(db_url: str, clock: FakeClock) -> None:
    """The condition is read from the stored answers: a new bot on the same database asks
    the dependent question, and `back` after a restart passes over one that doesn't apply."""
    SAVED.clear()
    first = await open_chat(db_url, clock, modules=[basics.module, event_module()])
    await first.say("!visit")
    await first.say("Commons day")
    assert "3/4 Where was it?" in await first.say("in person")
    await first.bot.close()
    second = await open_chat(db_url, clock, modules=[basics.module, event_module()])
    try:
        assert "4/4 Anything to add?" in await second.say("Lakeside library")
        assert "3/4 Where was it?" in await second.say("back")
        await second.say("Lakeside library")
        await second.say("skip")
        assert await second.say("yes") == "Saved Commons day (Lakeside library)."
        await second.say("!visit")
        await second.say("Online day")
        await second.say("online")
    finally:
        await second.bot.close()
    third = await open_chat(db_url, clock, modules=[basics.module, event_module()])
    try:
        assert "2/3 Online or in person?" in await third.say("back")
    finally:
        await third.bot.close()


@pytest.mark.parametrize("lang", ["es", "fr", "pt", "de"])
def test_every_keyword_shown_is_one_the_bot_accepts(lang: str) -> None:
    """What the bot tells a member to type (a dialogue's `back`, `skip`, `help`, `cancel`,
    `yes`; `!rsvp`'s `yes`, `maybe`, `no`; `none`) is, in each catalog, a word of that
    language the bot takes for that keyword."""
    from chatbot.base.i18n import forget_catalogs, template
    from chatbot.dispatch.answers import ACCEPTED, SHOWN_KEYWORDS, answer_key

    forget_catalogs()
    for name, msg in SHOWN_KEYWORDS.items():
        word = template(msg, lang)
        # "no" is also Spanish: the only keyword that may read as in English
        assert word != msg.text or (name, lang) == ("no", "es"), f"{name} untranslated in {lang}"
        assert answer_key(word) in ACCEPTED[name], f"{lang} shows {word!r} for {name}"


#: per language: the keywords the member is shown, and the review's hint in their words
SHOWN = {
    "es": (
        "`atrás`, `omitir` (preguntas opcionales), `ayuda` o `cancelar`",
        "(opcional: di `omitir`)",
    ),
    "fr": (
        "`retour`, `passer` (questions facultatives), `aide` ou `annuler`",
        "(facultatif : dites `passer`)",
    ),
    "pt": (
        "`voltar`, `pular` (perguntas opcionais), `ajuda` ou `cancelar`",
        "(opcional: diga `pular`)",
    ),
    "de": (
        "`zurück`, `überspringen` (optionale Fragen), `hilfe` oder `abbrechen`",
        "(optional: sag `überspringen`)",
    ),
}


@pytest.mark.parametrize("lang", sorted(SHOWN))
async def test_dialogue_shows_the_readers_own_keywords(demo: ConsoleChat, lang: str) -> None:
    """A member with ``!lang`` sees the keywords in their language in code spans, and
    typing exactly what they were shown works; English readers still see `back`…"""
    words, optional = SHOWN[lang]
    await demo.say(f"!lang {lang}")
    out = await demo.say("!report")
    assert words in out, out
    for english in ("`back`", "`skip`", "`help`", "`cancel`"):
        assert english not in out
    await demo.say("Lakeside")
    out = await demo.say("2024")
    assert optional in out, out
    shown_skip = optional.rsplit("`", 2)[1]
    out = await demo.say(shown_skip)  # the word shown is the word taken
    colon = " :" if lang == "fr" else ":"  # French spaces its colon
    assert f"• notes{colon}" in out and "`title`" in out
    shown_cancel = words.rsplit("`", 2)[1]
    assert "`" + shown_cancel + "`" in out
    assert "Lakeside" not in await demo.say(shown_cancel)
    assert SAVED == []
    await demo.say("!lang en")
    assert "Say `back`, `skip` (optional questions), `help` or `cancel` at any time." in (
        await demo.say("!report")
    )
