"""Date phrases in Spanish, French, Portuguese and German, read in the member's zone by the
same rules as English ones: chatbot.time.parse with dateparser's translation."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from chatbot.base.errors import AmbiguousZone, BadArgument
from chatbot.time import phrase_dateparser
from chatbot.time.parse import parse_details, parse_details_sync, parse_when_sync
from chatbot.time.phrase_languages import language_order, rewrite
from chatbot.time.when_cli import when_main

#: Wednesday 25 November 2026, 12:00 UTC: 13:00 in Paris, 20:00 in Manila.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PARIS = "Europe/Paris"
MANILA = "Asia/Manila"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def when(text: str, zone: str | None = PARIS, now: datetime = NOW, **kw: Any) -> datetime:
    return parse_when_sync(text, zone_key=zone, now=now, **kw)


def refusal(text: str, zone: str | None = PARIS, **kw: Any) -> str:
    with pytest.raises(BadArgument) as info:
        parse_when_sync(text, zone_key=zone, now=NOW, **kw)
    return str(info.value)


# (phrase, expected in Paris, expected in Manila), by language.
PHRASES = {
    "es": [
        ("mañana a las 18h", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("viernes 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
        ("el viernes a las 18:30", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("el próximo lunes a las 10h", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("el lunes que viene a las 10", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("el 3 de diciembre a las 16h", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("3 de diciembre de 2026 a las 16:00", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("sábado a las 8 de la tarde", "2026-11-28 19:00", "2026-11-28 12:00"),
        ("esta noche a las 9", "2026-11-25 20:00", "2026-11-25 13:00"),
        ("pasado mañana a las 9", "2026-11-27 08:00", "2026-11-27 01:00"),
        ("la semana que viene el miércoles a las 14h", "2026-12-02 13:00", "2026-12-02 06:00"),
        ("viernes a las 18 y media", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("mañana a mediodía", "2026-11-26 11:00", "2026-11-26 04:00"),
        ("hoy a las 22h", "2026-11-25 21:00", "2026-11-25 14:00"),
        ("dentro de 2 horas", "2026-11-25 14:00", "2026-11-25 14:00"),
        ("en media hora", "2026-11-25 12:30", "2026-11-25 12:30"),
        ("manana 18h", "2026-11-26 17:00", "2026-11-26 10:00"),  # no accents
        ("proximo sabado 20h", "2026-11-28 19:00", "2026-11-28 12:00"),
    ],
    "fr": [
        ("demain 9h", "2026-11-26 08:00", "2026-11-26 01:00"),
        ("demain 18h", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("vendredi 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
        ("vendredi à 18h30", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("lundi prochain à 10h", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("le 3 décembre à 16h", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("le 1er décembre 2026 à 10h", "2026-12-01 09:00", "2026-12-01 02:00"),
        ("ce soir à 21h", "2026-11-25 20:00", "2026-11-25 13:00"),
        ("samedi à 8h du soir", "2026-11-28 19:00", "2026-11-28 12:00"),
        ("après-demain à 9h", "2026-11-27 08:00", "2026-11-27 01:00"),
        ("la semaine prochaine mercredi 14h", "2026-12-02 13:00", "2026-12-02 06:00"),
        ("demain midi", "2026-11-26 11:00", "2026-11-26 04:00"),
        ("aujourd'hui 22h", "2026-11-25 21:00", "2026-11-25 14:00"),
        ("dans 2 heures", "2026-11-25 14:00", "2026-11-25 14:00"),
        ("dans 1h30", "2026-11-25 13:30", "2026-11-25 13:30"),
        ("apres-demain 9h", "2026-11-27 08:00", "2026-11-27 01:00"),  # no accents
    ],
    "pt": [
        ("amanhã às 18:00", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("amanhã às 18h", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("sexta-feira 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
        ("sexta feira às 18h", "2026-11-27 17:00", "2026-11-27 10:00"),
        ("na sexta às 18h30", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("próxima segunda às 10h", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("segunda que vem às 10h", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("3 de dezembro às 16h", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("dia 3 de dezembro de 2026 às 16h", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("sábado às 8 da noite", "2026-11-28 19:00", "2026-11-28 12:00"),
        ("hoje à noite às 9", "2026-11-25 20:00", "2026-11-25 13:00"),
        ("depois de amanhã às 9h", "2026-11-27 08:00", "2026-11-27 01:00"),
        ("amanhã ao meio-dia", "2026-11-26 11:00", "2026-11-26 04:00"),
        ("daqui a 2 horas", "2026-11-25 14:00", "2026-11-25 14:00"),
        ("em 2 horas", "2026-11-25 14:00", "2026-11-25 14:00"),
        ("amanha as 18h", "2026-11-26 17:00", "2026-11-26 10:00"),  # no accents
    ],
    "de": [
        ("morgen um 18 Uhr", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("morgen um 18:00", "2026-11-26 17:00", "2026-11-26 10:00"),
        ("Freitag 18 Uhr", "2026-11-27 17:00", "2026-11-27 10:00"),
        ("am Freitag um 18.30 Uhr", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("Freitag um 18 Uhr 30", "2026-11-27 17:30", "2026-11-27 10:30"),
        ("nächsten Montag um 10 Uhr", "2026-11-30 09:00", "2026-11-30 02:00"),
        ("am 3. Dezember um 16 Uhr", "2026-12-03 15:00", "2026-12-03 08:00"),
        ("Samstag um 8 Uhr abends", "2026-11-28 19:00", "2026-11-28 12:00"),
        ("heute abend um 9", "2026-11-25 20:00", "2026-11-25 13:00"),
        ("morgen früh um 9", "2026-11-26 08:00", "2026-11-26 01:00"),
        ("übermorgen um 9 Uhr", "2026-11-27 08:00", "2026-11-27 01:00"),
        ("nächste Woche Mittwoch 14 Uhr", "2026-12-02 13:00", "2026-12-02 06:00"),
        ("in 2 Stunden", "2026-11-25 14:00", "2026-11-25 14:00"),
        ("naechsten Freitag 18 Uhr", "2026-11-27 17:00", "2026-11-27 10:00"),  # no umlaut
    ],
}
CASES = [
    pytest.param(phrase, paris, manila, id=f"{language}: {phrase}")
    for language, rows in PHRASES.items()
    for phrase, paris, manila in rows
]


@pytest.mark.parametrize(("phrase", "paris", "manila"), CASES)
def test_phrase_read_in_member_zone(phrase: str, paris: str, manila: str) -> None:
    """Each phrase means its day and time in the member's own zone, with or without !lang."""
    assert when(phrase, PARIS) == utc(paris)
    assert when(phrase, MANILA) == utc(manila)


@pytest.mark.parametrize("language", list(PHRASES))
def test_member_language_gives_the_same_readings(language: str) -> None:
    """With the member's ``!lang`` set (``pt-BR`` is Portuguese) the readings do not change:
    the language is only tried first."""
    lang = "pt-BR" if language == "pt" else language
    for phrase, paris, _ in PHRASES[language]:
        assert when(phrase, PARIS, lang=lang) == utc(paris), phrase


@pytest.mark.parametrize(
    ("phrase", "english"),
    [
        ("viernes 18h", "friday 18h"),
        ("vendredi 9h", "friday 9h"),
        ("sexta-feira 18h", "friday 18h"),
        ("Freitag 9 Uhr", "friday 9h"),
        ("este viernes 9h", "this friday 9h"),
        ("vendredi prochain 9h", "next friday 9h"),
    ],
)
def test_same_rules_as_english(phrase: str, english: str) -> None:
    """A weekday said on that weekday is today if the time is still to come, else a week later,
    exactly as in English (dateparser alone would always say a week later)."""
    for now in (utc("2026-11-27 07:00"), utc("2026-11-27 12:00")):  # a Friday, Paris 8h, 13h
        assert when(phrase, PARIS, now) == when(english, PARIS, now), (phrase, now)


def test_zone_named_in_phrase_and_places() -> None:
    """A zone or a place written after the phrase wins over the member's zone; places may be
    named in the member's language."""
    assert when("viernes 18h CET", MANILA) == utc("2026-11-27 17:00")
    assert when("mañana 18h ciudad de méxico", PARIS) == utc("2026-11-27 00:00")
    assert when("viernes 18h Alemania", MANILA) == utc("2026-11-27 17:00")
    assert when("demain 9h Allemagne", MANILA) == utc("2026-11-26 08:00")
    assert when("Freitag 18 Uhr in Wien", MANILA) == utc("2026-11-27 17:00")
    assert when("amanhã às 18h em Lisboa", MANILA) == utc("2026-11-26 18:00")
    assert when("viernes a las 18h en Nueva York", PARIS) == utc("2026-11-27 23:00")
    assert when("jeudi 18h Genève", MANILA) == utc("2026-11-26 17:00")
    with pytest.raises(AmbiguousZone, match="Brasil can be in several zones"):
        when("sexta 18h Brasil", PARIS)


@pytest.mark.parametrize("phrase", ["18h mañana", "18:00 mayo 3", "18h demain", "18 Uhr morgen"])
def test_date_words_are_not_places(phrase: str) -> None:
    """Date words of the four languages ending a phrase are read as dates, never as towns."""
    parsed = parse_details_sync(phrase, zone_key=PARIS, now=NOW)
    assert not parsed.zone_named_in_phrase
    assert parsed.zone_key == PARIS


def test_member_language_decides_between_readings() -> None:
    """``do`` is Sunday (domingo) in Spanish and Thursday (Donnerstag) in German: the member's
    language decides; without one, Spanish comes before German."""
    assert when("do 18:00", PARIS) == utc("2026-11-29 17:00")
    assert when("do 18:00", PARIS, lang="de") == utc("2026-11-26 17:00")
    assert when("do 18:00", PARIS, lang="de-AT") == utc("2026-11-26 17:00")


def test_refusals_say_what_is_missing() -> None:
    assert "has a day but no time" in refusal("viernes")
    assert "has a day but no time" in refusal("mañana")
    assert "has a day but no time" in refusal("demain")
    assert "Did you mean 'viernes 18h'?" in refusal("vierne 18h")
    assert "is a Thursday, not a Friday" in refusal("vendredi 3 décembre 2026 18h")
    assert "There is no 31 February" in refusal("31 de febrero a las 10h")
    assert "Midnight' with a day" in refusal("vendredi minuit")
    assert "'25h' is not a time of day" in refusal("viernes 25h")


def test_a_month_without_its_day_is_refused() -> None:
    """dateparser would take today's day of the month for ``diciembre 18h``; the member is
    asked for the day instead, as for ``december 18:00``."""
    for phrase in ("diciembre 18h", "18:00 mayo", "décembre 18h", "december 18:00"):
        assert "is not a single day" in refusal(phrase), phrase


def test_details_of_a_relative_phrase() -> None:
    parsed = parse_details_sync("dans 2 heures", zone_key=PARIS, now=NOW)
    assert parsed.relative and parsed.at == utc("2026-11-25 14:00")


async def test_async_reads_other_languages() -> None:
    parsed = await parse_details("sexta-feira 18h", zone_key="America/Sao_Paulo", now=NOW)
    assert parsed.at == utc("2026-11-27 21:00")


def test_cli_lang(capsys: pytest.CaptureFixture[str]) -> None:
    """``chatbot when`` reads the same phrases; ``--lang`` is the member's language."""
    now = ["--now", "2026-11-25T12:00Z"]
    assert when_main(["mañana a las 18h", "--zone", "Madrid", *now]) == 0
    assert capsys.readouterr().out == "2026-11-26T17:00:00+00:00\n"
    assert when_main(["do 18 Uhr", "--zone", "Berlin", "--lang", "de", *now]) == 0
    assert capsys.readouterr().out == "2026-11-26T17:00:00+00:00\n"


def test_import_loads_no_language() -> None:
    """Importing the parser loads neither dateparser nor the language rules: both come with
    the first phrase that needs them."""
    lazy = "('dateparser', 'chatbot.time.phrase_languages')"
    code = f"import sys, chatbot.time.parse; print([m for m in {lazy} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the rewrites, without dateparser -----------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "language", "rewritten"),
    [
        ("el próximo viernes a las 6 de la tarde", "es", "next viernes 18:00"),
        ("el lunes que viene a las 10", "es", "next lunes 10:00"),
        ("esta noche a las 9", "es", "today 21:00"),
        ("vendredi prochain à 18:00", "fr", "next vendredi 18:00"),
        ("ce soir 21:00", "fr", "today 21:00"),
        ("le 1er décembre à 10:00", "fr", "1 décembre 10:00"),
        ("na sexta às 8 da noite", "pt", "sexta 20:00"),
        ("segunda que vem às 10:00", "pt", "next segunda 10:00"),
        ("am freitag um 18 uhr 30", "de", "freitag 18:30"),
        ("nächsten montag um 10 uhr", "de", "next montag 10:00"),
        ("dans 2 heures", "fr", "in 2 heures"),
        ("dentro de una hora y media", "es", "in 90 min"),
    ],
)
def test_rewrites(phrase: str, language: str, rewritten: str) -> None:
    assert rewrite(phrase, language) == rewritten


def test_language_order() -> None:
    assert language_order(None) == ("en", "es", "fr", "pt", "de")
    assert language_order("pt-BR") == ("pt", "en", "es", "fr", "de")
    assert language_order("it") == ("en", "es", "fr", "pt", "de")


def test_our_english_words_survive_translation() -> None:
    """The English words the rewrites put in a phrase are left alone by every locale's
    translation (a dateparser upgrade that translated them would break the readings)."""
    phrase_dateparser.get_parser()
    words = "next this coming today tomorrow day after tomorrow noon midnight 18:00 90"
    for language in ("es", "fr", "pt", "de"):
        assert phrase_dateparser._translate(language, words).split() == words.split(), language
