"""The pre-pass over a date phrase: checks, the zone it names, clock forms rewritten.

Steps 1–3 of :mod:`chatbot.time.parse` (its docstring tells the whole story): the phrase is
checked and tidied (:func:`clean`), the one zone it names is found and cut out
(:func:`take_zone`), and ``18h``, ``4pm``, ``noon`` become ``HH:MM`` (:func:`normalise_times`).
It is a module of its own so that the grammar and dateparser both see one plain shape,
whatever the member typed; the regular expressions for zones and clock forms live here only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, NoReturn

from chatbot.base.errors import AmbiguousZone, BadArgument
from chatbot.base.i18n import Plain, _, _n, listing, together, verbatim
from chatbot.time.phrase_vocabulary import DATE_WORDS as OTHER_DATE_WORDS
from chatbot.time.zones import (
    ZONE_ABBREVIATIONS,
    Zone,
    lookup_exact,
    resolve_zone,
    zone_for_abbreviation,
    zone_from_key,
)

#: Longer phrases are refused before any parsing.
MAX_PHRASE_LENGTH: Final = 200
#: Ends the refusals: what a readable phrase looks like.
EXAMPLES = _("Try 'tomorrow 15:00' or 'next Friday 18:00 UTC'.")


# Lower-case words that are zone abbreviations too: only their upper-case spelling is a zone.
_ENGLISH_ABBREVIATIONS: Final = frozenset(
    {"art", "bot", "cat", "cot", "eat", "met", "pet", "wet", "west", "wit"}
)


# Regular expressions: checks and tidying, zones, clock forms.
_SPACES_RE = re.compile(r"\s+")
_BRACKETS_RE = re.compile(r"[()\[\]{},;]")
_TRAILING_PUNCT_RE = re.compile(r"[\s.!?]+$")
_ISO_T_RE = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})[Tt](\d{1,2}:\d{2})")
_TIME_Z_RE = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)[zZ](?![\w])")
_NAMED_OFFSET_RE = re.compile(
    r"(?<![\w/+\-])(?:utc|gmt)(?:\s*[+\-−–]\s*\d{1,2}(?:[:.h]?\d{2})?)?(?![\w:/+\-])",
    re.IGNORECASE,
)
# A bare offset right after a time: "14:00 +05:30", "14:00:00+05:30", "18:00 -3".  A minus
# without a space only counts after seconds, so that "18:00-20:00" is not read as UTC-20.
_BARE_OFFSET_RE = re.compile(
    r"(?P<time>\d{1,2}:\d{2}(?P<sec>:\d{2}(?:[.,]\d+)?)?|\d{1,2}(?:[.:]\d{2})?\s*[ap]\.?m\.?)"
    r"(?P<space>\s*)(?P<off>[+\-−]\d{2}:?\d{2}|[+\-−]\d{1,2})(?![\w:])",
    re.IGNORECASE,
)
_IANA_RE = re.compile(r"(?<![\w/])[A-Za-z][A-Za-z_\-]*(?:/[A-Za-z0-9_+\-]+)+(?![\w/])")
_WORD_RE = re.compile(r"(?<![\w/+\-:.])[A-Za-z]{2,5}(?![\w/])")
_FOLLOWING_WORD_RE = re.compile(r"\s+([A-Za-z][A-Za-z\-']*)")

_AMPM_RE = re.compile(
    r"(?<![\w:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?(?!\w)", re.IGNORECASE
)
_H_TIME_RE = re.compile(r"(?<![\w:.])(\d{1,2})(?:h(\d{2})?|[.:](\d{2})\s?h)(?!\w)")
# "in 2h", "dans 2h", "en 2h", "em 2h", "daqui a 2h", "vor 2h": a duration, not a time of day
_DURATION_LEAD_RE = re.compile(
    r"(?:^|\s)(?:in|dans|en|em|within|dentro de|daqui a|il y a|hace|há|vor)\s*$"
)
_NOON_RE = re.compile(r"\b(?:12\s+)?(?:noon|midday)\b")
_MIDNIGHT_RE = re.compile(r"\b(?:12\s+)?midnight\b")
_CLOCK_RE = re.compile(r"(?<![\w:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\w:])")


def clip(text: str, limit: int = 40) -> str:
    """User text quoted back in an error: short and on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def clean(text: str) -> str:
    """The phrase checked and tidied: NFKC, no format characters, single spaces."""
    if len(text) > MAX_PHRASE_LENGTH:
        too_long(len(text))
    plain = text.isascii() and text.isprintable()  # the usual case: skip the slow checks
    for ch in "" if plain else text:
        cat = unicodedata.category(ch)
        if cat == "Cc" and ch not in " \t\n\r":
            raise BadArgument(
                _(
                    "That date contains control characters. Type it again as plain text. "
                    "{examples}",
                    examples=EXAMPLES,
                )
            )
        if cat in ("Cs", "Co", "Cn"):
            raise BadArgument(
                _(
                    "That date contains unusual characters. Type it again as plain text. "
                    "{examples}",
                    examples=EXAMPLES,
                )
            )
    s = text
    if not plain:
        s = unicodedata.normalize("NFKC", s)
        s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    s = _SPACES_RE.sub(" ", _BRACKETS_RE.sub(" ", s)).strip()
    s = _ISO_T_RE.sub(r"\1 \2", s)  # 2026-12-03T14:00 → 2026-12-03 14:00
    s = _TRAILING_PUNCT_RE.sub("", s)
    if not s:
        raise BadArgument(_("Tell me when. {examples}", examples=EXAMPLES))
    if len(s) > MAX_PHRASE_LENGTH:
        too_long(len(s))
    return s


def too_long(length: int) -> NoReturn:
    raise BadArgument(
        _n(
            "That is too long for a date ({n} character; at most {most}). {examples}",
            "That is too long for a date ({n} characters; at most {most}). {examples}",
            length,
            most=MAX_PHRASE_LENGTH,
            examples=EXAMPLES,
        )
    )


@dataclass(slots=True)
class ZoneFound:
    zone: Zone
    text: str


def _ambiguous_in_phrase(exc: AmbiguousZone, phrase: str, m: re.Match[str]) -> NoReturn:
    """Refuse ``Friday 18:00 IST`` with the candidates and the phrase rewritten with one."""
    first = exc.candidates[0]
    listed = listing([Plain(c) for c in exc.candidates])
    example = phrase[: m.start()] + first + phrase[m.end() :]
    raise AmbiguousZone(
        _(
            "{abbreviation} can mean several zones ({listed}). Write the zone name instead, "
            "e.g. '{example}'.",
            abbreviation=Plain(m.group().upper()),
            listed=listed,
            example=Plain(clip(example, 60)),
        ),
        exc.candidates,
    ) from None


def take_zone(s: str) -> tuple[str, ZoneFound | None]:
    """Find and remove the zone named in the phrase; the rest of the phrase and the zone."""
    found: list[tuple[int, int, ZoneFound]] = []  # (start, end, zone) in s

    def spans_free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b, _ in found)

    # "14:00Z", "2026-12-03 14:00:00Z"
    for m in _TIME_Z_RE.finditer(s):
        found.append((m.end(1), m.end(), ZoneFound(zone_from_key("UTC"), "Z")))
    # "UTC", "GMT+2", "utc -03:00"
    for m in _NAMED_OFFSET_RE.finditer(s):
        if spans_free(m.start(), m.end()):
            zone = lookup_exact(m.group())  # BadArgument for UTC+15, UTC+5:20
            if zone is not None:
                found.append((m.start(), m.end(), ZoneFound(zone, m.group())))
    # "14:00 +05:30", "14:00:00+05:30"
    for m in _BARE_OFFSET_RE.finditer(s):
        off = m.group("off")
        if not spans_free(m.start("off"), m.end("off")):
            continue
        if off[0] != "+" and not m.group("space") and not m.group("sec"):
            continue
        zone = lookup_exact(off)
        if zone is not None:
            found.append((m.start("off"), m.end("off"), ZoneFound(zone, off)))
    # "Europe/Paris", "america/new_york", "America/Sao Paulo"
    for m in _IANA_RE.finditer(s):
        if not spans_free(m.start(), m.end()):
            continue
        end, zone = m.end(), lookup_exact(m.group())
        pos = m.end()
        for _attempt in range(2):  # names written with spaces for underscores
            if zone is not None:
                break
            nxt = _FOLLOWING_WORD_RE.match(s, pos)
            if nxt is None:
                break
            pos = nxt.end()
            zone = lookup_exact(s[m.start() : pos])
            if zone is not None:
                end = pos
        if zone is None:
            zone = resolve_zone(m.group())  # typo-tolerant; ZoneNotFound with suggestions
        found.append((m.start(), end, ZoneFound(zone, s[m.start() : end])))
    # "CET", "PST", "cet"
    for m in _WORD_RE.finditer(s):
        word = m.group()
        upper = word.upper()
        if upper not in ZONE_ABBREVIATIONS or not spans_free(m.start(), m.end()):
            continue
        if word != upper and (len(word) < 3 or word.casefold() in _ENGLISH_ABBREVIATIONS):
            continue
        try:
            key = zone_for_abbreviation(upper)
        except AmbiguousZone as exc:
            _ambiguous_in_phrase(exc, s, m)
        if key is not None:
            found.append((m.start(), m.end(), ZoneFound(zone_from_key(key), word)))

    if not found:
        return _take_place(s)
    if len(found) > 1:
        ordered = sorted(found, key=lambda t: t[0])
        names = [verbatim("'{zone}'", zone=Plain(f.text)) for _start, _end, f in ordered]
        raise BadArgument(
            _(
                "'{phrase}' names more than one time zone ({names}). Keep one, "
                "e.g. 'Friday 18:00 CET'.",
                phrase=Plain(clip(s)),
                names=together(names),
            )
        )
    start, end, zone_found = found[0]
    rest = s[end:]
    if re.match(r"\s+time\b", rest, re.IGNORECASE):  # "18:00 CET time"
        rest = rest.lstrip()[4:]
    return _SPACES_RE.sub(" ", f"{s[:start]} {rest}").strip(), zone_found


# Words that end date phrases and are never places ("friday 18:00 next week", "9am sharp",
# "18h mañana", "18 Uhr"): English here, es/fr/pt/de from chatbot.time.phrase_vocabulary.
_DATE_WORDS: Final = OTHER_DATE_WORDS | frozenset(
    """today tomorrow tonight yesterday morning afternoon evening night noon midday midnight
    next this last week weeks month months year years day days hour hours minute minutes
    am pm a.m. p.m. sharp please ok latest earliest from until till to and or of the at on
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec""".split()  # noqa: SIM905
)
#: words before a place that are not part of it ("in Lagos", "à Paris", "em São Paulo")
_PLACE_LEADS: Final = frozenset({"in", "at", "à", "a", "en", "em", "no", "na", "um", "im"})
#: articles and prepositions: a place name with a date word does not start with one
#: ("el viernes que viene", "du matin"), one without may ("la paz", "le havre")
_WEAK_WORDS: Final = frozenset(
    "el la le les los las l' de del du da do o os as às am um der den dem que of the".split()  # noqa: SIM905
)
_PLACE_WORD_RE = re.compile(r"[^\W\d_][^\W\d_'’.\-]*\.?")
#: a place named at the end of a phrase has at most this many words ("ciudad de méxico")
_MAX_PLACE_WORDS: Final = 4


def _take_place(s: str) -> tuple[str, ZoneFound | None]:
    """A place at the end of the phrase, read by the same rules as ``!tz set``: ``monday
    10am new york``, ``friday 18:00 são paulo``, ``mañana 18h ciudad de méxico``, ``tomorrow
    9am manila time``.

    The plain words at the end are tried, longest first, after a date or time word.  A date
    word is never a place (``18h mañana``, ``friday 18:00 next week``) and a name with one
    must start with a word that is neither a date word nor an article (``rio de janeiro``,
    ``santo domingo``, not ``tomorrow lagos`` or ``el viernes que viene``).  Words that name no
    place leave the phrase as it was (the grammar then says what it could not read); a place
    shared by several zones is refused with the candidates."""
    words = list(re.finditer(r"\S+", s))
    if words and words[-1].group().casefold() == "time":
        words = words[:-1]  # "9am manila time"
    plain = 0  # the plain words at the end
    while plain < len(words) and _PLACE_WORD_RE.fullmatch(words[-1 - plain].group()):
        plain += 1
    dated = [not _PLACE_WORD_RE.fullmatch(w.group()) or _is_date_word(w) for w in words]
    for size in range(min(plain, _MAX_PLACE_WORDS), 0, -1):
        first = len(words) - size
        part = words[first:]
        if not any(dated[:first]):
            continue  # nothing but words before it: not "a time, then a place"
        lead = part[0].group().casefold()
        if lead in _PLACE_LEADS:
            continue
        if any(dated[first:]) and (dated[first] or lead in _WEAK_WORDS):
            continue
        name = s[part[0].start() : part[-1].end()]
        try:
            zone = resolve_zone(name)
        except AmbiguousZone as exc:
            example = f"{s[: part[0].start()]}{exc.candidates[0]}"
            raise AmbiguousZone(
                _(
                    "{place} can be in several zones ({listed}). Add the country or region, or "
                    "write the zone name, e.g. '{example}'.",
                    place=Plain(name),
                    listed=listing([Plain(c) for c in exc.candidates]),
                    example=Plain(clip(example, 60)),
                ),
                exc.candidates,
            ) from None
        except BadArgument:
            continue
        head = s[: part[0].start()].rstrip()
        before = head.rsplit(" ", 1)
        if len(before) == 2 and before[1].casefold() in _PLACE_LEADS:
            head = before[0]
        return _SPACES_RE.sub(" ", head).strip(), ZoneFound(zone, name)
    return s, None


def _is_date_word(word: re.Match[str]) -> bool:
    return word.group().casefold().rstrip(".") in _DATE_WORDS


def bad_time(shown: str) -> NoReturn:
    raise BadArgument(
        _(
            "'{time}' is not a time of day. Use 00:00 to 23:59, or 1am to 12pm, "
            "e.g. 'tomorrow 15:00'.",
            time=Plain(shown),
        )
    )


def normalise_times(s: str) -> tuple[str, bool]:
    """Times rewritten as ``HH:MM``; also whether the phrase said "midnight"."""

    def ampm(m: re.Match[str]) -> str:
        hour, minute = int(m[1]), int(m[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            bad_time(m.group().strip())
        hour = hour % 12 + (12 if m[3].lower() == "p" else 0)
        return f"{hour:02d}:{minute:02d}"

    def h_time(m: re.Match[str]) -> str:
        if _DURATION_LEAD_RE.search(m.string, 0, m.start()):
            return m.group()  # "dans 2h": read as a duration later
        hour, minute = int(m[1]), int(m[2] or m[3] or 0)
        if hour > 23 or minute > 59:
            bad_time(m.group())
        return f"{hour:02d}:{minute:02d}"

    s = _AMPM_RE.sub(ampm, s)
    s = _H_TIME_RE.sub(h_time, s)
    s = _NOON_RE.sub("12:00", s)
    s, midnights = _MIDNIGHT_RE.subn("00:00", s)
    for m in _CLOCK_RE.finditer(s):
        if int(m[1]) > 23 or int(m[2]) > 59 or (m[3] is not None and int(m[3]) > 59):
            bad_time(m.group())
    return s, midnights > 0
