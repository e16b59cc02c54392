"""Injected interactions: building Discord-shaped payloads and awaiting the bot's answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.discord_fake.models import JSON, Channel, Member, Role, User
from tests.discord_fake.records import InteractionResponse, RecordedMessage

if TYPE_CHECKING:
    from tests.discord_fake.server import FakeDiscord

# Interaction types
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback (response) types
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Application command option types
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

OptionValue = str | int | float | bool | User | Member | Role | Channel
ModalValue = str | list[str] | bool | None


@dataclass(eq=False)
class PendingInteraction:
    """An INTERACTION_CREATE the fake dispatched; await the bot's answer through it."""

    fake: FakeDiscord
    id: int
    token: str
    type: int
    payload: JSON
    channel_id: int
    guild_id: int | None
    user: User
    created: float
    responses: list[InteractionResponse] = field(default_factory=list)
    original_message_id: int | None = None
    original_loading: bool = False
    followup_ids: list[int] = field(default_factory=list)

    @property
    def data(self) -> JSON:
        value = self.payload.get("data")
        return value if isinstance(value, dict) else {}

    @property
    def messages(self) -> list[RecordedMessage]:
        """Every message record (create/edit/delete) tied to this interaction, in order."""
        return [m for m in self.fake.sent if m.interaction_id == self.id]

    async def wait_for_response(self, timeout: float = 5.0) -> InteractionResponse:  # noqa: ASYNC109
        """The bot's (first accepted) callback for this interaction."""
        return await self.fake.wait_for_interaction_response(
            interaction_id=self.id, timeout=timeout
        )

    async def wait_for_followup(self, index: int = 0, timeout: float = 5.0) -> RecordedMessage:  # noqa: ASYNC109
        """The ``index``-th followup message (POST /webhooks/{app_id}/{token})."""

        def find() -> RecordedMessage | None:
            followups = [
                m for m in self.messages if m.source == "followup" and m.action == "create"
            ]
            return followups[index] if len(followups) > index else None

        return await self.fake.wait_until(
            find, timeout, f"followup #{index} of interaction {self.id}"
        )

    async def wait_for_edit(self, index: int = 0, timeout: float = 5.0) -> RecordedMessage:  # noqa: ASYNC109
        """The ``index``-th edit of a message of this interaction (usually @original)."""

        def find() -> RecordedMessage | None:
            edits = [m for m in self.messages if m.action == "edit"]
            return edits[index] if len(edits) > index else None

        return await self.fake.wait_until(find, timeout, f"edit #{index} of interaction {self.id}")


def option_type_of(value: OptionValue) -> int:
    """The option type Discord would use for a Python value when no schema is known."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, User | Member):
        return USER
    if isinstance(value, Role):
        return ROLE
    if isinstance(value, Channel):
        return CHANNEL
    return STRING


def find_schema_options(
    command: JSON | None, group: str | None, subcommand: str | None
) -> list[JSON] | None:
    """The option definitions of the leaf (sub)command, or None without a schema."""
    if command is None:
        return None
    options: list[JSON] = list(command.get("options") or [])
    for name, kind in ((group, SUB_COMMAND_GROUP), (subcommand, SUB_COMMAND)):
        if name is None:
            continue
        parent = next((o for o in options if o.get("name") == name and o.get("type") == kind), None)
        if parent is None:
            return None
        options = list(parent.get("options") or [])
    return options


def nest_options(leaf: list[JSON], group: str | None, subcommand: str | None) -> list[JSON]:
    """Wrap leaf options in subcommand / subcommand-group options as Discord sends them."""
    if subcommand is None:
        if group is not None:
            raise ValueError("a subcommand group needs a subcommand")
        return leaf
    options: list[JSON] = [{"type": SUB_COMMAND, "name": subcommand, "options": leaf}]
    if group is not None:
        options = [{"type": SUB_COMMAND_GROUP, "name": group, "options": options}]
    return options


def modal_submit_components(modal: JSON | None, values: Mapping[str, ModalValue]) -> list[JSON]:
    """Modal-submit components mirroring the modal's layout (or plain rows of text inputs)."""
    if modal is None:
        return [
            {"type": 1, "components": [{"type": 4, "custom_id": custom_id, "value": value}]}
            for custom_id, value in values.items()
        ]
    return [c for c in (_submit_component(c, values) for c in modal.get("components", [])) if c]


def _submit_component(component: JSON, values: Mapping[str, ModalValue]) -> JSON | None:
    kind = component.get("type")
    out: JSON = {"type": kind}
    if "id" in component:
        out["id"] = component["id"]
    if kind == 1:
        inner = [_submit_component(c, values) for c in component.get("components", [])]
        out["components"] = [c for c in inner if c]
        return out
    if kind == 18:
        child = component.get("component")
        item = _submit_component(child, values) if isinstance(child, dict) else None
        if item is None:
            return None
        out["component"] = item
        return out
    if kind == 10:
        out["content"] = component.get("content", "")
        return out
    custom_id = component.get("custom_id")
    if custom_id is None:
        return None
    out["custom_id"] = custom_id
    value = values.get(custom_id)
    if kind == 4:
        out["value"] = value if isinstance(value, str) else str(component.get("value") or "")
    elif kind in (3, 5, 6, 7, 8, 19, 22):
        out["values"] = list(value) if isinstance(value, list) else []
    elif kind == 21:
        out["value"] = value if isinstance(value, str) else None
    elif kind == 23:
        out["value"] = bool(value)
    else:
        return None
    return out


def component_type_in(message: JSON, custom_id: str) -> int | None:
    """The type of the component with ``custom_id`` anywhere in a message."""

    def walk(items: Sequence[Any]) -> int | None:
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("custom_id") == custom_id:
                return int(item["type"])
            for key in ("components", "accessory", "component"):
                child = item.get(key)
                children = child if isinstance(child, list) else [child]
                found = walk(children)
                if found is not None:
                    return found
        return None

    return walk(message.get("components", []))
