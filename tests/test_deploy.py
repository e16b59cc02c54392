"""The deployment files in ``deploy/`` and the ``Containerfile`` hold together: the systemd
units pass ``systemd-analyze verify`` (where it exists), the compose file is valid compose
for the keys it uses, and the example configs pass ``check-config``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatbot.base.config import load_config
from chatbot.runtime.checks import offline_findings

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["wmlib-bot@.service", "wmlib-bot-backup@.service", "wmlib-bot-backup@.timer"]
HARDENING = {
    "DynamicUser": "yes",
    "ProtectSystem": "strict",
    "NoNewPrivileges": "yes",
    "EnvironmentFile": "/etc/wmlib-bot/%i.env",
}


def unit_settings(name: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_units_are_hardened() -> None:
    for name in ("wmlib-bot@.service", "wmlib-bot-backup@.service"):
        settings = unit_settings(name)
        for key, value in HARDENING.items():
            assert settings.get(key) == [value], f"{name}: {key}"
        assert settings["User"] == ["wmlib-bot"]  # one dynamic user: backups read the state
    service = unit_settings("wmlib-bot@.service")
    assert service["RestartPreventExitStatus"] == ["2"]  # a config error is not retried
    assert service["ExecStart"] == [
        "/opt/wmlib-bot/.venv/bin/chatbot run -c /etc/wmlib-bot/%i.toml"
    ]


def installed_copies(tmp_path: Path) -> list[Path]:
    """The units as an instance ``group``, running this checkout's ``chatbot`` (verify
    checks that ExecStart exists)."""
    chatbot = Path(sys.executable).parent / "chatbot"
    copies = []
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace("/opt/wmlib-bot/.venv/bin/chatbot", str(chatbot))
        copy = tmp_path / name.replace("@.", "@group.")
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and os.environ.get("CI", "").lower() != "true",
    reason="no systemd-analyze here (Debian's systemd package; CI machines have it)",
)
def test_systemd_analyze_verify_and_exposure(tmp_path: Path) -> None:
    """Under CI=true a missing systemd-analyze fails here rather than skip."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: apt-get install systemd"
    copies = installed_copies(tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", *map(str, copies)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # unknown keys are only warnings: none at all
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(copies[0])],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) <= 2.0  # systemd's scale: 0 safe .. 10 exposed ("OK" < 4)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


#: the Compose Specification's keys this file may use (a subset of the spec)
SERVICE_KEYS = {
    "build", "image", "restart", "env_file", "environment", "volumes", "ports",
    "depends_on", "logging", "healthcheck", "command", "secrets",
}  # fmt: skip
RESTART = {"no", "always", "on-failure", "unless-stopped"}


def test_compose_file_is_valid_for_the_keys_it_uses() -> None:
    """Checked by a parser and the spec's rules for these keys (no container engine runs
    in the tests; README says so)."""
    spec = compose()
    assert set(spec) <= {"name", "services", "volumes", "secrets", "networks"}
    services = spec["services"]
    assert set(services) == {"bot", "db"}
    volumes = set(spec.get("volumes") or {})
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, f"{name}: {set(service) - SERVICE_KEYS}"
        assert service["restart"] in RESTART
        for mount in service.get("volumes", []):
            source, target, *mode = mount.split(":")
            assert target.startswith("/") and mode in ([], ["ro"]), mount
            if source.startswith("."):
                assert source == "./config.toml"  # written by the operator (or chatbot init)
            else:
                assert source in volumes, f"{name}: volume {source} is not declared"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port} must stay on this host"
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services and condition == {"condition": "service_healthy"}
            assert "healthcheck" in services[dependency]
        assert service["logging"]["options"]["max-size"]  # logs are rotated
    bot = services["bot"]
    assert (DEPLOY / bot["build"]["context"] / bot["build"]["dockerfile"]).is_file()
    assert bot["env_file"] == ".env" and (DEPLOY / "env.example").is_file()
    url = bot["environment"]["CHATBOT_DATABASE_URL"]
    assert url.startswith("postgresql://wmlib:${POSTGRES_PASSWORD:?")
    db = services["db"]
    assert db["environment"]["POSTGRES_USER"] == "wmlib"
    assert db["environment"]["POSTGRES_DB"] == "chatbot"
    assert url.endswith("@db/chatbot")


def test_containerfile_installs_the_all_extra_as_a_plain_user() -> None:
    text = (ROOT / "Containerfile").read_text(encoding="utf-8")
    assert '".[all]"' in text
    assert re.search(r"^USER wmlib-bot$", text, re.M)
    for copied in re.findall(r"^COPY (?!--)(.+) \S+$", text, re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name
    # pg_dump and the database must be the same major version (backups)
    assert "postgresql-client" in text and "bookworm" in text
    assert compose()["services"]["db"]["image"].endswith(":15-bookworm")


def test_extras_have_one_name_for_production() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'all = ["wmlib-chatbot[postgres,e2e,discord,web,multilingual]"]' in pyproject
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "EXTRAS=all" in readme and "[all]" in readme
    for other in ("EXTRAS=e2e", "EXTRAS=discord", "EXTRAS=matrix", "[web]'", "[postgres]'"):
        assert other not in readme, other
    assert "EXTRAS=all" in (ROOT / ".ci" / "bot").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["config.example.toml", "deploy/config.group.toml"])
def test_example_configs_pass_check_config(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("WMLIB_MATRIX_PASSWORD", "DISCORD_TOKEN"):
        monkeypatch.setenv(variable, "set")
    monkeypatch.delenv("CHATBOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    config = load_config(ROOT / name)
    findings, adapters = offline_findings(config)
    assert [f.line() for f in findings if f.error] == []
    assert [a.platform for a in adapters] == config.bot.adapters


def test_group_example_is_matrix_and_discord_on_postgres() -> None:
    config = load_config(DEPLOY / "config.group.toml")
    assert config.bot.adapters == ["matrix", "discord"]
    assert config.bot.database.startswith("postgresql://")
    assert config.web.public_host and config.web.public_port == 8081
    assert os.path.basename(config.adapters["matrix"]["store_path"]) == "matrix-store"
