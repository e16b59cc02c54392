"""One exception tree for the whole bot.

A :class:`UserError` carries the sentence the member sees; the dispatcher turns it into a
reply.  Anything else that escapes a handler is a bug: it is logged with its traceback under a
short reference id, and the member gets a polite message quoting that id.
"""

from __future__ import annotations

import secrets

from chatbot.base.i18n import Msg, plain_english


class ChatbotError(Exception):
    """Base of every exception the bot raises on purpose."""


class UserError(ChatbotError):
    """Something the member can fix; ``message`` is shown to them in their language: a
    :class:`~chatbot.base.i18n.Msg` (whose placeholders carry what they typed, escaped).  A
    plain ``str`` is shown verbatim (escaped) and untranslated: only for text from outside the
    bot; ``markdown=True`` renders its `command` formatting."""

    def __init__(self, message: str | Msg, *, markdown: bool = False) -> None:
        super().__init__(message if isinstance(message, str) else message.text)
        self.message = message
        self.markdown = markdown

    def __str__(self) -> str:
        """The message in English with its placeholders filled (for logs and tests; made
        only when asked for, as most errors only ever reach a member)."""
        return plain_english(self.message)


class BadArgument(UserError):
    """An argument could not be read; the dispatcher adds the usage line."""


class NotPermitted(UserError):
    """The member lacks the level a command needs."""


class ZoneNotFound(BadArgument):
    """A time-zone text matched nothing; ``suggestions`` are the nearest names."""

    def __init__(self, message: str | Msg, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class AmbiguousZone(BadArgument):
    """A time-zone text (an abbreviation such as IST) fits several zones."""

    def __init__(self, message: str | Msg, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


class InstanceLocked(ChatbotError):
    """Another bot process already uses this SQLite database file."""


class ConfigError(ChatbotError):
    """The configuration is invalid; the message names the key (and line where known)."""


def new_ref() -> str:
    """A short reference a member can quote to an organiser, e.g. ``7f3a9c``."""
    return secrets.token_hex(3)
