"""Slash commands generated from the command registry, and slash invocations turned back
into command text.

One declaration serves both ways of typing a command:

* a top-level :class:`Command` becomes ``/name`` with one option per parameter;
* a :class:`Group` becomes ``/group`` with one subcommand per command; its default command
  becomes the subcommand ``show`` (``view`` or ``default`` if that name is taken), or the
  top-level command itself when the group has nothing but a default;
* parameters become typed options: :class:`Integer` → integer (with min/max),
  :class:`Choice` → string with choices, :class:`MemberArg` → user, everything else → string;
  time zones (:class:`TimeZoneArg`, or a text parameter named ``zone``) get autocomplete.

An invocation is rebuilt as the text a member would type (``tz set "sao paulo"``), so the
core parses, validates and answers it exactly like a prefix command.  Nothing here imports
discord.py: the payloads are Discord's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chatbot.base.errors import UserError
from chatbot.dispatch.converters import _QUOTES, Choice, Integer, MemberArg, Text, TimeZoneArg
from chatbot.dispatch.registry import Command, Group, Param, Registry

# Discord's option types
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
USER = 6

MAX_NAME = 32
MAX_DESCRIPTION = 100
MAX_CHOICES = 25
MAX_OPTIONS = 25
MAX_COMMANDS = 100
MAX_CHOICE_TEXT = 100
MAX_STRING_OPTION = 6000

DEFAULT_SUBCOMMAND_NAMES = ("show", "view", "default")
ZONE_PARAM_NAMES = frozenset({"zone", "timezone", "time_zone"})
#: offered when the zone field is still empty
POPULAR_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Kolkata",
    "Asia/Jakarta",
    "Asia/Manila",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/New_York",
    "America/Los_Angeles",
)

Completion = Literal["zone", "choice"]


@dataclass(frozen=True, slots=True)
class SlashOption:
    """One option of a (sub)command and the parameter it fills."""

    name: str
    param: Param
    kind: int
    complete: Completion | None = None


@dataclass(frozen=True, slots=True)
class SlashTarget:
    """What a slash (sub)command runs: the command words and its options in order."""

    words: str
    command: Command
    options: tuple[SlashOption, ...]
    #: a group's default command: its first argument is quoted so that it is never read
    #: as a subcommand name
    group_default: bool = False

    def option(self, name: str) -> SlashOption | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(slots=True)
class SlashCommands:
    """The payloads to sync and, by (command, subcommand) name, what each one runs."""

    payloads: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[tuple[str, str | None], SlashTarget] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def target(self, name: str, sub: str | None) -> SlashTarget | None:
        return self.targets.get((name, sub))


# -- names and descriptions ----------------------------------------------------------------


def slash_name(name: str) -> str:
    """A valid Discord name: lower case letters, digits, ``-`` and ``_``, at most 32."""
    cleaned = re.sub(r"[^\w-]", "", name.casefold().replace(" ", "-"))
    return cleaned[:MAX_NAME]


def describe(text: str, fallback: str) -> str:
    """A plain description of 1-100 characters (markdown marks dropped, trimmed with …)."""
    flat = " ".join(text.replace("**", "").replace("`", "").split()) or fallback
    flat = flat or "-"
    return flat if len(flat) <= MAX_DESCRIPTION else flat[: MAX_DESCRIPTION - 1] + "…"


def clip_choice(text: str) -> str:
    return text if len(text) <= MAX_CHOICE_TEXT else text[: MAX_CHOICE_TEXT - 1] + "…"


# -- building the commands -------------------------------------------------------------------


def is_zone_param(param: Param) -> bool:
    return isinstance(param.converter, TimeZoneArg) or (
        isinstance(param.converter, Text) and param.name.casefold() in ZONE_PARAM_NAMES
    )


def _option(param: Param) -> tuple[SlashOption, dict[str, Any]] | None:
    name = slash_name(param.name)
    if not name:
        return None
    conv = param.converter
    payload: dict[str, Any] = {
        "name": name,
        "description": describe(param.help, f"{param.name} ({conv.label})"),
        "required": param.required,
    }
    complete: Completion | None = None
    if isinstance(conv, Integer):
        kind = INTEGER
        if conv.minimum is not None:
            payload["min_value"] = conv.minimum
        if conv.maximum is not None:
            payload["max_value"] = conv.maximum
    elif isinstance(conv, MemberArg):
        kind = USER
    else:
        kind = STRING
        if isinstance(conv, Choice):
            if len(conv.options) <= MAX_CHOICES and all(
                len(o) <= MAX_CHOICE_TEXT for o in conv.options
            ):
                payload["choices"] = [{"name": o, "value": o} for o in conv.options]
            else:
                complete = "choice"
        elif is_zone_param(param):
            complete = "zone"
        if isinstance(conv, Text):
            payload["min_length"] = max(0, min(conv.min_len, MAX_STRING_OPTION))
            payload["max_length"] = max(1, min(conv.max_len, MAX_STRING_OPTION))
        if complete is not None:
            payload["autocomplete"] = True
    payload["type"] = kind
    return SlashOption(name, param, kind, complete), payload


def _options(cmd: Command) -> tuple[tuple[SlashOption, ...], list[dict[str, Any]]]:
    options: list[SlashOption] = []
    payloads: list[dict[str, Any]] = []
    for param in cmd.params[:MAX_OPTIONS]:
        built = _option(param)
        if built is None:
            break  # later options could not be placed positionally without this one
        options.append(built[0])
        payloads.append(built[1])
    return tuple(options), payloads


def build_slash(registry: Registry) -> SlashCommands:
    """Slash command payloads for every visible command, and the table to route them."""
    result = SlashCommands()
    seen: set[int] = set()
    for module in registry.modules.values():
        for item in module.commands.values():
            if id(item) in seen:
                continue  # an alias
            seen.add(id(item))
            if len(result.payloads) >= MAX_COMMANDS:
                result.skipped.append(item.name)
                continue
            if isinstance(item, Group):
                _add_group(result, item)
            elif not item.hidden:
                _add_command(result, item)
    return result


def _add_command(result: SlashCommands, cmd: Command, *, name: str = "") -> None:
    top = slash_name(name or cmd.name)
    if not top or any(p["name"] == top for p in result.payloads):
        result.skipped.append(cmd.qualified_name)
        return
    options, payloads = _options(cmd)
    payload: dict[str, Any] = {
        "type": 1,
        "name": top,
        "description": describe(cmd.help, cmd.qualified_name),
        "options": payloads,
    }
    result.payloads.append(payload)
    result.targets[(top, None)] = SlashTarget(cmd.qualified_name, cmd, options)


def _add_group(result: SlashCommands, group: Group) -> None:
    commands = [c for c in group.commands() if not c.hidden]
    if not commands:
        return
    top = slash_name(group.name)
    if not top or any(p["name"] == top for p in result.payloads):
        result.skipped.append(group.name)
        return
    default = group.default if group.default in commands else None
    subs = [c for c in commands if c is not default]
    if default is not None and not subs:
        _add_command(result, default, name=group.name)
        return
    sub_payloads: list[dict[str, Any]] = []
    taken = {slash_name(c.name) for c in subs}
    if default is not None:
        name = next((n for n in DEFAULT_SUBCOMMAND_NAMES if n not in taken), None)
        if name is not None:
            options, payloads = _options(default)
            sub_payloads.append(
                {
                    "type": SUB_COMMAND,
                    "name": name,
                    "description": describe(default.help, group.name),
                    "options": payloads,
                }
            )
            result.targets[(top, name)] = SlashTarget(group.name, default, options, True)
    for cmd in subs:
        name = slash_name(cmd.name)
        if not name or (top, name) in result.targets or len(sub_payloads) >= MAX_OPTIONS:
            result.skipped.append(cmd.qualified_name)
            continue
        options, payloads = _options(cmd)
        sub_payloads.append(
            {
                "type": SUB_COMMAND,
                "name": name,
                "description": describe(cmd.help, cmd.qualified_name),
                "options": payloads,
            }
        )
        result.targets[(top, name)] = SlashTarget(cmd.qualified_name, cmd, options)
    result.payloads.append(
        {
            "type": 1,
            "name": top,
            "description": describe(group.help, group.name),
            "options": sub_payloads,
        }
    )


# -- invocations -----------------------------------------------------------------------------


def read_options(data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any], str | None]:
    """(subcommand, leaf option values, focused option) of an interaction's ``data``."""
    options: list[dict[str, Any]] = list(data.get("options") or [])
    sub: str | None = None
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        sub = str(options[0]["name"]) if sub is None else f"{sub} {options[0]['name']}"
        options = list(options[0].get("options") or [])
    values = {str(o["name"]): o.get("value") for o in options}
    focused = next((str(o["name"]) for o in options if o.get("focused")), None)
    return sub, values, focused


def quote_arg(value: str, *, force: bool = False) -> str:
    """``value`` as one argument for :func:`chatbot.dispatch.converters.split_args`.

    A word without spaces stays as it is; anything else is wrapped in the first quote pair
    whose closing mark it does not contain.
    """
    if value and not force and not any(c.isspace() for c in value) and value[0] not in _QUOTES:
        return value
    for opening, closing in _QUOTES.items():
        if closing not in value:
            return f"{opening}{value}{closing}"
    return '"' + value.replace('"', "'") + '"'


def _format(option: SlashOption, value: Any, *, force_quote: bool) -> str:
    if option.kind == USER:
        return f"<@{value}>"
    if option.kind == INTEGER and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value))
    return quote_arg(str(value), force=force_quote)


def command_text(target: SlashTarget, values: Mapping[str, Any]) -> str:
    """The command line (without prefix) equivalent to a slash invocation.

    An optional option left empty before one that is given is filled with its default;
    when the default can't be written (none, or empty) the later options are dropped.
    """
    given = [values.get(o.name) for o in target.options]
    last = max((i for i, v in enumerate(given) if v is not None), default=-1)
    args: list[str] = []
    for index, option in enumerate(target.options[: last + 1]):
        value = given[index]
        if value is None:
            default = option.param.default
            if default is None or default == "":
                break
            value = default
        args.append(_format(option, value, force_quote=index == 0 and target.group_default))
    return " ".join([target.words, *args])


# -- autocomplete ----------------------------------------------------------------------------


def zone_suggestions(typed: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
    """(shown name, value) pairs for a zone being typed: the exact reading first (offset,
    abbreviation, IANA name), then places and IANA names starting with it, then near misses.
    Each value resolves to its zone with ``tz set``."""
    from chatbot.time import zones as tz

    found: dict[str, str] = {}

    def add(key: str, shown: str) -> None:
        if key not in found and len(found) < limit:
            found[key] = clip_choice(shown)

    text = typed.strip()[: tz.MAX_INPUT_LENGTH]
    if not text:
        for key in POPULAR_ZONES[:limit]:
            add(key, key)
        return [(shown, key) for key, shown in found.items()]
    try:
        exact = tz.lookup_exact(text)
    except UserError as exc:
        exact = None
        for key in getattr(exc, "candidates", ()):
            add(key, key)
    if exact is not None:
        add(exact.key, exact.key)
    index = tz._index()
    norm = tz._norm(text)
    norm_key = tz._norm_key(text)
    if norm:
        for name in index.place_choices:
            if name.startswith(norm):
                place = index.places[name]
                for key, covers in place.candidates:
                    add(key, _place_label(place.display, key, covers))
    if norm_key:
        starts = [n for n in index.iana_choices if any(p.startswith(norm) for p in n.split("/"))]
        contains = [n for n in index.iana_choices if norm_key in n and n not in starts]
        for name in starts + contains:
            key = index.iana[name]
            add(key, key)
    if len(found) < limit and len(norm) >= 3:
        for _score, place in tz._fuzzy(norm, index.place_choices, index):
            for key, covers in place.candidates:
                add(key, _place_label(place.display, key, covers))
    return [(shown, key) for key, shown in found.items()]


def _place_label(display: str, key: str, covers: str) -> str:
    detail = covers if covers and covers != display else ""
    return f"{display} – {key}" + (f" ({detail})" if detail and detail not in key else "")


def choice_suggestions(options: tuple[str, ...], typed: str) -> list[tuple[str, str]]:
    folded = typed.strip().casefold()
    hits = [o for o in options if o.casefold().startswith(folded)]
    hits += [o for o in options if folded in o.casefold() and o not in hits]
    return [(clip_choice(o), o) for o in hits[:MAX_CHOICES] if len(o) <= MAX_CHOICE_TEXT]
