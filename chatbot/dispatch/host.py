"""What the core offers a command module, as a protocol: the bot as its features see it.

Command modules (their handlers through :class:`~chatbot.dispatch.registry.Context`, their
start-up, ``mydata`` and ``forgetme`` hooks directly) see only these members, never the
runtime's ``Bot`` class, so a feature cannot reach the runtime's internals and the core's
layers need no import of the runtime.  ``chatbot.runtime.bot.Bot`` satisfies it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chatbot.base.clock import Clock
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Adapter
    from chatbot.dispatch.dialogs import DialogEngine
    from chatbot.dispatch.registry import Level, Registry
    from chatbot.messages.events import Incoming, Member, Reply, Room
    from chatbot.storage import Database
    from chatbot.storage.members import MemberStore


#: ``services`` key: a list of ``async fn(ctx, text) -> Reply | None`` that modules add; a
#: question (``!ask``, a DM, a mention) goes to each in turn before the knowledge base, so a
#: module that recognises one ("when is the next meeting?") answers it from its own data
QUESTION_HOOKS = "question_hooks"


class Host(Protocol):
    """The running bot, narrowed to what features use."""

    #: the command prefix (``!``), for replies that name a command
    prefix: str
    config: Config
    clock: Clock
    #: the shared database: ``async with host.db.session() as s`` (one transaction)
    db: Database
    #: members' stored preferences (zone, language)
    members: MemberStore
    dialogs: DialogEngine
    registry: Registry
    #: the connected platforms by name (``matrix``, ``discord``, ``console``)
    adapters: dict[str, Adapter]
    #: services modules share by name (``outbox``, ``scheduler``, ``questions``, …)
    services: dict[str, Any]
    #: this instance's name in leases and claims
    instance: str

    async def handle(self, incoming: Incoming) -> None: ...

    async def on_question(self, ctx: Any, text: str) -> Reply | None:
        """Answer a question in plain words: the modules' question hooks, then the
        knowledge base.  ``ctx`` is the handler's ``Context`` (typed ``Any``: the context
        sits above this protocol)."""
        ...

    async def level_of(self, member: Member, room: Room, adapter: Adapter) -> Level: ...

    def add_worker(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None: ...

    def adapter_config(self, platform: str) -> dict[str, Any]: ...

    def owns_connection(self, platform: str) -> bool: ...
