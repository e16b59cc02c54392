"""Instructions per message through the dispatch pipeline, overall and per command.

Wall-clock throughput (benchmarks/dispatch.py) swings by 1.5-2x on a shared 2-core machine;
instruction counts do not. This runs the same bot, members and mix as benchmarks/dispatch.py
under valgrind's callgrind, counting only inside the measured loops (each runs from a ctypes
call, inside libffi's ``ffi_call``, which callgrind is told to toggle on and dump after), and prints
thousands of instructions per message: the whole random mix first, then each command alone.
Compare two checkouts by running it in each. Needs valgrind (Debian package ``valgrind``).
Run: .venv/bin/python -m benchmarks.dispatch_instructions [--per-command 200]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import glob
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import __main__

MIXED = 4000
COUNTED = "ffi_call"  # libffi's entry, which a ctypes call goes through: the loops run inside


def measure(per_command: int) -> None:
    """The loops callgrind counts (run inside valgrind)."""
    from benchmarks import dispatch as d
    from chatbot.messages.events import Incoming

    loop = asyncio.new_event_loop()
    folder = tempfile.TemporaryDirectory()
    bot, _adapter, people, rooms = loop.run_until_complete(d.open_bench(Path(folder.name)))
    rng = random.Random(7)

    async def run(messages: list[Incoming]) -> None:
        for msg in messages:
            await bot.handle(msg)

    def counted(messages: list[Incoming]) -> None:
        # run from a ctypes call, inside libffi's ffi_call, which callgrind counts inside: a
        # named symbol even beside a stripped distribution interpreter, and nothing in the loop
        # calls through ctypes
        __main__.counted_loop = lambda: loop.run_until_complete(run(messages))
        ctypes.pythonapi.PyRun_SimpleStringFlags(b"counted_loop()", None)

    mixed = [
        Incoming("memory", rng.choice(people), rng.choice(rooms), rng.choice(d.MIX))
        for _ in range(MIXED)
    ]
    loop.run_until_complete(run(mixed))  # warm: caches, member preferences
    counted(mixed)
    for text in d.MIX:
        same = [Incoming("memory", people[k % 50], rooms[k % 10], text) for k in range(per_command)]
        loop.run_until_complete(run(same))
        counted(same)
    loop.run_until_complete(bot.close())
    folder.cleanup()


def main(per_command: int) -> None:
    from benchmarks import dispatch as d

    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as out:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                f"--toggle-collect={COUNTED}",
                f"--dump-after={COUNTED}",
                f"--callgrind-out-file={out}/cg",
                sys.executable,
                "-m",
                "benchmarks.dispatch_instructions",
                "--inside",
                "--per-command",
                str(per_command),
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        dumps = sorted(glob.glob(f"{out}/cg.*"), key=lambda f: int(f.rsplit(".", 1)[1]))
        totals = [_total(Path(f)) for f in dumps]
    print("instructions per message (thousands), members in en, es, fr, pt, de:")
    print(f"  {totals[0] / MIXED / 1000:6.1f}  the benchmark's random mix ({MIXED} messages)")
    for text, total in zip(d.MIX, totals[1:], strict=True):
        print(f"  {total / per_command / 1000:6.1f}  {text}")


def _total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"no totals in {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-command", type=int, default=200)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        measure(args.per_command)
    else:
        main(args.per_command)
