"""A member's case studies and drafts for ``!mydata``; on ``!forgetme`` the unpublished
ones are deleted and the published ones stay, credited as anonymous."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from chatbot.base.i18n import Msg, _n, verbatim
from chatbot.storage.models import DialogRow
from commands.casestudies import module, store_of
from commands.casestudies.dialogue import DIALOG_NAME
from commands.casestudies.store import PUBLISHED, CaseStudyRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host


@module.on_mydata
async def _mydata(bot: Host, member_id: str) -> dict[str, Any]:
    accounts = [a.id for a in await bot.members.links.accounts(member_id)]
    async with bot.db.sessions() as session:
        drafts = await session.scalars(
            select(DialogRow).where(
                DialogRow.member_id.in_([member_id, *accounts]), DialogRow.name == DIALOG_NAME
            )
        )
        draft_answers = [json.loads(d.answers) for d in drafts]
    return {
        "submissions": await store_of(bot).member_data(member_id),
        "drafts": draft_answers,
    }


@module.on_forget_warning
async def _forget_warning(bot: Host, member_id: str) -> Msg | None:
    published = [s for s in await store_of(bot).of_member(member_id) if s.state == PUBLISHED]
    if not published:
        return None
    return _n(
        "Your {n} published case study stays published under the licence you granted, "
        "credited as anonymous, without your name or contact.",
        "Your {n} published case studies stay published under the licence you granted, "
        "credited as anonymous, without your name or contact.",
        len(published),
    )


@module.on_forget
async def _forget(bot: Host, member_id: str) -> Msg | None:
    deleted, detached = await store_of(bot).forget(member_id, bot.clock.now())
    if not deleted and not detached:
        return None
    parts: dict[str, Msg] = {}
    if deleted:
        parts["deleted"] = _n(
            "I've deleted your {n} unpublished case study and any draft.",
            "I've deleted your {n} unpublished case studies and any draft.",
            deleted,
        )
    if detached:
        parts["detached"] = _n(
            "Your {n} published case study stays published under the licence you granted, now "
            "credited as anonymous, without your name or contact.",
            "Your {n} published case studies stay published under the licence you granted, "
            "now credited as anonymous, without your name or contact.",
            detached,
        )
    if len(parts) == 2:
        return verbatim("{deleted} {detached}", **parts)
    return next(iter(parts.values()))


@module.on_link
async def _link(bot: Host, session: AsyncSession, old: str, new: str) -> None:
    """A member linked an account: the case studies it submitted become the member's."""
    await session.execute(
        update(CaseStudyRow).where(CaseStudyRow.member_id == old).values(member_id=new)
    )
