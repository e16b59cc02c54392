"""Wall time and memory from process start to "ready" with the console adapter.

Starts the real `chatbot run` (console adapter, SQLite, the example config) several times,
waits for the `ready` log line, then ends it by closing stdin.
Run: .venv/bin/python -m benchmarks.startup [--runs 5]
Target (2 shared cores): <= 0.6 s and <= 100 MB.

``--compare TREE [TREE ...]`` starts each checkout's own bot with its own ``.venv`` in turns,
round after round, so that two trees (or two interpreters) meet the same busy moments.
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


def one_run(config: Path, cwd: Path, python: str = sys.executable) -> tuple[float, float, float]:
    """(seconds to ready, MB resident at ready, MB peak of the children so far)."""
    # as installed for real: bytecode caches written and used (some shells disable them)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-m", "chatbot", "run", "-c", str(config)],
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
    at_ready = _resident_mb(proc.pid)
    proc.stdin.close()
    proc.wait(timeout=30)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ready, at_ready, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _resident_mb(pid: int) -> float:
    """The process's resident memory now (Linux); what it holds once ready, before the
    work it defers until after ready (the FAQ index, the places warm-up) adds to it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    at_ready = statistics.median(r[1] for r in results)
    peak = max(r[2] for r in results)
    kind = "fresh database each run" if cold else "existing database"
    print(f"start-up to ready, console adapter, {kind}, {runs} runs, {interpreter()}:")
    print(
        f"  median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s; resident at ready {at_ready:.1f} MB, peak {peak:.0f} MB"
    )


def compare(trees: list[Path], runs: int) -> None:
    """Interleaved: round r starts tree 1, tree 2, ... in turn; medians per tree."""
    times: dict[Path, list[float]] = {tree: [] for tree in trees}
    resident: dict[Path, list[float]] = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory() as tmp:
        configs = {}
        for i, tree in enumerate(trees):
            text = (tree / "config.example.toml").read_text()
            text = text.replace('level = "warning"', 'level = "info"')
            configs[tree] = Path(tmp) / f"config{i}.toml"
            configs[tree].write_text(
                text.replace("sqlite:///data/chatbot.db", f"sqlite:///{tmp}/bot{i}.db")
            )
        pythons = {tree: str(tree / ".venv" / "bin" / "python") for tree in trees}
        for tree in trees:  # not counted: bytecode caches, the database
            one_run(configs[tree], tree, pythons[tree])
        for _round in range(runs):
            for tree in trees:
                ready, at_ready, _peak = one_run(configs[tree], tree, pythons[tree])
                times[tree].append(ready)
                resident[tree].append(at_ready)
    print(f"start-up to ready, console adapter, {runs} interleaved rounds:")
    for tree, values in times.items():
        version = subprocess.run(
            [pythons[tree], "-c", "from benchmarks import interpreter; print(interpreter())"],
            cwd=tree,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(
            f"  {tree}: median {statistics.median(values):.3f} s, min {min(values):.3f} s, "
            f"max {max(values):.3f} s, resident at ready "
            f"{statistics.median(resident[tree]):.1f} MB, {version or 'interpreter unknown'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="migrate a new database each run")
    parser.add_argument("--compare", nargs="+", type=Path, metavar="TREE", help=compare.__doc__)
    args = parser.parse_args()
    if args.compare:
        compare([tree.resolve() for tree in args.compare], args.runs)
    else:
        main(args.runs, args.cold)
