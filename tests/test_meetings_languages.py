"""Meetings said and answered in Spanish, French, Portuguese and German: ``!meeting add`` with a
series and a date in the organiser's language, ``!rsvp 1 sim``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from chatbot.base.clock import FakeClock
from chatbot.messages.events import Outgoing, Reader, Reply, Room
from chatbot.messages.localise import localise
from commands import basics, members
from commands import meetings as meetings_module
from commands.meetings.render import rsvp_buttons
from commands.meetings.store import MeetingRow
from tests.harness import ConsoleChat, open_chat
from tests.test_meetings import work

MODULES = [basics.module, members.module, meetings_module.module]


@pytest.fixture
async def chat(db_url: str, clock: FakeClock) -> AsyncIterator[ConsoleChat]:
    chat = await open_chat(db_url, clock, modules=MODULES)
    try:
        yield chat
    finally:
        await chat.bot.close()


async def test_series_added_in_spanish(chat: ConsoleChat) -> None:
    """``cada segundo martes a las 15h`` is the 2nd Tuesday of each month at 15:00 in the
    organiser's zone; the first is 8 December (it is Wednesday 25 November)."""
    await chat.say("!tz set Madrid", as_="ana")
    echo = await chat.say('!meeting add "Llamada" cada segundo martes a las 15h', room="#general")
    assert "(not saved yet)" in echo, echo
    assert "Tue 8 Dec, 15:00 (Madrid) = 2026-12-08 14:00 UTC" in echo
    assert "every 2nd Tuesday of the month" in echo


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('!meeting add "Appel" vendredi prochain à 18h', "Fri 27 Nov, 18:00 (Madrid)"),
        ('!meeting add "Chamada" sexta-feira às 18h', "Fri 27 Nov, 18:00 (Madrid)"),
        ('!meeting add "Anruf" morgen um 18 Uhr', "Thu 26 Nov, 18:00 (Madrid)"),
        ('!meeting add "Llamada" mañana a las 18h', "Thu 26 Nov, 18:00 (Madrid)"),
        ('!meeting add "Réunion" tous les lundis à 10h', "Mon 30 Nov, 10:00 (Madrid)"),
    ],
)
async def test_meeting_dates_in_other_languages(
    chat: ConsoleChat, line: str, expected: str
) -> None:
    await chat.say("!tz set Madrid", as_="ana")
    echo = await chat.say(line, room="#general")
    assert "(not saved yet)" in echo and expected in echo, echo


async def test_rsvp_in_the_members_language(chat: ConsoleChat) -> None:
    """``!rsvp 1 sí|sim|oui|ja``, ``quizás|talvez|peut-être|vielleicht|tal vez``,
    ``no|não|non|nein`` are yes, maybe and no; anything else is refused with the choices."""
    await chat.say('!meeting add "Open call" 2026-12-02 15:00 UTC', as_="ana", room="#general")
    assert "is saved" in await chat.say("!meeting confirm 1")
    answers = {
        "yes": ["sí", "si", "sim", "oui", "ja", "Sí."],
        "maybe": ["quizás", "quizas", "talvez", "peut-être", "vielleicht", "tal vez"],
        "no": ["no", "não", "nao", "non", "nein"],
    }
    said = {"yes": "You're going to #1", "maybe": "Maybe, then, for #1", "no": "Noted: you can't"}
    for answer, words in answers.items():
        for index, word in enumerate(words):
            out = await chat.say(f"!rsvp 1 {word}", as_=f"{answer}{index}")
            assert out.startswith(said[answer]), (word, out)
    shown = await chat.say("!meeting 1", as_="bob")
    assert "Going (6):" in shown and "Maybe (6):" in shown and "Can't come: 5" in shown
    refused = await chat.say("!rsvp 1 bof", as_="zoe")
    assert "'bof' is not one of: `yes`, `no`, `maybe`." in refused
    await chat.say("!lang es", as_="zoe")
    refused = await chat.say("!rsvp 1 bof", as_="zoe")  # the choices in the reader's words
    assert "«bof» no es una de estas opciones: `sí`, `no`, `quizás`." in refused, refused


#: per language: the room post's RSVP hint and ``!meeting N``'s usage line, in the reader's
#: own answer words (each one ``!rsvp`` takes)
RSVP_HINTS = {
    "es": ("¿Vienes? `!rsvp 1 sí`, `… quizás` o `… no`.", "`!rsvp 1 sí|quizás|no`"),
    "fr": ("Vous venez ? `!rsvp 1 oui`, `… peut-être` ou `… non`.", "`!rsvp 1 oui|peut-être|non`"),
    "pt": ("Você vem? `!rsvp 1 sim`, `… talvez` ou `… não`.", "`!rsvp 1 sim|talvez|não`"),
    "de": (
        "Kommst du? `!rsvp 1 ja`, `… vielleicht` oder `… nein`.",
        "`!rsvp 1 ja|vielleicht|nein`",
    ),
}


@pytest.mark.parametrize("lang", sorted(RSVP_HINTS))
async def test_rsvp_hints_show_the_readers_own_answers(chat: ConsoleChat, lang: str) -> None:
    """The room post and ``!meeting N`` tell members to answer with their own words (not
    ``yes``/``maybe``/``no``), and each word shown is one ``!rsvp`` takes."""
    hint, usage = RSVP_HINTS[lang]
    chat.bot.config.bot.room_languages["console:#general"] = lang
    await chat.say('!meeting add "Call" 2026-11-27 15:00 UTC', as_="ana", room="#general")
    await chat.say("!meeting confirm 1")
    posted = await work(chat)
    assert any(line.startswith(hint) for line in posted), posted
    await chat.say(f"!lang {lang}", as_="bob", room="#general")
    shown = await chat.say("!meeting 1", as_="bob")
    assert shown.endswith(usage), shown
    yes, maybe, no = usage.strip("`").split(" ")[-1].split("|")
    for member, word in (("bob", yes), ("carol", maybe), ("dan", no)):
        await chat.say(f"!rsvp 1 {word}", as_=member)
    shown = await chat.say("!meeting 1", as_="bob")
    assert "(1)" in shown.splitlines()[2] and "(1)" in shown.splitlines()[3], shown


@pytest.mark.parametrize(
    ("lang", "none", "help_says", "removed"),
    [
        ("es", "nada", "`nada` la quita", "La reunión n.º 1 ya no tiene enlace al acta."),
        ("fr", "aucun", "`aucun` le retire", "La réunion n° 1 n'a plus de lien vers un compte"),
        ("pt", "nenhum", "`nenhum` remove o link", "A reunião n.º 1 não tem mais link para a ata."),
        ("de", "nichts", "`nichts` entfernt den Link", "Treffen Nr. 1 hat jetzt keinen Protokoll"),
    ],
)
async def test_minutes_removed_with_the_organisers_own_none(
    chat: ConsoleChat, lang: str, none: str, help_says: str, removed: str
) -> None:
    """``!meeting minutes N none``: the help shows "none" in the organiser's language, and
    that word removes the link."""
    await chat.say('!meeting add "Call" 2026-11-27 15:00 UTC', as_="ana", room="#general")
    await chat.say("!meeting confirm 1")
    await chat.say(f"!lang {lang}", as_="ana")
    assert help_says in await chat.say("!help meeting minutes", as_="ana")
    await chat.say("!meeting minutes 1 https://meta.wikimedia.org/wiki/Minutes/1", as_="ana")
    assert removed in await chat.say(f"!meeting minutes 1 {none}", as_="ana")
    async with chat.bot.db.sessions() as session:
        row = await session.get(MeetingRow, 1)
        assert row is not None and row.minutes_link is None


# -- the bot's own words in the member's language -----------------------------------------


async def test_a_member_with_lang_fr_lists_meetings_in_french(chat: ConsoleChat) -> None:
    """``!lang fr``: the list, its dates, the recurrence and the hints are all in French;
    ``!réunions`` is the same command."""
    await chat.say('!meeting add "Open call" 2026-12-02 15:00 UTC --every week', as_="ana")
    assert "is saved" in await chat.say("!meeting confirm 1")
    await chat.say("!lang fr", as_="bob")
    await chat.say("!tz set Europe/Paris", as_="bob")
    listed = await chat.say("!meetings", as_="bob")
    assert listed.splitlines() == [
        "Prochaines réunions :",
        "• #1 Open call — mer. 2 déc., 16:00 (Paris) (chaque semaine)",
        "`!meeting N` en affiche une ; `!rsvp N oui` indique que vous venez.",
    ]  # the answer shown is the reader's word, one `!rsvp` takes
    assert await chat.say("!réunions", as_="bob") == listed
    shown = await chat.say("!meeting 1", as_="bob")
    assert await chat.say("!réunion 1", as_="bob") == shown
    assert shown.startswith("Réunion n° 1 : Open call\n")
    assert "Quand : mer. 2 déc., 16:00 (Paris), chaque semaine (1 h)" in shown
    assert "Viennent (0) : personne pour l'instant" in shown
    assert shown.endswith("`!rsvp 1 oui|peut-être|non`"), shown
    said = await chat.say("!rsvp 1 oui", as_="bob")
    assert said == "Vous venez à #1 Open call (mer. 2 déc., 16:00 (Paris))."


@pytest.mark.parametrize(
    ("lang", "alias", "heading", "rule"),
    [
        ("es", "reuniones", "Próximas reuniones:", "(el segundo martes de cada mes)"),
        ("pt", "reuniões", "Próximas reuniões:", "(toda segunda terça-feira do mês)"),
        ("de", "treffen", "Nächste Treffen:", "(am zweiten Dienstag im Monat)"),
    ],
)
async def test_meetings_listed_in_each_language(
    chat: ConsoleChat, lang: str, alias: str, heading: str, rule: str
) -> None:
    await chat.say(
        '!meeting add "Americas call" 2026-12-08 17:00 UTC --monthly 2nd tuesday', as_="ana"
    )
    assert "is saved" in await chat.say("!meeting confirm 1")
    await chat.say(f"!lang {lang}", as_="bob")
    listed = await chat.say(f"!{alias}", as_="bob")
    assert listed.splitlines()[0] == heading, listed
    assert rule in listed, listed


async def test_reminder_dms_in_each_members_language_and_the_room_post_in_the_rooms(
    chat: ConsoleChat, clock: FakeClock
) -> None:
    """The room is French: its reminder post is in French; a Spanish member's DM is in
    Spanish, and a member who chose no language reads the room's."""
    chat.bot.config.bot.room_languages["console:#general"] = "fr"
    await chat.say('!meeting add "Call" 2026-11-27 15:00 UTC', as_="ana", room="#general")
    # ana chose no language: in this room she reads French too
    assert "est enregistrée" in await chat.say("!meeting confirm 1")
    posted = await work(chat)
    assert posted[0] == "Réunion n° 1 : Call — ven. 27 nov., 15:00 (UTC) (1 h)", posted
    await chat.say("!lang es", as_="bob")
    await chat.say("!tz set Madrid", as_="bob")
    assert "Te enviaré un mensaje directo 1 día antes y 15 minutos antes de cada reunión" in (
        await chat.say("!remind me on", as_="bob")
    )
    await chat.say("!remind me on 1d", as_="carol")
    clock.set(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
    lines = await work(chat)
    assert lines[0].startswith(
        "Rappel (dans 1 jour) : réunion n° 1 Call — ven. 27 nov., 15:00 (UTC)"
    ), lines
    assert (
        "[Mensaje directo a bob] Recordatorio: Call empieza dentro de 1 día, vie, 27 nov, "
        "16:00 (Madrid)." in lines
    ), lines
    assert (
        "[Message privé à carol] Rappel : Call commence dans 1 jour, ven. 27 nov., 15:00 "
        "(UTC)." in lines
    ), lines


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("es", ["Voy", "Quizás", "No puedo"]),
        ("fr", ["J'y serai", "Peut-être", "Je ne peux pas"]),
        ("pt", ["Vou", "Talvez", "Não posso"]),
        ("de", ["Ich komme", "Vielleicht", "Kann nicht"]),
        ("en", ["Going", "Maybe", "Can't"]),
    ],
)
def test_rsvp_buttons_in_the_readers_language(lang: str, labels: list[str]) -> None:
    """The buttons under a meeting, as a reader in ``lang`` gets them (same commands)."""
    room = Room("console:#general", "console", "#general")
    out = localise(Outgoing(room, Reply.of("x", buttons=rsvp_buttons(3)), Reader(None, lang)))
    assert [b.label for b in out.reply.buttons] == labels
    assert [b.command for b in out.reply.buttons] == ["rsvp 3 yes", "rsvp 3 maybe", "rsvp 3 no"]


#: "every nth weekday of the month" for Monday and Sunday, first and last, per language:
#: the ordinal agrees with the weekday (Portuguese: a segunda-feira, o domingo)
MONTHLY = {
    "pt": (
        "toda primeira segunda-feira do mês",
        "todo primeiro domingo do mês",
        "todo último sábado do mês",
        "toda última sexta-feira do mês",
    ),
    "es": (
        "el primer lunes de cada mes",
        "el primer domingo de cada mes",
        "el último sábado de cada mes",
        "el último viernes de cada mes",
    ),
    "fr": (
        "le premier lundi de chaque mois",
        "le premier dimanche de chaque mois",
        "le dernier samedi de chaque mois",
        "le dernier vendredi de chaque mois",
    ),
    "de": (
        "am ersten Montag im Monat",
        "am ersten Sonntag im Monat",
        "am letzten Samstag im Monat",
        "am letzten Freitag im Monat",
    ),
}


@pytest.mark.parametrize("lang", sorted(MONTHLY))
def test_monthly_ordinals_agree_with_the_weekday(lang: str) -> None:
    """The monthly rule as a member reads it: one message per ordinal and weekday, so
    Portuguese says "primeira segunda-feira" but "primeiro domingo"."""
    from chatbot.messages.localise import text_in
    from commands.meetings.series import MONTHLY_NTH, Rule

    rules = (
        Rule(MONTHLY_NTH, 1, 1, 0),
        Rule(MONTHLY_NTH, 1, 1, 6),
        Rule(MONTHLY_NTH, 1, -1, 5),
        Rule(MONTHLY_NTH, 1, -1, 4),
    )
    said = tuple(text_in(rule.words() or "", lang) for rule in rules)
    assert said == MONTHLY[lang]
    assert rules[1].describe() == "every 1st Sunday of the month"  # English as before


async def test_a_portuguese_organiser_reads_the_series_with_the_right_gender(
    chat: ConsoleChat,
) -> None:
    await chat.say("!lang pt", as_="ana")
    await chat.say("!tz set Lisbon")
    echo = await chat.say('!meeting add "Encontro" primeiro domingo do mês às 15h', room="#general")
    assert "todo primeiro domingo do mês" in echo, echo
    assert "toda primeiro" not in echo


#: per language: the words `!remind me` is shown with (on, off), the confirmation's start,
#: and `!tz set <city>`'s placeholder
REMIND_WORDS = {
    "es": ("activar", "desactivar", "Te enviaré un mensaje directo", "<ciudad>"),
    "fr": ("activer", "désactiver", "Je vous enverrai un message privé", "<ville>"),
    "pt": ("ativar", "desativar", "Vou te mandar uma mensagem direta", "<cidade>"),
    "de": ("an", "aus", "Ich schreibe dir", "<Stadt>"),
}


@pytest.mark.parametrize("lang", sorted(REMIND_WORDS))
async def test_remind_me_in_the_members_own_words(chat: ConsoleChat, lang: str) -> None:
    """``!remind me activar`` (``activer``, ``ativar``, ``an``) turns reminders on, and the
    reply tells the member to stop them with their own word, which works; an unknown word is
    refused with the two words of their language, not English ``on``/``off``."""
    on, off, start, city = REMIND_WORDS[lang]
    await chat.say(f"!lang {lang}", as_="bob")
    said = await chat.say(f"!remind me {on}", as_="bob")
    assert said.startswith(start) and f"`!remind me {off}`" in said, said
    assert "remind me off" not in said and f"`!tz set {city}`" in said, said
    refused = await chat.say("!remind me bof", as_="bob")
    assert refused.splitlines()[0].endswith(f": `{on}`, `{off}`."), refused
    stopped = await chat.say(f"!remind me {off}", as_="bob")
    assert "Meeting reminders are off." not in stopped and stopped.endswith("."), stopped
    helped = await chat.say("!help remind me", as_="bob")
    assert f"`{on} [1d,15m]`" in helped and f"`{off}`" in helped, helped
    again = await chat.say("!remind via auto", as_="bob")
    assert f"`!remind me {on}`" in again and "remind me on" not in again, again


async def test_remind_me_accepts_yes_and_no_in_any_language(chat: ConsoleChat) -> None:
    """The English words stay, and a yes or no in the five languages switches too."""
    for word, expected in [("on", "I'll DM you"), ("sí", "I'll DM you"), ("ja", "I'll DM you")]:
        assert (await chat.say(f"!remind me {word}", as_="bob")).startswith(expected), word
    for word in ("off", "nein", "desactivar", "aus"):
        assert "Meeting reminders are off." in await chat.say(f"!remind me {word}", as_="bob")
