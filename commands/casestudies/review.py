"""The case studies on the web: the public pages and the organisers' review desk are
mounted at start-up when ``[web] public_pages`` is on (imported lazily: aiohttp and
Jinja2 stay out of start-up otherwise)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.casestudies import module

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host


@module.on_startup
async def _web(bot: Host) -> None:
    if bot.config.web.enabled and bot.config.web.public_pages:
        from commands.casestudies.web import add_routes

        add_routes(bot)
