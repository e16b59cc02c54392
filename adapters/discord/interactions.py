"""Slash commands, their autocomplete, and command buttons: each runs a registry command
as the member who used it, answered through the core exactly like a typed command."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import discord

from adapters.discord.base import (
    BUTTON_EXPIRED,
    MAX_CUSTOM_ID,
    ButtonItem,
    Interaction,
    digest,
    owner_of,
    trim,
)
from adapters.discord.mentions import Mentions
from adapters.discord.slash import (
    STRING,
    choice_suggestions,
    command_text,
    read_options,
    zone_suggestions,
)
from chatbot.base.i18n import _
from chatbot.base.logs import get_logger
from chatbot.dispatch.converters import Choice

log = get_logger("adapters.discord")

UNKNOWN_SLASH = _("I don't know this command any more. Discord may still be updating its list.")
_BUTTON_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


class CommandButton(
    discord.ui.DynamicItem[ButtonItem],
    template=re.compile(r"wmlib:(?P<kind>cmd|ref):(?P<value>.+)", re.DOTALL),
):
    """A button that runs a command as the member who clicks it (survives restarts)."""

    def __init__(self, custom_id: str, label: str = "…", style: str = "secondary") -> None:
        # the label is given (translated) when the button is sent; one rebuilt from its
        # custom id only runs its callback
        super().__init__(
            discord.ui.Button(
                label=label[:80] or "…",
                style=_BUTTON_STYLES.get(style, discord.ButtonStyle.secondary),
                custom_id=custom_id,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CommandButton:
        return cls(match.group(0))

    async def callback(self, interaction: Interaction) -> None:
        await owner_of(interaction, Interactions)._on_command_button(interaction, self.custom_id)


class Interactions(Mentions):
    """Slash commands and command buttons."""

    async def _on_slash(self, interaction: Interaction) -> None:
        data = cast(Mapping[str, Any], interaction.data or {})
        sub, values, _focused = read_options(data)
        target = self.slash.target(str(data.get("name", "")), sub)
        if target is None:
            await self._say(interaction, UNKNOWN_SLASH)
            return
        for option in target.options:  # what a member typed; users come as user options
            value = values.get(option.name)
            if option.kind == STRING and isinstance(value, str):
                values[option.name] = await self._readable(value, interaction.guild)
        text = self.prefix + command_text(target, values)
        incoming = self._interaction_incoming(interaction, text)
        await self._run_interaction(interaction, incoming, private=target.command.private)

    async def _on_autocomplete(self, interaction: Interaction) -> None:
        data = cast(Mapping[str, Any], interaction.data or {})
        sub, values, focused = read_options(data)
        target = self.slash.target(str(data.get("name", "")), sub)
        option = target.option(focused) if target is not None and focused else None
        typed = str(values.get(focused or "") or "")
        pairs: list[tuple[str, str]] = []
        if option is not None and option.complete == "zone":
            pairs = zone_suggestions(typed)
        elif option is not None and isinstance(option.param.converter, Choice):
            pairs = choice_suggestions(
                option.param.converter.options, typed, str(interaction.locale)
            )
        choices = [discord.app_commands.Choice(name=name, value=value) for name, value in pairs]
        await interaction.response.autocomplete(choices)

    def _button_id(self, command: str) -> str:
        """A button's custom id: the command itself, or a reference to it when too long
        (such a button then works until a restart)."""
        custom_id = f"wmlib:cmd:{command}"
        if len(custom_id) <= MAX_CUSTOM_ID:
            return custom_id
        key = digest(command)
        self._long_commands[key] = command
        trim(self._long_commands)
        log.warning("discord_button_command_too_long", command=command[:60])
        return f"wmlib:ref:{key}"

    async def _on_command_button(self, interaction: Interaction, custom_id: str) -> None:
        kind, _, value = custom_id.removeprefix("wmlib:").partition(":")
        command = self._long_commands.get(value) if kind == "ref" else value
        if command is None:
            await self._say(interaction, BUTTON_EXPIRED)
            return
        resolved = self._command_of(command)
        incoming = self._interaction_incoming(interaction, self.prefix + command)
        private = resolved is not None and resolved.command.private
        await self._run_interaction(interaction, incoming, private=private)
