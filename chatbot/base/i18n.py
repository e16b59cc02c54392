"""Translatable text: the bot's own words, carried as data and translated for each reader.

A handler does not know who will read its reply (a room post is read by many, an outbox row
is sent after a restart), so it never translates: it writes ``_("Your time zone is
{zone}.", zone=...)``, which makes a :class:`Msg`, and the message is translated when it is
rendered for a reader (:mod:`chatbot.messages.localise`), in the reader's language. The
placeholders' values may be plain strings (the bot's own text: substituted as they are) or
message parts (a time, a member, text a user typed), rendered by each adapter as usual.

The catalogs are GNU gettext ``.po`` files under ``chatbot/locale`` (one domain, ``chatbot``,
for the core, the adapters and the commands), managed with Babel:
``python -m chatbot.messages.catalogs update`` extracts every ``_``, ``_n`` and ``_p`` call and
updates each language; ``compile`` builds the ``.mo`` files (the install does this). Where a
``.mo`` is missing or older than its ``.po``, the ``.po`` is compiled in memory on first use.

This module sits in the lowest layer so that every layer (zone errors in :mod:`chatbot.time`
too) can write translatable text; it imports Babel only when a catalog is first needed.
"""

from __future__ import annotations

import gettext
import io
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

#: where the catalogs live: ``<lang>/LC_MESSAGES/chatbot.po``
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "chatbot"
#: the language the bot's source strings are written in
SOURCE_LANGUAGE = "en"
#: a pseudo-language that wraps every message in ``[!! … !!]``: text that shows up unwrapped
#: escaped translation (tests use it; members cannot pick it)
PSEUDO = "x-pseudo"
#: the context of a command parameter's name as members see it (``<number>`` in ``!rsvp
#: <number> <answer>``; :func:`chatbot.dispatch.registry.display_name`)
PARAM_CONTEXT = "parameter name, as in '!rsvp <number> <answer>'"


class Msg(msgspec.Struct, frozen=True, cache_hash=True):
    """A message to translate when it is rendered, with the values of its placeholders.

    ``text`` is the English source (the gettext msgid), with ``{name}`` placeholders;
    ``plural`` and ``n`` make it a plural message (``ngettext``); ``context`` tells apart two
    messages with the same English text (``pgettext``); ``verbatim`` text is not translated
    (data in the bot's markdown, such as a zone name in bold).

    Its hash is kept (``cache_hash``): a message's translation is looked up by it, and the
    long-lived ones (module constants, a command's usage line) are looked up again and
    again."""

    text: str
    args: tuple[tuple[str, Any], ...] = ()
    plural: str | None = None
    n: int | None = None
    context: str | None = None
    verbatim: bool = False

    def __str__(self) -> str:
        """English with the values filled in: what a message pasted into an f-string
        by mistake shows (the test run still reports it as untranslated), never a repr."""
        return plain_english(self)

    def given(self, **args: Any) -> Msg:
        """The same message with more placeholder values (say, the prefix, known later)."""
        return msgspec.structs.replace(self, args=(*self.args, *args.items()))


class Plain(msgspec.Struct, frozen=True):
    """Text that came from a user: shown literally, escaped by every renderer.

    Defined here, below every other layer, so that errors raised in :mod:`chatbot.time` can
    quote what the member typed; :mod:`chatbot.messages.events` exports it with the other
    reply parts."""

    text: str


class Country(msgspec.Struct, frozen=True):
    """A country, stored as its ISO 3166-1 code (``KE``) and shown by its name in the
    reader's language ("Kenya", "Kenia"), from Babel's locale data when the message is
    rendered; exports keep the code."""

    code: str

    def name_in(self, lang: str | None) -> str:
        return territory_name(self.code, lang)


class Language(msgspec.Struct, frozen=True):
    """A language, stored as its BCP 47 tag (``es``, ``pt-BR``) and shown by its name in the
    reader's language ("Spanish", "español", "portugués (Brasil)") when rendered."""

    tag: str

    def name_in(self, lang: str | None) -> str:
        return language_name_in(self.tag, lang)


#: text the bot shows: a message to translate, or a plain string (data, or not yet translated)
Text = str | Msg


def _(text: str, /, **args: Any) -> Msg:
    """Translatable text, e.g. ``_("Hello {who}!", who=Mention(member))``."""
    return Msg(text, tuple(args.items())) if args else Msg(text)


def _n(singular: str, plural: str, n: int, /, **args: Any) -> Msg:
    """Translatable text that depends on a count, e.g. ``_n("{n} reply", "{n} replies", k)``;
    ``{n}`` is available in both forms."""
    args.setdefault("n", n)
    return Msg(singular, tuple(args.items()), plural=plural, n=n)


def _p(context: str, text: str, /, **args: Any) -> Msg:
    """Translatable text with a disambiguating context (``pgettext``), for short words such
    as a button's "Yes" that translate differently in other places."""
    return Msg(text, tuple(args.items()), context=context)


def N_(text: str) -> str:
    """Marks a string for extraction only (a table of labels translated later with
    ``_(label)``)."""
    return text


def verbatim(text: str, /, **args: Any) -> Msg:
    """The bot's own markdown that is data, not language (a zone name, a command example)."""
    return Msg(text, tuple(args.items()), verbatim=True)


def listing(items: Sequence[Any]) -> Msg:
    """Several values one after another, separated by commas (each value a placeholder, so
    data such as zone names stays data)."""
    names = [f"i{k}" for k in range(len(items))]
    return verbatim(", ".join(f"{{{n}}}" for n in names), **dict(zip(names, items, strict=True)))


def alternatives(items: Sequence[Any]) -> Msg:
    """``a``, ``a or b``, ``a, b or c``: the last choice joined by the reader's "or"."""
    if len(items) <= 1:
        return listing(items)
    return _("{choices} or {last}", choices=listing(items[:-1]), last=items[-1])


def together(items: Sequence[Any]) -> Msg:
    """``a``, ``a and b``, ``a, b and c``: every item, the last joined by the reader's "and"."""
    if len(items) <= 1:
        return listing(items)
    return _("{items} and {last}", items=listing(items[:-1]), last=items[-1])


def labelled(label: Any, value: Any, *, bold: bool = False) -> Msg:
    """``label: value`` (``**label**: value`` when ``bold``) as one message, so that a
    language can space its colon: French writes ``**Titre** : …`` (the glossary's rule)."""
    if bold:
        return _("**{label}**: {value}", label=label, value=value)
    return _("{label}: {value}", label=label, value=value)


def as_msg(text: str | Msg) -> Msg:
    """``text`` as a :class:`Msg` (a plain string is taken as an English msgid)."""
    return text if isinstance(text, Msg) else Msg(text)


def english(text: str | Msg) -> str:
    """The English template of ``text`` (for logs, and where no reader is known)."""
    if isinstance(text, str):
        return text
    return text.plural if text.plural is not None and text.n != 1 else text.text


def plain_english(text: str | Msg) -> str:
    """``text`` in English with its placeholders filled, parts shown by their text: for
    logs, exception strings and tests (a reader gets :func:`chatbot.messages.localise`)."""
    if isinstance(text, str):
        return text
    args = dict(text.args)

    def value(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        found = args.get(match.group(1), token)
        if isinstance(found, Msg):
            return plain_english(found)
        if isinstance(found, str | int | float):
            return str(found)
        if isinstance(found, Country | Language):
            return found.name_in(SOURCE_LANGUAGE)
        inner = getattr(found, "text", None) or getattr(found, "member", None)
        if inner is not None:
            return str(getattr(inner, "display_name", inner))
        at = getattr(found, "at", None)
        return at.isoformat() if at is not None else str(found)

    return _FIELD.sub(value, english(text))


_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)\}")


# -- names of countries and languages, in the reader's language ------------------------------


def _names_locale(lang: str | None) -> Any:
    """Babel's locale for ``lang``'s names (English for the pseudo-language)."""
    from babel import Locale

    code = message_language(lang)
    return Locale.parse(SOURCE_LANGUAGE if code == PSEUDO else code, sep="-")


@lru_cache(maxsize=2048)
def territory_name(code: str, lang: str | None) -> str:
    """``KE`` in ``es`` → ``Kenia``; the code itself when Babel has no name for it."""
    return str(_names_locale(lang).territories.get(code.upper(), code))


@lru_cache(maxsize=2048)
def language_name_in(tag: str, lang: str | None) -> str:
    """``pt-BR`` in ``es`` → ``portugués (Brasil)``; the tag itself when Babel does not
    know the language."""
    from babel import Locale, UnknownLocaleError

    reader = _names_locale(lang)
    try:
        name = Locale.parse(tag, sep="-").get_display_name(reader)
    except (ValueError, TypeError, UnknownLocaleError):
        name = reader.languages.get(tag.split("-", 1)[0].lower())
    return str(name) if name else tag


# -- languages -----------------------------------------------------------------------------

_lock = threading.Lock()
_catalogs: dict[str, gettext.NullTranslations] = {}
_available: frozenset[str] | None = None
_default = SOURCE_LANGUAGE


def available_languages() -> frozenset[str]:
    """The languages the bot's messages are translated into (English included)."""
    global _available
    if _available is None:
        found = {SOURCE_LANGUAGE}
        if LOCALE_DIR.is_dir():
            found |= {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
        _available = frozenset(found)
    return _available


def message_language(lang: str | None) -> str:
    """The catalog to use for a language tag: ``pt-BR`` → ``pt``, ``es_419`` → ``es``;
    English for one the bot has no messages in (and for None)."""
    if not lang:
        return _default
    found = _resolved.get(lang)
    if found is not None:
        return found
    if lang == PSEUDO:
        return PSEUDO
    tag = lang.replace("_", "-")
    available = available_languages()
    if tag in available:
        found = tag
    else:
        base = tag.split("-", 1)[0].lower()
        found = base if base in available else SOURCE_LANGUAGE
    if len(_resolved) < 1000:  # tags come from members and platforms: a few dozen
        _resolved[lang] = found
    return found


_resolved: dict[str, str] = {}


def set_default_language(lang: str) -> None:
    """The language of readers who chose none (the config's ``bot.language``)."""
    global _default
    _default = SOURCE_LANGUAGE  # so that message_language below does not fall back to it
    _default = message_language(lang)


def default_language() -> str:
    return _default


def first_language(*candidates: str | None) -> str | None:
    """The first language given: the member's choice, else the platform's locale (a Discord
    interaction's), else the room's configured language; None leaves the default."""
    for lang in candidates:
        if lang:
            return lang
    return None


def catalog(lang: str) -> gettext.NullTranslations:
    """The translations for ``lang`` (a value of :func:`message_language`), loaded once."""
    found = _catalogs.get(lang)
    if found is not None:
        return found
    with _lock:
        found = _catalogs.get(lang)
        if found is None:
            found = _load(lang)
            _catalogs[lang] = found
    return found


def _load(lang: str) -> gettext.NullTranslations:
    if lang in (SOURCE_LANGUAGE, PSEUDO):
        return gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if not po.exists():
        return gettext.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fp:
            return gettext.GNUTranslations(fp)
    return gettext.GNUTranslations(io.BytesIO(compile_po(po)))


def compile_po(po: Path) -> bytes:
    """A ``.po`` file compiled to ``.mo`` bytes (fuzzy entries left out, as gettext does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        cat = read_po(fp)
    out = io.BytesIO()
    write_mo(out, cat)
    return out.getvalue()


_forget_hooks: list[Callable[[], None]] = []
#: (language, msgid, context) → translated text: a dictionary lookup on every reply
_templates: dict[tuple[str, str, str | None], str] = {}


def on_forget(hook: Callable[[], None]) -> None:
    """Call ``hook`` when the catalogs are dropped (a cache of translated texts)."""
    _forget_hooks.append(hook)


def forget_catalogs() -> None:
    """Drop loaded catalogs (after ``compile``, and in tests)."""
    global _available
    with _lock:
        _catalogs.clear()
        _resolved.clear()
        _templates.clear()
        _available = None
    for hook in _forget_hooks:
        hook()


def template(msg: Msg, lang: str | None) -> str:
    """``msg``'s text in ``lang``, placeholders not yet filled (English where untranslated)."""
    if msg.verbatim:
        return msg.text
    code = message_language(lang)
    if code == PSEUDO:
        base = msg.text if msg.plural is None or msg.n == 1 else msg.plural
        return f"[!! {base} !!]"
    if msg.plural is None:
        key = (code, msg.text, msg.context)
        found = _templates.get(key)
        if found is None:
            tr = catalog(code)
            found = tr.pgettext(msg.context, msg.text) if msg.context else tr.gettext(msg.text)
            if len(_templates) < 20_000:
                _templates[key] = found
        return found
    tr = catalog(code)
    n = msg.n if msg.n is not None else 1
    if msg.context:
        return tr.npgettext(msg.context, msg.text, msg.plural, n)
    return tr.ngettext(msg.text, msg.plural, n)


on_forget(territory_name.cache_clear)
on_forget(language_name_in.cache_clear)
