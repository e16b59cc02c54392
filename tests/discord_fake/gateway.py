"""The fake gateway: an aiohttp websocket speaking Discord's gateway protocol (v10, JSON).

Supports HELLO / IDENTIFY / READY + GUILD_CREATE, heartbeats, RESUME with replay of
missed dispatches, REQUEST_GUILD_MEMBERS, PRESENCE_UPDATE (recorded), zlib-stream
transport compression, and server-side drops, RECONNECT and INVALID_SESSION on demand.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.discord_fake.models import JSON, Intent

if TYPE_CHECKING:
    from tests.discord_fake.server import FakeDiscord

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
MAX_BUFFERED_EVENTS = 10_000

Transform = Callable[["GatewaySession", str, JSON], JSON | None]


class GatewayConnection:
    """One websocket connection (a session may see several over its life)."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, number: int) -> None:
        self.ws = ws
        self.request = request
        self.number = number
        self.path = request.path
        self.compress = request.query.get("compress")
        self.encoding = request.query.get("encoding", "json")
        self.version = request.query.get("v")
        self._zlib = zlib.compressobj() if self.compress == "zlib-stream" else None
        self._send_lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.dropped_by_server = False
        self.close_code: int | None = None

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, payload: JSON) -> bool:
        """Send one gateway payload; False when the socket is already gone."""
        text = json.dumps(payload, separators=(",", ":"))
        async with self._send_lock:
            if self.ws.closed:
                return False
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
        return True


@dataclass(eq=False)
class GatewaySession:
    """A gateway session: survives dropped connections until it is resumed or ended."""

    id: str
    intents: int
    identify: JSON
    resume_url: str
    seq: int = 0
    events: list[tuple[int, str, JSON]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    ended: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def has_intent(self, intent: int) -> bool:
        return bool(self.intents & intent)

    async def dispatch(self, event: str, data: JSON) -> int:
        async with self.lock:
            return await self._dispatch_locked(event, data)

    async def _dispatch_locked(self, event: str, data: JSON) -> int:
        self.seq += 1
        self.events.append((self.seq, event, data))
        if len(self.events) > MAX_BUFFERED_EVENTS:
            del self.events[: len(self.events) - MAX_BUFFERED_EVENTS]
        connection = self.connection
        if connection is not None:
            await connection.send({"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data})
        return self.seq

    async def resume(self, connection: GatewayConnection, last_seq: int | None) -> int:
        """Attach a new connection, replay what it missed, then send RESUMED."""
        async with self.lock:
            self.connection = connection
            connection.session = self
            replayed = 0
            for seq, event, data in list(self.events):
                if last_seq is None or seq > last_seq:
                    await connection.send({"op": OP_DISPATCH, "t": event, "s": seq, "d": data})
                    replayed += 1
            await self._dispatch_locked("RESUMED", {"_trace": ["fake-discord"]})
            return replayed


class Gateway:
    """Accepts websocket connections and keeps the sessions of the fake bot."""

    def __init__(self, fake: FakeDiscord, heartbeat_interval_ms: int) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.identify_payloads: list[JSON] = []
        self.resume_payloads: list[JSON] = []
        self.presence_updates: list[JSON] = []
        self.member_requests: list[JSON] = []
        self.identify_count = 0
        self.resume_count = 0
        self.failed_resume_count = 0
        self.heartbeat_count = 0
        self.replayed_count = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ state

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [session for session in self.sessions if not session.ended]

    @property
    def open_connections(self) -> list[GatewayConnection]:
        return [connection for connection in self.connections if connection.open]

    # --------------------------------------------------------------- dispatch

    async def broadcast(
        self,
        event: str,
        data: JSON,
        *,
        intent: int | None = None,
        transform: Transform | None = None,
    ) -> int:
        """Dispatch to every live session (buffered while it is disconnected).

        Returns how many sessions it was dispatched to.
        """
        count = 0
        for session in self.live_sessions:
            if intent is not None and not session.has_intent(intent):
                continue
            body = data if transform is None else transform(session, event, data)
            if body is None:
                continue
            await session.dispatch(event, body)
            count += 1
        return count

    # ---------------------------------------------------------------- control

    async def drop(self, code: int = CLOSE_UNKNOWN_ERROR, *, abort: bool = False) -> int:
        """Close every open connection from the server side; sessions stay resumable."""
        dropped = 0
        for connection in self.open_connections:
            connection.dropped_by_server = True
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            if abort:
                transport = connection.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await connection.ws.close(code=code, message=b"fake discord: connection dropped")
            dropped += 1
        return dropped

    async def send_op(self, op: int, data: Any) -> int:
        sent = 0
        for connection in self.open_connections:
            if await connection.send({"op": op, "d": data, "s": None, "t": None}):
                sent += 1
        return sent

    async def close_all(self) -> None:
        for session in self.sessions:
            session.ended = True
        for connection in self.open_connections:
            connection.dropped_by_server = True
            await connection.ws.close(code=1001, message=b"fake discord stopping")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -------------------------------------------------------------- websocket

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        connection = GatewayConnection(ws, request, len(self.connections) + 1)
        self.connections.append(connection)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(connection)
        finally:
            if task is not None:
                self._tasks.discard(task)
            connection.close_code = ws.close_code
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                if not connection.dropped_by_server and ws.close_code in (1000, 1001):
                    # A clean close by the client ends the session, as on Discord.
                    session.ended = True
            await self.fake._changed()
        return ws

    async def _serve(self, connection: GatewayConnection) -> None:
        ws = connection.ws
        if connection.encoding != "json":
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"only encoding=json is supported")
            return
        await connection.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            }
        )
        await self.fake._changed()
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            try:
                raw = msg.data if msg.type is WSMsgType.TEXT else msg.data.decode()
                payload = json.loads(raw)
                op = int(payload["op"])
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                await ws.close(code=CLOSE_DECODE_ERROR, message=b"decode error")
                return
            if not await self._handle_op(connection, op, payload.get("d")):
                return

    async def _handle_op(self, connection: GatewayConnection, op: int, data: Any) -> bool:
        ws = connection.ws
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            await connection.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            await self.fake._changed()
            return True
        if op == OP_IDENTIFY:
            return await self._identify(connection, data)
        if op == OP_RESUME:
            return await self._resume(connection, data)
        if connection.session is None:
            await ws.close(code=CLOSE_NOT_AUTHENTICATED, message=b"not authenticated")
            return False
        if op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data)
            await self.fake._changed()
            return True
        if op == OP_REQUEST_GUILD_MEMBERS:
            self.member_requests.append(data)
            await self._member_chunk(connection.session, data)
            return True
        if op == OP_VOICE_STATE_UPDATE:
            return True
        await ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b"unknown opcode")
        return False

    async def _identify(self, connection: GatewayConnection, data: Any) -> bool:
        ws = connection.ws
        if connection.session is not None:
            await ws.close(code=CLOSE_ALREADY_AUTHENTICATED, message=b"already authenticated")
            return False
        if not isinstance(data, dict) or data.get("token") != self.fake.token:
            await ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"authentication failed")
            return False
        self.identify_count += 1
        self.identify_payloads.append(data)
        intents = int(data.get("intents", 0))
        session = GatewaySession(
            id=secrets.token_hex(16),
            intents=intents,
            identify=data,
            resume_url=self.fake.resume_gateway_url,
        )
        self.sessions.append(session)
        session.connection = connection
        connection.session = session
        await session.dispatch("READY", self.fake._ready_payload(session, data.get("shard")))
        if session.has_intent(Intent.GUILDS):
            for guild in self.fake.guilds.values():
                if guild.find_member(self.fake.bot_user.id) is not None:
                    await session.dispatch("GUILD_CREATE", self.fake._guild_create_payload(guild))
        await self.fake._changed()
        return True

    async def _resume(self, connection: GatewayConnection, data: Any) -> bool:
        ws = connection.ws
        if not isinstance(data, dict) or data.get("token") != self.fake.token:
            await ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"authentication failed")
            return False
        self.resume_payloads.append(data)
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        if session is None or session.ended:
            self.failed_resume_count += 1
            await connection.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            await self.fake._changed()
            return True
        seq = data.get("seq")
        self.resume_count += 1
        self.replayed_count += await session.resume(connection, None if seq is None else int(seq))
        await self.fake._changed()
        return True

    async def _member_chunk(self, session: GatewaySession, data: Any) -> None:
        if not isinstance(data, dict):
            return
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members)
        user_ids = data.get("user_ids")
        not_found: list[str] = []
        if user_ids:
            wanted = {int(x) for x in user_ids}
            members = [m for m in members if m.user.id in wanted]
            found = {m.user.id for m in members}
            not_found = [str(x) for x in wanted - found]
        query = data.get("query")
        if query:
            members = [m for m in members if m.user.username.lower().startswith(str(query).lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [member.payload() for member in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("presences"):
            chunk["presences"] = []
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
