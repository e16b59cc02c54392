"""What the package's background workers (outbox, scheduler, leases) share.

Each names its process in the rows it claims or holds (:func:`instance_name`), and waits
through an injected :data:`Sleep` (the real one is :func:`wait_for_event`) so that tests move a
fake clock instead of sleeping.  A module of its own so that the scheduler and the leases need
not import the outbox for two small helpers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Awaitable, Callable

Sleep = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_for_event(event: asyncio.Event, seconds: float) -> None:
    """The real wait: until ``event`` is set or ``seconds`` have passed."""
    if event.is_set():
        return
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()
    except TimeoutError:
        pass


def instance_name() -> str:
    """A name for this process in ``claimed_by``: host, pid and a random tag."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{secrets.token_hex(3)}"
