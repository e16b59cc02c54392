"""Contributors' commands: ``!casestudy mine``, ``view``, ``history``, ``withdraw`` and
``revise``."""

from __future__ import annotations

from chatbot.base.errors import UserError
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Bullets, Inline, Plain, Reply
from commands.casestudies import casestudy, store_of
from commands.casestudies import fields as f
from commands.casestudies.changes import _move
from commands.casestudies.dialogue import _draft, _start_in_dm
from commands.casestudies.steps import _steps
from commands.casestudies.store import PUBLISHED, Study


def _line(study: Study) -> tuple[Inline, ...]:
    return (f"#{study.id} [{study.state.replace('_', ' ')}] ", Plain(study.record["title"]))


@casestudy.command(help="Your case studies and where each stands.", examples=["casestudy mine"])
async def mine(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).of_member(ctx.member.key)
    if not studies:
        return Reply.of(
            f"You haven't submitted a case study yet; `{ctx.prefix}casestudy submit` starts one.",
            aside=True,
        )
    return Reply.of("Your case studies:\n", Bullets(tuple(_line(s) for s in studies)), private=True)


async def _is_organiser(ctx: Context) -> bool:
    level = await ctx.level_of(ctx.member, ctx.room)
    return level >= Level.ORGANISER


async def _visible(ctx: Context, number: int) -> Study:
    study = await store_of(ctx.host).get(number)
    if study is None or not (
        study.state == PUBLISHED or study.member_id == ctx.member.key or await _is_organiser(ctx)
    ):
        raise UserError(f"There is no case study #{number} that you can see.")
    return study


def _describe(study: Study, *, private: bool) -> list[Inline | Bullets]:
    steps = _steps()
    answers = f.answers_from_record(study.record)
    items = [
        (f"**{step.title}**: ", Plain(step.display(answers.get(step.key))))
        for step in steps
        if private or step.key != "contact"
    ]
    parts: list[Inline | Bullets] = [
        f"Case study #{study.id} ({study.state.replace('_', ' ')}, revision {study.revision}):\n",
        Bullets(tuple(items)),
    ]
    if study.reason and private:
        parts += ["Reason for the rejection: ", Plain(study.reason)]
    return parts


@casestudy.command(
    help="Show one case study (yours, a published one, or any for organisers).",
    examples=["casestudy view 12"],
)
async def view(ctx: Context, number: int) -> Reply:
    study = await _visible(ctx, number)
    private = study.member_id == ctx.member.key or await _is_organiser(ctx)
    # the contact and a rejection's reason are for the contributor and organisers only
    return Reply.of(*_describe(study, private=private), private=private, aside=not private)


@casestudy.command(
    help="The revisions of a case study: who changed what, when.",
    examples=["casestudy history 12"],
)
async def history(ctx: Context, number: int) -> Reply:
    study = await _visible(ctx, number)
    if study.member_id != ctx.member.key and not await _is_organiser(ctx):
        raise UserError("Only the contributor and organisers can see the revisions.")
    items = []
    for rev in await store_of(ctx.host).revisions(number):
        changed = ", ".join(sorted(rev.new_values or {})) or "no field"
        items.append(
            (
                f"{rev.number}. {rev.action} by ",
                Plain(rev.actor_id or "(removed)"),
                f" at {rev.at:%Y-%m-%d %H:%M} UTC: {rev.old_state or '-'} → {rev.new_state}"
                f"; changed {changed}",
            )
        )
    return Reply.of(f"Revisions of #{number}:\n", Bullets(tuple(items)), private=True)


@casestudy.command(
    help="Withdraw a case study you submitted, before its review starts.",
    examples=["casestudy withdraw 12"],
)
async def withdraw(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "withdraw")
    return Reply.of(f"Case study #{number} is withdrawn.", aside=True)


@casestudy.command(
    help="Change your case study while it waits for review, or a rejected one to send it "
    "again (a dialogue with your answers; every change is kept as a revision).",
    examples=["casestudy revise 12", "casestudy edit 12"],
    aliases=("edit",),
)
async def revise(ctx: Context, number: int) -> Reply:
    study = await store_of(ctx.host).get(number)
    if study is None or study.member_id != ctx.member.key:
        raise UserError(f"You have no case study #{number}.")
    if study.state not in ("rejected", "submitted"):
        raise UserError(
            f"Case study #{number} is {study.state.replace('_', ' ')}; you can change it "
            "while it waits for review (submitted) or after a rejection."
        )
    if await _draft(ctx) is not None:
        raise UserError(
            f"Finish or cancel the case study in progress first (`{ctx.prefix}casestudy resume`)."
        )
    answers = f.answers_from_record(study.record)
    answers["_study"] = number
    return await _start_in_dm(ctx, answers)
