"""Contributors' commands: ``!casestudy mine``, ``view``, ``history``, ``withdraw`` and
``revise``."""

from __future__ import annotations

from chatbot.base.errors import UserError
from chatbot.base.i18n import Language, _, labelled, verbatim
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Bullets, Inline, Plain, Reply
from commands.casestudies import actor_names, casestudy, store_of
from commands.casestudies import fields as f
from commands.casestudies.changes import _move
from commands.casestudies.dialogue import _draft, _start_in_dm
from commands.casestudies.steps import _steps
from commands.casestudies.store import PUBLISHED, Study, action_label, state_label


def _line(study: Study) -> tuple[Inline, ...]:
    return (
        verbatim("#{id} [{state}] ", id=str(study.id), state=state_label(study.state)),
        Plain(study.record["title"]),
    )


@casestudy.command(help=_("Your case studies and where each stands."), examples=["casestudy mine"])
async def mine(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).of_member(ctx.member.key)
    if not studies:
        return Reply.of(
            _(
                "You haven't submitted a case study yet; `{prefix}casestudy submit` starts one.",
                prefix=ctx.prefix,
            ),
            aside=True,
        )
    return Reply.of(
        _("Your case studies:"), "\n", Bullets(tuple(_line(s) for s in studies)), private=True
    )


async def _is_organiser(ctx: Context) -> bool:
    level = await ctx.level_of(ctx.member, ctx.room)
    return level >= Level.ORGANISER


async def _visible(ctx: Context, number: int) -> Study:
    study = await store_of(ctx.host).get(number)
    if study is None or not (
        study.state == PUBLISHED or study.member_id == ctx.member.key or await _is_organiser(ctx)
    ):
        raise UserError(_("There is no case study #{id} that you can see.", id=str(number)))
    return study


def _describe(study: Study, *, private: bool) -> list[Inline | Bullets]:
    steps = _steps()
    answers = f.answers_from_record(study.record)
    items = [
        (labelled(step.title, step.shown(answers.get(step.key)), bold=True),)
        for step in steps
        if private or step.key != "contact"
    ]
    if study.written_in:
        items.append((labelled(_("written in"), Language(study.written_in), bold=True),))
    parts: list[Inline | Bullets] = [
        _(
            "Case study #{id} ({state}, revision {revision}):",
            id=str(study.id),
            state=state_label(study.state),
            revision=study.revision,
        ),
        "\n",
        Bullets(tuple(items)),
    ]
    if study.reason and private:
        parts.append(_("Reason for the rejection: {reason}", reason=Plain(study.reason)))
    return parts


@casestudy.command(
    help=_("Show one case study (yours, a published one, or any for organisers)."),
    examples=["casestudy view 12"],
)
async def view(ctx: Context, number: int) -> Reply:
    study = await _visible(ctx, number)
    private = study.member_id == ctx.member.key or await _is_organiser(ctx)
    # the contact and a rejection's reason are for the contributor and organisers only
    return Reply.of(*_describe(study, private=private), private=private, aside=not private)


@casestudy.command(
    help=_("The revisions of a case study: who changed what, when."),
    examples=["casestudy history 12"],
)
async def history(ctx: Context, number: int) -> Reply:
    study = await _visible(ctx, number)
    if study.member_id != ctx.member.key and not await _is_organiser(ctx):
        raise UserError(_("Only the contributor and organisers can see the revisions."))
    items: list[tuple[Inline, ...]] = []
    revisions = await store_of(ctx.host).revisions(number)
    names = await actor_names(ctx.host, revisions)
    for rev in revisions:
        changed = rev.new_values or {}
        said = {
            "number": str(rev.number),
            "action": action_label(rev.action),
            "who": Plain(names[rev.actor_id]) if rev.actor_id else _("(removed)"),
            "at": f"{rev.at:%Y-%m-%d %H:%M}",
            "before": state_label(rev.old_state) if rev.old_state else "-",
            "after": state_label(rev.new_state),
        }
        if changed:
            line = _(
                "{number}. {action} by {who} at {at} UTC: {before} → {after}; changed {fields}",
                fields=f.field_names(changed),
                **said,
            )
        else:
            line = _(
                "{number}. {action} by {who} at {at} UTC: {before} → {after}; no field changed",
                **said,
            )
        items.append((line,))
    return Reply.of(
        _("Revisions of #{id}:", id=str(number)), "\n", Bullets(tuple(items)), private=True
    )


@casestudy.command(
    help=_("Withdraw a case study you submitted, before its review starts."),
    examples=["casestudy withdraw 12"],
)
async def withdraw(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "withdraw")
    return Reply.of(_("Case study #{id} is withdrawn.", id=str(number)), aside=True)


@casestudy.command(
    help=_(
        "Change your case study while it waits for review, or a rejected one to send it "
        "again (a dialogue with your answers; every change is kept as a revision)."
    ),
    examples=["casestudy revise 12", "casestudy edit 12"],
    aliases=("edit",),
)
async def revise(ctx: Context, number: int) -> Reply:
    study = await store_of(ctx.host).get(number)
    if study is None or study.member_id != ctx.member.key:
        raise UserError(_("You have no case study #{id}.", id=str(number)))
    if study.state not in ("rejected", "submitted"):
        raise UserError(
            _(
                "Case study #{id} is {state}; you can change it while it waits for review "
                "(submitted) or after a rejection.",
                id=str(number),
                state=state_label(study.state),
            )
        )
    if await _draft(ctx) is not None:
        raise UserError(
            _(
                "Finish or cancel the case study in progress first (`{prefix}casestudy resume`).",
                prefix=ctx.prefix,
            )
        )
    answers = f.answers_from_record(study.record)
    answers["_study"] = number
    return await _start_in_dm(ctx, answers)
