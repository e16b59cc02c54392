"""Case-study submissions (issue 8): a guided dialogue, review by organisers, exports.

Where the dialogue runs
    The dialogue engine keys a conversation on (member, room).  ``!casestudy submit`` in a
    direct message starts it there.  Typed in a room, the bot first sends a short direct
    message through the adapter's ``send_direct``, which returns where it landed
    (:class:`~chatbot.dispatch.adapter.Sent`), so the dialogue is started keyed on that DM room
    (``console:dm:<name>``, the Matrix DM room, the Discord DM channel) and its first
    question is posted there; the room only hears "I've sent you a direct message".  If the
    DM can't be sent, the member is asked to allow DMs or to DM the bot themselves.

Records and states
    See :mod:`commands.casestudies.store` (states, transitions, revisions) and
    :mod:`commands.casestudies.fields` (validation).  Notifications (new submission to the
    review room, rejection and publication to the contributor) go through the outbox in the
    same transaction as the change.

Racing changes
    Every state change is a conditional update (see the store); a command whose study changed
    between its read and its write is run again on fresh data (:func:`.changes._retrying`),
    so of two organisers acting at once one wins and the other hears who got there first.  The
    dialogue's draft is deleted in the transaction that stores the submission or revision,
    and only then: a refused revision (the study was claimed meanwhile) keeps the answers.

Where things are
    This ``__init__`` holds the module, its group, start-up and :func:`store_of`; the
    dialogue is in :mod:`.dialogue` (its questions in :mod:`.steps`), the commands in
    :mod:`.contributors`, :mod:`.organisers`, :mod:`.search` and :mod:`.forms`, state
    changes in :mod:`.changes`, ``!mydata``/``!forgetme`` in :mod:`.privacy` and the web
    pages and review desk in :mod:`.review`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chatbot.base.i18n import _
from chatbot.delivery.outbox import outbox_of
from chatbot.dispatch.registry import Module
from commands.casestudies.store import CaseStudyStore, Revision

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chatbot.dispatch.host import Host

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

module = Module(
    "casestudies",
    _("Share how your library works with Wikimedia: submit a case study, organisers review it."),
    migrations=MIGRATIONS,
)
casestudy = module.group(
    "casestudy", _("Case studies of libraries working with Wikimedia projects."), aliases=("cs",)
)


@module.on_startup
async def _start_delivery(bot: Host) -> None:
    """The outbox sender runs as one of the bot's workers: it must be created before the bot
    starts them, or the notifications enqueued here would never be sent."""
    outbox_of(bot)


def store_of(bot: Host) -> CaseStudyStore:
    found = bot.services.get("casestudies")
    if isinstance(found, CaseStudyStore):
        return found
    store = CaseStudyStore(bot.db)
    bot.services["casestudies"] = store
    return store


async def actor_names(bot: Host, revisions: Sequence[Revision]) -> dict[str, str]:
    """Who made each revision, by name: the display name the member store knows, else the
    one recorded with the revision, else the account id (``console:ana``) as a last resort."""
    ids = {r.actor_id for r in revisions if r.actor_id}
    known = await bot.members.display_names(ids)
    names: dict[str, str] = {}
    for rev in revisions:
        if rev.actor_id and rev.actor_id not in names:
            names[rev.actor_id] = known.get(rev.actor_id) or rev.actor_name or rev.actor_id
    return names


# isort: off
# the command modules register on ``module`` and its group when imported, in the order
# ``!help`` lists them; then the web pages, the review desk and ``!review web``
from commands.casestudies import dialogue  # noqa: E402, F401
from commands.casestudies import contributors  # noqa: E402, F401
from commands.casestudies import organisers  # noqa: E402, F401
from commands.casestudies import search  # noqa: E402, F401
from commands.casestudies import forms  # noqa: E402, F401
from commands.casestudies import privacy  # noqa: E402, F401
from commands.casestudies import review  # noqa: E402, F401
# isort: on
