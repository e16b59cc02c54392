"""Organisers' review commands: ``!casestudy pending``, ``claim``, ``accept``, ``reject``,
``publish``, ``unpublish`` and ``reviewroom``."""

from __future__ import annotations

from typing import Literal

from chatbot.base.errors import UserError
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Bullets, Reply
from commands.casestudies import casestudy, store_of
from commands.casestudies.changes import _move
from commands.casestudies.contributors import _line
from commands.casestudies.store import SUBMITTED


@casestudy.command(
    help="Case studies waiting for review (submitted, in review, accepted).",
    level=Level.ORGANISER,
    examples=["casestudy pending"],
    private=True,
)
async def pending(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).in_states((SUBMITTED, "in_review", "accepted"))
    if not studies:
        return Reply.of("No case study is waiting.", aside=True)
    return Reply.of("Waiting:\n", Bullets(tuple(_line(s) for s in studies)), private=True)


@casestudy.command(
    help="Start reviewing a submitted case study.",
    level=Level.ORGANISER,
    examples=["casestudy claim 12"],
)
async def claim(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "claim")
    return Reply.of(f"You're reviewing case study #{number}.")


@casestudy.command(
    help="Accept a case study you reviewed.",
    level=Level.ORGANISER,
    examples=["casestudy accept 12"],
)
async def accept(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "accept")
    return Reply.of(
        f"Case study #{number} is accepted; `{ctx.prefix}casestudy publish {number}` publishes it."
    )


@casestudy.command(
    help="Reject a case study, saying why (the contributor is told).",
    level=Level.ORGANISER,
    examples=["casestudy reject 12 please add numbers"],
)
async def reject(ctx: Context, number: int, reason: str) -> Reply:
    if len(reason.strip()) < 3:
        raise UserError("Say why, so the contributor can fix it.")
    await _move(ctx, number, "reject", note=reason.strip())
    return Reply.of(f"Case study #{number} is rejected; I've told the contributor why.")


@casestudy.command(
    help="Publish an accepted case study.", level=Level.ORGANISER, examples=["casestudy publish 12"]
)
async def publish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "publish")
    return Reply.of(f"Case study #{number} is published.")


@casestudy.command(
    help="Take a published case study back to accepted.",
    level=Level.ORGANISER,
    examples=["casestudy unpublish 12"],
)
async def unpublish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "unpublish")
    return Reply.of(f"Case study #{number} is no longer published.")


@casestudy.command(
    help="Send new submissions to this room.",
    level=Level.ORGANISER,
    examples=["casestudy reviewroom here"],
)
async def reviewroom(ctx: Context, where: Literal["here"]) -> Reply:
    room = ctx.room
    await store_of(ctx.host).set_review_room(
        {"id": room.id, "platform": room.platform, "name": room.name}
    )
    return Reply.of("New case studies will be announced in this room.")
