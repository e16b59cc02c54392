"""Case studies under concurrency: one winner per state change, a gap-free history.

Organisers (and the contributor) race the same transition on one study, on SQLite and on
PostgreSQL; exactly one succeeds, the others are told who got there first and what the study
is now, the history has one revision per change numbered without gaps, and the contributor
gets one notice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from chatbot.base.clock import FakeClock
from chatbot.storage.delivery import OutboxRow
from commands.casestudies.store import CaseStudyStore
from tests.concurrency import ROUNDS, Said, gap_free, one_winner, race
from tests.harness import ConsoleChat
from tests.test_casestudies import EXPECTED, open_cs

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: the commands that bring a new study to each state, in order
TO_STATE = {
    "submitted": [],
    "in_review": ["claim"],
    "accepted": ["claim", "accept"],
    "published": ["claim", "accept", "publish"],
}

#: what the winner of each action is told
DONE = {
    "claim": "You're reviewing case study",
    "accept": "publishes it.",
    "reject": "told the contributor why.",
    "publish": "is published.",
    "unpublish": "is no longer published.",
    "withdraw": "is withdrawn.",
}
PAST = {
    "claim": "claimed",
    "accept": "accepted",
    "reject": "rejected",
    "publish": "published",
    "unpublish": "unpublished",
    "withdraw": "withdrew",
}
#: who sends each racer's command: organisers ana, olga and root (an admin); the contributor
RACERS = ("ana", "olga", "root")


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_cs(db_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def new_study(chat: ConsoleChat, state: str) -> int:
    """A study by alice, brought to ``state`` one command at a time."""
    store = CaseStudyStore(chat.bot.db)
    async with chat.bot.db.session() as session:
        row = await store.submit(session, "console:alice", "alice", EXPECTED, chat.bot.clock.now())
        number = row.id
    for action in TO_STATE[state]:
        out = await chat.say(f"!casestudy {action} {number}", as_="ana", room="#general")
        assert DONE[action] in out
    return number


def command(action: str, number: int) -> str:
    reason = " Please add the numbers from the dashboard" if action == "reject" else ""
    return f"!casestudy {action} {number}{reason}"


async def notices_to_alice(chat: ConsoleChat, number: int) -> int:
    async with chat.bot.db.sessions() as session:
        rows = await session.scalars(
            select(OutboxRow.id).where(
                OutboxRow.member_id == "console:alice", OutboxRow.ref == f"casestudy:{number}"
            )
        )
        return len(rows.all())


RACES = [
    pytest.param("submitted", ("claim", "claim", "claim"), id="three-claims"),
    pytest.param("in_review", ("accept", "reject"), id="accept-vs-reject"),
    pytest.param("in_review", ("accept", "accept"), id="two-accepts"),
    pytest.param("in_review", ("reject", "reject"), id="two-rejects"),
    pytest.param("submitted", ("withdraw", "claim"), id="withdraw-vs-claim"),
    pytest.param("accepted", ("publish", "publish"), id="two-publishes"),
    pytest.param("published", ("unpublish", "unpublish"), id="two-unpublishes"),
]


@pytest.mark.parametrize(("state", "actions"), RACES)
async def test_one_winner_per_transition(
    chat: ConsoleChat, state: str, actions: tuple[str, ...]
) -> None:
    """N racers, one change: one success, the others told who did what, history gap-free."""
    store = CaseStudyStore(chat.bot.db)
    for _ in range(ROUNDS):
        number = await new_study(chat, state)
        before = len(await store.revisions(number))
        notices = await notices_to_alice(chat, number)
        racers = [
            Said("alice" if action == "withdraw" else RACERS[i], command(action, number))
            for i, action in enumerate(actions)
        ]
        replies = await race(chat, racers)
        won = one_winner(replies, lambda text: any(DONE[a] in text for a in actions))
        winner, action = racers[won].member, actions[won]
        assert DONE[action] in replies[won]
        now = (await store.get(number)).state.replace("_", " ")  # type: ignore[union-attr]
        for i, reply in enumerate(replies):
            if i != won:
                assert f"{winner} already {PAST[action]} case study #{number} a moment ago" in reply
                assert f"it is now {now}" in reply
        revisions = await store.revisions(number)
        gap_free([r.number for r in revisions])
        assert [r.action for r in revisions[before:]] == [action]
        assert (await store.get(number)).revision == len(revisions)  # type: ignore[union-attr]
        told = 1 if action in ("accept", "reject", "publish") else 0
        assert await notices_to_alice(chat, number) == notices + told


async def test_upgrade_renumbers_revisions_written_twice(db_url: str, clock: FakeClock) -> None:
    """A history doubled by the old race is renumbered in write order, then kept unique."""
    from alembic import command

    from chatbot.storage import MIGRATIONS, Database
    from chatbot.storage.migrate import alembic_config
    from commands import casestudies

    locations = [MIGRATIONS / "versions", casestudies.MIGRATIONS]
    db = Database(db_url, clock)

    def before_the_fix(conn: Connection) -> None:
        cfg = alembic_config(locations)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "casestudies_0001")
        at = clock.now().replace(tzinfo=None)
        conn.execute(
            text(
                "INSERT INTO case_studies (id, member_id, state, data, title, country, "
                "library_type, projects, activities, search_text, revision, created_at, "
                "updated_at) VALUES (1, 'console:alice', 'in_review', '{}', 'T', 'KE', "
                "'public', ';', ';', '', 2, :at, :at)"
            ),
            {"at": at},
        )
        for number, action in ((1, "submit"), (2, "claim"), (2, "claim")):
            conn.execute(
                text(
                    "INSERT INTO case_study_revisions (study_id, number, action, actor_id, at, "
                    "new_state) VALUES (1, :number, :action, 'console:ana', :at, 'in_review')"
                ),
                {"number": number, "action": action, "at": at},
            )

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(before_the_fix)
        await db.upgrade([casestudies.MIGRATIONS])
        store = CaseStudyStore(db)
        assert [(r.number, r.action) for r in await store.revisions(1)] == [
            (1, "submit"),
            (2, "claim"),
            (3, "claim"),
        ]
        assert (await store.get(1)).revision == 3  # type: ignore[union-attr]
        with pytest.raises(IntegrityError):
            async with db.session() as session:
                await session.execute(
                    text(
                        "INSERT INTO case_study_revisions (study_id, number, action, at, "
                        "new_state) VALUES (1, 3, 'claim', :at, 'in_review')"
                    ),
                    {"at": clock.now().replace(tzinfo=None)},
                )
    finally:
        await db.close()
