"""The published case studies on the web: a searchable gallery (``/casestudies``), one page
per study with its licence and how to cite it, the published set as JSON and CSV, and an
Atom feed of the newest.

Only published studies are shown, with their public fields (``contact`` never).  Every
value goes through the autoescaping templates; links are written only when they are
http(s) and the Wikidata link only for a valid QID, whatever the database holds.  Served
when ``[web] public_pages = true``; rendered bodies are reused for a few seconds
(:class:`chatbot.web.pages.PageCache`, cleared by the review desk when it changes a study).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from chatbot.base.i18n import SOURCE_LANGUAGE, Msg, message_language
from chatbot.dispatch.host import Host
from chatbot.messages.localise import text_in
from chatbot.time.format import format_when
from chatbot.web.app import add_route
from chatbot.web.pages import (
    add_page_routes,
    environment,
    host_of,
    message_page,
    page_cache,
    page_language,
    render_page,
    secure_headers,
    site_url,
)
from commands.casestudies import store_of
from commands.casestudies.exports import LICENCE_NAMES, public_of, render
from commands.casestudies.fields import (
    ACTIVITY_LABELS,
    LIBRARY_TYPE_LABELS,
    OUTCOME_LABELS,
    OUTCOMES,
    PROJECT_LABELS,
    PROJECTS,
)
from commands.casestudies.store import PUBLISHED, CaseStudyRevisionRow, Study

TEMPLATES = Path(__file__).parent / "templates"
PER_PAGE = 48
FEED_ENTRIES = 30
_QID = re.compile(r"^Q[1-9][0-9]*$")
_PUBLISHED_AT = "casestudies.published_at"


def safe_link(link: Any) -> str | None:
    text = str(link or "")
    if text.startswith(("https://", "http://")) and not any(c.isspace() for c in text):
        return text
    return None


@lru_cache(maxsize=16)
def country_names(lang: str) -> dict[str, str]:
    from babel import Locale

    try:
        territories = Locale.parse(lang).territories
    except Exception:  # a language Babel does not know: English names
        territories = Locale("en").territories
    return {str(k): str(v) for k, v in territories.items() if len(str(k)) == 2}


def label(value: str) -> str:
    """``wikipedian_in_residence`` → ``Wikipedian in residence``."""
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def choice_label(code: str, labels: dict[str, Msg], lang: str) -> str:
    """A stored choice as a page in ``lang`` shows it: in English the code made readable
    (``Wikipedian in residence``), in another language the label the chat uses for it
    (``Wikipedista residente``)."""
    found = labels.get(code)
    if found is None or message_language(lang) == SOURCE_LANGUAGE:
        return label(code)
    return label(text_in(found, lang))


def years_of(record: dict[str, Any], now: datetime) -> range:
    start = str(record.get("start") or "")[:4]
    end = str(record.get("end") or "")[:4]
    if not start.isdigit():
        return range(0)
    last = int(end) if end.isdigit() else now.year
    return range(int(start), max(int(start), last) + 1)


def card(study: Study, lang: str, now: datetime) -> dict[str, Any]:
    record = study.record
    years = years_of(record, now)
    return {
        "id": study.id,
        "url": f"/casestudies/{study.id}",
        "title": str(record.get("title") or ""),
        "institution": str(record.get("institution") or ""),
        "country": country_names(lang).get(str(record.get("country")), str(record.get("country"))),
        "country_code": str(record.get("country") or ""),
        "projects": [str(p) for p in record.get("projects") or []],
        "project_labels": [
            choice_label(str(p), PROJECT_LABELS, lang) for p in record.get("projects") or []
        ],
        "years": f"{years[0]}–{years[-1]}" if len(years) > 1 else (str(years[0]) if years else ""),
        "year_set": set(years),
        "summary": str(record.get("summary") or ""),
        "library_type": str(record.get("library_type") or ""),
        "words": " ".join(
            str(record.get(k) or "") for k in ("title", "institution", "summary")
        ).casefold(),
    }


def matches(item: dict[str, Any], query: dict[str, str]) -> bool:
    for word in query.get("q", "").casefold().split():
        if word not in item["words"]:
            return False
    library = query.get("library", "").casefold().strip()
    if library and library not in item["institution"].casefold():
        return False
    country = query.get("country", "")
    if country and country != item["country_code"]:
        return False
    project = query.get("project", "")
    if project and project not in item["projects"]:
        return False
    year = query.get("year", "")
    return not (year and (not year.isdigit() or int(year) not in item["year_set"]))


class Published:
    """The published studies by number, and when each was published."""

    def __init__(self, studies: list[Study], at: dict[int, datetime]) -> None:
        self.studies = studies
        self.by_id = {s.id: s for s in studies}
        self.at = {s.id: at.get(s.id, s.updated_at) for s in studies}


async def published_set(bot: Host) -> Published:
    """Loaded once (two queries) for every page built within the cache's time."""

    async def load() -> Published:
        studies = await store_of(bot).in_states((PUBLISHED,))
        return Published(studies, await _published_at(bot, [s.id for s in studies]))

    return await page_cache(bot).fetch(("data", "casestudies.published"), load)


async def published(bot: Host) -> list[Study]:
    return (await published_set(bot)).studies


async def gallery(request: web.Request) -> web.Response:
    bot = host_of(request)
    query = {k: request.query.get(k, "").strip()[:200] for k in ("q", "library", "country")}
    query |= {k: request.query.get(k, "").strip()[:20] for k in ("project", "year")}
    try:
        number = max(1, int(request.query.get("page", "1")))
    except ValueError:
        number = 1

    async def build(lang: str) -> dict[str, Any]:
        now = bot.clock.now()
        items = [card(s, lang, now) for s in reversed(await published(bot))]
        names = country_names(lang)
        countries = sorted({i["country_code"] for i in items}, key=lambda c: names.get(c, c))
        years = sorted({y for i in items for y in i["year_set"]}, reverse=True)
        found = [i for i in items if matches(i, query)]
        pages = max(1, -(-len(found) // PER_PAGE))
        current = min(number, pages)
        shown = found[(current - 1) * PER_PAGE : current * PER_PAGE]
        searched = any(query.values())
        return {
            "studies": shown,
            "total": len(items),
            "found": len(found),
            "searched": searched,
            "form": query,
            "countries": [(c, names.get(c, c)) for c in countries],
            "projects": [(p, choice_label(p, PROJECT_LABELS, lang)) for p in PROJECTS],
            "years": years,
            "page": current,
            "pages": pages,
            "page_query": {k: v for k, v in query.items() if v},
        }

    return await render_page(request, TEMPLATES, "gallery.html", build)


async def _published_at(bot: Host, ids: list[int]) -> dict[int, datetime]:
    """When each study was last published (its newest ``publish`` revision)."""
    if not ids:
        return {}
    async with bot.db.sessions() as session:
        rows = await session.execute(
            select(CaseStudyRevisionRow.study_id, func.max(CaseStudyRevisionRow.at))
            .where(CaseStudyRevisionRow.action == "publish")
            .where(CaseStudyRevisionRow.study_id.in_(ids))
            .group_by(CaseStudyRevisionRow.study_id)
        )
        return {int(sid): at for sid, at in rows}


def citation(study: Study, base: str, site: str, at: datetime) -> str:
    record = study.record
    credit = str(record.get("credit") or "anonymous")
    licence = LICENCE_NAMES.get(str(record.get("licence")), (str(record.get("licence")), ""))[0]
    return (
        f'{credit} ({at.year}). "{record.get("title")}". Case study, {site}. '
        f"{base}/casestudies/{study.id} (licence: {licence})."
    )


def detail(study: Study, lang: str, now: datetime, at: datetime, base: str, site: str) -> Any:
    record = study.record
    view = card(study, lang, now)
    qid = str(record.get("institution_qid") or "")
    licence = LICENCE_NAMES.get(str(record.get("licence")))
    outcomes = record.get("outcomes") or {}
    view |= {
        "qid": qid if _QID.match(qid) else None,
        "library_type": choice_label(
            str(record.get("library_type") or ""), LIBRARY_TYPE_LABELS, lang
        ),
        "languages": [str(x) for x in record.get("languages") or []],
        "activities": [
            choice_label(str(a), ACTIVITY_LABELS, lang) for a in record.get("activities") or []
        ],
        "activities_other": record.get("activities_other"),
        "start": record.get("start"),
        "end": record.get("end"),
        "outcomes": [
            (choice_label(k, OUTCOME_LABELS, lang), outcomes[k]) for k in OUTCOMES if k in outcomes
        ],
        "outcomes_note": record.get("outcomes_note"),
        "links": [(str(link), safe_link(link)) for link in record.get("links") or []],
        "lessons": record.get("lessons"),
        "credit": str(record.get("credit") or "anonymous"),
        "licence": licence[0] if licence else str(record.get("licence")),
        "licence_url": licence[1] if licence else None,
        "published": format_when(at, None, "date", lang=lang, with_zone=False),
        "published_iso": at.astimezone(UTC).date().isoformat(),
        "citation": citation(study, base, site, at),
    }
    return view


async def study_page(request: web.Request) -> web.Response:
    bot = host_of(request)
    number = int(request.match_info["id"])
    base = site_url(request)

    async def build(lang: str) -> dict[str, Any]:
        found = await published_set(bot)
        study = found.by_id.get(number)
        if study is None:
            raise LookupError(number)
        at = found.at[number]
        now = bot.clock.now()
        return {"s": detail(study, lang, now, at, base, bot.config.bot.name)}

    try:
        return await render_page(request, TEMPLATES, "study.html", build)
    except LookupError:
        return await message_page(
            request,
            "Not found",
            f"There is no published case study #{number}. All of them: /casestudies",
            status=404,
        )


async def _cached(
    request: web.Request, content_type: str, build: Callable[[], Awaitable[bytes]]
) -> web.Response:
    body = await page_cache(host_of(request)).fetch(("file", request.path), build)
    response = web.Response(body=body, content_type=content_type, charset="utf-8")
    secure_headers(response.headers)
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data, for re-use
    return response


async def export_json(request: web.Request) -> web.Response:
    async def build() -> bytes:
        studies = await published(host_of(request))
        text = await asyncio.to_thread(render, "json", [public_of(s) for s in studies])
        return text.encode("utf-8")

    return await _cached(request, "application/json", build)


async def export_csv(request: web.Request) -> web.Response:
    async def build() -> bytes:
        studies = await published(host_of(request))
        text = await asyncio.to_thread(render, "csv", [public_of(s) for s in studies])
        return text.encode("utf-8")

    response = await _cached(request, "text/csv", build)
    response.headers["Content-Disposition"] = 'attachment; filename="casestudies.csv"'
    return response


async def atom(request: web.Request) -> web.Response:
    bot = host_of(request)
    lang, _remember = page_language(request)

    async def build() -> bytes:
        found = await published_set(bot)
        studies, at = found.studies, found.at
        newest = sorted(studies, key=lambda s: at.get(s.id, s.updated_at), reverse=True)
        base = site_url(request)
        entries = [
            {
                "id": s.id,
                "title": str(s.record.get("title") or ""),
                "summary": str(s.record.get("summary") or ""),
                "credit": str(s.record.get("credit") or "anonymous"),
                "updated": at.get(s.id, s.updated_at).astimezone(UTC).isoformat(),
                "licence": LICENCE_NAMES.get(str(s.record.get("licence")), ("", ""))[1],
            }
            for s in newest[:FEED_ENTRIES]
        ]
        updated = entries[0]["updated"] if entries else bot.clock.now().isoformat()
        text = (
            environment(TEMPLATES)
            .get_template("feed.xml")
            .render(
                base=base,
                site_name=bot.config.bot.name,
                entries=entries,
                updated=updated,
                lang=lang,
            )
        )
        return text.encode("utf-8")

    return await _cached(request, "application/atom+xml", build)


def add_routes(bot: Host) -> None:
    add_page_routes(bot, "/casestudies", "Case studies")
    add_route(bot, "GET", "/casestudies", gallery)
    add_route(bot, "GET", r"/casestudies/{id:\d{1,9}}", study_page)
    add_route(bot, "GET", "/casestudies.json", export_json)
    add_route(bot, "GET", "/casestudies.csv", export_csv)
    add_route(bot, "GET", "/casestudies.atom", atom)
