"""Where an answer goes: the room, an ephemeral answer, or the caller's direct messages.

A reply marked ``private`` must never be posted where others read it.  Only some messages
can be answered so that just their sender sees it (a Discord interaction, the console:
:attr:`~chatbot.messages.events.Incoming.ephemeral`); a private answer to any other message
in a shared room (every Matrix message, a Discord prefix command) goes to the caller's direct
messages, and the room gets a short notice that it went there.  This is decided here, in the
core, so adapters need no code of their own for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from chatbot.base.errors import new_ref
from chatbot.base.i18n import Msg, _
from chatbot.base.logs import get_logger
from chatbot.dispatch.adapter import DirectMessageHelp
from chatbot.messages.events import Outgoing, Reply

if TYPE_CHECKING:
    from chatbot.dispatch.context import Context

log = get_logger("chatbot.runtime.replies")

SENT_DIRECT = _("I've sent you a direct message.")
SENT_PRIVATE = _("That answer is only for you: I've sent it to you in a direct message.")
NO_DIRECT = _(
    "I couldn't send you a direct message: do you accept messages from members of this "
    "server or room? Allow them and ask again."
)
NO_DIRECT_PRIVATE = _(
    "That answer is only for you, and I couldn't send you a direct message: do you accept "
    "messages from members of this server or room? Allow them, or ask me in a direct message."
)
#: the same, where the adapter says how to let the bot message them (what follows)
COULD_NOT_DM = _("I couldn't send you a direct message.")
COULD_NOT_DM_PRIVATE = _(
    "That answer is only for you, and I couldn't send you a direct message, so I won't show "
    "it here."
)
NO_DMS_HERE = _(
    "That answer is only for you, and I can't send direct messages on this platform, so I "
    "won't show it here."
)


async def send_reply(ctx: Context, reply: Reply) -> None:
    """Send ``reply`` to the message ``ctx`` answers, where its privacy allows; a failure
    is logged (there is nobody left to tell)."""
    reader = ctx.known_reader() or await ctx.reader()
    room = ctx.room
    incoming = ctx.incoming
    whisper = incoming.ephemeral
    # positional, and the clock read directly: this runs for every reply
    out = Outgoing(room, reply, reader, incoming, "", ctx.host.clock.now())
    try:
        if not room.is_direct and (reply.direct or (reply.private and not whisper)):
            await _send_direct(ctx, out, whisper)
            return
        if reply.aside:
            # ephemeral where this message allows it, otherwise a plain reply in the room
            reply = msgspec.structs.replace(reply, private=whisper, aside=False)
            out = msgspec.structs.replace(out, reply=reply)
        await ctx.adapter.send(out)
    except Exception:
        log.exception("send_failed", ref=new_ref(), room=room.id, member=ctx.member.id)


async def _send_direct(ctx: Context, out: Outgoing, whisper: bool) -> None:
    """The reply by direct message, and a notice in the room saying where it went (or why
    it could not go there: a private reply is then withheld, never posted in the room)."""
    adapter = ctx.adapter
    reply = out.reply
    if not adapter.capabilities.direct_messages:
        if reply.private:
            await adapter.send(_with(out, Reply.of(NO_DMS_HERE, private=whisper)))
        else:
            await adapter.send(out)
        return
    sent = await adapter.send_direct(ctx.member, out)
    if sent is not None:
        note: tuple[Msg | str, ...] = (
            SENT_PRIVATE if reply.private and not reply.direct else SENT_DIRECT,
        )
    elif isinstance(adapter, DirectMessageHelp):  # the platform's own way to allow them
        failed = COULD_NOT_DM_PRIVATE if reply.private else COULD_NOT_DM
        note = (failed, " ", adapter.direct_message_help())
    else:
        note = (NO_DIRECT_PRIVATE if reply.private else NO_DIRECT,)
    await adapter.send(_with(out, Reply.of(*note, private=whisper)))


def _with(out: Outgoing, reply: Reply) -> Outgoing:
    return msgspec.structs.replace(out, reply=reply)
