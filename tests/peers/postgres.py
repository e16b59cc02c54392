"""Throw-away PostgreSQL cluster on loopback for the tests.

One cluster per test session (``postgres_server``), one fresh empty database per test
(``postgres_url``).  The cluster lives in a temporary directory, listens on 127.0.0.1 on a free
port with ``trust`` authentication and durability switched off, and is removed afterwards.

PostgreSQL refuses to run as root: when the tests run as root the server runs as the ``postgres``
system user (or a ``chatbot-pg`` system user created on demand); otherwise as the current user.
When no server binaries are found and we are root on Debian, Debian's ``postgresql`` package is
installed with apt.  When PostgreSQL cannot be provided the fixtures fail; they never skip.

Load with ``pytest_plugins = ["tests.peers.postgres"]`` (or ``pytest -p tests.peers.postgres``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "PG_BINDIR_ENV",
    "PostgresServer",
    "PostgresUnavailable",
    "ensure_postgres_binaries",
    "find_postgres_binaries",
    "postgres_server",
    "postgres_url",
]

PG_BINDIR_ENV = "CHATBOT_TEST_PG_BINDIR"
"""Environment variable naming a directory with ``initdb``, ``postgres`` and ``psql`` to use."""

MIN_MAJOR_VERSION = 13  # DROP DATABASE ... WITH (FORCE)
SUPERUSER = "postgres"
FALLBACK_SYSTEM_USER = "chatbot-pg"
REQUIRED_PROGRAMS = ("initdb", "postgres", "psql")

DEFAULT_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "jit": "off",
    "timezone": "UTC",
    "log_min_messages": "warning",
}

_INSTALL_LOCK = Path(tempfile.gettempdir()) / "chatbot-tests-postgres.lock"
_POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_SHM_MIN_FREE = 1 << 30  # bytes: the cluster takes ~40 MB, every live database ~8 MB more
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.NNNNN"
_DIR_PREFIX = "chatbot-pg-"
_OWNER_LOCK = "owner.lock"
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found, installed or started."""


# --------------------------------------------------------------------------------------------
# Binaries


def _version_key(name: str) -> tuple[int, ...] | None:
    """``"15"`` -> ``(15,)``, ``"9.6"`` -> ``(9, 6)``; anything else -> ``None``."""
    if not re.fullmatch(r"\d+(\.\d+)*", name):
        return None
    return tuple(int(part) for part in name.split("."))


def _has_programs(bindir: Path) -> bool:
    return all(
        (bindir / program).is_file() and os.access(bindir / program, os.X_OK)
        for program in REQUIRED_PROGRAMS
    )


def find_postgres_binaries() -> Path | None:
    """The directory holding ``initdb``, ``postgres`` and ``psql``, or ``None``.

    Order: ``$CHATBOT_TEST_PG_BINDIR``; the newest ``/usr/lib/postgresql/<version>/bin``
    (Debian's layout); the directory of ``initdb`` on ``PATH``.
    """
    override = os.environ.get(PG_BINDIR_ENV)
    if override:
        if not _has_programs(Path(override)):
            raise PostgresUnavailable(
                f"{PG_BINDIR_ENV}={override} does not hold {', '.join(REQUIRED_PROGRAMS)}"
            )
        return Path(override)
    debian: list[tuple[tuple[int, ...], Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        key = _version_key(bindir.parent.name)
        if key is not None and _has_programs(bindir):
            debian.append((key, bindir))
    if debian:
        return max(debian)[1]
    initdb = shutil.which("initdb")
    if initdb is not None:
        for bindir in (Path(initdb).parent, Path(initdb).resolve().parent):
            if _has_programs(bindir):
                return bindir
    return None


_binaries: Path | PostgresUnavailable | None = None


def ensure_postgres_binaries() -> Path:
    """The PostgreSQL binary directory, installing Debian's ``postgresql`` package if needed.

    Installing needs root on Debian (or a derivative) and access to its package archive; two
    processes never install at once (file lock).  The outcome is remembered for the process, so a
    failure is reported once per test session instead of retried by every test.
    """
    global _binaries
    if _binaries is None:
        try:
            _binaries = _find_or_install()
        except PostgresUnavailable as exc:
            _binaries = exc
    if isinstance(_binaries, PostgresUnavailable):
        raise _binaries
    return _binaries


def _find_or_install() -> Path:
    found = find_postgres_binaries()
    if found is not None:
        return found
    wanted = ", ".join(REQUIRED_PROGRAMS)
    if os.geteuid() != 0:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries ({wanted}) under /usr/lib/postgresql/*/bin or on PATH,"
            f" and not root so cannot install them; install the PostgreSQL server (Debian:"
            f" `apt-get install postgresql`) or set {PG_BINDIR_ENV}"
        )
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise PostgresUnavailable(
            f"no PostgreSQL server binaries ({wanted}) found and this is not a Debian system with"
            f" apt-get; install the PostgreSQL server or set {PG_BINDIR_ENV}"
        )
    with _file_lock(_INSTALL_LOCK):
        found = find_postgres_binaries()  # another process may have installed meanwhile
        if found is None:
            _apt_install_postgresql()
            found = find_postgres_binaries()
    if found is None:
        raise PostgresUnavailable(
            f"installed Debian's postgresql package but still no {wanted} under"
            " /usr/lib/postgresql/*/bin"
        )
    return found


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _no_service_starts() -> Iterator[None]:
    """Keep the package's own cluster from being started (Debian's policy-rc.d convention)."""
    try:
        fd = os.open(_POLICY_RC_D, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
    except FileExistsError:
        fd = None
    if fd is None:  # the machine already has a policy; respect it
        yield
        return
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(
                "#!/bin/sh\n# tests/peers/postgres.py: no service starts meanwhile\nexit 101\n"
            )
        _POLICY_RC_D.chmod(0o755)
        yield
    finally:
        _POLICY_RC_D.unlink(missing_ok=True)


def _apt_install_postgresql() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
    wait_for_lock = ["-o", "DPkg::Lock::Timeout=600"]
    commands = [
        (["apt-get", *wait_for_lock, "update"], 900.0),
        (
            [
                "apt-get",
                *wait_for_lock,
                "-o",
                "Dpkg::Options::=--force-confdef",
                "-o",
                "Dpkg::Options::=--force-confold",
                "install",
                "-y",
                "--no-install-recommends",
                "postgresql",
            ],
            1800.0,
        ),
    ]
    # Output goes to a file, not a pipe: a daemon started by a maintainer script could keep a
    # pipe open and make us wait for ever.
    with (
        tempfile.NamedTemporaryFile(
            "w+", prefix="chatbot-tests-postgres-apt-", suffix=".log", delete=False
        ) as log,
        _no_service_starts(),
    ):
        for command, timeout in commands:
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
                raise PostgresUnavailable(
                    f"`{' '.join(command)}` failed: {exc}; log: {log.name}"
                ) from exc
            if result.returncode != 0:
                log.flush()
                raise PostgresUnavailable(
                    f"`{' '.join(command)}` exited with {result.returncode} (log: {log.name}):\n"
                    + _tail(Path(log.name))
                )
    Path(log.name).unlink(missing_ok=True)


def _tail(path: Path, lines: int = 30, start: int = 0) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------------
# Accounts and processes


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root; ``None`` means the current user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", FALLBACK_SYSTEM_USER):
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(name)
            if account.pw_uid != 0:
                return account
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    with _file_lock(_INSTALL_LOCK):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(FALLBACK_SYSTEM_USER)
        command = [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            FALLBACK_SYSTEM_USER,
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise PostgresUnavailable(f"cannot create system user: {exc}") from exc
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"PostgreSQL refuses to run as root and `{' '.join(command)}` failed:"
                f" {result.stderr.strip()}"
            )
    return pwd.getpwnam(FALLBACK_SYSTEM_USER)


def _traversable_by_others(directory: Path) -> bool:
    return all(path.stat().st_mode & stat.S_IXOTH for path in (directory, *directory.parents))


def _is_roomy_tmpfs(directory: Path) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        free = shutil.disk_usage(directory).free
    except OSError:
        return False
    is_tmpfs = any(
        fields[1] == str(directory) and fields[2] == "tmpfs"
        for fields in (line.split() for line in mounts)
        if len(fields) >= 3
    )
    return is_tmpfs and free >= _SHM_MIN_FREE and os.access(directory, os.W_OK | os.X_OK)


def _temporary_base(account: pwd.struct_passwd | None) -> Path:
    """Where the cluster lives: RAM (``/dev/shm``) when roomy, else the temporary directory.

    On tmpfs ``CREATE DATABASE`` is about ten times faster than on a slow virtual disk.  Docker's
    default 64 MB ``/dev/shm`` is too small and is not used.
    """
    shm = Path("/dev/shm")
    if _is_roomy_tmpfs(shm) and (account is None or _traversable_by_others(shm)):
        return shm
    base = Path(tempfile.gettempdir()).resolve()
    if account is not None and not _traversable_by_others(base):
        base = Path("/tmp")  # another user must reach the data directory
    return base


def _remove_abandoned_clusters(base: Path) -> None:
    """Remove clusters left behind by killed test runs (``/dev/shm`` is RAM).

    A live server holds an exclusive lock on ``<dir>/owner.lock``; the kernel releases it when
    its process dies, however it dies.  A directory without that file is only removed once it
    is an hour old, so a cluster being set up right now is never touched.
    """
    for directory in base.glob(f"{_DIR_PREFIX}*"):
        lock = directory / _OWNER_LOCK
        try:
            if not directory.is_dir() or directory.is_symlink():
                continue
            if not lock.exists():
                if time.time() - directory.stat().st_mtime > 3600:
                    shutil.rmtree(directory, ignore_errors=True)
                continue
            with lock.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:  # locked by a live run, or not ours to remove
            continue


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _parent_death_prefix() -> list[str]:
    """``setpriv --pdeathsig=QUIT --``: the kernel stops the server if this process dies abruptly.

    With ``kill -9`` or ``os._exit`` (pytest-timeout's thread method) no Python clean-up runs;
    SIGQUIT makes the orphaned postmaster shut down immediately.  Only from the main thread (the
    signal fires when the *thread* that started the child exits) and only if util-linux's
    ``setpriv`` supports it; otherwise nothing.  No Python code runs between fork and exec.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    prefix = [setpriv, "--pdeathsig=QUIT", "--"]
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return prefix if probe.returncode == 0 else []


def _clean_environment(*, server: bool = False) -> dict[str, str]:
    """Our environment without libpq variables (PGHOST, PGDATA, ...) that would redirect us.

    Server processes also get the C locale, so a missing locale named by ``LANG`` is harmless.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    if server:
        env["LC_ALL"] = "C"
    return env


# --------------------------------------------------------------------------------------------
# The server


class PostgresServer:
    """A throw-away PostgreSQL cluster in a temporary directory, listening on 127.0.0.1.

    ``start()`` runs ``initdb`` and the postmaster (a direct child of this process) and returns
    once it accepts connections; ``stop()`` shuts it down fast and removes the directory.  The
    superuser is ``postgres`` with ``trust`` authentication; :attr:`url` is the ``postgres``
    maintenance database, :meth:`create_database` makes fresh ones.
    """

    host = "127.0.0.1"
    user = SUPERUSER

    def __init__(
        self,
        bindir: Path | None = None,
        *,
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self._bindir = bindir
        self._settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._base: Path | None = None
        self._port: int | None = None
        self._major_version: int | None = None
        self._account: pwd.struct_passwd | None = None
        self._owner_lock: TextIO | None = None
        self.version = ""
        """``postgres --version`` output, e.g. ``postgres (PostgreSQL) 15.18 (Debian ...)``."""

    # -- properties ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgresServer is not started")
        return self._port

    @property
    def base_dir(self) -> Path:
        """Temporary directory holding ``data/``, the unix socket and ``postgres.log``."""
        if self._base is None:
            raise RuntimeError("PostgresServer is not started")
        return self._base

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """SQLAlchemy asyncpg URL of ``database`` on this cluster."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def _uid(self) -> int | None:
        return None if self._account is None else self._account.pw_uid

    @property
    def _gid(self) -> int | None:
        return None if self._account is None else self._account.pw_gid

    @property
    def _extra_groups(self) -> list[int] | None:
        return None if self._account is None else []  # drop root's supplementary groups

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster and start the server; return once it accepts connections."""
        if self._process is not None:
            raise RuntimeError("PostgresServer already started")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)

    def _start(self) -> None:
        bindir = self._bindir or ensure_postgres_binaries()
        self._bindir = bindir
        self._check_version(bindir)
        account = _server_account()
        base = _temporary_base(account)
        _remove_abandoned_clusters(base)
        self._base = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX, dir=base))
        self._owner_lock = (self._base / _OWNER_LOCK).open("a")
        fcntl.flock(self._owner_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if account is not None:
            os.chown(self._base, account.pw_uid, account.pw_gid)
        self._account = account
        self._initdb(bindir)
        for attempt in itertools.count(1):
            port = _free_port()
            if self._launch(bindir, port):
                self._port = port
                return
            if attempt == 5:
                raise PostgresUnavailable(
                    f"PostgreSQL could not bind a free port five times; log {self.log_path}"
                )

    def _check_version(self, bindir: Path) -> None:
        try:
            self.version = subprocess.run(
                [bindir / "postgres", "--version"],
                capture_output=True,
                text=True,
                check=True,
                env=_clean_environment(),
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as exc:
            raise PostgresUnavailable(f"cannot run {bindir / 'postgres'}: {exc}") from exc
        match = re.search(r"\)\s*(\d+)", self.version)
        self._major_version = int(match.group(1)) if match else 0
        if self._major_version < MIN_MAJOR_VERSION:
            raise PostgresUnavailable(
                f"{self.version!r} is too old; the tests need PostgreSQL {MIN_MAJOR_VERSION}+"
            )

    def _initdb(self, bindir: Path) -> None:
        command = [
            str(bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=self.base_dir,
                env=_clean_environment(server=True),
                check=False,
                timeout=300,
                user=self._uid,
                group=self._gid,
                extra_groups=self._extra_groups,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"initdb failed: {exc}") from exc
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"initdb exited with {result.returncode}:\n{result.stdout}{result.stderr}"
            )

    def _launch(self, bindir: Path, port: int) -> bool:
        """Start the postmaster on ``port``; ``False`` if the port was taken meanwhile."""
        socket_dir = str(self.base_dir)
        if len(socket_dir) > _SOCKET_PATH_MAX:
            socket_dir = ""  # path too long for a unix socket; TCP only
        settings = {**self._settings, "port": str(port), "unix_socket_directories": socket_dir}
        command = [*_parent_death_prefix(), str(bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.base_dir,
                    env=_clean_environment(server=True),
                    start_new_session=True,  # Ctrl-C reaches pytest, which stops us in order
                    user=self._uid,
                    group=self._gid,
                    extra_groups=self._extra_groups,
                )
            except OSError as exc:
                raise PostgresUnavailable(f"cannot start postgres: {exc}") from exc
        if self._wait_until_ready(self._process):
            return True
        output = _tail(self.log_path, start=log_start)
        self._process = None
        if "could not bind" in output or "Address already in use" in output:
            return False
        raise PostgresUnavailable(f"postgres exited during start-up:\n{output}")

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> bool:
        """Poll ``postmaster.pid`` for the "ready" status, as ``pg_ctl -w`` does."""
        pid_file = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + self._startup_timeout
        while process.poll() is None:
            with contextlib.suppress(FileNotFoundError):
                lines = pid_file.read_text().splitlines()
                if len(lines) >= 8 and lines[0] == str(process.pid) and lines[7].strip() == "ready":
                    return True
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"postgres not ready after {self._startup_timeout:.0f} s:\n"
                    + _tail(self.log_path)
                )
            time.sleep(0.005)  # poll interval, not a synchronisation guess
        return False

    def stop(self) -> None:
        """Shut the server down (fast mode) and remove its directory.  Idempotent."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: roll back, disconnect, stop
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGQUIT)  # immediate shutdown
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        base, self._base = self._base, None
        self._port = None
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
        if self._owner_lock is not None:
            self._owner_lock.close()  # releases the lock, after the directory is gone
            self._owner_lock = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- SQL -------------------------------------------------------------------------------

    def execute(self, sql: str, *, database: str = "postgres") -> str:
        """Run ``sql`` with ``psql`` as the superuser; return its unaligned, tuples-only output."""
        if not self.running:
            raise RuntimeError("PostgresServer is not running")
        assert self._bindir is not None
        command = [
            str(self._bindir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--no-align",
            "--tuples-only",
            "--set",
            "ON_ERROR_STOP=1",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--username",
            self.user,
            "--dbname",
            database,
            "--command",
            sql,
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=_clean_environment(),
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}) on {sql!r}: {result.stderr}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (``[a-z_][a-z0-9_]*``); return its SQLAlchemy URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} is not [a-z_][a-z0-9_]{{0,62}}")
        # FILE_COPY (PostgreSQL 15+) copies the template's files: with fsync off that is ~3x
        # faster than the default WAL_LOG, which writes the whole template into the WAL.
        strategy = " STRATEGY file_copy" if (self._major_version or 0) >= 15 else ""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0{strategy}')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, terminating any connections still open to it."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} is not [a-z_][a-z0-9_]{{0,62}}")
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# pytest plugin


_database_numbers = itertools.count(1)


def _uses_postgres(item: pytest.Item) -> bool:
    """Whether ``item`` needs the cluster, as far as collection can tell.

    Static fixture use, an explicit ``postgres`` mark, or a parameter whose value is
    ``"postgres"`` (a fixture parametrised over back-ends that calls
    ``request.getfixturevalue("postgres_url")`` is invisible to static fixture analysis).
    """
    if "postgres_server" in getattr(item, "fixturenames", ()):
        return True
    if item.get_closest_marker("postgres") is not None:
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgres" in callspec.params.values()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the throw-away PostgreSQL cluster")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the cluster ``postgres`` (so ``-m postgres`` selects them)."""
    for item in items:
        if _uses_postgres(item):
            item.add_marker(pytest.mark.postgres)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Find or install the binaries before any test runs, outside per-test timeouts."""
    if session.config.option.collectonly or not any(map(_uses_postgres, session.items)):
        return
    with contextlib.suppress(PostgresUnavailable):  # reported by the fixture, per test
        ensure_postgres_binaries()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL cluster for the whole test session."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"throw-away PostgreSQL cluster unavailable: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy asyncpg URL of a fresh, empty database, dropped after the test."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t{next(_database_numbers)}_{slug}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)
