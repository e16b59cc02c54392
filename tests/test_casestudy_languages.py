"""The case-study wizard in Spanish, French, Portuguese and German: questions, choices and
validation messages in the member's language, answers typed in it understood; and the
language a study was written in kept by the store, every export and the schema upgrade."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, select, text

from chatbot.base.clock import FakeClock
from chatbot.base.i18n import Msg, forget_catalogs
from chatbot.delivery.outbox_payload import decode_payload
from chatbot.messages.localise import text_in
from chatbot.storage.delivery import OutboxRow
from commands.casestudies import fields
from commands.casestudies.exports import public_of, read_csv, to_csv, to_json, to_wikitext
from commands.casestudies.store import PUBLISHED, CaseStudyStore
from tests.harness import ConsoleChat
from tests.test_casestudies import GOOD, SUMMARY, open_cs, saved_text, study, submit_study


@pytest.fixture
async def chat(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    forget_catalogs()
    chat = await open_cs(sqlite_url, clock)
    try:
        yield chat
    finally:
        await chat.bot.close()


#: per language: what the member sees and types, question by question
WIZARDS = {
    "es": {
        "first": "¿Un título breve?",
        "short": "El título necesita al menos 5 caracteres (ahora tiene 3).",
        "kind": "¿Qué tipo de biblioteca? (pública, universitaria, nacional, escolar,",
        "bad_kind": "No conozco el tipo de biblioteca «castillo». Elige uno de estos:",
        "kind_answer": "Pública",
        "country": "Alemania",
        "country_code": "DE",
        "bad_country": "No conozco el país «Atlántida». Escribe su nombre",
        "projects": "¿Qué proyectos de Wikimedia? (wikipedia, wikidata, commons, wikisource, "
        "wikcionario",
        "projects_answer": "wikipedia; wikcionario",
        "activities_answer": "autoridades en Wikidata, editatón",
        "period": "2024-01 en curso",
        "bad_period": "El fin (2024-01) es anterior al inicio (2024-03).",
        "outcomes": "referencias añadidas 412, participantes 18; nota: en dos sedes",
        "summary": "Descríbelo brevemente (de 200 a 1500 caracteres).",
        "outcomes_prompt": "¿Alguna cifra que compartir? (p. ej. referencias añadidas 412, "
        "participantes 18; nota: …)",
        "skip": "omitir",
        "bad_consent": "Solo puedo aceptar estudios de caso que podamos publicar.",
        "yes": "sí",
        "done": "¡Gracias! Tu estudio de caso se ha enviado como #1.",
    },
    "fr": {
        "first": "Un titre court ?",
        "short": "Le titre doit compter au moins 5 caractères (actuellement : 3).",
        "kind": "Quel type de bibliothèque ? (publique, universitaire, nationale, scolaire,",
        "bad_kind": "Je ne connais pas le type de bibliothèque « castillo ». Choisissez parmi :",
        "kind_answer": "publique",
        "country": "Allemagne",
        "country_code": "DE",
        "bad_country": "Je ne connais pas le pays « Atlántida ». Donnez son nom",
        "projects": "Quels projets Wikimedia ? (wikipedia, wikidata, commons, wikisource, "
        "wiktionnaire",
        "projects_answer": "wikipedia; wiktionnaire",
        "activities_answer": "autorités Wikidata, éditathon",
        "period": "2024-01 en cours",
        "bad_period": "La fin (2024-01) est avant le début (2024-03).",
        "outcomes": "références ajoutées 412, participants 18; remarque : sur deux sites",
        "summary": "Décrivez-le brièvement (200 à 1 500 caractères).",
        "outcomes_prompt": "Des chiffres à partager ? (par ex. références ajoutées 412, "
        "participants 18; remarque : …)",
        "skip": "passer",
        "bad_consent": "Je ne peux accepter que des études de cas que nous pouvons publier.",
        "yes": "oui",
        "done": "Merci ! Votre étude de cas est soumise sous le numéro #1.",
    },
    "pt": {
        "first": "Um título curto?",
        "short": "O título precisa de pelo menos 5 caracteres (agora tem 3).",
        "kind": "Que tipo de biblioteca? (pública, universitária, nacional, escolar,",
        "bad_kind": "Não conheço o tipo de biblioteca “castillo”. Escolha um destes:",
        "kind_answer": "pública",
        "country": "Alemanha",
        "country_code": "DE",
        "bad_country": "Não conheço o país “Atlántida”. Informe o nome",
        "projects": "Quais projetos da Wikimedia? (wikipedia, wikidata, commons, wikisource, "
        "wikcionário",
        "projects_answer": "wikipedia; wikcionário",
        "activities_answer": "autoridades no Wikidata, editatona",
        "period": "2024-01 em andamento",
        "bad_period": "O fim (2024-01) é anterior ao início (2024-03).",
        "outcomes": "referências adicionadas 412, participantes 18; nota: em duas sedes",
        "summary": "Descreva brevemente (de 200 a 1.500 caracteres).",
        "outcomes_prompt": "Algum número para compartilhar? (por ex. referências adicionadas 412, "
        "participantes 18; nota: …)",
        "skip": "pular",
        "bad_consent": "Só posso aceitar estudos de caso que possamos publicar.",
        "yes": "sim",
        "done": "Obrigado! Seu estudo de caso foi enviado como #1.",
    },
    "de": {
        "first": "Ein kurzer Titel?",
        "short": "Der Titel braucht mindestens 5 Zeichen (jetzt sind es 3).",
        "kind": "Was für eine Bibliothek? (öffentlich, wissenschaftlich, Nationalbibliothek,",
        "bad_kind": "Den Bibliothekstyp „castillo“ kenne ich nicht. Wähle einen davon:",
        "kind_answer": "Öffentlich",
        "country": "Deutschland",
        "country_code": "DE",
        "bad_country": "Das Land „Atlántida“ kenne ich nicht. Gib seinen Namen",
        "projects": "Welche Wikimedia-Projekte? (wikipedia, wikidata, commons, wikisource, "
        "wiktionary",
        "projects_answer": "wikipedia; wiktionary",
        "activities_answer": "Normdaten in Wikidata, Editathon",
        "period": "2024-01 laufend",
        "bad_period": "Das Ende (2024-01) liegt vor dem Anfang (2024-03).",
        "outcomes": "ergänzte Belege 412, Teilnehmende 18; Notiz: an zwei Standorten",
        "summary": "Beschreib es kurz (200 bis 1.500 Zeichen).",
        "outcomes_prompt": "Zahlen zum Teilen? (z. B. ergänzte Belege 412, "
        "Teilnehmende 18; Notiz: …)",
        "skip": "überspringen",
        "bad_consent": "Ich kann nur Fallstudien annehmen, die wir veröffentlichen dürfen.",
        "yes": "ja",
        "done": "Danke! Deine Fallstudie ist als #1 eingereicht.",
    },
}


@pytest.mark.parametrize("lang", sorted(WIZARDS))
async def test_wizard_in_the_members_language(chat: ConsoleChat, lang: str) -> None:
    """A member with ``!lang`` set gets every question, choice list and refusal in their
    language, answers with the words they read (choices, country names, "ongoing", the
    outcomes' names, yes), and the study is stored as written in that language."""
    said = WIZARDS[lang]
    await chat.say(f"!lang {lang}", as_="alice", room="dm")
    first = await chat.say("!casestudy submit")
    assert said["first"] in first
    assert said["short"] in await chat.say("abc")
    await chat.say(GOOD[0])
    await chat.say(GOOD[1])
    kind = await chat.say("q123456")
    assert said["kind"] in kind
    assert said["bad_kind"] in await chat.say("castillo")
    await chat.say(said["kind_answer"])
    assert said["bad_country"] in await chat.say("Atlántida")
    await chat.say(said["country"])
    projects = await chat.say("en; sw")
    assert said["projects"] in projects
    await chat.say(said["projects_answer"])
    await chat.say(said["activities_answer"])
    assert said["bad_period"] in await chat.say("2024-03 2024-01")
    assert said["summary"] in await chat.say(said["period"])
    assert said["outcomes_prompt"] in await chat.say(SUMMARY)
    await chat.say(said["outcomes"])
    await chat.say(said["skip"])  # links
    await chat.say(said["skip"])  # lessons
    await chat.say("User:Example")
    await chat.say("example@lakeside.example")
    assert said["bad_consent"] in await chat.say("no")
    await chat.say(said["yes"])
    await chat.say(said["yes"])  # the licence: CC BY-SA 4.0
    assert said["done"] in await chat.say(said["yes"])
    stored = await study(chat, 1)
    assert stored.written_in == lang
    record = stored.record
    assert record["library_type"] == "public"
    assert record["country"] == said["country_code"]
    assert record["projects"] == ["wikipedia", "wiktionary"]
    assert record["activities"] == ["wikidata_authority", "editathon"]
    assert (record["start"], record["end"]) == ("2024-01", None)
    assert record["outcomes"] == {"citations_added": 412, "participants": 18}
    assert record["outcomes_note"]
    assert record["licence"] == "CC-BY-SA-4.0"


async def test_english_stays_as_it_was_and_stores_en(chat: ConsoleChat) -> None:
    """Without !lang the wizard is in English, choices are the stored codes, and the study
    is stored as written in English (the bot's default)."""
    out = await chat.say("!casestudy submit", as_="alice", room="dm")
    assert "A short title?" in out
    for answer in GOOD[:3]:
        out = await chat.say(answer)
    assert "What kind of library? (public, academic, national, school, special," in out
    await submit_study(chat, "bob")
    assert (await study(chat, 1)).written_in == "en"


async def test_view_shows_labels_in_the_readers_language(chat: ConsoleChat) -> None:
    """``!casestudy view`` names the fields, states and choices in the reader's language."""
    await submit_study(chat, "alice")
    await chat.say("!lang fr", as_="alice", room="dm")
    view = await chat.say("!casestudy view 1")
    assert "Étude de cas #1 (soumise, révision 1) :" in view
    # French spaces its colons: the label and its colon are one message
    assert "• type de bibliothèque : publique" in view
    assert "• écrite en : anglais" in view


#: per language: the country, the languages and "written in" as ``!casestudy view`` names them
PLACES = {
    "en": ("• country: Kenya", "• languages: English; Swahili", "• written in: English"),
    "es": ("• país: Kenia", "• idiomas: inglés; suajili", "• escrito en: inglés"),
    "fr": ("• pays : Kenya", "• langues : anglais; swahili", "• écrite en : anglais"),
    "pt": ("• país: Quênia", "• idiomas: inglês; suaíli", "• escrito em: inglês"),
    "de": ("• Land: Kenia", "• Sprachen: Englisch; Suaheli", "• geschrieben auf: Englisch"),
}


@pytest.mark.parametrize("lang", sorted(PLACES))
async def test_view_names_the_country_and_languages_in_the_readers_language(
    chat: ConsoleChat, lang: str
) -> None:
    """The stored codes (``KE``, ``en; sw``, written in ``en``) are shown by their names in
    the reader's language, from Babel's locale data; the record and the exports keep the
    codes."""
    await submit_study(chat, "alice")
    await chat.say(f"!lang {lang}", as_="alice", room="dm")
    view = await chat.say("!casestudy view 1")
    for line in PLACES[lang]:
        assert line in view, view
    assert "KE" not in view and "en; sw" not in view
    record = (await study(chat, 1)).record
    assert (record["country"], record["languages"]) == ("KE", ["en", "sw"])


async def test_wizard_review_names_the_country_in_the_readers_language(
    chat: ConsoleChat,
) -> None:
    """The wizard's review before submitting shows the country and languages by name."""
    await chat.say("!lang es", as_="alice", room="dm")
    out = await chat.say("!casestudy submit")
    for answer in GOOD:
        out = await chat.say(answer)
    assert "• país: Kenia" in out and "• idiomas: inglés; suajili" in out, out


async def test_view_shows_no_stored_codes_to_a_spanish_reader(chat: ConsoleChat) -> None:
    """Choices, numbers, consent and "ongoing" are shown by their Spanish labels; the stored
    record keeps the codes (exports read them)."""
    answers = list(GOOD)
    answers[8] = "2024-01 ongoing"
    await submit_study(chat, "alice", answers)
    await chat.say("!lang es", as_="alice", room="dm")
    view = await chat.say("!casestudy view 1")
    assert "• cifras: artículos mejorados 230, referencias añadidas 412, participantes 18" in view
    assert "• periodo: 2024-01 → en curso" in view
    assert "• consentimiento: sí" in view
    assert "• actividades: 1lib1ref; editatón" in view
    for code in ("citations_added", "ongoing", "editathon", "yes"):
        assert code not in view
    record = (await study(chat, 1)).record
    assert record["outcomes"]["citations_added"] == 412 and record["activities"][1] == "editathon"
    await chat.say("!lang en")
    assert "• outcomes: articles_improved 230, citations_added 412" in (
        await chat.say("!casestudy view 1")
    )


#: per language: a history line for a claim and for a rejection
HISTORY = {
    "es": ("2. tomado para revisión por ana", "3. devuelto para cambios por ana"),
    "fr": ("2. prise en relecture par ana", "3. renvoyée pour modifications par ana"),
    "pt": ("2. assumido para revisão por ana", "3. devolvido para alterações por ana"),
    "de": (
        "2. zur Prüfung übernommen von ana",
        "3. zur Überarbeitung zurückgeschickt von ana",
    ),
}


@pytest.mark.parametrize("lang", sorted(HISTORY))
async def test_history_says_what_happened_in_the_readers_language(
    chat: ConsoleChat, lang: str
) -> None:
    """``!casestudy history`` describes each action (not ``claim``, ``reject``) and names
    the changed fields in the reader's language; members by their display names, not their
    account ids (``console:ana``)."""
    await submit_study(chat, "alice")
    await chat.say("!casestudy claim 1", as_="ana", room="#general")
    await chat.say("!casestudy reject 1 Add the numbers", as_="ana", room="#general")
    await chat.say(f"!lang {lang}", as_="alice", room="dm")
    history = await chat.say("!casestudy history 1")
    claimed, rejected = HISTORY[lang]
    assert claimed in history and rejected in history, history
    assert " claim " not in history and " reject " not in history
    assert "outcomes_note" not in history and "library_type" not in history
    assert "console:" not in history


async def test_review_room_and_contributor_hear_their_own_language(chat: ConsoleChat) -> None:
    """A refusal names who got there first in the organiser's language; the contributor's
    notice of acceptance is queued for them in theirs."""
    await chat.say("!lang de", as_="alice", room="dm")
    await submit_study(chat, "alice")
    await chat.say("!lang es", as_="ana", room="#general")
    assert "Estás revisando el estudio de caso #1." in await chat.say("!casestudy claim 1")
    again = await chat.say("!casestudy claim 1")
    assert "Ya has tomado para revisión el estudio de caso #1 hace un momento" in again
    assert "ahora está en revisión" in again
    await chat.say("!casestudy accept 1")
    async with chat.bot.db.sessions() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    to_alice = [decode_payload(r.payload) for r in rows if r.member_id == "console:alice"]
    reply, reader = to_alice[-1]
    assert reader.lang == "de"
    said = "".join(text_in(p, reader.lang) for p in reply.parts if isinstance(p, str | Msg))
    assert "Gute Nachricht: Deine Fallstudie #1 (#1Lib1Ref at Lakeside) ist angenommen." in said


async def test_review_room_notice_in_the_rooms_own_language(chat: ConsoleChat) -> None:
    """The notice of a new submission is a post to the review room: written in the room's
    configured language (``bot.room_languages``), whatever the contributor's, looked up by
    the one core helper that announcements and meeting posts use too."""
    from chatbot.dispatch.context import room_reader

    await chat.say("!casestudy reviewroom here", as_="ana", room="#review")
    chat.bot.config.bot.room_languages["console:#review"] = "pt"
    assert room_reader(chat.bot.config, "console:#review").lang == "pt"
    await chat.say("!lang de", as_="alice", room="dm")
    await submit_study(chat, "alice")
    async with chat.bot.db.sessions() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    [(reply, reader)] = [decode_payload(r.payload) for r in rows if r.room_id == "console:#review"]
    assert reader.lang == "pt"
    said = "".join(text_in(p, reader.lang) for p in reply.parts if isinstance(p, str | Msg))
    assert said.startswith("alice enviou o estudo de caso #1: #1Lib1Ref at Lakeside.")


def _record() -> dict[str, object]:
    return fields.validate_record(
        {
            "title": "Postales del puerto",
            "institution": "Biblioteca del Puerto",
            "library_type": "especializada",
            "country": "Brasil",
            "languages": "pt; es",
            "projects": "commons",
            "activities": "digitalización para Commons",
            "period": "2022-06 en curso",
            "summary": SUMMARY,
            "credit": "anónimo",
            "consent": "sí",
            "licence": "sí",
        }
    )


async def test_every_export_keeps_the_language(sqlite_url: str, clock: FakeClock) -> None:
    """JSON, CSV (read back) and wikitext carry the language each study was written in;
    a study stored before it was recorded exports none."""
    chat = await open_cs(sqlite_url, clock)
    try:
        store = CaseStudyStore(chat.bot.db)
        async with chat.bot.db.session() as session:
            for lang in ("es", None):
                row = await store.submit(
                    session, "console:alice", "alice", _record(), clock.now(), written_in=lang
                )
                row.state = PUBLISHED
        items = [public_of(s) for s in await store.in_states((PUBLISHED,))]
    finally:
        await chat.bot.close()
    assert [item["written_in"] for item in items] == ["es", None]
    assert [item["written_in"] for item in json.loads(to_json(items))] == ["es", None]
    csv_text = to_csv(items)
    assert csv_text.splitlines()[0].endswith(",written_in")
    assert read_csv(csv_text) == items
    wiki = to_wikitext(items)
    assert wiki.count("; Written in: Spanish (es)") == 1


async def test_chat_export_file_has_the_language(chat: ConsoleChat) -> None:
    """``!casestudy export json`` (the file sent by DM) holds written_in."""
    await chat.say("!lang pt", as_="alice", room="dm")
    await submit_study(chat, "alice")
    for command in ("claim 1", "accept 1", "publish 1"):
        await chat.say(f"!casestudy {command}", as_="ana", room="#general")
    out = await chat.say("!casestudy export json")
    exported = json.loads(saved_text(out.splitlines()[1]))
    assert exported[0]["written_in"] == "pt"


async def test_upgrade_adds_the_language_column(db_url: str, clock: FakeClock) -> None:
    """A database at casestudies_0002 gains ``written_in`` (empty for existing studies, which
    export with none), and the downgrade drops it again; on SQLite and PostgreSQL."""
    from alembic import command

    from chatbot.storage import MIGRATIONS, Database
    from chatbot.storage.migrate import alembic_config
    from commands import casestudies

    locations = [MIGRATIONS / "versions", casestudies.MIGRATIONS]
    db = Database(db_url, clock)

    def before(conn: Connection) -> None:
        cfg = alembic_config(locations)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "casestudies_0002")
        at = clock.now().replace(tzinfo=None)
        conn.execute(
            text(
                "INSERT INTO case_studies (member_id, state, data, title, country, "
                "library_type, projects, activities, search_text, revision, created_at, "
                "updated_at) VALUES ('console:alice', 'published', :data, 'T', 'KE', "
                "'public', ';', ';', '', 1, :at, :at)"
            ),
            {"at": at, "data": json.dumps({"title": "T", "credit": "x"})},
        )

    def down(conn: Connection) -> list[str]:
        cfg = alembic_config(locations)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "casestudies_0002")
        from sqlalchemy import inspect

        return [c["name"] for c in inspect(conn).get_columns("case_studies")]

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(before)
        await db.upgrade([casestudies.MIGRATIONS])
        store = CaseStudyStore(db)
        [old] = await store.in_states((PUBLISHED,))
        assert old.written_in is None
        assert public_of(old)["written_in"] is None
        async with db.session() as session:
            row = await store.submit(
                session, "console:bob", "bob", _record(), clock.now(), written_in="de"
            )
            number = row.id
        assert (await store.get(number)).written_in == "de"  # type: ignore[union-attr]
        async with db.engine.begin() as conn:
            columns = await conn.run_sync(down)
        assert "written_in" not in columns and "title" in columns
    finally:
        await db.close()


async def test_history_names_members_from_the_member_store(chat: ConsoleChat) -> None:
    """A revision recorded without the actor's name (rows older than the name) shows the
    display name the member store knows; the account id only when it knows none."""
    await submit_study(chat, "alice")
    await chat.say("!casestudy claim 1", as_="ana", room="#general")
    await chat.say("!lang es", as_="ana", room="#general")  # the store now knows "ana"
    async with chat.bot.db.session() as session:
        await session.execute(text("UPDATE case_study_revisions SET actor_name = NULL"))
    history = await chat.say("!casestudy history 1", as_="ana", room="#general")
    assert "1. enviado por console:alice" in history, history
    assert "2. tomado para revisión por ana " in history, history


@pytest.mark.parametrize(
    ("lang", "refusal", "cc0"),
    [
        ("es", "Para publicarlo con CC0 1.0, di: `cc0 sí`", "cc0 sí"),
        ("fr", "Pour la publier plutôt sous CC0 1.0, dites : `cc0 oui`", "cc0 oui"),
        ("pt", "Para publicá-lo sob CC0 1.0, diga: `cc0 sim`", "cc0 sim"),
        ("de", "Um sie stattdessen unter CC0 1.0 freizugeben, sag: `cc0 ja`", "cc0 ja"),
    ],
)
async def test_licence_refusals_show_the_readers_own_yes(
    chat: ConsoleChat, lang: str, refusal: str, cc0: str
) -> None:
    """The licence question's refusals tell the member to type ``cc0`` and their own word
    for yes, and what they are told is what the wizard takes."""
    await chat.say(f"!lang {lang}", as_="alice", room="dm")
    await chat.say("!casestudy submit")
    for answer in GOOD[:-1]:
        await chat.say(answer)
    assert refusal in await chat.say("cc0")
    other = await chat.say("gpl")
    assert f"`{cc0}`" in other and "`cc0 yes`" not in other, other
    await chat.say(cc0)
    await chat.say("yes")
    assert (await study(chat, 1)).record["licence"] == "CC0-1.0"
