"""Knowledge-base edits under concurrency, on SQLite and PostgreSQL.

Two organisers replacing the same field on the same reading of an entry: one is saved, the
other is told the entry changed meanwhile and nothing of theirs overwrites it (in one
instance and across two).  Edits that don't clash are all kept: phrasings added at once, an
answer and tags replaced at once.  Two organisers adding one id: one entry, the other told.
Each ``*_round`` returns the faults of one race, as in ``tests/test_races_meetings.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from chatbot.base.clock import FakeClock
from commands.faq.service import FaqService
from commands.faq.store import merge
from tests.concurrency import ROUNDS, Said, race
from tests.harness import ConsoleChat, open_chat
from tests.test_faq_commands import MODULES

Round = Callable[[ConsoleChat], Awaitable[list[str]]]
ENTRY = "about-the-group"
_fresh = itertools.count(1)

#: a small knowledge base, so that rebuilding the index after each edit is quick
SMALL_KB = """
[[entry]]
id = "about-the-group"
question = "What is the Wikimedia and Libraries User Group?"
answer = "A community of librarians and Wikimedians."

[[entry]]
id = "join"
question = "How do I join the group?"
answer = "Sign up on the group's page on Meta."
"""


KB_NAME = "chatbot-races-kb.toml"


async def open_small_faq(url: str, clock: FakeClock) -> ConsoleChat:
    """A chat with the FAQ module on :data:`SMALL_KB`."""
    kb = Path(tempfile.gettempdir()) / KB_NAME
    kb.write_text(SMALL_KB, encoding="utf-8")
    extra = f'\n[modules.faq]\nfiles = ["{kb}"]\n'
    return await open_chat(url, clock, extra, modules=MODULES)


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_small_faq(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def stored(
    chat: ConsoleChat, entry_id: str
) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    """(question, answer, alternates, tags) of an entry as stored in the database."""
    svc = chat.bot.services["faq"]
    assert isinstance(svc, FaqService)
    overrides, _revision = await svc.store.overrides()
    entry = merge(svc.base, overrides).get(entry_id)
    if entry is None:
        return None
    return entry.question, entry.answer, entry.alternates, entry.tags


def internal(replies: list[str]) -> list[str]:
    return ["an internal error"] if any("something broke" in t for t in replies) else []


async def answer_and_tags_round(chat: ConsoleChat) -> list[str]:
    """One organiser replaces an entry's answer while another replaces its tags: both are
    saved, neither undoes the other."""
    n = next(_fresh)
    answer, tag = f"Answer number {n}.", f"topic{n}"
    replies = await race(
        chat,
        [
            Said("ana", f"!faq edit {ENTRY} answer {answer}"),
            Said("olga", f"!faq edit {ENTRY} tags {tag}, community"),
        ],
    )
    faults = internal(replies)
    if not ("Changed the answer" in replies[0] and "Changed the tags" in replies[1]):
        faults.append("not both saved")
    found = await stored(chat, ENTRY)
    if found is None or found[1] != answer:
        faults.append("the answer lost")
    if found is None or found[3] != (tag, "community"):
        faults.append("the tags lost")
    return faults


async def three_phrasings_round(chat: ConsoleChat) -> list[str]:
    """Three organisers add a phrasing each at once: all three are kept."""
    n = next(_fresh)
    phrasings = [f"how do members number {n} join via {who}" for who in ("ana", "olga", "root")]
    replies = await race(
        chat,
        [
            Said(who, f"!faq alias {ENTRY} {text}")
            for who, text in zip(("ana", "olga", "root"), phrasings, strict=True)
        ],
    )
    faults = internal(replies)
    if sum("Added the phrasing" in t for t in replies) != 3:
        faults.append("not every phrasing acknowledged")
    found = await stored(chat, ENTRY)
    kept = set(found[2]) if found else set()
    lost = [p for p in phrasings if p not in kept]
    if lost:
        faults.append(f"{len(lost)} phrasings lost")
    return faults


async def two_adds_round(chat: ConsoleChat) -> list[str]:
    """Two organisers add an entry with the same id at once: one entry, the other told."""
    n = next(_fresh)
    replies = await race(
        chat,
        [
            Said(who, f'!faq add new-topic-{n} "What is topic {n} for {who}?" It is {who}s.')
            for who in ("ana", "olga")
        ],
    )
    faults = internal(replies)
    won = [i for i, t in enumerate(replies) if t.startswith("Added")]
    if len(won) != 1:
        faults.append(f"{len(won)} added")
        return faults
    loser = replies[1 - won[0]]
    if "already" not in loser and "at the same time" not in loser:
        faults.append("the loser not told")
    found = await stored(chat, f"new-topic-{n}")
    who = ("ana", "olga")[won[0]]
    if found is None or found[0] != f"What is topic {n} for {who}?":
        faults.append("the winner's entry is not the one stored")
    return faults


async def edit_or_remove_round(chat: ConsoleChat) -> list[str]:
    """An added entry edited and removed at once: either the edit is refused, or it came
    first and the removal after it; a removed entry never comes back."""
    n = next(_fresh)
    entry_id = f"short-lived-{n}"
    assert "Added" in await chat.say(
        f'!faq add {entry_id} "What is short-lived topic {n}?" Not much.', as_="ana"
    )
    replies = await race(
        chat,
        [
            Said("ana", f"!faq edit {entry_id} answer Something more, number {n}."),
            Said("olga", f"!faq remove {entry_id}"),
        ],
    )
    faults = internal(replies)
    edited, removed = "Changed the answer" in replies[0], "Removed" in replies[1]
    found = await stored(chat, entry_id)
    if removed and found is not None:
        faults.append("a removed entry came back" if edited else "the removal was not stored")
    if not removed and (found is None or not edited):
        faults.append("neither edited nor removed, or edited and lost")
    if not (edited or removed):
        faults.append("both refused")
    return faults


ROUND_FUNCTIONS: dict[str, Round] = {
    "answer and tags": answer_and_tags_round,
    "three phrasings": three_phrasings_round,
    "two adds": two_adds_round,
    "edit or remove": edit_or_remove_round,
}


@pytest.mark.parametrize("name", list(ROUND_FUNCTIONS))
async def test_faq_races(chat: ConsoleChat, name: str) -> None:
    """Every round of the race goes right."""
    for _ in range(ROUNDS):
        assert await ROUND_FUNCTIONS[name](chat) == []


@pytest.mark.parametrize("instances", [1, 2])
async def test_same_field_from_the_same_reading_one_saved(
    chat: ConsoleChat, instances: int
) -> None:
    """Two answers written over the same entry at once (through one bot, or two bots on one
    database): one is saved, the other refused with EntryChanged, nothing overwritten."""
    from commands.faq.service import EntryChanged

    svc = chat.bot.services["faq"]
    assert isinstance(svc, FaqService)
    other = svc
    if instances == 2:
        other = FaqService(chat.bot.db, "!", [Path(tempfile.gettempdir()) / KB_NAME])
        await other.load()
    for n in range(ROUNDS):
        mine, theirs = await svc.entry(ENTRY), await other.entry(ENTRY)
        assert mine == theirs
        texts = [f"Ana's answer {n}.", f"Olga's answer {n}."]
        results = await asyncio.gather(
            svc.save(replace(mine, answer=texts[0]), "console:ana", before=mine),
            other.save(replace(theirs, answer=texts[1]), "console:olga", before=theirs),
            return_exceptions=True,
        )
        saved = [i for i, r in enumerate(results) if r is None]
        assert len(saved) == 1, results
        refused = results[1 - saved[0]]
        assert isinstance(refused, EntryChanged)
        assert "was changed by another organiser at the same time" in str(refused)
        found = await stored(chat, ENTRY)
        assert found is not None and found[1] == texts[saved[0]]
        await other.index()  # the loser's next edit starts from the winner's entry
