"""Rendering instants for a reader: in their zone, in their language when they chose one.

English is formatted by hand (fast, and the shape we want: ``Tue 4 Mar, 10:00 (Lima)``);
other languages go through Babel, imported only when a member picks one, with each locale's
own CLDR patterns (:func:`babel_pattern`): ``Do., 26. Nov. 2026, 18:00``.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any, Literal

from chatbot.base.i18n import _n, template
from chatbot.time.zones import zone_from_key

#: how much of an instant to show
TimeStyle = Literal["full", "date", "time", "short"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: "00" … "59" (a format spec such as ``:02d`` costs as much as the rest of the function)
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(60))
#: CLDR skeletons of each style, (with the year, without): each language's own pattern for
#: them comes from Babel's locale data ("Do., 26. Nov. 2026", "jeu. 26 nov. 2026",
#: "qui., 26 de nov. de 2026"), joined to the time as the locale joins a date and a time
_SKELETONS: dict[TimeStyle, tuple[str, str]] = {
    "full": ("yMMMEd", "MMMEd"),
    "date": ("yMMMEd", "MMMEd"),
    "short": ("MMMEd", "MMMEd"),  # as English: the weekday, never the year
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
    same_year = False
    if now is not None and style != "time":
        # the reader's year differs from UTC's only in the two days around New Year
        near_new_year = (now.month == 12 and now.day == 31) or (now.month == 1 and now.day == 1)
        same_year = (now.astimezone(tz).year if near_new_year else now.year) == local.year
    if lang and lang != "en" and not lang.startswith("x-"):  # x-: the tests' pseudo-language
        return _babel_format(local, style, lang, same_year) + suffix
    hm = f"{_TWO_DIGITS[local.hour]}:{_TWO_DIGITS[local.minute]}"
    if style == "time":
        return hm + suffix
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


def _babel_format(local: datetime, style: TimeStyle, lang: str, same_year: bool = False) -> str:
    # the wall-clock time, naive: aware datetimes of one instant in two zones are equal
    wall = local.replace(tzinfo=None, second=0, microsecond=0)
    return _babel_minute(wall, style, lang, same_year)


@lru_cache(maxsize=4096)
def _babel_minute(local: datetime, style: TimeStyle, lang: str, same_year: bool) -> str:
    """Babel takes some 40 µs to write a date; the patterns show the wall-clock minute (no
    zone), and the same minutes come back (a meeting's start shown to every member in a
    zone), so they are kept."""
    from babel.dates import format_datetime

    return str(format_datetime(local, babel_pattern(lang, style, same_year), locale=_locale(lang)))


@lru_cache(maxsize=128)
def babel_pattern(lang: str, style: TimeStyle, same_year: bool = False) -> str:
    """The locale's own date-time pattern for ``style``: the CLDR pattern of the style's
    skeleton (weekday, day, abbreviated month, and the year unless ``same_year``), the
    24-hour time (skeleton ``Hm``), joined by the locale's medium date-time glue
    (``{1}, {0}`` in German, ``{1} {0}`` in Portuguese)."""
    from babel.dates import match_skeleton

    locale = _locale(lang)
    skeletons = locale.datetime_skeletons

    def pattern(skeleton: str) -> str:
        found = skeletons.get(skeleton)
        if found is None:
            found = skeletons[match_skeleton(skeleton, skeletons) or "yMMMd"]
        return str(found.pattern if hasattr(found, "pattern") else found)

    time = pattern("Hm")
    if style == "time":
        return time
    date = pattern(_SKELETONS[style][1 if same_year else 0])
    if style == "date":
        return date
    glue = str(locale.datetime_formats.get("medium", "{1} {0}"))
    return glue.replace("{1}", date).replace("{0}", time)


def check_language(code: str) -> str | None:
    """The canonical form of a language tag Babel knows (``pt_BR`` → ``pt-BR``), else None."""
    from babel import Locale, UnknownLocaleError

    try:
        loc = Locale.parse(code.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return "-".join(p for p in (loc.language, loc.territory) if p)


@lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """The language's own name for itself, e.g. ``français`` (Babel reads it from its locale
    data each time: cached, as ``!lang`` lists every language the bot speaks)."""
    try:
        return str(_locale(code).display_name)
    except Exception:  # a stored code Babel no longer knows: show the code
        return code


# -- one instant for a whole room ---------------------------------------------------------

#: the most local times a room post lists; the rest are counted ("+3 more zones")
ZONE_LIST_CAP = 8
#: city labels shown for one local time before the rest are counted ("Berlin, Paris +2")
LABELS_PER_TIME = 3


def _english(lang: str | None) -> bool:
    return not lang or lang == "en" or lang.startswith("en-") or lang.startswith("x-")


def _weekday(wall: datetime, lang: str | None) -> str:
    if _english(lang):
        return _DAYS[wall.weekday()]
    from babel.dates import format_datetime

    return str(format_datetime(wall, "EEE", locale=_locale(str(lang))))


@lru_cache(maxsize=256)
def _local_times(
    at: datetime, zones: tuple[tuple[str, int], ...], cap: int, lang: str | None = None
) -> tuple[tuple[str, ...], int]:
    """The entries of :func:`room_times` before the UTC tail, and how many zones were left
    out.  Cached per (instant, zone set): every post of one meeting in one room, and each
    room with the same zones, costs one grouping."""
    groups: dict[datetime, dict[str, int]] = {}
    for key, count in zones:
        try:
            tz, label = zone_parts(key)
        except Exception:  # a stored zone this tz database no longer knows: skip it
            continue
        if label == "UTC":
            continue  # the UTC tail shows it
        wall = at.astimezone(tz).replace(tzinfo=None)
        labels = groups.setdefault(wall, {})
        labels[label] = labels.get(label, 0) + count
    # the most common local times survive the cap; ties keep the later local time
    ranked = sorted(groups.items(), key=lambda g: (-sum(g[1].values()), -g[0].timestamp()))
    kept, dropped = ranked[:cap], ranked[cap:]
    entries: list[str] = []
    for wall, labels in sorted(kept, key=lambda g: g[0], reverse=True):
        names = sorted(labels, key=lambda name: (-labels[name], name))
        shown = ", ".join(names[:LABELS_PER_TIME])
        if len(names) > LABELS_PER_TIME:
            shown += f" +{len(names) - LABELS_PER_TIME}"
        entries.append(f"{_weekday(wall, lang)} {wall.hour:02d}:{wall.minute:02d} {shown}")
    return tuple(entries), sum(len(labels) for _, labels in dropped)


def room_times(
    at: datetime,
    zones: tuple[tuple[str, int], ...],
    *,
    now: datetime | None = None,
    cap: int = ZONE_LIST_CAP,
    hint: str = "",
    lang: str | None = None,
) -> str:
    """One instant for every reader of a room: the local time in each zone members set,
    latest local time first, then the full date in UTC.

    ``zones`` holds (zone key, members in it), sorted by key so equal sets share a cache
    entry.  Zones showing the same wall time (Paris and Berlin, or Lagos and Paris in
    winter) make one entry, labelled by their most common cities.  Sorting by local time,
    latest first, is sorting by UTC offset, east to west, as the world wakes up.  With more
    than ``cap`` distinct local times, the most common ones are listed and the rest counted.
    When nobody set a zone, ``hint`` (how to set one, in ``lang`` already) follows the UTC
    time.  ``lang`` is the room's language (weekdays, the date, "more zones").

    ``Tue 09:00 Manila · Tue 02:00 Berlin, Lagos, Paris · Tue 01:00 London · Tue 2 Dec, 01:00 UTC``
    """
    entries, left_out = _local_times(at, zones, cap, None if _english(lang) else lang)
    utc = format_when(at, None, "full", lang, now=now, with_zone=False) + " UTC"
    items = list(entries)
    if left_out:
        more = template(_n("+{n} more zone", "+{n} more zones", left_out), lang)
        items.append(more.replace("{n}", str(left_out)))
    items.append(utc)
    text = " · ".join(items)
    if not zones and hint:
        text += f" ({hint})"
    return text
