"""Questions that depend on an earlier answer (issue 18): the other-activity question is
asked only when "other" is among the activities, in the dialogue (also after a restart),
in the Discord form's pages and in the form's validation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatbot.base.clock import FakeClock
from commands.casestudies import fields as f
from commands.casestudies import forms
from tests.harness import ConsoleChat
from tests.test_casestudies import EXPECTED, FORM_VALUES, GOOD, open_cs, study, submit_form

OTHER = "editathon; other"


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_cs(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def test_other_activity_asked_only_when_other_is_chosen(chat: ConsoleChat) -> None:
    """Without "other" the question is neither asked nor reviewed; choosing it at the review
    asks it, and dropping "other" again drops its answer from the study."""
    await chat.say("!casestudy submit", as_="alice", room="dm")
    for answer in GOOD[:7]:
        await chat.say(answer)
    asked = await chat.say("1lib1ref; editathon")
    assert "When did it start" in asked and "other" not in asked
    for answer in GOOD[8:]:
        review = await chat.say(answer)
    assert "Here is your case study" in review and "other activity" not in review
    assert "What did you do?" in await chat.say("activities")
    opened = await chat.say(OTHER)
    assert "9/18 You chose other: what was the other activity?" in opened
    review = await chat.say("Story hour with Wikipedia")
    assert "other activity: Story hour with Wikipedia" in review
    await chat.say("activities")
    review = await chat.say("1lib1ref; editathon")
    assert "Here is your case study" in review and "Story hour" not in review
    assert "thank you" in (await chat.say("yes")).casefold()
    assert (await study(chat, 1)).record == EXPECTED


async def test_other_activity_after_a_restart(db_url: str, clock: FakeClock) -> None:
    """Closed at the other-activity question, a new bot on the same database asks it again
    on resume; back from the next question returns to it."""
    first = await open_cs(db_url, clock)
    try:
        await first.say("!casestudy submit", as_="alice", room="dm")
        for answer in GOOD[:7]:
            await first.say(answer)
        assert "9/18 You chose other" in await first.say(OTHER)
    finally:
        await first.bot.close()
    second = await open_cs(db_url, clock)
    try:
        resumed = await second.say("!casestudy resume", as_="alice", room="dm")
        assert "9/18 You chose other" in resumed
        assert "10/18 When did it start" in await second.say("Story hour")
        assert "9/18 You chose other" in await second.say("back")
        await second.say("Story hour")
        for answer in GOOD[8:]:
            await second.say(answer)
        assert "submitted as #1" in await second.say("yes")
        record = (await study(second, 1)).record
        assert record["activities"] == ["editathon", "other"]
        assert record["activities_other"] == "Story hour"
    finally:
        await second.bot.close()


def test_form_pages_hold_only_the_questions_that_apply() -> None:
    """The Discord pages: the other-activity question comes on the page after the
    activities, and only when they include "other"."""
    from adapters.discord.forms import form_pages

    form = forms._form()
    first = [s.key for s in form_pages(form, {})[1]]
    assert first == ["languages", "projects", "activities"]
    without = form_pages(form, {"activities": "1lib1ref; editathon"})
    assert "activities_other" not in [s.key for page in without for s in page]
    assert [s.key for s in without[2]] == ["period", "summary", "outcomes", "links", "lessons"]
    chosen = form_pages(form, {"activities": "Editathon, Other"})
    assert [s.key for s in chosen[2]][:2] == ["activities_other", "period"]
    assert len(without) == len(chosen) == 4


async def test_form_drops_a_stale_other_activity(chat: ConsoleChat) -> None:
    """A form whose activities don't include "other" ignores a leftover other-activity
    text (even one too short to be valid) instead of refusing or storing it."""
    done = await submit_form(chat, {**FORM_VALUES, "activities_other": "x"})
    assert "submitted as #1" in done
    assert (await study(chat, 1)).record == EXPECTED
    assert f.chose_other_activity({"activities": "editathon other"})
