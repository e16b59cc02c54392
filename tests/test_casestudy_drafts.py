"""Nothing a contributor wrote is lost: a refused or failed submission keeps its draft.

A revision confirmed after an organiser claimed the study, or a new submission whose saving
failed, leaves every answer in the draft, says why and what to do, and can be sent later; a
second ``yes`` at the same moment does not submit twice, and a revision racing a claim is
either applied before the claim or kept as a draft.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from chatbot.base.clock import FakeClock
from chatbot.storage.models import DialogRow
from commands.casestudies.store import CaseStudyStore
from tests.concurrency import ROUNDS, Said, gap_free, one_winner, race
from tests.harness import ConsoleChat
from tests.test_casestudies import EXPECTED, GOOD, open_cs, study, submit_study

LESSONS = "Ask the local history society first."


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_cs(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def draft_answers(chat: ConsoleChat, member: str) -> list[str]:
    async with chat.bot.db.sessions() as session:
        rows = await session.scalars(select(DialogRow.answers).where(DialogRow.member_id == member))
        return list(rows)


async def revise_lessons(chat: ConsoleChat, number: int) -> None:
    """Alice opens her study's answers in her DM and changes the lessons; not confirmed."""
    assert "Lakeside" in await chat.say(f"!casestudy edit {number}", as_="alice", room="dm")
    await chat.say("lessons")
    assert "Here is your case study" in await chat.say(LESSONS)


async def test_revision_refused_after_a_claim_keeps_the_draft(chat: ConsoleChat) -> None:
    """The issue's case: claimed before the contributor confirms; on yes she is told so,
    her edits stay a draft she can resume, and send once the study is sent back to her."""
    await submit_study(chat, "alice")
    await revise_lessons(chat, 1)
    assert "reviewing case study #1" in await chat.say(
        "!casestudy claim 1", as_="ana", room="#general"
    )
    refused = await chat.say("yes", as_="alice", room="dm")
    assert "ana already claimed case study #1 a moment ago; it is now in review" in refused
    assert "Your answers are kept as a draft" in refused and "casestudy resume" in refused
    assert (await study(chat, 1)).record["lessons"] is None
    assert LESSONS in (await draft_answers(chat, "console:alice"))[0]
    resumed = await chat.say("!casestudy resume", room="#general")
    assert "waiting in our direct messages" in resumed and LESSONS in resumed
    await chat.say("!casestudy reject 1 Please add the dashboard numbers", as_="ana")
    assert "resubmitted as #1" in await chat.say("yes", as_="alice", room="dm")
    assert (await study(chat, 1)).record["lessons"] == LESSONS
    assert await draft_answers(chat, "console:alice") == []
    revisions = await CaseStudyStore(chat.bot.db).revisions(1)
    assert [r.action for r in revisions] == ["submit", "claim", "reject", "revise"]


async def test_failed_new_submission_keeps_the_draft(
    chat: ConsoleChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving a new study fails (the database went away): every answer is kept and a later
    yes submits it."""
    submit = CaseStudyStore.submit
    calls = 0

    async def failing(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the database went away")
        return await submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(CaseStudyStore, "submit", failing)
    failed = await submit_study(chat, "alice")
    assert "Sorry, something broke on my side while saving your case study" in failed
    assert "Your answers are kept as a draft" in failed
    assert await CaseStudyStore(chat.bot.db).of_member("console:alice") == []
    resumed = await chat.say("!casestudy resume", room="#general")
    assert "#1Lib1Ref at Lakeside" in resumed
    assert "submitted as #1" in await chat.say("yes", room="dm")
    assert (await study(chat, 1)).record == EXPECTED
    assert await draft_answers(chat, "console:alice") == []


async def test_two_yes_at_once_submit_once(chat: ConsoleChat) -> None:
    """Two confirmations sent together: one study, one revision, the other told."""
    store = CaseStudyStore(chat.bot.db)
    for round_ in range(ROUNDS):
        await chat.say("!casestudy submit", as_="alice", room="dm")
        for answer in GOOD:
            await chat.say(answer)
        replies = await race(chat, [Said("alice", "yes", "dm"), Said("alice", "yes", "dm")])
        won = one_winner(replies, lambda text: "Thank you!" in text)
        assert "already sent" in replies[1 - won] or "other message" in replies[1 - won]
        studies = await store.of_member("console:alice")
        assert len(studies) == round_ + 1
        assert [r.number for r in await store.revisions(studies[-1].id)] == [1]
        assert await draft_answers(chat, "console:alice") == []


async def test_a_revision_racing_a_claim_is_applied_or_kept(chat: ConsoleChat) -> None:
    """Confirm and claim at the same moment: either the revision lands first (and the claim
    after it), or the claim does and the revision is kept as a draft; never lost."""
    store = CaseStudyStore(chat.bot.db)
    outcomes = set()
    for _ in range(ROUNDS):
        await submit_study(chat, "alice")
        number = len(await store.of_member("console:alice"))
        await revise_lessons(chat, number)
        replies = await race(
            chat, [Said("alice", "yes", "dm"), Said("ana", f"!casestudy claim {number}")]
        )
        assert f"reviewing case study #{number}" in replies[1]
        revisions = await store.revisions(number)
        gap_free([r.number for r in revisions])
        current = await study(chat, number)
        if "resubmitted" in replies[0]:
            outcomes.add("revised first")
            assert [r.action for r in revisions] == ["submit", "revise", "claim"]
            assert current.record["lessons"] == LESSONS
            assert await draft_answers(chat, "console:alice") == []
        else:
            outcomes.add("claimed first")
            assert "ana already claimed" in replies[0] and "kept as a draft" in replies[0]
            assert [r.action for r in revisions] == ["submit", "claim"]
            assert current.record["lessons"] is None
            assert LESSONS in (await draft_answers(chat, "console:alice"))[0]
            assert "Cancelled" in await chat.say("cancel", as_="alice", room="dm")
    assert outcomes
