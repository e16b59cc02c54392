"""Wall time and peak memory from process start to "ready" with the console adapter.

Starts the real `chatbot run` (console adapter, SQLite, the example config) several times,
waits for the `ready` log line, then ends it by closing stdin.
Run: .venv/bin/python -m benchmarks.startup [--runs 5]
Target (2 shared cores): <= 0.6 s and <= 100 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import interpreter

ROOT = Path(__file__).resolve().parent.parent


def one_run(config: Path, cwd: Path) -> tuple[float, float]:
    # as installed for real: bytecode caches written and used (some shells disable them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot", "run", "-c", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        text=True,
    )
    assert proc.stderr is not None and proc.stdin is not None
    for line in proc.stderr:
        if "event='ready'" in line or '"event": "ready"' in line:
            break
    else:
        raise SystemExit("the bot exited before it was ready")
    ready = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ready, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main(runs: int, cold: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        text = (ROOT / "config.example.toml").read_text()
        text = text.replace('level = "warning"', 'level = "info"')
        results = []
        warm = Path(tmp) / "config-warm.toml"
        warm_db = Path(tmp) / ("warm.db" if cold else "bot.db")
        warm.write_text(text.replace("sqlite:///data/chatbot.db", f"sqlite:///{warm_db}"))
        # not counted: writes the bytecode caches and the parsed knowledge base (in the user's
        # cache directory), like a first start, and (unless --cold) creates the database the
        # counted runs reuse, as every start after the first does
        one_run(warm, Path(tmp))
        for i in range(runs):
            db = Path(tmp) / (f"bot{i}.db" if cold else "bot.db")
            config = Path(tmp) / "config.toml"
            config.write_text(text.replace("sqlite:///data/chatbot.db", f"sqlite:///{db}"))
            results.append(one_run(config, Path(tmp)))
    times = [r[0] for r in results]
    peak = max(r[1] for r in results)
    kind = "fresh database each run" if cold else "existing database"
    print(f"start-up to ready, console adapter, {kind}, {runs} runs, {interpreter()}:")
    print(
        f"  median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s, peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="migrate a new database each run")
    args = parser.parse_args()
    main(args.runs, args.cold)
