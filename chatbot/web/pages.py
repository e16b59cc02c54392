"""Server-rendered public pages: one Jinja2 environment per feature (autoescape on), the
page's language, shared static files, safe response headers and a short-lived page cache.

Features keep their templates next to their code and get an environment with
:func:`environment`; their templates extend ``base.html`` from here.  Jinja2 and Babel are
imported only when the first page is rendered (start-up stays light).

Text in templates goes through ``_()`` (``_("Signed in as %(name)s.", name=me)``) and
``ngettext()`` (``ngettext("%(num)s case study", "%(num)s case studies", n)``): Jinja2's i18n
extension, fed from the bot's own message catalogs (:mod:`chatbot.base.i18n`), so a page and a
chat reply say the same thing in the same words; ``python -m chatbot.messages.catalogs update``
extracts the templates' texts too.  Each language has its own environment (its ``_`` installed
in it); the translated text is plain text, escaped like any value (a translation, or a
database value passed through ``_()``, can never inject markup).  The page's language (dates,
texts, ``<html lang>``) is negotiated from ``?lang=``, then the ``lang`` cookie, then
``Accept-Language``, among :data:`LANGUAGES`.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from chatbot.base.config import Config
from chatbot.base.i18n import Msg, catalog, message_language
from chatbot.dispatch.host import Host
from chatbot.messages.localise import text_in
from chatbot.web.app import BOT, add_route

if TYPE_CHECKING:
    import jinja2

T = TypeVar("T")

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: the languages a page can be shown in (dates through Babel; texts once catalogs exist)
LANGUAGES: tuple[str, ...] = ("en", "de", "es", "fr", "id", "pt")
LANG_COOKIE = "lang"
#: seconds a rendered public page is reused (features clear the cache when they change data)
PAGE_TTL = 10.0
#: most pages kept (searches make new keys; the oldest go first)
PAGE_CACHE_SIZE = 512

#: what every page may load: its own styles and scripts, nothing inline, never framed
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: ``bot.services`` key of the pages in the navigation: ``[(href, label)]``
NAV = "web_nav"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}


class Translations:
    """A page's gettext functions in one language, from the bot's catalogs: each returns
    plain text with ``%(name)s`` values filled in (escaped later, with the rest of the page)."""

    def __init__(self, lang: str) -> None:
        self.catalog = catalog(message_language(lang))

    def gettext(self, text: str, **values: Any) -> str:
        return _fill(self.catalog.gettext(text), values)

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        values.setdefault("num", n)
        return _fill(self.catalog.ngettext(singular, plural, n), values)

    def pgettext(self, context: str, text: str, **values: Any) -> str:
        return _fill(self.catalog.pgettext(context, text), values)

    def npgettext(self, context: str, singular: str, plural: str, n: int, **values: Any) -> str:
        values.setdefault("num", n)
        return _fill(self.catalog.npgettext(context, singular, plural, n), values)


def _fill(text: str, values: Mapping[str, Any]) -> str:
    return text % values if values else text


def translations_for(lang: str) -> Callable[..., str]:
    """The ``_()`` of a page in ``lang`` (for text a route builds in Python)."""
    return Translations(lang).gettext


@lru_cache(maxsize=64)
def environment(*folders: Path, lang: str = "en") -> jinja2.Environment:
    """An environment for pages in ``lang``, loading from ``folders`` then the shared
    templates; autoescape on for every template (HTML and XML alike), undefined names are
    errors, ``_`` and ``ngettext`` translate into ``lang``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*(str(f) for f in folders), str(TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    tr = Translations(lang)
    # old style: our functions fill in the values themselves and return plain text, which
    # autoescape then escapes (the new style would mark every translation safe markup)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        tr.gettext, tr.ngettext, newstyle=False, pgettext=tr.pgettext, npgettext=tr.npgettext
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.filters["language_name"] = language_name
    return env


@lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """The language's name in itself (``français``)."""
    from babel import Locale

    try:
        return str(Locale.parse(code).display_name)
    except Exception:  # not a locale Babel knows: show the code
        return code


def page_language(request: web.Request) -> tuple[str, bool]:
    """The page's language, and whether it was chosen now (``?lang=``: remember it)."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    kept = request.cookies.get(LANG_COOKIE, "")
    if kept in LANGUAGES:
        return kept, False
    return negotiate(request.headers.get("Accept-Language", "")), False


@lru_cache(maxsize=256)
def negotiate(header: str) -> str:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (English if none)."""
    if not header:
        return LANGUAGES[0]
    from babel import negotiate_locale

    wanted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((quality, tag.strip().replace("-", "_")))
    wanted.sort(key=lambda pair: -pair[0])  # stable: equal qualities keep their order
    found = negotiate_locale([tag for _q, tag in wanted], list(LANGUAGES))
    if found is None:  # "pt_BR" against "pt": try the bare languages
        bare = [tag.split("_")[0].lower() for _q, tag in wanted]
        found = next((tag for tag in bare if tag in LANGUAGES), None)
    return found or LANGUAGES[0]


class PageCache:
    """Rendered bodies (and the data behind them) by key, fresh for :data:`PAGE_TTL`
    seconds of the bot's monotonic clock (a test's fake clock expires them too).

    A stale entry is still served while one background task renders it anew
    (stale-while-revalidate), and concurrent misses of one key wait for a single rendering,
    so an expiry never stalls a burst of requests.  :meth:`clear` (after a change) drops
    everything: the next request renders afresh.
    """

    def __init__(
        self, clock: Callable[[], float], ttl: float = PAGE_TTL, size: int = PAGE_CACHE_SIZE
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self._refreshing: dict[Hashable, asyncio.Task[None]] = {}
        self._generation = 0

    def get(self, key: Hashable) -> Any | None:
        """The fresh value of ``key``, else ``None``."""
        found = self._items.get(key)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        # up to a quarter longer, so entries made together do not all expire together
        life = self.ttl * (1 + random.random() / 4)
        self._items[key] = (self.clock() + life, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
        self._generation += 1  # renderings under way now must not be stored

    async def fetch(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """The value of ``key``: fresh from the cache, stale while ``make`` refreshes it in
        the background, or made now (once, however many ask at the same time).  With a
        TTL of 0 nothing is kept."""
        if self.ttl <= 0:
            return await make()
        found = self._items.get(key)
        if found is not None:
            if found[0] <= self.clock() and key not in self._refreshing:
                task = asyncio.create_task(self._refresh(key, make))
                self._refreshing[key] = task
            value: T = found[1]
            return value
        pending = self._pending.get(key)
        if pending is not None:
            shared: T = await asyncio.shield(pending)
            return shared
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        generation = self._generation
        try:
            made = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: only the waiters re-raise it
            raise
        else:
            future.set_result(made)
            if generation == self._generation:
                self.put(key, made)
            return made
        finally:
            self._pending.pop(key, None)

    async def settled(self) -> None:
        """Wait for the background refreshes under way."""
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _refresh(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> None:
        generation = self._generation
        try:
            made = await make()
        except Exception:  # gone (a 404 now) or broken: the next request makes it anew
            self._items.pop(key, None)
        else:
            if generation == self._generation:
                self.put(key, made)
        finally:
            self._refreshing.pop(key, None)


def page_cache(bot: Host) -> PageCache:
    found = bot.services.get("web_pages")
    if not isinstance(found, PageCache):
        found = PageCache(bot.clock.monotonic)
        bot.services["web_pages"] = found
    return found


def host_of(request: web.Request) -> Host:
    return request.app[BOT]


#: the environment variable with the site's public address (as ``[web] public_url``)
PUBLIC_URL_ENV = "CHATBOT_PUBLIC_URL"


def configured_base(config: Config) -> str:
    """The public address for links sent in chat: ``[web] public_url``,
    ``$CHATBOT_PUBLIC_URL``, else ``http://host:port``."""
    found = config.web.public_url.strip() or os.environ.get(PUBLIC_URL_ENV, "").strip()
    if found:
        return found.rstrip("/")
    return f"http://{config.web.host}:{config.web.port}"


def site_url(request: web.Request) -> str:
    """The address visitors reach the site at: ``[web] public_url``, else the request's."""
    configured = host_of(request).config.web.public_url.strip()
    return configured.rstrip("/") if configured else str(request.url.origin())


def base_context(request: web.Request, lang: str) -> dict[str, Any]:
    """What ``base.html`` needs: the language, the site name, the current path (``_`` is
    the environment's, see :func:`environment`)."""
    bot = host_of(request)
    return {
        "lang": lang,
        "site_name": bot.config.bot.name,
        "path": request.path,
        "nav": bot.services.get(NAV) or [],
        "query": {k: v for k, v in request.query.items() if k != "lang"},
    }


def html_response(body: bytes, *, lang: str, remember: bool, status: int = 200) -> web.Response:
    response = web.Response(body=body, status=status, content_type="text/html", charset="utf-8")
    secure_headers(response.headers)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    if remember:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="Lax", httponly=True
        )
    return response


def secure_headers(headers: Any) -> None:
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"


async def render_page(
    request: web.Request,
    folder: Path,
    template: str,
    build: Callable[[str], Awaitable[Mapping[str, Any]]],
    *,
    cache: bool = True,
    status: int = 200,
) -> web.Response:
    """Render ``template`` with ``await build(lang)``'s values, reusing a recent rendering
    of the same path, query and language."""
    lang, remember = page_language(request)
    bot = host_of(request)
    context = base_context(request, lang)

    async def make() -> bytes:
        values: Mapping[str, Any] = await build(lang)
        page = environment(folder, lang=lang).get_template(template)
        # in a worker thread: the interpreter switches back to the event loop every few
        # milliseconds, so rendering a long page never holds up the requests being served
        text = await asyncio.to_thread(page.render, context | dict(values))
        return text.encode("utf-8")

    if cache:
        key = ("page", request.path, request.query_string, lang)
        body = await page_cache(bot).fetch(key, make)
    else:
        body = await make()
    return html_response(body, lang=lang, remember=remember, status=status)


async def message_page(
    request: web.Request, heading: str | Msg, message: str | Msg, *, status: int = 200
) -> web.Response:
    """A short page saying one thing (signed out, link expired, not allowed); ``heading``
    and ``message`` are translated into the page's language (a ``str`` is taken as it is)."""

    async def build(lang: str) -> dict[str, Any]:
        return {"heading": text_in(heading, lang), "message": text_in(message, lang)}

    response = await render_page(
        request, TEMPLATES, "message.html", build, cache=False, status=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@lru_cache(maxsize=8)
def _static_body(name: str) -> bytes:
    return (STATIC / name).read_bytes()


async def static_file(request: web.Request) -> web.Response:
    """``/static/<name>``: the shared stylesheet and scripts."""
    name = request.match_info["name"]
    suffix = Path(name).suffix
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        raise web.HTTPNotFound()
    try:
        body = _static_body(name)
    except OSError:
        raise web.HTTPNotFound() from None
    response = web.Response(body=body, content_type=STATIC_TYPES[suffix], charset="utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def add_page_routes(bot: Host, href: str, label: str) -> None:
    """Put a feature's page in the navigation, and serve the shared static files and ``/``
    (which opens the first page).  Idempotent."""
    nav: list[tuple[str, str]] = bot.services.setdefault(NAV, [])
    if (href, label) not in nav:
        nav.append((href, label))
    add_route(bot, "GET", "/static/{name}", static_file)
    add_route(bot, "GET", "/", front_page)


async def front_page(request: web.Request) -> web.Response:
    nav = host_of(request).services.get(NAV) or []
    if not nav:
        raise web.HTTPNotFound()
    raise web.HTTPFound(nav[0][0])
