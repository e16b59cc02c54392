"""What may be scheduled: the one place that decides whether an instant can be booked.

A meeting, a reminder and a scheduled announcement are all refused for the same reason in
the same words when their time has passed, and ``chatbot when --schedule`` applies the same
rule, so an organiser can check a phrase from the shell exactly as the bot would judge it.
Converting a time (``!when``, plain ``chatbot when``) is never refused for being past.
"""

from __future__ import annotations

from datetime import datetime

from chatbot.base.errors import BadArgument
from chatbot.base.i18n import Msg, Plain, _
from chatbot.time.format import format_utc

#: the refusal's second half, by the kind of thing being scheduled
KINDS: dict[str, Msg] = {
    "meeting": _("a meeting can only be set for a time still to come (it is now {now})."),
    "reminder": _("a reminder can only be set for a time still to come (it is now {now})."),
    "announcement": _(
        "an announcement can only be set for a time still to come (it is now {now})."
    ),
    "time": _("it can only be set for a time still to come (it is now {now})."),
}


class PastTime(BadArgument):
    """The instant has already passed (a :class:`BadArgument`: the member can fix it)."""


def check_schedulable(at: datetime, now: datetime, phrase: str = "", kind: str = "time") -> None:
    """Refuse ``at`` unless it is still to come at ``now``, saying what was read.

    ``phrase`` is what the member typed (quoted back, clipped); ``kind`` one of
    :data:`KINDS`."""
    if at.tzinfo is None or now.tzinfo is None:
        raise ValueError("check_schedulable needs aware datetimes")
    if at > now:
        return
    rule = KINDS.get(kind, KINDS["time"]).given(now=format_utc(now))
    if phrase:
        raise PastTime(
            _(
                "'{phrase}' is {at}, which has already passed: {rule}",
                phrase=Plain(_clip(phrase)),
                at=format_utc(at),
                rule=rule,
            )
        )
    raise PastTime(_("{at}, which has already passed: {rule}", at=format_utc(at), rule=rule))


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
