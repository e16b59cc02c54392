"""What a slash command's fixed choices are called in Discord's picker, in the reader's
language.

A choice's *value* is the word the command takes (``near_misses``, ``on``): the handler
gets it unchanged.  Its *name* is only what the picker shows, so it can be translated:
Discord shows ``name_localizations`` to members whose app speaks that language.  The
words for yes/no/maybe and the FAQ's fields reuse the messages the bot already says them
with elsewhere (same text, same context: one translation each).

A word missing here is shown as itself in every language; ``UNTRANSLATED`` lists the ones
that are names in every language (file formats), and ``tests/test_discord_languages.py``
checks that every choice of the bot's commands is in one table or the other.
"""

from __future__ import annotations

from typing import Final

from chatbot.base.i18n import Msg, _p
from chatbot.dispatch.answers import SHOWN_KEYWORDS

#: the picker's name of each choice value that has words in it
CHOICE_NAMES: Final[dict[str, Msg]] = {
    "yes": SHOWN_KEYWORDS["yes"],
    "no": SHOWN_KEYWORDS["no"],
    "maybe": SHOWN_KEYWORDS["maybe"],
    # `/remind me state:`
    "on": _p("slash command choice", "on"),
    "off": _p("slash command choice", "off"),
    # `/faq show detail:`
    "all": _p("slash command choice", "all"),
    # `/casestudy-organiser reviewroom where:`
    "here": _p("slash command choice", "here"),
    # `/faq-organiser edit field:`
    "answer": _p("faq field", "answer"),
    "question": _p("faq field", "question"),
    "alternates": _p("faq field", "alternates"),
    "tags": _p("faq field", "tags"),
    "near_misses": _p("faq field", "near misses"),
    # `/meeting-organiser edit field:`
    "title": _p("meeting field", "title"),
    "when": _p("meeting field", "when"),
    "link": _p("meeting field", "link"),
    "duration": _p("meeting field", "duration"),
}

#: choice values that are the same word in every language: formats and the web
UNTRANSLATED: Final = frozenset({"csv", "json", "wikitext", "ics", "web"})


def choice_name(value: str) -> str | Msg:
    """The name the picker shows for ``value``: a message when it has one, else the value."""
    return CHOICE_NAMES.get(value, value)
