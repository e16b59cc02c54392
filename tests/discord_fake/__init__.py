"""A protocol-level fake Discord (REST + gateway) for testing unmodified discord.py clients.

The fake itself does not import discord.py; ``harness`` and ``fixtures`` do.
"""

from __future__ import annotations

from tests.discord_fake.interactions import PendingInteraction
from tests.discord_fake.models import Channel, ChannelType, Guild, Intent, Member, Role, User
from tests.discord_fake.records import (
    CommandSync,
    InteractionResponse,
    RecordedFile,
    RecordedMessage,
    RecordedReaction,
    RecordedRequest,
    WaitTimeout,
)
from tests.discord_fake.server import FakeDiscord, InjectedFailure

__all__ = [
    "Channel",
    "ChannelType",
    "CommandSync",
    "FakeDiscord",
    "Guild",
    "InjectedFailure",
    "Intent",
    "InteractionResponse",
    "Member",
    "PendingInteraction",
    "RecordedFile",
    "RecordedMessage",
    "RecordedReaction",
    "RecordedRequest",
    "Role",
    "User",
    "WaitTimeout",
]
