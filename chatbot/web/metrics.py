"""Prometheus metrics of one bot, on their own registry (never the process-global one).

Counters are bumped on the dispatch path, so that stays cheap: one attribute check when
metrics are off, and a cached labelled child per command name when they are on.  Gauges that
need the database (outbox depth, scheduler lag) are refreshed when ``/metrics`` is scraped.
Needs the ``web`` extra (``prometheus-client``); imported only when ``[web]`` is enabled.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

if TYPE_CHECKING:
    from chatbot.storage import Database

#: seconds from a delivery's due time to its post
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Metrics:
    """The bot's counters, histogram and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages = Counter("chatbot_messages_handled", "Messages the bot routed.", registry=r)
        self.commands = Counter(
            "chatbot_commands", "Commands run, by qualified name.", ["command"], registry=r
        )
        self.errors = Counter(
            "chatbot_errors",
            "Failed commands: kind=user (a usage error answered as such) or internal.",
            ["kind"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "chatbot_delivery_latency_seconds",
            "Seconds from an outbox delivery's due time to its post.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "chatbot_outbox_pending", "Outbox deliveries waiting (pending rows).", registry=r
        )
        self.scheduler_lag = Gauge(
            "chatbot_scheduler_lag_seconds",
            "Seconds the oldest due, unclaimed scheduled job is overdue (0 when none).",
            registry=r,
        )
        self._commands: dict[str, Any] = {}
        self._errors = {kind: self.errors.labels(kind) for kind in ("user", "internal")}

    def command(self, name: str) -> None:
        child = self._commands.get(name)
        if child is None:
            child = self._commands[name] = self.commands.labels(name)
        child.inc()

    def error(self, kind: str) -> None:
        self._errors[kind].inc()

    def observe_delivery(self, seconds: float) -> None:
        self.delivery_latency.observe(max(seconds, 0.0))

    async def refresh(self, db: Database, now: datetime) -> None:
        """Query the gauges that live in the database."""
        from chatbot.delivery.outbox_rows import OUTBOX, PENDING
        from chatbot.delivery.scheduler import JOBS
        from chatbot.delivery.scheduler import PENDING as JOB_PENDING

        async with db.sessions() as session:
            depth = await session.scalar(
                select(func.count()).select_from(OUTBOX).where(OUTBOX.c.state == PENDING)
            )
            oldest = await session.scalar(
                select(func.min(JOBS.c.due_at)).where(
                    JOBS.c.state == JOB_PENDING, JOBS.c.due_at <= now
                )
            )
        self.outbox_depth.set(depth or 0)
        if oldest is None:
            self.scheduler_lag.set(0)
        else:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=now.tzinfo)
            self.scheduler_lag.set(max((now - oldest).total_seconds(), 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
