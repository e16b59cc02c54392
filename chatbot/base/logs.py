"""Structured logging: key=value lines by default, JSON by option, secrets never printed.

Logs go to stderr, so the console adapter can own stdout for the chat itself.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

#: structlog imports these, when installed, for its developer console renderer, which we never
#: use (we render key=value or JSON); rich alone added about 0.1 s to start-up
_PRETTY_PRINTERS = ("rich", "better_exceptions", "colorama")


def _import_structlog() -> Any:
    blocked = [name for name in _PRETTY_PRINTERS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail fast
    try:
        import structlog
    finally:
        for name in blocked:
            del sys.modules[name]  # whoever needs them later imports them as usual
    return structlog


if TYPE_CHECKING:
    import structlog
else:
    structlog = _import_structlog()

_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key")
_secret_values: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret's value so it is masked wherever it would appear in a log line."""
    if len(value) >= 6:
        _secret_values.add(value)


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(s in key.casefold() for s in _SECRET_KEYS):
            event[key] = "***"
        elif _secret_values and isinstance(event[key], str):
            value = event[key]
            for secret in _secret_values:
                if secret in value:
                    value = value.replace(secret, "***")
            event[key] = value
    return event


def configure(level: str = "info", fmt: str = "keyvalue", stream: Any = None) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "event"], drop_missing=True
        )
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=True,
    )
    # libraries that use stdlib logging (SQLAlchemy, nio, discord.py) go to stderr too
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=stream or sys.stderr)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
