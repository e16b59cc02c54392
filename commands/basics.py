"""The first commands a newcomer types: help, ping, about."""

from __future__ import annotations

from chatbot import __version__
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Command, Group, Level, Module
from chatbot.messages.events import Bullets, Inline, Plain, Reply

module = Module("basics", "Getting started with the bot.")


@module.command(
    help="Show what I can do, or how to use one command.",
    examples=["help", "help tz", "help tz set"],
    aliases=("commands",),
    params={"topic": "a command name, e.g. tz"},
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
        hint = f" Did you mean `{prefix}help {guess}`?" if guess else ""
        return Reply.of(
            "There's no command called ",
            Plain(words[0][:30]),
            f".{hint} `{prefix}help` lists them all.",
            aside=True,
        )
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
            items.append((f"`{prefix}{item.name}`: {item.help}",))
    return Reply.of(
        f"Here's what I can do. Type `{prefix}help <command>` for details, "
        f"e.g. `{prefix}help tz`.\n",
        Bullets(tuple(items)),
        aside=True,
    )


def _group_help(group: Group, prefix: str) -> Reply:
    items = tuple((_line(c, prefix),) for c in group.commands() if not c.hidden)
    examples = [e for c in group.commands() for e in c.examples]
    tail = "Examples: " + ", ".join(f"`{prefix}{e}`" for e in examples[:5]) if examples else ""
    return Reply.of(f"**{prefix}{group.name}**: {group.help}\n", Bullets(items), tail, aside=True)


def _command_help(cmd: Command, prefix: str) -> Reply:
    lines: list[Inline] = [f"`{cmd.usage(prefix)}`: {cmd.help}"]
    for param in cmd.params:
        if param.help:
            optional = "" if param.required else " (optional)"
            lines.append(f"\n  `{param.name}`{optional}: {param.help}")
    if cmd.aliases:
        lines.append("\nAlso: " + ", ".join(f"`{prefix}{a}`" for a in cmd.aliases))
    if cmd.level is not Level.MEMBER:
        lines.append(f"\nFor {cmd.level.name.lower()}s only.")
    if cmd.examples:
        lines.append("\nExamples: " + ", ".join(f"`{prefix}{e}`" for e in cmd.examples))
    return Reply.of(*lines, aside=True)


def _line(cmd: Command, prefix: str) -> str:
    only = f" ({cmd.level.name.lower()}s)" if cmd.level is not Level.MEMBER else ""
    return f"`{cmd.usage(prefix)}`: {cmd.help}{only}"


@module.command(help="Check that I'm listening.", examples=["ping"])
async def ping(ctx: Context) -> str:
    return "Pong! I'm here."


@module.command(help="Who I am and where to learn more.", examples=["about"])
async def about(ctx: Context) -> Reply:
    cfg = ctx.config.bot
    platforms = ", ".join(sorted(ctx.adapters)) or "nowhere yet"
    return Reply.of(
        f"{cfg.about}\n",
        f"I help members see meetings in their own time zone, answer questions, and collect "
        f"case studies of libraries working with Wikimedia. Connected to: {platforms}. "
        f"Version {__version__}.\n",
        f"More about the group: {cfg.website}\n",
        f"Start with `{ctx.prefix}tz set <your city>`, then `{ctx.prefix}help`.",
    )
