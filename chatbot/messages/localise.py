"""Translating a reply for its reader, just before an adapter renders it.

Handlers put :class:`~chatbot.base.i18n.Msg` values in replies; :func:`localise` turns each
into the bot's markdown and message parts in the reader's language (their ``!lang``, else
their app's locale, else the room's language, else the bot's default), so adapters render
nothing but strings and parts, as before. Every adapter calls it first in ``send``.

Checking mode: with ``CHATBOT_I18N_CHECK`` set to a file path, every piece of bot text that
reaches a reader without going through a catalog (a bare ``str`` with words in it, a button
label, a form label) is appended to that file, one JSON line each; the test suite sets it for
the whole run and fails if the file is not empty (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import msgspec

from chatbot.base.i18n import (
    Country,
    Language,
    Msg,
    default_language,
    english,
    message_language,
    on_forget,
    template,
)
from chatbot.base.logs import get_logger
from chatbot.messages.events import (
    Bullets,
    Button,
    Code,
    Form,
    FormField,
    Inline,
    Mention,
    Outgoing,
    Part,
    Plain,
    When,
)
from chatbot.time.format import format_when

log = get_logger("chatbot.messages.localise")

CHECK_ENV = "CHATBOT_I18N_CHECK"
_FIELD = re.compile(r"\{\{|\}\}|\{(\w+)\}")
#: a letter outside `code spans`: words that should have been translated
_CODE_SPAN = re.compile(r"`[^`]*`")
_WORD = re.compile(r"[^\W\d_]{2,}")


def expand(msg: Msg, lang: str | None) -> list[Inline]:
    """``msg`` in ``lang`` as the bot's markdown strings and message parts (no Msg left)."""
    return list(expansion(msg, message_language(lang)))


def expansion(msg: Msg, code: str) -> Sequence[Inline]:
    """:func:`expand` for a catalog's language (a value of
    :func:`~chatbot.base.i18n.message_language`), not to be modified: a message whose
    placeholders hold only the bot's data (strings, whole numbers, such messages) is expanded
    once per language and kept, as replies repeat the same few hundred (a usage line, "Did you
    mean …?"); one that quotes a member or shows a time is expanded each time (each is new,
    and a member's words are not kept)."""
    for _name, value in msg.args:  # _data_only(msg.args), one call fewer on every message
        cls = value.__class__
        if cls is str or cls is int:
            continue
        if cls is not Msg or (value.args and not _data_only(value.args)):
            return _expand(msg, code)
    key = (msg, code)
    found = _expansions.get(key)
    if found is None:
        found = tuple(_expand(msg, code))
        if len(_expansions) >= _EXPANSIONS_MAX:
            _expansions.clear()
        _expansions[key] = found
    return found


#: (message, catalog language) → its expansion (dropped with the catalogs,
#: :func:`chatbot.base.i18n.forget_catalogs`)
_expansions: dict[tuple[Msg, str], tuple[Inline, ...]] = {}
_EXPANSIONS_MAX = 8192
on_forget(_expansions.clear)


def _data_only(args: tuple[tuple[str, Any], ...]) -> bool:
    """Whether every placeholder value is the bot's own data, the same on every call: a
    ``str``, an ``int`` (not a bool or a float, whose expansion differs though they compare
    equal to one), or a message made of such values."""
    for _name, value in args:
        cls = value.__class__
        if cls is str or cls is int:
            continue
        if cls is not Msg or (value.args and not _data_only(value.args)):
            return False
    return True


def _expand(msg: Msg, lang: str | None) -> list[Inline]:
    args = dict(msg.args)
    text = template(msg, lang)
    try:
        return _fill(text, args, lang)
    except KeyError as exc:  # a translation names a placeholder the code does not give
        log.warning("translation_placeholder", msgid=msg.text[:80], lang=lang, missing=str(exc))
        return _fill(english(msg), args, lang)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[tuple[str, str | None], ...]:
    """``text`` cut at its placeholders: (literal text before, placeholder name or None),
    parsed once per template (replies repeat the same few hundred)."""
    out: list[tuple[str, str | None]] = []
    literal: list[str] = []
    pos = 0
    for match in _FIELD.finditer(text):
        literal.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        out.append(("".join(literal), match.group(1)))
        literal = []
    literal.append(text[pos:])
    out.append(("".join(literal), None))
    return tuple(out)


#: placeholder values that stay parts of their own: a member's words, a time, a mention. A
#: set of exact classes: ``isinstance(x, SomeStruct)`` is slow when false (a msgspec class
#: has its own metaclass, so CPython calls ``__instancecheck__``), and these paths run for
#: every reply, so the class is compared instead
_PART_CLASSES: frozenset[type] = frozenset((Plain, Code, When, Mention))


def _fill(text: str, args: Mapping[str, Any], lang: str | None) -> list[Inline]:
    out: list[Inline] = []
    buf: list[str] = []
    for literal, name in _tokens(text):
        if literal:
            buf.append(literal)
        if name is None:
            continue
        value = args[name]
        cls = value.__class__
        if cls is str:
            buf.append(value)
        elif cls in _PART_CLASSES:
            if buf:
                out.append("".join(buf))
                buf.clear()
            out.append(value)
        elif cls is Msg:
            for piece in expansion(value, message_language(lang)):
                if isinstance(piece, str):
                    buf.append(piece)
                else:
                    if buf:
                        out.append("".join(buf))
                        buf.clear()
                    out.append(piece)
        elif isinstance(value, str):  # a str subclass
            buf.append(value)
        elif isinstance(value, Country | Language):
            # a name from Babel's locale data: data in the reader's language, escaped as such
            if buf:
                out.append("".join(buf))
                buf.clear()
            out.append(Plain(value.name_in(lang)))
        elif isinstance(value, bool):
            raise TypeError(f"a message placeholder cannot be a bool: {name}")
        elif isinstance(value, (int, float)):
            buf.append(format_number(value, lang))
        else:
            raise TypeError(f"not a message value: {value!r}")
    if buf:
        out.append("".join(buf))
    return out


def format_number(value: float, lang: str | None) -> str:
    """A count as the reader writes numbers (``1,234`` / ``1.234``); small ones as they are."""
    if isinstance(value, int) and -1000 < value < 1000:
        return str(value)
    code = message_language(lang)
    if code in ("en", "x-pseudo"):
        return f"{value:,}"
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=code))


def text_in(msg: str | Msg, lang: str | None) -> str:
    """``msg`` as one string of the bot's markdown (a button label, a form title, a help
    line): parts in it are shown as plain text."""
    if isinstance(msg, str):
        return msg
    return "".join(_plain(p, lang) for p in expansion(msg, message_language(lang)))


def _plain(part: Inline, lang: str | None) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Plain | Code):
        return part.text
    if isinstance(part, Mention):
        return part.member.display_name
    if isinstance(part, When):
        return format_when(part.at, None, part.style, lang)
    return text_in(part, lang)


def localise(out: Outgoing) -> Outgoing:
    """``out`` with every message translated into its reader's language."""
    reply = out.reply
    if _CHECK_PATH:
        for part in reply.parts:
            if isinstance(part, str):
                _check(part, "text")
    if len(reply.parts) == 1 and not reply.buttons and reply.form is None:
        part = reply.parts[0]  # one part, the most common reply: no lists to build
        cls = part.__class__
        if cls is Msg and isinstance(part, Msg):
            expanded = expansion(part, message_language(out.reader.lang))
            new = msgspec.structs.replace(reply, parts=tuple(expanded))
            return msgspec.structs.replace(out, reply=new)
        if cls is not Bullets:
            return out
    for part in reply.parts:
        if part.__class__ in _TRANSLATED_CLASSES:
            break
    else:  # no message in the text (data, or translated already): the common reply as it is
        if not reply.buttons and reply.form is None:
            return out
    code = message_language(out.reader.lang)  # the default language's for None
    parts: list[Part] = []
    changed = False
    for part in reply.parts:
        cls = part.__class__
        if cls is str:
            parts.append(part)
        elif cls is Msg and isinstance(part, Msg):
            parts += expansion(part, code)
            changed = True
        elif cls is Bullets and isinstance(part, Bullets):
            items = tuple(_localise_inline(item, code) for item in part.items)
            if any(new is not old for new, old in zip(items, part.items, strict=True)):
                part = Bullets(items)
                changed = True
            parts.append(part)
        else:
            parts.append(part)
    if not (changed or reply.buttons or reply.form is not None):
        return out
    buttons, form = reply.buttons, reply.form
    if buttons or form is not None:
        lang = out.reader.lang or default_language()  # the whole tag: pt-BR dates in a label
        buttons = tuple(_localise_button(b, lang) for b in buttons)
        form = _localise_form(form, lang) if form is not None else None
        new = msgspec.structs.replace(reply, parts=tuple(parts), buttons=buttons, form=form)
    else:
        new = msgspec.structs.replace(reply, parts=tuple(parts))
    return msgspec.structs.replace(out, reply=new)


#: the parts :func:`localise` translates (a list's items may hold messages)
_TRANSLATED_CLASSES: frozenset[type] = frozenset((Msg, Bullets))


def _localise_inline(parts: tuple[Inline, ...], code: str) -> tuple[Inline, ...]:
    if not any(isinstance(p, Msg) for p in parts):
        if _CHECK_PATH:
            for part in parts:
                if isinstance(part, str):
                    _check(part, "text")
        return parts
    out: list[Inline] = []
    for part in parts:
        if isinstance(part, Msg):
            out += expansion(part, code)
        else:
            if isinstance(part, str):
                _check(part, "text")
            out.append(part)
    return tuple(out)


def _localise_button(button: Button, lang: str) -> Button:
    _check(button.label, "button")
    return msgspec.structs.replace(button, label=text_in(button.label, lang))


def _localise_form(form: Form, lang: str) -> Form:
    _check(form.title, "form title")
    fields = tuple(_localise_field(f, lang) for f in form.fields)
    return msgspec.structs.replace(form, title=text_in(form.title, lang), fields=fields)


def _localise_field(field: FormField, lang: str) -> FormField:
    _check(field.label, "form field")
    _check(field.placeholder, "form placeholder")
    return msgspec.structs.replace(
        field, label=text_in(field.label, lang), placeholder=text_in(field.placeholder, lang)
    )


def error_text(message: str | Msg, markdown: bool = False) -> Inline:
    """The text of a :class:`~chatbot.base.errors.UserError` as a reply part: a message as
    it is; a plain string escaped (or as markdown when it says so), and reported in
    checking mode since it will not be translated."""
    if isinstance(message, Msg):
        return message
    _check(message, "error")
    return message if markdown else Plain(message)


# -- checking that nothing escapes translation --------------------------------------------

_CHECK_PATH = os.environ.get(CHECK_ENV, "")


def has_words(text: str) -> bool:
    """Whether ``text`` holds words (outside `code spans`): language, not punctuation."""
    return bool(_WORD.search(_CODE_SPAN.sub("", text)))


def _check(value: str | Msg, where: str) -> None:
    if _CHECK_PATH and isinstance(value, str) and has_words(value):
        report_untranslated(value, where)


def report_untranslated(text: str, where: str) -> None:
    """Record bot text that reached a reader untranslated (checking mode only)."""
    if not _CHECK_PATH:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "")
    line = json.dumps({"where": where, "text": text[:300], "test": test}, ensure_ascii=False)
    with open(_CHECK_PATH, "a", encoding="utf-8") as fp:
        fp.write(line + "\n")
