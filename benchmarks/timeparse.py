"""Date-phrase parsing time: cold first call, then steady state.

Every phrase the bot must read (``tomorrow 9am Europe/Paris``, ``Friday 18h CET``, ``in 2
hours``…) for an organiser in Paris and one in Manila, with and without a zone in the phrase,
``now`` fixed at Wednesday 2026-11-25 12:00 UTC.  Prints how many parsed to the expected instant,
the cold times (import, first phrase, first phrase that needs dateparser), then median / p90 /
p99 per phrase after warm-up.  A second, informational line times phrases that only dateparser
reads (``tonight 8pm``).

Run: .venv/bin/python -m benchmarks.timeparse [--rounds 200]
Target (2 shared cores): median <= 1.5 ms, p90 <= 3 ms.  Exit status 1 when a target or an
expected instant is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ZONES = ("Europe/Paris", "Asia/Manila")

# Phrase naming its zone → expected UTC instant (the same for both organisers).
NAMED = {
    "tomorrow 9am Europe/Paris": "2026-11-26 08:00",
    "2026-12-03 14:00 America/New_York": "2026-12-03 19:00",
    "Saturday 20:00 Europe/Berlin": "2026-11-28 19:00",
    "next week Wednesday 14:00 GMT+2": "2026-12-02 12:00",
    "Friday 18h CET": "2026-11-27 17:00",
    "friday 18h CET": "2026-11-27 17:00",
    "next Tuesday at 15:00 UTC": "2026-12-01 15:00",
    "next Monday 10:30 PST": "2026-11-30 18:30",
    "in 2 hours UTC": "2026-11-25 14:00",
    "in 30 minutes Asia/Manila": "2026-11-25 12:30",
    "tomorrow at noon Asia/Manila": "2026-11-26 04:00",
    "3 December 2026 at 4pm America/New_York": "2026-12-03 21:00",
    "12/05/2026 09:00 Asia/Manila": "2026-05-12 01:00",
    "15:00 UTC": "2026-11-25 15:00",
}
# Phrase read in the organiser's zone → expected instant in Paris, in Manila.
OWN_ZONE = {
    "tomorrow 9am": ("2026-11-26 08:00", "2026-11-26 01:00"),
    "2026-12-03 14:00": ("2026-12-03 13:00", "2026-12-03 06:00"),
    "Saturday 20:00": ("2026-11-28 19:00", "2026-11-28 12:00"),
    "next week Wednesday 14:00": ("2026-12-02 13:00", "2026-12-02 06:00"),
    "Friday 18h": ("2026-11-27 17:00", "2026-11-27 10:00"),
    "next Tuesday at 15:00": ("2026-12-01 14:00", "2026-12-01 07:00"),
    "next Monday 10:30": ("2026-11-30 09:30", "2026-11-30 02:30"),
    "in 2 hours": ("2026-11-25 14:00", "2026-11-25 14:00"),
    "in 30 minutes": ("2026-11-25 12:30", "2026-11-25 12:30"),
    "tomorrow at noon": ("2026-11-26 11:00", "2026-11-26 04:00"),
    "3 December 2026 at 4pm": ("2026-12-03 15:00", "2026-12-03 08:00"),
    "12/05/2026 09:00": ("2026-05-12 07:00", "2026-05-12 01:00"),
    "15:00": ("2026-11-25 14:00", "2026-11-26 07:00"),
}
# Shapes our grammar leaves to dateparser (timed for information, not against the target).
DATEPARSER_ONLY = ("tonight 8pm", "tomorrow evening", "this afternoon 3pm", "noon friday CET")


def cases() -> list[tuple[str, str, datetime]]:
    """(phrase, organiser zone, expected instant) for every phrase and organiser."""
    out: list[tuple[str, str, datetime]] = []
    for index, zone in enumerate(ZONES):
        for phrase, expected in NAMED.items():
            out.append((phrase, zone, _utc(expected)))
        for phrase, by_zone in OWN_ZONE.items():
            out.append((phrase, zone, _utc(by_zone[index])))
    return out


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def _time_all(
    parse: Callable[[str, str], datetime], work: list[tuple[str, str]], rounds: int
) -> list[float]:
    timings: list[float] = []
    clock = time.perf_counter
    for _ in range(rounds):
        for phrase, zone in work:
            start = clock()
            parse(phrase, zone)
            timings.append(clock() - start)
    timings.sort()
    return timings


def main(rounds: int) -> int:
    t0 = time.perf_counter()
    from chatbot.base.errors import BadArgument
    from chatbot.time import parse as timeparse
    from chatbot.time import phrase_dateparser

    import_time = time.perf_counter() - t0

    def parse(phrase: str, zone: str) -> datetime:
        return timeparse.parse_when_sync(phrase, zone_key=zone, now=NOW)

    table = cases()
    t0 = time.perf_counter()
    parse(table[0][0], table[0][1])
    first_grammar = time.perf_counter() - t0
    loaded_before = phrase_dateparser.loaded()
    t0 = time.perf_counter()
    parse(DATEPARSER_ONLY[0], ZONES[0])
    first_dateparser = time.perf_counter() - t0

    correct, wrong = 0, []
    for phrase, zone, expected in table:
        try:
            got: datetime | str = parse(phrase, zone)
        except BadArgument as exc:
            got = f"refused: {exc.message}"
        if got == expected:
            correct += 1
        else:
            wrong.append(f"  {phrase!r} in {zone}: expected {expected.isoformat()}, got {got}")

    work = [(phrase, zone) for phrase, zone, _ in table]
    grammar_read = sum(
        isinstance(timeparse._analyse(p, z, NOW, "DMY", False), timeparse.Parsed) for p, z in work
    )
    _time_all(parse, work, 3)  # warm-up
    steady = _time_all(parse, work, rounds)
    fallback_work = [(phrase, zone) for phrase in DATEPARSER_ONLY for zone in ZONES]
    _time_all(parse, fallback_work, 3)
    fallback = _time_all(parse, fallback_work, max(1, rounds // 4))

    median, p90 = statistics.median(steady), _percentile(steady, 0.90)
    print(
        f"phrases: {len(table)} ({len(NAMED) + len(OWN_ZONE)} phrases x {len(ZONES)} organiser "
        f"zones), parsed to the expected instant: {correct}/{len(table)}; read by our grammar: "
        f"{grammar_read}/{len(table)}, the rest by dateparser"
    )
    for line in wrong:
        print(line)
    print(
        f"cold: import chatbot.time.parse {_ms(import_time)}; first phrase "
        f"{_ms(first_grammar)}; first phrase needing dateparser {_ms(first_dateparser)} "
        f"(imports and builds it{'' if not loaded_before else '; was already loaded'})"
    )
    print(
        f"steady state, {rounds} rounds ({len(steady)} parses): median {_ms(median)}, "
        f"p90 {_ms(p90)}, p99 {_ms(_percentile(steady, 0.99))}, max {_ms(steady[-1])}"
    )
    print(
        f"dateparser-only phrases (information), {len(fallback)} parses: median "
        f"{_ms(statistics.median(fallback))}, p90 {_ms(_percentile(fallback, 0.90))}"
    )
    ok_median, ok_p90 = median <= 0.0015, p90 <= 0.003
    print(
        f"targets: median <= 1.5 ms {'PASS' if ok_median else 'FAIL'}, "
        f"p90 <= 3 ms {'PASS' if ok_p90 else 'FAIL'}"
    )
    return 0 if ok_median and ok_p90 and not wrong else 1


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--rounds", type=int, default=200)
    sys.exit(main(cli.parse_args().rounds))
