"""Messages per second through the whole pipeline, and per-message latency.

Parse, route, flood check, permission, converters, handler, rendering, and the reply handed
to an in-memory adapter, for 20,000 mixed messages over about 20 registered commands.
Members write in five languages (a fifth each chose es, fr, pt, de with ``!lang``), so
replies go through the message catalogs as they do for the group; ``--english`` keeps
every member in English, for comparison.
Run: .venv/bin/python -m benchmarks.dispatch [--messages 20000] [--english]
Target (2 shared cores): >= 50,000 messages/s, p99 <= 90 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple

from benchmarks import interpreter
from benchmarks.memory_adapter import MemoryAdapter
from chatbot.base.clock import FakeClock
from chatbot.base.config import parse_config
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import Incoming, Member, Plain, Reply, Room, When
from chatbot.runtime.bot import Bot
from commands import basics, members

CONFIG = """
[bot]
database = "sqlite:///{path}"
adapters = []
commands = []
[ratelimit]
member_rate = 1000000.0
member_burst = 1000000
room_rate = 1000000.0
room_burst = 1000000
[permissions]
organisers = ["memory:org"]
"""


def bench_module() -> Module:
    module = Module("bench", "Synthetic commands of every argument kind.")

    @module.command(help="Echo.")
    async def echo(ctx: Context, text: str) -> Reply:
        return Reply.of("You said: ", Plain(text))

    @module.command(help="Sum.")
    async def add(ctx: Context, a: int, b: int = 0) -> str:
        return str(a + b)

    @module.command(help="Vote.")
    async def vote(ctx: Context, choice: Literal["yes", "no", "maybe"]) -> str:
        return f"noted: {choice}"

    @module.command(help="Timer.")
    async def timer(ctx: Context, span: timedelta) -> Reply:
        return Reply.of("Ends at ", When(ctx.now() + span), ".")

    @module.command(help="Organisers only.", level=Level.ORGANISER)
    async def publish(ctx: Context, number: int) -> str:
        return f"published {number}"

    @module.command(help="Now in your zone.")
    async def now(ctx: Context) -> Reply:
        return Reply.of("It's ", When(ctx.now()), ".")

    grp = module.group("item", "Items.")

    @grp.command(default=True, help="Show.")
    async def show(ctx: Context, number: int) -> str:
        return f"item {number}"

    @grp.command(help="Rename.")
    async def rename(ctx: Context, number: int, title: str) -> Reply:
        return Reply.of(f"item {number} is now ", Plain(title))

    @grp.command(help="List.")
    async def list_(ctx: Context) -> str:
        return "items: 1, 2, 3"

    for i in range(6):

        async def filler(ctx: Context, text: str = "", _i: int = i) -> str:
            return f"filler {_i}"

        module.command(name=f"filler{i}", help="Filler.")(filler)
    return module


class SteppingClock(FakeClock):
    """Moves 50 ms forward each time it is read, so every reply renders a new instant (as with
    a real clock) at no cost to the loop being measured."""

    def now(self) -> datetime:
        self._now += _TICK
        return self._now


_TICK = timedelta(milliseconds=50)


MIX = [
    "!ping",
    "!echo hello world",
    "!add 2 40",
    "!vote yes",
    "!timer 1h30m",
    "!now",
    "!item 12",
    '!item rename 3 "Wiki Loves Libraries"',
    "!item list",
    "!filler3 x",
    "!publish 7",
    "!tz",
    "!pnig",
    "!add two",
    "just chatting, not a command",
    "!echo «unicode» ü 図書館",
    "!vote perhaps",
    "!help ping",
    "!about",
    "!lang",
]


LANGUAGES = (None, "es", "fr", "pt", "de")


class Bench(NamedTuple):
    bot: Bot
    adapter: MemoryAdapter
    people: list[Member]
    rooms: list[Room]


async def open_bench(folder: Path, english: bool = False) -> Bench:
    """The measured bot (its database in ``folder``), opened, with 51 members (half with a
    zone; a fifth each in es, fr, pt, de unless ``english``) and 10 rooms."""
    config = parse_config(CONFIG.format(path=folder / "bench.db"))
    adapter = MemoryAdapter(organisers=frozenset({"memory:org"}))
    bot = Bot(
        config,
        clock=SteppingClock(),
        adapters=[adapter],
        modules=[basics.module, members.module, bench_module()],
    )
    await bot.open()
    people = [Member(f"memory:m{i}", "memory", f"m{i}") for i in range(50)]
    people.append(Member("memory:org", "memory", "org"))
    rooms = [Room(f"memory:#r{i}", "memory", f"#r{i}") for i in range(10)]
    for i, person in enumerate(people[:25]):
        await bot.members.update(person, zone=("Africa/Lagos", "Asia/Manila")[i % 2])
    if not english:
        for i, person in enumerate(people):
            await bot.members.update(person, lang=LANGUAGES[i % len(LANGUAGES)])
    return Bench(bot, adapter, people, rooms)


async def main(n: int, english: bool = False, passes: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bot, adapter, people, rooms = await open_bench(Path(tmp), english)
        rng = random.Random(7)
        messages = [
            Incoming("memory", rng.choice(people), rng.choice(rooms), rng.choice(MIX))
            for _ in range(n)
        ]
        for msg in messages[:2000]:  # warm caches (member prefs, zone objects)
            await bot.handle(msg)
        adapter.sent.clear()
        gc.collect()
        gc.freeze()
        handle = bot.handle
        clock_ns = time.perf_counter_ns
        # throughput: nothing in the loop but the pipeline, `passes` times over (a shared
        # machine's hiccups last a fraction of a second: the median pass is the figure)
        rates: list[float] = []
        cpus: list[float] = []
        for _pass in range(passes):
            start, cpu_start = clock_ns(), time.process_time_ns()
            for msg in messages:
                await handle(msg)
            rates.append(n / ((clock_ns() - start) / 1e9))
            cpus.append((time.process_time_ns() - cpu_start) / n / 1000)  # µs CPU a message
        # then the latency of each message
        lat: list[int] = []
        for msg in messages:
            t0 = clock_ns()
            await handle(msg)
            lat.append(clock_ns() - t0)
        await bot.close()
    lat.sort()
    commands = len(bot.registry.all_commands())
    mix = "English only" if english else "members in en, es, fr, pt, de"
    print(f"interpreter: {interpreter()}")
    replies = len(adapter.sent) // (passes + 1)
    print(f"messages: {n}, commands registered: {commands}, replies: {replies}, {mix}")
    print("passes: " + ", ".join(f"{rate:,.0f}" for rate in rates) + " messages/s")
    print(
        f"throughput: {statistics.median(rates):,.0f} messages/s, median of {passes} passes "
        f"(best {max(rates):,.0f}; CPU {statistics.median(cpus):.1f} µs per message)"
    )
    print(
        f"latency: median {statistics.median(lat) / 1000:.1f} µs, "
        f"p99 {lat[int(len(lat) * 0.99)] / 1000:.1f} µs, max {lat[-1] / 1000:.1f} µs"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--english", action="store_true", help="every member in English")
    parser.add_argument("--passes", type=int, default=3, help="throughput passes (median shown)")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.english, args.passes))
