"""Structured logging: key=value lines by default, JSON by option, secrets never printed.

Secrets are masked on the finished text of every line (:func:`mask`, run after rendering),
so they stay hidden inside tracebacks, nested values and the libraries' own records.

Logs go to stderr, so the console adapter can own stdout for the chat itself.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from datetime import UTC, datetime
from types import TracebackType
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
#: in finished text: a secret-sounding key (``"password": "x"``, ``access_token=x``) and
#: credentials after an auth scheme (``Bearer x``, Discord's ``Bot x``)
_KEYED = re.compile(
    r"""(?ix)
    (\b(?:access_token|refresh_token|token|password|passwd|secret|api_key|authorization)
     ["']?\s*[:=]\s*["']?)
    (?!\*\*\*)(?:(?:bearer|bot)\s+)?[^\s"'&,;}\]]+
    """
)
_SCHEME = re.compile(r"(?i)\b(bearer|bot)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{12,}")


def register_secret(value: str) -> None:
    """Remember a secret's value so it is masked wherever it would appear in a log line."""
    if len(value) >= 6:
        _secret_values.add(value)


def mask(text: str) -> str:
    """``text`` with every registered secret, and every value of a secret-sounding key,
    replaced by ``***``: run on each finished line, tracebacks included."""
    for secret in sorted(_secret_values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    text = _KEYED.sub(r"\1***", text)
    return _SCHEME.sub(r"\1 ***", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "***" if isinstance(k, str) and _secret_key(k) else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_redact_value(v) for v in value)
    return value


def _secret_key(key: str) -> bool:
    lowered = key.casefold()
    return any(s in lowered for s in _SECRET_KEYS)


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Values under secret-sounding keys, at any depth (the finished line is masked again
    by :func:`mask`, which also catches secrets inside other values and tracebacks)."""
    for key in list(event):
        if _secret_key(key):
            event[key] = "***"
        else:
            event[key] = _redact_value(event[key])
    return event


def _mask_line(_logger: Any, _name: str, line: Any) -> Any:
    return mask(line) if isinstance(line, str) else line


class MaskingFormatter(logging.Formatter):
    """Renders the libraries' stdlib records (discord.py, nio, aiohttp, SQLAlchemy) like the
    bot's own lines, then masks the finished text, traceback included."""

    def __init__(self, renderer: Any) -> None:
        super().__init__()
        self.renderer = renderer

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            event["exception"] = record.exc_text
        return mask(str(self.renderer(None, record.levelname.lower(), event)))


#: the root handler :func:`configure` installed, replaced when it is called again
_handler: logging.Handler | None = None


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was set up: a
    caller that swaps it (a test's capture, a daemon's redirect) and closes the old one
    must not leave the logs writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "info", fmt: str = "keyvalue", stream: Any = None) -> None:
    global _handler
    numeric = getattr(logging, level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "event"], drop_missing=True
        )
    )
    out: Any = stream or _CurrentStderr()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            renderer,
            _mask_line,  # last: on the finished text, so nothing is formatted after it
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    # libraries that use stdlib logging (SQLAlchemy, nio, discord.py, aiohttp) go to the
    # same stream, rendered and masked the same way
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(out)
    _handler.setFormatter(MaskingFormatter(renderer))
    root.addHandler(_handler)
    root.setLevel(max(numeric, logging.WARNING))
    sys.excepthook = _masked_excepthook


def _masked_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """A crash's traceback goes to stderr masked like any log line."""
    sys.stderr.write(mask("".join(traceback.format_exception(kind, value, tb))))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
