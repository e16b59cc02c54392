"""The bot: owns the database, the adapters and the workers, and routes every message.

Routing order for one message: a dialogue in progress for (member, room) gets plain
answers; a message starting with the prefix is a command; anything else is ignored in rooms
and answered with a hint in direct messages.  Every failure ends in a reply: a
:class:`UserError` as its own message, anything else as a short reference to the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chatbot.base.clock import Clock, SystemClock
from chatbot.base.errors import BadArgument, NotPermitted, UserError, new_ref
from chatbot.base.logs import get_logger
from chatbot.delivery.workers import instance_name
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import DialogEngine
from chatbot.dispatch.ratelimit import FloodGuard, Verdict
from chatbot.dispatch.registry import Command, Group, Level, Registry
from chatbot.messages.events import Incoming, Outgoing, Reader, Reply
from chatbot.storage import Database
from chatbot.storage.members import MemberStore

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Adapter
    from chatbot.dispatch.registry import Module
    from chatbot.messages.events import Member, Room
    from chatbot.web.metrics import Metrics

log = get_logger("chatbot.runtime.bot")

FLOOD_NOTICE = (
    "You're sending commands faster than I can answer. Give me a few seconds, then try again."
)


class Bot:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        adapters: list[Adapter] | None = None,
        modules: list[Module] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.prefix = config.bot.prefix
        self.db = Database(config.database_url(), self.clock)
        self.members = MemberStore(self.db)
        self.dialogs = DialogEngine(timedelta(days=config.dialogs.expire_after_days))
        self.registry = Registry()
        rl = config.ratelimit
        self.flood = FloodGuard(
            self.clock, rl.member_rate, rl.member_burst, rl.room_rate, rl.room_burst
        )
        self.flood_exempt = frozenset(rl.exempt_platforms)
        self.admins = frozenset(config.permissions.admins)
        self.organisers = frozenset(config.permissions.organisers)
        self.adapters: dict[str, Adapter] = {}
        self.services: dict[str, Any] = {}
        #: this instance's name in leases and claims (several instances on PostgreSQL)
        self.instance = config.instances.name or instance_name()
        #: platforms whose connection is lease-managed (PostgreSQL), and of those, the ones
        #: this instance runs now; see :meth:`owns_connection`
        self.leased: set[str] = set()
        self.connected: set[str] = set()
        #: counters for ``/metrics``; ``None`` (nothing counted) unless ``[web]`` is enabled
        self.metrics: Metrics | None = None
        self._workers: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []
        self._stop = asyncio.Event()
        self.ready = asyncio.Event()
        for module in modules or []:
            self.registry.add_module(module)
            for dialog in module.dialogs:
                self.dialogs.register(dialog)
        for adapter in adapters or []:
            self.adapters[adapter.platform] = adapter

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Take the instance lock (SQLite), migrate the schema, load durable state, run the
        modules' start-up hooks."""
        self.db.lock_instance()
        locations = [m.migrations for m in self.registry.modules.values() if m.migrations]
        await self.db.upgrade(locations)
        await self.dialogs.load(self.db)
        for module in self.registry.modules.values():
            for hook in module.startup_hooks:
                await hook(self)
        if self.config.web.enabled:
            from chatbot.web.app import enable_web

            enable_web(self)

    async def close(self) -> None:
        await self.db.close()

    def stop(self) -> None:
        self._stop.set()

    def add_worker(self, name: str, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work()`` in the bot's task group once every adapter is ready (the scheduler,
        the outbox sender, the web app).  It is cancelled at shutdown; if it fails, the bot
        stops rather than run without it."""
        self._workers.append((name, work))

    async def run(self) -> None:
        """Serve until :meth:`stop`; every adapter runs in one task group."""
        await self.open()
        try:
            async with asyncio.TaskGroup() as tg:
                started = [asyncio.Event() for _ in self.adapters]
                serving: dict[str, asyncio.Task[None]] = {}
                for adapter, event in zip(self.adapters.values(), started, strict=True):
                    serving[adapter.platform] = tg.create_task(
                        self._serve(adapter, event), name=f"adapter-{adapter.platform}"
                    )
                for event in started:
                    await event.wait()
                workers = [tg.create_task(work(), name=name) for name, work in self._workers]
                self.ready.set()
                log.info(
                    "ready",
                    adapters=list(self.adapters),
                    commands=len(self.registry.all_commands()),
                )
                await self._stop.wait()
                # workers first, while the connections are still up: the outbox finishes the
                # sends in flight (within its shutdown grace) instead of failing them
                for task in workers:
                    task.cancel()
                if workers:
                    await asyncio.wait(workers)
                for adapter in self.adapters.values():
                    await adapter.stop()
                for platform, task in serving.items():
                    if platform in self.leased and platform not in self.connected:
                        task.cancel()  # a standby: nothing to stop but the wait for its lease
        finally:
            await self.close()
            log.info("stopped")

    async def _serve(self, adapter: Adapter, started: asyncio.Event) -> None:
        if self.db.is_sqlite or getattr(adapter, "shared_connection", False) is True:
            await self._connect(adapter, started)
        else:
            await self._serve_leased(adapter, started)
        started.set()
        # an adapter that ends by itself (the console at end of input) ends the bot
        self._stop.set()

    async def _connect(self, adapter: Adapter, started: asyncio.Event) -> None:
        """Run the adapter, keeping :attr:`connected` up to date."""
        platform = adapter.platform

        def on_started() -> None:
            self.connected.add(platform)
            started.set()
            outbox = self.services.get("outbox")
            if outbox is not None:
                outbox.wake()  # rows may have waited for this connection

        try:
            await adapter.run(self, on_started)
        finally:
            self.connected.discard(platform)

    async def _serve_leased(self, adapter: Adapter, started: asyncio.Event) -> None:
        """Several instances on PostgreSQL: only the holder of the lease
        ``adapter:<platform>`` runs the connection; the others are ready (their workers run)
        and take it over once the holder's lease runs out."""
        from chatbot.delivery.leases import Leases

        platform = adapter.platform
        settings = self.config.instances
        leases = Leases(self.db, clock=self.clock, holder=self.instance)
        name = f"adapter:{platform}"
        self.leased.add(platform)
        if not await leases.acquire(name, settings.lease_seconds):
            log.info("standby", platform=platform, holder=await leases.holder_of(name))
            started.set()
        await leases.hold(
            name,
            lambda: self._connect(adapter, started),
            ttl=settings.lease_seconds,
            renew=settings.renew_seconds,
        )

    def owns_connection(self, platform: str) -> bool:
        """Whether this instance runs ``platform``'s connection now (so the outbox may send
        there): always on SQLite, only while holding its lease on PostgreSQL."""
        return platform not in self.leased or platform in self.connected

    def adapter_config(self, platform: str) -> dict[str, Any]:
        return self.config.adapters.get(platform, {})

    # -- routing ---------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> None:
        """Answer one message; never raises (errors become replies)."""
        adapter = self.adapters[incoming.platform]
        ctx = Context(self, incoming, adapter)
        metrics = self.metrics
        try:
            reply = await self._route(ctx)
        except UserError as exc:
            reply = self._user_error(ctx, exc)
            if metrics is not None:
                metrics.error("user")
        except Exception:
            if metrics is not None:
                metrics.error("internal")
            ref = new_ref()
            log.exception(
                "handler_failed",
                ref=ref,
                room=incoming.room.id,
                member=incoming.member.id,
                command=ctx.command.qualified_name if ctx.command else None,
            )
            reply = Reply.of(
                f"Sorry, something broke on my side (ref {ref}). "
                "Please tell an organiser and quote that reference."
            )
        if metrics is not None:
            metrics.messages.inc()
            if ctx.command is not None:
                metrics.command(ctx.command.qualified_name)
        if reply is not None:
            await self.send_reply(ctx, reply)

    async def _route(self, ctx: Context) -> Reply | None:
        text = ctx.incoming.text
        prefix = self.prefix
        member_id, room_id = ctx.member.id, ctx.room.id
        if text.startswith(prefix):
            body = text[len(prefix) :]
            name, raw = _split_name(body)
            if not name or not name[0].isalnum():
                return None  # "!!!" or "! wow": not talking to us
            if (
                name in _DIALOG_WORDS
                and not raw.strip()
                and self.dialogs.active(member_id, room_id)
            ):
                return await self.dialogs.feed(ctx, name)
            return await self._command(ctx, name, raw)
        if self.dialogs.active(member_id, room_id):
            return await self.dialogs.feed(ctx, text)
        if ctx.room.is_direct or ctx.incoming.mentions_bot:
            return await self.on_question(ctx, text)
        return None

    async def on_question(self, ctx: Context, text: str) -> Reply | None:
        """Plain text in a DM or a mention: the knowledge base answers when it is enabled."""
        answer = self.services.get("questions")
        if answer is not None:
            result: Reply | None = await answer(ctx, text)
            return result
        return Reply.of(f"Type `{self.prefix}help` to see what I can do.")

    async def _command(self, ctx: Context, name: str, raw: str) -> Reply | None:
        verdict = (
            Verdict.ALLOW
            if ctx.incoming.platform in self.flood_exempt
            else self.flood.check(ctx.member.id, ctx.room.id)
        )
        if verdict is not Verdict.ALLOW:
            return Reply.of(FLOOD_NOTICE, private=True) if verdict is Verdict.NOTIFY else None
        resolved = self.registry.resolve(name, raw)
        if resolved is None:
            return self._unknown(name)
        if isinstance(resolved, Group):
            return self._group_help(resolved, ctx, raw)
        cmd = resolved.command
        ctx.command = cmd
        await self.check_level(ctx, cmd)
        args = await cmd.parse(ctx, resolved.raw, resolved.tokens)
        result = await cmd.handler(ctx, **args)
        if result is None:
            return None
        if result.__class__ is str:
            return Reply((result,), private=cmd.private)
        assert isinstance(result, Reply)
        return result

    async def check_level(self, ctx: Context, cmd: Command) -> None:
        if cmd.level is Level.MEMBER:
            return
        level = await self.level_of(ctx.member, ctx.room, ctx.adapter)
        ctx.level = level
        if level < cmd.level:
            who = "organisers" if cmd.level is Level.ORGANISER else "bot admins"
            raise NotPermitted(
                f"Only {who} can use `{self.prefix}{cmd.qualified_name}`.", markdown=True
            )

    async def level_of(self, member: Member, room: Room, adapter: Adapter) -> Level:
        """Checked on every call: config allow-lists, then the platform's own powers."""
        if member.id in self.admins:
            return Level.ADMIN
        if member.id in self.organisers or await adapter.is_organiser(member, room):
            return Level.ORGANISER
        return Level.MEMBER

    def _unknown(self, name: str) -> Reply:
        shown = name if len(name) <= 30 else name[:29] + "…"
        from chatbot.messages.events import Plain

        guess = self.registry.suggest(name)
        hint = f" Did you mean `{self.prefix}{guess}`?" if guess else ""
        return Reply.of(
            "I don't know the command ",
            Plain(f"{self.prefix}{shown}"),
            f".{hint} ",
            f"Type `{self.prefix}help` to see what I can do.",
        )

    def _group_help(self, group: Group, ctx: Context, raw: str) -> Reply:
        from chatbot.dispatch.converters import split_args
        from chatbot.messages.events import Plain

        tokens = split_args(raw)
        subs = sorted({c.name for c in group.subcommands.values()})
        listing = ", ".join(f"`{s}`" for s in subs)
        if tokens:
            guess = self.registry.suggest(tokens[0].text, subs)
            hint = f" Did you mean `{self.prefix}{group.name} {guess}`?" if guess else ""
            return Reply.of(
                f"`{self.prefix}{group.name}` has no subcommand ",
                Plain(tokens[0].text[:30]),
                f".{hint} It has: {listing}.",
            )
        return Reply.of(
            f"`{self.prefix}{group.name}` needs a subcommand: {listing}. "
            f"See `{self.prefix}help {group.name}`."
        )

    def _user_error(self, ctx: Context, exc: UserError) -> Reply:
        from chatbot.messages.events import Plain

        if isinstance(exc, BadArgument) and ctx.command is not None:
            usage = ctx.command.usage(self.prefix)
            return Reply.of(
                Plain(exc.message),
                f"\nUsage: `{usage}` (more: `{self.prefix}help {ctx.command.qualified_name}`)",
                private=True,
            )
        return Reply.of(exc.message if exc.markdown else Plain(exc.message), private=True)

    # -- sending ---------------------------------------------------------------------------

    async def send_reply(self, ctx: Context, reply: Reply) -> None:
        reader = _NOBODY
        if reply.has_times:
            prefs = await ctx.prefs()
            reader = Reader(prefs.zone, prefs.lang)
        out = Outgoing(ctx.room, reply, reader, in_reply_to=ctx.incoming, sent_at=ctx.now())
        try:
            if reply.direct and not ctx.room.is_direct and ctx.adapter.capabilities.direct_messages:
                sent = await ctx.adapter.send_direct(ctx.member, out)
                note = (
                    "I've sent you a direct message."
                    if sent is not None
                    else "I couldn't send you a direct message: do you accept messages from "
                    "members of this server or room? Allow them and ask again."
                )
                await ctx.adapter.send(
                    Outgoing(
                        ctx.room,
                        Reply.of(note, private=True),
                        reader,
                        in_reply_to=ctx.incoming,
                        sent_at=out.sent_at,
                    )
                )
                return
            await ctx.adapter.send(out)
        except Exception:
            # the platform refused or failed: there is nobody left to tell but the log
            log.exception("send_failed", ref=new_ref(), room=ctx.room.id, member=ctx.member.id)


_NOBODY = Reader()
_DIALOG_WORDS = frozenset({"cancel", "back", "skip", "help"})


def _split_name(body: str) -> tuple[str, str]:
    """``"tz set lagos"`` → (``"tz"``, ``"set lagos"``), splitting on any whitespace."""
    parts = body.split(None, 1)
    if not parts or body[:1].isspace():
        return "", ""
    return parts[0].casefold(), parts[1] if len(parts) > 1 else ""
