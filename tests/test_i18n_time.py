"""Zone and date refusals, file sizes and public pages in the reader's language (es, fr, pt,
de): what a member who chose ``!lang`` (or a visitor whose browser asks for a language) reads.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.console import ConsoleAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.base.errors import UserError
from chatbot.messages.events import Attachment, Reader, Reply
from chatbot.messages.localise import text_in
from chatbot.messages.render import render_plain
from chatbot.runtime.bot import Bot
from chatbot.time.zones import resolve_zone
from chatbot.web.app import WebServer
from chatbot.web.pages import environment
from commands import basics, meetings, members
from tests.harness import BASE_CONFIG, ConsoleChat

#: per language: unknown zone, ambiguous abbreviation, impossible date, not a time of day
EXPECTED = {
    "es": (
        "No conozco la zona horaria 'Atlantis Deep'. ¿Quisiste decir",
        "IST puede ser varias zonas horarias: Asia/Kolkata (India), Europe/Dublin (Irlanda)",
        "No existe el 31 de febrero de 2027. Revisa el día del mes.",
        "'25:00' no es una hora del día.",
    ),
    "fr": (
        "Je ne connais pas le fuseau horaire « Atlantis Deep ». Vouliez-vous dire",
        "IST peut désigner plusieurs fuseaux horaires : Asia/Kolkata (Inde), Europe/Dublin "
        "(Irlande)",
        "Le 31 février 2027 n'existe pas. Vérifiez le jour du mois.",
        "« 25:00 » n'est pas une heure de la journée.",
    ),
    "pt": (
        "Não conheço o fuso horário 'Atlantis Deep'. Você quis dizer",
        "IST pode ser vários fusos horários: Asia/Kolkata (Índia), Europe/Dublin (Irlanda)",
        "Não existe o dia 31 de fevereiro de 2027. Confira o dia do mês.",
        "'25:00' não é uma hora do dia.",
    ),
    "de": (
        "Die Zeitzone 'Atlantis Deep' kenne ich nicht. Meintest du",
        "IST kann mehrere Zeitzonen meinen: Asia/Kolkata (Indien), Europe/Dublin (Irland)",
        "Den 31. Februar 2027 gibt es nicht. Prüf den Tag im Monat.",
        "'25:00' ist keine Uhrzeit.",
    ),
}


@pytest.mark.parametrize("lang", sorted(EXPECTED))
async def test_zone_and_date_refusals_in_the_members_language(chat: ConsoleChat, lang: str) -> None:
    """After ``!lang xx`` a member's zone mistakes and unreadable dates are explained in
    their language, with what they typed and the zone names left as they are."""
    unknown, ambiguous, no_such_day, not_a_time = EXPECTED[lang]
    await chat.say(f"!lang {lang}")
    assert unknown in await chat.say("!tz set Atlantis Deep")
    assert ambiguous in await chat.say("!tz set IST")
    assert no_such_day in await chat.say("!when 31 February 2027 10:00")
    assert not_a_time in await chat.say("!when 25:00")


async def test_a_refusal_suggests_a_phrase_in_the_members_language(chat: ConsoleChat) -> None:
    """The examples that end a date refusal are phrases the bot reads in that language."""
    await chat.say("!lang es")
    out = await chat.say("!when tomorow 15:00")
    assert "No entiendo 'tomorow 15:00' como fecha." in out
    assert "Prueba con 'mañana 15:00' o 'el viernes que viene 18:00 UTC'." in out
    assert "vie, 27 nov, 18:00 (UTC)" in await chat.say("!when el viernes que viene 18:00 UTC")


def test_english_is_unchanged_and_lists_use_the_readers_or() -> None:
    """The same error reads as before in English; its list of suggestions is joined with
    the reader's word for "or"."""
    with pytest.raises(UserError) as caught:
        resolve_zone("dhakar")
    english = str(caught.value)
    assert english.startswith("I don't know the zone 'dhakar'. Did you mean ")
    assert " or " in english
    assert " o " in text_in(caught.value.message, "es")
    assert " oder " in text_in(caught.value.message, "de")


def test_file_sizes_in_the_readers_words() -> None:
    reply = Reply(("x",), files=(Attachment("a.csv", b"x" * 1_572_864, "text/csv"),))
    assert render_plain(reply, Reader()).endswith("[file: a.csv, 1.5 MB]")
    assert render_plain(reply, Reader(lang="fr")).endswith("[fichier : a.csv, 1,5 Mo]")
    small = Reply((), files=(Attachment("b.txt", b"xy", "text/plain"),))
    assert render_plain(small, Reader(lang="de")) == "[Datei: b.txt, 2 Byte]"


def test_template_text_is_translated_and_values_are_escaped(tmp_path: Path) -> None:
    """A template's ``_()`` and ``ngettext()`` come from the catalogs; neither a value
    nor a translation can add markup."""
    (tmp_path / "t.html").write_text(
        '{{ _("Signed in as %(name)s.", name=me) }} {{ ngettext("%(num)s case study.", '
        '"%(num)s case studies.", n) }} {{ _(raw) }}',
        encoding="utf-8",
    )
    page = environment(tmp_path, lang="es").get_template("t.html")
    text = page.render(me="<b>Ana</b>", n=3, raw="<i>x</i>")
    assert text == (
        "Sesión iniciada como &lt;b&gt;Ana&lt;/b&gt;. 3 estudios de caso. &lt;i&gt;x&lt;/i&gt;"
    )
    one = environment(tmp_path, lang="de").get_template("t.html").render(me="A", n=1, raw="")
    assert one.startswith("Angemeldet als A. 1 Fallstudie.")


WEB = "[web]\nenabled = true\nport = 0\npublic_pages = true\n"


@pytest.fixture
async def site(tmp_path: Path, clock: FakeClock) -> AsyncIterator[str]:
    """The bot's web pages (the meetings page) on a local port."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = parse_config(BASE_CONFIG.format(url=url) + WEB)
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    adapter = ConsoleAdapter(config, stdin=stdin, stdout=io.StringIO())
    modules = [basics.module, members.module, meetings.module]
    bot = Bot(config, clock=clock, adapters=[adapter], modules=modules)
    running = asyncio.ensure_future(bot.run())
    try:
        await asyncio.wait_for(bot.ready.wait(), 30)
        server = bot.services["web"]
        assert isinstance(server, WebServer)
        await asyncio.wait_for(server.started.wait(), 30)
        yield f"http://127.0.0.1:{server.port}"
    finally:
        os.close(write_fd)  # end of input: the console ends, and the bot with it
        await asyncio.wait_for(running, 30)
        stdin.close()


async def test_public_page_in_spanish_for_a_spanish_browser(site: str) -> None:
    """``Accept-Language: es`` gets the meetings page in Spanish; ``?lang=fr`` switches."""
    async with aiohttp.ClientSession() as session:
        headers = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
        async with session.get(f"{site}/meetings", headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Language"] == "es"
            page = await response.text()
        assert '<html lang="es">' in page
        assert "<h1>Reuniones</h1>" in page
        assert "Todavía no hay ninguna reunión prevista." in page
        assert "Ir al contenido" in page
        assert "No meeting is planned yet." not in page
        async with session.get(f"{site}/meetings?lang=fr", headers=headers) as response:
            page = await response.text()
        assert "<h1>Réunions</h1>" in page and "Aucune réunion n&#39;est encore prévue." in page


async def test_when_reads_the_phrase_in_the_rooms_language(chat: ConsoleChat) -> None:
    """A member who chose no ``!lang`` in a German room: ``!when`` reads the phrase as
    German (``do`` is Donnerstag, not Spanish/Portuguese domingo) and answers in German;
    the member's own ``!lang`` still comes first."""
    chat.bot.config.bot.room_languages["console:#general"] = "de"
    await chat.say("!tz set Berlin")
    out = await chat.say("!when do 18h")
    assert "ist für dich Do., 26. Nov., 18:00 (Berlin)" in out, out
    await chat.say("!lang es")
    out = await chat.say("!when do 18h")
    assert "dom, 29 nov, 18:00" in out, out
    chat.bot.config.bot.room_languages["console:#general"] = "es"
    await chat.say("!lang default")
    out = await chat.say("!when mañana 18:00")
    assert out == "mañana 18:00 es jue, 26 nov, 18:00 (Berlin) para ti (17:00 UTC)."


#: per language: a full date and time, the same in the current year, a date, and a short
#: form, each in the locale's own CLDR pattern (German "Do., 26. Nov. 2026", not "Do. 26 Nov.")
DATES = {
    "es": ("jue, 26 nov 2026, 9:05", "jue, 26 nov, 9:05", "jue, 26 nov 2026", "jue, 26 nov, 9:05"),
    "fr": (
        "jeu. 26 nov. 2026, 09:05",
        "jeu. 26 nov., 09:05",
        "jeu. 26 nov. 2026",
        "jeu. 26 nov., 09:05",
    ),
    "pt": (
        "qui., 26 de nov. de 2026 09:05",
        "qui., 26 de nov. 09:05",
        "qui., 26 de nov. de 2026",
        "qui., 26 de nov. 09:05",
    ),
    "de": (
        "Do., 26. Nov. 2026, 09:05",
        "Do., 26. Nov., 09:05",
        "Do., 26. Nov. 2026",
        "Do., 26. Nov., 09:05",
    ),
    "en": ("Thu 26 Nov 2026, 09:05", "Thu 26 Nov, 09:05", "Thu 26 Nov 2026", "Thu 26 Nov, 09:05"),
}


@pytest.mark.parametrize("lang", sorted(DATES))
def test_dates_in_each_languages_own_form(lang: str) -> None:
    """Dates follow each language's CLDR patterns (Babel's locale data), and drop the year
    in the reader's current year as English does; a year away keeps it."""
    from datetime import UTC, datetime

    from chatbot.time.format import format_when

    at = datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
    full, this_year, date, short = DATES[lang]
    assert format_when(at, None, "full", lang, with_zone=False) == full
    same_year = datetime(2026, 3, 1, tzinfo=UTC)
    assert format_when(at, None, "full", lang, now=same_year, with_zone=False) == this_year
    assert format_when(at, None, "full", lang, now=datetime(2025, 3, 1, tzinfo=UTC)) == (
        full + " (UTC)"
    )
    assert format_when(at, None, "date", lang, with_zone=False) == date
    assert format_when(at, None, "short", lang, with_zone=False) == short
    assert format_when(at, "Europe/Berlin", "time", lang) == ("10:05 (Berlin)")
