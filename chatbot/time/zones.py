"""Time-zone resolution: turn what a member types for ``!tz set`` into a :class:`Zone`.

The work is split by role, so each part reads on its own:

* :mod:`chatbot.time.zone_names`: what needs no guessing, UTC offsets (``UTC+5:30``) and IANA
  names (``america/sao paulo``, legacy ``US/Eastern``), the :class:`Zone` type and stored keys;
* :mod:`chatbot.time.abbreviations`: ``PST``, ``CET``, and the ambiguous ``IST``, ``CST``…;
* :mod:`chatbot.time.places`: cities over 15,000 people and countries from GeoNames, in many
  languages (``Múnich``, ``Alemania``), and how same-name places are ranked;
* this module: :func:`resolve_zone`, which tries them in that order, then a city with its region
  (``Portland, Oregon``, ``Paris Texas``), then typo-tolerant matching (``lagoss``, ``manilla``).

Answers: one zone; or :class:`~chatbot.base.errors.AmbiguousZone` listing candidates when a name
fits several zones and none clearly dominates (``Portland``, ``Springfield``, ``Brazil``,
``IST``); or :class:`~chatbot.base.errors.ZoneNotFound` with up to three suggestions.  A place
that does not exist (``Atlantis``) is never mapped to some zone.

Typo matching compares accent-free lower-case main names of four letters or more, of places
weighing 50,000 or more (:mod:`~chatbot.time.places`; country names in English only), about
16,000 names.  The score (0-100) is the mean of rapidfuzz's Indel ratio (``fuzz.ratio``) and
the normalised OSA similarity, which counts a swap of two letters as one typo (``lagso`` →
Lagos, not Laos).  A match is taken only when clear (:func:`_clear_winner`); otherwise the member
gets up to three suggestions scoring at least :data:`SUGGEST_SCORE`, well-known places first.
The rules are stricter than those tuned on the ~1,500 hand-typed names before GeoNames
(``atlantis`` is 77.5 from ``atlanta``): on 3,000 random dictionary words, 2.1% are still taken
for a place by typo matching (1.1% are exact names of places, 0.4% ask), and 90% of
one-typo spellings of cities over 100,000 people find their zone or a choice with it
(``benchmarks/places_eval.py``).  Chat and everyday words that are also names of small towns
(:data:`_COMMON_WORDS`: ``time`` is a town in Norway, ``of`` one in Turkey) are never taken for
a place when typed alone.

Nothing is built at import: the indexes are built or loaded on first use (``warm_up()`` does it
ahead of time) and rapidfuzz is imported only by the fuzzy path.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from chatbot.base.errors import AmbiguousZone, BadArgument, ZoneNotFound
from chatbot.base.i18n import Msg, Plain, _, _n, alternatives, listing, verbatim
from chatbot.time.abbreviations import ZONE_ABBREVIATIONS, zone_for_abbreviation
from chatbot.time.places import DOMINANCE, Candidate, Gazetteer, choose, gazetteer, within
from chatbot.time.zone_names import (
    MAX_INPUT_LENGTH,
    Zone,
    iana_index,
    label_for_key,
    lookup_exact,
    norm,
    norm_key,
    parse_offset,
    prepare,
    quote,
    zone_from_key,
)

__all__ = [
    "ACCEPT_SCORE",
    "CLEAR_MARGIN",
    "FUZZY_MIN_PEOPLE",
    "MAX_INPUT_LENGTH",
    "SHORT_ACCEPT_SCORE",
    "SUGGEST_SCORE",
    "ZONE_ABBREVIATIONS",
    "Zone",
    "lookup_exact",
    "parse_offset",
    "resolve_zone",
    "warm_up",
    "zone_for_abbreviation",
    "zone_from_key",
]

#: A fuzzy match is taken when it scores at least this (0-100, see :func:`_fuzzy`)…
ACCEPT_SCORE = 80.0
#: …beats the best match in another zone by at least this much…
CLEAR_MARGIN = 5.0
#: …and names a place (or zone) of at least this many people.
FUZZY_MIN_PEOPLE = 100_000
#: A query of six letters or fewer needs this score (or to be the name with two letters swapped).
SHORT_ACCEPT_SCORE = 85.0
#: Names scoring at least this are offered as suggestions when no match is clear.
SUGGEST_SCORE = 62.0

_MIN_FUZZY_LENGTH = 4
_SHORT = 6
_PREFILTER_RATIO = 55.0  # candidates below this Indel ratio are not scored further
_MAX_FUZZY = 12  # near names looked at (the prefilter keeps four times as many)
_HOW_TO = _("Try a city ('Lagos'), a zone name ('Africa/Lagos') or an offset ('UTC+01:00').")
# The names the Discord adapter's autocompletion and the tests know these by.
_iana_index = iana_index
_norm = norm
_norm_key = norm_key

# Regions too wide to be a zone, with an example of what to type instead.
_REGIONS = {
    "africa": ("Lagos", "Africa/Lagos"),
    "americas": ("Lima", "America/Lima"),
    "north america": ("Chicago", "America/Chicago"),
    "south america": ("Lima", "America/Lima"),
    "latin america": ("Lima", "America/Lima"),
    "asia": ("Manila", "Asia/Manila"),
    "europe": ("Paris", "Europe/Paris"),
    "oceania": ("Auckland", "Pacific/Auckland"),
    "pacific": ("Auckland", "Pacific/Auckland"),
    "atlantic": ("Azores", "Atlantic/Azores"),
    "indian": ("Mauritius", "Indian/Mauritius"),
    "antarctica": ("McMurdo", "Antarctica/McMurdo"),
    "middle east": ("Riyadh", "Asia/Riyadh"),
    "world": ("Lagos", "Africa/Lagos"),
}

# Words members type that are also the name of a town somewhere (GeoNames has "Time", Norway,
# "Of", Turkey, "Bello", Colombia, one typo from "hello"): typed alone they get a suggestion,
# never that town's zone.  Chat words and the everyday English words found among GeoNames'
# names; big cities (Nice, Reading, Mobile, Split, Bath) stay places.  "Atlantis" is the myth
# before it is the South African town.
_COMMON_WORDS = frozenset(
    """
    a about airport along and anew atlantis bank bar bay bear bell best bot bow boo buy can cat
    central city come country day days deal eagle fate federal gap gay god goes golden green
    hale hello help here hey hi hit ho holiday home hook horn hour hours humble idk liberty
    local man march marks me member members mine most much my no none normal now of ok okay
    pa pace pen pop quit republic rich same save say set sim spring summit sunset superior
    tank than the this time to today union university ware we ye yes young zone
    """.split()  # noqa: SIM905 - a word list reads better as text
)


# ---------------------------------------------------------------------------------------------
# The index the Discord adapter's autocompletion reads (kept as it was before GeoNames)
# ---------------------------------------------------------------------------------------------


class _Place(NamedTuple):
    """A name members may type, and the zone(s) it stands for."""

    display: str
    candidates: tuple[tuple[str, str], ...]  # (zone key, what that zone covers)
    votes: float = 0.0
    name: str = ""  # the normalised name it was found under

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.candidates)


def _as_place(cands: tuple[Candidate, ...]) -> _Place:
    return _Place(cands[0].shown, tuple((c.zone, c.shown) for c in cands), cands[0].votes)


class _PlaceView(Mapping[str, _Place]):
    """Normalised place name → :class:`_Place`, computed when asked."""

    def __init__(self, gaz: Gazetteer) -> None:
        self._gaz = gaz

    def __getitem__(self, name: str) -> _Place:
        ids = self._gaz.ids(name)
        if ids is None:
            raise KeyError(name)
        return _as_place(choose(self._gaz, ids))

    def __iter__(self) -> Iterator[str]:
        return self._gaz.names()

    def __len__(self) -> int:
        return sum(1 for _ in self._gaz.names())


class _Index(NamedTuple):
    iana: dict[str, str]  # normalised IANA name → stored key
    places: Mapping[str, _Place]  # normalised place name → place
    iana_choices: tuple[str, ...]  # normalised IANA names of canonical zones, for fuzzy search
    place_choices: tuple[str, ...]  # names for fuzzy search, the most populous first
    gaz: Gazetteer


@functools.cache
def _index() -> _Index:
    iana = iana_index()
    gaz = gazetteer()
    iana_choices = tuple(sorted(n for n, key in iana.items() if n == norm_key(key)))
    return _Index(iana, _PlaceView(gaz), iana_choices, gaz.choices, gaz)


def warm_up() -> None:
    """Load the place index now (about 0.1 s from the disk cache) instead of on first use."""
    _index()
    import rapidfuzz.fuzz  # noqa: F401  (first fuzzy lookup pays no import)


# ---------------------------------------------------------------------------------------------
# Fuzzy matching
# ---------------------------------------------------------------------------------------------


def _scored(query: str, choices: tuple[str, ...]) -> list[tuple[float, str]]:
    """Choices near ``query`` with their score, best first (more people first on ties)."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA

    if len(query) < _MIN_FUZZY_LENGTH - 1:
        return []
    scored = []
    for choice, ratio, rank in process.extract(
        query, choices, scorer=fuzz.ratio, limit=4 * _MAX_FUZZY, score_cutoff=_PREFILTER_RATIO
    ):
        score = (ratio + 100.0 * OSA.normalized_similarity(query, choice)) / 2
        if score >= SUGGEST_SCORE:
            scored.append((score, rank, choice))
    return [(score, choice) for score, _, choice in sorted(scored, key=lambda s: (-s[0], s[1]))]


def _fuzzy(query: str, choices: tuple[str, ...], index: _Index) -> list[tuple[float, _Place]]:
    """Places (or IANA zones) near ``query``, best first, one entry per distinct target."""
    ranked: list[tuple[float, _Place]] = []
    seen: set[tuple[str, ...]] = set()
    for score, choice in _scored(query, choices)[:_MAX_FUZZY]:
        if choices is index.place_choices:
            place = index.places[choice]._replace(name=choice)
        else:
            key = index.iana[choice]
            place = _Place(key, ((key, label_for_key(key)),), float(FUZZY_MIN_PEOPLE))
        if place.keys not in seen:
            seen.add(place.keys)
            ranked.append((float(score), place))
    return ranked


def _clear_winner(ranked: list[tuple[float, _Place]], query: str) -> _Place | None:
    """The best fuzzy match if it is good, well known, and clearly ahead of the other zones.

    Good: it scores :data:`ACCEPT_SCORE`, and a query of six letters or fewer scores
    :data:`SHORT_ACCEPT_SCORE` or is the name with two letters swapped (``lagso``): one letter
    changed in a short word often makes another word (``chime``, ``stale``).  Clearly ahead: no
    other zone scores within :data:`CLEAR_MARGIN` of it, or those that do are places with a
    :data:`~chatbot.time.places.DOMINANCE`-th of its weight or less (``lagso`` is as near Lagdo,
    Cameroon as Lagos, Nigeria).
    """
    if not ranked or ranked[0][0] < ACCEPT_SCORE:
        return None
    best, place = ranked[0]
    if len(query) <= _SHORT and best < SHORT_ACCEPT_SCORE and not _swapped(query, place.name):
        return None
    near = [p for score, p in ranked[1:] if best - score < CLEAR_MARGIN]
    if place.votes < FUZZY_MIN_PEOPLE or any(p.votes * DOMINANCE > place.votes for p in near):
        return None
    return place


def _swapped(query: str, name: str) -> bool:
    """Whether ``query`` is ``name`` with two neighbouring letters swapped."""
    diff = [i for i, (a, b) in enumerate(zip(query, name, strict=False)) if a != b]
    return (
        len(query) == len(name)
        and len(diff) == 2
        and diff[1] == diff[0] + 1
        and (query[diff[0]], query[diff[1]]) == (name[diff[1]], name[diff[0]])
    )


def _clear_name(query: str, index: _Index) -> str | None:
    """The place name ``query`` is a clear typo of, if any."""
    winner = _clear_winner(_fuzzy(query, index.place_choices, index), query)
    return None if winner is None else winner.name


# ---------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------


def _answer(pairs: Sequence[tuple[str, str]], typed: str) -> Zone:
    """The one zone in ``pairs`` (zone key, what it covers), or the member is asked which."""
    if len(pairs) == 1:
        return zone_from_key(pairs[0][0])
    listed = listing([zone_and_place(key, shown) for key, shown in pairs])
    raise AmbiguousZone(
        _(
            "'{typed}' matches several time zones: {listed}. Which one? "
            "Type one of them, e.g. {first}, or the name of your city.",
            typed=Plain(quote(typed)),
            listed=listed,
            first=Plain(pairs[0][0]),
        ),
        tuple(key for key, _shown in pairs),
    )


def zone_and_place(key: str, shown: str) -> Msg:
    """A zone key with the place it stands for, as data: ``Africa/Lagos (Lagos, Nigeria)``."""
    if shown and shown != key:
        return verbatim("{key} ({place})", key=Plain(key), place=Plain(shown))
    return verbatim("{key}", key=Plain(key))


def _not_found(cleaned: str, ranked: list[tuple[float, _Place]]) -> ZoneNotFound:
    """Not found, with up to three suggestions: the nearest, well-known places first."""
    ranked = sorted(ranked, key=lambda r: -r[0] - 2 * math.log10(max(r[1].votes, 15_000) / 15_000))
    hints: dict[str, str] = {}
    for _score, place in ranked:
        if len(place.keys) == 1 and len(hints) < 3:
            hints.setdefault(place.keys[0], place.display)
    suggestions = tuple(hints)
    typed = Plain(quote(cleaned))
    if not hints:
        return ZoneNotFound(_("I don't know the zone '{zone}'. {how}", zone=typed, how=_HOW_TO))
    shown = alternatives([zone_and_place(key, place) for key, place in hints.items()])
    message = _(
        "I don't know the zone '{zone}'. Did you mean {suggestions}? {how}",
        zone=typed,
        suggestions=shown,
        how=_HOW_TO,
    )
    return ZoneNotFound(message, suggestions)


def _clean(text: str) -> str:
    s = prepare(text)
    if not s:
        raise BadArgument(_("Please tell me a time zone. {how}", how=_HOW_TO))
    if len(s) > MAX_INPUT_LENGTH:
        raise BadArgument(
            _n(
                "That is too long to be a time zone ({n} character). {how}",
                "That is too long to be a time zone ({n} characters). {how}",
                len(s),
                how=_HOW_TO,
            )
        )
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in s):
        raise BadArgument(
            _(
                "That contains invisible or unusual characters. Type the zone again, e.g. "
                "'Lagos' or 'Africa/Lagos'."
            )
        )
    return s


# ---------------------------------------------------------------------------------------------
# Places with a region: "Portland, Oregon", "Paris Texas", "El Paso, Texas"
# ---------------------------------------------------------------------------------------------


def _pairs(cands: Iterable[Candidate]) -> list[tuple[str, str]]:
    return [(c.zone, c.shown) for c in cands]


def _narrow(
    gaz: Gazetteer, ids: tuple[int, ...], region: tuple[int, ...], typed: str
) -> tuple[int, ...]:
    """The places among ``ids`` that lie in ``region``, else those sharing a zone with it.

    When there are none (``Lagos, Texas``: a typo, or a town too small for GeoNames) the member
    chooses among the city's zones and the region's, the city's first.
    """
    regions = [gaz.place(r) for r in region]
    inside = tuple(i for i in ids if any(within(gaz.place(i), r) for r in regions))
    if inside:
        return inside
    region_zones = {z for r in regions for z, _, _ in r.zones}
    shared = tuple(i for i in ids if any(z in region_zones for z, _, _ in gaz.place(i).zones))
    if shared:
        return shared
    merged = dict(_pairs(choose(gaz, ids)))
    merged.update((k, v) for k, v in _pairs(choose(gaz, region)) if k not in merged)
    zone = _answer(list(merged.items()), typed)
    return tuple(i for i in ids if zone.key in (z for z, _, _ in gaz.place(i).zones)) or ids


def _part_ids(part: str, index: _Index, *, region: bool) -> tuple[int, ...] | None:
    """The places one part of ``City, Region`` names: exactly, or as a clear typo."""
    gaz = index.gaz
    found = (gaz.region_ids(part) if region else None) or gaz.ids(part)
    if found is None and len(part) >= _MIN_FUZZY_LENGTH:
        name = _clear_name(part, index)
        found = None if name is None else gaz.ids(name)
    return found


def _resolve_parts(parts: list[str], cleaned: str, index: _Index) -> Zone:
    ids = _part_ids(parts[0], index, region=False)
    if ids is None:
        raise _not_found(cleaned, _fuzzy(parts[0], index.place_choices, index))
    for part in parts[1:]:
        region = _part_ids(part, index, region=True)
        if region is not None:
            ids = _narrow(index.gaz, ids, region, cleaned)
    return _answer(_pairs(choose(index.gaz, ids)), cleaned)


def _resolve_iana_like(cleaned: str, index: _Index) -> Zone:
    """``Europe/Pariss``, ``Asia/Bombay``: a misspelt or unknown IANA-style name."""
    area, _, last = cleaned.rpartition("/")
    zone = lookup_exact(last)  # "UTC/GMT+1", "CET/CEST"
    if zone is not None:
        return zone
    ids = index.gaz.ids(norm(last))
    if ids is not None:
        cands = _pairs(choose(index.gaz, ids))
        prefix = area.split("/")[0].strip().casefold() + "/"
        same_area = [c for c in cands if c[0].casefold().startswith(prefix)]
        return _answer(same_area or cands, cleaned)
    ranked = _fuzzy(norm_key(cleaned), index.iana_choices, index)
    winner = _clear_winner(ranked, norm_key(cleaned))
    if winner is None and len(norm(last)) >= 3:
        winner = _clear_winner(_fuzzy(norm(last), index.place_choices, index), norm(last))
    if winner is not None:
        return _answer(winner.candidates, cleaned)
    raise _not_found(cleaned, ranked)


def resolve_zone(text: str) -> Zone:
    """Whatever a member typed for their zone, as a :class:`Zone`.

    Tries, in order: an offset, an abbreviation, an IANA name (:func:`lookup_exact`); a city,
    region or country name; the same with a region (``Portland, Oregon``, ``Lagos Nigeria``);
    then a fuzzy match.  Every failure is a :class:`~chatbot.base.errors.UserError`: ``BadArgument``
    (empty, too long, impossible offset), ``AmbiguousZone`` (with ``candidates``) or
    ``ZoneNotFound`` (with up to three ``suggestions``).
    """
    cleaned = _clean(text)
    zone = lookup_exact(cleaned)
    if zone is not None:
        return zone
    name = norm(cleaned)
    if name in _REGIONS:
        city, key = _REGIONS[name]
        raise ZoneNotFound(
            _(
                "'{typed}' covers many time zones. Type your city ('{city}') "
                "or a zone name ('{key}').",
                typed=Plain(quote(cleaned)),
                city=Plain(city),
                key=Plain(key),
            ),
            (key,),
        )
    index = _index()
    gaz = index.gaz
    ids = gaz.ids(name)
    if name in _COMMON_WORDS:
        exact = [(100.0, _as_place(choose(gaz, ids)))] if ids else []
        raise _not_found(cleaned, exact + _fuzzy(name, index.place_choices, index))
    if ids is not None:
        return _answer(_pairs(choose(gaz, ids)), cleaned)
    if "/" in cleaned:
        return _resolve_iana_like(cleaned, index)
    parts = [p for p in (norm(x) for x in re.split(r"[,;]", cleaned)) if p]
    if len(parts) > 1:  # "Paris, France", "Portland, Oregon, USA"
        return _resolve_parts(parts, cleaned, index)
    words = name.split()
    for cut in range(len(words) - 1, 0, -1):  # "Lagos Nigeria", "Paris Texas"
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        if gaz.ids(head) and gaz.region_ids(tail):
            return _resolve_parts([head, tail], cleaned, index)
    ranked = _fuzzy(name, index.place_choices, index) if name else []
    winner = _clear_winner(ranked, name)
    if winner is not None:
        return _answer(winner.candidates, cleaned)
    raise _not_found(cleaned, ranked)
