"""Questions about the next meeting, answered with the meeting itself.

"When is the next meeting?", "next call?", "¿cuándo es la próxima reunión?", asked with
``!ask``, in a DM or by mentioning the bot, get the next meeting as ``!meeting N`` shows it
(its time in the member's zone, the link, who is coming, the RSVP buttons), not a pointer
to ``!meetings``.  The meetings module adds :func:`next_meeting_hook` to the core's question
hooks at start-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime

from chatbot.base.i18n import _
from chatbot.dispatch.context import Context
from chatbot.messages.events import Reply

_MEETING = re.compile(
    r"\b(?:meetings?|meet-?ups?|calls?|sessions?|reunion(?:es)?|reunioes|reuniao|treffens?"
    r"|sitzung(?:en)?|rencontres?|encontros?)\b"
)
_WHEN = re.compile(
    r"\b(?:when|whens|next|upcoming|coming up|what time|is there|are there|any|cuando"
    r"|proxim[ao]s?|prochaine?s?|quand|nachsten?|nachste[nrs]?|naechste[nrs]?|wann|quando)\b"
)
#: questions about meetings that the next meeting does not answer
_NOT_THIS = re.compile(
    r"\b(?:how (?:do|can) i (?:add|create|schedule|organi[sz]e|run|host)|record(?:ed|ing)?"
    r"|minutes|notes|agenda of the last|last meeting|past meetings?)\b"
)

ShowMeeting = Callable[[Context, int], Awaitable[Reply]]
NextMeeting = Callable[[Context, datetime], Awaitable[int | None]]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def asks_for_next_meeting(text: str) -> bool:
    """Whether a question asks when the next meeting is (in English, Spanish, French,
    Portuguese or German)."""
    folded = _fold(text)
    return (
        _MEETING.search(folded) is not None
        and _WHEN.search(folded) is not None
        and _NOT_THIS.search(folded) is None
    )


def next_meeting_hook(
    next_meeting: NextMeeting, show: ShowMeeting
) -> Callable[[Context, str], Awaitable[Reply | None]]:
    """The question hook: ``None`` for other questions (the knowledge base answers them)."""

    async def hook(ctx: Context, text: str) -> Reply | None:
        if not asks_for_next_meeting(text):
            return None
        number = await next_meeting(ctx, ctx.now())
        if number is None:
            return Reply.of(
                _(
                    "No meeting is planned yet. Organisers announce them here; "
                    "`{prefix}meetings` lists them once they are.",
                    prefix=ctx.prefix,
                )
            )
        shown = await show(ctx, number)
        return Reply((_("The next meeting:"), "\n", *shown.parts), buttons=shown.buttons)

    return hook
