"""Case-study submissions: the dialogue, the review workflow, revisions and privacy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from chatbot.base.clock import FakeClock
from chatbot.delivery.outbox_payload import decode_payload
from chatbot.messages.events import Incoming, Member, Room
from chatbot.messages.localise import text_in
from chatbot.messages.render import render_plain
from chatbot.storage.delivery import OutboxRow
from commands import basics, members
from commands import casestudies as cs
from commands.casestudies import forms, steps
from commands.casestudies.store import CaseStudyStore, Study
from tests.harness import ConsoleChat, open_chat

MODULES = [basics.module, members.module, cs.module]

SUMMARY = (
    "Over six weeks the library's reference team ran #1Lib1Ref sessions in the main reading "
    "room, pairing new editors with librarians who know the local collections, and adding "
    "citations from the county archive to Kenyan articles in English and Swahili."
)

#: good answers, one per question asked, in order (optional ones answered; no "other"
#: activity, so its follow-up question is not asked)
GOOD = [
    "#1Lib1Ref at Lakeside",
    "Lakeside County Public Library",
    "q123456",
    "public",
    "Kenya",
    "en; sw",
    "wikipedia",
    "1lib1ref; editathon",
    "2024-01 2024-02",
    SUMMARY,
    "citations_added 412, articles_improved 230, participants 18",
    "https://outreachdashboard.wmflabs.org/courses/Lakeside/1Lib1Ref",
    "skip",
    "User:Example",
    "example@lakeside.example",
    "yes",
    "yes",
]

EXPECTED = {
    "title": "#1Lib1Ref at Lakeside",
    "institution": "Lakeside County Public Library",
    "institution_qid": "Q123456",
    "library_type": "public",
    "country": "KE",
    "languages": ["en", "sw"],
    "projects": ["wikipedia"],
    "activities": ["1lib1ref", "editathon"],
    "activities_other": None,
    "start": "2024-01",
    "end": "2024-02",
    "summary": SUMMARY,
    "outcomes": {"citations_added": 412, "articles_improved": 230, "participants": 18},
    "outcomes_note": None,
    "links": ["https://outreachdashboard.wmflabs.org/courses/Lakeside/1Lib1Ref"],
    "lessons": None,
    "credit": "User:Example",
    "contact": "example@lakeside.example",
    "consent": True,
    "licence": "CC-BY-SA-4.0",
}


async def open_cs(url: str, clock: FakeClock) -> ConsoleChat:
    """A console chat with the case-study module."""
    return await open_chat(url, clock, modules=MODULES)


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat on SQLite with the case-study module."""
    chat = await open_cs(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


@pytest.fixture
async def any_chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    """A chat with the case-study module on SQLite and on PostgreSQL."""
    chat = await open_cs(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def submit_study(chat: ConsoleChat, member: str, answers: list[str] | None = None) -> str:
    """Submit a case study as ``member`` from their DM; returns the last reply."""
    await chat.say("!casestudy submit", as_=member, room="dm")
    for answer in answers or GOOD:
        await chat.say(answer)
    return await chat.say("yes")


async def study(chat: ConsoleChat, number: int) -> Study:
    """The stored study ``number``."""
    found = await CaseStudyStore(chat.bot.db).get(number)
    assert found is not None
    return found


async def outbox_texts(chat: ConsoleChat) -> list[tuple[str | None, str | None, str]]:
    """(room, member, text) of every queued delivery."""
    async with chat.bot.db.sessions() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    return [(r.room_id, r.member_id, render_plain(decode_payload(r.payload)[0])) for r in rows]


async def test_dialogue_every_field_with_bad_answers(chat: ConsoleChat) -> None:
    """The whole dialogue: bad answers re-asked with the reason; back, skip, edit, confirm."""
    out = await chat.say("!casestudy submit", as_="alice", room="#general")
    assert "I've sent you a direct message" in out
    assert "[DM to alice]" in out and "1/17" in out and "A short title?" in out
    await chat.say("/dm")
    assert "at least 5 characters" in await chat.say("abc")
    assert "2/17" in await chat.say(GOOD[0])
    assert "3/17" in await chat.say(GOOD[1])
    assert "Q followed by a number" in await chat.say("Q0123")
    assert "Q followed by a number" in await chat.say("12345")
    assert "4/17" in await chat.say("q123456")
    assert "library type" in await chat.say("castle")
    assert "5/17" in await chat.say("public")
    assert "don't know the country 'Atlantis'" in await chat.say("Atlantis")
    assert "6/17" in await chat.say("Kenya")
    assert "isn't a language tag" in await chat.say("en; klingonish")
    assert "7/17" in await chat.say("en; sw")
    assert "8/17" in await chat.say("wikipedia")
    assert "9/17" in await chat.say("1lib1ref; editathon")
    assert "is before the start" in await chat.say("2024-03 2024-01")
    back = await chat.say("back")
    assert "8/17" in back and "What did you do?" in back  # no "other" question in between
    assert "9/17" in await chat.say("1lib1ref; editathon")
    assert "10/17" in await chat.say("2024-01 2024-02")
    assert "at least 200 characters" in await chat.say("Too short.")
    assert "11/17" in await chat.say(SUMMARY)
    assert "can't be negative" in await chat.say("participants -3")
    assert "12/17" in await chat.say(GOOD[10])
    assert "isn't an absolute http" in await chat.say("javascript:alert(1)")
    assert "isn't an absolute http" in await chat.say("ftp://files.example.org/report.pdf")
    assert "13/17" in await chat.say(GOOD[11])
    assert "14/17" in await chat.say("skip")
    assert "needed, so I can't skip it" in await chat.say("skip")
    assert "15/17" in await chat.say("User:Example")
    help_text = await chat.say("help")
    assert "never published" in help_text and "15/17" in help_text
    assert "16/17" in await chat.say("example@lakeside.example")
    assert "only take case studies we may publish" in await chat.say("no")
    assert "17/17" in await chat.say("yes")
    assert "cc0 yes" in await chat.say("cc0")
    review = await chat.say("yes")
    assert "Here is your case study" in review and "• country: Kenya" in review
    assert "country" in (prompt := await chat.say("country")) and "Current answer: Kenya" in prompt
    review = await chat.say("GB")
    assert "Here is your case study" in review and "• country: United Kingdom" in review
    await chat.say("country")
    await chat.say("KE")
    done = await chat.say("yes")
    assert "Thank you! Your case study is submitted as #1" in done
    stored = await study(chat, 1)
    assert stored.state == "submitted"
    assert stored.member_id == "console:alice"
    assert stored.record == EXPECTED
    revisions = await CaseStudyStore(chat.bot.db).revisions(1)
    assert [(r.action, r.new_state) for r in revisions] == [("submit", "submitted")]
    assert revisions[0].new_values == EXPECTED


async def test_cancel_saves_nothing(chat: ConsoleChat) -> None:
    """Cancel ends the dialogue and stores nothing."""
    await chat.say("!casestudy submit", as_="alice", room="dm")
    await chat.say(GOOD[0])
    assert "Cancelled your case study" in await chat.say("cancel")
    assert await CaseStudyStore(chat.bot.db).of_member("console:alice") == []
    assert "no case study in progress" in await chat.say("!casestudy resume")


async def test_submit_in_dm_and_draft_guard(chat: ConsoleChat) -> None:
    """In a DM the dialogue starts right there; a second submit points at resume."""
    out = await chat.say("!casestudy submit", as_="alice", room="dm")
    assert "1/17" in out and "[DM to" not in out
    await chat.say(GOOD[0])
    again = await chat.say("!casestudy submit", room="#general")
    assert "casestudy resume" in again
    resumed = await chat.say("!casestudy resume")
    assert "direct messages" in resumed and "2/17" in resumed


async def test_restart_resumes_same_step(db_url: str, clock: FakeClock) -> None:
    """A restart in the middle continues at the same question with the earlier answers."""
    first = await open_cs(db_url, clock)
    try:
        await first.say("!casestudy submit", as_="alice", room="dm")
        for answer in GOOD[:4]:
            await first.say(answer)
    finally:
        await first.bot.close()
    clock.advance(timedelta(days=2))
    second = await open_cs(db_url, clock)
    try:
        resumed = await second.say("!casestudy resume", as_="alice", room="dm")
        assert "5/17" in resumed
        assert "6/17" in await second.say("KE")
        for answer in GOOD[5:]:
            await second.say(answer)
        assert "submitted as #1" in await second.say("yes")
        assert (await study(second, 1)).record == EXPECTED
    finally:
        await second.bot.close()


async def test_draft_expires_after_30_days(chat: ConsoleChat, clock: FakeClock) -> None:
    """A draft left for more than 30 days is dropped with a note."""
    await chat.say("!casestudy submit", as_="alice", room="dm")
    await chat.say(GOOD[0])
    clock.advance(timedelta(days=31))
    assert "expired" in await chat.say(GOOD[1])
    assert "1/17" in await chat.say("!casestudy submit")
    clock.advance(timedelta(days=31))
    assert "no case study in progress" in await chat.say("!casestudy resume")
    assert "1/17" in await chat.say("!casestudy submit")


async def test_review_workflow_states_rejection_dm_and_revisions(any_chat: ConsoleChat) -> None:
    """Claim, reject with a reason (DM via the outbox), revise, accept, publish, unpublish."""
    chat = any_chat
    assert "announced in this room" in await chat.say(
        "!casestudy reviewroom here", as_="ana", room="#review"
    )
    assert "submitted as #1" in await submit_study(chat, "alice")
    queued = await outbox_texts(chat)
    assert queued[-1][0] == "console:#review"
    assert "#1 was submitted by alice" in queued[-1][2]
    assert "Only organisers" in await chat.say("!casestudy claim 1", as_="bob", room="#general")
    assert "can only be accepted when it is in review" in await chat.say(
        "!casestudy accept 1", as_="ana"
    )
    pending = await chat.say("!casestudy pending")
    assert "#1 [submitted]" in pending
    assert "reviewing case study #1" in await chat.say("!casestudy claim 1")
    assert (await study(chat, 1)).state == "in_review"
    assert "withdrawn when it is submitted" in await chat.say("!casestudy withdraw 1", as_="alice")
    assert "The reason is missing" in await chat.say("!casestudy reject 1", as_="ana")
    assert "rejected" in await chat.say("!casestudy reject 1 Please add the dashboard numbers")
    rejected = await study(chat, 1)
    assert rejected.state == "rejected"
    assert rejected.reason == "Please add the dashboard numbers"
    room, member, text = (await outbox_texts(chat))[-1]
    assert room is None and member == "console:alice"
    assert "Please add the dashboard numbers" in text and "casestudy revise 1" in text

    review = await chat.say("!casestudy revise 1", as_="alice", room="dm")
    assert "answers of case study #1" in review and "Lakeside" in review
    assert "Current answer" in await chat.say("lessons")
    await chat.say("Start with one shelf of local history.")
    assert "resubmitted as #1" in await chat.say("yes")
    revised = await study(chat, 1)
    assert revised.state == "submitted" and revised.reason is None
    assert revised.record["lessons"] == "Start with one shelf of local history."
    assert revised.record["summary"] == SUMMARY

    await chat.say("!casestudy claim 1", as_="ana", room="#review")
    assert "is accepted" in await chat.say("!casestudy accept 1")
    assert "is published" in await chat.say("!casestudy publish 1")
    assert "no longer published" in await chat.say("!casestudy unpublish 1")
    await chat.say("!casestudy publish 1")
    assert (await study(chat, 1)).state == "published"
    revisions = await CaseStudyStore(chat.bot.db).revisions(1)
    assert [r.action for r in revisions] == [
        "submit",
        "claim",
        "reject",
        "revise",
        "claim",
        "accept",
        "publish",
        "unpublish",
        "publish",
    ]
    revise = revisions[3]
    assert revise.actor_id == "console:alice"
    assert revise.old_values == {"lessons": None}
    assert revise.new_values == {"lessons": "Start with one shelf of local history."}
    assert revisions[2].note == "Please add the dashboard numbers"
    history = await chat.say("!casestudy history 1")
    assert "4. revised by alice" in history
    assert "3. sent back for changes by ana" in history


async def test_contributor_commands_and_withdraw(chat: ConsoleChat) -> None:
    """mine, view and withdraw; others can't see or withdraw an unpublished study."""
    await submit_study(chat, "alice")
    mine = await chat.say("!casestudy mine", as_="alice", room="#general")
    assert "#1 [submitted] #1Lib1Ref at Lakeside" in mine
    view = await chat.say("!casestudy view 1")
    assert "contact" in view and "example@lakeside.example" in view
    assert "that you can see" in await chat.say("!casestudy view 1", as_="bob")
    assert "isn't yours" in await chat.say("!casestudy withdraw 1")
    organiser_view = await chat.say("!casestudy view 1", as_="ana")
    assert "example@lakeside.example" in organiser_view
    assert "is withdrawn" in await chat.say("!casestudy withdraw 1", as_="alice")
    assert (await study(chat, 1)).state == "withdrawn"
    assert "can only be claimed" in await chat.say("!casestudy claim 1", as_="ana")


async def test_search_filters(chat: ConsoleChat) -> None:
    """Members find published studies by words and country/activity/project filters."""
    await submit_study(chat, "alice")
    for command in ("claim 1", "accept 1", "publish 1"):
        await chat.say(f"!casestudy {command}", as_="ana", room="#general")
    await submit_study(chat, "bob")
    found = await chat.say("!casestudy search lakeside country:KE", as_="carol", room="#general")
    assert "1 found" in found and "#1 [published]" in found
    assert "1 found" in await chat.say("!casestudy search activity:1lib1ref project:wikipedia")
    assert "No case study matches" in await chat.say("!casestudy search country:GB")
    assert "No case study matches" in await chat.say("!casestudy search project:commons")
    organiser = await chat.say("!casestudy search lakeside", as_="ana")
    assert "2 found" in organiser
    public_view = await chat.say("!casestudy view 1", as_="carol")
    assert "Lakeside" in public_view and "example@lakeside.example" not in public_view


async def test_mydata_and_forgetme(any_chat: ConsoleChat) -> None:
    """mydata shows submissions and drafts; forgetme deletes unpublished, detaches published."""
    chat = any_chat
    await submit_study(chat, "alice")
    for command in ("claim 1", "accept 1", "publish 1"):
        await chat.say(f"!casestudy {command}", as_="ana", room="#general")
    await submit_study(chat, "alice")
    await chat.say("!casestudy submit", as_="alice", room="dm")
    await chat.say("A draft title")
    data = await chat.say("!mydata")
    assert '"casestudies"' in data and "example@lakeside.example" in data
    assert "A draft title" in data
    await chat.say("cancel")
    await chat.say("!casestudy submit")
    await chat.say("Another draft")
    warning = await chat.say("!forgetme")
    assert "Your 1 published case study stays published" in warning
    done = await chat.say("!forgetme confirm")
    assert "deleted your 1 unpublished case study and any draft" in done
    assert "Your 1 published case study stays published under the licence" in done
    assert "(ies)" not in done
    store = CaseStudyStore(chat.bot.db)
    assert await store.get(2) is None
    kept = await study(chat, 1)
    assert kept.member_id is None and kept.member_name is None
    assert kept.record["credit"] == "anonymous" and kept.record["contact"] is None
    assert kept.record["summary"] == SUMMARY
    for revision in await store.revisions(1):
        assert revision.actor_id != "console:alice"
        assert "example@lakeside.example" not in str(revision.new_values)
    assert "no case study in progress" in await chat.say("!casestudy resume")
    assert "haven't submitted" in await chat.say("!casestudy mine")


def saved_text(line: str) -> str:
    """The file whose path the console printed after ``saved as``."""
    return Path(line.rsplit(" saved as ", 1)[1]).read_text(encoding="utf-8")


async def test_export_in_chat_for_organisers(chat: ConsoleChat) -> None:
    """Organisers get the published studies as a file by DM (a summary line and the file's
    path, not the rows); members may not."""
    await submit_study(chat, "alice")
    for command in ("claim 1", "accept 1", "publish 1"):
        await chat.say(f"!casestudy {command}", as_="ana", room="#general")
    out = await chat.say("!casestudy export csv")
    assert "[DM to ana] 1 published case study as CSV: casestudies-" in out
    assert "outcome_citations_added" not in out
    saved = saved_text(out.splitlines()[1])
    assert "outcome_citations_added" in saved and "example@lakeside.example" not in saved
    assert "Only organisers" in await chat.say("!casestudy export json", as_="bob")


FORM_VALUES = {
    "title": "#1Lib1Ref at Lakeside",
    "institution": "Lakeside County Public Library",
    "institution_qid": "Q123456",
    "library_type": "public",
    "country": "KE",
    "languages": "en; sw",
    "projects": "wikipedia",
    "activities": "1lib1ref; editathon",
    "activities_other": "",
    "period": "2024-01 2024-02",
    "summary": SUMMARY,
    "outcomes": "citations_added 412, articles_improved 230, participants 18",
    "links": "https://outreachdashboard.wmflabs.org/courses/Lakeside/1Lib1Ref",
    "lessons": "",
    "credit": "User:Example",
    "contact": "example@lakeside.example",
    "consent": "yes",
    "licence": "yes",
}


async def submit_form(chat: ConsoleChat, values: dict[str, str]) -> str:
    """Deliver a form submit as the adapter would (text = the form's command)."""
    incoming = Incoming(
        platform="console",
        member=Member("console:alice", "console", "alice"),
        room=Room("console:#general", "console", "#general"),
        text="!casestudy formsubmit",
        form_values=values,
    )
    chat.out.seek(0)
    chat.out.truncate()
    await chat.bot.handle(incoming)
    return chat.out.getvalue()


def test_form_has_every_field_in_pages_of_five() -> None:
    """The form asks every dialogue question, with labels Discord accepts."""
    form = forms._form({"title": "Kept"})
    assert [field.key for field in form.fields] == [step.key for step in steps._steps()]
    assert form.command == "casestudy formsubmit"
    assert form.fields[0].default == "Kept"
    for lang in ("en", "es", "fr", "pt", "de"):  # Discord's limit, in every language
        assert all(len(text_in(field.label, lang)) <= 45 for field in form.fields), lang
    assert -(-len(form.fields) // 5) == 4


async def test_form_submit_records_the_same_study(chat: ConsoleChat) -> None:
    """Form answers go through the same validation and record as the dialogue."""
    assert "casestudy submit" in await chat.say("!casestudy form", as_="alice")
    bad = await submit_form(chat, {**FORM_VALUES, "institution_qid": "Q0123"})
    assert "Wikidata item: A Wikidata item id" in bad
    assert await CaseStudyStore(chat.bot.db).of_member("console:alice") == []
    done = await submit_form(chat, FORM_VALUES)
    assert "submitted as #1" in done
    assert (await study(chat, 1)).record == EXPECTED
    typed = await chat.say("!casestudy formsubmit")
    assert "casestudy form" in typed


async def test_edit_while_pending_keeps_a_revision(chat: ConsoleChat) -> None:
    """A contributor edits a submitted study before review; the change is a revision."""
    await submit_study(chat, "alice")
    review = await chat.say("!casestudy edit 1", as_="alice", room="dm")
    assert "Lakeside" in review
    await chat.say("lessons")
    await chat.say("Ask the local history society first.")
    assert "resubmitted as #1" in await chat.say("yes")
    edited = await study(chat, 1)
    assert edited.state == "submitted"
    assert edited.record["lessons"] == "Ask the local history society first."
    revisions = await CaseStudyStore(chat.bot.db).revisions(1)
    assert [r.action for r in revisions] == ["submit", "revise"]
    await chat.say("!casestudy claim 1", as_="ana", room="#general")
    assert "you can change it" in await chat.say("!casestudy edit 1", as_="alice", room="dm")
