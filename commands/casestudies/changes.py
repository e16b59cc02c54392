"""A study's state changes (withdraw, claim, accept, reject, publish…), retried on fresh data
when another change got there first, and the contributor's notification, queued in the
same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from chatbot.base.errors import UserError
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.dispatch.context import Context
from chatbot.messages.events import Member, Plain, Reply
from chatbot.storage.conditional import retrying
from commands.casestudies import store_of
from commands.casestudies.store import TRANSITIONS, CaseStudyRow, Study

T = TypeVar("T")


async def _retrying(number: int | None, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (one transaction) again while the study changed under it: the next
    read sees the change, and either applies on top of it or is refused saying what it was."""
    busy = f"Case study #{number} is being changed by others right now; try again in a moment."
    return await retrying(attempt, busy=busy)


def _to_member(study: CaseStudyRow | Study, reply: Reply) -> list[Delivery]:
    if not study.member_id:
        return []
    platform = study.member_id.partition(":")[0]
    member = Member(study.member_id, platform, study.member_name or study.member_id)
    return [Delivery(platform, reply, member=member, ref=f"casestudy:{study.id}")]


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
            raise UserError(f"Case study #{number} isn't yours.")
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
            deliveries = _to_member(
                row,
                Reply.of(
                    f"Your case study #{number} (",
                    title,
                    ") needs changes before it can be accepted. The reviewer says: ",
                    Plain(note or ""),
                    f"\n`{ctx.prefix}casestudy revise {number}` lets you change it and "
                    "send it again.",
                ),
            )
        elif action in ("accept", "publish"):
            deliveries = _to_member(
                row, Reply.of(f"Good news: your case study #{number} (", title, f") is {action}ed.")
            )
        if deliveries:
            await outbox_of(ctx.host).enqueue(session, deliveries)
    return study, deliveries
