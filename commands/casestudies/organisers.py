"""Organisers' review commands: ``!casestudy pending``, ``claim``, ``accept``, ``reject``,
``publish``, ``unpublish`` and ``reviewroom``."""

from __future__ import annotations

from typing import Literal

from chatbot.base.errors import UserError
from chatbot.base.i18n import _, _p, verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Bullets, Reply
from commands.casestudies import casestudy, store_of
from commands.casestudies.changes import _move
from commands.casestudies.contributors import _line
from commands.casestudies.store import SUBMITTED


@casestudy.command(
    help=_("Case studies waiting for review (submitted, in review, accepted)."),
    level=Level.ORGANISER,
    examples=["casestudy pending"],
    private=True,
)
async def pending(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).in_states((SUBMITTED, "in_review", "accepted"))
    if not studies:
        return Reply.of(_("No case study is waiting."), aside=True)
    return Reply.of(_("Waiting:"), "\n", Bullets(tuple(_line(s) for s in studies)), private=True)


@casestudy.command(
    help=_("Start reviewing a submitted case study."),
    level=Level.ORGANISER,
    examples=["casestudy claim 12"],
)
async def claim(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "claim")
    return Reply.of(_("You're reviewing case study #{id}.", id=str(number)))


@casestudy.command(
    help=_("Accept a case study you reviewed."),
    level=Level.ORGANISER,
    examples=["casestudy accept 12"],
)
async def accept(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "accept")
    return Reply.of(
        _(
            "Case study #{id} is accepted; `{prefix}casestudy publish {id}` publishes it.",
            id=str(number),
            prefix=ctx.prefix,
        )
    )


@casestudy.command(
    help=_("Reject a case study, saying why (the contributor is told)."),
    level=Level.ORGANISER,
    examples=[
        verbatim(
            "casestudy reject 12 {reason}",
            reason=_p(
                "a reason for rejecting a case study, in a command example", "please add numbers"
            ),
        )
    ],
)
async def reject(ctx: Context, number: int, reason: str) -> Reply:
    if len(reason.strip()) < 3:
        raise UserError(_("Say why, so the contributor can fix it."))
    await _move(ctx, number, "reject", note=reason.strip())
    return Reply.of(
        _("Case study #{id} is rejected; I've told the contributor why.", id=str(number))
    )


@casestudy.command(
    help=_("Publish an accepted case study."),
    level=Level.ORGANISER,
    examples=["casestudy publish 12"],
)
async def publish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "publish")
    return Reply.of(_("Case study #{id} is published.", id=str(number)))


@casestudy.command(
    help=_("Take a published case study back to accepted."),
    level=Level.ORGANISER,
    examples=["casestudy unpublish 12"],
)
async def unpublish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "unpublish")
    return Reply.of(_("Case study #{id} is no longer published.", id=str(number)))


@casestudy.command(
    help=_("Send new submissions to this room."),
    level=Level.ORGANISER,
    examples=["casestudy reviewroom here"],
    params={"where": verbatim("`here`")},
)
async def reviewroom(ctx: Context, where: Literal["here"]) -> Reply:
    room = ctx.room
    await store_of(ctx.host).set_review_room(
        {"id": room.id, "platform": room.platform, "name": room.name}
    )
    return Reply.of(_("New case studies will be announced in this room."))
