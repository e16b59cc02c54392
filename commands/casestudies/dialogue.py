"""The submission dialogue (``!casestudy submit`` and ``resume``): started in the member's
direct messages (see the package docstring), stored as a submission or a revision when
the member confirms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, message_language
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.dispatch.answers import keywords
from chatbot.dispatch.context import Context, room_reader
from chatbot.dispatch.dialogs import Dialog, answer_name
from chatbot.messages.events import Bullets, Incoming, Outgoing, Plain, Reply, Room
from chatbot.storage.models import DialogRow
from commands.casestudies import casestudy, module, store_of
from commands.casestudies import fields as f
from commands.casestudies.changes import _retrying
from commands.casestudies.steps import _steps

DIALOG_NAME = "casestudy"
#: the draft's answer that holds the language the study is written in (not a question)
WRITTEN_IN = "_written_in"
DRAFT_DAYS = 30


def _dialog() -> Dialog:
    return Dialog(
        DIALOG_NAME,
        _("case study"),
        _steps(),
        _complete,
        intro=_("Let's write up your case study, one question at a time."),
        expire_after=timedelta(days=DRAFT_DAYS),
        kept=_(
            "Your answers are kept as a draft: say {yes} here to try again, the name of an "
            "answer to change it, or {cancel} to drop them; `{prefix}casestudy resume` "
            "brings them back from anywhere.",
            **keywords("yes", "cancel"),
        ),
    )


async def _complete(ctx: Context, answers: dict[str, Any]) -> Reply:
    revising = answers.get("_study")
    record = f.record_from_answers(answers)
    number = revising if isinstance(revising, int) else None
    lang = answers.get(WRITTEN_IN)
    written_in = lang if isinstance(lang, str) else await written_language(ctx)
    return await _retrying(
        number, lambda: _record(ctx, record, number, from_dialog=True, written_in=written_in)
    )


async def written_language(ctx: Context) -> str:
    """The language a study started here is written in: the one the bot speaks to the
    contributor (their ``!lang``, else their app's, else the room's, else the bot's), as a
    BCP 47 tag."""
    return message_language((await ctx.reader()).lang)


async def _record(
    ctx: Context,
    record: dict[str, Any],
    revising: int | None,
    *,
    from_dialog: bool = False,
    written_in: str | None = None,
) -> Reply:
    """Store a confirmed submission (new, or the revision of a rejected study: it keeps the
    language it was first written in), tell the review room and (``from_dialog``) delete
    the dialogue's draft, in one transaction."""
    store = store_of(ctx.host)
    now = ctx.now()
    room = await store.review_room()
    async with ctx.db.session() as session:
        if from_dialog:  # first: a second "yes" at the same moment waits here, then finds none
            await ctx.dialogs.finish(session, ctx, DIALOG_NAME)
        if revising is not None:
            row = await store.load(session, revising)
            if row.member_id != ctx.member.key:
                raise UserError(_("Case study #{id} isn't yours.", id=str(revising)))
            await store.move(
                session,
                row,
                "revise",
                ctx.member.key,
                now,
                actor_name=ctx.member.display_name,
                record=record,
            )
        else:
            row = await store.submit(
                session,
                ctx.member.key,
                ctx.member.display_name,
                record,
                now,
                written_in=written_in,
            )
        study_id = row.id
        if room is not None:
            said = dict(
                id=str(study_id),
                who=Plain(ctx.member.display_name),
                title=Plain(record["title"]),
                prefix=ctx.prefix,
            )
            note = Reply.of(
                _(
                    "Case study #{id} was resubmitted by {who}: {title}. "
                    "`{prefix}casestudy claim {id}` to review it.",
                    **said,
                )
                if revising is not None
                else _(
                    "Case study #{id} was submitted by {who}: {title}. "
                    "`{prefix}casestudy claim {id}` to review it.",
                    **said,
                )
            )
            target = Room(room["id"], room["platform"], room["name"])
            reader = room_reader(ctx.config, room["id"])
            delivery = Delivery(
                room["platform"], note, room=target, reader=reader, ref=f"casestudy:{study_id}"
            )
            await outbox_of(ctx.host).enqueue(session, [delivery])
    if revising is not None:
        return Reply.of(
            _(
                "Thank you! Your case study is resubmitted as #{id}. The organisers will "
                "review it; `{prefix}casestudy mine` shows where it stands.",
                id=str(study_id),
                prefix=ctx.prefix,
            )
        )
    return Reply.of(
        _(
            "Thank you! Your case study is submitted as #{id}. The organisers will review it; "
            "`{prefix}casestudy mine` shows where it stands.",
            id=str(study_id),
            prefix=ctx.prefix,
        )
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
    dm = await _direct_room(
        ctx, _("Let's write your case study here, in a direct message."), "casestudy submit"
    )
    if isinstance(dm, Reply):
        return dm
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    first = await _open(dm_ctx, answers)
    await ctx.adapter.send(Outgoing(dm, first, await ctx.reader(), sent_at=ctx.now()))
    return Reply.of(_("I've sent you a direct message: let's continue there."), aside=True)


async def _open(ctx: Context, answers: dict[str, Any] | None) -> Reply:
    first = await ctx.dialogs.start(ctx, DIALOG_NAME, answers)
    if answers is None or "_study" not in answers:
        return first
    async with ctx.db.session() as session:
        row = await session.get(DialogRow, (ctx.member.id, ctx.room.id))
        if row is not None:
            row.reviewing = 1
    return Reply.of(
        _("Here are the answers of case study #{id}:", id=str(answers.get("_study"))),
        "\n",
        Bullets(_dialog().review_items(answers)),
        _(
            "Say the name of an answer to change it (e.g. {name}), {yes} to send it again, "
            "or {cancel}.",
            name=answer_name(next(s for s in _steps() if s.key == "summary")),
            **keywords("yes", "cancel"),
        ),
    )


async def _bring_over(ctx: Context, row: DialogRow) -> Reply:
    """A draft begun on the member's account on another platform continues here, in this
    platform's direct messages (the draft moves; nothing is copied)."""
    if ctx.room.is_direct:
        dm = ctx.room
    else:
        found = await _direct_room(
            ctx, _("Your case study draft continues here."), "casestudy resume"
        )
        if isinstance(found, Reply):
            return found
        dm = found
    moved = await ctx.dialogs.move(ctx.db, (row.member_id, row.room_id), (ctx.member.id, dm.id))
    if not moved:
        return Reply.of(
            _(
                "You have another conversation with me in progress there: finish it or say "
                "{cancel} first, then resume.",
                **keywords("cancel"),
            ),
            aside=True,
        )
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    reply = await ctx.dialogs.feed(dm_ctx, "help")
    if dm.id == ctx.room.id:
        return reply or Reply.of(_("Your draft expired."))
    if reply is not None:
        await ctx.adapter.send(Outgoing(dm, reply, await ctx.reader(), sent_at=ctx.now()))
    return Reply.of(_("Your draft is waiting in our direct messages: continue there."), aside=True)


async def _direct_room(ctx: Context, note: Msg, command: str) -> Room | Reply:
    """The caller's direct-message room, opened with ``note``; or the reply saying it could
    not be (they refuse DMs here), naming ``command`` to send in a DM instead."""
    out = Outgoing(
        ctx.room, Reply.of(note), await ctx.reader(), in_reply_to=ctx.incoming, sent_at=ctx.now()
    )
    sent = await ctx.adapter.send_direct(ctx.member, out)
    if sent is None:
        return Reply.of(
            _(
                "I couldn't send you a direct message. Allow messages from members here, or "
                "send me `{command}` in a direct message.",
                command=ctx.prefix + command,
            ),
            aside=True,
        )
    return Room(sent.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)


def _incoming_in(ctx: Context, room: Room) -> Incoming:
    return Incoming(ctx.incoming.platform, ctx.member, room, ctx.incoming.text)


@casestudy.command(
    help=_("Submit a case study: I ask one question at a time, in a direct message."),
    examples=["casestudy submit"],
)
async def submit(ctx: Context) -> Reply:
    if await _draft(ctx) is not None:
        return Reply.of(
            _(
                "You have a case study in progress: `{prefix}casestudy resume` continues "
                "it (or say {cancel} there to drop it).",
                prefix=ctx.prefix,
                **keywords("cancel"),
            ),
            aside=True,
        )
    return await _start_in_dm(ctx, {WRITTEN_IN: await written_language(ctx)})


@casestudy.command(
    help=_("Continue the case study you started (drafts are kept for 30 days)."),
    examples=["casestudy resume"],
)
async def resume(ctx: Context) -> Reply:
    row = await _draft(ctx)
    if row is None:
        return Reply.of(
            _(
                "You have no case study in progress; `{prefix}casestudy submit` starts one.",
                prefix=ctx.prefix,
            ),
            aside=True,
        )
    if row.member_id != ctx.member.id:
        return await _bring_over(ctx, row)
    if row.room_id == ctx.room.id:
        reply = await ctx.dialogs.feed(ctx, "help")
        return reply or Reply.of(_("Your draft expired."))
    dm = Room(row.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    reply = await ctx.dialogs.feed(dm_ctx, "help")
    if reply is not None:
        await ctx.adapter.send(Outgoing(dm, reply, await ctx.reader(), sent_at=ctx.now()))
    return Reply.of(_("Your draft is waiting in our direct messages: continue there."), aside=True)
