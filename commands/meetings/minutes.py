"""``!meeting minutes N <link>``: where a meeting's minutes are, shown on the public page."""

from __future__ import annotations

from chatbot.base.i18n import _
from chatbot.dispatch.answers import is_none, keywords
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Reply
from commands.meetings import meeting
from commands.meetings.reading import check_link
from commands.meetings.store import CONFIRMED, get_meeting, state_words


@meeting.command(
    help=_(
        "Set where a meeting's minutes are (shown on the meetings page); {none} removes it.",
        **keywords("none"),
    ),
    level=Level.ORGANISER,
    examples=["meeting minutes 3 https://meta.wikimedia.org/wiki/Example/Minutes"],
    params={
        "number": _("the meeting"),
        "link": _("an https:// link, or {none}", **keywords("none")),
    },
)
async def minutes(ctx: Context, number: int, link: str) -> Reply:
    # "none" in the organiser's language (`nada`, `aucun`) removes the link
    value = None if is_none(link) else check_link(link)
    async with ctx.db.session() as session:
        row = await get_meeting(session, number)
        if row.state != CONFIRMED:
            return Reply.of(
                _(
                    "Meeting #{number} is {state}; only a saved meeting has minutes.",
                    number=str(number),
                    state=state_words(row.state),
                )
            )
        row.minutes_link = value
        row.updated_at = ctx.now()
    if value is None:
        return Reply.of(_("Meeting #{number} has no minutes link now.", number=str(number)))
    return Reply.of(
        _("The minutes of meeting #{number} are linked on the meetings page.", number=str(number))
    )
