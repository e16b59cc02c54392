"""Case-study validation and exports: the schema's fixtures, round trips, hostile input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from chatbot.base.clock import FakeClock
from chatbot.base.errors import UserError
from commands.casestudies import fields
from commands.casestudies.cli import export_main
from commands.casestudies.exports import (
    escape_wikitext,
    neutralise,
    public,
    read_csv,
    to_csv,
    to_json,
    to_wikitext,
)
from commands.casestudies.store import CaseStudyStore
from tests.harness import open_chat

SUMMARY = (
    "The library worked with local Wikimedians over several months, training staff and "
    "volunteers, documenting the collection and sharing what it learned with other libraries "
    "in the region so that the work could continue after the project ended."
)

#: the schema's three fixtures (§5), as a member would type them
FIXTURES: list[dict[str, str]] = [
    {
        "title": "#1Lib1Ref at Lakeside",
        "institution": "Lakeside County Public Library",
        "library_type": "public",
        "country": "KE",
        "languages": "en; sw",
        "projects": "wikipedia",
        "activities": "1lib1ref; editathon",
        "period": "2024-01 2024-02",
        "summary": SUMMARY,
        "outcomes": "citations_added 412, articles_improved 230, participants 18",
        "credit": "User:Example",
        "consent": "yes",
        "licence": "yes",
    },
    {
        "title": "Thesis authors on Wikidata",
        "institution": "University of Eastbrook Library",
        "library_type": "academic",
        "country": "GB",
        "languages": "en; cy",
        "projects": "wikidata",
        "activities": "wikidata_authority",
        "period": "2023-03 2023-11",
        "summary": SUMMARY,
        "outcomes": "items_created 1240, items_edited 3100",
        "credit": "Eastbrook Metadata Team",
        "consent": "yes",
        "licence": "cc0 yes",
    },
    {
        "title": "Postcards of Santos harbour",
        "institution": "Santos Maritime History Library",
        "library_type": "special",
        "country": "Brazil",
        "languages": "pt",
        "projects": "commons, wikisource, wikipedia",
        "activities": "wikipedian_in_residence; commons_digitisation; wikisource_transcription",
        "period": "2022-06 ongoing",
        "summary": SUMMARY,
        "outcomes": "files_uploaded 2300, participants 35",
        "links": "https://commons.wikimedia.org/wiki/Category:Santos;harbour https://example.org/a",
        "credit": "anonymous",
        "consent": "yes",
        "licence": "yes",
    },
]

HOSTILE = {
    "title": "=cmd|' /C calc'!A0",
    "institution": "{{Delete}} |} <script>alert(1)</script>",
    "library_type": "other",
    "country": "KE",
    "languages": "en",
    "projects": "other",
    "activities": "other",
    "activities_other": "@everyone ~~~~ [[Main Page]]",
    "period": "2024-01",
    "summary": "+SUM(1) ~~~~ {{!}} ''bold'' __NOTOC__ [[Category:X]] |} <b>x</b>\n* item\n"
    + "x" * 200,
    "outcomes": "participants 0; note: -1 means nothing",
    "lessons": '@everyone\r\n=HYPERLINK("http://evil")',
    "credit": "-2+3 ~~~",
    "contact": "secret@example.org",
    "consent": "yes",
    "licence": "yes",
}


def records() -> list[dict[str, Any]]:
    """The fixtures validated into records."""
    return [fields.validate_record(raw) for raw in FIXTURES]


def test_fixtures_validate_to_the_schema_values() -> None:
    """The three fixtures validate to the values the schema lists."""
    first, second, third = records()
    assert first["country"] == "KE" and first["languages"] == ["en", "sw"]
    assert first["outcomes"] == {
        "citations_added": 412,
        "articles_improved": 230,
        "participants": 18,
    }
    assert second["licence"] == "CC0-1.0" and second["end"] == "2023-11"
    assert third["country"] == "BR" and third["end"] is None
    assert third["projects"] == ["commons", "wikisource", "wikipedia"]
    assert third["links"][0] == "https://commons.wikimedia.org/wiki/Category:Santos%3Bharbour"


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (fields.qid, "Q0123"),
        (fields.qid, "12345"),
        (fields.url, "javascript:alert(1)"),
        (fields.url, "ftp://files.example.org/x"),
        (fields.url, "https://exa mple.org"),
        (fields.country, "Atlantis"),
        (fields.period, "2024-05 2024-01"),
        (fields.period, "2024-13"),
        (fields.title, "abcd"),
        (fields.summary, "x" * 199),
        (fields.summary, "x" * 1501),
        (fields.language, "xx-123456789"),
        (fields.projects, "myspace"),
        (fields.consent, "no"),
        (fields.licence, "cc0"),
        (fields.outcomes, "participants -1"),
        (fields.outcomes, "readers 10"),
    ],
)
def test_must_fail(check: Any, text: str) -> None:
    """Each of the schema's must-fail inputs (and a few more) is refused with a reason."""
    with pytest.raises(UserError):
        check(text)


def test_good_values_normalised() -> None:
    """Accepted inputs are normalised: QID upper-cased, tags canonical, names to codes."""
    assert fields.qid(" q42 ") == "Q42"
    assert fields.languages("EN-gb, zh-hant, Swahili") == ["en-GB", "zh-Hant", "sw"]
    assert fields.country("united kingdom") == "GB"
    assert fields.links(" ".join(f"https://e.org/{i}" for i in range(10))) == [
        f"https://e.org/{i}" for i in range(10)
    ]
    with pytest.raises(UserError):
        fields.links(" ".join(f"https://e.org/{i}" for i in range(11)))


def test_csv_and_json_round_trip() -> None:
    """CSV and JSON exports of the fixtures read back equal to the records."""
    items = [public(i + 1, record) for i, record in enumerate(records())]
    text = to_csv(items)
    assert text.startswith("id,title,institution,institution_qid,")
    assert "outcome_citations_added" in text.splitlines()[0]
    assert "\r\n" in text
    assert read_csv(text) == items
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["languages"] == "en;sw"
    assert rows[0]["outcome_citations_added"] == "412"
    assert rows[2]["links"].startswith("https://commons.wikimedia.org/wiki/Category:Santos%3B")
    loaded = json.loads(to_json(items))
    assert loaded == items
    assert all(item["schema_version"] == 1 for item in loaded)
    assert "contact" not in loaded[0]


def test_hostile_input_neutralised_in_csv() -> None:
    """Formula-looking cells get a leading quote; reading back restores them verbatim."""
    record = fields.validate_record(HOSTILE)
    assert record["title"] == HOSTILE["title"]
    item = public(7, record)
    text = to_csv([item])
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["title"] == "'=cmd|' /C calc'!A0"
    assert row["summary"].startswith("'+SUM(1)")
    assert row["lessons"].startswith("'@everyone")
    assert row["credit"] == "'-2+3 ~~~"
    assert "secret@example.org" not in text
    assert read_csv(text) == [item]
    assert neutralise("'=x") == "''=x"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("plain") == "plain"


@pytest.mark.parametrize(
    "cell",
    [
        '\uff1dHYPERLINK("http://evil")',  # fullwidth equals sign
        "\u200b=1+1",  # zero-width space before =
        "\u2060\ufeff@SUM(A1)",  # word joiner and BOM before @
        "\uff0b1",  # fullwidth plus
        "'\u200d=1",  # a quote, then a zero-width joiner, then =
        "''=x",  # two quotes before =
    ],
)
def test_disguised_formulas_are_neutralised_and_restored(cell: str) -> None:
    """A cell that reads as a formula once normalised (NFKC, invisible characters dropped)
    gets a leading quote too, and reading it back gives the text as it was typed."""
    assert neutralise(cell) == "'" + cell
    item = public(7, fields.validate_record(HOSTILE)) | {"title": cell, "credit": "x" + cell}
    text = to_csv([item])
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["title"] == "'" + cell and row["credit"] == "x" + cell
    assert read_csv(text) == [item]


def test_hostile_input_escaped_in_wikitext() -> None:
    """No user text can make templates, links, tables, tags, signatures or magic words."""
    hostile = public(7, fields.validate_record(HOSTILE))
    page = to_wikitext([*(public(i + 1, r) for i, r in enumerate(records())), hostile])
    for raw in ("{{Delete}}", "<script>", "~~~", "[[Main Page]]", "[[Category:X]]", "__NOTOC__"):
        assert raw not in page
    assert "''bold''" not in page
    assert "&#123;&#123;Delete&#125;&#125; &#124;&#125; &lt;script&gt;" in page
    assert "\n&#42; item" in page
    assert "{|" in page and page.count("{|") == 1 and page.count("|}") == 1
    assert "[https://commons.wikimedia.org/wiki/Category:Santos%3Bharbour " in page
    assert "CC BY-SA 4.0" in page and "CC0 1.0" in page
    assert "* Thesis authors on Wikidata: Eastbrook Metadata Team" in page
    assert "secret@example.org" not in page
    assert escape_wikitext("a|b\nc") == "a&#124;b<br />c"
    assert escape_wikitext("~~~~") == "&#126;" * 4


@pytest.mark.postgres
async def test_hostile_input_stored_verbatim(db_url: str, clock: FakeClock) -> None:
    """Hostile text is stored exactly as typed on both databases, and exported safely."""
    from commands import casestudies

    chat = await open_chat(db_url, clock, modules=[casestudies.module])
    try:
        store = CaseStudyStore(chat.bot.db)
        record = fields.validate_record(HOSTILE)
        async with chat.bot.db.session() as session:
            row = await store.submit(session, "console:eve", "eve", record, clock.now())
            study_id = row.id
        stored = await store.get(study_id)
        assert stored is not None and stored.record == record
        assert stored.record["summary"] == HOSTILE["summary"]
        found = await store.search("{{!}}", ("submitted",))
        assert [s.id for s in found] == [study_id]
        assert await store.search("100%", ("submitted",)) == []
    finally:
        await chat.bot.close()


async def seed_three(url: str, clock: FakeClock) -> None:
    """Store the three fixtures; publish the first two."""
    from commands import casestudies

    chat = await open_chat(url, clock, modules=[casestudies.module])
    try:
        store = CaseStudyStore(chat.bot.db)
        async with chat.bot.db.session() as session:
            for index, record in enumerate(records()):
                member = f"console:m{index}"
                row = await store.submit(session, member, f"m{index}", record, clock.now())
                if index < 2:
                    for action in ("claim", "accept", "publish"):
                        await store.move(session, row, action, "console:ana", clock.now())
    finally:
        await chat.bot.close()


@pytest.mark.postgres
def test_cli_export_of_published_studies(
    db_url: str, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export_main writes only published studies, in each format, to stdout or a file."""
    asyncio.run(seed_three(db_url, clock))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ndatabase = "{db_url}"\ncommands = ["basics", "members"]\n', encoding="utf-8"
    )
    assert export_main(["--format", "json"], str(config)) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [item["title"] for item in exported] == [
        "#1Lib1Ref at Lakeside",
        "Thesis authors on Wikidata",
    ]
    assert exported == [public(i + 1, r) for i, r in enumerate(records()[:2])]
    target = tmp_path / "out.csv"
    assert export_main(["--format", "csv", "-o", str(target)], str(config)) == 0
    assert read_csv(target.read_text(encoding="utf-8")) == exported
    assert export_main(["--format", "wikitext"], str(config)) == 0
    assert "== Thesis authors on Wikidata ==" in capsys.readouterr().out
    assert export_main(["--format", "xml"], str(config)) == 2


#: per language: the table's header, a section's labels and choices, the closing heading
WIKI_PAGES = {
    "es": (
        "! Título !! Institución !! País !! Tipo !! Proyectos !! Actividades !! Periodo !! "
        "Licencia",
        "; Escrito en: español (es)",
        "; Periodo: 2022-06 – en curso",
        "== Licencia y créditos ==",
    ),
    "fr": (
        "! Titre !! Institution !! Pays !! Type !! Projets !! Activités !! Période !! Licence",
        "; Langue de rédaction: espagnol (es)",
        "; Période: 2022-06 – en cours",
        "== Licence et crédits ==",
    ),
    "pt": (
        "! Título !! Instituição !! País !! Tipo !! Projetos !! Atividades !! Período !! Licença",
        "; Escrito em: espanhol (es)",
        "; Período: 2022-06 – em andamento",
        "== Licença e créditos ==",
    ),
    "de": (
        "! Titel !! Einrichtung !! Land !! Typ !! Projekte !! Aktivitäten !! Zeitraum !! Lizenz",
        "; Verfasst auf: Spanisch (es)",
        "; Zeitraum: 2022-06 – laufend",
        "== Lizenz und Namensnennung ==",
    ),
}


@pytest.mark.parametrize("lang", sorted(WIKI_PAGES))
def test_wikitext_page_in_the_organisers_language(lang: str) -> None:
    """The page's own words (headings, labels, choices, "ongoing", the language a study was
    written in, the licence notice) are in the language asked for; what contributors wrote
    (titles, summaries, credits) stays as written; English is the default."""
    header, written_in, period, closing = WIKI_PAGES[lang]
    items = [public(i + 1, r, written_in="es") for i, r in enumerate(records())]
    page = to_wikitext(items, lang)
    lines = page.splitlines()
    assert lines[1] == header
    assert written_in in lines and period in lines, page
    assert closing in lines and "Lakeside County Public Library" in page
    assert "Each case study" not in page and "ongoing" not in page
    english = to_wikitext(items)
    assert english.splitlines()[1] == (
        "! Title !! Institution !! Country !! Type !! Projects !! Activities !! Period !! Licence"
    )
    assert "; Written in: Spanish (es)" in english and "– ongoing" in english
