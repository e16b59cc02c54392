"""Rendering instants for a reader: in their zone, in their language when they chose one.

English is formatted by hand (fast, and the shape we want: ``Tue 4 Mar, 10:00 (Lima)``);
other languages go through Babel, imported only when a member picks one.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chatbot.timezones import zone_from_key

if TYPE_CHECKING:
    from chatbot.events import TimeStyle

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_BABEL_PATTERNS = {
    "full": "EEE d MMM y, HH:mm",
    "date": "EEE d MMM y",
    "time": "HH:mm",
    "short": "d MMM, HH:mm",
}


def zone_parts(zone_key: str | None) -> tuple[tzinfo, str]:
    """The tzinfo and short label for a stored zone key (UTC when unset)."""
    if not zone_key:
        return UTC, "UTC"
    zone = zone_from_key(zone_key)
    return zone.tzinfo, zone.label


def format_when(
    at: datetime,
    zone_key: str | None = None,
    style: TimeStyle = "full",
    lang: str | None = None,
    *,
    now: datetime | None = None,
    with_zone: bool = True,
) -> str:
    """``Tue 4 Mar 2025, 10:00 (Lima)``; the year is dropped when ``now`` is the same year."""
    if zone_key:
        zone = zone_from_key(zone_key)
        tz, label = zone.tzinfo, zone.label
    else:
        tz, label = UTC, "UTC"
    local = at.astimezone(tz)
    suffix = f" ({label})" if with_zone else ""
    if lang and lang != "en":
        return _babel_format(local, style, lang) + suffix
    hm = f"{local.hour:02d}:{local.minute:02d}"
    if style == "time":
        return hm + suffix
    same_year = False
    if now is not None:
        # the reader's year differs from UTC's only in the two days around New Year
        near_new_year = (now.month == 12 and now.day == 31) or (now.month == 1 and now.day == 1)
        same_year = (now.astimezone(tz).year if near_new_year else now.year) == local.year
    date = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if not same_year and style != "short":
        date += f" {local.year}"
    if style == "date":
        return date + suffix
    return f"{date}, {hm}{suffix}"


def format_utc(at: datetime) -> str:
    """The same instant in UTC, ISO-like, for echoing next to a local time."""
    u = at.astimezone(UTC)
    return f"{u:%Y-%m-%d %H:%M} UTC"


@lru_cache(maxsize=64)
def _locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang.replace("-", "_"))


def _babel_format(local: datetime, style: TimeStyle, lang: str) -> str:
    from babel.dates import format_datetime

    return str(format_datetime(local, _BABEL_PATTERNS[style], locale=_locale(lang)))


def check_language(code: str) -> str | None:
    """The canonical form of a language tag Babel knows (``pt_BR`` → ``pt-BR``), else None."""
    from babel import Locale, UnknownLocaleError

    try:
        loc = Locale.parse(code.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return "-".join(p for p in (loc.language, loc.territory) if p)


def language_name(code: str) -> str:
    """The language's own name for itself, e.g. ``français``."""
    try:
        return str(_locale(code).display_name)
    except Exception:  # a stored code Babel no longer knows: show the code
        return code
