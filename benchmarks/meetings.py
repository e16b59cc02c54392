"""Rendering one meeting announcement for 10,000 members, each in their own zone.

Each member gets the reminder DM of :func:`commands.meetings.render.dm_payloads`: the text
with only their own local time, encoded as the outbox payload.  Members are spread over
random IANA zones (seeded); the Babel run gives each a random language as well.  Timed as
the reminder job does it (members sharing a zone and language share a rendering), and, for
information, with one rendering per member.  Then the date-phrase figures of
:mod:`benchmarks.timeparse` are printed too.

Run: .venv/bin/python -m benchmarks.meetings [--members 10000] [--repeat 5] [--phrase-rounds 50]
Targets (2 shared cores): plain <= 0.12 s, with Babel <= 0.5 s.  Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import available_timezones

from chatbot.time.format import format_when
from chatbot.time.zones import zone_from_key
from commands.meetings.render import dm_payloads, dm_text

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AT = datetime(2027, 3, 31, 14, 0, tzinfo=UTC)
LANGS = ("fr", "es", "pt-BR", "id", "de", "ar", "ja", "sw", "hi", "ru", "tl", "en")

Member = tuple[str, str, str | None, str | None]


def usable_zones() -> list[str]:
    zones = []
    for key in sorted(available_timezones()):
        try:
            zone_from_key(key)
        except Exception:
            continue
        zones.append(key)
    return zones


def make_members(count: int, langs: bool, seed: int = 7) -> list[Member]:
    rng = random.Random(seed)
    zones = usable_zones()
    return [
        (
            f"matrix:@m{i}:example.org",
            f"m{i}",
            rng.choice(zones),
            rng.choice(LANGS) if langs else None,
        )
        for i in range(count)
    ]


def render_all(members: list[Member]) -> int:
    out = dm_payloads(
        12, "Open meeting (Europe/Africa)", AT, "https://meet.example/x", 15, members, NOW
    )
    return len(out)


def render_each(members: list[Member]) -> int:
    for _id, _name, zone, lang in members:
        dm_text("Open meeting (Europe/Africa)", AT, zone, lang, 15, None, NOW)
    return len(members)


def best_of(fn: Callable[[list[Member]], int], members: list[Member], repeat: int) -> float:
    fn(members[:50])  # warm-up: zone and locale caches, Babel import
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(members)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(count: int, repeat: int, phrase_rounds: int) -> int:
    plain = make_members(count, langs=False)
    babel = make_members(count, langs=True)
    zones = len({m[2] for m in plain})
    t_plain = best_of(render_all, plain, repeat)
    t_babel = best_of(render_all, babel, repeat)
    e_plain = best_of(render_each, plain, repeat)
    e_babel = best_of(render_each, babel, repeat)
    sample = format_when(AT, "Asia/Kathmandu", "full", "fr", now=NOW)
    print(
        f"one announcement for {count} members in {zones} random zones (median of {repeat}): "
        f"plain {t_plain:.3f} s, with Babel ({len(LANGS)} languages) {t_babel:.3f} s"
    )
    print(
        f"  information, one rendering per member (no sharing): plain {e_plain:.3f} s, "
        f"with Babel {e_babel:.3f} s; e.g. {sample!r}"
    )
    ok_plain, ok_babel = t_plain <= 0.12, t_babel <= 0.5
    print(
        f"targets: plain <= 0.12 s {'PASS' if ok_plain else 'FAIL'}, "
        f"Babel <= 0.5 s {'PASS' if ok_babel else 'FAIL'}"
    )
    status = 0 if ok_plain and ok_babel else 1
    if phrase_rounds > 0:
        from benchmarks import timeparse

        print("date phrases (benchmarks.timeparse):")
        status |= timeparse.main(phrase_rounds)
    return status


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--members", type=int, default=10_000)
    cli.add_argument("--repeat", type=int, default=5)
    cli.add_argument("--phrase-rounds", type=int, default=50)
    args = cli.parse_args()
    sys.exit(main(args.members, args.repeat, args.phrase_rounds))
