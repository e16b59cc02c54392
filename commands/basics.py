"""The first commands a newcomer types: help, ping, about.

Help is written in the reader's language (each command's ``help`` and ``params`` are
messages), but it keeps showing the commands' English names: those are the names every
member shares and the ones in the docs; the translated names of the most used commands
(``!ayuda``, ``!aide``, ``!ajuda``, ``!hilfe``) are aliases, listed under "Also:".
"""

from __future__ import annotations

from collections.abc import Sequence

from chatbot import __version__
from chatbot.base.i18n import Msg, _, labelled, verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Command, Group, Level, Module, shown_examples
from chatbot.messages.events import Bullets, Inline, Plain, Reply

module = Module("basics", _("Getting started with the bot."))


@module.command(
    help=_("Show what I can do, or how to use one command."),
    examples=["help", "help tz", "help tz set"],
    aliases=("commands", "ayuda", "aide", "ajuda", "hilfe"),
    params={"topic": _("a command name, e.g. tz")},
)
async def help(ctx: Context, topic: str = "") -> Reply:
    prefix = ctx.prefix
    registry = ctx.registry
    topic = topic.strip().removeprefix(prefix).casefold()
    if not topic:
        return await _overview(ctx)
    words = topic.split()
    item = registry.top.get(words[0])
    if item is None:
        guess = registry.suggest(words[0])
        parts: list[Inline] = [_("There's no command called {name}.", name=Plain(words[0][:30]))]
        if guess:
            parts += [" ", _("Did you mean `{command}`?", command=prefix + "help " + guess)]
        parts += [" ", _("`{prefix}help` lists them all.", prefix=prefix)]
        return Reply.of(*parts, aside=True)
    if isinstance(item, Group):
        if len(words) > 1:
            sub = item.subcommands.get(words[1])
            if sub is not None:
                return _command_help(sub, prefix)
        return _group_help(item, prefix)
    return _command_help(item, prefix)


async def _overview(ctx: Context) -> Reply:
    prefix = ctx.prefix
    level = await ctx.level_of(ctx.member, ctx.room)
    items: list[tuple[Inline, ...]] = []
    seen: set[int] = set()
    for module_ in ctx.registry.modules.values():
        for item in module_.commands.values():
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Command) and (item.hidden or item.level > level):
                continue
            if isinstance(item, Group) and item.level > level:
                continue
            items.append((_entry(f"`{prefix}{item.name}`", item.help),))
    return Reply.of(
        _(
            "Here's what I can do. Type `{prefix}help <command>` for details, "
            "e.g. `{prefix}help tz`.",
            prefix=prefix,
        ),
        "\n",
        Bullets(tuple(items)),
        aside=True,
    )


def _entry(name: str | Msg, help: str | Msg, only: Msg | None = None) -> Msg:
    """``name: help``, the name (markdown) kept as it is, the help in the reader's language."""
    if only is None:
        return labelled(name, help)
    return labelled(name, verbatim("{help} {only}", help=help, only=only))


def _examples(examples: Sequence[str | Msg], prefix: str) -> Msg:
    return _("Examples: {examples}", examples=shown_examples(prefix, examples))


def _group_help(group: Group, prefix: str) -> Reply:
    items = tuple((_line(c, prefix),) for c in group.commands() if not c.hidden)
    examples = [e for c in group.commands() for e in c.examples]
    tail: list[Inline] = [_examples(examples[:5], prefix)] if examples else []
    head = labelled(f"{prefix}{group.name}", group.help, bold=True)
    return Reply.of(head, "\n", Bullets(items), *tail, aside=True)


def _command_help(cmd: Command, prefix: str) -> Reply:
    """A command's help: the same messages every time (translated when rendered), so worked
    out once per prefix."""
    key = ("help", prefix)
    found: Reply | None = cmd.memo.get(key)
    if found is None:
        found = cmd.memo[key] = _write_command_help(cmd, prefix)
    return found


def _write_command_help(cmd: Command, prefix: str) -> Reply:
    lines: list[Inline] = [_entry(_code(cmd.usage(prefix)), cmd.help)]
    for param in cmd.params:
        if param.help:
            lines.append("\n  ")
            if param.required:
                lines.append(labelled(_code(param.shown), param.help))
            else:
                lines.append(_("`{name}` (optional): {help}", name=param.shown, help=param.help))
    if cmd.aliases:
        also = ", ".join(f"`{prefix}{a}`" for a in cmd.aliases)
        lines += ["\n", _("Also: {aliases}", aliases=also)]
    if cmd.level is Level.ORGANISER:
        lines += ["\n", _("For organisers only.")]
    elif cmd.level is Level.ADMIN:
        lines += ["\n", _("For admins only.")]
    if cmd.examples:
        lines += ["\n", _examples(list(cmd.examples), prefix)]
    return Reply.of(*lines, aside=True)


def _code(text: Msg) -> Msg:
    """``text`` (the bot's own, in the reader's language) as a code span."""
    return verbatim("`{text}`", text=text)


def _line(cmd: Command, prefix: str) -> Msg:
    usage = _code(cmd.usage(prefix))
    if cmd.level is Level.ORGANISER:
        return _entry(usage, cmd.help, _("(organisers)"))
    if cmd.level is Level.ADMIN:
        return _entry(usage, cmd.help, _("(admins)"))
    return _entry(usage, cmd.help)


@module.command(help=_("Check that I'm listening."), examples=["ping"])
async def ping(ctx: Context) -> Reply:
    return Reply.of(_("Pong! I'm here."))


@module.command(help=_("Who I am and where to learn more."), examples=["about"])
async def about(ctx: Context) -> Reply:
    cfg = ctx.config.bot
    platforms: str | Msg = ", ".join(sorted(ctx.adapters)) or _("nowhere yet")
    return Reply.of(
        verbatim("{about}", about=cfg.about),  # the group's own words, from its config
        "\n",
        _(
            "I help members see meetings in their own time zone, answer questions, and collect "
            "case studies of libraries working with Wikimedia. Connected to: {platforms}. "
            "Version {version}.",
            platforms=platforms,
            version=__version__,
        ),
        "\n",
        _("More about the group: {website}", website=cfg.website),
        "\n",
        _("Start with `{prefix}tz set <your city>`, then `{prefix}help`.", prefix=ctx.prefix),
    )
