"""CPU time to render one typical reply as Discord markdown and as Matrix content.

A meeting post with user text that needs escaping (a title with markdown, a link, ten
member names with brackets), already translated, as the adapters get it.  CPU time (best of
seven rounds), so other work on the machine matters less.
Run: .venv/bin/python -m benchmarks.render [--calls 3000]
Two trees compared, interleaved (the project's venv python; a tree without this file can run
a copy of it, as it imports only the renderers):
  for i in 1 2 3; do for t in /work/main /work/wt/escape; do
    (cd $t && PYTHONPATH=$t python /tmp/render_bench.py); done; done
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from adapters.discord.render import render
from adapters.matrix.render import render_content
from chatbot.base.i18n import _
from chatbot.messages.events import Bullets, Outgoing, Plain, Reader, Reply, Room, When
from chatbot.messages.localise import localise


def typical() -> Outgoing:
    room = Room("matrix:!r:example.org", "matrix", "!r:example.org")
    at = datetime(2026, 12, 7, 15, tzinfo=UTC)
    title = Plain("APAC open call_2 **x**")
    reply = Reply.of(
        _("**Meeting #{number}**: {title} — {when}", number="3", title=title, when=When(at)),
        "\n",
        _("Join: {link}", link=Plain("https://meet.example/room_a")),
        "\n",
        Bullets(tuple((Plain(f"member_{i} [x](y)"),) for i in range(10))),
        "\n",
        _("Type `{prefix}help` to see what I can do.", prefix="!"),
    )
    return localise(Outgoing(room, reply, Reader("Europe/Paris", "en"), sent_at=at))


def best_of(fn: Callable[[], Any], rounds: int, calls: int) -> float:
    """The fastest round's CPU microseconds per call."""
    fn()
    best = float("inf")
    for _round in range(rounds):
        start = time.process_time()
        for _call in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    out = typical()
    for name, fn in (
        ("discord", lambda: render(out.reply)),
        ("matrix", lambda: render_content(out, "!")),
    ):
        print(f"{name}: {best_of(fn, 7, args.calls):.1f} µs/reply (CPU, best of 7)")


if __name__ == "__main__":
    main()
