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

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ZONE_ABBREVIATIONS", "zone_for_abbreviation"]

_US_EASTERN = (("America/New_York", "US Eastern"),)
_US_CENTRAL = (("America/Chicago", "US Central"),)
_US_MOUNTAIN = (("America/Denver", "US Mountain"),)
_US_PACIFIC = (("America/Los_Angeles", "US Pacific"),)
_CENTRAL_EUROPE = (("Europe/Brussels", "Central Europe"),)

_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    # North America
    "ET": _US_EASTERN,
    "EST": _US_EASTERN,
    "EDT": _US_EASTERN,
    "CT": _US_CENTRAL,
    "CST": (
        ("America/Chicago", "US Central"),
        ("Asia/Shanghai", "China"),
        ("America/Havana", "Cuba"),
    ),
    "CDT": (("America/Chicago", "US Central"), ("America/Havana", "Cuba")),
    "MT": _US_MOUNTAIN,
    "MST": _US_MOUNTAIN,
    "MDT": _US_MOUNTAIN,
    "PT": _US_PACIFIC,
    "PST": _US_PACIFIC,
    "PDT": _US_PACIFIC,
    "AKST": (("America/Anchorage", "Alaska"),),
    "AKDT": (("America/Anchorage", "Alaska"),),
    "HST": (("Pacific/Honolulu", "Hawaii"),),
    "AST": (
        ("America/Halifax", "Atlantic Canada"),
        ("America/Puerto_Rico", "Caribbean"),
        ("Asia/Riyadh", "Arabia"),
    ),
    "ADT": (("America/Halifax", "Atlantic Canada"),),
    "NST": (("America/St_Johns", "Newfoundland"),),
    "NDT": (("America/St_Johns", "Newfoundland"),),
    # South America
    "BRT": (("America/Sao_Paulo", "Brasília"),),
    "BRST": (("America/Sao_Paulo", "Brasília"),),
    "ART": (("America/Argentina/Buenos_Aires", "Argentina"),),
    "CLT": (("America/Santiago", "Chile"),),
    "CLST": (("America/Santiago", "Chile"),),
    "COT": (("America/Bogota", "Colombia"),),
    "PET": (("America/Lima", "Peru"),),
    "VET": (("America/Caracas", "Venezuela"),),
    "BOT": (("America/La_Paz", "Bolivia"),),
    "UYT": (("America/Montevideo", "Uruguay"),),
    # Europe
    "WET": (("Europe/Lisbon", "Western Europe"),),
    "WEST": (("Europe/Lisbon", "Western Europe"),),
    "CET": _CENTRAL_EUROPE,
    "CEST": _CENTRAL_EUROPE,
    "MET": _CENTRAL_EUROPE,
    "MEST": _CENTRAL_EUROPE,
    "MEZ": _CENTRAL_EUROPE,
    "MESZ": _CENTRAL_EUROPE,
    "EET": (("Europe/Athens", "Eastern Europe"),),
    "EEST": (("Europe/Athens", "Eastern Europe"),),
    "MSK": (("Europe/Moscow", "Moscow"),),
    "TRT": (("Europe/Istanbul", "Türkiye"),),
    "BST": (("Europe/London", "British Summer Time"), ("Asia/Dhaka", "Bangladesh")),
    "IST": (
        ("Asia/Kolkata", "India"),
        ("Europe/Dublin", "Ireland"),
        ("Asia/Jerusalem", "Israel"),
    ),
    "IDT": (("Asia/Jerusalem", "Israel"),),
    # Africa
    "WAT": (("Africa/Lagos", "West Africa"),),
    "CAT": (("Africa/Maputo", "Central Africa"),),
    "EAT": (("Africa/Nairobi", "East Africa"),),
    "SAST": (("Africa/Johannesburg", "South Africa"),),
    # Asia
    "GST": (("Asia/Dubai", "Gulf"),),
    "IRST": (("Asia/Tehran", "Iran"),),
    "AFT": (("Asia/Kabul", "Afghanistan"),),
    "PKT": (("Asia/Karachi", "Pakistan"),),
    "NPT": (("Asia/Kathmandu", "Nepal"),),
    "ICT": (("Asia/Bangkok", "Indochina"),),
    "WIB": (("Asia/Jakarta", "Western Indonesia"),),
    "WITA": (("Asia/Makassar", "Central Indonesia"),),
    "WIT": (("Asia/Jayapura", "Eastern Indonesia"),),
    "MYT": (("Asia/Kuala_Lumpur", "Malaysia"),),
    "SGT": (("Asia/Singapore", "Singapore"),),
    "PHT": (("Asia/Manila", "Philippines"),),
    "PHST": (("Asia/Manila", "Philippines"),),
    "HKT": (("Asia/Hong_Kong", "Hong Kong"),),
    "JST": (("Asia/Tokyo", "Japan"),),
    "KST": (("Asia/Seoul", "Korea"),),
    # Oceania
    "AEST": (("Australia/Sydney", "Eastern Australia"),),
    "AEDT": (("Australia/Sydney", "Eastern Australia"),),
    "ACST": (("Australia/Adelaide", "Central Australia"),),
    "ACDT": (("Australia/Adelaide", "Central Australia"),),
    "AWST": (("Australia/Perth", "Western Australia"),),
    "NZST": (("Pacific/Auckland", "New Zealand"),),
    "NZDT": (("Pacific/Auckland", "New Zealand"),),
    "SST": (("Pacific/Pago_Pago", "Samoa"), ("Asia/Singapore", "Singapore")),
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
        listed = ", ".join(f"{key} ({desc})" for key, desc in cands)
        raise AmbiguousZone(
            f"{subject} can mean several zones: {listed}. Which one? "
            f"Type one of them, e.g. {cands[0][0]}.",
            tuple(key for key, _ in cands),
        )
    return cands[0][0]
