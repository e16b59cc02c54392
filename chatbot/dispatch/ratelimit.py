"""Flood protection: token buckets per member and per room.

A member who floods gets one friendly notice, then silence until their bucket refills;
a busy room gets one notice for the whole room, then silence until it has calmed down (its
bucket full again), however many members take part: answering every flooded message, or
every member, would make the bot part of the flood.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatbot.base.clock import Clock


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # refused; tell the member once
    NOTIFY_ROOM = "notify_room"  # refused, the room is busy; tell the room once
    SILENT = "silent"  # refused; already told


class Bucket:
    """A key's tokens, when they were last counted, and whether its flood was announced
    (a plain slotted class: written on every command, and slot writes are the cheapest)."""

    __slots__ = ("notified", "stamp", "tokens")

    def __init__(self, tokens: float, stamp: float, notified: bool = False) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.notified = notified


class TokenBuckets:
    """Buckets of ``burst`` tokens refilled at ``rate`` per second, one per key."""

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Clock,
        max_keys: int = 100_000,
        *,
        calm_at: float = 1.0,
    ):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        #: tokens at which a flood is over and a new one gets a new notice
        self.calm_at = min(calm_at, burst)
        self._buckets: dict[str, Bucket] = {}

    def refill(self, key: str, now: float) -> Bucket:
        """The key's bucket, topped up for the time since it was last seen."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= self.calm_at:
                bucket.notified = False
        return bucket

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no information."""
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.stamp) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]

    def peek(self, key: str) -> bool:
        return self.refill(key, self.clock.monotonic()).tokens >= 1.0

    def take(self, key: str) -> None:
        self.refill(key, self.clock.monotonic()).tokens -= 1.0

    def refuse(self, key: str) -> Verdict:
        bucket = self.refill(key, self.clock.monotonic())
        if bucket.notified:
            return Verdict.SILENT
        bucket.notified = True
        return Verdict.NOTIFY


class FloodGuard:
    """A command goes through only when both the member's and the room's bucket allow it."""

    def __init__(
        self,
        clock: Clock,
        member_rate: float,
        member_burst: float,
        room_rate: float,
        room_burst: float,
    ) -> None:
        self.members = TokenBuckets(member_rate, member_burst, clock)
        # a room's flood lasts until its bucket is full again: one notice per burst, not
        # one whenever a token trickles back in mid-flood
        self.rooms = TokenBuckets(room_rate, room_burst, clock, calm_at=room_burst)

    def check(self, member_id: str, room_id: str) -> Verdict:
        members, rooms = self.members, self.rooms
        now = members.clock.monotonic()
        member = members._buckets.get(member_id)
        room = rooms._buckets.get(room_id)
        if member is None or room is None:
            member = members.refill(member_id, now)
            room = rooms.refill(room_id, now)
        else:
            # both buckets topped up as TokenBuckets.refill does, inline and in locals: this
            # runs on every command
            mine = member.tokens + (now - member.stamp) * members.rate
            if mine > members.burst:
                mine = members.burst
            theirs = room.tokens + (now - room.stamp) * rooms.rate
            if theirs > rooms.burst:
                theirs = rooms.burst
            member.stamp = room.stamp = now
            if mine >= members.calm_at:
                member.notified = False
            if theirs >= rooms.calm_at:
                room.notified = False
            if mine >= 1.0 and theirs >= 1.0:  # the common case, stored once
                member.tokens = mine - 1.0
                room.tokens = theirs - 1.0
                return Verdict.ALLOW
            member.tokens, room.tokens = mine, theirs
        if member.tokens >= 1.0 and room.tokens >= 1.0:
            member.tokens -= 1.0
            room.tokens -= 1.0
            return Verdict.ALLOW
        if member.tokens < 1.0:
            if member.notified:
                return Verdict.SILENT
            member.notified = True
            return Verdict.NOTIFY
        if room.notified:
            return Verdict.SILENT
        room.notified = True
        return Verdict.NOTIFY_ROOM
