"""What routing answers by itself, when no handler does: an unknown command (with a guess),
a group without its subcommand, a :class:`UserError` (with the command's usage when an
argument was wrong), the flood notices; and how a command line splits into its name and the
rest.  Plain functions of the prefix and the registry, kept apart from the
:class:`~chatbot.runtime.bot.Bot` that calls them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.base.errors import BadArgument, UserError
from chatbot.base.i18n import Msg, _
from chatbot.dispatch.answers import KEYWORDS
from chatbot.dispatch.ratelimit import Verdict
from chatbot.messages.events import Inline, Plain, Reply
from chatbot.messages.localise import error_text

if TYPE_CHECKING:
    from chatbot.dispatch.registry import Command, Group, Registry

FLOOD_NOTICE = _(
    "You're sending commands faster than I can answer. Give me a few seconds, then try again."
)
ROOM_FLOOD_NOTICE = _(
    "This room is sending commands faster than I can answer, so I'm skipping some. "
    "Give me a few seconds, then try again."
)
#: words that, typed with the prefix during a dialogue, steer it rather than run a command
#: (``!cancel``, ``!atrás``: cancel, back, skip and help in the five languages)
DIALOG_WORDS = KEYWORDS


def flood_notice(verdict: Verdict) -> Reply | None:
    """One notice per flood: to the member who floods (ephemeral where the message
    allows), or once to a whole busy room, as a reply (an ``m.notice`` on Matrix, like
    every reply there)."""
    if verdict is Verdict.NOTIFY:
        return Reply.of(FLOOD_NOTICE, aside=True)
    if verdict is Verdict.NOTIFY_ROOM:
        return Reply.of(ROOM_FLOOD_NOTICE)
    return None


def unknown_command(registry: Registry, prefix: str, name: str) -> Reply:
    shown = name if len(name) <= 30 else name[:29] + "…"
    guess = registry.suggest(name)
    said = _("I don't know the command {name}.", name=Plain(prefix + shown))
    hint: list[Inline] = (
        [" ", _("Did you mean `{command}`?", command=prefix + str(guess))] if guess else []
    )
    see = _("Type `{prefix}help` to see what I can do.", prefix=prefix)
    return Reply.of(said, *hint, " ", see)


def group_help(registry: Registry, prefix: str, group: Group, raw: str) -> Reply:
    from chatbot.dispatch.converters import split_args

    tokens = split_args(raw)
    subs = sorted({c.name for c in group.subcommands.values()})
    listing = ", ".join(f"`{s}`" for s in subs)
    if tokens:
        guess = registry.suggest(tokens[0].text, subs)
        said = _(
            "`{group}` has no subcommand {name}.",
            group=prefix + group.name,
            name=Plain(tokens[0].text[:30]),
        )
        hint: list[Inline] = (
            [" ", _("Did you mean `{command}`?", command=" ".join((prefix + group.name, guess)))]
            if guess
            else []
        )
        return Reply.of(said, *hint, " ", _("It has: {listing}.", listing=listing))
    return Reply.of(
        _(
            "`{group}` needs a subcommand: {listing}. See `{prefix}help {name}`.",
            group=prefix + group.name,
            listing=listing,
            prefix=prefix,
            name=group.name,
        )
    )


def user_error(prefix: str, command: Command | None, exc: UserError) -> Reply:
    if isinstance(exc, BadArgument) and command is not None:
        return Reply.of(error_text(exc.message), "\n", usage_line(command, prefix), aside=True)
    return Reply.of(error_text(exc.message, exc.markdown), aside=True)


def usage_line(command: Command, prefix: str) -> Msg:
    """``Usage: `!rsvp <number> <answer>` (more: `!help rsvp`)``: the same message for every
    mistake in a command's arguments, so kept with the command."""
    key = ("usage line", prefix)
    found: Msg | None = command.memo.get(key)
    if found is None:
        found = command.memo[key] = _(
            "Usage: `{usage}` (more: `{prefix}help {name}`)",
            usage=command.usage(prefix),
            prefix=prefix,
            name=command.qualified_name,
        )
    return found
