"""Instructions from process start to "ready" (console adapter, the example config).

Start-up time on a shared 2-core machine swings by 1.5x from one minute to the next;
callgrind's instruction count does not. This starts the real ``chatbot run`` under valgrind,
with a stand-in for stderr that ends the process (``os._exit``) the moment the ``ready`` log
line is written, and prints the count. A first run, not counted, writes the bytecode caches
and creates the database, as the first start on a machine does.
Needs valgrind (Debian package ``valgrind``).
Run: .venv/bin/python -m benchmarks.startup_instructions
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import interpreter

ROOT = Path(__file__).resolve().parent.parent

#: runs inside the measured process: the bot's own CLI, ended at its ready line
RUNNER = """
import io, os, sys
class UntilReady(io.TextIOBase):
    def write(self, text):
        if "event='ready'" in text:
            os._exit(0)
        return len(text)
sys.stderr = UntilReady()
sys.argv = ["chatbot", "run", "-c", sys.argv[1]]
from chatbot.runtime.cli import main
main()
"""


def count(config: Path, cwd: Path) -> int:
    """Instructions callgrind counted in one start, up to ready."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            RUNNER,
            str(config),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        text = (ROOT / "config.example.toml").read_text()
        text = text.replace('level = "warning"', 'level = "info"')
        config = Path(tmp) / "config.toml"
        config.write_text(text.replace("sqlite:///data/chatbot.db", f"sqlite:///{tmp}/bot.db"))
        count(config, Path(tmp))  # not counted: bytecode caches, the database
        total = count(config, Path(tmp))
    print(f"instructions from start to ready, console adapter, {interpreter()}:")
    print(f"  {total / 1e9:.3f} G")


if __name__ == "__main__":
    main()
