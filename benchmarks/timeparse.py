"""Date-phrase parsing time: cold first call, then steady state.

Every phrase the bot must read (``tomorrow 9am Europe/Paris``, ``Friday 18h CET``, ``in 2
hours``…) for an organiser in Paris and one in Manila, with and without a zone in the phrase,
``now`` fixed at Wednesday 2026-11-25 12:00 UTC.  Prints how many parsed to the expected instant,
the cold times (import, first phrase, first phrase that needs dateparser), then median / p90 /
p99 per phrase after warm-up.  A second, informational line times phrases that only dateparser
reads (``tonight 8pm``), and one line per other language (es, fr, pt, de) the phrases in that
language (``mañana a las 18h``, ``demain 9h``, ``amanhã às 18:00``, ``morgen um 18 Uhr``): their
median for a member without ``!lang`` (English is tried first, then es, fr, pt, de in turn) and
for one whose ``!lang`` is that language.  Every phrase must parse to its expected instant.

Run: .venv/bin/python -m benchmarks.timeparse [--rounds 200]
Target (2 shared cores): median <= 1.5 ms, p90 <= 3 ms.  Exit status 1 when a target or an
expected instant is missed.
"""

from __future__ import annotations

import argparse
import functools
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
# Phrases in the other languages → expected instant in Paris, in Manila (information).
OTHER_LANGUAGES = {
    "es": {
        "mañana a las 18h": ("2026-11-26 17:00", "2026-11-26 10:00"),
        "viernes 18h": ("2026-11-27 17:00", "2026-11-27 10:00"),
        "el próximo lunes a las 10:30": ("2026-11-30 09:30", "2026-11-30 02:30"),
        "3 de diciembre de 2026 a las 16h": ("2026-12-03 15:00", "2026-12-03 08:00"),
        "dentro de 2 horas": ("2026-11-25 14:00", "2026-11-25 14:00"),
        "pasado mañana a las 9": ("2026-11-27 08:00", "2026-11-27 01:00"),
        "sábado a las 8 de la tarde": ("2026-11-28 19:00", "2026-11-28 12:00"),
    },
    "fr": {
        "demain 9h": ("2026-11-26 08:00", "2026-11-26 01:00"),
        "vendredi 18h": ("2026-11-27 17:00", "2026-11-27 10:00"),
        "lundi prochain à 10h30": ("2026-11-30 09:30", "2026-11-30 02:30"),
        "le 3 décembre 2026 à 16h": ("2026-12-03 15:00", "2026-12-03 08:00"),
        "dans 2 heures": ("2026-11-25 14:00", "2026-11-25 14:00"),
        "après-demain à 9h": ("2026-11-27 08:00", "2026-11-27 01:00"),
        "samedi soir à 20h": ("2026-11-28 19:00", "2026-11-28 12:00"),
    },
    "pt": {
        "amanhã às 18:00": ("2026-11-26 17:00", "2026-11-26 10:00"),
        "sexta-feira 18h": ("2026-11-27 17:00", "2026-11-27 10:00"),
        "próxima segunda às 10h30": ("2026-11-30 09:30", "2026-11-30 02:30"),
        "3 de dezembro de 2026 às 16h": ("2026-12-03 15:00", "2026-12-03 08:00"),
        "daqui a 2 horas": ("2026-11-25 14:00", "2026-11-25 14:00"),
        "depois de amanhã às 9h": ("2026-11-27 08:00", "2026-11-27 01:00"),
        "sábado às 8 da noite": ("2026-11-28 19:00", "2026-11-28 12:00"),
    },
    "de": {
        "morgen um 18 Uhr": ("2026-11-26 17:00", "2026-11-26 10:00"),
        "Freitag 18 Uhr": ("2026-11-27 17:00", "2026-11-27 10:00"),
        "nächsten Montag um 10:30": ("2026-11-30 09:30", "2026-11-30 02:30"),
        "am 3. Dezember 2026 um 16 Uhr": ("2026-12-03 15:00", "2026-12-03 08:00"),
        "in 2 Stunden": ("2026-11-25 14:00", "2026-11-25 14:00"),
        "übermorgen um 9 Uhr": ("2026-11-27 08:00", "2026-11-27 01:00"),
        "Samstag um 8 Uhr abends": ("2026-11-28 19:00", "2026-11-28 12:00"),
    },
}


def cases() -> list[tuple[str, str, datetime]]:
    """(phrase, organiser zone, expected instant) for every phrase and organiser."""
    out: list[tuple[str, str, datetime]] = []
    for index, zone in enumerate(ZONES):
        for phrase, expected in NAMED.items():
            out.append((phrase, zone, _utc(expected)))
        for phrase, by_zone in OWN_ZONE.items():
            out.append((phrase, zone, _utc(by_zone[index])))
    return out


def language_cases(language: str) -> list[tuple[str, str, datetime]]:
    """(phrase, organiser zone, expected instant) for one other language's phrases."""
    return [
        (phrase, zone, _utc(by_zone[index]))
        for index, zone in enumerate(ZONES)
        for phrase, by_zone in OTHER_LANGUAGES[language].items()
    ]


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

    def parse(phrase: str, zone: str, lang: str | None = None) -> datetime:
        return timeparse.parse_when_sync(phrase, zone_key=zone, now=NOW, lang=lang)

    table = cases()
    t0 = time.perf_counter()
    parse(table[0][0], table[0][1])
    first_grammar = time.perf_counter() - t0
    loaded_before = phrase_dateparser.loaded()
    t0 = time.perf_counter()
    parse(DATEPARSER_ONLY[0], ZONES[0])
    first_dateparser = time.perf_counter() - t0

    wrong: list[str] = []

    def check(rows: list[tuple[str, str, datetime]], lang: str | None = None) -> int:
        correct = 0
        for phrase, zone, expected in rows:
            try:
                got: datetime | str = parse(phrase, zone, lang)
            except BadArgument as exc:
                got = f"refused: {exc.message}"
            if got == expected:
                correct += 1
            else:
                shown = f" (!lang {lang})" if lang else ""
                wrong.append(
                    f"  {phrase!r} in {zone}{shown}: expected {expected.isoformat()}, got {got}"
                )
        return correct

    correct = check(table)

    work = [(phrase, zone) for phrase, zone, _ in table]
    grammar_read = sum(
        isinstance(timeparse._analyse(p, z, NOW, "DMY", False), timeparse.Parsed) for p, z in work
    )
    _time_all(parse, work, 3)  # warm-up
    steady = _time_all(parse, work, rounds)
    fallback_work = [(phrase, zone) for phrase in DATEPARSER_ONLY for zone in ZONES]
    _time_all(parse, fallback_work, 3)
    fallback = _time_all(parse, fallback_work, max(1, rounds // 4))
    languages: list[str] = []
    for language in OTHER_LANGUAGES:
        rows = language_cases(language)
        right = check(rows) + check(rows, language)
        lang_work = [(phrase, zone) for phrase, zone, _ in rows]
        _time_all(parse, lang_work, 3)
        plain = _time_all(parse, lang_work, max(1, rounds // 4))
        own = _time_all(functools.partial(parse, lang=language), lang_work, max(1, rounds // 4))
        languages.append(
            f"{language} phrases, {len(plain)} parses: median {_ms(statistics.median(plain))} "
            f"(p90 {_ms(_percentile(plain, 0.90))}); with !lang {language}: median "
            f"{_ms(statistics.median(own))}; expected instant {right}/{2 * len(rows)}"
        )

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
    for line in languages:
        print(line)
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
