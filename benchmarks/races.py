"""How often racing members break a state change, on SQLite and on a throw-away PostgreSQL.

Each scenario sends N messages at the same instant (:func:`tests.concurrency.race`) at one
fresh object, ``--rounds`` times, and counts the rounds that went wrong: not exactly one
winner, a history with a repeated or missing number, a notice sent twice, a lost edit, a
wrong count.  It measures faults rather than asserting, so it runs on any version of the bot.

Run: .venv/bin/python -m benchmarks.races [--rounds 30] [--only casestudy]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from chatbot.base.clock import FakeClock
from chatbot.storage.delivery import OutboxRow
from commands.casestudies.store import CaseStudyRevisionRow, CaseStudyStore
from tests.concurrency import Said, race
from tests.test_casestudies import EXPECTED, open_cs
from tests.test_races_faq import ROUND_FUNCTIONS as FAQ_ROUNDS
from tests.test_races_faq import open_small_faq
from tests.test_races_meetings import ROUND_FUNCTIONS as MEETING_ROUNDS
from tests.test_races_meetings import open_meetings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tests.harness import ConsoleChat

DONE = {
    "claim": "You're reviewing case study",
    "accept": "publishes it.",
    "reject": "told the contributor why.",
    "publish": "is published.",
    "unpublish": "is no longer published.",
    "withdraw": "is withdrawn.",
}
TO_STATE = {
    "submitted": [],
    "in_review": ["claim"],
    "accepted": ["claim", "accept"],
    "published": ["claim", "accept", "publish"],
}
RACERS = ("ana", "olga", "root")


@dataclass(frozen=True)
class Scenario:
    name: str
    opens: Callable[[str, FakeClock], Awaitable[ConsoleChat]]
    #: one round: the faults it showed (empty when all went right)
    round: Callable[[ConsoleChat], Awaitable[list[str]]]


async def _study(chat: ConsoleChat, state: str) -> int:
    store = CaseStudyStore(chat.bot.db)
    async with chat.bot.db.session() as session:
        row = await store.submit(session, "console:alice", "alice", EXPECTED, chat.bot.clock.now())
        number = row.id
    for action in TO_STATE[state]:
        await chat.say(f"!casestudy {action} {number}", as_="ana", room="#general")
    return number


def casestudy(state: str, actions: tuple[str, ...]) -> Scenario:
    async def one_round(chat: ConsoleChat) -> list[str]:
        number = await _study(chat, state)
        db = chat.bot.db
        async with db.sessions() as session:
            before = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.member_id.is_not(None))
            )
        racers = []
        for i, action in enumerate(actions):
            reason = " Please add the dashboard numbers" if action == "reject" else ""
            who = "alice" if action == "withdraw" else RACERS[i]
            racers.append(Said(who, f"!casestudy {action} {number}{reason}"))
        replies = await race(chat, racers)
        faults = []
        winners = sum(any(DONE[a] in text for a in actions) for text in replies)
        if winners != 1:
            faults.append(f"{winners} winners")
        if any("something broke" in text for text in replies):
            faults.append("an internal error")
        async with db.sessions() as session:
            numbers = list(
                await session.scalars(
                    select(CaseStudyRevisionRow.number)
                    .where(CaseStudyRevisionRow.study_id == number)
                    .order_by(CaseStudyRevisionRow.number)
                )
            )
            after = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.member_id.is_not(None))
            )
        if numbers != list(range(1, len(numbers) + 1)):
            faults.append(f"history {numbers}")
        if (after or 0) - (before or 0) > 1:
            faults.append("the contributor told twice")
        return faults

    return Scenario(f"casestudy {state}: {' vs '.join(actions)}", open_cs, one_round)


SCENARIOS = [
    casestudy("submitted", ("claim", "claim", "claim")),
    casestudy("in_review", ("accept", "reject")),
    casestudy("in_review", ("accept", "accept")),
    casestudy("submitted", ("withdraw", "claim")),
    casestudy("accepted", ("publish", "publish")),
    *(Scenario(f"meeting {name}", open_meetings, fn) for name, fn in MEETING_ROUNDS.items()),
    *(Scenario(f"faq {name}", open_small_faq, fn) for name, fn in FAQ_ROUNDS.items()),
]


async def measure(scenario: Scenario, url: str, rounds: int) -> tuple[int, Counter[str]]:
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    chat = await scenario.opens(url, clock)
    faults: Counter[str] = Counter()
    bad = 0
    try:
        for _ in range(rounds):
            found = await scenario.round(chat)
            bad += bool(found)
            faults.update(found)
    finally:
        await chat.bot.close()
    return bad, faults


async def main(rounds: int, only: str) -> None:
    from tests.peers.postgres import PostgresServer

    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg:
        fresh = itertools.count()

        def sqlite_url() -> str:
            return f"sqlite:///{Path(tmp) / f'r{next(fresh)}.db'}"

        def pg_url() -> str:
            return pg.create_database(f"race{next(fresh)}")

        makers = {"sqlite": sqlite_url, "postgres": pg_url}
        print(f"{rounds} rounds per scenario; PostgreSQL {pg.version}")
        for scenario in SCENARIOS:
            if only and only not in scenario.name:
                continue
            for name, make in makers.items():
                bad, faults = await measure(scenario, make(), rounds)
                detail = ", ".join(f"{k} ×{v}" for k, v in faults.most_common(4))
                print(f"{name:9} {scenario.name:45} faulty {bad:3}/{rounds}  {detail}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--only", default="", help="run the scenarios whose name has this")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.only))
