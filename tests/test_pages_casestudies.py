"""The published case studies on the web: gallery and search in a real browser, a study's
page with licence and citation, hostile values rendered inert, JSON/CSV/Atom for re-use."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chatbot.base.clock import FakeClock
from commands import basics, members
from commands import casestudies as cs
from commands.casestudies.store import CaseStudyStore
from tests.browser_helpers import DESKTOP, PHONE, screenshot, serious_violations, serve
from tests.harness import ConsoleChat, open_chat
from tests.test_casestudies import EXPECTED

MODULES = [basics.module, members.module, cs.module]
WEB = "[web]\nenabled = true\nport = 0\npublic_pages = true\n"

STUDIES: list[dict[str, Any]] = [
    EXPECTED,
    EXPECTED
    | {
        "title": "Thesis authors on Wikidata",
        "institution": "University of Eastbrook Library",
        "institution_qid": None,
        "library_type": "academic",
        "country": "GB",
        "languages": ["en", "cy"],
        "projects": ["wikidata"],
        "activities": ["wikidata_authority"],
        "start": "2023-03",
        "end": "2023-11",
        "outcomes": {"items_created": 1240, "items_edited": 3100},
        "licence": "CC0-1.0",
        "credit": "Eastbrook Library",
    },
    EXPECTED
    | {
        "title": "Postcards of Santos harbour",
        "institution": "Santos Maritime History Library",
        "institution_qid": None,
        "library_type": "special",
        "country": "BR",
        "languages": ["pt"],
        "projects": ["commons", "wikisource", "wikipedia"],
        "activities": ["wikipedian_in_residence", "commons_digitisation"],
        "start": "2022-06",
        "end": None,
        "outcomes": {"files_uploaded": 2300, "participants": 35},
    },
]

HOSTILE = EXPECTED | {
    "title": '<script>window.pwned=1</script>"><img src=x onerror=window.pwned=2>',
    "institution": '"><img src=x onerror="window.pwned=3">',
    "institution_qid": 'Q1" onmouseover="window.pwned=4',
    "summary": "<script>window.pwned=5</script>" + str(EXPECTED["summary"]),
    "links": [
        "javascript:window.pwned=6",
        'https://ok.example/"><script>window.pwned=7</script>',
        "https://ok.example/fine",
    ],
    "lessons": "<a href='javascript:window.pwned=8'>click</a>",
    "credit": "<b onclick=window.pwned=9>me</b>",
    "contact": "secret@example.org",
}


async def publish(chat: ConsoleChat, record: dict[str, Any], who: str = "console:bob") -> int:
    """Store ``record`` as published, the way the chat commands move it."""
    store = CaseStudyStore(chat.bot.db)
    now = chat.bot.clock.now()
    async with chat.bot.db.session() as session:
        row = await store.submit(session, who, who.split(":")[1], dict(record), now)
        for action in ("claim", "accept", "publish"):
            await store.move(session, row, action, "console:ana", now)
        return row.id


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(sqlite_url, clock, extra_config=WEB, modules=MODULES)
    try:
        for record in STUDIES:
            await publish(chat, record)
        yield chat
    finally:
        await chat.bot.close()


async def test_gallery_search_finds_a_study(chat: ConsoleChat, browser: Any) -> None:
    """Searching by words, country, project and year narrows the gallery to the study."""
    async with serve(chat.bot) as base:
        page = await (await browser.new_context(locale="en-GB")).new_page()
        await page.goto(f"{base}/casestudies")
        assert await page.locator(".cards .card").count() == 3
        await page.fill("#q", "postcards")
        async with page.expect_navigation():
            await page.click("form.search button")
        assert await page.locator(".cards .card h2").all_text_contents() == [
            "Postcards of Santos harbour"
        ]
        await page.fill("#q", "")
        await page.fill("#library", "eastbrook")
        await page.select_option("#country", "GB")
        await page.select_option("#project", "wikidata")
        await page.select_option("#year", "2023")
        async with page.expect_navigation():
            await page.click("form.search button")
        assert await page.locator(".cards .card h2").all_text_contents() == [
            "Thesis authors on Wikidata"
        ]
        assert "1 of 3 case studies match" in str(await page.text_content("#found"))
        await page.select_option("#year", "2024")
        async with page.expect_navigation():
            await page.click("form.search button")
        assert await page.locator(".cards .card").count() == 0
        await page.goto(f"{base}/casestudies?project=commons&year=2026")  # ongoing since 2022
        assert await page.locator(".cards .card h2").all_text_contents() == [
            "Postcards of Santos harbour"
        ]


async def test_study_page_has_licence_and_citation(chat: ConsoleChat, browser: Any) -> None:
    async with serve(chat.bot) as base:
        page = await (await browser.new_context(locale="en-GB")).new_page()
        await page.goto(f"{base}/casestudies")
        async with page.expect_navigation():
            await page.click("text=Thesis authors on Wikidata")
        assert await page.text_content("h1") == "Thesis authors on Wikidata"
        licence = page.locator("a[rel=license]")
        assert await licence.text_content() == "CC0 1.0"
        cite = str(await page.text_content("#citation"))
        assert cite.startswith('Eastbrook Library (2026). "Thesis authors on Wikidata".')
        assert f"{base}/casestudies/2" in cite
        assert "example@lakeside" not in await page.content()  # contact stays private


async def test_hostile_fields_render_inert(chat: ConsoleChat, browser: Any) -> None:
    """Script, attribute breaking and javascript: links show as text; nothing runs, even
    with the Content-Security-Policy switched off; no javascript: link is written."""
    number = await publish(chat, HOSTILE)
    async with serve(chat.bot) as base:
        context = await browser.new_context(bypass_csp=True)
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        for path in (f"/casestudies/{number}", "/casestudies", "/casestudies?q=script"):
            await page.goto(base + path)
            await page.wait_for_load_state("load")
            assert await page.evaluate("window.pwned") is None
            assert await page.locator("script:not([src])").count() == 0
            assert await page.locator("img").count() == 0
            assert await page.locator("[onerror], [onclick], [onmouseover]").count() == 0
            hrefs = await page.eval_on_selector_all("a", "as => as.map(a => a.href)")
            assert not [h for h in hrefs if h.lower().startswith("javascript:")]
        assert dialogs == []
        await page.goto(f"{base}/casestudies/{number}")
        assert await page.text_content("h1") == HOSTILE["title"]
        assert "secret@example.org" not in await page.content()


async def test_unpublished_studies_are_not_shown(chat: ConsoleChat) -> None:
    store = CaseStudyStore(chat.bot.db)
    async with chat.bot.db.session() as session:
        row = await store.submit(
            session, "console:eve", "eve", dict(EXPECTED), chat.bot.clock.now()
        )
        number = row.id
    async with serve(chat.bot) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/casestudies/{number}") as response:
            assert response.status == 404
        async with http.get(f"{base}/casestudies.json") as response:
            assert number not in [item["id"] for item in json.loads(await response.text())]


async def test_json_csv_and_atom_of_the_published_set(chat: ConsoleChat) -> None:
    async with serve(chat.bot) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/casestudies.json") as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            items = json.loads(await response.text())
        assert [i["title"] for i in items] == [s["title"] for s in STUDIES]
        assert all("contact" not in i and i["schema_version"] == 1 for i in items)
        async with http.get(f"{base}/casestudies.csv") as response:
            assert response.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO(await response.text())))
        assert [r["title"] for r in rows] == [s["title"] for s in STUDIES]
        async with http.get(f"{base}/casestudies.atom") as response:
            assert response.content_type == "application/atom+xml"
            feed = ET.fromstring(await response.read())
        ns = {"a": "http://www.w3.org/2005/Atom"}
        titles = [e.findtext("a:title", "", ns) for e in feed.findall("a:entry", ns)]
        assert sorted(titles) == sorted(s["title"] for s in STUDIES)
        link = feed.find("a:entry/a:link[@rel='alternate']", ns)
        assert link is not None and link.get("href", "").startswith(f"{base}/casestudies/")


@pytest.mark.parametrize(("size", "options"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_casestudy_pages_are_accessible_with_screenshots(
    chat: ConsoleChat, browser: Any, axe_script: Path, size: str, options: dict[str, Any]
) -> None:
    async with serve(chat.bot) as base:
        context = await browser.new_context(locale="en-GB", bypass_csp=True, **options)
        page = await context.new_page()
        for name, path in (
            ("casestudies", "/casestudies?project=wikipedia"),
            ("casestudy", "/casestudies/1"),
        ):
            await page.goto(base + path)
            await screenshot(page, f"{name}-{size}")
            assert await serious_violations(page, axe_script) == [], path


async def test_study_page_shows_choices_in_the_pages_language(chat: ConsoleChat) -> None:
    """A study's page in Spanish names its library type, activities, projects and numbers
    in Spanish (the chat's labels); in English they read as before."""
    async with serve(chat.bot) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/casestudies/3?lang=es") as response:
            page = await response.text()
        assert "<dd>Especializada</dd>" in page, page
        assert "Wikipedista residente" in page and "Archivos subidos: 2300" in page
        assert "Wikipedian in residence" not in page and "Files uploaded" not in page
        async with http.get(f"{base}/casestudies?lang=es") as response:
            gallery = await response.text()
        assert '<option value="wiktionary">Wikcionario</option>' in gallery
        async with http.get(f"{base}/casestudies/3?lang=en") as response:
            page = await response.text()
        assert "<dd>Special</dd>" in page and "Wikipedian in residence" in page
        assert "Files uploaded: 2300" in page
