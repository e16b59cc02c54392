"""Managing the message catalogs (``chatbot/locale``) with Babel: extract, update, compile.

Run from the project root::

    python -m chatbot.messages.catalogs update     # extract every message, update each .po
    python -m chatbot.messages.catalogs compile    # build the .mo files (the install does it)
    python -m chatbot.messages.catalogs init it    # start a new language

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
    from babel.messages.frontend import CommandLineInterface

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
        str(output),
        str(ROOT / "chatbot"),
        str(ROOT / "adapters"),
        str(ROOT / "commands"),
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("extract", "update", "compile", "init"):
        print(__doc__)
        return 2
    if args[0] == "extract":
        extract()
    elif args[0] == "update":
        update()
    elif args[0] == "compile":
        compile_all()
    else:
        init(args[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
