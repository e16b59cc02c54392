"""Outbox throughput and announcement fan-out, on SQLite and on a throw-away PostgreSQL.

1. Deliveries per second: ``--rows`` due rows drained by one or two senders (each with its
   own engine, as two instances would have) into an in-memory adapter.
2. Fan-out: one announcement to ``--members`` members' DMs, each with the meeting time
   rendered in the member's zone and language (:func:`chatbot.time.format.format_when`), queued
   with one batched insert in one transaction.  Timed from reading the members to the commit.

Run: .venv/bin/python -m benchmarks.outbox [--rows 5000] [--members 10000] [--repeat 3]
Targets (2 shared cores): fan-out <= 0.35 s on either database; >= 5,000 deliveries/s on
PostgreSQL with two instances.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select

from benchmarks.memory_adapter import MemoryAdapter
from chatbot.base.clock import SystemClock
from chatbot.delivery.outbox import Outbox
from chatbot.delivery.outbox_payload import encode_payload
from chatbot.delivery.outbox_policy import OutboxSettings
from chatbot.delivery.outbox_rows import (
    ANNOUNCEMENT,
    Delivery,
    delivery_row,
    dm_rows,
    insert_rows,
)
from chatbot.messages.events import Plain, Reply, Room
from chatbot.storage import Database
from chatbot.storage.delivery import OutboxRow
from chatbot.storage.models import MemberRow
from chatbot.time.format import format_when

ZONES = [
    None,
    "Europe/Paris",
    "Africa/Lagos",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Manila",
    "America/New_York",
    "Australia/Sydney",
    "UTC+05:30",
]
LANGS = [None] * 8 + ["fr", "es"]


class IdempotentMemory(MemoryAdapter):
    """The in-memory adapter, declared idempotent like Matrix and Discord (batched path)."""

    idempotent_sends = True


async def _fresh(url: str) -> Database:
    db = Database(url, SystemClock())
    await db.upgrade()
    return db


async def deliveries_per_second(urls: list[str], rows: int) -> float:
    """Drain ``rows`` due deliveries with one sender per URL (same database); rows/s."""
    dbs = [await _fresh(url) for url in urls]
    try:
        now = dbs[0].clock.now()
        async with dbs[0].session() as session:
            await insert_rows(
                session,
                [
                    delivery_row(
                        Delivery(
                            "memory",
                            Reply.of("Meeting at 15:00 UTC"),
                            room=Room(f"memory:#r{i}", "memory", f"#r{i}"),
                        ),
                        now,
                    )
                    for i in range(rows)
                ],
            )
        adapters = [IdempotentMemory() for _ in dbs]
        senders = [
            Outbox(
                db,
                {"memory": adapter},
                instance=f"bench-{n}",
                settings=OutboxSettings(batch=500, concurrency=1),
            )
            for n, (db, adapter) in enumerate(zip(dbs, adapters, strict=True))
        ]

        async def drain(outbox: Outbox) -> None:
            while await outbox.run_once():
                pass

        gc.collect()
        start = time.perf_counter()
        await asyncio.gather(*(drain(s) for s in senders))
        elapsed = time.perf_counter() - start
        sent = sum(len(a.sent) for a in adapters)
        assert sent == rows, f"sent {sent} of {rows}"
        return rows / elapsed
    finally:
        for db in dbs:
            await db.close()


async def fan_out(url: str, members: int, repeat: int) -> tuple[list[float], int]:
    """Queue one announcement to every member's DMs, ``repeat`` times (the outbox emptied
    in between); (seconds of each run, rows queued)."""
    db = await _fresh(url)
    try:
        now = datetime.now(UTC)
        rng = random.Random(3)
        async with db.session() as session:
            await session.execute(
                insert(MemberRow),
                [
                    {
                        "id": f"memory:m{i}",
                        "platform": "memory",
                        "display_name": f"m{i}",
                        "zone": rng.choice(ZONES),
                        "lang": rng.choice(LANGS),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(members)
                ],
            )
        meeting = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        # the first use of a language loads Babel's data: that is start-up, not fan-out
        format_when(meeting, "Europe/Paris", "full", "fr", now=now)
        format_when(meeting, "Europe/Paris", "full", "es", now=now)
        times = []
        count = 0
        for _ in range(repeat):
            async with db.session() as session:
                await session.execute(delete(OutboxRow))
            gc.collect()
            start = time.perf_counter()
            count = await queue_announcement_dms(db, meeting, now)
            times.append(time.perf_counter() - start)
        return times, count
    finally:
        await db.close()


async def queue_announcement_dms(db: Database, meeting: datetime, now: datetime) -> int:
    """The fan-out itself: read members, render each one's local time, one batched insert."""
    async with db.session() as session:
        found = (
            await session.execute(
                select(MemberRow.id, MemberRow.display_name, MemberRow.zone, MemberRow.lang)
            )
        ).all()
        # the text depends only on the member's (zone, language): render and encode it once
        # per distinct pair (a few dozen), not once per member
        payloads: dict[tuple[str | None, str | None], str] = {}
        targets = []
        for member_id, name, zone, lang in found:
            payload = payloads.get((zone, lang))
            if payload is None:
                local = format_when(meeting, zone, "full", lang, now=now)
                reply = Reply.of("The December call starts ", Plain(local), ". See you there!")
                payload = payloads[zone, lang] = encode_payload(reply)
            targets.append((member_id, name, payload))
        rows = dm_rows(
            "memory", targets, now, kind=ANNOUNCEMENT, owner_id="memory:org", ref="announcement:1"
        )
        await insert_rows(session, rows)
    return len(rows)


def _figures(values: list[float]) -> str:
    return f"best {max(values):8.0f}  median {statistics.median(values):8.0f}"


async def main(rows: int, members: int, repeat: int) -> None:
    from tests.peers.postgres import PostgresServer

    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg:
        print(f"PostgreSQL: {pg.version}; {rows} deliveries, best and median of {repeat} runs")
        fresh = itertools.count()

        def sqlite_url() -> str:
            return f"sqlite:///{Path(tmp) / f'b{next(fresh)}.db'}"

        def pg_url() -> str:
            return pg.create_database(f"bench{next(fresh)}")

        for name, make in (("sqlite", sqlite_url), ("postgres", pg_url)):
            for instances in (1, 2):
                rates = []
                for _ in range(repeat):
                    url = make()
                    rates.append(await deliveries_per_second([url] * instances, rows))
                print(f"{name:9} deliveries/s, {instances} instance(s): {_figures(rates)}")
        for name, make in (("sqlite", sqlite_url), ("postgres", pg_url)):
            times, count = await fan_out(make(), members, repeat)
            print(
                f"{name:9} fan-out of one announcement to {count} DMs: best {min(times):.3f} s"
                f"  median {statistics.median(times):.3f} s"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.members, args.repeat))
