"""Command declarations: one per command, driving parsing, validation, help and slash commands.

A command module builds a :class:`Module`; its commands are plain async functions whose
signature *is* the declaration::

    module = Module("members", "Your time zone, language and data.")
    tz = module.group("tz", "Your time zone: every time I show you is in it.")

    @tz.command(help="Set your zone.", examples=["tz set Lagos"])
    async def set(ctx: Context, zone: Zone) -> Reply: ...

Annotations pick converters (``str``, ``int``, ``timedelta``, ``datetime``, ``Zone``,
``Member``, ``Literal[...]``, ``Annotated[Literal[...], Aliases(...)]`` for other words that
mean its options, or ``Annotated[T, converter]``); a default makes an argument optional; the
last ``str`` argument takes the rest of the line.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import msgspec

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import N_, PARAM_CONTEXT, Msg, _, _p, listing, verbatim
from chatbot.dispatch.converters import (
    Aliases,
    Choice,
    ConvertContext,
    Converter,
    DateTimeArg,
    Duration,
    Integer,
    MemberArg,
    Text,
    TimeZoneArg,
    Token,
    split_args,
)
from chatbot.messages.events import Plain

if TYPE_CHECKING:
    from pathlib import Path

    from chatbot.dispatch.dialogs import Dialog


class Level(enum.IntEnum):
    """Who may run a command; checked on every call."""

    MEMBER = 0
    ORGANISER = 1
    ADMIN = 2


HandlerFn = Callable[..., Awaitable[Any]]


def display_name(name: str) -> Msg:
    """What members see for a parameter called ``name``: its words, translated (the catalogs
    get every command parameter's name from the signatures,
    :mod:`chatbot.messages.extract_params`, so no module has to list them)."""
    return _p(PARAM_CONTEXT, name.replace("_", " "))


class Param(msgspec.Struct):
    name: str
    converter: Converter
    required: bool
    default: Any
    rest: bool
    help: str | Msg = ""
    #: the name shown to members (``<zone>``, ``<zona>``); ``name`` is the handler's
    display: Msg | None = None
    #: the converter's ``read`` when it has one (:class:`~chatbot.dispatch.converters.Reads`)
    read: Callable[[ConvertContext, str], Any] | None = None

    @property
    def shown(self) -> Msg:
        """The name shown to members, in their language."""
        return self.display if self.display is not None else display_name(self.name)

    @property
    def usage(self) -> Msg:
        """``<name>`` (``[name]`` when optional, ``…`` when it takes the rest of the line)."""
        more = "…" if self.rest and self.converter.label == "text" else ""
        if self.required:
            return verbatim("<{name}>" + more, name=self.shown)
        return verbatim("[{name}]" + more, name=self.shown)


class Command(msgspec.Struct):
    name: str
    handler: HandlerFn
    params: list[Param]
    help: str | Msg
    level: Level = Level.MEMBER
    aliases: tuple[str, ...] = ()
    #: what to type after the prefix; a :class:`Msg` where some words are the reader's own
    #: (``verbatim("rsvp 3 {yes}", yes=…)`` shows ``rsvp 3 sí`` to a Spanish reader): each
    #: such word must be one the bot reads in that language (``tests/test_usage_i18n.py``)
    examples: tuple[str | Msg, ...] = ()
    group: Group | None = None
    module: Module | None = None
    #: its answers concern only the caller: Discord defers it ephemerally, and a plain
    #: string it returns is a private reply (see :class:`~chatbot.messages.events.Reply`)
    private: bool = False
    hidden: bool = False
    #: what is worked out once per prefix and then kept (the usage line, the help reply):
    #: a registered command does not change, and these are asked for on every mistake
    memo: dict[Any, Any] = msgspec.field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        if self.group is None:
            return self.name
        return self.group.name if self.name == "" else f"{self.group.name} {self.name}"

    def usage(self, prefix: str) -> Msg:
        """``!rsvp <number> <answer>``, the parameters named in the reader's language (the
        command's words stay English: they are what the member types)."""
        key = ("usage", prefix)
        found: Msg | None = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._usage(prefix)
        return found

    def _usage(self, prefix: str) -> Msg:
        command = prefix + self.qualified_name
        if not self.params:
            return verbatim("{command}", command=command)
        names = [f"{{p{i}}}" for i in range(len(self.params))]
        values = {f"p{i}": p.usage for i, p in enumerate(self.params)}
        return verbatim("{command} " + " ".join(names), command=command, **values)

    def example(self, prefix: str, index: int = 0) -> Msg:
        """One example as a code span: ``!rsvp 3 sí`` for a Spanish reader."""
        return shown_example(prefix, self.examples[index])

    async def parse(self, ctx: ConvertContext, raw: str, tokens: list[Token]) -> dict[str, Any]:
        """Convert the tokens into keyword arguments for the handler.

        A command line whose words could be grouped in more than one way is refused with
        the grouping to type (never half-read and stored)."""
        for tok in tokens:  # a loop, not any(): no generator on every command
            if tok.quoted:
                _check_quote_alignment(self, ctx.prefix, tokens)
                break
        values: dict[str, Any] = {}
        params = self.params
        for index, param in enumerate(params):
            if index >= len(tokens):
                if param.required:
                    raise BadArgument(_missing(self, param, ctx.prefix))
                values[param.name] = param.default
                continue
            token = tokens[index]
            if param.rest:
                text = raw[token.start :]
                if len(tokens) == index + 1 and token.quoted:
                    text = token.text
            else:
                text = token.text
            read = param.read
            values[param.name] = (
                read(ctx, text) if read is not None else await param.converter.convert(ctx, text)
            )
            if param.rest:
                return values
        if len(tokens) > len(params):
            extra = " ".join(t.text for t in tokens[len(params) :])
            raise BadArgument(_("I didn't expect '{extra}' at the end.", extra=Plain(extra[:40])))
        return values


#: what to type for a missing argument, by converter kind (when the command gives no help)
_KINDS: dict[type, str] = {
    Integer: N_("a number"),
    Text: N_("some text"),
    TimeZoneArg: N_("a city, a zone name or an offset (Lagos, Europe/Paris, UTC+1)"),
    DateTimeArg: N_("a date and time (friday 15:00, tomorrow 9am)"),
    Duration: N_("a duration (30 minutes, 2h, 3 days)"),
    MemberArg: N_("a member (a mention or their name)"),
}


def shown_example(prefix: str, example: str | Msg) -> Msg:
    """A command example as members see it: a code span with the prefix."""
    return verbatim("`{prefix}{example}`", prefix=prefix, example=example)


def shown_examples(prefix: str, examples: Sequence[str | Msg]) -> Msg:
    """``!tz``, ``!tz set Lagos``: examples one after another."""
    return listing([shown_example(prefix, e) for e in examples])


def _missing(cmd: Command, param: Param, prefix: str) -> Msg:
    """``The reason is missing: why it is rejected.`` — in words, not the converter's name.
    The parameter is named as in the usage line (``<reason>``, in the reader's language),
    and the example is one to type, prefix included."""
    kind = _KINDS.get(type(param.converter))
    what: str | Msg | None = param.help or (_(kind) if kind else None)
    if what is None and isinstance(param.converter, Choice):
        what = _("one of {options}", options=", ".join(param.converter.options))
    name = param.shown
    if what:
        message = _("The {name} is missing: {what}.", name=name, what=what)
    else:
        message = _("The {name} is missing.", name=name)
    if cmd.examples:
        return _("{message} For example: {example}", message=message, example=cmd.example(prefix))
    return message


def quote(text: str) -> str:
    """``text`` in quotes that the argument splitter reads back as one argument."""
    for open_, close in (('"', '"'), ("'", "'"), ("“", "”"), ("«", "»")):
        if close not in text:
            return f"{open_}{text}{close}"
    return text


def _check_quote_alignment(cmd: Command, prefix: str, tokens: list[Token]) -> None:
    """Refuse a line whose first quoted argument lands inside the rest-of-line argument
    while words before it were read one per argument: ``!faq add bad id "Q?" A`` would
    otherwise save id ``bad`` with question ``id``.  The reply shows the line to type."""
    if not any(tok.quoted for tok in tokens):
        return  # the common case: nothing quoted, nothing to misplace
    params = cmd.params
    rest_at = next((i for i, p in enumerate(params) if p.rest), None)
    if rest_at is None or rest_at == 0:
        return
    first_quoted = next((i for i, tok in enumerate(tokens) if tok.quoted), None)
    if first_quoted is None or first_quoted < rest_at:
        return
    # the quoted phrase was meant for the free-text argument just before the rest (a word
    # from a fixed list there, as in ``!meeting edit 1 title "New title"``, is no doubt);
    # the words before it fill the arguments before that one, extra ones joined
    target = rest_at - 1
    if target == 0 or not isinstance(params[target].converter, Text):
        return
    before = tokens[:first_quoted]
    slots = target  # arguments to fill with the words before the quoted one
    texts = [t.text for t in before]
    join_at = max(
        (i for i in range(slots) if isinstance(params[i].converter, Text)), default=slots - 1
    )
    extra = len(texts) - slots
    grouped = [*texts[:join_at], " ".join(texts[join_at : join_at + extra + 1])]
    grouped += texts[join_at + extra + 1 :]
    parts = [quote(g) if " " in g else g for g in grouped]
    tail = [quote(t.text) if t.quoted else t.text for t in tokens[first_quoted:]]
    line = " ".join([prefix + cmd.qualified_name, *parts, *tail])
    raise BadArgument(
        _(
            "I'm not sure which words go together. Put quotes around an argument of several "
            "words, like this: {line}",
            line=Plain(line),
        )
    )


class Group:
    """A command with subcommands (``!tz``, ``!tz set``); its default runs when none is named."""

    def __init__(self, name: str, help: str | Msg, module: Module, aliases: tuple[str, ...] = ()):
        self.name = name
        self.help = help
        self.module = module
        self.aliases = aliases
        self.subcommands: dict[str, Command] = {}
        self.default: Command | None = None

    def command(
        self,
        name: str | None = None,
        *,
        help: str | Msg,
        level: Level = Level.MEMBER,
        aliases: tuple[str, ...] = (),
        examples: Sequence[str | Msg] = (),
        default: bool = False,
        private: bool = False,
        hidden: bool = False,
        params: dict[str, str | Msg] | None = None,
        names: dict[str, Msg] | None = None,
    ) -> Callable[[HandlerFn], HandlerFn]:
        def decorate(fn: HandlerFn) -> HandlerFn:
            cmd = build_command(
                "" if default else (name or fn.__name__.rstrip("_")),
                fn,
                help,
                level,
                aliases,
                tuple(examples),
                private,
                params or {},
                names or {},
            )
            cmd.group = self
            cmd.module = self.module
            cmd.hidden = hidden
            if default:
                if self.default is not None:
                    raise ValueError(f"group {self.name} already has a default command")
                self.default = cmd
            else:
                for key in (cmd.name, *cmd.aliases):
                    if key in self.subcommands:
                        raise ValueError(f"{self.name} {key} is declared twice")
                    self.subcommands[key] = cmd
            return fn

        return decorate

    def commands(self) -> list[Command]:
        seen: list[Command] = [self.default] if self.default else []
        for cmd in self.subcommands.values():
            if cmd not in seen:
                seen.append(cmd)
        return seen

    @property
    def level(self) -> Level:
        """The lowest level that can run anything here (for help listings)."""
        return min((c.level for c in self.commands()), default=Level.MEMBER)


Hook = Callable[..., Awaitable[Any]]


class Module(msgspec.Struct):
    """A feature: its commands and groups, plus hooks into privacy and start-up."""

    name: str
    help: str | Msg
    commands: dict[str, Command | Group] = msgspec.field(default_factory=dict)
    migrations: Path | None = None
    mydata_hooks: list[Hook] = msgspec.field(default_factory=list)
    forget_hooks: list[Hook] = msgspec.field(default_factory=list)
    forget_warning_hooks: list[Hook] = msgspec.field(default_factory=list)
    link_hooks: list[Hook] = msgspec.field(default_factory=list)
    startup_hooks: list[Hook] = msgspec.field(default_factory=list)
    dialogs: list[Dialog] = msgspec.field(default_factory=list)

    def group(self, name: str, help: str | Msg, aliases: tuple[str, ...] = ()) -> Group:
        grp = Group(name, help, self, aliases)
        self._add(name, grp, aliases)
        return grp

    def command(
        self,
        name: str | None = None,
        *,
        help: str | Msg,
        level: Level = Level.MEMBER,
        aliases: tuple[str, ...] = (),
        examples: Sequence[str | Msg] = (),
        private: bool = False,
        hidden: bool = False,
        params: dict[str, str | Msg] | None = None,
        names: dict[str, Msg] | None = None,
    ) -> Callable[[HandlerFn], HandlerFn]:
        def decorate(fn: HandlerFn) -> HandlerFn:
            cmd = build_command(
                name or fn.__name__.rstrip("_"),
                fn,
                help,
                level,
                aliases,
                tuple(examples),
                private,
                params or {},
                names or {},
            )
            cmd.module = self
            cmd.hidden = hidden
            self._add(cmd.name, cmd, aliases)
            return fn

        return decorate

    def on_mydata(self, fn: Hook) -> Hook:
        """``async fn(bot, member_id) -> dict``: this module's part of ``!mydata``."""
        self.mydata_hooks.append(fn)
        return fn

    def on_forget(self, fn: Hook) -> Hook:
        """``async fn(bot, member_id) -> str | Msg | None``: delete its data on ``!forgetme``;
        the text (a :class:`Msg`, translated for the member) is added to the confirmation."""
        self.forget_hooks.append(fn)
        return fn

    def on_forget_warning(self, fn: Hook) -> Hook:
        """``async fn(bot, member_id) -> str | Msg | None``: what ``!forgetme`` will not simply
        delete (e.g. published texts that stay under their licence), said *before* the
        confirm."""
        self.forget_warning_hooks.append(fn)
        return fn

    def on_link(self, fn: Hook) -> Hook:
        """``async fn(bot, session, old_key, new_key)``: a member linked a second account
        (``!link``); move what this module stored under the account's own key (``old_key``)
        to the member's (``new_key``), in the given transaction, settling duplicates (two
        RSVPs to one meeting become one)."""
        self.link_hooks.append(fn)
        return fn

    def dialog(self, dialog: Dialog) -> Dialog:
        """Declare a dialogue this module starts; registered when the module is loaded."""
        self.dialogs.append(dialog)
        return dialog

    def on_startup(self, fn: Hook) -> Hook:
        """``async fn(bot)``: run once the database is ready, before adapters start."""
        self.startup_hooks.append(fn)
        return fn

    def _add(self, name: str, item: Command | Group, aliases: tuple[str, ...]) -> None:
        for key in (name, *aliases):
            if key in self.commands:
                raise ValueError(f"module {self.name}: '{key}' declared twice")
            self.commands[key] = item


def _converter_for(annotation: Any, name: str, is_last: bool) -> tuple[Converter, bool, bool]:
    """(converter, optional, rest) for a parameter annotation."""
    optional = False
    origin = get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) != len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
        origin = get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = get_args(annotation)
        aliases = next((m for m in meta if isinstance(m, Aliases)), None)
        if aliases is not None:
            if get_origin(base) is not Literal:
                raise TypeError(f"parameter {name}: Aliases go with a Literal")
            choice = aliases.choice(tuple(str(a) for a in get_args(base)), name)
            return choice, optional, is_last and choice.greedy
        conv = next((m for m in meta if hasattr(m, "convert")), None)
        if conv is None:
            raise TypeError(f"parameter {name}: Annotated needs a converter")
        return conv, optional, is_last and conv.greedy
    if origin is Literal:
        return Choice(tuple(str(a) for a in get_args(annotation)), label=name), optional, False
    from chatbot.messages.events import Member
    from chatbot.time.zones import Zone

    simple: dict[Any, Converter] = {
        int: Integer(label=name),
        timedelta: Duration(label=name),
        datetime: DateTimeArg(label=name),
        Zone: TimeZoneArg(label=name),
        Member: MemberArg(label=name),
    }
    if annotation is str:
        return Text(label="text" if is_last else name), optional, is_last
    if annotation in simple:
        conv = simple[annotation]
        return conv, optional, is_last and conv.greedy
    raise TypeError(f"parameter {name}: no converter for {annotation!r}")


def build_command(
    name: str,
    fn: HandlerFn,
    help: str | Msg,
    level: Level,
    aliases: tuple[str, ...],
    examples: tuple[str | Msg, ...],
    private: bool,
    param_help: dict[str, str | Msg],
    shown_names: dict[str, Msg] | None = None,
) -> Command:
    """Read the handler's signature into parameters; refuse what can't be parsed.

    ``shown_names`` are the names members see for some parameters where the handler's own
    (translated in context :data:`~chatbot.base.i18n.PARAM_CONTEXT`) would not do."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"command {name or fn.__name__} must be an async function")
    hints = typing.get_type_hints(fn, include_extras=True)
    sig = inspect.signature(fn)
    names = list(sig.parameters)[1:]  # the first is ctx
    shown_names = shown_names or {}
    if unknown := set(shown_names) - set(names):
        raise TypeError(f"command {name}: names for no parameter: {', '.join(sorted(unknown))}")
    params: list[Param] = []
    for i, pname in enumerate(names):
        p = sig.parameters[pname]
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise TypeError(f"command {name}: *args/**kwargs are not supported")
        conv, optional, rest = _converter_for(hints[pname], pname, i == len(names) - 1)
        has_default = p.default is not inspect.Parameter.empty
        if params and not params[-1].required and not (optional or has_default):
            raise TypeError(f"command {name}: required {pname} after an optional argument")
        params.append(
            Param(
                name=pname,
                converter=conv,
                required=not (optional or has_default),
                default=p.default if has_default else None,
                rest=rest,
                help=param_help.get(pname, ""),
                display=shown_names.get(pname),
                read=getattr(conv, "read", None),
            )
        )
    return Command(name, fn, params, help, level, aliases, examples, private=private)


class Resolved(msgspec.Struct):
    command: Command
    raw: str  # the argument text after the command (and subcommand) name
    tokens: list[Token]


class Registry:
    """All enabled modules' commands, by top-level name and alias."""

    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.top: dict[str, Command | Group] = {}
        #: the names in ``top``, as the list "did you mean" searches (a list is searched
        #: fastest)
        self._names: list[str] = []

    def add_module(self, module: Module) -> None:
        """Add every command of a module, or none of them if any name is taken."""
        if module.name in self.modules:
            raise ValueError(f"module {module.name} is loaded twice")
        clashes = [n for n in module.commands if n in self.top]
        if clashes:
            raise ValueError(f"module {module.name}: commands already taken: {', '.join(clashes)}")
        self.modules[module.name] = module
        self.top.update(module.commands)
        self._names = list(self.top)

    def names(self) -> list[str]:
        return list(self.top)

    def all_commands(self) -> list[Command]:
        seen: list[Command] = []
        for item in self.top.values():
            for cmd in item.commands() if isinstance(item, Group) else [item]:
                if cmd not in seen:
                    seen.append(cmd)
        return seen

    def resolve(self, name: str, raw: str) -> Resolved | Group | None:
        """Find the command for ``name`` and its argument text.

        Returns the :class:`Group` itself when a group has no default and no subcommand
        was named (so the caller can list the subcommands).
        """
        item = self.top.get(name)
        if item is None:
            item = self.top.get(name.casefold())
            if item is None:
                return None
        if item.__class__ is Command:
            return Resolved(item, raw, split_args(raw))
        assert isinstance(item, Group)
        first = raw.split(None, 1)
        if first:
            sub = item.subcommands.get(first[0].casefold())
            if sub is not None:
                rest = first[1] if len(first) > 1 else ""
                return Resolved(sub, rest, split_args(rest))
        tokens = split_args(raw)
        if item.default is not None:
            return Resolved(item.default, raw, tokens)
        return item

    def suggest(self, name: str, choices: list[str] | None = None) -> str | None:
        """The closest known name, for "did you mean"."""
        extract_one, similarity = _fuzzy()
        pool = choices if choices is not None else self._names
        # processor=None said explicitly: rapidfuzz then skips its default-processor lookup
        found = extract_one(name.casefold(), pool, scorer=similarity, processor=None)
        if found is None or found[1] < 0.5:
            return None
        return str(found[0])


@lru_cache(maxsize=1)
def _fuzzy() -> tuple[Callable[..., Any], Callable[..., float]]:
    """rapidfuzz's best-match search and Levenshtein similarity, imported on the first
    "did you mean" (not at start-up) and then kept (an import statement in the function
    itself costs more than the search)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    return process.extractOne, Levenshtein.normalized_similarity
