"""Typed arguments: splitting a command line and turning each piece into a value.

A converter knows how to read one kind of argument and, when it can't, says why in words a
member understands (``BadArgument``).  The dispatcher adds the usage line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import msgspec

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Msg, _, _n, listing, verbatim
from chatbot.dispatch.answers import ON_OFF, SHOWN_KEYWORDS, YES_NO_MAYBE, answer_key, keyword
from chatbot.messages.events import Plain

if TYPE_CHECKING:
    from chatbot.messages.events import Member, Reader
    from chatbot.storage.members import Prefs
    from chatbot.time.zones import Zone

MAX_ARGUMENT = 2000


class ConvertContext(Protocol):
    """What a converter reads of the message it converts for (a handler's ``Context``)."""

    @property
    def prefix(self) -> str: ...

    def now(self) -> datetime: ...

    async def prefs(self) -> Prefs: ...

    async def reader(self) -> Reader: ...

    async def resolve_member(self, text: str) -> Member | None: ...


_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "„": "“", "‚": "‘", "「": "」"}


class Token(msgspec.Struct, frozen=True):
    """One argument and where it started in the raw text (for rest-of-line arguments)."""

    text: str
    start: int
    quoted: bool


_WORD = re.compile(r"\S+")
_SIGNED_INT = re.compile(r"[+-]?[0-9]{1,18}")
_HAS_QUOTE = re.compile("[" + "".join(_QUOTES) + "]")


def split_args(raw: str) -> list[Token]:
    """Split on whitespace, keeping quoted phrases (straight or typographic quotes) whole.

    A quote only opens at the start of a word, so apostrophes (``don't``) are plain text.
    """
    if not raw:  # a command without arguments
        return []
    if _HAS_QUOTE.search(raw) is None:  # the common case, without a Python-level loop
        words = raw.split()
        if len(words) == 1:  # one argument, the most common: its start without a scan
            return [Token(words[0], raw.index(words[0]), False)]
        return [Token(m.group(), m.start(), False) for m in _WORD.finditer(raw)]
    tokens: list[Token] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        close = _QUOTES.get(ch)
        if close is not None:
            end = raw.find(close, i + 1)
            if end == -1:
                raise BadArgument(
                    _(
                        "There's an opening quote {open} without its closing {close}. "
                        "Close it, or leave quotes out.",
                        open=ch,
                        close=close,
                    )
                )
            tokens.append(Token(raw[i + 1 : end], start, True))
            i = end + 1
            continue
        while i < n and not raw[i].isspace():
            i += 1
        tokens.append(Token(raw[start:i], start, False))
    return tokens


class Converter(Protocol):
    """Reads one argument; ``label`` names it in usage lines (``<zone>``).

    A ``greedy`` converter placed last takes the rest of the line (``sao paulo``,
    ``next tuesday 9am``, ``2 days``)."""

    @property
    def label(self) -> str: ...

    @property
    def greedy(self) -> bool: ...

    async def convert(self, ctx: ConvertContext, text: str) -> Any: ...


class Reads(Protocol):
    """A converter that needs nothing awaited also offers ``read``, the same conversion as a
    plain call: commands call it directly, sparing a coroutine per argument."""

    def read(self, ctx: ConvertContext, text: str) -> Any: ...


class Text(msgspec.Struct, frozen=True):
    """Free text; as the last argument it takes the rest of the line."""

    label: str = "text"
    greedy: bool = True
    min_len: int = 1
    max_len: int = MAX_ARGUMENT

    async def convert(self, ctx: ConvertContext, text: str) -> str:
        return self.read(ctx, text)

    def read(self, ctx: ConvertContext, text: str) -> str:
        text = text.strip()
        if len(text) < self.min_len:
            # the label is the parameter's name (an identifier, like `<question>` in usage)
            raise BadArgument(
                _("The {label} is too short (at least {min}).", label=self.label, min=self.min_len)
            )
        if len(text) > self.max_len:
            raise BadArgument(
                _n(
                    "The {label} is too long ({n} character; at most {max}).",
                    "The {label} is too long ({n} characters; at most {max}).",
                    len(text),
                    label=self.label,
                    max=self.max_len,
                )
            )
        return text


class Integer(msgspec.Struct, frozen=True):
    label: str = "number"
    greedy: bool = False
    minimum: int | None = None
    maximum: int | None = None

    async def convert(self, ctx: ConvertContext, text: str) -> int:
        return self.read(ctx, text)

    def read(self, ctx: ConvertContext, text: str) -> int:
        cleaned = text.strip().lstrip("#")
        if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 18) and not (
            _SIGNED_INT.fullmatch(cleaned)
        ):
            raise BadArgument(_("'{text}' is not a whole number.", text=Plain(clip(text))))
        value = int(cleaned)
        if self.minimum is not None and value < self.minimum:
            raise BadArgument(
                _("The {label} must be at least {min}.", label=self.label, min=self.minimum)
            )
        if self.maximum is not None and value > self.maximum:
            raise BadArgument(
                _("The {label} must be at most {max}.", label=self.label, max=self.maximum)
            )
        return value


class Choice(msgspec.Struct, frozen=True):
    """One of a fixed set of words (any case, accents optional), or a word that means one of
    them: ``aliases`` pairs (word, option), e.g. ``("sim", "yes")``.  Declared as
    ``Literal["yes", "no", "maybe"]``, with aliases as ``Annotated[Literal[...], Aliases(...)]``.
    A choice whose aliases have several words (``tal vez``) takes the rest of the line."""

    options: tuple[str, ...]
    label: str = "choice"
    greedy: bool = False
    aliases: tuple[tuple[str, str], ...] = ()

    async def convert(self, ctx: ConvertContext, text: str) -> str:
        return self.read(ctx, text)

    def read(self, ctx: ConvertContext, text: str) -> str:
        value = answer_key(text)
        if value in self.options:  # typed as declared (answer_key is idempotent)
            return value
        for option in self.options:
            if answer_key(option) == value:
                return option
        for word, option in self.aliases:
            if word == value:
                return option
        raise BadArgument(
            _(
                "'{text}' is not one of: {options}.",
                text=Plain(clip(text)),
                options=_shown_options(self),
            )
        )

    def _shown(self, option: str) -> Msg:
        """An option as the reader would type it, as a code span: their word for yes, no or
        maybe when the choice takes the translations (``sí``, ``nein``), else the option
        itself (``title``: English, but plainly a word to type, not an untranslated one)."""
        word = SHOWN_KEYWORDS.get(option)
        if word is not None and any(o == option for _w, o in self.aliases):
            return keyword(option)
        return verbatim("`{option}`", option=option)


@lru_cache(maxsize=256)
def _shown_options(choice: Choice) -> Msg:
    """A choice's options as the reader would type them, one after another: the same message
    on every mistake, so built once."""
    return listing([choice._shown(option) for option in choice.options])


@dataclass(frozen=True, eq=False)
class Aliases:
    """Other words for the options of a ``Literal`` argument, by option:
    ``answer: Annotated[Literal["yes", "no", "maybe"], Aliases(answers.YES_NO_MAYBE)]`` makes
    ``!rsvp 3 sim`` a yes.  The registry turns the two into one :class:`Choice`."""

    by_option: Mapping[str, Iterable[str]]

    def choice(self, options: tuple[str, ...], label: str) -> Choice:
        """The :class:`Choice` of ``options`` with these aliases; ``TypeError`` for an alias of
        an option that is not there (a declaration mistake)."""
        unknown = sorted(set(self.by_option) - set(options))
        if unknown:
            raise TypeError(f"parameter {label}: aliases for unknown options {unknown}")
        pairs = tuple(
            (answer_key(word), option) for option, words in self.by_option.items() for word in words
        )
        return Choice(options, label=label, aliases=pairs, greedy=any(" " in w for w, _ in pairs))


#: an answer of yes, no or maybe, in any of the five languages (``sí``, ``oui``, ``talvez``,
#: ``nein``): the value is always ``"yes"``, ``"no"`` or ``"maybe"``
YesNoMaybe = Annotated[Literal["yes", "no", "maybe"], Aliases(YES_NO_MAYBE)]
#: a switch, on or off, in any of the five languages (``activar``, ``désactiver``, ``aus``, or
#: yes and no): the value is always ``"on"`` or ``"off"``
OnOff = Annotated[Literal["on", "off"], Aliases(ON_OFF)]


_DURATION_UNITS = {
    "w": 604800, "week": 604800, "weeks": 604800, "wk": 604800, "wks": 604800,
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
}  # fmt: skip
_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")


@lru_cache(maxsize=1024)
def parse_duration(text: str) -> timedelta | None:
    """``1h30m``, ``90 minutes``, ``2 days``, ``1.5h`` → a timedelta; None if not a duration."""
    cleaned = text.strip().casefold().replace(" and ", " ")
    if not cleaned:
        return None
    total = 0.0
    pos = 0
    for match in _DURATION_PART.finditer(cleaned):
        if cleaned[pos : match.start()].strip(" ,"):
            return None
        unit = _DURATION_UNITS.get(match.group(2))
        if unit is None:
            return None
        total += float(match.group(1).replace(",", ".")) * unit
        pos = match.end()
    if pos == 0 or cleaned[pos:].strip(" ,"):
        return None
    return timedelta(seconds=round(total))


class Duration(msgspec.Struct, frozen=True):
    label: str = "duration"
    greedy: bool = True
    maximum: timedelta = timedelta(days=366)

    async def convert(self, ctx: ConvertContext, text: str) -> timedelta:
        return self.read(ctx, text)

    def read(self, ctx: ConvertContext, text: str) -> timedelta:
        value = parse_duration(text)
        if value is None:
            raise BadArgument(
                _(
                    "I can't read '{text}' as a duration. Try '90m', '1h30m' or '2 days'.",
                    text=Plain(clip(text)),
                )
            )
        if value <= timedelta(0):
            raise BadArgument(_("The duration must be longer than zero."))
        if value > self.maximum:
            raise BadArgument(
                _n(
                    "That duration is too long (at most {n} day).",
                    "That duration is too long (at most {n} days).",
                    self.maximum.days,
                )
            )
        return value


class TimeZoneArg(msgspec.Struct, frozen=True):
    """A time zone as members type it: IANA name, city, offset or abbreviation."""

    label: str = "zone"
    greedy: bool = True

    async def convert(self, ctx: ConvertContext, text: str) -> Zone:
        return self.read(ctx, text)

    def read(self, ctx: ConvertContext, text: str) -> Zone:
        from chatbot.time.zones import resolve_zone

        return resolve_zone(text)


class DateTimeArg(msgspec.Struct, frozen=True):
    """A date phrase read in the caller's zone (``tomorrow 9am``, ``Friday 18h CET``)."""

    label: str = "when"
    greedy: bool = True
    future: bool = True

    async def convert(self, ctx: ConvertContext, text: str) -> datetime:
        from chatbot.time.parse import parse_when

        reader = await ctx.reader()  # the caller's language: !lang, app, else the room's
        when = await parse_when(text, zone_key=reader.zone, now=ctx.now(), lang=reader.lang)
        if self.future:
            from chatbot.time.schedule_rules import check_schedulable

            check_schedulable(when, ctx.now(), text)
        return when


class MemberArg(msgspec.Struct, frozen=True):
    """A member named by mention or name in the room the command came from."""

    label: str = "member"
    greedy: bool = False

    async def convert(self, ctx: ConvertContext, text: str) -> Member:
        member = await ctx.resolve_member(text.strip())
        if member is None:
            raise BadArgument(
                _("I can't find a member called '{text}' here.", text=Plain(clip(text)))
            )
        return member


def clip(text: str, limit: int = 40) -> str:
    """User text quoted back in an error: short and on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
