"""A member's case studies and drafts for ``!mydata``; on ``!forgetme`` the unpublished
ones are deleted and the published ones stay, credited as anonymous."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from chatbot.messages.plural import plural
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
async def _forget_warning(bot: Host, member_id: str) -> str | None:
    published = [s for s in await store_of(bot).of_member(member_id) if s.state == PUBLISHED]
    if not published:
        return None
    studies = plural(len(published), "published case study", "published case studies")
    stay = "stays" if len(published) == 1 else "stay"
    return (
        f"Your {studies} {stay} published under the licence you granted, credited as "
        "anonymous, without your name or contact."
    )


@module.on_forget
async def _forget(bot: Host, member_id: str) -> str | None:
    deleted, detached = await store_of(bot).forget(member_id, bot.clock.now())
    if not deleted and not detached:
        return None
    parts = []
    if deleted:
        unpublished = plural(deleted, "unpublished case study", "unpublished case studies")
        parts.append(f"I've deleted your {unpublished} and any draft.")
    if detached:
        published = plural(detached, "published case study", "published case studies")
        stay = "stays" if detached == 1 else "stay"
        parts.append(
            f"Your {published} {stay} published under the licence you granted, now "
            "credited as anonymous, without your name or contact."
        )
    return " ".join(parts)


@module.on_link
async def _link(bot: Host, session: AsyncSession, old: str, new: str) -> None:
    """A member linked an account: the case studies it submitted become the member's."""
    await session.execute(
        update(CaseStudyRow).where(CaseStudyRow.member_id == old).values(member_id=new)
    )
