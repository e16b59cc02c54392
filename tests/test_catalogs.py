"""The message catalogs are complete and sound: every message the code can show is translated
into every language, with no fuzzy entry, every placeholder kept and plural forms right.

The messages are extracted afresh from the source (as ``python -m chatbot.messages.catalogs
update`` does), so a string added to the code without a translation fails here, naming it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from chatbot.base.i18n import _, _n, catalog, forget_catalogs, template
from chatbot.messages import catalogs

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w*)[^{}]*\}")
LANGUAGES = catalogs.LANGUAGES


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = catalogs.extract(tmp_path_factory.mktemp("pot") / "chatbot.pot")
    with pot.open("rb") as fp:
        return read_po(fp)


def _read(lang: str) -> Catalog:
    with catalogs.po_path(lang).open("rb") as fp:
        return read_po(fp)


def _names(text: str) -> list[str]:
    return sorted(m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) is not None)


def _ids(message: Message) -> tuple[str, ...]:
    """The msgid, or (singular, plural)."""
    ident = message.id
    return (ident,) if isinstance(ident, str) else tuple(str(i) for i in ident)


def _strings(message: Message | None) -> tuple[str, ...]:
    """The translation, or each plural form ("" where missing)."""
    if message is None or message.string is None:
        return ()
    found = message.string
    return (found,) if isinstance(found, str) else tuple(str(f or "") for f in found)


def _label(message: Message) -> str:
    ident = _ids(message)[0]
    where = ", ".join(sorted({loc for loc, _line in message.locations}))
    return f"{ident[:70]!r} ({where})"


def test_the_code_has_messages_to_translate(extracted: Catalog) -> None:
    assert len([m for m in extracted if m.id]) > 100


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(extracted: Catalog, lang: str) -> None:
    translated = _read(lang)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        strings = _strings(translated.get(message.id, message.context))
        if not strings or not all(strings):
            missing.append(_label(message))
    assert not missing, f"{len(missing)} messages lack a {lang} translation:\n" + "\n".join(
        missing[:40]
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_fuzzy_entries_and_placeholders_kept(lang: str) -> None:
    translated = _read(lang)
    wrong = []
    for message in translated:
        if not message.id:
            continue
        if message.fuzzy:
            wrong.append(f"fuzzy: {_label(message)}")
            continue
        ids, strings = _ids(message), _strings(message)
        expected = _names(ids[-1])
        if len(ids) > 1:
            # a plural form may leave {n} out ("one reply"), nothing else
            for form in strings:
                if not form:
                    continue
                names = _names(form)
                if sorted(set(names) - {"n"}) != sorted(set(expected) - {"n"}):
                    wrong.append(f"placeholders {names} ≠ {expected}: {_label(message)}")
        elif strings and strings[0] and _names(strings[0]) != expected:
            wrong.append(f"placeholders {_names(strings[0])} ≠ {expected}: {_label(message)}")
    assert not wrong, "\n".join(wrong[:40])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_follow_the_language(lang: str) -> None:
    from babel import Locale

    translated = _read(lang)
    # CLDR's rules: de has one/other; es, fr and pt also "many" (exact millions: "1 000 000
    # de casos"), and French and Brazilian Portuguese put 0 with 1
    assert translated.num_plurals == len(Locale.parse(lang).plural_form.rules) + 1
    for message in translated:
        if len(_ids(message)) > 1 and any(_strings(message)):
            assert len(_strings(message)) == translated.num_plurals, _label(message)


def test_a_translation_is_used_and_plurals_follow_the_count() -> None:
    forget_catalogs()
    tr = catalog("es")
    some = next(
        m
        for m in _read("es")
        if len(_ids(m)) == 1
        and m.id
        and any(_strings(m))
        and "{" not in _ids(m)[0]
        and not m.context
    )
    msgid, string = _ids(some)[0], _strings(some)[0]
    assert tr.gettext(msgid) == string
    assert template(_(msgid), "es") == string
    assert template(_(msgid), "es-MX") == string  # a regional tag uses the language
    assert template(_(msgid), "id") == msgid  # no Indonesian messages: English
    plural = next((m for m in _read("fr") if len(_ids(m)) > 1 and all(_strings(m))), None)
    if plural is not None:
        singular, many = _ids(plural)[:2]
        forms = _strings(plural)
        # French: 0 and 1 take the singular; "other" is the last form
        assert template(_n(singular, many, 0), "fr") == forms[0]
        assert template(_n(singular, many, 2), "fr") == forms[-1]


def test_catalogs_compile(tmp_path: Path) -> None:
    from chatbot.base.i18n import compile_po

    for lang in LANGUAGES:
        assert compile_po(catalogs.po_path(lang)).startswith(b"\xde\x12\x04\x95")
