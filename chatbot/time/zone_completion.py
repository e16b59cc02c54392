"""Completing a zone as a member types it (Discord's autocomplete, any platform's picker).

The exact reading first (offset, abbreviation, IANA name), then places and IANA names that
start with what was typed, then near misses; each value is a zone key that ``!tz set``
resolves to the same zone.  It reads the zone and place indexes of :mod:`chatbot.time.zones`,
which is why it lives beside them and not in an adapter.
"""

from __future__ import annotations

from chatbot.base.errors import UserError
from chatbot.time import zones as tz


def complete_zone(typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """(shown name, zone key) pairs for a zone being typed, best first, at most ``limit``."""
    found: dict[str, str] = {}

    def add(key: str, shown: str) -> None:
        if key not in found and len(found) < limit:
            found[key] = shown

    text = typed.strip()[: tz.MAX_INPUT_LENGTH]
    if not text:
        return []
    try:
        exact = tz.lookup_exact(text)
    except UserError as exc:
        exact = None
        for key in getattr(exc, "candidates", ()):
            add(key, key)
    if exact is not None:
        add(exact.key, exact.key)
    index = tz._index()
    norm = tz._norm(text)
    norm_key = tz._norm_key(text)
    if norm:
        for name in index.place_choices:
            if name.startswith(norm):
                place = index.places[name]
                for key, covers in place.candidates:
                    add(key, _place_label(place.display, key, covers))
    if norm_key:
        starts = [n for n in index.iana_choices if any(p.startswith(norm) for p in n.split("/"))]
        contains = [n for n in index.iana_choices if norm_key in n and n not in starts]
        for name in starts + contains:
            key = index.iana[name]
            add(key, key)
    if len(found) < limit and len(norm) >= 3:
        for _score, place in tz._fuzzy(norm, index.place_choices, index):
            for key, covers in place.candidates:
                add(key, _place_label(place.display, key, covers))
    return [(shown, key) for key, shown in found.items()]


def _place_label(display: str, key: str, covers: str) -> str:
    detail = covers if covers and covers != display else ""
    return f"{display} – {key}" + (f" ({detail})" if detail and detail not in key else "")
