"""Finding adapters and command modules through entry points.

The core never imports a platform or a feature by name: a third-party package can add one
by declaring an entry point in ``chatbot.adapters`` or ``chatbot.commands``, and a
subcommand of the ``chatbot`` command line in ``chatbot.cli`` (a :class:`CliCommand`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import msgspec

from chatbot.base.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from chatbot.dispatch.registry import Module

ADAPTERS = "chatbot.adapters"
COMMANDS = "chatbot.commands"
CLI = "chatbot.cli"


class CliCommand(msgspec.Struct, frozen=True):
    """A subcommand a module adds to ``chatbot`` (entry point group ``chatbot.cli``).

    ``main(argv, config_path)`` gets the arguments after the subcommand's name (``-c FILE``
    already taken out) and returns the exit status; ``module`` names the command module it
    belongs to, so that a missing extra is reported clearly before it runs."""

    help: str
    main: Callable[[list[str], str], int]
    module: str = ""


@cache
def _ours() -> dict[str, dict[str, Any]]:
    """Every entry point of our groups, by group and name: one scan of all installed
    distributions (about 7 ms here) serves the adapters, the modules and the subcommands,
    where a scan per group cost start-up one scan more."""
    every = entry_points()
    return {g: {ep.name: ep for ep in every.select(group=g)} for g in (ADAPTERS, COMMANDS, CLI)}


def available(group: str) -> dict[str, Any]:
    """The group's entry points by name (cached: start-up loads one per enabled module)."""
    return _ours()[group]


def load(group: str, name: str) -> Any:
    found = available(group)
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        kind = {ADAPTERS: "adapter", COMMANDS: "command module", CLI: "subcommand"}[group]
        raise ConfigError(
            f"there is no {kind} called '{name}' (available: {known}). "
            "Install its extra, e.g. pip install 'wmlib-chatbot[matrix]'."
        )
    try:
        return found[name].load()
    except ImportError as exc:
        raise ConfigError(
            f"the {name} plugin needs a package that is not installed ({exc.name}). "
            f"Install it with: pip install 'wmlib-chatbot[{name}]'"
        ) from None


def migration_locations(names: list[str], also: Path | None = None) -> list[Path]:
    """The migration folders of the enabled modules, plus ``also`` (a caller's own):
    Alembic must know every revision the database has recorded.

    A module's own command-line tool passes ``also``; then a module that cannot load here
    does not block the tool, whose own folder is enough for its tables."""
    try:
        folders = [m.migrations for m in load_modules(names) if m.migrations]
    except Exception:
        if also is None:
            raise
        return [also]
    return folders if also is None or also in folders else [*folders, also]


def load_modules(names: list[str]) -> list[Module]:
    from chatbot.dispatch.registry import Module

    modules = []
    for name in names:
        obj = load(COMMANDS, name)
        if not isinstance(obj, Module):
            raise ConfigError(f"command entry point '{name}' is not a chatbot Module")
        modules.append(obj)
    return modules
