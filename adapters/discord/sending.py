"""Sending: replies in channels, in direct messages and as interaction responses, cut to
Discord's size, with their buttons and files (attachments on the last piece, ten a message),
never pinging anyone but the member being answered."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from typing import Any

import discord
import msgspec

from adapters.discord.base import Interaction
from adapters.discord.forms import FormButton, Forms
from adapters.discord.interactions import CommandButton, Interactions
from adapters.discord.render import mentioned_ids, render, split_content
from chatbot.base.i18n import Msg, _, _p
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import Sent
from chatbot.messages.events import Attachment, Member, Outgoing, Reader, Reply, Room
from chatbot.messages.localise import localise, text_in

log = get_logger("adapters.discord")

MAX_BUTTONS = 25
#: attachments Discord takes on one message
MAX_FILES = 10


class Sending(Forms, Interactions):
    """``send`` and ``send_direct`` of the adapter protocol."""

    def _allowed_mentions(self, out: Outgoing) -> discord.AllowedMentions:
        """Nobody, except the member being answered when the reply mentions them."""
        target = out.in_reply_to.member if out.in_reply_to is not None else None
        if (
            target is not None
            and target.platform == self.platform
            and target.native_id.isdigit()
            and target.id in mentioned_ids(out.reply)
        ):
            return discord.AllowedMentions(
                everyone=False,
                users=[discord.Object(id=int(target.native_id))],
                roles=False,
                replied_user=False,
            )
        return discord.AllowedMentions.none()

    def _view(self, out: Outgoing) -> discord.ui.View | None:
        reply, lang = out.reply, out.reader.lang
        items: list[discord.ui.Item[Any]] = []
        if reply.form is not None:
            label = text_in(_p("button", "Open form"), lang)
            items.append(FormButton(self._remember_form(reply.form), label))
        for button in reply.buttons[: MAX_BUTTONS - len(items)]:
            label = text_in(button.label, lang) or text_in(_p("button", "Run"), lang)
            items.append(CommandButton(self._button_id(button.command), label, button.style))
        if not items:
            return None
        view = discord.ui.View(timeout=None)
        for item in items:
            view.add_item(item)
        return view

    def direct_message_help(self) -> Msg:
        """What a member whose DMs are closed to the bot can do (Discord's 50007)."""
        return _(
            "To let me, click this server's name (top left), choose Privacy Settings and turn "
            "on Direct Messages; then ask again."
        )

    async def send(self, out: Outgoing) -> Sent | None:
        """Post a reply; Discord refusing it (missing access, deleted channel, bad request)
        is logged and gives None, while server errors propagate so the caller may retry."""
        out = localise(self._with_room_language(out))
        try:
            return await self._send(out)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise
            log.warning(
                "discord_send_refused",
                room=out.room.id,
                status=exc.status,
                code=exc.code,
                error=exc.text[:200],
            )
            return None

    def _with_room_language(self, out: Outgoing) -> Outgoing:
        """A post in a Community server's channel for a reader of no known language (a room
        post whose room has no ``bot.room_languages`` entry; a reply to a member who chose
        none, in such a room, by prefix command) is in the server's primary language."""
        if out.reader.lang or out.room.is_direct:
            return out
        channel = self._guild_channel(out.room)
        lang = self._room_locale(channel.guild) if channel is not None else None
        if lang is None:
            return out
        return msgspec.structs.replace(out, reader=Reader(out.reader.zone, lang))

    async def _send(self, out: Outgoing) -> Sent | None:
        client = self._require_client()
        incoming = out.in_reply_to
        handle = incoming.handle if incoming is not None else None
        same_room = incoming is not None and incoming.room.id == out.room.id
        if (
            isinstance(handle, discord.Interaction)
            and same_room
            and (handle.id in self._pending or not handle.is_expired())
        ):
            return await self._send_interaction(handle, out)
        channel = client.get_partial_messageable(int(out.room.native_id))
        reference = (
            handle.to_reference(fail_if_not_exists=False)
            if isinstance(handle, discord.Message) and same_room
            else None
        )
        return await self._send_channel(channel, out, reference)

    async def send_direct(self, member: Member, out: Outgoing) -> Sent | None:
        """Post to the member's DMs.  None only when Discord refuses with 403 (the member
        doesn't accept DMs from this server, or blocked the bot): that is what the caller
        tells the member to check.  Any other failure (a server error, the network, an
        unknown user) raises, so that the outbox tries again later."""
        client = self._require_client()
        out = localise(out)
        user_id = int(member.native_id)
        try:
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            channel = user.dm_channel or await user.create_dm()
            room = Room(f"discord:{channel.id}", self.platform, f"DM {user.name}", is_direct=True)
            return await self._send_channel(channel, msgspec.structs.replace(out, room=room), None)
        except discord.Forbidden as exc:
            log.warning("discord_dm_refused", member=member.id, status=exc.status, code=exc.code)
            return None

    async def _send_channel(
        self,
        channel: discord.abc.Messageable,
        out: Outgoing,
        reference: discord.MessageReference | None,
    ) -> Sent | None:
        chunks = _chunks(out.reply)
        if out.reply.form is not None:
            await self._keep_form(out.reply.form)
        view = self._view(out)
        groups = _file_groups(out.reply)
        if not chunks and view is None and not groups:
            return None
        allowed = self._allowed_mentions(out)
        pieces = _pieces(chunks, groups)
        first: Sent | None = None
        for index, (chunk, files) in enumerate(pieces):
            last = index == len(pieces) - 1
            options: dict[str, Any] = {"allowed_mentions": allowed}
            if index == 0 and reference is not None:
                options["reference"] = reference
            if last and view is not None:
                options["view"] = view
            if files:
                options["files"] = _discord_files(files)
            if out.delivery_id:
                options["nonce"] = _nonce(out.delivery_id, index)  # sent with enforce_nonce
            message = await channel.send(chunk or None, **options)
            if first is None:
                first = Sent(out.room.id, str(message.id))
        return first

    async def _send_interaction(self, interaction: Interaction, out: Outgoing) -> Sent | None:
        pending = self._pending.get(interaction.id)
        lock = pending.lock if pending is not None else asyncio.Lock()
        private = out.reply.private or (pending is not None and pending.private)
        async with lock:
            response = interaction.response
            form = out.reply.form
            if (
                form is not None
                and not response.is_done()
                and interaction.type
                in (discord.InteractionType.application_command, discord.InteractionType.component)
            ):
                # nothing was sent yet: the modal itself is the answer
                modal = self._modal(interaction, await self._keep_form(form), 0, out.reader.lang)
                if modal is not None:
                    await response.send_modal(modal)
                    if pending is not None:
                        pending.answered = True
                    return Sent(out.room.id, str(interaction.id))
            chunks = _chunks(out.reply)
            if form is not None:
                await self._keep_form(form)
            view = self._view(out)
            groups = _file_groups(out.reply)
            if not chunks and view is None and not groups:
                return None
            allowed = self._allowed_mentions(out)
            if private and pending is not None and not pending.private and not pending.answered:
                await self._drop_public_deferral(interaction)
            pieces = _pieces(chunks, groups)
            first: Sent | None = None
            for index, (chunk, files) in enumerate(pieces):
                attach = view if index == len(pieces) - 1 and view is not None else None
                message_id = await self._interaction_message(
                    interaction, chunk, attach, private, allowed, files
                )
                if pending is not None:
                    pending.answered = True
                if first is None:
                    first = Sent(out.room.id, str(message_id))
            return first

    async def _drop_public_deferral(self, interaction: Interaction) -> None:
        """A private answer to a command deferred in public: the first follow-up would
        replace the public "thinking…" message, and stay public, so remove it first; the
        answer then goes out as an ephemeral follow-up of its own."""
        if interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    async def _interaction_message(
        self,
        interaction: Interaction,
        content: str,
        view: discord.ui.View | None,
        private: bool,
        allowed: discord.AllowedMentions,
        files: tuple[Attachment, ...] = (),
    ) -> int | None:
        """The first answer as the interaction response, any further one as a follow-up."""
        options: dict[str, Any] = {"ephemeral": private, "allowed_mentions": allowed}
        if view is not None:
            options["view"] = view
        if files:
            options["files"] = _discord_files(files)
        if not interaction.response.is_done():
            callback = await interaction.response.send_message(content or None, **options)
            return callback.message_id
        message = await interaction.followup.send(
            content or discord.utils.MISSING, wait=True, **options
        )
        return message.id


def _chunks(reply: Reply) -> list[str]:
    content = render(reply)
    return split_content(content) if content else []


def _file_groups(reply: Reply) -> list[tuple[Attachment, ...]]:
    """The reply's files, :data:`MAX_FILES` a message."""
    files = reply.files
    return [files[i : i + MAX_FILES] for i in range(0, len(files), MAX_FILES)]


def _pieces(
    chunks: list[str], groups: list[tuple[Attachment, ...]]
) -> list[tuple[str, tuple[Attachment, ...]]]:
    """Each message to post: the text's pieces, the first files on the last of them, and any
    further files in messages of their own."""
    pieces: list[tuple[str, tuple[Attachment, ...]]] = [(c, ()) for c in chunks or [""]]
    if groups:
        pieces[-1] = (pieces[-1][0], groups[0])
        pieces.extend(("", group) for group in groups[1:])
    return pieces


def _discord_files(files: tuple[Attachment, ...]) -> list[discord.File]:
    """Fresh ``discord.File`` objects (one is spent by each upload, retries included)."""
    return [discord.File(io.BytesIO(f.data), filename=f.filename) for f in files]


def _nonce(delivery_id: str, index: int) -> str:
    """A Discord nonce (at most 25 characters) stable for one delivery and piece."""
    return hashlib.sha256(f"{delivery_id}\x00{index}".encode()).hexdigest()[:25]
