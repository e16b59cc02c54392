"""The core's layering holds, and the contract that checks it fails when someone breaks it.

``lint-imports`` (import-linter, configured in ``pyproject.toml``) also runs in ``.ci/test``;
these tests show the contracts bite: an import that breaks a layer or crosses a plugin
boundary, added to a copy of the tree, makes it fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = [
    sys.executable,
    "-c",
    "from importlinter.cli import lint_imports_command; lint_imports_command()",
]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for name in ("chatbot", "adapters", "commands"):
        shutil.copytree(
            ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.toml")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_contracts_hold_on_the_tree() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a lower layer reaching up, even for a type only
        (
            "chatbot/time/zones.py",
            "if TYPE_CHECKING:\n    from chatbot.runtime.bot import Bot\n",
            "layers",
        ),
        ("chatbot/storage/members.py", "import chatbot.delivery.outbox\n", "layers"),
        # the core reaching into a feature or a platform
        ("chatbot/runtime/cli.py", "import commands.faq.cli\n", "never imports"),
        ("chatbot/dispatch/registry.py", "import adapters.console\n", "never imports"),
        # a feature importing a platform, and the other way round
        ("commands/basics.py", "import adapters.console\n", "never import a platform"),
        ("adapters/console.py", "import commands.basics\n", "never import a command"),
    ],
)
def test_an_import_across_the_lines_breaks_the_build(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    root = _copy_tree(tmp_path)
    path = root / module
    text = path.read_text()
    if "TYPE_CHECKING" in line and "TYPE_CHECKING" not in text:
        line = "from typing import TYPE_CHECKING\n" + line
    # after the module docstring and ``from __future__``: a real import at module level
    head, sep, tail = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + tail if sep else line + text)
    result = _lint(root)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert broken in result.stdout.split("Broken contracts", 1)[1]


def test_no_import_cycle_anywhere_in_the_core() -> None:
    """Also not between two modules of one sub-package, also not under TYPE_CHECKING."""
    graph = grimp.build_graph("chatbot")
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []
