"""How the outbox's sender behaves: retries and back-off, rate limits, batch and lease sizes.

Plain settings and the two rules that read them: :meth:`RetryPolicy.delay` (exponential
back-off with jitter) and :func:`is_idempotent` (may a row be re-sent after a crash, or must it
go one at a time under the ``sending`` state).  Kept apart from the sender so that the policy
can be read, and tuned from the config (:func:`chatbot.delivery.outbox.outbox_of`), at a glance.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from chatbot.dispatch.adapter import Adapter

#: platforms whose adapters derive idempotency keys from ``delivery_id`` (see Idempotency in
#: :mod:`chatbot.delivery.outbox`)
IDEMPOTENT_PLATFORMS = frozenset({"matrix", "discord"})

#: messages per second and burst per platform; platforms not named are not limited here
DEFAULT_RATES: Mapping[str, tuple[float, float]] = {
    "discord": (5.0, 10.0),  # well under the global 50/s; per-channel limits are discord.py's
    "matrix": (2.0, 10.0),  # Synapse's default rc_message is 0.2/s unless the bot is exempt
}


def is_idempotent(adapter: Adapter) -> bool:
    """Whether re-sending the same ``delivery_id`` posts once on this adapter's platform."""
    declared = getattr(adapter, "idempotent_sends", None)
    if isinstance(declared, bool):
        return declared
    return adapter.platform in IDEMPOTENT_PLATFORMS


#: attempts before a delivery is ``failed`` (the bot takes ``[outbox] max_attempts`` instead)
DEFAULT_MAX_ATTEMPTS = 6


class RetryPolicy(msgspec.Struct, frozen=True):
    """Exponential back-off: ``base * factor**(attempt-1)`` seconds, capped, ± jitter."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base: float = 5.0
    factor: float = 3.0
    cap: float = 3600.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.cap, self.base * self.factor ** max(attempt - 1, 0))
        return raw * (1.0 + rng.uniform(-self.jitter, self.jitter))


class OutboxSettings(msgspec.Struct, frozen=True):
    """Rows claimed per round, claim lease and poll (seconds), sends at once, retries, rates."""

    batch: int = 100
    lease: float = 60.0
    poll_interval: float = 30.0
    concurrency: int = 8
    #: at shutdown, seconds to let the round in progress record what it sent
    shutdown_grace: float = 10.0
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    rates: Mapping[str, tuple[float, float]] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_RATES)
    )
