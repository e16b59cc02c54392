"""Server-rendered public pages: one Jinja2 environment per feature (autoescape on), the
page's language, shared static files, safe response headers and a short-lived page cache.

Features keep their templates next to their code and get an environment with
:func:`environment`; their templates extend ``base.html`` from here.  Jinja2 and Babel are
imported only when the first page is rendered (start-up stays light).

Text in templates goes through ``_()``: the identity until the bot has message catalogs
(the hook where they plug in is :func:`translations_for`).  The page's language (dates,
``<html lang>``) is negotiated from ``?lang=``, then the ``lang`` cookie, then
``Accept-Language``, among :data:`LANGUAGES`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from chatbot.base.config import Config
from chatbot.dispatch.host import Host
from chatbot.web.app import BOT, add_route

if TYPE_CHECKING:
    import jinja2

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


def _identity(text: str, **values: Any) -> str:
    return text % values if values else text


def translations_for(lang: str) -> Callable[..., str]:
    """The ``_()`` of a page in ``lang``: the identity until catalogs exist."""
    return _identity


@lru_cache(maxsize=16)
def environment(*folders: Path) -> jinja2.Environment:
    """An environment loading from ``folders`` then the shared templates; autoescape on for
    every template (HTML and XML alike), undefined names are errors."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*(str(f) for f in folders), str(TEMPLATES)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = _identity
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
    """Rendered bodies by key, each for :data:`PAGE_TTL` seconds of the bot's monotonic
    clock (so a test's fake clock expires them too)."""

    def __init__(
        self, clock: Callable[[], float], ttl: float = PAGE_TTL, size: int = PAGE_CACHE_SIZE
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[tuple[str, ...], tuple[float, bytes]] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> bytes | None:
        found = self._items.get(key)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, key: tuple[str, ...], body: bytes) -> None:
        self._items[key] = (self.clock() + self.ttl, body)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


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
    """What ``base.html`` needs: the language, ``_``, the site name, the current path."""
    bot = host_of(request)
    return {
        "lang": lang,
        "_": translations_for(lang),
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
    key = (request.path, request.query_string, lang)
    store = page_cache(bot)
    body = store.get(key) if cache else None
    if body is None:
        values: Mapping[str, Any] = await build(lang)
        context = base_context(request, lang) | dict(values)
        text = environment(folder).get_template(template).render(context)
        body = text.encode("utf-8")
        if cache:
            store.put(key, body)
    return html_response(body, lang=lang, remember=remember, status=status)


async def message_page(
    request: web.Request, heading: str, message: str, *, status: int = 200
) -> web.Response:
    """A short page saying one thing (signed out, link expired, not allowed)."""

    async def build(lang: str) -> dict[str, Any]:
        return {"heading": heading, "message": message}

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
