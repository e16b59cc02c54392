"""The outbox: everything the bot sends on its own initiative, delivered durably.

A delivery is a row written **in the same transaction** as the decision to send it
(:func:`enqueue`, one batched insert).  The sender (:class:`Outbox`) claims due rows, sends
each through its platform's adapter and records the outcome.

Claiming
    One statement, ``UPDATE outbox SET state='claimed', lease_until=now+lease, attempts+1
    WHERE id IN (SELECT id … WHERE due … ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP
    LOCKED) RETURNING …``.  On PostgreSQL several instances claim disjoint rows without
    waiting for each other; on SQLite (one instance) the same statement runs without the
    locking clause, which SQLite's single writer makes unnecessary.  Every later transition is
    guarded by ``claimed_by`` and ``state`` in its ``WHERE``, so an instance that lost its
    lease can never overwrite the outcome recorded by the instance that took the row over.

Leases and crashes
    A claimed row whose lease ran out (its instance died) is claimable again.  On SQLite the
    database serves one process, so at start-up every claim is a dead process's and is
    released at once (:meth:`Outbox.recover`).

Idempotency
    Each send carries ``delivery_id=f"outbox-{id}"``, stable across retries; Matrix and
    Discord derive their transaction ids / nonces from it, so re-sending a delivery whose
    outcome was lost in a crash posts it once.  Adapters that cannot deduplicate (the
    console) are sent one row at a time under the ``sending`` state, committed before the
    send: a row found ``sending`` after a crash is *in doubt* and is not sent again but
    reported to its owner (a message may be missing, it is never doubled).

Retries
    A failed send is retried with exponential back-off and jitter
    (:class:`RetryPolicy`); after the last attempt the delivery is ``failed`` and, once
    (the transition is guarded), a direct message tells the member who caused it which room
    it was for and why.  A delivery past its ``expires_at`` is not sent late but failed.

Rate limits
    A token bucket per platform bounds how many rows are claimed per round, so rows never sit
    claimed while waiting for the platform.

Shutdown
    When the bot stops, the round in progress may finish (``shutdown_grace``), so a message
    already posted is recorded as sent rather than left in doubt.

Waiting
    When nothing is due the loop waits on an :class:`asyncio.Event` (set after a commit that
    enqueued something) or until the next due time computed from the clock; the wait is an
    injected function, so tests move a fake clock instead of sleeping.

Where the code is
    This module is the sender (:class:`Outbox`) and :func:`outbox_of`, which makes the bot's
    one.  What a row is and how deliveries are queued: :mod:`~chatbot.delivery.outbox_rows`
    (``Delivery``, ``enqueue``, the states and kinds); the statements that claim rows and
    record outcomes: :mod:`~chatbot.delivery.outbox_claims`; retries, rates and sizes:
    :mod:`~chatbot.delivery.outbox_policy`; the stored form of a reply:
    :mod:`~chatbot.delivery.outbox_payload`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event

from chatbot.base.logs import get_logger
from chatbot.delivery.outbox_claims import (
    IN_DOUBT,
    NO_DMS,
    NOT_ACCEPTED,
    TOO_LATE,
    Claimed,
    Outcome,
    claim_due,
    fail_in_doubt,
    failure_report,
    mark_failed,
    mark_for_retry,
    mark_sent,
    next_due_times,
    release_all_claims,
    retry_time,
)
from chatbot.delivery.outbox_payload import decode_payload
from chatbot.delivery.outbox_policy import (
    DEFAULT_RATES,
    OutboxSettings,
    RetryPolicy,
    is_idempotent,
)
from chatbot.delivery.outbox_rows import (
    CLAIMED,
    SENDING,
    Delivery,
    aware,
    enqueue,
    insert_rows,
)
from chatbot.delivery.workers import Sleep, instance_name, wait_for_event
from chatbot.dispatch.ratelimit import TokenBuckets
from chatbot.messages.events import Member, Outgoing, Room

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.base.clock import Clock
    from chatbot.dispatch.adapter import Adapter
    from chatbot.dispatch.host import Host
    from chatbot.storage import Database

log = get_logger("chatbot.delivery.outbox")


class Outbox:
    """The sender: claims due deliveries, sends them, records what happened."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, Adapter],
        *,
        clock: Clock | None = None,
        settings: OutboxSettings | None = None,
        instance: str | None = None,
        sleep: Sleep = wait_for_event,
        rng: random.Random | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.adapters = adapters
        #: whether this instance runs the platform's connection now (several instances on
        #: PostgreSQL: only the lease holder sends); ``None``: every adapter present
        self.owns = owns
        #: called with the seconds from due to posted for each sent row (metrics)
        self.on_sent: Callable[[float], None] | None = None
        self.clock: Clock = clock or db.clock
        self.settings = settings or OutboxSettings()
        self.instance = instance or instance_name()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.work = asyncio.Event()
        self._buckets = {
            platform: TokenBuckets(rate, burst, self.clock)
            for platform, (rate, burst) in self.settings.rates.items()
        }
        self.sent_count = 0
        self.failed_count = 0

    # -- enqueueing ----------------------------------------------------------------------

    def wake(self) -> None:
        """Something may be due: look now instead of at the next poll."""
        self.work.set()

    def wake_after_commit(self, session: AsyncSession) -> None:
        sa_event.listen(session.sync_session, "after_commit", lambda _s: self.wake(), once=True)

    async def enqueue(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> int:
        """:func:`enqueue` in the caller's transaction, waking this sender once it commits."""
        count = await enqueue(session, deliveries, self.clock.now())
        self.wake_after_commit(session)
        return count

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled."""
        await self.recover()
        while True:
            self.work.clear()
            try:
                handled = await self._round()
                if handled:
                    await asyncio.sleep(0)  # let the adapters and commands breathe
                    continue
                delay = await self.idle_delay()
            except Exception:
                log.exception("outbox_round_failed", instance=self.instance)
                delay = self.settings.retry.base
            await self.sleep(self.work, delay)

    async def _round(self) -> int:
        """:meth:`run_once`, finished even when the bot stops meanwhile: a message already
        posted is recorded as sent rather than left in doubt (within ``shutdown_grace``)."""
        task = asyncio.ensure_future(self.run_once())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            done, _ = await asyncio.wait({task}, timeout=self.settings.shutdown_grace)
            if not done:
                task.cancel()
            raise

    async def recover(self) -> None:
        """At start-up on SQLite (one process), release the claims of the dead process."""
        if not self.db.is_sqlite:
            return
        async with self.db.session() as session:
            await release_all_claims(session)

    async def run_once(self) -> int:
        """One round: claim what is due on each platform and send it; returns rows handled."""
        handled = 0
        for platform, adapter in self.adapters.items():
            if self.owns is not None and not self.owns(platform):
                continue
            allowance = self._allowance(platform)
            if allowance <= 0:
                continue
            if is_idempotent(adapter):
                rows = await self._claim(platform, min(allowance, self.settings.batch), CLAIMED)
                if rows:
                    self._spend(platform, len(rows))
                    outcomes = await self._send_all(adapter, rows)
                    await self._record(outcomes, CLAIMED)
            else:
                rows = await self._claim(platform, 1, SENDING)
                if rows:
                    self._spend(platform, 1)
                    outcomes = [await self._send_one(adapter, rows[0])]
                    await self._record(outcomes, SENDING)
            handled += len(rows)
        return handled

    async def idle_delay(self) -> float:
        """Seconds until something may be due (capped by the poll interval)."""
        now = self.clock.now()
        await self._settle_in_doubt(now)
        platforms = [p for p in self.adapters if self.owns is None or self.owns(p)]
        delay = self.settings.poll_interval
        async with self.db.sessions() as session:
            due_times = await next_due_times(session, platforms)
        for platform, when in due_times:
            if when is None:
                continue
            when = aware(when)
            wait = (when - now).total_seconds()
            wait = max(wait, self._token_wait(platform))
            delay = min(delay, max(wait, 0.0))
        return delay

    # -- rate limits ---------------------------------------------------------------------

    def _allowance(self, platform: str) -> int:
        buckets = self._buckets.get(platform)
        if buckets is None:
            return self.settings.batch
        return int(buckets.refill(platform, self.clock.monotonic()).tokens)

    def _spend(self, platform: str, count: int) -> None:
        buckets = self._buckets.get(platform)
        if buckets is not None:
            buckets.refill(platform, self.clock.monotonic()).tokens -= count

    def _token_wait(self, platform: str) -> float:
        buckets = self._buckets.get(platform)
        if buckets is None:
            return 0.0
        tokens = buckets.refill(platform, self.clock.monotonic()).tokens
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / buckets.rate

    # -- claiming ------------------------------------------------------------------------

    async def _claim(self, platform: str, limit: int, state: str) -> list[Claimed]:
        now = self.clock.now()
        async with self.db.session() as session:
            return await claim_due(
                session,
                platform,
                limit,
                state,
                instance=self.instance,
                now=now,
                lease=self.settings.lease,
            )

    # -- sending -------------------------------------------------------------------------

    async def _send_all(self, adapter: Adapter, rows: list[Claimed]) -> list[Outcome]:
        limit = max(self.settings.concurrency, 1)
        if limit == 1 or len(rows) == 1:
            return [await self._send_one(adapter, row) for row in rows]
        gate = asyncio.Semaphore(limit)

        async def one(row: Claimed) -> Outcome:
            async with gate:
                return await self._send_one(adapter, row)

        return list(await asyncio.gather(*(one(row) for row in rows)))

    async def _send_one(self, adapter: Adapter, row: Claimed) -> Outcome:
        now = self.clock.now()
        if row.expires_at is not None and aware(row.expires_at) < now:
            return Outcome(row, error=TOO_LATE, permanent=True)
        try:
            reply, reader = decode_payload(row.payload)
        except Exception as exc:  # a corrupt row must not block the others
            return Outcome(row, error=f"unreadable payload ({type(exc).__name__})", permanent=True)
        sent_at = aware(row.created_at)
        delivery_id = f"outbox-{row.id}"
        try:
            if row.member_id is not None:
                member = Member(row.member_id, row.platform, row.target_name)
                room = Room(row.member_id, row.platform, f"DM {row.target_name}", is_direct=True)
                out = Outgoing(room, reply, reader, delivery_id=delivery_id, sent_at=sent_at)
                sent = await adapter.send_direct(member, out)
                if sent is None:
                    return Outcome(
                        row,
                        error=NO_DMS,
                        permanent=True,
                    )
            else:
                assert row.room_id is not None
                room = Room(row.room_id, row.platform, row.target_name)
                out = Outgoing(room, reply, reader, delivery_id=delivery_id, sent_at=sent_at)
                sent = await adapter.send(out)
                if sent is None:
                    return Outcome(row, error=NOT_ACCEPTED, permanent=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            text = str(exc).strip() or type(exc).__name__
            log.warning("outbox_send_failed", id=row.id, platform=row.platform, error=text[:200])
            return Outcome(row, error=text[:500])
        return Outcome(row, sent=sent)

    # -- recording -----------------------------------------------------------------------

    async def _record(self, outcomes: list[Outcome], claimed_state: str) -> None:
        now = self.clock.now()
        sent = [o for o in outcomes if o.sent is not None]
        failed = [o for o in outcomes if o.sent is None]
        me = self.instance
        async with self.db.session() as session:
            if sent:
                await mark_sent(
                    session,
                    sent,
                    instance=me,
                    claimed_state=claimed_state,
                    now=now,
                    is_sqlite=self.db.is_sqlite,
                )
                self.sent_count += len(sent)
                if self.on_sent is not None:
                    for o in sent:
                        self.on_sent((now - aware(o.row.next_attempt_at)).total_seconds())
            reports: list[dict[str, Any]] = []
            for o in failed:
                row = o.row
                retry_at = retry_time(o, now, self.settings.retry, self.rng)
                if retry_at is not None:
                    await mark_for_retry(
                        session, o, retry_at, instance=me, claimed_state=claimed_state, now=now
                    )
                    continue
                if await mark_failed(session, o, instance=me, claimed_state=claimed_state, now=now):
                    self.failed_count += 1
                    log.warning(
                        "outbox_delivery_failed",
                        id=row.id,
                        platform=row.platform,
                        target=row.target_name,
                        attempts=row.attempts,
                        error=o.error,
                    )
                    report = failure_report(row, o.error or "unknown error", now)
                    if report is not None:
                        reports.append(report)
            await insert_rows(session, reports)
            if reports:
                self.wake_after_commit(session)

    async def _settle_in_doubt(self, now: datetime) -> None:
        """Rows left ``sending`` by a dead process: maybe posted, so never re-sent; reported."""
        platforms = [p for p, a in self.adapters.items() if not is_idempotent(a)]
        if not platforms:
            return
        error = IN_DOUBT
        async with self.db.session() as session:
            rows = await fail_in_doubt(session, platforms, now, error)
            reports = [r for r in (failure_report(row, error, now) for row in rows) if r]
            await insert_rows(session, reports)
        for row in rows:
            log.warning("outbox_in_doubt", id=row.id, platform=row.platform, target=row.target_name)
        if reports:
            self.wake()


def outbox_of(bot: Host) -> Outbox:
    """The bot's sender, created (and added as a worker) on first use."""
    found = bot.services.get("outbox")
    if isinstance(found, Outbox):
        return found
    box = bot.config.outbox
    rates = dict(DEFAULT_RATES)
    rates.update({k: (float(v[0]), float(v[1])) for k, v in box.rates.items()})
    settings = OutboxSettings(
        batch=box.batch,
        lease=box.lease_seconds,
        shutdown_grace=box.shutdown_grace,
        retry=RetryPolicy(max_attempts=box.max_attempts),
        rates=rates,
    )
    outbox = Outbox(
        bot.db,
        bot.adapters,
        clock=bot.clock,
        settings=settings,
        instance=bot.instance,
        owns=bot.owns_connection,
    )
    bot.services["outbox"] = outbox
    bot.add_worker("outbox", outbox.run)
    return outbox
