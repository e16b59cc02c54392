"""Time-zone resolution: turn what a member types into a :class:`Zone`.

Members set their zone with free text (``!tz set <text>``).  This module reads that text:

* fixed UTC offsets: ``UTC+5:30``, ``GMT-3``, ``+0530``, ``UTC``, ``Z`` (``-12:00`` to ``+14:00``,
  minutes :00/:15/:30/:45), stored as ``UTC+05:30`` / ``UTC-03:00`` / ``UTC``;
* abbreviations: ``PST``, ``CET``, ``WAT``…  Unambiguous ones map to a representative zone that
  follows daylight saving time; ambiguous ones (``IST``, ``CST``, ``BST``, ``AST``, ``SST``)
  raise :class:`~chatbot.base.errors.AmbiguousZone` listing the candidates;
* IANA names in any case, with spaces or underscores (``america/sao paulo``); legacy aliases
  (``US/Eastern``, ``Asia/Calcutta``) are stored under their canonical name;
* city, region and country names, typo-tolerant (``lagoss``, ``manilla``, ``sao polo``), also with
  a region (``Portland, Oregon``, ``Lagos Nigeria``).  Countries and city names that span several
  zones (``Brazil``, ``Portland``), and a city and region that point at different zones
  (``Paris, Texas``), raise ``AmbiguousZone`` listing the candidates.

Three entry points, from strict to lenient, share the same tables:

* :func:`parse_offset` reads only an offset;
* :func:`lookup_exact` reads an offset, an abbreviation or an IANA name, never guesses; the
  date parser uses it for its zone pre-pass (``Friday 18h CET``);
* :func:`resolve_zone` adds places and fuzzy matching; everything it raises is a ``UserError``.

Stored keys come back through :func:`zone_from_key` (cached).

Design choices:

* ``CET``/``CEST``/``MET`` → ``Europe/Brussels``, ``EET`` → ``Europe/Athens``, ``WET`` →
  ``Europe/Lisbon``: the zones tzdata itself links those legacy names to since 2024b, so the
  choice is IANA's, not ours.  ``MST`` → ``America/Denver`` (Arizona members type Phoenix).
  ``PST`` is the US Pacific zone even though the Philippines also call their time PST; ``PHT``
  and Manila resolve there.  ``GMT`` is the fixed offset UTC, not London.
* ``Etc/GMT+3`` is read with IANA's inverted sign and stored as the fixed offset ``UTC-03:00``,
  so the label members see is never the confusing ``GMT+3``.
* Fuzzy matching compares accent-free lower-case names of at least four letters.  The score
  (0-100) is the mean of rapidfuzz's Indel ratio (``fuzz.ratio``) and the normalised OSA
  similarity, which counts a swap of two letters as one typo (``lagso`` → Lagos, not Laos).  A
  match is taken when it scores at least :data:`ACCEPT_SCORE` and beats the next different zone
  by :data:`CLEAR_MARGIN`; otherwise the member gets up to three suggestions scoring at least
  :data:`SUGGEST_SCORE`.  The thresholds were tuned on ~3,300 one-typo and ~3,100 two-typo
  spellings of 130 cities and ~50 ordinary words (no ordinary word is taken for a place).
* Nothing is built at import: the indexes are built on first use (``warm_up()`` does it ahead
  of time) and rapidfuzz is imported only by the fuzzy path.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, NoReturn
from zoneinfo import ZoneInfo

from chatbot.base.errors import AmbiguousZone, BadArgument, ZoneNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ACCEPT_SCORE",
    "CLEAR_MARGIN",
    "MAX_INPUT_LENGTH",
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
ACCEPT_SCORE = 77.0
#: …and beats the best match in another zone by at least this much.
CLEAR_MARGIN = 5.0
#: Names scoring at least this are offered as suggestions when no match is clear.
SUGGEST_SCORE = 55.0
#: Longer input is refused before any lookup (the longest IANA name has 32 characters).
MAX_INPUT_LENGTH = 80

_MIN_FUZZY_LENGTH = 4  # "LA", "BC", "NYC" are matched exactly only
_PREFILTER_RATIO = 50.0  # candidates below this Indel ratio are not scored further
_MIN_OFFSET_MINUTES = -12 * 60
_MAX_OFFSET_MINUTES = 14 * 60
_HOW_TO = "Try a city ('Lagos'), a zone name ('Africa/Lagos') or an offset ('UTC+01:00')."


@dataclass(frozen=True, slots=True)
class Zone:
    """A member's time zone.  Two zones are equal when their keys are."""

    #: What is stored: an IANA name (``Europe/Paris``) or ``UTC``, ``UTC+05:30``, ``UTC-03:00``.
    key: str
    tzinfo: ZoneInfo | timezone = field(compare=False, repr=False)
    #: Short name for rendering: ``Paris``, ``São Paulo``, ``UTC+05:30``, ``UTC``.
    label: str = field(compare=False)
    is_fixed_offset: bool = field(compare=False)


# ---------------------------------------------------------------------------------------------
# Abbreviations
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Data: aliases, labels, places
# ---------------------------------------------------------------------------------------------

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
_CITY_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe"}
    | {"Indian", "Pacific"}
)
# Legacy names whose last part is not a place.
_NOT_CITY_NAMES = frozenset(
    {
        "Australia/ACT", "Australia/LHI", "Australia/NSW", "Australia/North", "Australia/South",
        "Australia/West", "Australia/Yancowinna", "America/Knox_IN", "America/Virgin",
        "Pacific/Samoa",
    }
)  # fmt: skip

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

# Cities, regions and nicknames that are not IANA names: ``Zone: Name, Name, …`` (indented lines
# continue the line above).  IANA city names (Lagos, Paris…) need no entry.
_CITY_DATA = """
Africa/Lagos: Abuja, Ibadan, Kano, Port Harcourt, Benin City, Kaduna, Enugu, Onitsha, Jos, Ilorin,
    Aba, Owerri, Abeokuta, Calabar, Zaria, Warri, Akure, Uyo
Africa/Accra: Kumasi, Tamale, Takoradi, Cape Coast
Africa/Nairobi: Mombasa, Kisumu, Nakuru, Eldoret
Africa/Kampala: Entebbe, Gulu
Africa/Dar_es_Salaam: Dodoma, Arusha, Mwanza, Zanzibar, Dar
Africa/Addis_Ababa: Addis
Africa/Johannesburg: Cape Town, Durban, Pretoria, Tshwane, Port Elizabeth, Gqeberha, Bloemfontein,
    Soweto, East London, Pietermaritzburg, Stellenbosch
Africa/Cairo: Alexandria, Giza, Luxor, Aswan, Port Said
Africa/Casablanca: Rabat, Marrakesh, Marrakech, Fes, Fez, Tangier, Agadir
Africa/Algiers: Oran, Constantine
Africa/Tunis: Sfax
Africa/Tripoli: Benghazi
Africa/Khartoum: Omdurman
Africa/Lubumbashi: Goma, Bukavu, Kisangani, Mbuji-Mayi, Kananga
Africa/Abidjan: Yamoussoukro, Bouaké
Africa/Dakar: Touba, Thiès
Africa/Douala: Yaoundé
Africa/Maputo: Beira, Nampula
Africa/Harare: Bulawayo
Africa/Lusaka: Ndola, Kitwe
Africa/Blantyre: Lilongwe
Africa/Windhoek: Walvis Bay
Africa/Luanda: Huambo
Africa/Gaborone: Francistown
Africa/Ouagadougou: Bobo-Dioulasso
Africa/Mogadishu: Hargeisa
Africa/Porto-Novo: Cotonou
Indian/Antananarivo: Tana
Indian/Mauritius: Port Louis
Asia/Kolkata: Mumbai, Bombay, Delhi, New Delhi, Bangalore, Bengaluru, Chennai, Madras, Hyderabad,
    Ahmedabad, Pune, Jaipur, Lucknow, Kanpur, Nagpur, Surat, Indore, Bhopal, Patna, Chandigarh,
    Kochi, Cochin, Thiruvananthapuram, Trivandrum, Goa, Guwahati, Bhubaneswar, Coimbatore,
    Visakhapatnam, Mysuru, Mysore, Varanasi, Agra, Amritsar, Noida, Gurugram, Gurgaon, Kozhikode,
    Madurai, Ranchi, Dehradun, Srinagar, Vadodara, Ludhiana, Nashik, Raipur, Mangaluru, Mangalore
Asia/Karachi: Lahore, Islamabad, Rawalpindi, Faisalabad, Peshawar, Multan, Quetta
Asia/Dhaka: Chittagong, Chattogram, Khulna, Sylhet, Rajshahi
Asia/Colombo: Kandy, Galle, Sri Jayawardenepura Kotte
Asia/Kathmandu: Pokhara, Lalitpur, Patan
Asia/Shanghai: Beijing, Peking, Guangzhou, Shenzhen, Chengdu, Wuhan, Hangzhou, Nanjing, Xi'an,
    Tianjin, Suzhou, Qingdao, Dalian, Shenyang, Kunming, Xiamen, Changsha, Zhengzhou, Jinan, Hefei,
    Fuzhou, Nanning, Lhasa, Hohhot
Asia/Hong_Kong: Kowloon, HK
Asia/Taipei: Kaohsiung, Taichung, Tainan
Asia/Tokyo: Osaka, Kyoto, Yokohama, Nagoya, Sapporo, Fukuoka, Kobe, Hiroshima, Sendai, Okinawa,
    Naha, Kawasaki
Asia/Seoul: Busan, Incheon, Daegu, Daejeon, Gwangju
Asia/Manila: Quezon City, Cebu, Cebu City, Davao, Makati, Pasig, Taguig, Baguio, Iloilo, Cagayan de
    Oro, Zamboanga, Bacolod, Metro Manila
Asia/Jakarta: Bandung, Surabaya, Semarang, Medan, Yogyakarta, Jogja, Palembang, Bogor, Depok,
    Tangerang, Bekasi, Malang, Padang, Java, Sumatra
Asia/Makassar: Bali, Denpasar, Balikpapan, Manado, Mataram, Lombok, Banjarmasin, Kupang
Asia/Jayapura: Ambon
Asia/Bangkok: Chiang Mai, Phuket, Pattaya, Khon Kaen
Asia/Ho_Chi_Minh: Hanoi, Ha Noi, Da Nang, Haiphong, Hai Phong, Hue, Can Tho, Nha Trang, Ho Chi Minh,
    HCMC
Asia/Phnom_Penh: Siem Reap
Asia/Yangon: Mandalay, Naypyidaw
Asia/Kuala_Lumpur: KL, Penang, George Town, Johor Bahru, Ipoh, Malacca, Melaka, Putrajaya, Shah
    Alam, Petaling Jaya
Asia/Kuching: Kota Kinabalu, Sabah, Sarawak, Miri
Asia/Brunei: Bandar Seri Begawan
Asia/Almaty: Astana, Nur-Sultan, Shymkent, Karaganda
Asia/Tashkent: Bukhara, Namangan, Andijan
Asia/Bishkek: Osh
Asia/Kabul: Kandahar, Herat, Mazar-i-Sharif
Asia/Tehran: Mashhad, Isfahan, Shiraz, Tabriz, Karaj, Qom
Asia/Baghdad: Basra, Mosul, Erbil, Najaf, Karbala, Sulaymaniyah
Asia/Riyadh: Jeddah, Mecca, Makkah, Medina, Dammam, Khobar, Taif
Asia/Dubai: Abu Dhabi, Sharjah, Ajman, Al Ain, Ras al-Khaimah, Fujairah
Asia/Qatar: Doha
Asia/Bahrain: Manama
Asia/Kuwait: Kuwait City
Asia/Muscat: Salalah
Asia/Aden: Sanaa, Sana'a
Asia/Amman: Zarqa, Irbid
Asia/Beirut: Tyre, Sidon
Asia/Damascus: Aleppo, Homs
Asia/Jerusalem: Haifa, Eilat, Beersheba
Asia/Hebron: Ramallah, Bethlehem, Nablus, Jenin, West Bank
Asia/Gaza: Gaza City, Rafah, Khan Yunis
Asia/Tbilisi: Batumi, Kutaisi
Asia/Yerevan: Gyumri
Asia/Baku: Ganja
Asia/Nicosia: Limassol, Larnaca, Paphos
Asia/Yekaterinburg: Chelyabinsk, Perm, Ufa, Tyumen
Asia/Vladivostok: Khabarovsk
Europe/Istanbul: Ankara, Izmir, Bursa, Antalya, Adana, Konya, Gaziantep, Constantinople
Europe/Moscow: St Petersburg, Saint Petersburg, Leningrad, Kazan, Nizhny Novgorod, Rostov-on-Don,
    Sochi, Voronezh, Krasnodar, Murmansk, Arkhangelsk, Yaroslavl, Tula
Europe/Simferopol: Sevastopol, Crimea
Europe/Kyiv: Kharkiv, Kharkov, Odesa, Odessa, Lviv, Lvov, Dnipro, Dnipropetrovsk, Zaporizhzhia
Europe/Minsk: Gomel, Grodno, Vitebsk
Europe/Warsaw: Kraków, Cracow, Wrocław, Gdańsk, Poznań, Łódź, Szczecin, Lublin, Katowice, Białystok
Europe/Berlin: Munich, München, Hamburg, Frankfurt, Cologne, Köln, Stuttgart, Düsseldorf, Leipzig,
    Dresden, Hanover, Hannover, Bremen, Nuremberg, Nürnberg, Essen, Dortmund, Bonn, Heidelberg,
    Mannheim, Freiburg, Karlsruhe, Münster, Kiel, Bavaria, Bochum, Duisburg, Wiesbaden, Mainz,
    Augsburg, Regensburg, Potsdam, Göttingen, Jena, Weimar, Erfurt, Magdeburg, Rostock, Lübeck,
    Aachen, Bielefeld
Europe/Paris: Lyon, Marseille, Toulouse, Nice, Nantes, Strasbourg, Montpellier, Bordeaux, Lille,
    Rennes, Reims, Grenoble, Dijon, Toulon, Angers, Nancy, Metz, Caen, Rouen, Brest, Tours, Orléans,
    Avignon, Clermont-Ferrand, Limoges, Perpignan, Besançon
Europe/Brussels: Antwerp, Antwerpen, Ghent, Gent, Bruges, Brugge, Liège, Leuven, Charleroi, Namur,
    Mons
Europe/Amsterdam: Rotterdam, The Hague, Den Haag, Utrecht, Eindhoven, Groningen, Tilburg, Leiden,
    Delft, Maastricht, Nijmegen, Haarlem, Arnhem
Europe/Zurich: Geneva, Genève, Bern, Berne, Basel, Lausanne, Lucerne, Luzern, Lugano, St. Gallen,
    Winterthur
Europe/Vienna: Graz, Linz, Salzburg, Innsbruck, Klagenfurt
Europe/Rome: Milan, Milano, Naples, Napoli, Turin, Torino, Florence, Firenze, Venice, Venezia,
    Bologna, Genoa, Genova, Palermo, Bari, Catania, Verona, Padua, Padova, Trieste, Pisa, Siena,
    Perugia, Cagliari, Sardinia, Sicily, Messina, Brescia, Parma, Modena
Europe/Madrid: Barcelona, Seville, Sevilla, Zaragoza, Málaga, Bilbao, Murcia, Palma, Palma de
    Mallorca, Mallorca, Majorca, Ibiza, Alicante, Granada, Valladolid, Vigo, Gijón, A Coruña, La
    Coruña, Oviedo, Pamplona, San Sebastián, Donostia, Salamanca, Santander, Cádiz, Vitoria-Gasteiz,
    Catalonia, Catalunya, Basque Country, Andalusia
Atlantic/Canary: Tenerife, Gran Canaria, Las Palmas, Santa Cruz de Tenerife, Lanzarote,
    Fuerteventura, Canary Islands
Europe/Lisbon: Porto, Oporto, Braga, Coimbra, Faro, Aveiro, Algarve
Atlantic/Madeira: Funchal
Atlantic/Azores: Ponta Delgada
Europe/London: Manchester, Liverpool, Leeds, Glasgow, Edinburgh, Bristol, Sheffield, Newcastle,
    Cardiff, Nottingham, Leicester, Oxford, Coventry, Brighton, Southampton, Portsmouth, Plymouth,
    York, Aberdeen, Dundee, Swansea, Norwich, Exeter, Reading, Hull, Bradford, Derby, Milton Keynes,
    Bath, Canterbury, Inverness, Derry, Scotland, Wales, England, Northern Ireland
Europe/Dublin: Cork, Galway, Limerick, Waterford
Europe/Copenhagen: Aarhus, Odense, Aalborg
Europe/Stockholm: Gothenburg, Göteborg, Malmö, Uppsala, Västerås, Örebro, Linköping
Europe/Oslo: Bergen, Trondheim, Stavanger, Tromsø
Europe/Helsinki: Espoo, Tampere, Vantaa, Turku, Oulu
Atlantic/Reykjavik: Akureyri
Europe/Tallinn: Tartu
Europe/Riga: Daugavpils
Europe/Vilnius: Kaunas, Klaipėda
Europe/Prague: Brno, Ostrava, Plzeň, Pilsen
Europe/Bratislava: Košice
Europe/Budapest: Debrecen, Szeged, Pécs
Europe/Bucharest: Cluj-Napoca, Cluj, Timișoara, Iași, Constanța, Brașov
Europe/Sofia: Plovdiv, Varna, Burgas
Europe/Belgrade: Novi Sad, Niš, Pristina, Prishtina
Europe/Zagreb: Split, Rijeka, Dubrovnik, Osijek
Europe/Ljubljana: Maribor
Europe/Sarajevo: Banja Luka, Mostar, Tuzla
Europe/Tirane: Tirana, Durrës
Europe/Athens: Thessaloniki, Patras, Heraklion, Crete, Rhodes, Piraeus, Larissa
Europe/Malta: Valletta
America/New_York: NYC, NY, New York City, Manhattan, Brooklyn, Queens, Bronx, Boston, Philadelphia,
    Washington DC, DC, Atlanta, Miami, Baltimore, Pittsburgh, Charlotte, Orlando, Tampa,
    Jacksonville, Raleigh, Durham, Buffalo, Rochester, Albany, Hartford, New Haven, Providence,
    Columbus, Cleveland, Cincinnati, Savannah, Charleston, Newark, Jersey City, Princeton, Ithaca,
    Syracuse, Virginia Beach, Annapolis, Wilmington, Burlington, Knoxville, Lexington, Tallahassee,
    Fort Lauderdale, West Palm Beach, Richmond
America/Detroit: Ann Arbor, Grand Rapids, Lansing
America/Chicago: Houston, Dallas, San Antonio, Austin, Fort Worth, New Orleans, Memphis, Nashville,
    Milwaukee, Minneapolis, St. Paul, Kansas City, St. Louis, Oklahoma City, Tulsa, Omaha, Des
    Moines, Madison, Little Rock, Baton Rouge, Wichita, Corpus Christi, Lubbock
America/Denver: Salt Lake City, Albuquerque, El Paso, Boulder, Colorado Springs, Santa Fe, Cheyenne,
    Billings
America/Phoenix: Tucson, Scottsdale, Mesa, Tempe, Flagstaff
America/Los_Angeles: LA, San Francisco, SF, Seattle, San Diego, Sacramento, Oakland, Las Vegas,
    Reno, Fresno, Long Beach, Berkeley, Palo Alto, Mountain View, Silicon Valley, Hollywood,
    Spokane, Tacoma, Eugene, Santa Barbara, Bay Area, Santa Clara, Sunnyvale, Cupertino, Menlo Park,
    Redmond, Bellevue, Irvine, Anaheim, Riverside, Pasadena
America/Anchorage: Fairbanks
Pacific/Honolulu: Maui, Oahu, Hilo
America/Toronto: Ottawa, Quebec City, Mississauga, Brampton, Markham, Windsor, Sudbury, Gatineau,
    Sherbrooke, Laval, London Ontario
America/Vancouver: Surrey, Burnaby, Kelowna
America/Edmonton: Calgary, Red Deer, Lethbridge
America/Regina: Saskatoon
America/Halifax: Charlottetown
America/Moncton: Fredericton, Saint John
America/Mexico_City: CDMX, Mexico DF, Guadalajara, Puebla, León, Querétaro, Toluca, Acapulco,
    Oaxaca, Veracruz, Aguascalientes, San Luis Potosí, Morelia, Cuernavaca
America/Monterrey: Saltillo
America/Tijuana: Mexicali, Baja California
America/Cancun: Playa del Carmen, Tulum, Quintana Roo
America/Mazatlan: Culiacán, Los Cabos, Cabo San Lucas
America/Guatemala: Guatemala City
America/El_Salvador: San Salvador
America/Tegucigalpa: San Pedro Sula
America/Panama: Panama City
America/Santo_Domingo: Santiago de los Caballeros, Punta Cana
America/Jamaica: Kingston, Montego Bay
America/Puerto_Rico: Ponce
America/Bogota: Medellín, Cali, Barranquilla, Cartagena, Bucaramanga, Pereira, Manizales
America/Caracas: Maracaibo, Barquisimeto
America/Lima: Arequipa, Cusco, Cuzco, Trujillo
America/Guayaquil: Quito, Cuenca
America/La_Paz: Sucre, Santa Cruz de la Sierra, Cochabamba, El Alto
America/Santiago: Valparaíso, Viña del Mar, Concepción, Antofagasta, Temuco
America/Argentina/Buenos_Aires: La Plata, Mar del Plata, BA
America/Montevideo: Punta del Este
America/Asuncion: Ciudad del Este
America/Sao_Paulo: Rio de Janeiro, Rio, Brasília, Belo Horizonte, Curitiba, Porto Alegre, Campinas,
    Florianópolis, Goiânia, Santos, Niterói, Guarulhos, SP
America/Bahia: Salvador, Salvador da Bahia
America/Fortaleza: Natal, João Pessoa, Teresina, São Luís
America/Maceio: Aracaju
America/Araguaina: Palmas
America/Guyana: Georgetown
America/Port_of_Spain: Trinidad
America/Barbados: Bridgetown
Australia/Sydney: Wollongong, Central Coast, New South Wales, NSW, ACT
Australia/Melbourne: Geelong, Ballarat, Bendigo
Australia/Brisbane: Gold Coast, Sunshine Coast, Cairns, Townsville, Toowoomba, Queensland
Australia/Adelaide: South Australia
Australia/Perth: Fremantle, Western Australia
Australia/Darwin: Alice Springs, Northern Territory
Australia/Hobart: Launceston, Tasmania
Pacific/Auckland: Wellington, Christchurch, Dunedin, Tauranga, Queenstown, Napier, Nelson,
    Palmerston North
Pacific/Fiji: Suva, Nadi
Pacific/Port_Moresby: Lae
Pacific/Guam: Hagåtña
Pacific/Tongatapu: Nuku'alofa
Pacific/Tahiti: Papeete
America/Anchorage: Alaska
Pacific/Honolulu: Hawaii
America/Phoenix: Arizona
America/Los_Angeles: California, Oregon, Nevada, Washington State
America/Denver: Colorado, Utah, New Mexico, Montana, Wyoming
America/Boise: Idaho
America/Chicago: Texas, Illinois, Minnesota, Wisconsin, Iowa, Missouri, Louisiana, Alabama,
    Mississippi, Arkansas, Oklahoma, Kansas, Nebraska, Tennessee, South Dakota, North Dakota
America/New_York: New York State, Florida, Massachusetts, Pennsylvania, New Jersey, Virginia,
    Maryland, North Carolina, South Carolina, Ohio, Connecticut, Maine, Vermont, New Hampshire,
    Rhode Island, Delaware, West Virginia, Kentucky
America/Detroit: Michigan
America/Indiana/Indianapolis: Indiana
America/Toronto: Ontario, Quebec, Québec
America/Vancouver: British Columbia, BC
America/Edmonton: Alberta, Northwest Territories
America/Regina: Saskatchewan
America/Winnipeg: Manitoba
America/Halifax: Nova Scotia, Prince Edward Island
America/Moncton: New Brunswick
America/St_Johns: Newfoundland
America/Whitehorse: Yukon
America/Iqaluit: Nunavut
Africa/Johannesburg: Joburg, Jo'burg, Jozi, Johannesburgo, Ciudad del Cabo, Le Cap, Kapstadt
America/Los_Angeles: San Fran, Frisco
Europe/London: Londres, Londra
Europe/Lisbon: Lisboa, Lisbonne, Lissabon
Europe/Moscow: Moscou, Moscú, Moskau, Moskva, Mosca
Europe/Vienna: Wien, Vienne, Viena
Europe/Prague: Praha, Praga, Prag
Europe/Warsaw: Warszawa, Varsovie, Varsovia, Warschau
Europe/Brussels: Bruxelles, Brussel, Bruselas, Brüssel
Europe/Copenhagen: København, Kopenhagen, Copenhague
Europe/Athens: Athína, Atenas, Athènes, Athen
Europe/Bucharest: București, Bucarest, Bukarest
Europe/Belgrade: Beograd, Belgrad
Europe/Kyiv: Kiew, Kijów, Kyjiw
Europe/Rome: Roma, Rom, Mailand, Milán, Neapel, Nápoles, Venedig, Venecia, Florenz, Florencia
Europe/Zurich: Genf, Ginebra, Zúrich
Europe/Paris: París, Parigi
Europe/Berlin: Berlín, Múnich, Munique
Europe/Istanbul: Estambul, İstanbul
Africa/Cairo: Le Caire, El Cairo, Kairo, Il Cairo
Asia/Tokyo: Tokio, Tóquio
Asia/Shanghai: Pékin, Pekín, Pequim, Xangai
Asia/Singapore: Singapur, Cingapura
Asia/Kolkata: Bombaim, Nueva Delhi, Nova Délhi
Asia/Manila: Manille, Manilha
Asia/Jakarta: Yakarta, Jacarta
America/New_York: Nueva York, Nova York, Nouvelle-York
America/Mexico_City: Ciudad de México, Cidade do México
America/Sao_Paulo: San Pablo, Sampa
"""

# Countries whose people share one zone (or nearly all do: China, Chile, Spain, Portugal…).
_COUNTRY_DATA = """
Asia/Kabul: Afghanistan
Europe/Tirane: Albania
Africa/Algiers: Algeria
Europe/Andorra: Andorra
Africa/Luanda: Angola
America/Anguilla: Anguilla
America/Antigua: Antigua and Barbuda, Antigua
America/Argentina/Buenos_Aires: Argentina
Asia/Yerevan: Armenia
America/Aruba: Aruba
Europe/Vienna: Austria
Asia/Baku: Azerbaijan
America/Nassau: Bahamas
Asia/Bahrain: Bahrain
Asia/Dhaka: Bangladesh
America/Barbados: Barbados
Europe/Minsk: Belarus
Europe/Brussels: Belgium
America/Belize: Belize
Africa/Porto-Novo: Benin
Atlantic/Bermuda: Bermuda
Asia/Thimphu: Bhutan
America/La_Paz: Bolivia
Europe/Sarajevo: Bosnia and Herzegovina, Bosnia
Africa/Gaborone: Botswana
Asia/Brunei: Brunei
Europe/Sofia: Bulgaria
Africa/Ouagadougou: Burkina Faso
Africa/Bujumbura: Burundi
Asia/Phnom_Penh: Cambodia
Africa/Douala: Cameroon
Atlantic/Cape_Verde: Cape Verde, Cabo Verde
America/Cayman: Cayman Islands
Africa/Bangui: Central African Republic, CAR
Africa/Ndjamena: Chad
America/Santiago: Chile
Asia/Shanghai: China, PRC
America/Bogota: Colombia
Indian/Comoro: Comoros
Africa/Brazzaville: Republic of the Congo, Congo-Brazzaville
Pacific/Rarotonga: Cook Islands
America/Costa_Rica: Costa Rica
Africa/Abidjan: Côte d'Ivoire, Ivory Coast
Europe/Zagreb: Croatia
America/Havana: Cuba
America/Curacao: Curaçao
Asia/Nicosia: Cyprus
Europe/Prague: Czechia, Czech Republic
Europe/Copenhagen: Denmark
Africa/Djibouti: Djibouti
America/Dominica: Dominica
America/Santo_Domingo: Dominican Republic
Asia/Dili: Timor-Leste, East Timor
America/Guayaquil: Ecuador
Africa/Cairo: Egypt
America/El_Salvador: El Salvador
Africa/Malabo: Equatorial Guinea
Africa/Asmara: Eritrea
Europe/Tallinn: Estonia
Africa/Mbabane: Eswatini, Swaziland
Africa/Addis_Ababa: Ethiopia
Atlantic/Stanley: Falkland Islands
Atlantic/Faroe: Faroe Islands
Pacific/Fiji: Fiji
Europe/Helsinki: Finland
Europe/Paris: France
America/Cayenne: French Guiana
Pacific/Tahiti: French Polynesia
Africa/Libreville: Gabon
Africa/Banjul: Gambia
Europe/Berlin: Germany, Deutschland
Africa/Accra: Ghana
Europe/Gibraltar: Gibraltar
Europe/Athens: Greece
America/Nuuk: Greenland
America/Grenada: Grenada
America/Guadeloupe: Guadeloupe
Pacific/Guam: Guam
America/Guatemala: Guatemala
Europe/Guernsey: Guernsey
Africa/Conakry: Guinea
Africa/Bissau: Guinea-Bissau
America/Guyana: Guyana
America/Port-au-Prince: Haiti
America/Tegucigalpa: Honduras
Asia/Hong_Kong: Hong Kong
Europe/Budapest: Hungary
Atlantic/Reykjavik: Iceland
Asia/Kolkata: India, Bharat
Asia/Tehran: Iran
Asia/Baghdad: Iraq
Europe/Dublin: Ireland, Eire
Europe/Isle_of_Man: Isle of Man
Asia/Jerusalem: Israel
Europe/Rome: Italy
America/Jamaica: Jamaica
Asia/Tokyo: Japan
Europe/Jersey: Jersey
Asia/Amman: Jordan
Asia/Almaty: Kazakhstan
Africa/Nairobi: Kenya
Europe/Belgrade: Kosovo
Asia/Kuwait: Kuwait
Asia/Bishkek: Kyrgyzstan
Asia/Vientiane: Laos
Europe/Riga: Latvia
Asia/Beirut: Lebanon
Africa/Maseru: Lesotho
Africa/Monrovia: Liberia
Africa/Tripoli: Libya
Europe/Vaduz: Liechtenstein
Europe/Vilnius: Lithuania
Europe/Luxembourg: Luxembourg
Asia/Macau: Macau, Macao
Indian/Antananarivo: Madagascar
Africa/Blantyre: Malawi
Asia/Kuala_Lumpur: Malaysia
Indian/Maldives: Maldives
Africa/Bamako: Mali
Europe/Malta: Malta
Pacific/Majuro: Marshall Islands
America/Martinique: Martinique
Africa/Nouakchott: Mauritania
Indian/Mauritius: Mauritius
Indian/Mayotte: Mayotte
Europe/Chisinau: Moldova
Europe/Monaco: Monaco
Asia/Ulaanbaatar: Mongolia
Europe/Podgorica: Montenegro
America/Montserrat: Montserrat
Africa/Casablanca: Morocco
Africa/Maputo: Mozambique
Asia/Yangon: Myanmar, Burma
Africa/Windhoek: Namibia
Pacific/Nauru: Nauru
Asia/Kathmandu: Nepal
Europe/Amsterdam: Netherlands, Holland, Nederland
Pacific/Noumea: New Caledonia
Pacific/Auckland: New Zealand, Aotearoa, NZ
America/Managua: Nicaragua
Africa/Niamey: Niger
Africa/Lagos: Nigeria, Naija
Pacific/Niue: Niue
Asia/Pyongyang: North Korea
Europe/Skopje: North Macedonia, Macedonia
Europe/Oslo: Norway
Asia/Muscat: Oman
Asia/Karachi: Pakistan
Pacific/Palau: Palau
America/Panama: Panama
Pacific/Port_Moresby: Papua New Guinea, PNG
America/Asuncion: Paraguay
America/Lima: Peru
Asia/Manila: Philippines, Pilipinas
Europe/Warsaw: Poland, Polska
Europe/Lisbon: Portugal
America/Puerto_Rico: Puerto Rico
Asia/Qatar: Qatar
Indian/Reunion: Réunion
Europe/Bucharest: Romania
Africa/Kigali: Rwanda
Pacific/Apia: Samoa
Pacific/Pago_Pago: American Samoa
Europe/San_Marino: San Marino
Africa/Sao_Tome: São Tomé and Príncipe
Asia/Riyadh: Saudi Arabia, KSA
Africa/Dakar: Senegal
Europe/Belgrade: Serbia
Indian/Mahe: Seychelles
Africa/Freetown: Sierra Leone
Asia/Singapore: Singapore
Europe/Bratislava: Slovakia
Europe/Ljubljana: Slovenia
Pacific/Guadalcanal: Solomon Islands
Africa/Mogadishu: Somalia, Somaliland
Africa/Johannesburg: South Africa, RSA
Asia/Seoul: South Korea, Korea, Republic of Korea
Africa/Juba: South Sudan
Europe/Madrid: Spain, España
Asia/Colombo: Sri Lanka
America/St_Kitts: Saint Kitts and Nevis
America/St_Lucia: Saint Lucia
America/St_Vincent: Saint Vincent and the Grenadines
Africa/Khartoum: Sudan
America/Paramaribo: Suriname
Europe/Stockholm: Sweden, Sverige
Europe/Zurich: Switzerland, Schweiz, Suisse
Asia/Damascus: Syria
Asia/Taipei: Taiwan
Asia/Dushanbe: Tajikistan
Africa/Dar_es_Salaam: Tanzania
Asia/Bangkok: Thailand
Africa/Lome: Togo
Pacific/Tongatapu: Tonga
America/Port_of_Spain: Trinidad and Tobago
Africa/Tunis: Tunisia
Europe/Istanbul: Turkey, Türkiye
Asia/Ashgabat: Turkmenistan
Pacific/Funafuti: Tuvalu
Africa/Kampala: Uganda
Europe/Kyiv: Ukraine
Asia/Dubai: United Arab Emirates, UAE, Emirates
Europe/London: United Kingdom, UK, Great Britain, Britain
America/Montevideo: Uruguay
Asia/Tashkent: Uzbekistan
Pacific/Efate: Vanuatu
Europe/Vatican: Vatican City, Vatican
America/Caracas: Venezuela
Asia/Ho_Chi_Minh: Vietnam, Viet Nam
America/Tortola: British Virgin Islands
America/St_Thomas: US Virgin Islands
Africa/El_Aaiun: Western Sahara
Asia/Aden: Yemen
Africa/Lusaka: Zambia
Africa/Harare: Zimbabwe
"""

# Names that fit several zones: ``Name, Name = Key (what it covers); Key (…)``, main one first
# (indented lines continue the line above).
_AMBIGUOUS_DATA = """
United States, USA, US, America, United States of America = America/New_York (Eastern);
    America/Chicago (Central); America/Denver (Mountain); America/Phoenix (Arizona);
    America/Los_Angeles (Pacific); America/Anchorage (Alaska); Pacific/Honolulu (Hawaii)
Canada = America/Toronto (Eastern: Ontario, Quebec); America/Halifax (Atlantic); America/St_Johns
    (Newfoundland); America/Winnipeg (Central: Manitoba); America/Regina (Saskatchewan);
    America/Edmonton (Mountain: Alberta); America/Vancouver (Pacific: British Columbia)
Brazil, Brasil = America/Sao_Paulo (Brasília time: São Paulo, Rio, Brasília); America/Manaus
    (Amazonas); America/Cuiaba (Mato Grosso); America/Rio_Branco (Acre); America/Noronha (Fernando
    de Noronha)
Australia = Australia/Sydney (New South Wales, ACT); Australia/Melbourne (Victoria);
    Australia/Brisbane (Queensland); Australia/Adelaide (South Australia); Australia/Darwin
    (Northern Territory); Australia/Perth (Western Australia); Australia/Hobart (Tasmania)
Russia, Russian Federation = Europe/Moscow (Moscow); Europe/Kaliningrad (Kaliningrad); Europe/Samara
    (Samara); Asia/Yekaterinburg (Yekaterinburg); Asia/Omsk (Omsk); Asia/Novosibirsk (Novosibirsk);
    Asia/Krasnoyarsk (Krasnoyarsk); Asia/Irkutsk (Irkutsk); Asia/Yakutsk (Yakutsk); Asia/Vladivostok
    (Vladivostok); Asia/Magadan (Magadan); Asia/Kamchatka (Kamchatka)
Indonesia = Asia/Jakarta (WIB: Java, Sumatra); Asia/Makassar (WITA: Bali, Sulawesi); Asia/Jayapura
    (WIT: Papua, Maluku)
Mexico, México = America/Mexico_City (Central: Mexico City, Guadalajara); America/Cancun (Quintana
    Roo); America/Chihuahua (Chihuahua); America/Mazatlan (Sinaloa, Baja California Sur);
    America/Hermosillo (Sonora); America/Tijuana (Baja California)
Democratic Republic of the Congo, DR Congo, DRC, Congo-Kinshasa = Africa/Kinshasa (west: Kinshasa);
    Africa/Lubumbashi (east: Lubumbashi, Goma)
Congo = Africa/Kinshasa (DR Congo, west); Africa/Lubumbashi (DR Congo, east); Africa/Brazzaville
    (Republic of the Congo)
Kiribati = Pacific/Tarawa (Gilbert Islands); Pacific/Kanton (Phoenix Islands); Pacific/Kiritimati
    (Line Islands)
Micronesia = Pacific/Chuuk (Chuuk, Yap); Pacific/Pohnpei (Pohnpei); Pacific/Kosrae (Kosrae)
Palestine = Asia/Hebron (West Bank); Asia/Gaza (Gaza Strip)
Portland = America/Los_Angeles (Portland, Oregon); America/New_York (Portland, Maine)
San Jose, San José = America/Los_Angeles (San José, California); America/Costa_Rica (San José, Costa
    Rica)
San Juan = America/Puerto_Rico (San Juan, Puerto Rico); America/Argentina/San_Juan (San Juan,
    Argentina)
Hamilton = America/Toronto (Hamilton, Ontario); Pacific/Auckland (Hamilton, New Zealand);
    Atlantic/Bermuda (Hamilton, Bermuda)
Victoria = America/Vancouver (Victoria, British Columbia); Australia/Melbourne (Victoria,
    Australia); Indian/Mahe (Victoria, Seychelles)
Valencia = Europe/Madrid (Valencia, Spain); America/Caracas (Valencia, Venezuela)
Córdoba, Cordoba = America/Argentina/Cordoba (Córdoba, Argentina); Europe/Madrid (Córdoba, Spain)
Cambridge = Europe/London (Cambridge, England); America/New_York (Cambridge, Massachusetts)
Birmingham = Europe/London (Birmingham, England); America/Chicago (Birmingham, Alabama)
Georgia = Asia/Tbilisi (Georgia, the country); America/New_York (Georgia, US state)
Washington = America/New_York (Washington DC); America/Los_Angeles (Washington State)
"""

# ---------------------------------------------------------------------------------------------
# Text handling (patterns are compiled on first use, through the ``re`` module's cache)
# ---------------------------------------------------------------------------------------------

_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-"})
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "ð": "d"})
_DROPPED_RE = r"['’‘`´ʼ.]"  # St. John's → st johns, D.C. → dc, U.K. → uk
_SEPARATORS_RE = r"[\s_\-,;:()\[\]{}\"“”«»!?*]+"
_SAINT_WORDS = frozenset({"saint", "st", "ste", "sainte", "sankt"})


def _fold(text: str) -> str:
    """Lower case without accents: ``São Paulo`` → ``sao paulo``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _norm(text: str) -> str:
    """The comparison form of a place name: folded, punctuation as spaces, ``Saint``→``st``."""
    s = re.sub(_DROPPED_RE, "", _fold(text)).replace("&", " and ")
    words = ["st" if w in _SAINT_WORDS else w for w in re.sub(_SEPARATORS_RE, " ", s).split()]
    if len(words) > 1 and words[0] == "the":
        del words[0]
    return " ".join(words)


def _norm_key(text: str) -> str:
    """The comparison form of an IANA name: each ``/`` part normalised like a place name."""
    return "/".join(_norm(part) for part in text.split("/"))


def _prepare(text: str) -> str:
    """NFKC, invisible format characters dropped, outer whitespace stripped."""
    s = unicodedata.normalize("NFKC", text)
    return "".join(c for c in s if unicodedata.category(c) != "Cf").strip()


def _quote(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join(items: Iterable[str], last: str) -> str:
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
    s = _prepare(text).casefold().translate(_DASHES)
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
            f"I couldn't read the offset '{_quote(text.strip())}'. "
            "Write it as hours and minutes, e.g. UTC+05:30 or UTC-03:00."
        )
    hours, mins = parsed
    sign = -1 if m["sign"] == "-" else 1
    shown = f"UTC{'-' if sign < 0 else '+'}{hours:02d}:{mins:02d}"
    if mins >= 60 or mins % 15:
        raise BadArgument(
            f"{shown} is not a real time zone: offsets have :00, :15, :30 or :45 minutes. "
            "Example: UTC+05:30."
        )
    total = sign * (hours * 60 + mins)
    if not _MIN_OFFSET_MINUTES <= total <= _MAX_OFFSET_MINUTES:
        raise BadArgument(
            f"{shown} is not a real time zone: offsets go from UTC-12:00 to UTC+14:00. "
            "Example: UTC+05:30."
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


def _label_for_key(key: str) -> str:
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
    return Zone(key, tz, _label_for_key(key), False)


# ---------------------------------------------------------------------------------------------
# Indexes (built on first use)
# ---------------------------------------------------------------------------------------------


class _Place(NamedTuple):
    """A name members may type, and the zone(s) it stands for."""

    display: str
    candidates: tuple[tuple[str, str], ...]  # (zone key, what that zone covers)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.candidates)


class _Index(NamedTuple):
    iana: dict[str, str]  # normalised IANA name → stored key
    places: dict[str, _Place]  # normalised place name → place
    iana_choices: tuple[str, ...]  # normalised IANA names of canonical zones, for fuzzy search
    place_choices: tuple[str, ...]


def _canonical(name: str, available: frozenset[str]) -> str:
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
def _available() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


@functools.cache
def _iana_index() -> dict[str, str]:
    available = _available()
    return {_norm_key(name): _canonical(name, available) for name in sorted(available)}


def _logical_lines(data: str) -> list[str]:
    """Data lines, with indented continuation lines joined to the line they continue."""
    lines: list[str] = []
    for line in data.strip().splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line.strip())
    return lines


def _parse_zone_lines(data: str) -> Iterable[tuple[str, list[str]]]:
    for line in _logical_lines(data):
        key, _, names = line.partition(":")
        yield key.strip(), [n.strip() for n in names.split(",") if n.strip()]


def _parse_ambiguous_lines(data: str) -> Iterable[tuple[list[str], tuple[tuple[str, str], ...]]]:
    for line in _logical_lines(data):
        names, _, rest = line.partition(" = ")
        cands = []
        for item in rest.split(";"):
            key, _, desc = item.strip().partition(" (")
            cands.append((key.strip(), desc.rstrip(")").strip()))
        yield [n.strip() for n in names.split(",")], tuple(cands)


def _add_place(places: dict[str, _Place], name: str, cands: tuple[tuple[str, str], ...]) -> None:
    """Register ``name``; a later table overrides an earlier one only to change the zones."""
    norm = _norm(name)
    known = places.get(norm)
    if known is None or known.keys != tuple(key for key, _ in cands):
        places[norm] = _Place(name, cands)


@functools.cache
def _index() -> _Index:
    available = _available()
    iana = _iana_index()
    places: dict[str, _Place] = {}

    # 1. The city part of every IANA name (aliases give old spellings: Calcutta, Saigon, Kiev).
    auto: dict[str, dict[str, str]] = {}
    for name in sorted(available):
        area, _, rest = name.partition("/")
        if area not in _CITY_AREAS or not rest or name in _NOT_CITY_NAMES:
            continue
        key = _canonical(name, available)
        shown = _label_for_key(name) if key == name else name.rsplit("/", 1)[1].replace("_", " ")
        auto.setdefault(_norm(name.rsplit("/", 1)[1]), {}).setdefault(key, shown)
        if key == name:  # the label too: "Ho Chi Minh City", "Knox, Indiana", "Easter Island"
            auto.setdefault(_norm(shown), {}).setdefault(key, shown)
    for norm, by_key in auto.items():
        cands = tuple((key, _label_for_key(key)) for key in by_key)
        places[norm] = _Place(next(iter(by_key.values())), cands)

    # 2. Hand lists, each overriding the one before: cities, countries, ambiguous names.
    for data in (_CITY_DATA, _COUNTRY_DATA):
        for key, names in _parse_zone_lines(data):
            if key not in available:
                continue
            for name in names:
                _add_place(places, name, ((key, name),))
    for names, cands in _parse_ambiguous_lines(_AMBIGUOUS_DATA):
        present = tuple(c for c in cands if c[0] in available)
        for name in names if present else ():
            _add_place(places, name, present)

    iana_choices = tuple(sorted(n for n, key in iana.items() if n == _norm_key(key)))
    place_choices = tuple(sorted(n for n in places if len(n) >= _MIN_FUZZY_LENGTH))
    return _Index(iana, places, iana_choices, place_choices)


def warm_up() -> None:
    """Build the lookup indexes now (about 0.1 s) instead of on the first member's request."""
    _index()
    import rapidfuzz.fuzz  # noqa: F401  (first fuzzy lookup pays no import)


# ---------------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------------


def _ambiguous(subject: str, candidates: tuple[tuple[str, str], ...], *, abbr: bool) -> NoReturn:
    listed = ", ".join(f"{key} ({desc})" if desc else key for key, desc in candidates)
    first = candidates[0][0]
    if abbr:
        message = (
            f"{subject} can mean several zones: {listed}. Which one? "
            f"Type one of them, e.g. {first}."
        )
    else:
        message = (
            f"'{subject}' matches several time zones: {listed}. Which one? "
            f"Type one of them, e.g. {first}, or the name of your city."
        )
    raise AmbiguousZone(message, tuple(key for key, _ in candidates))


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
        _ambiguous(word.upper(), cands, abbr=True)
    return cands[0][0]


def lookup_exact(text: str, *, strict_case: bool = False) -> Zone | None:
    """An offset, abbreviation or IANA name (any case, spaces for underscores); None otherwise.

    Never guesses: no city names, no fuzzy matching.  Raises ``AmbiguousZone`` for an ambiguous
    abbreviation and ``BadArgument`` for an impossible offset (``UTC+15``).  ``strict_case`` is
    passed to :func:`zone_for_abbreviation`.
    """
    s = _prepare(text)
    if not s or len(s) > MAX_INPUT_LENGTH or any(unicodedata.category(c) == "Cc" for c in s):
        return None
    minutes = _offset_minutes(s)
    if minutes is not None:
        return zone_from_key(_fixed_key(minutes))
    if s.isalpha() and len(s) <= 5:
        key = zone_for_abbreviation(s, strict_case=strict_case)
        if key is not None:
            return zone_from_key(key)
    found = _iana_index().get(_norm_key(s))
    return None if found is None else zone_from_key(found)


def _clean(text: str) -> str:
    s = _prepare(text)
    if not s:
        raise BadArgument(f"Please tell me a time zone. {_HOW_TO}")
    if len(s) > MAX_INPUT_LENGTH:
        raise BadArgument(f"That is too long to be a time zone ({len(s)} characters). {_HOW_TO}")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in s):
        raise BadArgument(
            "That contains invisible or unusual characters. Type the zone again, e.g. 'Lagos' "
            "or 'Africa/Lagos'."
        )
    return s


def _place_zone(place: _Place, typed: str) -> Zone:
    if len(place.candidates) > 1:
        _ambiguous(_quote(typed), place.candidates, abbr=False)
    return zone_from_key(place.candidates[0][0])


def _combine(places: list[_Place]) -> _Place:
    """``Portland, Oregon``: keep the zones all parts agree on.

    When they agree on none (``Paris, Texas``, but also ``El Paso, Texas``, whose city is in
    another zone than most of its state) the member chooses among all of them.
    """
    result = places[0]
    for place in places[1:]:
        common = tuple(c for c in result.candidates if c[0] in place.keys)
        if not common:
            merged = {key: desc for key, desc in result.candidates + place.candidates}
            return _Place(result.display, tuple(merged.items()))
        result = _Place(result.display, common)
    return result


def _fuzzy(query: str, choices: tuple[str, ...], index: _Index) -> list[tuple[float, _Place]]:
    """Places (or IANA zones) near ``query``, best first, one entry per distinct target.

    Score: mean of the Indel ratio and the normalised OSA similarity (0-100), computed for the
    few choices whose Indel ratio passes a quick prefilter.
    """
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import OSA

    if len(query) < _MIN_FUZZY_LENGTH - 1:
        return []
    scored: list[tuple[float, str]] = []
    for choice, ratio, _ in process.extract(
        query, choices, scorer=fuzz.ratio, limit=None, score_cutoff=_PREFILTER_RATIO
    ):
        score = (ratio + 100.0 * OSA.normalized_similarity(query, choice)) / 2
        if score >= SUGGEST_SCORE:
            scored.append((score, choice))
    ranked: list[tuple[float, _Place]] = []
    seen: set[tuple[str, ...]] = set()
    for score, choice in sorted(scored, key=lambda hit: (-hit[0], hit[1])):
        if choice in index.places and choices is index.place_choices:
            place = index.places[choice]
        else:
            key = index.iana[choice]
            place = _Place(key, ((key, _label_for_key(key)),))
        if place.keys not in seen:
            seen.add(place.keys)
            ranked.append((float(score), place))
    return ranked


def _clear_winner(ranked: list[tuple[float, _Place]]) -> _Place | None:
    """The best fuzzy match if it is good and clearly ahead of the next zone."""
    if not ranked:
        return None
    best, place = ranked[0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    if best >= ACCEPT_SCORE and best - runner_up >= CLEAR_MARGIN:
        return place
    return None


def _match_place(norm: str, index: _Index) -> _Place | None:
    """A place by exact name or clear fuzzy match; None when unsure."""
    exact = index.places.get(norm)
    if exact is not None:
        return exact
    return _clear_winner(_fuzzy(norm, index.place_choices, index))


def _not_found(cleaned: str, ranked: list[tuple[float, _Place]]) -> ZoneNotFound:
    suggestions = tuple(p.keys[0] for _, p in ranked if len(p.keys) == 1)[:3]
    hint = f" Did you mean {_join(suggestions, 'or')}?" if suggestions else ""
    return ZoneNotFound(f"I don't know the zone '{_quote(cleaned)}'.{hint} {_HOW_TO}", suggestions)


def _resolve_iana_like(cleaned: str, index: _Index) -> Zone:
    """``Europe/Pariss``, ``Asia/Bombay``: a misspelt or unknown IANA-style name."""
    area, _, last = cleaned.rpartition("/")
    zone = lookup_exact(last)  # "UTC/GMT+1", "CET/CEST"
    if zone is not None:
        return zone
    city = index.places.get(_norm(last))
    if city is not None:
        prefix = area.split("/")[0].strip().casefold() + "/"
        same_area = tuple(c for c in city.candidates if c[0].casefold().startswith(prefix))
        return _place_zone(_Place(city.display, same_area) if same_area else city, cleaned)
    ranked = _fuzzy(_norm_key(cleaned), index.iana_choices, index)
    winner = _clear_winner(ranked)
    if winner is None and len(_norm(last)) >= 3:
        winner = _clear_winner(_fuzzy(_norm(last), index.place_choices, index))
    if winner is not None:
        return _place_zone(winner, cleaned)
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
    index = _index()
    norm = _norm(cleaned)
    if norm in index.places:
        return _place_zone(index.places[norm], cleaned)
    if norm in _REGIONS:
        city, key = _REGIONS[norm]
        raise ZoneNotFound(
            f"'{_quote(cleaned)}' covers many time zones. Type your city ('{city}') "
            f"or a zone name ('{key}').",
            (key,),
        )
    if "/" in cleaned:
        return _resolve_iana_like(cleaned, index)
    parts = [p for p in (_norm(x) for x in re.split(r"[,;]", cleaned)) if p]
    if len(parts) > 1:  # "Paris, France", "Portland, Oregon, USA"
        known = [p for p in (_match_place(part, index) for part in parts) if p is not None]
        if known:
            return _place_zone(_combine(known), cleaned)
        raise _not_found(cleaned, _fuzzy(parts[0], index.place_choices, index))
    words = norm.split()
    for cut in range(len(words) - 1, 0, -1):  # "Lagos Nigeria", "New York USA"
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        if head in index.places and tail in index.places:
            return _place_zone(_combine([index.places[head], index.places[tail]]), cleaned)
    ranked = _fuzzy(norm, index.place_choices, index) if norm else []
    winner = _clear_winner(ranked)
    if winner is not None:
        return _place_zone(winner, cleaned)
    raise _not_found(cleaned, ranked)
