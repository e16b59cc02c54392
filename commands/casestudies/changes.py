"""A study's state changes (withdraw, claim, accept, reject, publish…), retried on fresh data
when another change got there first, and the contributor's notification, queued in the
same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from chatbot.base.errors import UserError
from chatbot.base.i18n import _
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.dispatch.context import Context
from chatbot.messages.events import Member, Plain, Reader, Reply
from chatbot.storage.conditional import retrying
from commands.casestudies import store_of
from commands.casestudies.store import TRANSITIONS, CaseStudyRow, Study

T = TypeVar("T")


async def _retrying(number: int | None, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (one transaction) again while the study changed under it: the next
    read sees the change, and either applies on top of it or is refused saying what it was."""
    busy = _(
        "Case study #{id} is being changed by others right now; try again in a moment.",
        id=str(number),
    )
    return await retrying(attempt, busy=busy)


async def _to_member(ctx: Context, study: CaseStudyRow | Study, reply: Reply) -> list[Delivery]:
    """A notice to the study's contributor, read in their zone and language."""
    if not study.member_id:
        return []
    platform = study.member_id.partition(":")[0]
    member = Member(study.member_id, platform, study.member_name or study.member_id)
    prefs = await ctx.host.members.prefs(member)
    reader = Reader(prefs.zone, prefs.lang)
    return [Delivery(platform, reply, member=member, reader=reader, ref=f"casestudy:{study.id}")]


async def _move(
    ctx: Context, number: int, action: str, *, note: str | None = None
) -> tuple[Study, list[Delivery]]:
    return await _retrying(number, lambda: _move_once(ctx, number, action, note))


async def _move_once(
    ctx: Context, number: int, action: str, note: str | None
) -> tuple[Study, list[Delivery]]:
    store = store_of(ctx.host)
    async with ctx.db.session() as session:
        row = await store.load(session, number)
        if not TRANSITIONS[action][2] and row.member_id != ctx.member.key:
            raise UserError(_("Case study #{id} isn't yours.", id=str(number)))
        await store.move(
            session,
            row,
            action,
            ctx.member.key,
            ctx.now(),
            actor_name=ctx.member.display_name,
            note=note,
        )
        study = Study.of(row)
        deliveries: list[Delivery] = []
        title = Plain(study.record["title"])
        if action == "reject":
            deliveries = await _to_member(
                ctx,
                row,
                Reply.of(
                    _(
                        "Your case study #{id} ({title}) needs changes before it can be "
                        "accepted. The reviewer says: {reason}\n"
                        "`{prefix}casestudy revise {id}` lets you change it and send it again.",
                        id=str(number),
                        title=title,
                        reason=Plain(note or ""),
                        prefix=ctx.prefix,
                    )
                ),
            )
        elif action == "accept":
            good = _(
                "Good news: your case study #{id} ({title}) is accepted.",
                id=str(number),
                title=title,
            )
            deliveries = await _to_member(ctx, row, Reply.of(good))
        elif action == "publish":
            good = _(
                "Good news: your case study #{id} ({title}) is published.",
                id=str(number),
                title=title,
            )
            deliveries = await _to_member(ctx, row, Reply.of(good))
        if deliveries:
            await outbox_of(ctx.host).enqueue(session, deliveries)
    return study, deliveries
