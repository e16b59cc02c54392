"""How date phrases written blind (by a helper who saw no code) are read, per language.

``benchmarks/data/phrases_blind.tsv``: phrase, language, the member's zone, the instant it
means, all at "now" = 2026-11-25 12:00 UTC.  Each phrase is read as ``!when`` reads it, with
the member's ``!lang`` set to the phrase's language and without (the bot's default).
Run: .venv/bin/python -m benchmarks.phrases_blind [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from chatbot.base.errors import BadArgument
from chatbot.time.parse import parse_when_sync

DATA = Path(__file__).with_name("data") / "phrases_blind.tsv"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    rows = [line.split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()[1:]]
    results: dict[str, dict[str, float]] = {}
    for with_lang in (True, False):
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for phrase, lang, zone, expected in rows:
            total[lang] += 1
            try:
                got = parse_when_sync(
                    phrase, zone_key=zone, now=NOW, lang=lang if with_lang else None
                ).isoformat()
            except BadArgument as exc:
                got = f"refused: {str(exc)[:70]}"
            if got == expected.strip():
                right[lang] += 1
            elif args.show_misses:
                print(f"  {lang} {zone:20} {phrase!r}: expected {expected.strip()}, got {got}")
        label = "with !lang" if with_lang else "without !lang"
        shares = {lang: round(right[lang] / total[lang], 3) for lang in sorted(total)}
        results[label] = shares
        print(
            f"{label}: "
            + ", ".join(f"{k} {v:.0%} ({right[k]}/{total[k]})" for k, v in shares.items())
        )
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
