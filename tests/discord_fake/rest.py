"""The fake REST API (``/api/v10``): the routes discord.py calls for a chat bot.

Every request is recorded; injected failures (429s and others) are answered first;
unknown routes are recorded and get a Discord-style 404 so missing routes show up.
Responses carry ``Content-Type: application/json`` exactly (discord.py parses JSON only
then) and the rate-limit headers discord.py reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.discord_fake.interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    PONG,
    UPDATE_MESSAGE,
    PendingInteraction,
)
from tests.discord_fake.models import JSON, MANAGE_EVENTS, Channel, Intent, now_iso
from tests.discord_fake.records import (
    EPHEMERAL,
    LOADING,
    CommandSync,
    InteractionResponse,
    RecordedFile,
    RecordedMessage,
    RecordedReaction,
    RecordedRequest,
)

if TYPE_CHECKING:
    from tests.discord_fake.server import FakeDiscord

API_PREFIX = "/api/v10"
log = logging.getLogger("tests.discord_fake")

BODY: web.RequestKey[Any] = web.RequestKey("fake_discord_body")
FILES: web.RequestKey[list[RecordedFile]] = web.RequestKey("fake_discord_files")
RECORD: web.RequestKey[RecordedRequest] = web.RequestKey("fake_discord_record")
PAYLOAD: web.ResponseKey[Any] = web.ResponseKey("fake_discord_payload")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALLOWED_CALLBACKS: dict[int, set[int]] = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    APPLICATION_COMMAND_AUTOCOMPLETE: {APPLICATION_COMMAND_AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}

COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
#: Discord's locales, the keys a ``*_localizations`` map may have
LOCALES = frozenset(
    {
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    }
)


# ------------------------------------------------------------------ helpers


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``."""
    response = web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    response[PAYLOAD] = payload
    return response


def no_content() -> web.Response:
    return web.Response(status=204)


def error(status: int, code: int, message: str, errors: JSON | None = None) -> web.Response:
    body: JSON = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status)


def form_error(path: list[str | int], code: str, message: str) -> web.Response:
    """400 Invalid Form Body (50035) with Discord's nested ``errors`` shape."""
    errors: JSON = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        errors = {str(key): errors}
    return error(400, 50035, "Invalid Form Body", errors)


def unknown(what: str, code: int) -> web.Response:
    return error(404, code, f"Unknown {what}")


def message_body_error(
    body: JSON, files: list[RecordedFile], *, create: bool
) -> web.Response | None:
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        return form_error(
            ["content"], "STRING_TYPE_CONVERT", "Could not interpret value as string."
        )
    if isinstance(content, str) and len(content) > 2000:
        return form_error(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        return form_error(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    components = body.get("components") or []
    if len(components) > 5 and not int(body.get("flags") or 0) & (1 << 15):
        return form_error(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    if create and not (
        content or embeds or files or components or body.get("sticker_ids") or body.get("poll")
    ):
        return error(400, 50006, "Cannot send an empty message")
    return None


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """JSON body, or multipart ``payload_json`` + files."""
    files: list[RecordedFile] = []
    if request.content_type == "multipart/form-data":
        payload: Any = None
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files.append(RecordedFile(key, value.filename, value.content_type, data))
            elif key == "payload_json":
                payload = json.loads(str(value))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, files
    try:
        return json.loads(raw), files
    except ValueError:
        return raw.decode(errors="replace"), files


def apply_edit(message: JSON, body: JSON, new_attachments: list[JSON]) -> None:
    """Apply a PATCH body to a stored message (content, embeds, components, flags...)."""
    for key in ("content", "embeds", "components"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    if "flags" in body and body["flags"] is not None:
        keep = int(message.get("flags", 0)) & EPHEMERAL
        message["flags"] = keep | (int(body["flags"]) & ~(EPHEMERAL | LOADING))
    if "attachments" in body or new_attachments:
        kept_ids = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
        kept = [a for a in message.get("attachments", []) if a["id"] in kept_ids]
        if "attachments" not in body:
            kept = list(message.get("attachments", []))
        message["attachments"] = kept + new_attachments
    message["flags"] = int(message.get("flags", 0)) & ~LOADING
    message["edited_timestamp"] = now_iso()


# ------------------------------------------------------------------ the API


class RestApi:
    """Route handlers; state lives on the ``FakeDiscord``."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.errors: list[str] = []

    @staticmethod
    def bucket_for(route: str) -> str:
        return hashlib.sha1(route.encode()).hexdigest()[:32]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.add_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self.remove_reaction,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{member_id}",
                self.remove_reaction,
            ),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members", self.get_members),
            ("GET", "/guilds/{guild_id}/members/{member_id}", self.get_member),
            ("GET", "/guilds/{guild_id}/scheduled-events", self.list_events),
            ("POST", "/guilds/{guild_id}/scheduled-events", self.create_event),
            (
                "GET",
                "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}",
                self.get_event,
            ),
            (
                "PATCH",
                "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}",
                self.edit_event,
            ),
            (
                "DELETE",
                "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}",
                self.delete_event,
            ),
            ("GET", "/applications/{application_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/commands", self.put_commands),
            ("POST", "/applications/{application_id}/commands", self.post_command),
            ("GET", "/applications/{application_id}/commands/{command_id}", self.get_command),
            ("DELETE", "/applications/{application_id}/commands/{command_id}", self.delete_command),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands),
            (
                "POST",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self.post_command,
            ),
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self.get_command,
            ),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self.delete_command,
            ),
            (
                "POST",
                "/interactions/{webhook_id}/{webhook_token}/callback",
                self.interaction_callback,
            ),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self.execute_webhook),
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self.get_webhook_message,
            ),
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self.edit_webhook_message,
            ),
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
                self.delete_webhook_message,
            ),
            (
                "GET",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self.get_webhook_message,
            ),
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self.edit_webhook_message,
            ),
            (
                "DELETE",
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
                self.delete_webhook_message,
            ),
        ]
        for method, path, handler in routes:
            router.add_route(method, API_PREFIX + path, handler)
        router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.get_attachment)
        router.add_route("*", "/{tail:.*}", self.unknown_route)

    # -------------------------------------------------------------- middleware

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        fake = self.fake
        body, files = await read_body(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else ""
        route = canonical[len(API_PREFIX) :] if canonical.startswith(API_PREFIX) else None
        record = RecordedRequest(
            index=len(fake.requests),
            method=request.method,
            path=request.path[len(API_PREFIX) :],
            route=route,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
        )
        fake.requests.append(record)
        request[BODY] = body if isinstance(body, dict | list) else {}
        request[FILES] = files
        request[RECORD] = record

        failure = next(
            (f for f in fake.failures if f.matches(record.method, route, record.path)), None
        )
        response: web.StreamResponse
        if failure is not None:
            failure.remaining -= 1
            record.note = f"injected {failure.status}"
            response = json_response(failure.body, failure.status, failure.headers)
        elif not self._authorized(request, route):
            response = error(401, 0, "401: Unauthorized")
        else:
            try:
                response = await handler(request)
            except Exception as exc:
                # 400, not 500: discord.py would retry a 500 with 1 + 2n s sleeps.
                self.errors.append(traceback.format_exc())
                record.note = f"fake crashed: {exc!r}"
                log.error("fake discord crashed on %s %s", request.method, request.path)
                response = error(400, 0, f"fake discord crashed: {exc!r}")
        if failure is None or failure.status != 429:
            self._rate_limit_headers(response, route or record.path)
        response.headers["Via"] = "1.1 google"
        record.status = response.status
        record.response = response.get(PAYLOAD)
        await fake._changed()
        return response

    def _authorized(self, request: web.Request, route: str | None) -> bool:
        if route is not None and route.startswith(("/webhooks/{", "/interactions/{")):
            return True
        return request.headers.get("Authorization") == f"Bot {self.fake.token}"

    def _rate_limit_headers(self, response: web.StreamResponse, route: str) -> None:
        reset_after = 60.0
        response.headers.update(
            {
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": self.bucket_for(route),
            }
        )

    async def unknown_route(self, request: web.Request) -> web.StreamResponse:
        record: RecordedRequest | None = request.get(RECORD)
        if record is not None:
            record.note = "NO FAKE ROUTE"
            self.fake.unknown_requests.append(record)
        log.warning("fake discord has no route for %s %s", request.method, request.path)
        return json_response(
            {
                "message": "404: Not Found",
                "code": 0,
                "fake_discord": f"no fake route for {request.method} {request.path}",
            },
            404,
        )

    # ------------------------------------------------------------ lookups

    def _channel(self, request: web.Request) -> Channel | None:
        try:
            return self.fake.channels.get(int(request.match_info["channel_id"]))
        except ValueError:
            return None

    def _stored_message(self, request: web.Request) -> JSON | None:
        channel = self._channel(request)
        try:
            message = self.fake.messages.get(int(request.match_info["message_id"]))
        except ValueError:
            return None
        if channel is None or message is None or int(message["channel_id"]) != channel.id:
            return None
        return message

    # ------------------------------------------------------- users, gateway

    async def get_me(self, request: web.Request) -> web.StreamResponse:
        user = self.fake.bot_user.payload()
        user.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        return json_response(user)

    async def get_user(self, request: web.Request) -> web.StreamResponse:
        try:
            user = self.fake.users.get(int(request.match_info["user_id"]))
        except ValueError:
            user = None
        return json_response(user.payload()) if user else unknown("User", 10013)

    async def create_dm(self, request: web.Request) -> web.StreamResponse:
        body: JSON = request[BODY]
        try:
            user = self.fake.users.get(int(body.get("recipient_id", 0)))
        except (TypeError, ValueError):
            user = None
        if user is None or user.id == self.fake.bot_user.id:
            return error(400, 50033, "Invalid Recipient(s)")
        return json_response(self.fake.dm_channel(user).payload())

    async def get_gateway(self, request: web.Request) -> web.StreamResponse:
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.StreamResponse:
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - self.fake.gateway.identify_count,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_application(self, request: web.Request) -> web.StreamResponse:
        return json_response(self.fake.application_payload())

    # ------------------------------------------------------------- channels

    async def get_channel(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        return json_response(channel.payload()) if channel else unknown("Channel", 10003)

    async def typing(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        if channel is None:
            return unknown("Channel", 10003)
        self.fake.typing.append(channel.id)
        return no_content()

    async def list_messages(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        if channel is None:
            return unknown("Channel", 10003)
        query = request.query
        limit = max(1, min(100, int(query.get("limit", "50"))))
        messages = sorted(
            (m for m in self.fake.messages.values() if int(m["channel_id"]) == channel.id),
            key=lambda m: int(m["id"]),
            reverse=True,
        )
        messages = [m for m in messages if not int(m.get("flags", 0)) & EPHEMERAL]
        if "before" in query:
            messages = [m for m in messages if int(m["id"]) < int(query["before"])]
        if "after" in query:
            messages = [m for m in messages if int(m["id"]) > int(query["after"])][-limit:]
        return json_response(messages[:limit])

    async def get_message(self, request: web.Request) -> web.StreamResponse:
        message = self._stored_message(request)
        return json_response(message) if message else unknown("Message", 10008)

    async def create_message(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        channel = self._channel(request)
        if channel is None:
            return unknown("Channel", 10003)
        body: JSON = request[BODY]
        files: list[RecordedFile] = request[FILES]
        existing = fake._check_nonce(channel.id, body)
        if existing is not None:
            record: RecordedRequest = request[RECORD]
            record.note = (
                f"nonce {body.get('nonce')!r} already used: returned message {existing['id']}"
            )
            fake.nonce_hits.append(record)
            return json_response(existing)
        problem = message_body_error(body, files, create=True)
        if problem is not None:
            return problem
        if channel.is_dm and any(u.id in fake.closed_dms for u in channel.recipients):
            return error(403, 50007, "Cannot send messages to this user")
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id") is not None:
            target = fake.messages.get(int(reference["message_id"]))
            if target is None and reference.get("fail_if_not_exists", True):
                return form_error(
                    ["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
        message = fake._build_message(
            channel=channel,
            author=fake.bot_user,
            content=str(body.get("content") or ""),
            embeds=body.get("embeds"),
            components=body.get("components"),
            attachments=fake._attachments(channel, body, files),
            flags=int(body.get("flags") or 0) & ~(EPHEMERAL | LOADING),
            nonce=body.get("nonce"),
            reference=reference if isinstance(reference, dict) else None,
            tts=bool(body.get("tts", False)),
            allowed_mentions=body.get("allowed_mentions"),
        )
        fake._store_message(message)
        fake._remember_nonce(channel.id, body, int(message["id"]))
        fake._record_message("create", "channel", message, body, files=files)
        await fake._dispatch_message("MESSAGE_CREATE", message)
        return json_response(message)

    async def edit_message(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        message = self._stored_message(request)
        if message is None:
            return unknown("Message", 10008)
        if message["author"]["id"] != str(fake.bot_user.id) or "webhook_id" in message:
            return error(403, 50005, "Cannot edit a message authored by another user")
        body: JSON = request[BODY]
        files: list[RecordedFile] = request[FILES]
        problem = message_body_error(body, files, create=False)
        if problem is not None:
            return problem
        channel = fake.channels[int(message["channel_id"])]
        apply_edit(message, body, fake._attachments(channel, body, files))
        fake._record_message("edit", "channel", message, body, files=files)
        await fake._dispatch_message("MESSAGE_UPDATE", message)
        return json_response(message)

    async def delete_message(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        message = self._stored_message(request)
        if message is None:
            return unknown("Message", 10008)
        del fake.messages[int(message["id"])]
        fake._record_message("delete", "channel", message, {})
        await fake._dispatch_message_delete(message)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.StreamResponse:
        return await self._reaction(request, "add")

    async def remove_reaction(self, request: web.Request) -> web.StreamResponse:
        return await self._reaction(request, "remove")

    async def _reaction(self, request: web.Request, action: str) -> web.StreamResponse:
        fake = self.fake
        message = self._stored_message(request)
        if message is None:
            return unknown("Message", 10008)
        member_id = request.match_info.get("member_id")
        user_id = int(member_id) if member_id else fake.bot_user.id
        emoji = request.match_info["emoji"]
        fake.reactions.append(
            RecordedReaction(
                index=len(fake.reactions),
                action="add" if action == "add" else "remove",
                channel_id=int(message["channel_id"]),
                message_id=int(message["id"]),
                emoji=emoji,
                user_id=user_id,
            )
        )
        name, _, emoji_id = emoji.partition(":")
        data: JSON = {
            "user_id": str(user_id),
            "channel_id": message["channel_id"],
            "message_id": message["id"],
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
        }
        channel = fake.channels[int(message["channel_id"])]
        intent = Intent.DIRECT_MESSAGE_REACTIONS
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            intent = Intent.GUILD_MESSAGE_REACTIONS
            if action == "add":
                member = fake.guilds[channel.guild_id].find_member(user_id)
                if member is not None:
                    data["member"] = member.payload()
        event = "MESSAGE_REACTION_ADD" if action == "add" else "MESSAGE_REACTION_REMOVE"
        await fake.gateway.broadcast(event, data, intent=intent)
        return no_content()

    # --------------------------------------------------------------- guilds

    def _guild(self, request: web.Request) -> Any:
        try:
            return self.fake.guilds.get(int(request.match_info["guild_id"]))
        except ValueError:
            return None

    async def get_guild(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        payload = guild.payload()
        payload["approximate_member_count"] = len(guild.members)
        payload["approximate_presence_count"] = 0
        return json_response(payload)

    async def get_guild_channels(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        return json_response([channel.payload() for channel in guild.channels])

    async def get_guild_roles(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        return json_response([role.payload() for role in guild.roles])

    async def get_members(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        limit = int(request.query.get("limit", "1"))
        after = int(request.query.get("after", "0"))
        members = sorted(guild.members, key=lambda m: m.user.id)
        members = [m for m in members if m.user.id > after][:limit]
        return json_response([member.payload() for member in members])

    async def get_member(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        member = guild.find_member(int(request.match_info["member_id"]))
        return json_response(member.payload()) if member else unknown("Member", 10007)

    # ------------------------------------------------------ scheduled events

    def _event(self, request: web.Request) -> JSON | None:
        guild = self._guild(request)
        event = self.fake.scheduled_events.get(int(request.match_info["guild_scheduled_event_id"]))
        if guild is None or event is None or event["guild_id"] != str(guild.id):
            return None
        return event

    def _cannot_manage_events(self, guild: Any) -> web.Response | None:
        """Discord's 403 when the bot lacks Manage Events (administrators have it)."""
        member = guild.find_member(self.fake.bot_user.id)
        if member is None or not guild.permissions_of(member) & MANAGE_EVENTS:
            return error(403, 50013, "Missing Permissions")
        return None

    @staticmethod
    def _recurrence_error(rule: Any, start: dt.datetime) -> web.Response | None:
        """Discord's subset: daily; weekly (interval 1 or 2) on one weekday; monthly on
        one nth weekday (n 1-5); yearly on one month day; ``start`` equals the event's."""
        path: list[str | int] = ["recurrence_rule"]
        if not isinstance(rule, dict):
            return form_error(path, "BASE_TYPE_DICT", "Must be an object.")
        if parse_time(rule.get("start")) != start:
            return form_error(
                [*path, "start"],
                "GUILD_SCHEDULED_EVENT_RECURRENCE_RULE_START_MISMATCH",
                "The recurrence start must match the event's start.",
            )
        frequency = rule.get("frequency")
        interval = rule.get("interval", 1)
        by_weekday = rule.get("by_weekday")
        by_n_weekday = rule.get("by_n_weekday")
        valid = False
        if frequency == 3:  # daily
            valid = interval == 1 and by_n_weekday is None
        elif frequency == 2:  # weekly
            valid = (
                interval in (1, 2)
                and isinstance(by_weekday, list)
                and len(by_weekday) == 1
                and by_weekday[0] in range(7)
                and by_n_weekday is None
            )
        elif frequency == 1:  # monthly
            valid = (
                interval == 1
                and by_weekday is None
                and isinstance(by_n_weekday, list)
                and len(by_n_weekday) == 1
                and by_n_weekday[0].get("n") in range(1, 6)
                and by_n_weekday[0].get("day") in range(7)
            )
        elif frequency == 0:  # yearly
            valid = (
                interval == 1
                and len(rule.get("by_month") or []) == 1
                and len(rule.get("by_month_day") or []) == 1
            )
        if not valid:
            return form_error(
                path,
                "GUILD_SCHEDULED_EVENT_RECURRENCE_RULE_INVALID",
                "This recurrence rule is not supported.",
            )
        return None

    @classmethod
    def _event_error(cls, event: JSON) -> web.Response | None:
        name = event.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return form_error(
                ["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        description = event.get("description")
        if isinstance(description, str) and len(description) > 1000:
            return form_error(
                ["description"], "BASE_TYPE_MAX_LENGTH", "Must be 1000 or fewer in length."
            )
        if event.get("privacy_level") != 2:
            return form_error(["privacy_level"], "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        start = parse_time(event.get("scheduled_start_time"))
        if start is None:
            return form_error(
                ["scheduled_start_time"], "BASE_TYPE_REQUIRED", "This field is required"
            )
        end = parse_time(event.get("scheduled_end_time"))
        entity_type = event.get("entity_type")
        if entity_type == 3:
            metadata = event.get("entity_metadata") or {}
            if not metadata.get("location"):
                return form_error(
                    ["entity_metadata", "location"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            if end is None:
                return form_error(
                    ["scheduled_end_time"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            if event.get("channel_id") is not None:
                return form_error(
                    ["channel_id"], "GUILD_SCHEDULED_EVENT_CHANNEL_INVALID", "Must be null"
                )
        elif entity_type in (1, 2):
            if event.get("channel_id") is None:
                return form_error(["channel_id"], "BASE_TYPE_REQUIRED", "This field is required")
        else:
            return form_error(
                ["entity_type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}."
            )
        if end is not None and end <= start:
            return form_error(
                ["scheduled_end_time"],
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )
        if event.get("recurrence_rule") is not None:
            return cls._recurrence_error(event["recurrence_rule"], start)
        return None

    async def list_events(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        events = [e for e in self.fake.scheduled_events.values() if e["guild_id"] == str(guild.id)]
        return json_response(events)

    async def create_event(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        guild = self._guild(request)
        if guild is None:
            return unknown("Guild", 10004)
        refused = self._cannot_manage_events(guild)
        if refused is not None:
            return refused
        body: JSON = request[BODY]
        event = fake.scheduled_event_payload(guild, body, fake.snowflakes.next())
        problem = self._event_error(event)
        if problem is not None:
            return problem
        start = parse_time(event["scheduled_start_time"])
        if start is not None and start < dt.datetime.now(tz=dt.UTC):
            return form_error(
                ["scheduled_start_time"],
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        fake.scheduled_events[int(event["id"])] = event
        fake.scheduled_event_log.append(("create", dict(event)))
        await fake.gateway.broadcast(
            "GUILD_SCHEDULED_EVENT_CREATE", event, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        return json_response(event)

    async def get_event(self, request: web.Request) -> web.StreamResponse:
        event = self._event(request)
        return json_response(event) if event else unknown("Guild Scheduled Event", 10070)

    async def edit_event(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        event = self._event(request)
        if event is None:
            return unknown("Guild Scheduled Event", 10070)
        refused = self._cannot_manage_events(self._guild(request))
        if refused is not None:
            return refused
        body: JSON = request[BODY]
        updated = dict(event)
        for key in (
            "name",
            "description",
            "scheduled_start_time",
            "scheduled_end_time",
            "privacy_level",
            "status",
            "entity_type",
            "entity_metadata",
            "channel_id",
            "recurrence_rule",
        ):
            if key in body:
                value = body[key]
                updated[key] = str(value) if key == "channel_id" and value is not None else value
        problem = self._event_error(updated)
        if problem is not None:
            return problem
        event.clear()
        event.update(updated)
        fake.scheduled_event_log.append(("update", dict(event)))
        await fake.gateway.broadcast(
            "GUILD_SCHEDULED_EVENT_UPDATE", event, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        return json_response(event)

    async def delete_event(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        event = self._event(request)
        if event is None:
            return unknown("Guild Scheduled Event", 10070)
        refused = self._cannot_manage_events(self._guild(request))
        if refused is not None:
            return refused
        del fake.scheduled_events[int(event["id"])]
        fake.event_interest.pop(int(event["id"]), None)
        fake.scheduled_event_log.append(("delete", dict(event)))
        await fake.gateway.broadcast(
            "GUILD_SCHEDULED_EVENT_DELETE", event, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        return no_content()

    # -------------------------------------------------- application commands

    def _command_scope(self, request: web.Request) -> tuple[list[JSON], int | None] | web.Response:
        fake = self.fake
        if request.match_info["application_id"] != str(fake.application_id):
            return unknown("Application", 10002)
        guild_id_text = request.match_info.get("guild_id")
        if guild_id_text is None:
            return fake.global_commands, None
        guild_id = int(guild_id_text)
        if guild_id not in fake.guilds:
            return error(403, 50001, "Missing Access")
        return fake.guild_commands.setdefault(guild_id, []), guild_id

    @classmethod
    def _option_error(cls, option: Any, path: list[str | int]) -> web.Response | None:
        if not isinstance(option, dict):
            return form_error(
                path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"
            )
        name = option.get("name")
        if not isinstance(name, str) or not COMMAND_NAME.match(name) or name != name.lower():
            return form_error(
                [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        for locale, local in (option.get("name_localizations") or {}).items():
            where = [*path, "name_localizations", locale]
            if locale not in LOCALES:
                return form_error(
                    where, "BASE_TYPE_CHOICES", f"Value must be one of {tuple(sorted(LOCALES))}."
                )
            if (
                not isinstance(local, str)
                or not COMMAND_NAME.match(local)
                or local != local.lower()
            ):
                return form_error(
                    where, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
        description = option.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            return form_error(
                [*path, "description"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        if len(option.get("choices") or []) > 25:
            return form_error(
                [*path, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for index, choice in enumerate(option.get("choices") or []):
            problem = cls._choice_error(choice, [*path, "choices", index])
            if problem is not None:
                return problem
        return cls._options_error(option.get("options") or [], [*path, "options"])

    @staticmethod
    def _choice_error(choice: Any, path: list[str | int]) -> web.Response | None:
        """A choice as Discord checks it: a name of 1-100 characters, a value, and
        ``name_localizations`` by Discord locale, each name of 1-100 characters."""
        if not isinstance(choice, dict) or "value" not in choice:
            return form_error([*path, "value"], "BASE_TYPE_REQUIRED", "This field is required")
        names = {None: choice.get("name"), **(choice.get("name_localizations") or {})}
        for locale, name in names.items():
            where = [*path, "name"] if locale is None else [*path, "name_localizations", locale]
            if locale is not None and locale not in LOCALES:
                return form_error(
                    where,
                    "BASE_TYPE_CHOICES",
                    f"Value must be one of {tuple(sorted(LOCALES))}.",
                )
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                return form_error(
                    where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
        return None

    @classmethod
    def _options_error(cls, options: list[Any], path: list[str | int]) -> web.Response | None:
        if len(options) > 25:
            return form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        names: set[tuple[str | None, str]] = set()
        for index, option in enumerate(options):
            problem = cls._option_error(option, [*path, index])
            if problem is not None:
                return problem
            # each locale's names are unique too (an option without one shows its own name)
            shown = {(None, option["name"])} | {
                (locale, (option.get("name_localizations") or {}).get(locale, option["name"]))
                for locale in {loc for o in options for loc in (o.get("name_localizations") or {})}
            }
            if shown & names:
                return form_error(
                    [*path, index, "name"],
                    "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                    "Option name already exists",
                )
            names |= shown
            if option.get("type") in (1, 2):
                continue
            if option.get("required"):
                if seen_optional:
                    return form_error(
                        [*path, index],
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
        return None

    @classmethod
    def _command_error(cls, command: Any, index: int) -> web.Response | None:
        if not isinstance(command, dict):
            return form_error(
                [index], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType"
            )
        kind = int(command.get("type", 1))
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            return form_error(
                [index, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if kind == 1:
            return cls._option_error(command, [index])
        return None

    def _store_command(self, existing: list[JSON], command: JSON, guild_id: int | None) -> JSON:
        fake = self.fake
        kind = int(command.get("type", 1))
        previous = next(
            (c for c in existing if c["name"] == command["name"] and int(c.get("type", 1)) == kind),
            None,
        )
        entry: JSON = {
            "id": previous["id"] if previous else str(fake.snowflakes.next()),
            "application_id": str(fake.application_id),
            "version": str(fake.snowflakes.next()),
            "type": kind,
            "name": command["name"],
            "description": command.get("description", ""),
            "options": command.get("options") or [],
            "default_member_permissions": command.get("default_member_permissions"),
            "dm_permission": command.get("dm_permission", True),
            "nsfw": bool(command.get("nsfw", False)),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
            "name_localizations": command.get("name_localizations"),
            "description_localizations": command.get("description_localizations"),
        }
        if guild_id is not None:
            entry["guild_id"] = str(guild_id)
        return entry

    async def get_commands(self, request: web.Request) -> web.StreamResponse:
        scope = self._command_scope(request)
        if isinstance(scope, web.Response):
            return scope
        if request.query.get("with_localizations", "").lower() == "true":
            return json_response(scope[0])
        # as Discord: the localisation maps only when asked for
        return json_response(_without_localizations(scope[0]))

    async def put_commands(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        scope = self._command_scope(request)
        if isinstance(scope, web.Response):
            return scope
        existing, guild_id = scope
        body = request[BODY]
        if not isinstance(body, list):
            return form_error([], "BASE_TYPE_ARRAY", "Must be an array")
        if len(body) > 100:
            return form_error([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        seen: set[tuple[str, int]] = set()
        for index, command in enumerate(body):
            problem = self._command_error(command, index)
            if problem is not None:
                return problem
            key = (str(command["name"]), int(command.get("type", 1)))
            if key in seen:
                return form_error(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[0]}",
                )
            seen.add(key)
        stored = [self._store_command(existing, command, guild_id) for command in body]
        existing[:] = stored
        fake.command_syncs.append(CommandSync(len(fake.command_syncs), guild_id, list(stored)))
        return json_response(stored)

    async def post_command(self, request: web.Request) -> web.StreamResponse:
        scope = self._command_scope(request)
        if isinstance(scope, web.Response):
            return scope
        existing, guild_id = scope
        body: JSON = request[BODY]
        problem = self._command_error(body, 0)
        if problem is not None:
            return problem
        entry = self._store_command(existing, body, guild_id)
        replaced = [i for i, c in enumerate(existing) if c["id"] == entry["id"]]
        if replaced:
            existing[replaced[0]] = entry
            return json_response(entry, 200)
        existing.append(entry)
        return json_response(entry, 201)

    async def get_command(self, request: web.Request) -> web.StreamResponse:
        scope = self._command_scope(request)
        if isinstance(scope, web.Response):
            return scope
        command_id = request.match_info["command_id"]
        command = next((c for c in scope[0] if c["id"] == command_id), None)
        return json_response(command) if command else unknown("application command", 10063)

    async def delete_command(self, request: web.Request) -> web.StreamResponse:
        scope = self._command_scope(request)
        if isinstance(scope, web.Response):
            return scope
        command_id = request.match_info["command_id"]
        kept = [c for c in scope[0] if c["id"] != command_id]
        if len(kept) == len(scope[0]):
            return unknown("application command", 10063)
        scope[0][:] = kept
        return no_content()

    # ---------------------------------------------------------- interactions

    def _interaction_message(
        self, pending: PendingInteraction, body: JSON, files: list[RecordedFile], *, flags: int
    ) -> JSON:
        fake = self.fake
        channel = fake.channels[pending.channel_id]
        data = pending.data
        metadata: JSON = {
            "id": str(pending.id),
            "type": pending.type,
            "user": pending.user.payload(),
            "authorizing_integration_owners": pending.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        message_type = 0
        if pending.type == APPLICATION_COMMAND:
            message_type = 20
            metadata["name"] = data.get("name")
            metadata["command_type"] = data.get("type", 1)
        message = fake._build_message(
            channel=channel,
            author=fake.bot_user,
            content=str(body.get("content") or ""),
            embeds=body.get("embeds"),
            components=body.get("components"),
            attachments=fake._attachments(channel, body, files),
            flags=flags,
            tts=bool(body.get("tts", False)),
            allowed_mentions=body.get("allowed_mentions"),
            webhook_id=fake.application_id,
            message_type=message_type,
        )
        message["interaction_metadata"] = metadata
        if pending.type == APPLICATION_COMMAND:
            message["interaction"] = {
                "id": str(pending.id),
                "type": pending.type,
                "name": data.get("name"),
                "user": pending.user.payload(),
            }
        return message

    async def interaction_callback(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        try:
            pending = fake.interactions.get(int(request.match_info["webhook_id"]))
        except ValueError:
            pending = None
        if pending is None or pending.token != request.match_info["webhook_token"]:
            return unknown("interaction", 10062)
        if pending.responses:
            return error(400, 40060, "Interaction has already been acknowledged.")
        deadline = fake.interaction_deadline
        if deadline is not None and time.monotonic() - pending.created > deadline:
            record: RecordedRequest = request[RECORD]
            record.note = f"callback after the {deadline}s deadline"
            return unknown("interaction", 10062)
        body: JSON = request[BODY]
        files: list[RecordedFile] = request[FILES]
        try:
            kind = int(body.get("type", 0))
        except (TypeError, ValueError):
            kind = 0
        if kind not in ALLOWED_CALLBACKS.get(pending.type, set()):
            return form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Callback type {kind} is not valid for interaction type {pending.type}",
            )
        raw_data = body.get("data")
        data: JSON = raw_data if isinstance(raw_data, dict) else {}
        problem = self._callback_error(kind, data, files)
        if problem is not None:
            return problem
        response = InteractionResponse(
            index=len(fake.interaction_responses),
            interaction_id=pending.id,
            interaction_type=pending.type,
            type=kind,
            body=body,
            files=files,
        )
        result: JSON = {
            "interaction": {
                "id": str(pending.id),
                "type": pending.type,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            }
        }
        message: JSON | None = None
        if kind == CHANNEL_MESSAGE_WITH_SOURCE:
            flags = int(data.get("flags") or 0) & ~LOADING
            message = self._interaction_message(pending, data, files, flags=flags)
            fake._store_message(message)
            pending.original_message_id = int(message["id"])
            response.message = fake._record_message(
                "create", "interaction", message, data, files=files, interaction=pending
            )
        elif kind == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(pending, {}, [], flags=flags)
            fake._store_message(message)
            pending.original_message_id = int(message["id"])
            pending.original_loading = True
        elif kind == UPDATE_MESSAGE:
            target = fake.messages.get(pending.original_message_id or 0)
            if target is None:
                return unknown("Message", 10008)
            channel = fake.channels[int(target["channel_id"])]
            apply_edit(target, data, fake._attachments(channel, data, files))
            message = target
            response.message = fake._record_message(
                "edit", "interaction", target, data, files=files, interaction=pending
            )
        pending.responses.append(response)
        fake.interaction_responses.append(response)
        if message is not None:
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
            event = "MESSAGE_UPDATE" if kind == UPDATE_MESSAGE else "MESSAGE_CREATE"
            await fake._dispatch_message(event, message)
        return json_response(result)

    @staticmethod
    def _callback_error(kind: int, data: JSON, files: list[RecordedFile]) -> web.Response | None:
        if kind == CHANNEL_MESSAGE_WITH_SOURCE:
            return message_body_error(data, files, create=True)
        if kind == UPDATE_MESSAGE:
            return message_body_error(data, files, create=False)
        if kind == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list):
                return form_error(
                    ["data", "choices"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            if len(choices) > 25:
                return form_error(
                    ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
        if kind == MODAL:
            for key in ("custom_id", "title"):
                if not data.get(key):
                    return form_error(["data", key], "BASE_TYPE_REQUIRED", "This field is required")
            if len(str(data["title"])) > 45:
                return form_error(
                    ["data", "title"], "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length."
                )
            components = data.get("components")
            if not isinstance(components, list) or not 1 <= len(components) <= 5:
                return form_error(
                    ["data", "components"],
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
        return None

    def _webhook_interaction(self, request: web.Request) -> PendingInteraction | None:
        if request.match_info["webhook_id"] != str(self.fake.application_id):
            return None
        return self.fake.pending_for_token(request.match_info["webhook_token"])

    async def execute_webhook(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        pending = self._webhook_interaction(request)
        if pending is None or not pending.responses:
            return unknown("Webhook", 10015)
        body: JSON = request[BODY]
        files: list[RecordedFile] = request[FILES]
        problem = message_body_error(body, files, create=True)
        if problem is not None:
            return problem
        original = fake.messages.get(pending.original_message_id or 0)
        if pending.original_loading and original is not None:
            # The first followup after a "thinking" defer replaces the loading message.
            keep = int(original.get("flags", 0)) & EPHEMERAL
            flags = keep | (int(body.get("flags") or 0) & ~(EPHEMERAL | LOADING))
            message = self._interaction_message(pending, body, files, flags=flags)
            message["id"] = original["id"]
            message["timestamp"] = original["timestamp"]
            fake._store_message(message)
            pending.original_loading = False
            fake._record_message(
                "create",
                "followup",
                message,
                body,
                files=files,
                interaction=pending,
                replaced_original=True,
            )
            await fake._dispatch_message("MESSAGE_UPDATE", message)
        else:
            flags = int(body.get("flags") or 0) & ~LOADING
            message = self._interaction_message(pending, body, files, flags=flags)
            fake._store_message(message)
            pending.followup_ids.append(int(message["id"]))
            fake._record_message(
                "create", "followup", message, body, files=files, interaction=pending
            )
            await fake._dispatch_message("MESSAGE_CREATE", message)
        if request.query.get("wait", "0").lower() in ("1", "true"):
            return json_response(message)
        return no_content()

    def _webhook_target(
        self, request: web.Request
    ) -> tuple[PendingInteraction, JSON, bool] | web.Response:
        pending = self._webhook_interaction(request)
        if pending is None:
            return unknown("Webhook", 10015)
        raw_id = request.match_info.get("message_id", "@original")
        is_original = raw_id == "@original"
        try:
            message_id = pending.original_message_id if is_original else int(raw_id)
        except ValueError:
            return unknown("Message", 10008)
        if message_id is None or not (
            message_id == pending.original_message_id or message_id in pending.followup_ids
        ):
            return unknown("Message", 10008)
        message = self.fake.messages.get(message_id)
        if message is None:
            return unknown("Message", 10008)
        return pending, message, message_id == pending.original_message_id

    async def get_webhook_message(self, request: web.Request) -> web.StreamResponse:
        target = self._webhook_target(request)
        if isinstance(target, web.Response):
            return target
        return json_response(target[1])

    async def edit_webhook_message(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        target = self._webhook_target(request)
        if isinstance(target, web.Response):
            return target
        pending, message, is_original = target
        body: JSON = request[BODY]
        files: list[RecordedFile] = request[FILES]
        problem = message_body_error(body, files, create=False)
        if problem is not None:
            return problem
        channel = fake.channels[int(message["channel_id"])]
        apply_edit(message, body, fake._attachments(channel, body, files))
        if is_original:
            pending.original_loading = False
        source: Any = "interaction" if is_original else "followup"
        record: RecordedMessage = fake._record_message(
            "edit", source, message, body, files=files, interaction=pending
        )
        await fake._dispatch_message("MESSAGE_UPDATE", message)
        return json_response(record.message)

    async def delete_webhook_message(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        target = self._webhook_target(request)
        if isinstance(target, web.Response):
            return target
        pending, message, is_original = target
        del fake.messages[int(message["id"])]
        source: Any = "interaction" if is_original else "followup"
        fake._record_message("delete", source, message, {}, interaction=pending)
        await fake._dispatch_message_delete(message)
        return no_content()

    # ------------------------------------------------------------------ CDN

    async def get_attachment(self, request: web.Request) -> web.StreamResponse:
        try:
            blob = self.fake.attachment_blobs.get(int(request.match_info["attachment_id"]))
        except ValueError:
            blob = None
        if blob is None:
            return web.Response(status=404)
        content_type, data = blob
        return web.Response(body=data, headers={"Content-Type": content_type})


def _without_localizations(value: Any) -> Any:
    """``value`` without ``name_localizations`` / ``description_localizations`` at any depth."""
    if isinstance(value, dict):
        return {
            k: _without_localizations(v)
            for k, v in value.items()
            if k not in ("name_localizations", "description_localizations")
        }
    if isinstance(value, list):
        return [_without_localizations(v) for v in value]
    return value
