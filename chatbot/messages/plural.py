"""Counts with the right noun form in replies ("1 case study", "3 case studies").

A deliberately thin function: when the replies move to gettext, each call becomes an
``ngettext(singular, plural, n)`` with the same three arguments.
"""

from __future__ import annotations


def plural(n: int, singular: str, plural_form: str) -> str:
    """``n`` followed by ``singular`` when it is exactly 1, else by ``plural_form``."""
    return f"{n} {singular if n == 1 else plural_form}"
