"""A real headless Chromium driven by Playwright, and axe-core, for the browser tests.

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``), installed with apt when
missing and we are root on Debian, as :mod:`tests.peers.postgres` installs PostgreSQL;
Playwright's own browser download does not work everywhere, so the Python ``playwright``
package (a test dependency, its driver bundled) is pointed at that executable.  axe-core is
installed once, pinned, with npm into the user's cache directory (like Synapse's venv).

Each test gets a fresh browser (``browser`` fixture).  When Chromium, Playwright or axe-core
cannot be provided the fixtures fail under ``CI=true`` and skip elsewhere.  ``python -m
tests.peers.chromium`` installs everything up front (``.ci/test`` does).

Load with ``pytest_plugins = ["tests.peers.chromium"]``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

CHROMIUM_ENV = "CHATBOT_TEST_CHROMIUM"
"""Environment variable naming a Chromium (or Chrome) executable to use instead."""
CHROMIUM = Path("/usr/bin/chromium")
AXE_VERSION = "4.11.0"
"""The pinned axe-core release: bump it deliberately, a new cache directory is made."""

#: Chromium's flags for a closed network and a root user (no sandbox, nothing phoning home)
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "chatbot-tests-chromium.lock"


class BrowserUnavailable(RuntimeError):
    """Chromium, Playwright or axe-core could not be found or installed."""


def _progress(message: str) -> None:
    print(f"[chromium] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> None:
    with tempfile.NamedTemporaryFile("w+", prefix="chatbot-tests-chromium-", suffix=".log") as log:
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrowserUnavailable(f"`{' '.join(command)}` failed: {exc}") from exc
        if result.returncode != 0:
            log.seek(0)
            tail = "\n".join(log.read().splitlines()[-30:])
            raise BrowserUnavailable(
                f"`{' '.join(command)}` exited with {result.returncode}:\n{tail}"
            )


def find_chromium() -> Path | None:
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        return Path(override) if os.access(override, os.X_OK) else None
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


def ensure_chromium() -> Path:
    """Chromium's executable, installing Debian's package when missing (root only)."""
    found = find_chromium()
    if found is not None:
        return found
    if os.environ.get(CHROMIUM_ENV):
        raise BrowserUnavailable(f"{CHROMIUM_ENV}={os.environ[CHROMIUM_ENV]} is not executable")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            "no /usr/bin/chromium and not root on Debian, so cannot install it: "
            f"`apt-get install chromium`, or set {CHROMIUM_ENV}"
        )
    with _file_lock(_INSTALL_LOCK):
        if find_chromium() is None:
            _progress("installing Debian's chromium package (a minute or two)")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            wait = ["-o", "DPkg::Lock::Timeout=600"]
            _run(["apt-get", *wait, "update"], 900.0, env)
            _run(
                ["apt-get", *wait, "install", "-y", "--no-install-recommends", "chromium"],
                1800.0,
                env,
            )
    found = find_chromium()
    if found is None:
        raise BrowserUnavailable("installed Debian's chromium but /usr/bin/chromium is missing")
    return found


def axe_dir(version: str = AXE_VERSION) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wmlib-chatbot" / f"axe-core-{version}"


def ensure_axe(version: str = AXE_VERSION) -> Path:
    """``axe.min.js`` of the pinned axe-core, installed with npm into the cache once."""
    target = axe_dir(version) / "node_modules" / "axe-core" / "axe.min.js"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise BrowserUnavailable("npm is needed to fetch axe-core (Debian: apt-get install npm)")
    with _file_lock(axe_dir(version).parent / f"axe-core-{version}.lock"):
        if not target.is_file():
            _progress(f"installing axe-core {version} with npm into {axe_dir(version)}")
            axe_dir(version).mkdir(parents=True, exist_ok=True)
            _run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(axe_dir(version)),
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--ignore-scripts",
                    f"axe-core@{version}",
                ],
                600.0,
            )
    if not target.is_file():
        raise BrowserUnavailable(f"npm installed axe-core {version} but {target} is missing")
    return target


def ensure_playwright() -> None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:
        raise BrowserUnavailable(
            "the Python package playwright is missing: pip install -e '.[test]'"
        ) from exc


def ensure_all() -> tuple[Path, Path]:
    ensure_playwright()
    return ensure_chromium(), ensure_axe()


_ready: tuple[Path, Path] | BrowserUnavailable | None = None


def _ensure_once() -> tuple[Path, Path]:
    global _ready
    if _ready is None:
        try:
            _ready = ensure_all()
        except BrowserUnavailable as exc:
            _ready = exc
    if isinstance(_ready, BrowserUnavailable):
        raise _ready
    return _ready


def _unavailable(exc: BrowserUnavailable) -> None:
    message = f"headless Chromium unavailable: {exc}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Install before any test runs, outside per-test timeouts."""
    wanted = any("browser" in getattr(item, "fixturenames", ()) for item in session.items)
    if session.config.option.collectonly or not wanted:
        return
    with contextlib.suppress(BrowserUnavailable):  # reported by the fixture, per test
        _ensure_once()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """The path of ``axe.min.js``."""
    try:
        return _ensure_once()[1]
    except BrowserUnavailable as exc:
        _unavailable(exc)
        raise


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A fresh headless Chromium (a Playwright ``Browser``) for one test."""
    try:
        executable, _axe = _ensure_once()
    except BrowserUnavailable as exc:
        _unavailable(exc)
        raise
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield found
        finally:
            await found.close()


if __name__ == "__main__":
    chromium, axe = ensure_all()
    print(f"chromium: {chromium}\naxe-core: {axe}")
