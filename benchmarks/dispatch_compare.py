"""Dispatch throughput of several checkouts, measured in turns (a noisy machine slows them all
alike): for each round, each tree and each language mix runs the loop of
:mod:`benchmarks.dispatch` in a fresh process; the best run of each is reported (messages/s
and CPU µs per message of the throughput pass).

Older checkouts work too: the loop is this file's, the commands and messages each tree's own
(a tree whose benchmark has no ``LANGUAGES`` is measured in English only). Each tree runs on
its own ``.venv/bin/python`` when it has one, so two interpreters can be compared too.
Run: .venv/bin/python benchmarks/dispatch_compare.py --rounds 6 /tmp/before19 /tmp/main .
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIXES = {"en": ["--english"], "5": []}


async def _loop(n: int, english: bool) -> tuple[float, float]:
    """One benchmark run in this process (the tree is on ``sys.path``): (msg/s, CPU µs)."""
    from benchmarks import dispatch as bench
    from benchmarks.memory_adapter import MemoryAdapter
    from chatbot.base.config import parse_config
    from chatbot.messages.events import Incoming, Member, Room
    from chatbot.runtime.bot import Bot
    from commands import basics, members

    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(bench.CONFIG.format(path=Path(tmp) / "bench.db"))
        adapter = MemoryAdapter(organisers=frozenset({"memory:org"}))
        modules = [basics.module, members.module, bench.bench_module()]
        bot = Bot(config, clock=bench.SteppingClock(), adapters=[adapter], modules=modules)
        await bot.open()
        rng = random.Random(7)
        people = [Member(f"memory:m{i}", "memory", f"m{i}") for i in range(50)]
        people.append(Member("memory:org", "memory", "org"))
        rooms = [Room(f"memory:#r{i}", "memory", f"#r{i}") for i in range(10)]
        for i, person in enumerate(people[:25]):
            await bot.members.update(person, zone=("Africa/Lagos", "Asia/Manila")[i % 2])
        if not english:
            languages = bench.LANGUAGES
            for i, person in enumerate(people):
                await bot.members.update(person, lang=languages[i % len(languages)])
        messages = [
            Incoming("memory", rng.choice(people), rng.choice(rooms), rng.choice(bench.MIX))
            for _ in range(n)
        ]
        for msg in messages[:2000]:
            await bot.handle(msg)
        gc.collect()
        gc.freeze()
        handle = bot.handle
        start, cpu = time.perf_counter_ns(), time.process_time_ns()
        for msg in messages:
            await handle(msg)
        wall = (time.perf_counter_ns() - start) / 1e9
        cpu_us = (time.process_time_ns() - cpu) / n / 1000
        await bot.close()
    return n / wall, cpu_us


def _has_languages(tree: str) -> bool:
    return "LANGUAGES = " in (Path(tree) / "benchmarks" / "dispatch.py").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs="*", help="checkouts to compare (paths)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--run", help=argparse.SUPPRESS)  # a child: the mix to run here
    args = parser.parse_args()
    if args.run is not None:
        rate, cpu = asyncio.run(_loop(args.messages, args.run == "en"))
        print(f"{rate:.0f} {cpu:.2f}")
        return
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for _round in range(args.rounds):
        for tree in args.trees:
            for mix in MIXES:
                if mix != "en" and not _has_languages(tree):
                    continue
                env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
                # each tree's own interpreter where it has a .venv (the interpreter is part of
                # what is compared), else this one
                own = Path(tree) / ".venv" / "bin" / "python"
                python = str(own) if own.exists() else sys.executable
                command = [python, __file__, "--run", mix, "--messages", str(args.messages)]
                out = subprocess.run(command, env=env, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"{tree} ({mix}) failed:\n{out.stderr}")
                rate, cpu = map(float, out.stdout.split())
                rate0, cpu0 = best.get((tree, mix), (0.0, float("inf")))
                best[tree, mix] = (max(rate, rate0), min(cpu, cpu0))
    print(f"best of {args.rounds} interleaved rounds, {args.messages} messages each")
    for (tree, mix), (rate, cpu) in best.items():
        label = "English" if mix == "en" else "five languages"
        print(f"{tree:30s} {label:15s} {rate:9,.0f} msg/s  CPU {cpu:5.1f} µs/msg")


if __name__ == "__main__":
    main()
