"""The bot: owns the database, the adapters and the workers, and routes every message.

Routing order for one message: a dialogue in progress for (member, room) gets plain
answers; a message starting with the prefix is a command; anything else is ignored in rooms
and answered with a hint in direct messages.  Every failure ends in a reply: a
:class:`UserError` as its own message, anything else as a short reference to the log.
The texts of those replies (unknown command, missing subcommand, usage, flood notices) are
in :mod:`chatbot.runtime.routing_replies`.

Routing and the lifecycle (open, run, adapters and their retries, leases, workers, shutdown)
stay in this one class, in two sections: both read and write the same state (the adapters,
``connected``/``unavailable``, the flood guard, the services), and ``Bot`` is the one object
that satisfies :class:`~chatbot.dispatch.host.Host`; split into a mixin, that state would be
declared in one file and used in another, which reads worse than one class of ~450 lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chatbot.base.clock import Clock, SystemClock
from chatbot.base.errors import (
    ConfigError,
    InstanceLocked,
    NotPermitted,
    UserError,
    new_ref,
)
from chatbot.base.i18n import Msg, _, set_default_language
from chatbot.base.logs import get_logger
from chatbot.delivery.workers import instance_name
from chatbot.dispatch.answers import answer_key
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import DialogEngine
from chatbot.dispatch.host import QUESTION_HOOKS
from chatbot.dispatch.ratelimit import FloodGuard, Verdict
from chatbot.dispatch.registry import Command, Group, Level, Registry
from chatbot.messages.events import Incoming, Reply
from chatbot.runtime.replies import send_reply
from chatbot.runtime.routing_replies import (
    DIALOG_WORDS,
    flood_notice,
    group_help,
    unknown_command,
    user_error,
)
from chatbot.storage import Database
from chatbot.storage.members import MemberStore

if TYPE_CHECKING:
    from chatbot.base.config import Config
    from chatbot.dispatch.adapter import Adapter
    from chatbot.dispatch.registry import Module
    from chatbot.messages.events import Member, Room
    from chatbot.web.metrics import Metrics

log = get_logger("chatbot.runtime.bot")


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
        set_default_language(config.bot.language)
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
        #: platforms whose connection is down, with why (``/readyz``): connecting for the
        #: first time, or failed and retrying
        self.unavailable: dict[str, str] = {}
        self._starts: dict[str, int] = {}
        #: seconds before the first retry of a failed adapter, doubling up to the cap
        self.retry_first = 1.0
        self.retry_cap = 60.0
        #: seconds the bot waits for its adapters to connect before it is ready anyway
        self.ready_patience = 30.0
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
        await self.members.links.load()
        self.add_worker("member-links", self.members.links.keep_fresh)
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
        """Serve until :meth:`stop`; every adapter runs in one task group.

        A stop is heard at any moment, also while an adapter is still connecting, and the
        bot is down within ``[outbox] shutdown_grace`` seconds (plus the adapters' own
        brief clean-up).  The bot is *ready* (its workers start) once every adapter has
        connected, has failed once (it retries in the background), or has had
        :attr:`ready_patience` seconds to connect; ``/readyz`` names each platform that is
        not connected, so one platform down never holds up the others.
        """
        await self.open()
        try:
            async with asyncio.TaskGroup() as tg:
                started = {platform: asyncio.Event() for platform in self.adapters}
                self.unavailable.update(dict.fromkeys(self.adapters, "connecting"))
                serving = {
                    platform: tg.create_task(
                        self._keep_serving(adapter, started[platform]),
                        name=f"adapter-{platform}",
                    )
                    for platform, adapter in self.adapters.items()
                }
                workers: list[asyncio.Task[None]] = []
                if await self._wait_started(list(started.values())):
                    workers = [tg.create_task(work(), name=name) for name, work in self._workers]
                    self.ready.set()
                    log.info(
                        "ready",
                        adapters=list(self.adapters),
                        unavailable=sorted(self.unavailable) or None,
                        commands=len(self.registry.all_commands()),
                    )
                    # after "ready", and a moment later: the thread competes for the
                    # interpreter with whatever start-up still finishes
                    asyncio.get_running_loop().call_later(WARM_UP_DELAY, _warm_up_places)
                    await self._stop.wait()
                await self._shut_down(workers, serving)
        except ExceptionGroup as group:
            # a config error in an adapter (a missing token): one clear message, exit code 2
            fatal = group.subgroup((ConfigError, InstanceLocked))
            if fatal is None:
                raise
            raise _first(fatal) from None
        finally:
            await self.close()
            log.info("stopped")

    async def _wait_started(self, started: list[asyncio.Event]) -> bool:
        """Until every adapter has started (or failed once), or :attr:`ready_patience` is
        over; False if the bot was told to stop meanwhile."""

        async def everyone() -> None:
            for event in started:
                await event.wait()

        stop = asyncio.ensure_future(self._stop.wait())
        all_started = asyncio.ensure_future(everyone())
        try:
            await asyncio.wait(
                [stop, all_started], timeout=self.ready_patience, return_when="FIRST_COMPLETED"
            )
        finally:
            stop.cancel()
            all_started.cancel()
        return not self._stop.is_set()

    async def _shut_down(
        self, workers: list[asyncio.Task[None]], serving: dict[str, asyncio.Task[None]]
    ) -> None:
        """Workers first, while the connections are still up (the outbox finishes the sends
        in flight instead of failing them), then the adapters; whatever is still running
        when ``shutdown_grace`` is over (a connection attempt that hangs) is cancelled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.outbox.shutdown_grace

        def left() -> float:
            return max(deadline - loop.time(), 0.0)

        for task in workers:
            task.cancel()
        if workers:
            await asyncio.wait(workers, timeout=left())
        for platform, task in serving.items():
            if platform in self.leased and platform not in self.connected:
                task.cancel()  # a standby: nothing to stop but the wait for its lease
        stops = [
            asyncio.ensure_future(adapter.stop())
            for platform, adapter in self.adapters.items()
            if not serving[platform].done()
        ]
        running = [task for task in serving.values() if not task.done()]
        if running:
            await asyncio.wait(running, timeout=left())
        for future in [*stops, *serving.values()]:
            if not future.done():
                future.cancel()
        if stops:
            await asyncio.wait(stops)

    async def _keep_serving(self, adapter: Adapter, started: asyncio.Event) -> None:
        """Run one adapter; if it fails, log it with a reference and try again after a
        capped exponential backoff, while the other adapters serve.  A config error is not
        retried (it stops the bot: restarting will not fix it)."""
        platform = adapter.platform
        delay = self.retry_first
        while not self._stop.is_set():
            starts = self._starts.get(platform, 0)
            try:
                await self._serve(adapter, started)
            except (ConfigError, InstanceLocked):
                raise
            except Exception as exc:
                if self._stop.is_set():
                    return
                if self._starts.get(platform, 0) > starts:
                    delay = self.retry_first  # it had connected: a new failure, a new backoff
                ref = new_ref()
                log.exception(
                    "adapter_failed", platform=platform, ref=ref, retry_in=round(delay, 1)
                )
                self.unavailable[platform] = (
                    f"failed ({type(exc).__name__}, ref {ref}); retrying in {delay:g} s"
                )
                started.set()  # failed once: the others need not wait for it to be ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, self.retry_cap)
                continue
            # an adapter that ends by itself (the console at end of input) ends the bot
            started.set()
            self._stop.set()
            return

    async def _serve(self, adapter: Adapter, started: asyncio.Event) -> None:
        if self.db.is_sqlite or getattr(adapter, "shared_connection", False) is True:
            await self._connect(adapter, started)
        else:
            await self._serve_leased(adapter, started)

    async def _connect(self, adapter: Adapter, started: asyncio.Event) -> None:
        """Run the adapter, keeping :attr:`connected` up to date."""
        platform = adapter.platform

        def on_started() -> None:
            self.connected.add(platform)
            self.unavailable.pop(platform, None)
            self._starts[platform] = self._starts.get(platform, 0) + 1
            started.set()
            outbox = self.services.get("outbox")
            if outbox is not None:
                outbox.wake()  # rows may have waited for this connection

        try:
            await adapter.run(self, on_started)
        finally:
            if platform in self.connected:
                self.connected.discard(platform)
                self.unavailable.setdefault(platform, "disconnected")

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
        there): on SQLite while it is up, on PostgreSQL only while holding its lease."""
        if platform in self.unavailable:
            return False
        return platform not in self.leased or platform in self.connected

    def adapter_config(self, platform: str) -> dict[str, Any]:
        return self.config.adapters.get(platform, {})

    # -- routing ---------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> None:
        """Answer one message; never raises (errors become replies)."""
        adapter = self.adapters[incoming.platform]
        members = self.members
        if members.links.any_linked:  # else nobody to identify: spared a coroutine
            try:
                incoming = await members.identify(incoming)
            except Exception:  # the database is away: answer as the account alone
                log.exception("identify_failed", ref=new_ref(), member=incoming.member.id)
        ctx = Context(self, incoming, adapter)
        metrics = self.metrics
        try:
            reply = await self._route(ctx)
        except UserError as exc:
            reply = user_error(self.prefix, ctx.command, exc)
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
                _(
                    "Sorry, something broke on my side (ref {ref}). "
                    "Please tell an organiser and quote that reference.",
                    ref=ref,
                )
            )
        if metrics is not None:
            metrics.messages.inc()
            if ctx.command is not None:
                metrics.command(ctx.command.qualified_name)
        if reply is not None:
            await send_reply(ctx, reply)

    async def _route(self, ctx: Context) -> Reply | None:
        """Pick the path (dialogue answer, command, question); every path that answers
        counts against the member's and the room's flood budget, ignored chatter not."""
        incoming = ctx.incoming
        text = incoming.text
        prefix = self.prefix
        member_id, room_id = incoming.member.id, incoming.room.id
        in_dialog = (member_id, room_id) in self.dialogs.open_keys  # .active(), inline
        if text.startswith(prefix):
            body = text[len(prefix) :]
            words = body.split(None, 1)  # split_name, inline: "tz set lagos" -> tz, set lagos
            if not words or body[:1].isspace() or not words[0][0].isalnum():
                return None  # "!!!" or "! wow": not talking to us
            name = words[0].casefold()
            raw = words[1] if len(words) > 1 else ""
            if incoming.platform not in self.flood_exempt:
                verdict = self.flood.check(member_id, room_id)
                if verdict is not Verdict.ALLOW:
                    return flood_notice(verdict)
            if in_dialog and not raw.strip() and answer_key(name) in DIALOG_WORDS:
                return await self.dialogs.feed(ctx, name)
            # the command, inline (one coroutine fewer on every message)
            resolved = self.registry.resolve(name, raw)
            if resolved is None:
                return unknown_command(self.registry, prefix, name)
            if isinstance(resolved, Group):
                return group_help(self.registry, prefix, resolved, raw)
            cmd = resolved.command
            ctx.command = cmd
            if cmd.level is not Level.MEMBER:
                await self.check_level(ctx, cmd)
            # nothing to read (!ping, !meetings): no coroutine to parse nothing
            has_args = cmd.params or resolved.tokens
            args = await cmd.parse(ctx, resolved.raw, resolved.tokens) if has_args else {}
            result = await cmd.handler(ctx, **args)
            if result is None:
                return None
            cls = result.__class__  # not isinstance(result, Msg): slow for a Reply
            if cls is str or cls is Msg:
                return Reply((result,), private=cmd.private)
            assert isinstance(result, Reply)
            return result
        if not (in_dialog or incoming.room.is_direct or incoming.mentions_bot):
            return None
        if incoming.platform not in self.flood_exempt:
            verdict = self.flood.check(member_id, room_id)
            if verdict is not Verdict.ALLOW:
                return flood_notice(verdict)
        if in_dialog:
            return await self.dialogs.feed(ctx, text)
        return await self.on_question(ctx, text)

    async def on_question(self, ctx: Context, text: str) -> Reply | None:
        """Plain text in a DM or a mention, or ``!ask``: a module that recognises the
        question answers it (:data:`~chatbot.dispatch.host.QUESTION_HOOKS`), else the
        knowledge base when it is enabled."""
        for hook in self.services.get(QUESTION_HOOKS, ()):
            found: Reply | None = await hook(ctx, text)
            if found is not None:
                return found
        answer = self.services.get("questions")
        if answer is not None:
            result: Reply | None = await answer(ctx, text)
            return result
        return Reply.of(_("Type `{prefix}help` to see what I can do.", prefix=self.prefix))

    async def check_level(self, ctx: Context, cmd: Command) -> None:
        if cmd.level is Level.MEMBER:
            return
        level = await self.level_of(ctx.member, ctx.room, ctx.adapter)
        ctx.level = level
        if level < cmd.level:
            name = f"{self.prefix}{cmd.qualified_name}"
            raise NotPermitted(
                _("Only organisers can use `{command}`.", command=name)
                if cmd.level is Level.ORGANISER
                else _("Only bot admins can use `{command}`.", command=name)
            )

    async def level_of(self, member: Member, room: Room, adapter: Adapter) -> Level:
        """Checked on every call: config allow-lists, then the platform's own powers."""
        if member.id in self.admins:
            return Level.ADMIN
        if member.id in self.organisers or await adapter.is_organiser(member, room):
            return Level.ORGANISER
        return Level.MEMBER


#: seconds after ready before the places index and date-phrase languages are warmed up
WARM_UP_DELAY = 1.0


def _warm_up_places() -> None:
    """Load (or, after an install, build: seconds of CPU) the places index in a thread once
    ready, so the first ``!tz set`` or zone autocompletion does not stall the event loop; then
    dateparser and its five languages (about 0.5 s), so that the first phrase in Spanish or
    French does not wait for them.  A daemon thread: stopping the bot never waits for it (the
    cache file is written atomically, so an interrupted build leaves nothing half-made)."""
    import threading

    def warm() -> None:
        from chatbot.time.parse import warm_up as warm_up_dates
        from chatbot.time.zones import warm_up

        try:
            warm_up()
        except Exception:  # a member's first !tz set will try again and say what is wrong
            log.exception("places_warm_up_failed", ref=new_ref())
        try:
            warm_up_dates()
        except Exception:  # the first phrase that needs it will try again
            log.exception("dates_warm_up_failed", ref=new_ref())

    threading.Thread(target=warm, name="places-warm-up", daemon=True).start()


def _first(group: BaseExceptionGroup[Exception]) -> Exception:
    found = group.exceptions[0]
    return _first(found) if isinstance(found, BaseExceptionGroup) else found
