"""Slash commands for the shipped command modules: what members and organisers see in
Discord's command picker, and syncing them only when they changed."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Literal

import pytest

from adapters.discord.choice_names import CHOICE_NAMES, UNTRANSLATED
from adapters.discord.slash import (
    DISCORD_LOCALES,
    MANAGE_EVENTS,
    build_slash,
    choice_suggestions,
    command_text,
    describe,
    held_matches,
)
from chatbot.base.clock import FakeClock
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Command, Group, Level, Module, Registry
from chatbot.messages.localise import text_in
from commands import announce, basics, casestudies, faq, meetings, members
from tests.discord_fake import FakeDiscord
from tests.discord_helpers import StartBot, main_guild
from tests.harness import open_chat

pytest_plugins = ["tests.discord_fixtures"]

SHIPPED = (basics, members, faq, announce, meetings, casestudies)


@pytest.fixture(scope="module")
def registry() -> Registry:
    registry = Registry()
    for feature in SHIPPED:
        registry.add_module(feature.module)
    return registry


def payload(payloads: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(p for p in payloads if p["name"] == name)


def subcommands(command: dict[str, Any]) -> set[str]:
    return {o["name"] for o in command["options"] if o["type"] == 1}


def all_descriptions(options: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for option in options:
        found.append(option["description"])
        found += all_descriptions(option.get("options", []))
    return found


def test_internal_entry_points_are_not_slash_commands(registry: Registry) -> None:
    """`casestudy formsubmit` receives the form's answers: no `/casestudy formsubmit`."""
    slash = build_slash(registry)
    names = set().union(*(subcommands(p) for p in slash.payloads if p["name"].startswith("case")))
    assert "form" in names and "formsubmit" not in names
    assert not any(sub == "formsubmit" for _, sub in slash.targets)


def test_descriptions_are_plain_text(registry: Registry) -> None:
    """No markdown marks or escapes show in the picker: Discord shows descriptions as is."""
    slash = build_slash(registry)
    for text in all_descriptions(slash.payloads):
        assert not any(mark in text for mark in ("`", "\\", "**", "__")), text
    assert describe("Receives the answers of \\`casestudy form\\` (__not__ **typed**)", "-") == (
        "Receives the answers of casestudy form (not typed)"
    )


def test_organiser_commands_are_hidden_from_members_in_the_picker(registry: Registry) -> None:
    """A command only organisers may run carries `default_member_permissions` (Manage
    Events), so members don't see it; a group mixing both keeps its members' subcommands
    under its own name and moves the organisers' ones to `/<group>-organiser`."""
    slash = build_slash(registry)
    for command in slash.payloads:
        targets = [t for (top, _), t in slash.targets.items() if top == command["name"]]
        levels = {t.command.level for t in targets}
        if levels == {Level.MEMBER}:
            assert command.get("default_member_permissions") is None, command["name"]
        else:
            assert levels == {Level.ORGANISER}, command["name"]
            assert command["default_member_permissions"] == str(MANAGE_EVENTS), command["name"]
    assert payload(slash.payloads, "announce")["default_member_permissions"] == str(MANAGE_EVENTS)
    meeting = payload(slash.payloads, "meeting")
    assert subcommands(meeting) == {"show", "ics"}
    organising = payload(slash.payloads, "meeting-organiser")
    assert subcommands(organising) == {"add", "confirm", "edit", "cancel", "minutes"}
    assert "add" in subcommands(payload(slash.payloads, "faq-organiser"))
    assert "accept" in subcommands(payload(slash.payloads, "casestudy-organiser"))
    add = slash.target("meeting-organiser", "add")
    assert add is not None
    assert command_text(add, {"title": "Open call", "details": "friday 15:00"}) == (
        'meeting add "Open call" "friday 15:00"'
    )
    every = {c.qualified_name for c in _visible_commands(registry)}
    routed = {t.command.qualified_name for t in slash.targets.values()}
    assert routed == every  # every visible command is still reachable, once


def _visible_commands(registry: Registry) -> list[Command]:
    found: list[Command] = []
    seen: set[int] = set()
    for module in registry.modules.values():
        for item in module.commands.values():
            if id(item) in seen:
                continue  # an alias
            seen.add(id(item))
            if isinstance(item, Group):
                found += [c for c in item.commands() if not c.hidden]
            elif not item.hidden:
                found.append(item)
    return found


def test_what_discord_holds_is_compared_with_its_defaults(registry: Registry) -> None:
    """Discord answers with ids, versions and defaults of its own, and leaves out options
    that are false: the same commands still count as the same."""
    ours = build_slash(registry).payloads

    def as_discord(command: dict[str, Any], index: int) -> dict[str, Any]:
        def option(o: dict[str, Any]) -> dict[str, Any]:
            held = {k: v for k, v in o.items() if v is not False and k != "options"}
            if o.get("options"):
                held["options"] = [option(x) for x in o["options"]]
            return held

        held = option(command)
        held.update(
            id=str(1000 + index),
            application_id="42",
            version="7",
            nsfw=False,
            contexts=None,
            integration_types=[0],
            name_localizations=None,
        )
        # asked with_localizations=true, Discord gives the maps back (null where none)
        held.setdefault("description_localizations", None)
        held.setdefault("default_member_permissions", None)
        return held

    held = [as_discord(c, i) for i, c in enumerate(reversed(ours))]
    assert held_matches(ours, held)
    changed = [dict(c) for c in held]
    changed[0]["description"] = "An old description"
    assert not held_matches(ours, changed)
    assert not held_matches(ours, held[1:])
    assert not held_matches(ours, [*held, {"name": "stale", "type": 1, "description": "x"}])
    # a translation that changed (or Discord not holding any yet) is a change too
    localised = next(i for i, c in enumerate(held) if c["description_localizations"])
    stale = [dict(c) for c in held]
    stale[localised]["description_localizations"] = {"fr": "Une ancienne description"}
    assert not held_matches(ours, stale)
    stale[localised]["description_localizations"] = None
    assert not held_matches(ours, stale)


def all_choices(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for option in options:
        found += option.get("choices", [])
        found += all_choices(option.get("options", []))
    return found


def test_every_choice_of_the_shipped_commands_is_named_in_every_language(
    registry: Registry,
) -> None:
    """Each fixed choice a member picks from (`/rsvp answer:`, `/faq-organiser edit
    field:`…) is named in all five Discord locales, unless it is a format name (`csv`);
    its value is still the word the command takes."""
    choices = [c for p in build_slash(registry).payloads for c in all_choices(p["options"])]
    assert {c["value"] for c in choices} >= {"yes", "near_misses", "on", "title", "csv"}
    for choice in choices:
        if choice["value"] in UNTRANSLATED:
            assert choice == {"name": choice["value"], "value": choice["value"]}
            continue
        assert choice["value"] in CHOICE_NAMES, f"name {choice['value']!r} in choice_names.py"
        names = choice.get("name_localizations", {})
        # the catalog's word in each locale (only the ones that differ from English are sent:
        # French says "question" too)
        for locale, lang in DISCORD_LOCALES.items():
            shown = names.get(locale, choice["name"])
            assert shown == text_in(CHOICE_NAMES[choice["value"]], lang), (locale, choice)
    field = next(c for c in choices if c["value"] == "near_misses")
    assert field["name"] == "near misses"
    assert field["name_localizations"]["de"] == "ähnliche Fragen"


def test_a_changed_choice_translation_is_a_change(registry: Registry) -> None:
    """Discord holding a choice's older name (or none) in one locale means a sync."""
    ours = build_slash(registry).payloads
    held = copy.deepcopy(ours)
    assert held_matches(ours, held)
    rsvp = next(c for c in held if c["name"] == "rsvp")
    answer = next(o for o in rsvp["options"] if o.get("choices"))
    answer["choices"][0]["name_localizations"]["fr"] = "ouais"
    assert not held_matches(ours, held)
    del answer["choices"][0]["name_localizations"]
    assert not held_matches(ours, held)


def test_autocompleted_choices_are_named_in_the_apps_language() -> None:
    """Discord ignores name_localizations in autocomplete answers: a long list of choices
    is named in the interaction's locale instead, matched by either word, same values."""
    options = ("on", "off", "csv")
    assert choice_suggestions(options, "", "es-419") == [
        ("activar", "on"),
        ("desactivar", "off"),
        ("csv", "csv"),
    ]
    assert choice_suggestions(options, "aus", "de") == [("aus", "off")]
    assert choice_suggestions(options, "off", "de") == [("aus", "off")]
    assert choice_suggestions(options, "o", "en-US") == [("on", "on"), ("off", "off")]


async def test_help_does_not_list_internal_entry_points(sqlite_url: str, clock: FakeClock) -> None:
    """`!help casestudy` lists `casestudy form`, not the command that receives its answers."""
    chat = await open_chat(sqlite_url, clock, modules=[basics.module, casestudies.module])
    try:
        listing = await chat.say("!help casestudy")
    finally:
        await chat.bot.close()
    assert "!casestudy form" in listing and "formsubmit" not in listing


# ------------------------------------------------------------------ syncing on start

GUILD_COMMANDS = "/applications/{application_id}/guilds/{guild_id}/commands"


async def test_commands_are_synced_only_when_they_change(
    discord_fake: FakeDiscord, start_bot: StartBot, tmp_path: Path
) -> None:
    """The first start overwrites the guild's commands; a restart with the same commands
    only reads them back; a fresh database finds Discord holding them already; a command
    removed in Discord, or a changed set of commands, is synced again."""
    fake = discord_fake
    guild = main_guild(fake)
    async with start_bot():
        pass
    assert len(fake.command_syncs) == 1
    organise = next(c for c in fake.guild_commands[guild.id] if c["name"] == "organise")
    assert organise["default_member_permissions"] == str(MANAGE_EVENTS)
    ping = next(c for c in fake.guild_commands[guild.id] if c["name"] == "ping")
    assert ping["default_member_permissions"] is None

    async with start_bot():
        pass
    async with start_bot(url=f"sqlite:///{tmp_path / 'fresh.db'}"):
        pass
    assert len(fake.command_syncs) == 1
    reads = [r for r in fake.requests if r.method == "GET" and r.route == GUILD_COMMANDS]
    assert len(reads) == 3
    assert [r.method for r in fake.requests if r.route == GUILD_COMMANDS].count("PUT") == 1

    fake.guild_commands[guild.id].pop()  # someone deleted one in Discord
    async with start_bot():
        pass
    assert len(fake.command_syncs) == 2
    async with start_bot(modules=[basics.module]):
        pass
    assert len(fake.command_syncs) == 3
    assert set(fake.command_syncs[-1].names) == {"help", "ping", "about"}


def all_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for option in options:
        if option["type"] in (1, 2):
            found += all_options(option.get("options", []))
        else:
            found.append(option)
    return found


def test_options_are_named_in_the_apps_language(registry: Registry) -> None:
    """The picker names `/rsvp`'s options as `!help rsvp` does in the member's language
    (`número`, `réponse`); the option's own name, which interactions carry, stays English,
    and every name is one Discord takes (lower case, no spaces, 1-32 characters)."""
    payloads = build_slash(registry).payloads
    rsvp = {o["name"]: o for o in payload(payloads, "rsvp")["options"]}
    assert rsvp["number"]["name_localizations"] == {
        "es-ES": "número",
        "es-419": "número",
        "fr": "numéro",
        "pt-BR": "número",
        "de": "nummer",
    }
    assert rsvp["answer"]["name_localizations"]["fr"] == "réponse"
    tz = payload(payloads, "tz")
    zone = next(o for o in all_options(tz["options"]) if o["name"] == "zone")
    assert zone["name_localizations"]["de"] == "zeitzone"
    names = [
        name
        for p in payloads
        for o in all_options(p["options"])
        for name in (o.get("name_localizations") or {}).values()
    ]
    assert len(names) > 100
    assert all(re.fullmatch(r"[-_\w]{1,32}", n) and n == n.lower() for n in names), names


def test_two_options_named_alike_in_a_language_keep_their_english_names_there() -> None:
    """`kind` and `view` are both "formato" in Spanish (and "format" in French, "Format" in
    German): Discord refuses two options of one name, so the second keeps its English name
    there."""
    module = Module("clash", "x")

    @module.command(help="x")
    async def pick(ctx: Context, kind: Literal["a"], view: Literal["b"]) -> str:
        return kind + view

    registry = Registry()
    registry.add_module(module)
    kind, view = payload(build_slash(registry).payloads, "pick")["options"]
    assert kind["name_localizations"]["es-ES"] == "formato"
    assert kind["name_localizations"]["de"] == "format"
    assert view["name"] == "view" and "name_localizations" not in view
