"""The case studies on the web: the public pages and the organisers' review desk are
mounted at start-up when ``[web] public_pages`` is on (imported lazily: aiohttp and
Jinja2 stay out of start-up otherwise), and ``!review web`` sends an organiser a one-time
sign-in link to the desk by direct message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from chatbot.base.i18n import _, verbatim
from chatbot.base.logs import get_logger
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Reply
from commands.casestudies import module

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host

log = get_logger("commands.casestudies.review")

review = module.group("review", _("Review case studies in your browser (organisers)."))


@module.on_startup
async def _web(bot: Host) -> None:
    if bot.config.web.enabled and bot.config.web.public_pages:
        from commands.casestudies import desk, web

        web.add_routes(bot)
        desk.add_routes(bot)


@review.command(
    help=_(
        "Get a sign-in link to the review desk in your browser (by direct message; "
        "valid 15 minutes, once)."
    ),
    level=Level.ORGANISER,
    examples=["review web"],
    params={"where": verbatim("`web`")},
)
async def web(ctx: Context, where: Literal["web"] = "web") -> Reply:
    settings = ctx.config.web
    if not (settings.enabled and settings.public_pages):
        return Reply.of(
            _(
                "The review desk is not served here: the bot's web pages are off "
                "(`[web] enabled = true` and `public_pages = true` in the config turn them "
                "on). Meanwhile `{prefix}casestudy pending` lists what waits for review.",
                prefix=ctx.prefix,
            ),
            private=True,
        )
    from chatbot.web.pages import configured_base
    from commands.casestudies import desk_store

    token = await desk_store.new_link(ctx.db, ctx.member, ctx.room, ctx.now())
    log.info("desk_link_sent", actor=ctx.member.id, room=ctx.room.id)
    link = f"{configured_base(ctx.config)}/desk/signin/{token}"
    return Reply.of(
        _(
            "Your sign-in link to the review desk (valid 15 minutes, works once, only for "
            "you; don't share it):\n{link}",
            link=link,
        ),
        private=True,
        direct=True,
    )


@module.on_forget
async def _forget(bot: Host, member_id: str) -> str | None:
    from commands.casestudies import desk_store

    # a member who linked accounts may have signed in from any of them
    for account in await bot.members.links.accounts(member_id):
        await desk_store.forget(bot.db, account.id)
    await desk_store.forget(bot.db, member_id)
    return None
