"""Weekday, month and date words of the other languages members write: es, fr, pt, de.

dateparser reads these languages' date phrases (:mod:`chatbot.time.phrase_languages`); the
lists here are for code that must recognise such words *without* loading dateparser: the
place pre-pass, which must not take ``mañana`` or ``mayo`` at the end of a phrase for a town
(:mod:`chatbot.time.phrase_prepass`), and readers of weekdays outside date phrases (meeting
recurrences: ``cada martes``, ``tous les lundis``).  Words are lower case, with their accents;
:func:`fold` gives the spelling members type without them (``miercoles``, ``terca``), and
:func:`tolerant` / :func:`any_of` regular expressions that match either spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

#: The languages besides English whose date phrases, answers and recurrences are read.
OTHER_LANGUAGES: Final = ("es", "fr", "pt", "de")


def fold(text: str) -> str:
    """``text`` without accents (``miércoles`` → ``miercoles``, ``März`` → ``Marz``)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_UMLAUTS: Final = {"ä": "ae", "ö": "oe", "ü": "ue"}


def tolerant(words: str) -> str:
    """A regular expression for ``words`` that also matches them typed without accents
    (``manana``, ``apres-midi``, ``naechsten``), with any spacing, either apostrophe, and a
    hyphen or not (``sexta feira``)."""
    out: list[str] = []
    for ch in words:
        plain = fold(ch)
        if ch in _UMLAUTS:
            out.append(f"(?:{ch}|{plain}|{_UMLAUTS[ch]})")
        elif plain != ch:
            out.append(f"[{ch}{plain}]")
        elif ch in "'’":
            out.append("['’]")
        elif ch == " ":
            out.append(r"\s+")
        elif ch == "-":
            out.append(r"[-\s]?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def any_of(words: Iterable[str]) -> str:
    """``(?:a|b|c)`` for ``words``, longest first, each :func:`tolerant`."""
    ordered = sorted(set(words), key=len, reverse=True)
    return "(?:" + "|".join(tolerant(w) for w in ordered) + ")"


#: Weekday names (full, short and abbreviated) → 0 = Monday, per language.
WEEKDAYS: Final[dict[str, dict[str, int]]] = {
    "es": {
        "lunes": 0, "lun": 0, "martes": 1, "mar": 1, "miércoles": 2, "mié": 2, "jueves": 3,
        "jue": 3, "viernes": 4, "vie": 4, "sábado": 5, "sáb": 5, "domingo": 6, "dom": 6,
    },
    "fr": {
        "lundi": 0, "lun": 0, "mardi": 1, "mar": 1, "mercredi": 2, "mer": 2, "jeudi": 3,
        "jeu": 3, "vendredi": 4, "ven": 4, "samedi": 5, "sam": 5, "dimanche": 6, "dim": 6,
    },
    "pt": {
        "segunda-feira": 0, "segunda": 0, "seg": 0, "terça-feira": 1, "terça": 1, "ter": 1,
        "quarta-feira": 2, "quarta": 2, "qua": 2, "quinta-feira": 3, "quinta": 3, "qui": 3,
        "sexta-feira": 4, "sexta": 4, "sex": 4, "sábado": 5, "sáb": 5, "domingo": 6, "dom": 6,
    },
    "de": {
        "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4,
        "samstag": 5, "sonnabend": 5, "sonntag": 6,
    },
}  # fmt: skip

#: Month names (full and abbreviated) → 1 = January, per language.
MONTHS: Final[dict[str, dict[str, int]]] = {
    "es": {
        "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "abril": 4, "abr": 4,
        "mayo": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
        "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "octubre": 10, "oct": 10,
        "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
    },
    "fr": {
        "janvier": 1, "janv": 1, "février": 2, "févr": 2, "mars": 3, "avril": 4, "avr": 4,
        "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "septembre": 9, "sept": 9,
        "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "décembre": 12, "déc": 12,
    },
    "pt": {
        "janeiro": 1, "jan": 1, "fevereiro": 2, "fev": 2, "março": 3, "abril": 4, "abr": 4,
        "maio": 5, "mai": 5, "junho": 6, "jun": 6, "julho": 7, "jul": 7, "agosto": 8, "ago": 8,
        "setembro": 9, "set": 9, "outubro": 10, "out": 10, "novembro": 11, "nov": 11,
        "dezembro": 12, "dez": 12,
    },
    "de": {
        "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "april": 4, "mai": 5, "juni": 6,
        "juli": 7, "august": 8, "september": 9, "oktober": 10, "okt": 10, "november": 11,
        "dezember": 12, "dez": 12,
    },
}  # fmt: skip

# Days, parts of the day, "next", units: words that end date phrases in these languages.
_OTHER_WORDS: Final = """
    hoy mañana pasado ayer anteayer ahora noche tarde madrugada mediodía medianoche próximo
    próxima que viene semana semanas hora horas minuto minutos día días mes meses año años hs
    aujourd'hui demain après-demain hier maintenant soir matin après-midi midi minuit prochain
    prochaine semaine semaines heure heures jour jours mois an ans année
    hoje amanhã depois ontem agora noite manhã meio-dia meia-noite vem dia dias mês ano anos
    heute morgen übermorgen gestern jetzt abend abends früh morgens vormittag vormittags
    nachmittag nachmittags mittag mittags mitternacht nacht nachts nächste nächsten nächster
    nächstes kommende kommenden woche wochen uhr stunde stunden tag tage tagen monat jahr
    media medio meia demi demie halbe anderthalb y e et und
""".split()  # noqa: SIM905


def _date_words() -> frozenset[str]:
    words = set(_OTHER_WORDS)
    for table in (*WEEKDAYS.values(), *MONTHS.values()):
        words.update(table)
    words.update(w + "s" for table in WEEKDAYS.values() for w in table if len(w) > 3)
    return frozenset(words | {fold(w) for w in words})


#: Every word above, with and without accents, lower case.
DATE_WORDS: Final = _date_words()
