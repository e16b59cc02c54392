"""A real Synapse homeserver on loopback, for the Matrix adapter's integration tests.

Synapse is installed once, pinned, into its own virtualenv under the user's cache directory
(never into the project venv: its dependency tree is large and would clash with ours), and each
test session runs one throw-away server with SQLite in a temporary directory.

Enable the fixtures with ``pytest_plugins = ["tests.peers.synapse"]`` in the root conftest, or
``-p tests.peers.synapse`` on the command line.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import aiohttp
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

SYNAPSE_VERSION = "1.163.2"
"""The pinned release: bump it deliberately, a new cache directory is made for each version."""

SERVER_NAME = "localhost"
"""The homeserver's name, so user ids look like ``@alice:localhost``."""

_KNOWN_GOOD: tuple[str, ...] = (
    "annotated-types==0.8.0",
    "attrs==26.1.0",
    "Automat==25.4.16",
    "bcrypt==5.0.0",
    "bleach==6.4.0",
    "canonicaljson==2.0.0",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "charset-normalizer==3.5.3",
    "constantly==23.10.4",
    "cryptography==50.0.2",
    "hyperlink==21.0.0",
    "idna==3.20",
    "ijson==3.6.0",
    "immutabledict==4.3.1",
    "Incremental==24.11.0",
    "Jinja2==3.1.6",
    "jsonschema==4.26.0",
    "jsonschema-specifications==2025.9.1",
    "MarkupSafe==3.0.4",
    "matrix-common==1.3.0",
    "msgpack==1.2.4",
    "multipart==2.0.1",
    "netaddr==1.3.0",
    "packaging==26.4",
    "phonenumbers==9.0.43",
    "pillow==13.0.0",
    "prometheus_client==0.26.0",
    "pyasn1==0.6.5",
    "pyasn1_modules==0.4.2",
    "pycparser==3.12",
    "pydantic==2.14.4",
    "pydantic_core==2.50.5",
    "pymacaroons==0.13.0",
    "PyNaCl==1.6.2",
    "pyOpenSSL==26.4.0",
    "pyparsing==3.3.3",
    "pyrsistent==0.20.0",
    "python-multipart==0.0.34",
    "PyYAML==6.0.4",
    "referencing==0.37.0",
    "requests==2.34.2",
    "rpds-py==2026.9.1",
    "semantic-version==2.10.0",
    "service-identity==26.1.0",
    "setuptools-rust==1.13.0",
    "signedjson==1.1.4",
    "six==1.17.0",
    "sortedcontainers==2.4.0",
    "treq==26.7.0",
    "Twisted==26.10.0",
    "typing-inspection==0.4.5",
    "typing_extensions==4.16.0",
    "unpaddedbase64==2.1.0",
    "urllib3==2.8.0",
    "webencodings==0.6.1",
    "zope.interface==8.7",
)
"""Synapse's dependencies as they installed and passed here with the pinned release.

Given to pip as constraints, so a later release of Twisted or pydantic cannot break an old
Synapse on a fresh machine. Changing this list (or the version) makes the next run reinstall.
"""

_MARKER = ".wmlib-installed"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Loopback polling must never go through an ``http_proxy`` from the environment."""
_RATE: dict[str, float] = {"per_second": 100_000, "burst_count": 100_000}


class SynapseError(RuntimeError):
    """Synapse could not be installed, started or asked to do something."""


def _progress(message: str) -> None:
    """Say what is happening on stderr: the first install is slow and should not look hung."""
    print(f"[synapse] {message}", file=sys.stderr, flush=True)


def cache_dir(version: str = SYNAPSE_VERSION) -> Path:
    """Where the virtualenv of one Synapse version lives, outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wmlib-chatbot" / f"synapse-{version}"


def _base_python() -> str:
    """The interpreter the project venv was made from, so Synapse's venv inherits nothing."""
    base = getattr(sys, "_base_executable", None)
    if isinstance(base, str) and base and Path(base).exists():
        return base
    found = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}")
    if found is None:
        raise SynapseError("cannot find the base python interpreter to build Synapse's venv")
    return found


def _clean_env() -> dict[str, str]:
    """The environment minus anything that would point a child at the project venv."""
    env = dict(os.environ)
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__"):
        env.pop(key, None)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    """The end of a log file, to put into an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def ensure_synapse(version: str = SYNAPSE_VERSION) -> Path:
    """Install ``matrix-synapse==version`` into its cached venv if needed; return its python.

    Idempotent and safe across concurrent pytest processes: an exclusive ``fcntl`` lock guards
    the install, and a marker written only after a verified install means a half-finished one
    (killed, out of disk) is thrown away and redone.
    """
    venv = cache_dir(version)
    python = venv / "bin" / "python"
    if _installed(venv, version):
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.parent / f"synapse-{version}.lock"
    with lock_path.open("w") as lock:
        if not _try_lock(lock):
            _progress(f"waiting for another process installing Synapse {version} ({lock_path})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _installed(venv, version):  # the other process finished it while we waited
                return python
            _install(version, venv)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return python


def _marker_text(version: str) -> str:
    """What the marker says: the exact set installed, so a changed pin means a reinstall."""
    return "\n".join((f"matrix-synapse=={version}", *_KNOWN_GOOD)) + "\n"


def _installed(venv: Path, version: str) -> bool:
    """The marker matches the pins and the venv's interpreter still resolves (pyenv may move)."""
    try:
        marker = (venv / _MARKER).read_text()
    except OSError:
        return False
    return marker == _marker_text(version) and (venv / "bin" / "python").exists()


def _try_lock(lock: IO[str]) -> bool:
    """Take the lock without blocking; False if someone else holds it."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _install(version: str, venv: Path) -> None:
    """Build the venv from scratch and pip-install Synapse into it, then write the marker."""
    started = time.monotonic()
    if venv.exists():
        _progress(f"removing unfinished or outdated install in {venv}")
        shutil.rmtree(venv)
    base = _base_python()
    _progress(f"installing matrix-synapse {version} into {venv} (first time only, about a minute)")
    log = venv.parent / f"synapse-{version}-install.log"
    constraints = venv.parent / f"synapse-{version}-constraints.txt"
    constraints.write_text("\n".join(_KNOWN_GOOD) + "\n")
    env = _clean_env()
    with log.open("w") as out:
        steps: list[list[str]] = [
            [base, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--prefer-binary",
                "--constraint",
                str(constraints),
                f"matrix-synapse=={version}",
            ],
            [
                str(venv / "bin" / "python"),
                "-c",
                "import synapse.app.homeserver, synapse; print(synapse.__version__)",
            ],
        ]
        for argv in steps:
            out.write(f"$ {' '.join(argv)}\n")
            out.flush()
            result = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False
            )
            if result.returncode != 0:
                raise SynapseError(
                    f"installing Synapse {version} failed at: {' '.join(argv)}\n"
                    f"(full log: {log})\n{_tail(log)}"
                )
    built = [line for line in log.read_text().splitlines() if "Building wheel for" in line]
    if built:
        _progress("note: these had no wheel and were compiled: " + "; ".join(built))
    (venv / _MARKER).write_text(_marker_text(version))
    _progress(f"installed Synapse {version} in {time.monotonic() - started:.1f} s (log: {log})")


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _signing_key() -> str:
    """A fresh ed25519 signing key in Synapse's file format, without a Synapse process to make it.

    The format is ``<alg> <version> <unpadded base64 of the 32-byte seed>``.
    """
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"ed25519 a_{secrets.token_hex(2)} {seed}\n"


@dataclass(frozen=True)
class RegisteredUser:
    """A user made through the admin API, logged in on one device."""

    user_id: str
    password: str
    access_token: str
    device_id: str


class SynapseServer:
    """One Synapse process with its config, SQLite database and logs in ``workdir``.

    The port is picked on the first ``start()`` and kept, so ``restart()`` brings the server back
    at the same address with the same data, and a running client can reconnect.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        python: Path | None = None,
        server_name: str = SERVER_NAME,
    ) -> None:
        self.workdir = workdir
        self.python = python if python is not None else ensure_synapse()
        self.server_name = server_name
        self.port = _free_port()
        self.shared_secret = secrets.token_hex(32)
        self.config_path = workdir / "homeserver.yaml"
        self.log_path = workdir / "homeserver.log"
        self.console_path = workdir / "console.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0
        """How long the last ``start()`` took from spawn to answering."""
        self._names = itertools.count(1)
        self._write_config()

    @property
    def base_url(self) -> str:
        """The client-server API root, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is alive (not necessarily answering yet)."""
        return self._proc is not None and self._proc.poll() is None

    def user_id(self, localpart: str) -> str:
        """The full Matrix id of a local user."""
        return f"@{localpart}:{self.server_name}"

    def fresh_localpart(self, prefix: str = "user") -> str:
        """A localpart not yet used in this session: the server is shared by all tests."""
        return f"{prefix}-{next(self._names)}-{secrets.token_hex(3)}"

    def _write_config(self) -> None:
        """Write a minimal config (JSON is valid YAML, so no YAML library is needed here)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        key_path = self.workdir / "signing.key"
        key_path.write_text(_signing_key())
        log_config = {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "precise": {"format": "%(asctime)s %(name)s %(lineno)d %(levelname)s %(message)s"}
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
        }
        log_config_path = self.workdir / "log.yaml"
        log_config_path.write_text(json.dumps(log_config, indent=2))
        rate = dict(_RATE)
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "public_baseurl": self.base_url + "/",
            "pid_file": str(self.workdir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.workdir / "homeserver.db")},
            },
            "log_config": str(log_config_path),
            "media_store_path": str(self.workdir / "media"),
            "signing_key_path": str(key_path),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(32),
            "form_secret": secrets.token_hex(32),
            "enable_registration": False,
            "bcrypt_rounds": 4,  # the default 12 costs ~0.25 s per registration and login
            "report_stats": False,
            "enable_metrics": False,
            "suppress_key_server_warning": True,
            "trusted_key_servers": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "rc_message": rate,
            "rc_registration": rate,
            "rc_registration_token_validity": rate,
            "rc_login": {"address": rate, "account": rate, "failed_attempts": rate},
            "rc_admin_redaction": rate,
            "rc_joins": {"local": rate, "remote": rate},
            "rc_joins_per_room": rate,
            "rc_3pid_validation": rate,
            "rc_invites": {"per_room": rate, "per_user": rate, "per_issuer": rate},
            "rc_third_party_invite": rate,
            "rc_key_requests": rate,
            "rc_media_create": rate,
            "rc_presence": {"per_user": rate},
            "rc_delayed_event_mgmt": rate,
            "rc_reports": rate,
            "rc_room_creation": rate,
            "rc_send_to_device": rate,
            "rc_user_directory": rate,
        }
        self.config_path.write_text(json.dumps(config, indent=2))

    def start(self, timeout: float = _START_TIMEOUT) -> None:
        """Spawn Synapse and return once ``/_matrix/client/versions`` answers."""
        if self.running:
            raise SynapseError("Synapse is already running")
        started = time.monotonic()
        with self.console_path.open("ab") as console:
            self._proc = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                cwd=self.workdir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started

    def _wait_ready(self, timeout: float) -> None:
        """Poll the versions endpoint with a short backoff until it answers or time runs out."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        delay = 0.02
        url = self.base_url + "/_matrix/client/versions"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise SynapseError(
                    f"Synapse exited with code {code} before it was ready\n"
                    f"console ({self.console_path}):\n{_tail(self.console_path)}\n"
                    f"log ({self.log_path}):\n{_tail(self.log_path)}"
                )
            with contextlib.suppress(OSError), _OPENER.open(url, timeout=2) as response:
                if response.status == 200:
                    return
            if time.monotonic() >= deadline:
                raise SynapseError(
                    f"Synapse did not answer {url} within {timeout:.0f} s\n"
                    f"log ({self.log_path}):\n{_tail(self.log_path)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``; always reap it."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _progress(f"Synapse did not stop within {timeout:.0f} s of SIGTERM; killing it")
            proc.kill()
            proc.wait()

    def restart(self, timeout: float = _START_TIMEOUT) -> None:
        """Stop and start again on the same port with the same database."""
        self.stop()
        self.start(timeout)

    async def register(
        self, localpart: str, password: str | None = None, *, admin: bool = False
    ) -> RegisteredUser:
        """Create a user with the shared-secret admin API and return its login.

        The API wants a fresh nonce and an HMAC-SHA1 over
        ``nonce\\0user\\0password\\0admin|notadmin`` keyed with ``registration_shared_secret``.
        """
        if password is None:
            password = secrets.token_urlsafe(16)
        url = self.base_url + "/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                nonce_body = await response.json()
                if response.status != 200:
                    raise SynapseError(f"GET {url}: {response.status} {nonce_body}")
            nonce: str = nonce_body["nonce"]
            mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
            for part in (nonce, localpart, password):
                mac.update(part.encode())
                mac.update(b"\x00")
            mac.update(b"admin" if admin else b"notadmin")
            payload = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            }
            async with session.post(url, json=payload) as response:
                body = await response.json()
                if response.status != 200:
                    raise SynapseError(f"registering {localpart!r}: {response.status} {body}")
        return RegisteredUser(
            user_id=body["user_id"],
            password=password,
            access_token=body["access_token"],
            device_id=body["device_id"],
        )


@contextlib.contextmanager
def _visible_output(config: pytest.Config) -> Iterator[None]:
    """Let progress reach the terminal during setup instead of being captured."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


@pytest.fixture(scope="session")
def synapse(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SynapseServer]:
    """A started homeserver shared by the whole session; fails (never skips) if it can't run.

    A skip would let CI go green without testing Matrix at all. Its config, database and logs
    stay in pytest's temp directory (the last few runs are kept) for a look after a failure.
    """
    workdir = tmp_path_factory.mktemp("synapse")
    server: SynapseServer | None = None
    problem = ""
    try:
        with _visible_output(pytestconfig):
            python = ensure_synapse()
            server = SynapseServer(workdir, python=python)
            server.start()
            _progress(f"Synapse ready at {server.base_url} in {server.ready_seconds:.2f} s")
    except (SynapseError, OSError, subprocess.SubprocessError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if server is None or not server.running:
        # Outside the except block, so the report is the message and not a chained traceback.
        pytest.fail(f"cannot provide a Synapse homeserver: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.peers.synapse [--check]``: install ahead of the tests (CI, README).

    Installing here keeps the slow first install out of the first test's ``timeout``;
    ``--check`` also starts and stops a server once and prints how long it took.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        python = ensure_synapse()
        print(python)
        if "--check" in args:
            with tempfile.TemporaryDirectory(prefix="wmlib-synapse-") as workdir:
                server = SynapseServer(Path(workdir), python=python)
                server.start()
                server.stop()
                print(f"Synapse {SYNAPSE_VERSION} started in {server.ready_seconds:.2f} s")
    except SynapseError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
