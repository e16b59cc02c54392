"""Logging in once, as one device: an access token from the environment, or a password
login whose device id and access token are kept in the bot's database, so a restart reuses
the device and its crypto store (kept on disk, readable by the bot only)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import nio

from adapters.matrix.base import NETWORK_ERRORS, Backoff, MatrixBase, Transient, retryable
from chatbot.base.config import secret_from_env
from chatbot.base.errors import ConfigError
from chatbot.base.logs import get_logger, register_secret

log = get_logger("adapters.matrix")

LOGIN_RETRY: tuple[type[BaseException], ...] = (*NETWORK_ERRORS, Transient)
"""What makes a login worth trying again later."""


class Session(MatrixBase):
    """The nio client and the login it carries."""

    def new_client(self, store_path: str = "") -> Any:
        """A nio client for this account, not logged in yet."""
        return nio.AsyncClient(
            self.settings.homeserver,
            self.user_id,
            store_path=store_path,
            config=self._client_config(),
        )

    def _client_config(self) -> Any:
        try:
            return nio.AsyncClientConfig(
                encryption_enabled=self.settings.encryption,
                store_sync_tokens=False,
                max_limit_exceeded=None,  # M_LIMIT_EXCEEDED: wait retry_after_ms, every time
                max_timeouts=2,  # unreachable: nio retries twice, then Backoff takes over
                backoff_factor=0.25,
                max_timeout_retry_wait_time=2,
                request_timeout=60,
            )
        except ImportWarning:
            raise ConfigError(
                "adapters.matrix.encryption = true needs the encryption extra: "
                "pip install 'wmlib-chatbot[e2e]' (matrix-nio[e2e]), or set encryption = false."
            ) from None

    async def _connect(self) -> bool:
        """Log in (reusing the stored device), upload keys; False if stopped meanwhile."""
        settings = self.settings
        store = ""
        if settings.encryption:
            store = str(Path(settings.store_path))
            await asyncio.to_thread(_private_dir, store)
        self.client = self.new_client(store)
        backoff = Backoff(self._stopping)
        while not self._stopping.is_set():
            try:
                await self._login()
                if self.client.should_upload_keys:
                    await self._checked(self.client.keys_upload(), "keys_upload")
                olm = self.client.olm
                log.info(
                    "matrix_logged_in",
                    user=self.user_id,
                    device=self.client.device_id,
                    encryption=olm is not None,
                    # what organisers compare when they verify the bot (README: /verify)
                    fingerprint=olm.account.identity_keys["ed25519"] if olm else None,
                )
                return True
            except LOGIN_RETRY as exc:
                log.warning("matrix_connect_retry", error=repr(exc))
                await backoff.wait()
        return False

    async def _login(self) -> None:
        client = self.client
        db = self._db()
        settings = self.settings
        if settings.access_token_env:
            token = secret_from_env(settings.access_token_env, "adapters.matrix.access_token_env")
            register_secret(token)
            client.access_token = token
            who = await client.whoami()
            if not isinstance(who, nio.WhoamiResponse):
                if retryable(who):
                    raise Transient(str(who))
                raise ConfigError(f"adapters.matrix: the access token was refused: {who}")
            if who.user_id != self.user_id:
                raise ConfigError(
                    f"adapters.matrix.user_id is {self.user_id} but the access token "
                    f"belongs to {who.user_id}."
                )
            if not who.device_id:
                raise ConfigError("adapters.matrix: the access token has no device.")
            client.restore_login(self.user_id, who.device_id, token)
            await db.set_state(self.keys.device_id, who.device_id)
            return
        self._password = secret_from_env(settings.password_env, "adapters.matrix.password_env")
        register_secret(self._password)
        device_id = await db.get_state(self.keys.device_id)
        stored_token = await db.get_state(self.keys.access_token)
        if device_id and settings.encryption and not self._store_file(device_id).exists():
            log.warning(
                "matrix_store_missing",
                device=device_id,
                store=str(self._store_file(device_id)),
                hint="logging in as a new device; organisers must verify it again",
            )
            device_id = stored_token = None
        if device_id and stored_token:
            register_secret(stored_token)
            client.restore_login(self.user_id, device_id, stored_token)
            who = await client.whoami()
            if isinstance(who, nio.WhoamiResponse) and who.device_id == device_id:
                return
            if retryable(who):
                raise Transient(str(who))
            log.warning("matrix_token_refused", device=device_id, error=str(who))
        await self._password_login(device_id)

    async def _password_login(self, device_id: str | None) -> None:
        client = self.client
        db = self._db()
        client.device_id = device_id or ""  # nio logs in to the client's device, if any
        response = await client.login(self._password, device_name=self.settings.device_name)
        if not isinstance(response, nio.LoginResponse):
            if retryable(response):
                raise Transient(str(response))
            raise ConfigError(f"adapters.matrix: login as {self.user_id} failed: {response}")
        register_secret(response.access_token)
        if device_id and response.device_id != device_id:
            log.warning("matrix_new_device", old=device_id, new=response.device_id)
        await db.set_state(self.keys.device_id, response.device_id)
        await db.set_state(self.keys.access_token, response.access_token)

    def _store_file(self, device_id: str) -> Path:
        return Path(self.settings.store_path) / f"{self.user_id}_{device_id}.db"


def _private_dir(path: str) -> None:
    """The crypto store holds the device's keys: create it readable by the bot only."""
    Path(path).mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        Path(path).chmod(0o700)
