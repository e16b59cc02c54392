"""Health and metrics over HTTP: ``/healthz``, ``/readyz`` and ``/metrics``.

Off by default; ``[web] enabled = true`` makes the bot run it as a worker (needs the ``web``
extra: aiohttp and prometheus-client).  Bind it to localhost or a private network: it has
no authentication.

``/healthz``
    200 while the process runs.
``/readyz``
    200 when the database answers ``SELECT 1`` and every enabled adapter is connected, else
    503; the JSON body names what is not ready (a platform still connecting, or failed and
    retrying with its log reference: the other platforms serve meanwhile).  An adapter
    says so with a ``connected`` attribute; one without it counts as connected once the bot
    is ready and its connection is up.  On PostgreSQL an
    instance standing by for another's connection (lease ``adapter:<platform>``) is ready:
    the platform is listed under ``standby``.
``/metrics``
    Prometheus text from the bot's own registry (:mod:`chatbot.web.metrics`).

Modules add their own routes with :func:`add_route` in their start-up hooks (which run
before the app is created): the core imports no feature module.  Those routes are the
public pages (the calendar feed): with ``[web] public_host`` set they are also served on a
second listener that has nothing else (but ``/healthz``), the one a reverse proxy
publishes, while the admin side stays on ``host:port``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from chatbot.base.logs import get_logger
from chatbot.dispatch.host import Host
from chatbot.web.metrics import Metrics

log = get_logger("chatbot.web.app")


class WebHost(Host, Protocol):
    """What the web app reads of the bot beyond :class:`Host`: readiness and metrics."""

    metrics: Metrics | None
    #: platforms whose connection is lease-managed, and those this instance runs now
    leased: set[str]
    connected: set[str]
    #: platforms whose connection is down (connecting, or failed and retrying), with why
    unavailable: dict[str, str]
    ready: asyncio.Event


BOT: web.AppKey[WebHost] = web.AppKey("bot")
METRICS = web.AppKey("metrics", Metrics)

#: seconds ``/readyz`` waits for the database
DB_TIMEOUT = 5.0
#: ``bot.services`` key of the routes modules add: a list of ``(method, path, handler)``
ROUTES = "web_routes"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_route(bot: Host, method: str, path: str, handler: Handler) -> None:
    """Serve ``handler`` at ``path`` in the app created from now on (``request.app[BOT]``
    is the bot); a second call for the same method and path changes nothing."""
    routes: list[tuple[str, str, Handler]] = bot.services.setdefault(ROUTES, [])
    if not any((m, p) == (method.upper(), path) for m, p, _h in routes):
        routes.append((method.upper(), path, handler))


def metrics_of(bot: WebHost) -> Metrics:
    """The bot's metrics, created on first use and hooked to the outbox if there is one."""
    if bot.metrics is None:
        bot.metrics = Metrics()
    outbox = bot.services.get("outbox")
    if outbox is not None and getattr(outbox, "on_sent", None) is None:
        outbox.on_sent = bot.metrics.observe_delivery
    return bot.metrics


def create_app(bot: WebHost, *, public: bool = False) -> web.Application:
    """The admin app (probes, metrics and the modules' pages), or with ``public`` the
    modules' pages only."""
    app = web.Application()
    app[BOT] = bot
    app[METRICS] = metrics_of(bot)
    app.router.add_get("/healthz", healthz)
    if not public:
        app.router.add_get("/readyz", readyz)
        app.router.add_get("/metrics", metrics)
    for method, path, handler in bot.services.get(ROUTES, []):
        app.router.add_route(method, path, handler)
    return app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    bot = request.app[BOT]
    problems: dict[str, str] = {}
    try:
        async with asyncio.timeout(DB_TIMEOUT), bot.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"
        problems["database"] = f"not answering ({type(exc).__name__})"
    standby: list[str] = []
    for platform, adapter in bot.adapters.items():
        if platform in bot.leased and platform not in bot.connected:
            standby.append(platform)  # another instance holds the connection
            continue
        down = bot.unavailable.get(platform)
        connected = getattr(adapter, "connected", None)
        if not isinstance(connected, bool):
            connected = bot.ready.is_set() and down is None
        if down is not None or not connected:
            problems[f"adapter:{platform}"] = f"not connected: {down}" if down else "not connected"
    body: dict[str, Any] = {"status": "ready" if not problems else "not ready"}
    if problems:
        body["problems"] = problems
    if standby:
        body["standby"] = standby
    return web.json_response(body, status=503 if problems else 200)


async def metrics(request: web.Request) -> web.Response:
    bot = request.app[BOT]
    found = request.app[METRICS]
    try:
        await found.refresh(bot.db, bot.clock.now())
    except Exception:
        log.exception("metrics_refresh_failed")  # serve the counters anyway
    response = web.Response(body=found.render())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


class WebServer:
    """The app served on ``[web] host:port`` while the bot runs (a bot worker), and the
    public one on ``public_host:public_port`` when that is set."""

    def __init__(self, bot: WebHost) -> None:
        self.bot = bot
        self.started = asyncio.Event()
        self.port: int | None = None
        self.public_port: int | None = None

    async def run(self) -> None:
        settings = self.bot.config.web
        runners: list[web.AppRunner] = []
        try:
            self.port = await self._serve(runners, False, settings.host, settings.port)
            if settings.public_host:
                self.public_port = await self._serve(
                    runners, True, settings.public_host, settings.public_port
                )
            self.started.set()
            await asyncio.Event().wait()
        finally:
            for runner in runners:
                await runner.cleanup()

    async def _serve(self, runners: list[web.AppRunner], public: bool, host: str, port: int) -> int:
        runner = web.AppRunner(create_app(self.bot, public=public), access_log=None)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, host, port).start()
        addresses = runner.addresses  # the bound port, when configured as 0
        bound = int(addresses[0][1]) if addresses else port
        log.info("web_listening", host=host, port=bound, side="public" if public else "admin")
        return bound


def enable_web(bot: WebHost) -> WebServer:
    """Count metrics from now on and serve the app once the bot is ready."""
    found = bot.services.get("web")
    if isinstance(found, WebServer):
        return found
    metrics_of(bot)
    server = WebServer(bot)
    bot.services["web"] = server
    bot.add_worker("web", server.run)
    return server
