"""Zone names that need no guessing: UTC offsets, IANA names, and the :class:`Zone` type.

* fixed UTC offsets: ``UTC+5:30``, ``GMT-3``, ``+0530``, ``UTC``, ``Z`` (``-12:00`` to ``+14:00``,
  minutes :00/:15/:30/:45), stored as ``UTC+05:30`` / ``UTC-03:00`` / ``UTC``;
* IANA names in any case, with spaces or underscores (``america/sao paulo``); legacy aliases
  (``US/Eastern``, ``Asia/Calcutta``) are stored under their canonical name.  ``Etc/GMT+3`` is
  read with IANA's inverted sign and stored as ``UTC-03:00``, so members never see the confusing
  ``GMT+3``; ``GMT`` is the fixed offset UTC, not London;
* abbreviations, through :mod:`chatbot.time.abbreviations`.

:func:`lookup_exact` reads all three and never guesses (the date parser's zone pre-pass uses
it); stored keys come back through :func:`zone_from_key` (cached).  The text helpers here
(:func:`norm`) are the comparison form places are indexed under too.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Plain, _
from chatbot.time.abbreviations import zone_for_abbreviation

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MAX_INPUT_LENGTH",
    "Zone",
    "fold",
    "label_for_key",
    "lookup_exact",
    "norm",
    "norm_key",
    "parse_offset",
    "zone_from_key",
]

#: Longer input is refused before any lookup (the longest IANA name has 32 characters).
MAX_INPUT_LENGTH = 80
_MIN_OFFSET_MINUTES = -12 * 60
_MAX_OFFSET_MINUTES = 14 * 60


@dataclass(frozen=True, slots=True)
class Zone:
    """A member's time zone.  Two zones are equal when their keys are."""

    #: What is stored: an IANA name (``Europe/Paris``) or ``UTC``, ``UTC+05:30``, ``UTC-03:00``.
    key: str
    tzinfo: ZoneInfo | timezone = field(compare=False, repr=False)
    #: Short name for rendering: ``Paris``, ``São Paulo``, ``UTC+05:30``, ``UTC``.
    label: str = field(compare=False)
    is_fixed_offset: bool = field(compare=False)


# Legacy IANA names → canonical ones (tzdata's ``backward`` links whose alias is not a zone.tab
# entry of its own; zone.tab entries such as Europe/Amsterdam or Africa/Accra stay themselves).
_ALIAS_DATA = """
Africa/Asmera>Africa/Asmara Africa/Timbuktu>Africa/Bamako
America/Argentina/ComodRivadavia>America/Argentina/Catamarca America/Atka>America/Adak
America/Buenos_Aires>America/Argentina/Buenos_Aires America/Catamarca>America/Argentina/Catamarca
America/Coral_Harbour>America/Atikokan America/Cordoba>America/Argentina/Cordoba
America/Ensenada>America/Tijuana America/Fort_Wayne>America/Indiana/Indianapolis
America/Godthab>America/Nuuk America/Indianapolis>America/Indiana/Indianapolis
America/Jujuy>America/Argentina/Jujuy America/Knox_IN>America/Indiana/Knox
America/Louisville>America/Kentucky/Louisville America/Mendoza>America/Argentina/Mendoza
America/Montreal>America/Toronto America/Nipigon>America/Toronto
America/Pangnirtung>America/Iqaluit America/Porto_Acre>America/Rio_Branco
America/Rainy_River>America/Winnipeg America/Rosario>America/Argentina/Cordoba
America/Santa_Isabel>America/Tijuana America/Shiprock>America/Denver
America/Thunder_Bay>America/Toronto America/Virgin>America/St_Thomas
America/Yellowknife>America/Edmonton Antarctica/South_Pole>Antarctica/McMurdo
Asia/Ashkhabad>Asia/Ashgabat Asia/Calcutta>Asia/Kolkata Asia/Choibalsan>Asia/Ulaanbaatar
Asia/Chongqing>Asia/Shanghai Asia/Chungking>Asia/Shanghai Asia/Dacca>Asia/Dhaka
Asia/Harbin>Asia/Shanghai Asia/Istanbul>Europe/Istanbul Asia/Kashgar>Asia/Urumqi
Asia/Katmandu>Asia/Kathmandu Asia/Macao>Asia/Macau Asia/Rangoon>Asia/Yangon
Asia/Saigon>Asia/Ho_Chi_Minh Asia/Tel_Aviv>Asia/Jerusalem Asia/Thimbu>Asia/Thimphu
Asia/Ujung_Pandang>Asia/Makassar Asia/Ulan_Bator>Asia/Ulaanbaatar Atlantic/Faeroe>Atlantic/Faroe
Atlantic/Jan_Mayen>Arctic/Longyearbyen Australia/ACT>Australia/Sydney
Australia/Canberra>Australia/Sydney Australia/Currie>Australia/Hobart
Australia/LHI>Australia/Lord_Howe Australia/NSW>Australia/Sydney Australia/North>Australia/Darwin
Australia/Queensland>Australia/Brisbane Australia/South>Australia/Adelaide
Australia/Tasmania>Australia/Hobart Australia/Victoria>Australia/Melbourne
Australia/West>Australia/Perth Australia/Yancowinna>Australia/Broken_Hill
Brazil/Acre>America/Rio_Branco Brazil/DeNoronha>America/Noronha Brazil/East>America/Sao_Paulo
Brazil/West>America/Manaus Canada/Atlantic>America/Halifax Canada/Central>America/Winnipeg
Canada/Eastern>America/Toronto Canada/Mountain>America/Edmonton
Canada/Newfoundland>America/St_Johns Canada/Pacific>America/Vancouver
Canada/Saskatchewan>America/Regina Canada/Yukon>America/Whitehorse
Chile/Continental>America/Santiago Chile/EasterIsland>Pacific/Easter Cuba>America/Havana
Egypt>Africa/Cairo Eire>Europe/Dublin Europe/Belfast>Europe/London Europe/Kiev>Europe/Kyiv
Europe/Nicosia>Asia/Nicosia Europe/Tiraspol>Europe/Chisinau Europe/Uzhgorod>Europe/Kyiv
Europe/Zaporozhye>Europe/Kyiv GB>Europe/London GB-Eire>Europe/London Hongkong>Asia/Hong_Kong
Iceland>Atlantic/Reykjavik Iran>Asia/Tehran Israel>Asia/Jerusalem Jamaica>America/Jamaica
Japan>Asia/Tokyo Kwajalein>Pacific/Kwajalein Libya>Africa/Tripoli
Mexico/BajaNorte>America/Tijuana Mexico/BajaSur>America/Mazatlan
Mexico/General>America/Mexico_City NZ>Pacific/Auckland NZ-CHAT>Pacific/Chatham
Navajo>America/Denver PRC>Asia/Shanghai Pacific/Enderbury>Pacific/Kanton
Pacific/Johnston>Pacific/Honolulu Pacific/Ponape>Pacific/Pohnpei Pacific/Samoa>Pacific/Pago_Pago
Pacific/Truk>Pacific/Chuuk Pacific/Yap>Pacific/Chuuk Poland>Europe/Warsaw Portugal>Europe/Lisbon
ROC>Asia/Taipei ROK>Asia/Seoul Singapore>Asia/Singapore Turkey>Europe/Istanbul
US/Alaska>America/Anchorage US/Aleutian>America/Adak US/Arizona>America/Phoenix
US/Central>America/Chicago US/East-Indiana>America/Indiana/Indianapolis
US/Eastern>America/New_York US/Hawaii>Pacific/Honolulu US/Indiana-Starke>America/Indiana/Knox
US/Michigan>America/Detroit US/Mountain>America/Denver US/Pacific>America/Los_Angeles
US/Samoa>Pacific/Pago_Pago W-SU>Europe/Moscow
CET>Europe/Brussels MET>Europe/Brussels EET>Europe/Athens WET>Europe/Lisbon EST>America/Panama
MST>America/Phoenix HST>Pacific/Honolulu EST5EDT>America/New_York CST6CDT>America/Chicago
MST7MDT>America/Denver PST8PDT>America/Los_Angeles
"""

# Names that are UTC itself (the offset parser catches UTC/GMT/Z before these are looked up).
_UTC_NAMES = frozenset(
    {
        "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0",
        "Etc/GMT-0", "Etc/Greenwich", "UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0",
        "GMT-0", "Greenwich",
    }
)  # fmt: skip
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
# Labels that differ from the IANA name's last part (accents, islands, US sub-areas).
_LABELS: dict[str, str] = {
    "Africa/Lome": "Lomé",
    "Africa/Ndjamena": "N'Djamena",
    "Africa/Sao_Tome": "São Tomé",
    "America/Araguaina": "Araguaína",
    "America/Argentina/Cordoba": "Córdoba",
    "America/Argentina/Tucuman": "Tucumán",
    "America/Asuncion": "Asunción",
    "America/Bahia_Banderas": "Bahía de Banderas",
    "America/Belem": "Belém",
    "America/Bogota": "Bogotá",
    "America/Cancun": "Cancún",
    "America/Ciudad_Juarez": "Ciudad Juárez",
    "America/Cuiaba": "Cuiabá",
    "America/Curacao": "Curaçao",
    "America/Lower_Princes": "Lower Prince's Quarter",
    "America/Maceio": "Maceió",
    "America/Mazatlan": "Mazatlán",
    "America/Merida": "Mérida",
    "America/Noronha": "Fernando de Noronha",
    "America/Santarem": "Santarém",
    "America/Sao_Paulo": "São Paulo",
    "America/Scoresbysund": "Ittoqqortoormiit",
    "America/St_Barthelemy": "St. Barthélemy",
    "America/St_Johns": "St. John's",
    "America/St_Kitts": "St. Kitts",
    "America/St_Lucia": "St. Lucia",
    "America/St_Thomas": "St. Thomas",
    "America/St_Vincent": "St. Vincent",
    "Antarctica/DumontDUrville": "Dumont-d'Urville",
    "Antarctica/Macquarie": "Macquarie Island",
    "Asia/Ho_Chi_Minh": "Ho Chi Minh City",
    "Asia/Urumqi": "Ürümqi",
    "Atlantic/Reykjavik": "Reykjavík",
    "Atlantic/St_Helena": "St. Helena",
    "Australia/Lord_Howe": "Lord Howe Island",
    "Europe/Chisinau": "Chișinău",
    "Indian/Christmas": "Christmas Island",
    "Indian/Cocos": "Cocos Islands",
    "Indian/Reunion": "Réunion",
    "Pacific/Easter": "Easter Island",
    "Pacific/Galapagos": "Galápagos",
    "Pacific/Noumea": "Nouméa",
    "Pacific/Norfolk": "Norfolk Island",
    "Pacific/Wake": "Wake Island",
}

# ---------------------------------------------------------------------------------------------
# Text handling (patterns are compiled on first use, through the ``re`` module's cache)
# ---------------------------------------------------------------------------------------------

_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-"})
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "ð": "d"})
_DROPPED_RE = r"['’‘`´ʼ.]"  # St. John's → st johns, D.C. → dc, U.K. → uk
_SEPARATORS_RE = r"[\s_\-,;:()\[\]{}\"“”«»!?*]+"
_SAINT_WORDS = frozenset({"saint", "st", "ste", "sainte", "sankt"})


def fold(text: str) -> str:
    """Lower case without accents: ``São Paulo`` → ``sao paulo``."""
    s = text.casefold().translate(_LETTERS)
    if s.isascii():
        return s
    decomposed = unicodedata.normalize("NFKD", s)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _name_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return re.compile(_DROPPED_RE), re.compile(_SEPARATORS_RE)


def norm(text: str) -> str:
    """The comparison form of a place name: folded, punctuation as spaces, ``Saint``→``st``."""
    dropped, separators = _name_patterns()
    s = dropped.sub("", fold(text)).replace("&", " and ")
    words = ["st" if w in _SAINT_WORDS else w for w in separators.sub(" ", s).split()]
    if len(words) > 1 and words[0] == "the":
        del words[0]
    return " ".join(words)


def norm_key(text: str) -> str:
    """The comparison form of an IANA name: each ``/`` part normalised like a place name."""
    return "/".join(norm(part) for part in text.split("/"))


def prepare(text: str) -> str:
    """NFKC, invisible format characters dropped, outer whitespace stripped."""
    s = unicodedata.normalize("NFKC", text)
    return "".join(c for c in s if unicodedata.category(c) != "Cf").strip()


def quote(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_words(items: Iterable[str], last: str) -> str:
    seq = list(items)
    if len(seq) <= 1:
        return "".join(seq)
    return ", ".join(seq[:-1]) + f" {last} " + seq[-1]


# ---------------------------------------------------------------------------------------------
# Offsets
# ---------------------------------------------------------------------------------------------

_OFFSET_RE = r"(?:(?P<prefix>utc|gmt|ut|z)\s*)?(?:(?P<sign>[+-])?\s*(?P<body>\d\S*))?"
_HOURS_RE = r"(\d{1,2})(?:[:h](\d{2})?)?"
_COMPACT_RE = r"(\d{1,2})(\d{2})"
_DECIMAL_RE = r"(\d{1,2})[.,](\d{1,2})"
_FRACTIONS = {"0": 0, "00": 0, "5": 30, "50": 30, "25": 15, "75": 45}
_FIXED_KEY_RE = r"UTC([+-])(\d{2}):(\d{2})"


def _offset_body(body: str) -> tuple[int, int] | None:
    """Hours and minutes of ``5``, ``05:30``, ``5h30``, ``0530``, ``5.5``; None if unreadable."""
    if m := re.fullmatch(_HOURS_RE, body):
        return int(m[1]), int(m[2] or 0)
    if m := re.fullmatch(_COMPACT_RE, body):
        return int(m[1]), int(m[2])
    if m := re.fullmatch(_DECIMAL_RE, body):
        frac = m[2]
        if frac in _FRACTIONS:
            return int(m[1]), _FRACTIONS[frac]
        if len(frac) == 2:
            return int(m[1]), int(frac)
    return None


def _fixed_key(minutes: int) -> str:
    """``UTC``, ``UTC+05:30``, ``UTC-03:00``."""
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def _offset_minutes(text: str) -> int | None:
    s = prepare(text).casefold().translate(_DASHES)
    m = re.fullmatch(_OFFSET_RE, s)
    if m is None or not (m["prefix"] or m["sign"]):
        return None  # "5" alone is not an offset; "UTC 5" and "+5" are
    if not m["body"]:
        return 0
    if m["prefix"] == "z":
        return None
    parsed = _offset_body(m["body"])
    if parsed is None:
        raise BadArgument(
            _(
                "I couldn't read the offset '{offset}'. "
                "Write it as hours and minutes, e.g. UTC+05:30 or UTC-03:00.",
                offset=Plain(quote(text.strip())),
            )
        )
    hours, mins = parsed
    sign = -1 if m["sign"] == "-" else 1
    shown = f"UTC{'-' if sign < 0 else '+'}{hours:02d}:{mins:02d}"
    if mins >= 60 or mins % 15:
        raise BadArgument(
            _(
                "{offset} is not a real time zone: offsets have :00, :15, :30 or :45 minutes. "
                "Example: UTC+05:30.",
                offset=shown,
            )
        )
    total = sign * (hours * 60 + mins)
    if not _MIN_OFFSET_MINUTES <= total <= _MAX_OFFSET_MINUTES:
        raise BadArgument(
            _(
                "{offset} is not a real time zone: offsets go from UTC-12:00 to UTC+14:00. "
                "Example: UTC+05:30.",
                offset=shown,
            )
        )
    return total


def parse_offset(text: str) -> timezone | None:
    """A fixed UTC offset, or None if ``text`` is not written as one.

    Reads ``UTC+5:30``, ``utc+05:30``, ``GMT-3``, ``+0530``, ``UTC+5``, ``UTC -03:00``, ``UTC+5.5``,
    ``UTC``, ``GMT``, ``Z``.  Text that is clearly an offset but not a real one (``UTC+15``,
    ``UTC+5:20``) raises :class:`~chatbot.base.errors.BadArgument` with a message for the member.
    """
    minutes = _offset_minutes(text)
    if minutes is None:
        return None
    if minutes == 0:
        return UTC
    return timezone(timedelta(minutes=minutes))


# ---------------------------------------------------------------------------------------------
# Keys and labels
# ---------------------------------------------------------------------------------------------

_SUB_AREAS = frozenset({"Indiana", "Kentucky", "North_Dakota"})


def label_for_key(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    parts = key.split("/")
    city = parts[-1].replace("_", " ")
    if len(parts) == 3 and parts[1] in _SUB_AREAS:
        return f"{city}, {parts[1].replace('_', ' ')}"
    return city


@functools.lru_cache(maxsize=1024)
def zone_from_key(key: str) -> Zone:
    """The zone stored under ``key`` (as produced by :func:`resolve_zone`).

    A corrupt key is a bug, not a member's mistake: it raises ``ValueError`` or ``KeyError``
    (``zoneinfo.ZoneInfoNotFoundError``), never a ``UserError``.
    """
    if key == "UTC":
        return Zone("UTC", UTC, "UTC", True)
    if m := re.fullmatch(_FIXED_KEY_RE, key):
        hours, mins = int(m[2]), int(m[3])
        total = (-1 if m[1] == "-" else 1) * (hours * 60 + mins)
        if total == 0 or mins % 15 or not _MIN_OFFSET_MINUTES <= total <= _MAX_OFFSET_MINUTES:
            raise ValueError(f"not a valid fixed-offset zone key: {key!r}")
        return Zone(key, timezone(timedelta(minutes=total)), key, True)
    if not key or key != key.strip() or (key.startswith("UTC") and key != "UTC"):
        raise ValueError(f"not a valid zone key: {key!r}")
    try:
        tz = ZoneInfo(key)
    except OSError as exc:  # a directory such as "Europe", or an unreadable file
        raise ValueError(f"not a valid zone key: {key!r}") from exc
    return Zone(key, tz, label_for_key(key), False)


def canonical_key(name: str, available: frozenset[str]) -> str:
    """The key stored for IANA name ``name``: canonical zone, or a fixed-offset key."""
    target = _aliases().get(name, name)
    if target not in available:
        target = name
    if target in _UTC_NAMES:
        return "UTC"
    if m := re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", target):
        hours = int(m[2])
        minutes = (-60 if m[1] == "+" else 60) * hours  # POSIX sign: Etc/GMT+3 is UTC-03:00
        return _fixed_key(minutes)
    return target


@functools.cache
def _aliases() -> dict[str, str]:
    pairs = (pair.partition(">") for pair in _ALIAS_DATA.split())
    return {alias: target for alias, _, target in pairs}


@functools.cache
def available_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


@functools.cache
def iana_index() -> dict[str, str]:
    available = available_zones()
    return {norm_key(name): canonical_key(name, available) for name in sorted(available)}


def lookup_exact(text: str, *, strict_case: bool = False) -> Zone | None:
    """An offset, abbreviation or IANA name (any case, spaces for underscores); None otherwise.

    Never guesses: no city names, no fuzzy matching.  Raises ``AmbiguousZone`` for an ambiguous
    abbreviation and ``BadArgument`` for an impossible offset (``UTC+15``).  ``strict_case`` is
    passed to :func:`zone_for_abbreviation`.
    """
    s = prepare(text)
    if not s or len(s) > MAX_INPUT_LENGTH or any(unicodedata.category(c) == "Cc" for c in s):
        return None
    minutes = _offset_minutes(s)
    if minutes is not None:
        return zone_from_key(_fixed_key(minutes))
    if s.isalpha() and len(s) <= 5:
        key = zone_for_abbreviation(s, strict_case=strict_case)
        if key is not None:
            return zone_from_key(key)
    found = iana_index().get(norm_key(s))
    return None if found is None else zone_from_key(found)
