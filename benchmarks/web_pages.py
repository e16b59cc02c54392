"""The public pages under load: 200 published case studies and 50 meetings on SQLite, the
web app in one process (aiohttp), loaded over loopback from another process.

The server is a child process (``--serve``) that seeds its own temporary database.  The
load comes from ``wrk`` when it is installed (Debian's package), else from an aiohttp
client loop in this process; either way it is bounded in requests and seconds and goes to
127.0.0.1 only.  Requests rotate over the meetings page, the gallery (plain, searched, page
2), every study's page, the JSON and CSV exports and the Atom feed.

Run: .venv/bin/python -m benchmarks.web_pages [--seconds 25] [--connections 32]
     [--client auto|wrk|python] [--ttl 10]   (``--ttl 0``: every request rendered anew)
Targets (one server process, 2 shared cores): >= 1,000 requests/s, p99 <= 50 ms.
Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STUDIES = 200
MEETINGS = 50
TARGET_RPS = 1000.0
TARGET_P99_MS = 50.0
ZONES = ("Europe/London", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Manila", "Africa/Nairobi")
COUNTRIES = ("KE", "GB", "BR", "IN", "PH", "FR", "DE", "ID", "US", "MX")
PROJECTS = ("wikipedia", "wikidata", "commons", "wikisource")


def record(i: int) -> dict[str, object]:
    return {
        "title": f"Case study number {i} of libraries",
        "institution": f"Library {i} of the county",
        "institution_qid": f"Q{1000 + i}",
        "library_type": ("public", "academic", "national", "special")[i % 4],
        "country": COUNTRIES[i % len(COUNTRIES)],
        "languages": ["en"],
        "projects": [PROJECTS[i % len(PROJECTS)]],
        "activities": ["editathon"],
        "activities_other": None,
        "start": f"{2018 + i % 8}-0{1 + i % 9}",
        "end": None if i % 3 else f"{2018 + i % 8}-12",
        "summary": "A summary of what the library did with Wikimedia projects. " * 6,
        "outcomes": {"participants": i, "citations_added": 3 * i},
        "outcomes_note": None,
        "links": [f"https://dashboard.example.org/courses/{i}"],
        "lessons": "Start small, work with the local Wikimedians." * 3,
        "credit": f"User:Librarian{i}",
        "contact": None,
        "consent": True,
        "licence": "CC-BY-SA-4.0",
    }


async def serve(folder: Path, ttl: float) -> None:
    """The child: seed, serve on a free loopback port, print it, run until stdin closes."""
    from aiohttp import web

    from adapters.console import ConsoleAdapter
    from chatbot.base.clock import FakeClock
    from chatbot.base.config import parse_config
    from chatbot.runtime.bot import Bot
    from chatbot.web.app import create_app
    from chatbot.web.pages import PageCache
    from commands import basics, casestudies, meetings
    from commands.casestudies.store import CaseStudyStore
    from commands.meetings.store import CONFIRMED, MeetingRow

    config = parse_config(
        f'[bot]\ndatabase = "sqlite:///{folder}/bench.db"\nadapters = ["console"]\n'
        "[web]\nenabled = true\nport = 0\npublic_pages = true\n"
    )

    class Clock(FakeClock):
        """Fixed dates, real monotonic time (the page cache's expiry is real)."""

        def monotonic(self) -> float:
            return time.monotonic()

    clock = Clock(NOW)
    adapter = ConsoleAdapter(config, stdin=io.StringIO(""), stdout=io.StringIO())
    bot = Bot(
        config,
        clock=clock,
        adapters=[adapter],
        modules=[basics.module, meetings.module, casestudies.module],
    )
    await bot.open()
    bot.services["web_pages"] = PageCache(clock.monotonic, ttl)
    store = CaseStudyStore(bot.db)
    async with bot.db.session() as session:
        for i in range(1, STUDIES + 1):
            row = await store.submit(session, f"console:m{i}", f"m{i}", record(i), NOW)
            for action in ("claim", "accept", "publish"):
                await store.move(session, row, action, "console:ana", NOW)
        for i in range(MEETINGS):
            start = NOW + timedelta(days=1 + i, hours=i % 12)
            session.add(
                MeetingRow(
                    title=f"Meeting {i}",
                    start_local=start.strftime("%Y-%m-%dT%H:%M"),
                    zone=ZONES[i % len(ZONES)],
                    rule="" if i % 2 else "weeks:2",
                    exdates="[]",
                    duration_minutes=60,
                    link="https://meet.example.org/x",
                    rooms="[]",
                    state=CONFIRMED,
                    generation=0,
                    created_by="console:ana",
                    created_at=NOW - timedelta(days=30),
                    updated_at=NOW,
                )
            )
    runner = web.AppRunner(create_app(bot), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(int(runner.addresses[0][1]), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await bot.close()


def paths() -> list[str]:
    found = [
        "/meetings",
        "/casestudies",
        "/casestudies?page=2",
        "/casestudies?country=KE",
        "/casestudies?q=library&project=wikidata",
        "/casestudies.json",
        "/casestudies.csv",
        "/casestudies.atom",
    ]
    found += [f"/casestudies/{i}" for i in range(1, STUDIES + 1)]
    return found


async def warm(base: str, wanted: list[str]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for path in wanted:
            async with http.get(base + path) as response:
                body = await response.read()
                if response.status != 200:
                    raise SystemExit(f"{path}: {response.status} {body[:200]!r}")


async def python_load(
    base: str, wanted: list[str], seconds: float, connections: int, limit: int
) -> tuple[int, list[float], float]:
    """An aiohttp client loop: ``connections`` workers, at most ``limit`` requests."""
    import aiohttp

    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(limit))
    rng = random.Random(3)

    async def worker(http: aiohttp.ClientSession) -> None:
        for _ in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            async with http.get(base + rng.choice(wanted)) as response:
                await response.read()
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(connections)))
        elapsed = time.perf_counter() - t0
    return len(latencies), latencies, elapsed


def wrk_load(base: str, wanted: list[str], seconds: float, connections: int) -> tuple[float, float]:
    """Requests/s and p99 (ms) from wrk, rotating over ``wanted``."""
    script = (
        "local paths = {"
        + ",".join(json.dumps(p) for p in wanted)
        + "}\n"
        + (
            "local i = 0\nrequest = function()\n  i = i % #paths + 1\n"
            '  return wrk.format("GET", paths[i])\nend\n'
        )
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                lua.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    found = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    if found is None:
        raise SystemExit(f"no p99 in wrk's output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses:\n{out}")
    return rps, float(found.group(1)) * scale


def main(seconds: float, connections: int, client: str, ttl: float) -> int:
    with tempfile.TemporaryDirectory(prefix="chatbot-bench-web-") as folder:
        server = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.web_pages", "--serve", folder, "--ttl", str(ttl)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            base = f"http://127.0.0.1:{port}"
            wanted = paths()
            asyncio.run(warm(base, wanted))
            use_wrk = client == "wrk" or (client == "auto" and shutil.which("wrk"))
            if use_wrk:
                rps, p99 = wrk_load(base, wanted, seconds, connections)
                how = f"wrk, {connections} connections"
            else:
                count, latencies, elapsed = asyncio.run(
                    python_load(base, wanted, seconds, connections, limit=200_000)
                )
                rps = count / elapsed
                p99 = statistics.quantiles(latencies, n=100)[98] * 1000
                how = f"aiohttp client in another process, {connections} connections"
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(
        f"public pages ({STUDIES} published studies, {MEETINGS} meetings, SQLite, one aiohttp "
        f"process, pages reused for {ttl:g} s; {len(wanted)} paths rotated; {how}, "
        f"{seconds:.0f} s): "
        f"{rps:,.0f} requests/s, p99 {p99:.1f} ms"
    )
    ok_rps, ok_p99 = rps >= TARGET_RPS, p99 <= TARGET_P99_MS
    print(
        f"targets: >= {TARGET_RPS:,.0f} requests/s {'PASS' if ok_rps else 'FAIL'}, "
        f"p99 <= {TARGET_P99_MS:.0f} ms {'PASS' if ok_p99 else 'FAIL'}"
    )
    return 0 if ok_rps and ok_p99 else 1


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument(
        "--seconds", type=float, default=25.0, help="at least 2 TTLs: refreshes included"
    )
    cli.add_argument("--connections", type=int, default=32)
    cli.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    cli.add_argument(
        "--ttl", type=float, default=10.0, help="seconds a rendered page is reused (0: never)"
    )
    cli.add_argument("--serve", metavar="DIR", help=argparse.SUPPRESS)
    args = cli.parse_args()
    if args.serve:
        asyncio.run(serve(Path(args.serve), args.ttl))
        sys.exit(0)
    sys.exit(main(args.seconds, args.connections, args.client, args.ttl))
