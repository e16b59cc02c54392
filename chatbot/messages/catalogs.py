"""Managing the message catalogs (``chatbot/locale``) with Babel: extract, update, compile.

Run from the project root::

    python -m chatbot.messages.catalogs update     # extract every message, update each .po
    python -m chatbot.messages.catalogs compile    # build the .mo files (the install does it)
    python -m chatbot.messages.catalogs init it    # start a new language
    python -m chatbot.messages.catalogs todo es out.json [FILE…]  # untranslated, as JSON
    python -m chatbot.messages.catalogs fill es in.json             # JSON into the .po

``todo`` and ``fill`` let a translator work on a plain JSON list (``msgid``, ``plural``,
``context``, ``msgstr``: a string, or a list of plural forms: ``[one, other]`` is enough, the
"many" form of es/fr/pt taking "other") rather than the ``.po`` syntax;
``todo`` limited to some source files lists just their messages.

``update`` never guesses ("fuzzy matching" is off): a changed English message comes back
untranslated, and the catalog test says which, rather than shipping a near-miss translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chatbot.base.i18n import DOMAIN, LOCALE_DIR

ROOT = LOCALE_DIR.parent.parent
MAPPING = LOCALE_DIR / "babel.cfg"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
#: our message functions, beside Babel's defaults (``_`` and ``N_`` are among them)
KEYWORDS = ("_n:1,2", "_p:1c,2")
LANGUAGES = ("es", "fr", "pt", "de")


def _babel(*args: str) -> None:
    """Babel's command line, run from the project root (locations relative to it)."""
    import contextlib
    import os

    from babel.messages.frontend import CommandLineInterface

    with contextlib.chdir(ROOT):
        os.environ.setdefault("SOURCE_DATE_EPOCH", "0")  # no churn from creation dates
        CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def extract(output: Path = TEMPLATE) -> Path:
    """Every translatable message of the project into the template ``output``."""
    keywords: list[str] = []
    for keyword in KEYWORDS:
        keywords += ["-k", keyword]
    _babel(
        "extract",
        "-F",
        str(MAPPING),
        *keywords,
        "--add-location=file",
        "--sort-by-file",
        "--width=100",
        "--project=wmlib-chatbot",
        "--copyright-holder=Wikimedia and Libraries User Group",
        "-o",
        str(output.resolve()),
        "chatbot",
        "adapters",
        "commands",
    )
    return output


def update() -> None:
    extract()
    for lang in LANGUAGES:
        po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.exists():
            init(lang)
    _babel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(LOCALE_DIR),
        "-D",
        DOMAIN,
        "--no-fuzzy-matching",
        "--width=100",
        "--ignore-obsolete",
    )


def init(lang: str) -> None:
    _babel("init", "-i", str(TEMPLATE), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", lang)


def compile_all() -> None:
    _babel("compile", "-d", str(LOCALE_DIR), "-D", DOMAIN)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def todo(lang: str, output: Path, files: list[str]) -> int:
    """The messages of ``files`` (default: all) not yet translated into ``lang``, as JSON."""
    import json
    import tempfile

    from babel.messages.pofile import read_po

    with tempfile.TemporaryDirectory() as tmp:
        pot = extract(Path(tmp) / "all.pot")
        with pot.open("rb") as fp:
            template = read_po(fp)
    done = None
    if po_path(lang).exists():
        with po_path(lang).open("rb") as fp:
            done = read_po(fp)
    wanted = [str(Path(f).resolve().relative_to(ROOT)) for f in files]
    items = []
    for message in template:
        if not message.id:
            continue
        if wanted and not any(loc in wanted for loc, _line in message.locations):
            continue
        old = done.get(message.id, message.context) if done is not None else None
        if old is not None and old.string and not old.fuzzy and _complete(old.string):
            continue
        singular, plural = (message.id, None) if isinstance(message.id, str) else message.id
        items.append(
            {
                "msgid": singular,
                "plural": plural,
                "context": message.context,
                "where": sorted({loc for loc, _line in message.locations}),
                "msgstr": "" if plural is None else ["", ""],
            }
        )
    output.write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(items)


def _complete(string: object) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


def fill(lang: str, source: Path) -> int:
    """Translations from a JSON list (as :func:`todo` writes it) into ``lang``'s ``.po``;
    messages the catalog does not hold (yet) are added. Returns how many were written."""
    import json

    from babel.messages.pofile import read_po, write_po

    path = po_path(lang)
    with path.open("rb") as fp:
        cat = read_po(fp)
    count = 0
    for item in json.loads(source.read_text(encoding="utf-8")):
        string = item["msgstr"]
        if not _complete(string):
            continue
        key = item["msgid"] if not item.get("plural") else (item["msgid"], item["plural"])
        found = cat.get(item["msgid"], item.get("context"))
        value = tuple(string) if isinstance(string, list) else string
        if isinstance(value, tuple) and len(value) < cat.num_plurals:
            # [one, other] where CLDR also has "many" (es, fr, pt: exact millions): the
            # "other" form serves it, the forms before "other" being "one" then "many"
            value = (*value[:-1], *[value[-1]] * (cat.num_plurals - len(value) + 1))
        if found is None:
            cat.add(key, value, context=item.get("context"))
        else:
            found.string = value
            found.flags.discard("fuzzy")
        count += 1
    with path.open("wb") as fp:
        write_po(fp, cat, width=100, sort_by_file=True, include_previous=False)
    return count


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("extract", "update", "compile", "init", "todo", "fill"):
        print(__doc__)
        return 2
    if args[0] == "extract":
        extract()
    elif args[0] == "update":
        update()
    elif args[0] == "compile":
        compile_all()
    elif args[0] == "todo":
        print(todo(args[1], Path(args[2]), args[3:]), "messages to translate")
    elif args[0] == "fill":
        print(fill(args[1], Path(args[2])), "translations written")
    else:
        init(args[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
