"""The submission dialogue (``!casestudy submit`` and ``resume``): started in the member's
direct messages (see the package docstring), stored as a submission or a revision when
the member confirms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from chatbot.base.errors import UserError
from chatbot.base.i18n import _
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import Dialog
from chatbot.messages.events import Bullets, Incoming, Outgoing, Plain, Reply, Room
from chatbot.storage.models import DialogRow
from commands.casestudies import casestudy, module, store_of
from commands.casestudies import fields as f
from commands.casestudies.changes import _retrying
from commands.casestudies.steps import _steps

DIALOG_NAME = "casestudy"
DRAFT_DAYS = 30


def _dialog() -> Dialog:
    return Dialog(
        DIALOG_NAME,
        "case study",
        _steps(),
        _complete,
        intro="Let's write up your case study, one question at a time.",
        expire_after=timedelta(days=DRAFT_DAYS),
        kept=(
            "Your answers are kept as a draft: say `yes` here to try again, the name of an "
            "answer to change it, or `cancel` to drop them; `{prefix}casestudy resume` "
            "brings them back from anywhere."
        ),
    )


async def _complete(ctx: Context, answers: dict[str, Any]) -> Reply:
    revising = answers.get("_study")
    record = f.record_from_answers(answers)
    number = revising if isinstance(revising, int) else None
    return await _retrying(number, lambda: _record(ctx, record, number, from_dialog=True))


async def _record(
    ctx: Context, record: dict[str, Any], revising: int | None, *, from_dialog: bool = False
) -> Reply:
    """Store a confirmed submission (new, or the revision of a rejected study), tell the
    review room and (``from_dialog``) delete the dialogue's draft, in one transaction."""
    store = store_of(ctx.host)
    now = ctx.now()
    room = await store.review_room()
    async with ctx.db.session() as session:
        if from_dialog:  # first: a second "yes" at the same moment waits here, then finds none
            await ctx.dialogs.finish(session, ctx, DIALOG_NAME)
        if revising is not None:
            row = await store.load(session, revising)
            if row.member_id != ctx.member.key:
                raise UserError(f"Case study #{revising} isn't yours.")
            await store.move(
                session,
                row,
                "revise",
                ctx.member.key,
                now,
                actor_name=ctx.member.display_name,
                record=record,
            )
            what = "resubmitted"
        else:
            row = await store.submit(session, ctx.member.key, ctx.member.display_name, record, now)
            what = "submitted"
        study_id = row.id
        if room is not None:
            note = Reply.of(
                f"Case study #{study_id} was {what} by ",
                Plain(ctx.member.display_name),
                ": ",
                Plain(record["title"]),
                f". `{ctx.prefix}casestudy claim {study_id}` to review it.",
            )
            target = Room(room["id"], room["platform"], room["name"])
            delivery = Delivery(room["platform"], note, room=target, ref=f"casestudy:{study_id}")
            await outbox_of(ctx.host).enqueue(session, [delivery])
    return Reply.of(
        f"Thank you! Your case study is {what} as #{study_id}. The organisers will review it; "
        f"`{ctx.prefix}casestudy mine` shows where it stands."
    )


module.dialog(_dialog())


async def _draft(ctx: Context) -> DialogRow | None:
    """The caller's draft, on this account or (a member who linked accounts) another one;
    one on this account first."""
    accounts = [a.id for a in await ctx.members.links.accounts(ctx.member.key)]
    if ctx.member.id not in accounts:
        accounts.append(ctx.member.id)
    async with ctx.db.sessions() as session:
        rows = (
            await session.scalars(
                select(DialogRow)
                .where(
                    DialogRow.member_id.in_(accounts),
                    DialogRow.name == DIALOG_NAME,
                    DialogRow.expires_at > ctx.now(),
                )
                .order_by(DialogRow.updated_at.desc())
            )
        ).all()
    mine = [r for r in rows if r.member_id == ctx.member.id]
    ordered = mine or list(rows)
    return ordered[0] if ordered else None


async def _start_in_dm(ctx: Context, answers: dict[str, Any] | None) -> Reply:
    """Start the dialogue in the caller's DM room (see the module doc).  With ``answers``
    (a revision) it opens at the review of those answers rather than at the first question."""
    if ctx.room.is_direct:
        return await _open(ctx, answers)
    note = Reply.of("Let's write your case study here, in a direct message.")
    out = Outgoing(ctx.room, note, in_reply_to=ctx.incoming, sent_at=ctx.now())
    sent = await ctx.adapter.send_direct(ctx.member, out)
    if sent is None:
        return Reply.of(
            "I couldn't send you a direct message. Allow messages from members here, or "
            f"send me `{ctx.prefix}casestudy submit` in a direct message.",
            aside=True,
        )
    dm = Room(sent.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    first = await _open(dm_ctx, answers)
    await ctx.adapter.send(Outgoing(dm, first, sent_at=ctx.now()))
    return Reply.of("I've sent you a direct message: let's continue there.", aside=True)


async def _open(ctx: Context, answers: dict[str, Any] | None) -> Reply:
    first = await ctx.dialogs.start(ctx, DIALOG_NAME, answers)
    if answers is None:
        return first
    async with ctx.db.session() as session:
        row = await session.get(DialogRow, (ctx.member.id, ctx.room.id))
        if row is not None:
            row.reviewing = 1
    return Reply.of(
        f"Here are the answers of case study #{answers.get('_study')}:\n",
        Bullets(_dialog().review_items(answers)),
        "Say the name of an answer to change it (e.g. `summary`), `yes` to send it again, "
        "or `cancel`.",
    )


async def _bring_over(ctx: Context, row: DialogRow) -> Reply:
    """A draft begun on the member's account on another platform continues here, in this
    platform's direct messages (the draft moves; nothing is copied)."""
    if ctx.room.is_direct:
        dm = ctx.room
    else:
        note = Reply.of(_("Your case study draft continues here."))
        sent = await ctx.adapter.send_direct(
            ctx.member, Outgoing(ctx.room, note, sent_at=ctx.now())
        )
        if sent is None:
            return Reply.of(
                _(
                    "I couldn't send you a direct message. Allow messages from members here, "
                    "or send me `{prefix}casestudy resume` in a direct message.",
                    prefix=ctx.prefix,
                ),
                aside=True,
            )
        dm = Room(sent.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    moved = await ctx.dialogs.move(ctx.db, (row.member_id, row.room_id), (ctx.member.id, dm.id))
    if not moved:
        return Reply.of(
            _(
                "You have another conversation with me in progress there: finish it or say "
                "`cancel` first, then resume."
            ),
            aside=True,
        )
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    reply = await ctx.dialogs.feed(dm_ctx, "help")
    if dm.id == ctx.room.id:
        return reply or Reply.of(_("Your draft expired."))
    if reply is not None:
        await ctx.adapter.send(Outgoing(dm, reply, sent_at=ctx.now()))
    return Reply.of(_("Your draft is waiting in our direct messages: continue there."), aside=True)


def _incoming_in(ctx: Context, room: Room) -> Incoming:
    return Incoming(ctx.incoming.platform, ctx.member, room, ctx.incoming.text)


@casestudy.command(
    help="Submit a case study: I ask one question at a time, in a direct message.",
    examples=["casestudy submit"],
)
async def submit(ctx: Context) -> Reply:
    if await _draft(ctx) is not None:
        return Reply.of(
            f"You have a case study in progress: `{ctx.prefix}casestudy resume` continues "
            "it (or say `cancel` there to drop it).",
            aside=True,
        )
    return await _start_in_dm(ctx, None)


@casestudy.command(
    help="Continue the case study you started (drafts are kept for 30 days).",
    examples=["casestudy resume"],
)
async def resume(ctx: Context) -> Reply:
    row = await _draft(ctx)
    if row is None:
        return Reply.of(
            f"You have no case study in progress; `{ctx.prefix}casestudy submit` starts one.",
            aside=True,
        )
    if row.member_id != ctx.member.id:
        return await _bring_over(ctx, row)
    if row.room_id == ctx.room.id:
        reply = await ctx.dialogs.feed(ctx, "help")
        return reply or Reply.of("Your draft expired.")
    dm = Room(row.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    reply = await ctx.dialogs.feed(dm_ctx, "help")
    if reply is not None:
        await ctx.adapter.send(Outgoing(dm, reply, sent_at=ctx.now()))
    return Reply.of("Your draft is waiting in our direct messages: continue there.", aside=True)
