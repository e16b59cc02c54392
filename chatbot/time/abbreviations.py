"""Time-zone abbreviations members write: ``PST``, ``CET``, ``WAT``, ``IST``…

Unambiguous ones map to a representative IANA zone that follows daylight saving time; the
ambiguous ones (``IST``, ``CST``, ``BST``, ``AST``, ``SST``) raise
:class:`~chatbot.base.errors.AmbiguousZone` listing the candidates.  Choices:

* ``CET``/``CEST``/``MET`` → ``Europe/Brussels``, ``EET`` → ``Europe/Athens``, ``WET`` →
  ``Europe/Lisbon``: the zones tzdata itself links those legacy names to since 2024b, so the
  choice is IANA's, not ours.  ``MST`` → ``America/Denver`` (Arizona members type Phoenix).
* ``PST`` is the US Pacific zone even though the Philippines also call their time PST; ``PHT``
  and Manila resolve there.  ``GMT`` is not here: it is the fixed offset UTC
  (:mod:`chatbot.time.zone_names`).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from chatbot.base.errors import AmbiguousZone
from chatbot.base.i18n import N_, Plain, _, listing, verbatim

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ZONE_ABBREVIATIONS", "zone_for_abbreviation"]

_US_EASTERN = (("America/New_York", N_("US Eastern")),)
_US_CENTRAL = (("America/Chicago", N_("US Central")),)
_US_MOUNTAIN = (("America/Denver", N_("US Mountain")),)
_US_PACIFIC = (("America/Los_Angeles", N_("US Pacific")),)
_CENTRAL_EUROPE = (("Europe/Brussels", N_("Central Europe")),)

_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    # North America
    "ET": _US_EASTERN,
    "EST": _US_EASTERN,
    "EDT": _US_EASTERN,
    "CT": _US_CENTRAL,
    "CST": (
        ("America/Chicago", N_("US Central")),
        ("Asia/Shanghai", N_("China")),
        ("America/Havana", N_("Cuba")),
    ),
    "CDT": (("America/Chicago", N_("US Central")), ("America/Havana", N_("Cuba"))),
    "MT": _US_MOUNTAIN,
    "MST": _US_MOUNTAIN,
    "MDT": _US_MOUNTAIN,
    "PT": _US_PACIFIC,
    "PST": _US_PACIFIC,
    "PDT": _US_PACIFIC,
    "AKST": (("America/Anchorage", N_("Alaska")),),
    "AKDT": (("America/Anchorage", N_("Alaska")),),
    "HST": (("Pacific/Honolulu", N_("Hawaii")),),
    "AST": (
        ("America/Halifax", N_("Atlantic Canada")),
        ("America/Puerto_Rico", N_("Caribbean")),
        ("Asia/Riyadh", N_("Arabia")),
    ),
    "ADT": (("America/Halifax", N_("Atlantic Canada")),),
    "NST": (("America/St_Johns", N_("Newfoundland")),),
    "NDT": (("America/St_Johns", N_("Newfoundland")),),
    # South America
    "BRT": (("America/Sao_Paulo", N_("Brasília")),),
    "BRST": (("America/Sao_Paulo", N_("Brasília")),),
    "ART": (("America/Argentina/Buenos_Aires", N_("Argentina")),),
    "CLT": (("America/Santiago", N_("Chile")),),
    "CLST": (("America/Santiago", N_("Chile")),),
    "COT": (("America/Bogota", N_("Colombia")),),
    "PET": (("America/Lima", N_("Peru")),),
    "VET": (("America/Caracas", N_("Venezuela")),),
    "BOT": (("America/La_Paz", N_("Bolivia")),),
    "UYT": (("America/Montevideo", N_("Uruguay")),),
    # Europe
    "WET": (("Europe/Lisbon", N_("Western Europe")),),
    "WEST": (("Europe/Lisbon", N_("Western Europe")),),
    "CET": _CENTRAL_EUROPE,
    "CEST": _CENTRAL_EUROPE,
    "MET": _CENTRAL_EUROPE,
    "MEST": _CENTRAL_EUROPE,
    "MEZ": _CENTRAL_EUROPE,
    "MESZ": _CENTRAL_EUROPE,
    "EET": (("Europe/Athens", N_("Eastern Europe")),),
    "EEST": (("Europe/Athens", N_("Eastern Europe")),),
    "MSK": (("Europe/Moscow", N_("Moscow")),),
    "TRT": (("Europe/Istanbul", N_("Türkiye")),),
    "BST": (("Europe/London", N_("British Summer Time")), ("Asia/Dhaka", N_("Bangladesh"))),
    "IST": (
        ("Asia/Kolkata", N_("India")),
        ("Europe/Dublin", N_("Ireland")),
        ("Asia/Jerusalem", N_("Israel")),
    ),
    "IDT": (("Asia/Jerusalem", N_("Israel")),),
    # Africa
    "WAT": (("Africa/Lagos", N_("West Africa")),),
    "CAT": (("Africa/Maputo", N_("Central Africa")),),
    "EAT": (("Africa/Nairobi", N_("East Africa")),),
    "SAST": (("Africa/Johannesburg", N_("South Africa")),),
    # Asia
    "GST": (("Asia/Dubai", N_("Gulf")),),
    "IRST": (("Asia/Tehran", N_("Iran")),),
    "AFT": (("Asia/Kabul", N_("Afghanistan")),),
    "PKT": (("Asia/Karachi", N_("Pakistan")),),
    "NPT": (("Asia/Kathmandu", N_("Nepal")),),
    "ICT": (("Asia/Bangkok", N_("Indochina")),),
    "WIB": (("Asia/Jakarta", N_("Western Indonesia")),),
    "WITA": (("Asia/Makassar", N_("Central Indonesia")),),
    "WIT": (("Asia/Jayapura", N_("Eastern Indonesia")),),
    "MYT": (("Asia/Kuala_Lumpur", N_("Malaysia")),),
    "SGT": (("Asia/Singapore", N_("Singapore")),),
    "PHT": (("Asia/Manila", N_("Philippines")),),
    "PHST": (("Asia/Manila", N_("Philippines")),),
    "HKT": (("Asia/Hong_Kong", N_("Hong Kong")),),
    "JST": (("Asia/Tokyo", N_("Japan")),),
    "KST": (("Asia/Seoul", N_("Korea")),),
    # Oceania
    "AEST": (("Australia/Sydney", N_("Eastern Australia")),),
    "AEDT": (("Australia/Sydney", N_("Eastern Australia")),),
    "ACST": (("Australia/Adelaide", N_("Central Australia")),),
    "ACDT": (("Australia/Adelaide", N_("Central Australia")),),
    "AWST": (("Australia/Perth", N_("Western Australia")),),
    "NZST": (("Pacific/Auckland", N_("New Zealand")),),
    "NZDT": (("Pacific/Auckland", N_("New Zealand")),),
    "SST": (("Pacific/Pago_Pago", N_("Samoa")), ("Asia/Singapore", N_("Singapore"))),
}

#: Upper-case abbreviation → IANA keys; one key means unambiguous.  Read-only.
ZONE_ABBREVIATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {abbr: tuple(key for key, _ in cands) for abbr, cands in _ABBREVIATIONS.items()}
)


def zone_for_abbreviation(abbr: str, *, strict_case: bool = False) -> str | None:
    """The IANA key for a zone abbreviation (``PST`` → ``America/Los_Angeles``), or None.

    Ambiguous abbreviations (``IST``, ``CST``, ``BST``…) raise
    :class:`~chatbot.base.errors.AmbiguousZone` with the candidate keys.  With ``strict_case`` only
    upper-case spellings count, so that a date parser does not read the words "eat" or "cat".
    """
    word = abbr.strip()
    if strict_case and word != word.upper():
        return None
    cands = _ABBREVIATIONS.get(word.upper())
    if cands is None:
        return None
    if len(cands) > 1:
        subject = word.upper()
        listed = listing(
            [verbatim("{key} ({what})", key=Plain(key), what=_(desc)) for key, desc in cands]
        )
        raise AmbiguousZone(
            _(
                "{abbreviation} can mean several zones: {listed}. Which one? "
                "Type one of them, e.g. {first}.",
                abbreviation=Plain(subject),
                listed=listed,
                first=Plain(cands[0][0]),
            ),
            tuple(key for key, _ in cands),
        )
    return cands[0][0]
