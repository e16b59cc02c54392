"""Running Alembic from inside the bot (start-up, ``chatbot db upgrade``) on a live connection.

Imported only when the schema needs checking, so ``chatbot --help`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(locations: Sequence[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def upgrade(connection: Connection, locations: Sequence[Path]) -> list[str]:
    """Upgrade to every head; returns the revisions now current.  A no-op when up to date."""
    cfg = alembic_config(locations)
    script = ScriptDirectory.from_config(cfg)
    context = MigrationContext.configure(connection)
    current = set(context.get_current_heads())
    heads = set(script.get_heads())
    if current != heads:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
        current = set(MigrationContext.configure(connection).get_current_heads())
    return sorted(current)
