"""Files in the user's cache directory that spare a later start work an earlier one did: the
places index (:mod:`chatbot.time.places`), the parsed knowledge base (the FAQ module).

Data goes through :mod:`marshal` (fast, in the standard library, runs no code on load) and is
written atomically (a temporary file renamed over the old one).  A file that is missing,
damaged or cannot be written only costs that work again: nothing here ever raises.
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any

#: marshal's format follows Python's: files of another version are never read
PY_TAG = "py" + "".join(map(str, sys.version_info[:2]))


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/wmlib-chatbot`` (``~/.cache/wmlib-chatbot`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wmlib-chatbot"


def read(path: Path) -> Any:
    """What :func:`write` stored at ``path``, or None if it is missing or unreadable (the
    caller checks its shape: the file is outside the program)."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write(path: Path, data: Any) -> None:
    """Store ``data`` (marshallable values only) at ``path``, atomically; failures are
    silent (an unwritable cache directory only costs the next start the work again)."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps(data))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError):
        pass
