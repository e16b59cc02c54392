"""Slash commands generated from the command registry, and slash invocations turned back
into command text.

One declaration serves both ways of typing a command:

* a top-level :class:`Command` becomes ``/name`` with one option per parameter;
* a :class:`Group` becomes ``/group`` with one subcommand per command; its default command
  becomes the subcommand ``show`` (``view`` or ``default`` if that name is taken), or the
  top-level command itself when the group has nothing but a default;
* a command only organisers may run is hidden from members in Discord's picker
  (``default_member_permissions``: Manage Events; a server admin may allow other roles
  under Server Settings > Integrations).  Discord sets this per top-level command, so a
  group mixing both keeps its members' subcommands and moves the organisers' ones to
  ``/group-organiser`` (``/meeting-organiser add`` runs ``!meeting add``);
* hidden commands (internal entry points such as the receiver of a form's answers) are
  no slash commands;
* descriptions carry ``description_localizations`` for the languages the bot speaks, from
  the same catalogs as its replies (:data:`DISCORD_LOCALES`); command names stay English,
  the names every help text and example uses; an option's name carries
  ``name_localizations``, the parameter's name as usage lines show it (``número``), and a
  fixed choice's name (what the picker shows) does too, its value (what the command gets)
  staying the same;
* parameters become typed options: :class:`Integer` → integer (with min/max),
  :class:`Choice` → string with choices, :class:`MemberArg` → user, everything else → string;
  time zones (:class:`TimeZoneArg`, or a text parameter named ``zone``) get autocomplete.

An invocation is rebuilt as the text a member would type (``tz set "sao paulo"``), so the
core parses, validates and answers it exactly like a prefix command.  Nothing here imports
discord.py: the payloads are Discord's JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.discord.choice_names import choice_name
from chatbot.base.i18n import Msg
from chatbot.dispatch.converters import _QUOTES, Choice, Integer, MemberArg, Text, TimeZoneArg
from chatbot.dispatch.registry import Command, Group, Level, Param, Registry
from chatbot.messages.localise import text_in

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

#: Discord's permission bits: organisers' commands are shown to members who may manage
#: events (and to administrators, who see everything); bot admins' only to administrators
MANAGE_EVENTS = 1 << 33
PICKER_PERMISSIONS = {Level.ORGANISER: str(MANAGE_EVENTS), Level.ADMIN: "0"}
#: the top-level command holding the organisers' part of a group that members also use
ORGANISER_SUFFIX = "-organiser"

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

#: Discord's locale codes for the languages of the bot's catalogs (Discord has one code per
#: country for some languages: both Spanish ones get the same text)
DISCORD_LOCALES = {"es-ES": "es", "es-419": "es", "fr": "fr", "pt-BR": "pt", "de": "de"}


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


def describe(text: str | Msg, fallback: str, lang: str = "en") -> str:
    """A plain description of 1-100 characters: Discord shows it as typed, so markdown
    marks (``**``, ``__``, backticks) and escapes are dropped; trimmed with …."""
    unmarked = re.sub(r"\*\*|__|`", "", _ESCAPE.sub(r"\1", text_in(text, lang)))
    flat = " ".join(unmarked.split()) or fallback
    flat = flat or "-"
    return flat if len(flat) <= MAX_DESCRIPTION else flat[: MAX_DESCRIPTION - 1] + "…"


_ESCAPE = re.compile(r"\\([^\w\s])")


def described(text: str | Msg, fallback: str) -> dict[str, Any]:
    """``description`` (English) and ``description_localizations`` (where a catalog
    translates it) of a command or an option."""
    english = describe(text, fallback)
    fields: dict[str, Any] = {"description": english}
    if found := localised(text, english, lambda t: describe(t, fallback)):
        fields["description_localizations"] = found
    return fields


def localised(text: str | Msg, english: str, shape: Callable[[str], str]) -> dict[str, str]:
    """``text`` in each of :data:`DISCORD_LOCALES` where a catalog translates it."""
    return {
        locale: found
        for locale, lang in DISCORD_LOCALES.items()
        if (found := shape(text_in(text, lang))) != english
    }


def named_choice(value: str) -> dict[str, Any]:
    """A fixed choice: ``value`` is what the command gets, in every language; ``name`` and
    ``name_localizations`` are what the picker shows (see :mod:`.choice_names`)."""
    name = choice_name(value)
    english = clip_choice(text_in(name, "en"))
    choice: dict[str, Any] = {"name": english, "value": value}
    if names := localised(name, english, clip_choice):
        choice["name_localizations"] = names
    return choice


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
        **option_names(param, name),
        **described(param.help, f"{param.name} ({conv.label})"),
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
                payload["choices"] = [named_choice(o) for o in conv.options]
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


def option_names(param: Param, english: str) -> dict[str, Any]:
    """``name_localizations`` of an option: the parameter's name as usage lines show it in
    each language (``número`` for ``number``), where a catalog translates it into a valid
    Discord name. Members see it in the picker; the interaction still names the option in
    English, which is what :func:`read_options` reads."""
    found = localised(param.shown, english, slash_name)
    return {"name_localizations": {k: v for k, v in found.items() if v}} if found else {}


def _distinct_names(payloads: list[dict[str, Any]]) -> None:
    """Drop a locale's option name where it would clash with another option's name in that
    locale (Discord refuses two options of one name): the later option keeps its English
    name there."""
    for locale in DISCORD_LOCALES:
        while True:
            shown = [p.get("name_localizations", {}).get(locale, p["name"]) for p in payloads]
            clash = next(
                (
                    p
                    for p, n in reversed(list(zip(payloads, shown, strict=True)))
                    if shown.count(n) > 1 and locale in p.get("name_localizations", {})
                ),
                None,
            )
            if clash is None:
                break
            names = clash["name_localizations"]
            del names[locale]
            if not names:
                del clash["name_localizations"]


def _options(cmd: Command) -> tuple[tuple[SlashOption, ...], list[dict[str, Any]]]:
    options: list[SlashOption] = []
    payloads: list[dict[str, Any]] = []
    for param in cmd.params[:MAX_OPTIONS]:
        built = _option(param)
        if built is None:
            break  # later options could not be placed positionally without this one
        options.append(built[0])
        payloads.append(built[1])
    _distinct_names(payloads)
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


def _restrict(payload: dict[str, Any], level: Level) -> dict[str, Any]:
    """Hide ``payload`` from members who may not run it (see :data:`PICKER_PERMISSIONS`)."""
    permissions = PICKER_PERMISSIONS.get(level)
    if permissions is not None:
        payload["default_member_permissions"] = permissions
    return payload


def _add_command(result: SlashCommands, cmd: Command, *, name: str = "") -> None:
    top = slash_name(name or cmd.name)
    if not top or any(p["name"] == top for p in result.payloads):
        result.skipped.append(cmd.qualified_name)
        return
    options, payloads = _options(cmd)
    payload: dict[str, Any] = {
        "type": 1,
        "name": top,
        **described(cmd.help, cmd.qualified_name),
        "options": payloads,
    }
    result.payloads.append(_restrict(payload, cmd.level))
    result.targets[(top, None)] = SlashTarget(cmd.qualified_name, cmd, options)


def _add_group(result: SlashCommands, group: Group) -> None:
    """``/group``, or ``/group`` for members and ``/group-organiser`` for organisers."""
    commands = [c for c in group.commands() if not c.hidden]
    if not commands:
        return
    lowest = min(c.level for c in commands)
    everyone = [c for c in commands if c.level == lowest]
    _add_group_part(result, group, everyone, group.name, lowest)
    rest = [c for c in commands if c.level != lowest]
    if rest:
        level = min(c.level for c in rest)
        _add_group_part(result, group, rest, group.name + ORGANISER_SUFFIX, level)


def _add_group_part(
    result: SlashCommands, group: Group, commands: list[Command], title: str, level: Level
) -> None:
    top = slash_name(title)
    if not top or any(p["name"] == top for p in result.payloads):
        result.skipped.append(title)
        return
    default = group.default if group.default in commands else None
    subs = [c for c in commands if c is not default]
    if default is not None and not subs:
        _add_command(result, default, name=title)
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
                    **described(default.help, group.name),
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
                **described(cmd.help, cmd.qualified_name),
                "options": payloads,
            }
        )
        result.targets[(top, name)] = SlashTarget(cmd.qualified_name, cmd, options)
    payload: dict[str, Any] = {
        "type": 1,
        "name": top,
        **described(group.help, group.name),
        "options": sub_payloads,
    }
    result.payloads.append(_restrict(payload, level))


# -- what Discord holds ----------------------------------------------------------------------

#: what Discord's answer leaves out (or sets) when a field has its default
_HELD_DEFAULTS: dict[str, Any] = {
    "options": [],
    "choices": [],
    "required": False,
    "autocomplete": False,
    "default_member_permissions": None,
    "min_length": 0,
    "description_localizations": None,
    "name_localizations": None,
}


def held_matches(ours: list[dict[str, Any]], held: list[dict[str, Any]]) -> bool:
    """Whether the commands Discord holds (as ``GET …/commands`` answers) are ours: the
    same names, and every field we send has the value we send (Discord adds ids,
    versions and defaults of its own, and leaves out false options)."""
    if len(ours) != len(held):
        return False
    by_name = {(c.get("name"), int(c.get("type", 1))): c for c in held}
    return all(
        _same(command, by_name.get((command["name"], int(command.get("type", 1)))))
        for command in ours
    )


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and all(
            _same(value, theirs.get(key, _HELD_DEFAULTS.get(key))) for key, value in ours.items()
        )
    if isinstance(ours, list):
        theirs = [] if theirs is None else theirs
        return (
            isinstance(theirs, list)
            and len(ours) == len(theirs)
            and all(_same(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    return bool(ours == theirs)


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
    """(shown name, value) pairs for a zone being typed, clipped to what Discord shows;
    each value resolves to its zone with ``tz set``."""
    from chatbot.time.zone_completion import complete_zone

    if not typed.strip():
        return [(key, key) for key in POPULAR_ZONES[:limit]]
    return [(clip_choice(shown), key) for shown, key in complete_zone(typed, limit)]


def choice_suggestions(
    options: tuple[str, ...], typed: str, locale: str | None = None
) -> list[tuple[str, str]]:
    """(shown name, value) pairs of the options matching what is typed, named in the
    language of the member's app (``locale``, Discord's code) as fixed choices are."""
    lang = DISCORD_LOCALES.get(locale or "", "en")
    named = [(clip_choice(text_in(choice_name(o), lang)), o) for o in options]
    folded = typed.strip().casefold()

    def matches(pair: tuple[str, str], test: Callable[[str], bool]) -> bool:
        return test(pair[0].casefold()) or test(pair[1].casefold())

    hits = [p for p in named if matches(p, lambda t: t.startswith(folded))]
    hits += [p for p in named if p not in hits and matches(p, lambda t: folded in t)]
    return [p for p in hits[:MAX_CHOICES] if len(p[1]) <= MAX_CHOICE_TEXT]
