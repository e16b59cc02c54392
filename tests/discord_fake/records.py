"""What the fake records about the bot's behaviour, in the order it happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tests.discord_fake.models import JSON

EPHEMERAL = 1 << 6
LOADING = 1 << 7

MessageAction = Literal["create", "edit", "delete"]
MessageSource = Literal["channel", "interaction", "followup"]


class WaitTimeout(AssertionError):
    """A ``wait_for_*`` call ran out of time; the message lists what was recorded."""


@dataclass
class RecordedFile:
    """A file uploaded in a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    """One HTTP request the client made to the fake REST API."""

    index: int
    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    status: int = 0
    response: Any = None
    note: str = ""

    def __str__(self) -> str:
        extra = f" ({self.note})" if self.note else ""
        return f"{self.method} {self.path} -> {self.status}{extra}"


@dataclass
class RecordedMessage:
    """A message the bot created, edited or deleted, by any route."""

    index: int
    action: MessageAction
    source: MessageSource
    channel_id: int
    message_id: int
    body: JSON
    message: JSON
    files: list[RecordedFile] = field(default_factory=list)
    interaction_id: int | None = None
    replaced_original: bool = False

    @property
    def content(self) -> str:
        return str(self.message.get("content", ""))

    @property
    def flags(self) -> int:
        return int(self.message.get("flags", 0))

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def embeds(self) -> list[JSON]:
        return list(self.message.get("embeds", []))

    @property
    def components(self) -> list[JSON]:
        return list(self.message.get("components", []))

    @property
    def allowed_mentions(self) -> JSON | None:
        value = self.body.get("allowed_mentions")
        return value if isinstance(value, dict) else None

    @property
    def nonce(self) -> str | int | None:
        value = self.body.get("nonce")
        return value if isinstance(value, str | int) else None

    @property
    def enforce_nonce(self) -> bool:
        return bool(self.body.get("enforce_nonce", False))

    @property
    def message_reference(self) -> JSON | None:
        value = self.body.get("message_reference")
        return value if isinstance(value, dict) else None

    def __str__(self) -> str:
        where = f"channel {self.channel_id}"
        if self.interaction_id is not None:
            where += f", interaction {self.interaction_id}"
        return f"{self.action} {self.source} message {self.message_id} in {where}: {self.content!r}"


@dataclass
class InteractionResponse:
    """A callback the bot posted to ``/interactions/{id}/{token}/callback``."""

    index: int
    interaction_id: int
    interaction_type: int
    type: int
    body: JSON
    files: list[RecordedFile] = field(default_factory=list)
    message: RecordedMessage | None = None

    @property
    def data(self) -> JSON:
        value = self.body.get("data")
        return value if isinstance(value, dict) else {}

    @property
    def content(self) -> str | None:
        value = self.data.get("content")
        return value if isinstance(value, str) else None

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def components(self) -> list[JSON]:
        return list(self.data.get("components") or [])

    @property
    def embeds(self) -> list[JSON]:
        return list(self.data.get("embeds") or [])

    @property
    def allowed_mentions(self) -> JSON | None:
        value = self.data.get("allowed_mentions")
        return value if isinstance(value, dict) else None

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices (type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def modal(self) -> JSON | None:
        """The modal (type 9): ``custom_id``, ``title``, ``components``."""
        return self.data if self.type == 9 else None

    def __str__(self) -> str:
        return (
            f"interaction {self.interaction_id} callback type {self.type}: "
            f"{self.content!r} flags={self.flags}"
        )


@dataclass
class CommandSync:
    """One bulk overwrite of application commands (``guild_id`` None = global)."""

    index: int
    guild_id: int | None
    commands: list[JSON]

    @property
    def names(self) -> list[str]:
        return [str(command["name"]) for command in self.commands]


@dataclass
class RecordedReaction:
    """A reaction the bot added or removed."""

    index: int
    action: Literal["add", "remove"]
    channel_id: int
    message_id: int
    emoji: str
    user_id: int
