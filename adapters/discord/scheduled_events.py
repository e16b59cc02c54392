"""Meetings as Guild Scheduled Events (the server's Events tab): publishing, updating and
cancelling them through Discord's REST API, and passing on who marks themselves interested.

Enabled by ``scheduled_events = true``; the meetings feature decides what to publish."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import discord
import discord.http

from adapters.discord.base import DiscordBase, clip, find_user
from adapters.discord.render import render
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import EventInterest, EventRecurrence, EventRef, EventSpec
from chatbot.messages.events import Member, Room

log = get_logger("adapters.discord")

#: in a raw gateway message: someone marked or unmarked interest in an event
INTEREST_MARK = '"GUILD_SCHEDULED_EVENT_USER_'
#: Discord's recurrence frequencies (YEARLY = 0 is not produced by meetings)
_FREQUENCIES = {"monthly": 1, "weekly": 2, "daily": 3}
_EXTERNAL = 3
_GUILD_ONLY = 2


class ScheduledEvents(DiscordBase):
    """The adapter's side of :class:`chatbot.dispatch.adapter.EventPublisher`."""

    @property
    def publishes_events(self) -> bool:
        return self.settings.scheduled_events

    def event_scope(self, room: Room) -> str | None:
        """The guild of a channel room (from the gateway cache), None for DMs and unknowns."""
        if room.platform != self.platform or self.client is None:
            return None
        channel = self._guild_channel(room)
        return str(channel.guild.id) if channel is not None else None

    async def publish_event(self, scope: str, spec: EventSpec) -> EventRef:
        """Create an external Guild Scheduled Event; raises :class:`discord.HTTPException`
        (e.g. 403 without Manage Events) so the caller's job retries."""
        client = self._require_client()
        if spec.key:
            # a publish whose answer was lost (crash, timeout) left an event: adopt it
            found = await self._our_event(client, scope, spec.key)
            if found is not None:
                return await self.update_event(EventRef(scope, found), spec)
        body = _event_body(spec)
        route = discord.http.Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=scope)
        data = await client.http.request(route, json=body)
        log.info("discord_event_published", guild=scope, event_id=data["id"])
        return EventRef(scope, str(data["id"]), recurring=body.get("recurrence_rule") is not None)

    async def _our_event(self, client: discord.Client, scope: str, key: str) -> str | None:
        route = discord.http.Route("GET", "/guilds/{guild_id}/scheduled-events", guild_id=scope)
        mark = _event_mark(key)
        me = str(client.user.id) if client.user is not None else ""
        for event in await client.http.request(route):
            description = str(event.get("description") or "")
            if str(event.get("creator_id")) == me and description.endswith(mark):
                return str(event["id"])
        return None

    async def update_event(self, ref: EventRef, spec: EventSpec) -> EventRef:
        body = _event_body(spec)
        if ref.recurring and body.get("recurrence_rule") is None:
            body["recurrence_rule"] = None  # no longer expressible: drop the old rule
        route = discord.http.Route(
            "PATCH",
            "/guilds/{guild_id}/scheduled-events/{event_id}",
            guild_id=ref.scope,
            event_id=ref.event_id,
        )
        try:
            await self._require_client().http.request(route, json=body)
        except discord.NotFound:
            raise LookupError(ref.event_id) from None
        return EventRef(ref.scope, ref.event_id, recurring=body.get("recurrence_rule") is not None)

    async def cancel_event(self, ref: EventRef) -> None:
        route = discord.http.Route(
            "DELETE",
            "/guilds/{guild_id}/scheduled-events/{event_id}",
            guild_id=ref.scope,
            event_id=ref.event_id,
        )
        with contextlib.suppress(discord.NotFound):
            await self._require_client().http.request(route)

    async def _on_raw_interest(self, msg: str) -> None:
        hook = self.on_event_interest
        if hook is None:
            return
        try:
            data = json.loads(msg)
            kind = data["t"]
            body = data["d"]
            guild_id = int(body["guild_id"])
            user_id = int(body["user_id"])
            event_id = str(body["guild_scheduled_event_id"])
        except (ValueError, KeyError, TypeError):
            return
        if kind not in ("GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE"):
            return
        member = await self._member_by_id(guild_id, user_id)
        interest = EventInterest(
            self.platform,
            str(guild_id),
            event_id,
            member,
            interested=kind.endswith("_ADD"),
        )
        await self._spawn(hook(interest))

    async def _member_by_id(self, guild_id: int, user_id: int) -> Member:
        """The member with their display name; just the id when Discord won't say."""
        client = self._require_client()
        try:
            return self._member(await find_user(client, client.get_guild(guild_id), user_id))
        except discord.HTTPException as exc:
            log.warning("discord_member_unknown", user=user_id, status=exc.status)
            return Member(f"discord:{user_id}", self.platform, str(user_id))


def _event_body(spec: EventSpec) -> dict[str, Any]:
    """The REST body of an external event; the recurrence only within Discord's subset."""
    mark = _event_mark(spec.key) if spec.key else ""
    body: dict[str, Any] = {
        "name": clip(spec.title, 100),
        "description": clip(render(spec.description), 1000 - len(mark)) + mark,
        "privacy_level": _GUILD_ONLY,
        "entity_type": _EXTERNAL,
        "entity_metadata": {"location": clip(spec.location, 100)},
        "scheduled_start_time": spec.starts_at.isoformat(),
        "scheduled_end_time": spec.ends_at.isoformat(),
    }
    rule = recurrence_rule(spec.recurrence, spec.starts_at.isoformat())
    if rule is not None:
        body["recurrence_rule"] = rule
    return body


def _event_mark(key: str) -> str:
    """The last line of an event's description naming what it publishes (Discord events
    carry no hidden metadata)."""
    return f"\n(ref {key})"


def recurrence_rule(recurrence: EventRecurrence | None, start: str) -> dict[str, Any] | None:
    """Discord's recurrence rule for ``recurrence``, or None outside the subset Discord
    accepts: every day; every week or two on one weekday; monthly on the 1st–5th weekday."""
    if recurrence is None or recurrence.frequency not in _FREQUENCIES:
        return None
    rule: dict[str, Any] = {
        "start": start,
        "end": None,
        "frequency": _FREQUENCIES[recurrence.frequency],
        "interval": recurrence.interval,
        "by_weekday": None,
        "by_n_weekday": None,
        "by_month": None,
        "by_month_day": None,
        "by_year_day": None,
        "count": None,
    }
    weekday = recurrence.weekday
    if recurrence.frequency == "daily":
        return rule if recurrence.interval == 1 else None
    if weekday is None or not 0 <= weekday <= 6:
        return None
    if recurrence.frequency == "weekly":
        if recurrence.interval not in (1, 2):
            return None
        rule["by_weekday"] = [weekday]
        return rule
    nth = recurrence.nth
    if recurrence.interval != 1 or nth is None or not 1 <= nth <= 5:
        return None
    rule["by_n_weekday"] = [{"n": nth, "day": weekday}]
    return rule
