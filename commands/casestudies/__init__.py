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
    between its read and its write is run again on fresh data (:func:`_retrying`), so of two
    organisers acting at once one wins and the other hears who got there first.  The
    dialogue's draft is deleted in the transaction that stores the submission or revision,
    and only then: a refused revision (the study was claimed meanwhile) keeps the answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import select

from chatbot.base.errors import UserError
from chatbot.delivery.outbox import outbox_of
from chatbot.delivery.outbox_rows import Delivery
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import Dialog, Step
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import (
    Bullets,
    Code,
    Form,
    FormField,
    Incoming,
    Inline,
    Member,
    Outgoing,
    Plain,
    Reply,
    Room,
)
from chatbot.storage.conditional import retrying
from chatbot.storage.models import DialogRow
from commands.casestudies import fields as f
from commands.casestudies.exports import public, render
from commands.casestudies.store import (
    PUBLISHED,
    STATES,
    SUBMITTED,
    TRANSITIONS,
    CaseStudyRow,
    CaseStudyStore,
    Study,
)

if TYPE_CHECKING:
    from chatbot.dispatch.host import Host

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
DIALOG_NAME = "casestudy"
DRAFT_DAYS = 30
T = TypeVar("T")

module = Module(
    "casestudies",
    "Share how your library works with Wikimedia: submit a case study, organisers review it.",
    migrations=MIGRATIONS,
)
casestudy = module.group(
    "casestudy", "Case studies of libraries working with Wikimedia projects.", aliases=("cs",)
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


# -- the dialogue -----------------------------------------------------------------------------


def _steps() -> tuple[Step, ...]:
    lst = f.show_list
    return (
        Step(
            "title",
            "A short title?",
            "5 to 120 characters, e.g. #1Lib1Ref at Lakeside.",
            validate=f.title,
        ),
        Step(
            "institution",
            "Which library?",
            "The library's full name, 2 to 200 characters.",
            validate=f.institution,
        ),
        Step(
            "institution_qid",
            "Its Wikidata item (Q…)?",
            "The library's Wikidata item id, like Q123456.",
            optional=True,
            validate=f.qid,
            label="Wikidata item",
        ),
        Step(
            "library_type",
            "What kind of library? (" + ", ".join(f.LIBRARY_TYPES) + ")",
            "One of: " + ", ".join(f.LIBRARY_TYPES) + ".",
            validate=f.library_type,
            label="library type",
        ),
        Step(
            "country",
            "Which country?",
            "The English name or the two-letter code, e.g. Kenya or KE.",
            validate=f.country,
        ),
        Step(
            "languages",
            "Which language(s)?",
            "Language tags separated by `;`, e.g. en; sw or pt-BR.",
            validate=f.languages,
            show=lst,
        ),
        Step(
            "projects",
            "Which Wikimedia projects? (" + ", ".join(f.PROJECTS) + ")",
            "One or more of: " + ", ".join(f.PROJECTS) + ", separated by `;`.",
            validate=f.projects,
            show=lst,
        ),
        Step(
            "activities",
            "What did you do? (" + ", ".join(f.ACTIVITIES) + ")",
            "One or more of: " + ", ".join(f.ACTIVITIES) + ", separated by `;`.",
            validate=f.activities,
            show=lst,
        ),
        Step(
            "activities_other",
            "If you chose other: what was it?",
            "A few words on the other activity; skip if you didn't choose other.",
            optional=True,
            validate=f.activities_other,
            label="other activity",
        ),
        Step(
            "period",
            "When did it start, and end? (YYYY-MM, e.g. 2024-01 2024-02, or 2024-01 ongoing)",
            "The start month, then the end month if it has ended.",
            validate=f.period,
            show=f.show_period,
        ),
        Step(
            "summary",
            "Describe it briefly (200 to 1,500 characters).",
            "What you did, with whom and why: 200 to 1,500 characters.",
            validate=f.summary,
        ),
        Step(
            "outcomes",
            "Any numbers to share? (e.g. citations_added 412, participants 18; note: …)",
            "Names: " + ", ".join(f.OUTCOMES) + ". Whole numbers, 0 or more; "
            "add `note:` and up to 1,000 characters.",
            optional=True,
            validate=f.outcomes,
            show=f.show_outcomes,
        ),
        Step(
            "links",
            "Links (dashboard, project page)? Separate them with spaces.",
            "Up to 10 http:// or https:// links.",
            optional=True,
            validate=f.links,
            show=lst,
        ),
        Step(
            "lessons",
            "Tips for another library?",
            "Up to 1,500 characters.",
            optional=True,
            validate=f.lessons,
        ),
        Step(
            "credit",
            "How should we credit you? (name, username or anonymous)",
            "Shown with the published study.",
            validate=f.credit,
        ),
        Step(
            "contact",
            "How can organisers reach you? (kept private)",
            "An e-mail or username; only organisers see it, it is never published.",
            optional=True,
            validate=f.contact,
        ),
        Step(
            "consent",
            "May we publish this? (yes)",
            "Say yes to let us publish the study.",
            validate=f.consent,
            show=f.show_bool,
        ),
        Step(
            "licence",
            "Release the text under CC BY-SA 4.0? (yes, or `cc0 yes` for CC0 1.0)",
            "CC BY-SA 4.0 is the Wikimedia default; CC0 1.0 gives up all rights.",
            validate=f.licence,
        ),
    )


def _dialog() -> Dialog:
    return Dialog(
        DIALOG_NAME,
        "case study",
        _steps(),
        _complete,
        intro="Let's write up your case study, one question at a time.",
        expire_after=timedelta(days=DRAFT_DAYS),
        kept=(
            "Your answers are kept as a draft: say `yes` here to try again, the name of an "
            "answer to change it, or `cancel` to drop them; `{prefix}casestudy resume` "
            "brings them back from anywhere."
        ),
    )


async def _complete(ctx: Context, answers: dict[str, Any]) -> Reply:
    revising = answers.get("_study")
    record = f.record_from_answers(answers)
    number = revising if isinstance(revising, int) else None
    return await _retrying(number, lambda: _record(ctx, record, number, from_dialog=True))


async def _retrying(number: int | None, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (one transaction) again while the study changed under it: the next
    read sees the change, and either applies on top of it or is refused saying what it was."""
    busy = f"Case study #{number} is being changed by others right now; try again in a moment."
    return await retrying(attempt, busy=busy)


async def _record(
    ctx: Context, record: dict[str, Any], revising: int | None, *, from_dialog: bool = False
) -> Reply:
    """Store a confirmed submission (new, or the revision of a rejected study), tell the
    review room and (``from_dialog``) delete the dialogue's draft, in one transaction."""
    store = store_of(ctx.host)
    now = ctx.now()
    room = await store.review_room()
    async with ctx.db.session() as session:
        if from_dialog:  # first: a second "yes" at the same moment waits here, then finds none
            await ctx.dialogs.finish(session, ctx, DIALOG_NAME)
        if revising is not None:
            row = await store.load(session, revising)
            if row.member_id != ctx.member.id:
                raise UserError(f"Case study #{revising} isn't yours.")
            await store.move(
                session,
                row,
                "revise",
                ctx.member.id,
                now,
                actor_name=ctx.member.display_name,
                record=record,
            )
            what = "resubmitted"
        else:
            row = await store.submit(session, ctx.member.id, ctx.member.display_name, record, now)
            what = "submitted"
        study_id = row.id
        if room is not None:
            note = Reply.of(
                f"Case study #{study_id} was {what} by ",
                Plain(ctx.member.display_name),
                ": ",
                Plain(record["title"]),
                f". `{ctx.prefix}casestudy claim {study_id}` to review it.",
            )
            target = Room(room["id"], room["platform"], room["name"])
            delivery = Delivery(room["platform"], note, room=target, ref=f"casestudy:{study_id}")
            await outbox_of(ctx.host).enqueue(session, [delivery])
    return Reply.of(
        f"Thank you! Your case study is {what} as #{study_id}. The organisers will review it; "
        f"`{ctx.prefix}casestudy mine` shows where it stands."
    )


def _to_member(study: CaseStudyRow | Study, reply: Reply) -> list[Delivery]:
    if not study.member_id:
        return []
    platform = study.member_id.partition(":")[0]
    member = Member(study.member_id, platform, study.member_name or study.member_id)
    return [Delivery(platform, reply, member=member, ref=f"casestudy:{study.id}")]


module.dialog(_dialog())


async def _draft(ctx: Context) -> DialogRow | None:
    async with ctx.db.sessions() as session:
        rows = await session.scalars(
            select(DialogRow).where(
                DialogRow.member_id == ctx.member.id,
                DialogRow.name == DIALOG_NAME,
                DialogRow.expires_at > ctx.now(),
            )
        )
        return rows.first()


async def _start_in_dm(ctx: Context, answers: dict[str, Any] | None) -> Reply:
    """Start the dialogue in the caller's DM room (see the module doc).  With ``answers``
    (a revision) it opens at the review of those answers rather than at the first question."""
    if ctx.room.is_direct:
        return await _open(ctx, answers)
    note = Reply.of("Let's write your case study here, in a direct message.")
    out = Outgoing(ctx.room, note, in_reply_to=ctx.incoming, sent_at=ctx.now())
    sent = await ctx.adapter.send_direct(ctx.member, out)
    if sent is None:
        return Reply.of(
            "I couldn't send you a direct message. Allow messages from members here, or "
            f"send me `{ctx.prefix}casestudy submit` in a direct message.",
            aside=True,
        )
    dm = Room(sent.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    first = await _open(dm_ctx, answers)
    await ctx.adapter.send(Outgoing(dm, first, sent_at=ctx.now()))
    return Reply.of("I've sent you a direct message: let's continue there.", aside=True)


async def _open(ctx: Context, answers: dict[str, Any] | None) -> Reply:
    first = await ctx.dialogs.start(ctx, DIALOG_NAME, answers)
    if answers is None:
        return first
    async with ctx.db.session() as session:
        row = await session.get(DialogRow, (ctx.member.id, ctx.room.id))
        if row is not None:
            row.reviewing = 1
    steps = _steps()
    items = tuple(
        (f"**{step.title}**: ", Plain(step.display(answers.get(step.key)))) for step in steps
    )
    return Reply.of(
        f"Here are the answers of case study #{answers.get('_study')}:\n",
        Bullets(items),
        "Say the name of an answer to change it (e.g. `summary`), `yes` to send it again, "
        "or `cancel`.",
    )


def _incoming_in(ctx: Context, room: Room) -> Incoming:
    return Incoming(ctx.incoming.platform, ctx.member, room, ctx.incoming.text)


@casestudy.command(
    help="Submit a case study: I ask one question at a time, in a direct message.",
    examples=["casestudy submit"],
)
async def submit(ctx: Context) -> Reply:
    if await _draft(ctx) is not None:
        return Reply.of(
            f"You have a case study in progress: `{ctx.prefix}casestudy resume` continues "
            "it (or say `cancel` there to drop it).",
            aside=True,
        )
    return await _start_in_dm(ctx, None)


@casestudy.command(
    help="Continue the case study you started (drafts are kept for 30 days).",
    examples=["casestudy resume"],
)
async def resume(ctx: Context) -> Reply:
    row = await _draft(ctx)
    if row is None:
        return Reply.of(
            f"You have no case study in progress; `{ctx.prefix}casestudy submit` starts one.",
            aside=True,
        )
    if row.room_id == ctx.room.id:
        reply = await ctx.dialogs.feed(ctx, "help")
        return reply or Reply.of("Your draft expired.")
    dm = Room(row.room_id, ctx.room.platform, f"DM {ctx.member.display_name}", is_direct=True)
    dm_ctx = Context(ctx.host, _incoming_in(ctx, dm), ctx.adapter)
    reply = await ctx.dialogs.feed(dm_ctx, "help")
    if reply is not None:
        await ctx.adapter.send(Outgoing(dm, reply, sent_at=ctx.now()))
    return Reply.of("Your draft is waiting in our direct messages: continue there.", aside=True)


# -- contributors -----------------------------------------------------------------------------


def _line(study: Study) -> tuple[Inline, ...]:
    return (f"#{study.id} [{study.state.replace('_', ' ')}] ", Plain(study.record["title"]))


@casestudy.command(help="Your case studies and where each stands.", examples=["casestudy mine"])
async def mine(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).of_member(ctx.member.id)
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
        study.state == PUBLISHED or study.member_id == ctx.member.id or await _is_organiser(ctx)
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
    private = study.member_id == ctx.member.id or await _is_organiser(ctx)
    # the contact and a rejection's reason are for the contributor and organisers only
    return Reply.of(*_describe(study, private=private), private=private, aside=not private)


@casestudy.command(
    help="The revisions of a case study: who changed what, when.",
    examples=["casestudy history 12"],
)
async def history(ctx: Context, number: int) -> Reply:
    study = await _visible(ctx, number)
    if study.member_id != ctx.member.id and not await _is_organiser(ctx):
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


async def _move(
    ctx: Context, number: int, action: str, *, note: str | None = None
) -> tuple[Study, list[Delivery]]:
    return await _retrying(number, lambda: _move_once(ctx, number, action, note))


async def _move_once(
    ctx: Context, number: int, action: str, note: str | None
) -> tuple[Study, list[Delivery]]:
    store = store_of(ctx.host)
    async with ctx.db.session() as session:
        row = await store.load(session, number)
        if not TRANSITIONS[action][2] and row.member_id != ctx.member.id:
            raise UserError(f"Case study #{number} isn't yours.")
        await store.move(
            session,
            row,
            action,
            ctx.member.id,
            ctx.now(),
            actor_name=ctx.member.display_name,
            note=note,
        )
        study = Study.of(row)
        deliveries: list[Delivery] = []
        title = Plain(study.record["title"])
        if action == "reject":
            deliveries = _to_member(
                row,
                Reply.of(
                    f"Your case study #{number} (",
                    title,
                    ") needs changes before it can be accepted. The reviewer says: ",
                    Plain(note or ""),
                    f"\n`{ctx.prefix}casestudy revise {number}` lets you change it and "
                    "send it again.",
                ),
            )
        elif action in ("accept", "publish"):
            deliveries = _to_member(
                row, Reply.of(f"Good news: your case study #{number} (", title, f") is {action}ed.")
            )
        if deliveries:
            await outbox_of(ctx.host).enqueue(session, deliveries)
    return study, deliveries


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
    if study is None or study.member_id != ctx.member.id:
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


# -- organisers -------------------------------------------------------------------------------


@casestudy.command(
    help="Case studies waiting for review (submitted, in review, accepted).",
    level=Level.ORGANISER,
    examples=["casestudy pending"],
    private=True,
)
async def pending(ctx: Context) -> Reply:
    studies = await store_of(ctx.host).in_states((SUBMITTED, "in_review", "accepted"))
    if not studies:
        return Reply.of("No case study is waiting.", aside=True)
    return Reply.of("Waiting:\n", Bullets(tuple(_line(s) for s in studies)), private=True)


@casestudy.command(
    help="Start reviewing a submitted case study.",
    level=Level.ORGANISER,
    examples=["casestudy claim 12"],
)
async def claim(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "claim")
    return Reply.of(f"You're reviewing case study #{number}.")


@casestudy.command(
    help="Accept a case study you reviewed.",
    level=Level.ORGANISER,
    examples=["casestudy accept 12"],
)
async def accept(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "accept")
    return Reply.of(
        f"Case study #{number} is accepted; `{ctx.prefix}casestudy publish {number}` publishes it."
    )


@casestudy.command(
    help="Reject a case study, saying why (the contributor is told).",
    level=Level.ORGANISER,
    examples=["casestudy reject 12 please add numbers"],
)
async def reject(ctx: Context, number: int, reason: str) -> Reply:
    if len(reason.strip()) < 3:
        raise UserError("Say why, so the contributor can fix it.")
    await _move(ctx, number, "reject", note=reason.strip())
    return Reply.of(f"Case study #{number} is rejected; I've told the contributor why.")


@casestudy.command(
    help="Publish an accepted case study.", level=Level.ORGANISER, examples=["casestudy publish 12"]
)
async def publish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "publish")
    return Reply.of(f"Case study #{number} is published.")


@casestudy.command(
    help="Take a published case study back to accepted.",
    level=Level.ORGANISER,
    examples=["casestudy unpublish 12"],
)
async def unpublish(ctx: Context, number: int) -> Reply:
    await _move(ctx, number, "unpublish")
    return Reply.of(f"Case study #{number} is no longer published.")


@casestudy.command(
    help="Send new submissions to this room.",
    level=Level.ORGANISER,
    examples=["casestudy reviewroom here"],
)
async def reviewroom(ctx: Context, where: Literal["here"]) -> Reply:
    room = ctx.room
    await store_of(ctx.host).set_review_room(
        {"id": room.id, "platform": room.platform, "name": room.name}
    )
    return Reply.of("New case studies will be announced in this room.")


@casestudy.command(
    help="Find case studies: words, and country:XX, activity:…, project:… filters.",
    examples=["casestudy search wikidata country:GB", "casestudy search project:commons"],
)
async def search(ctx: Context, query: str = "") -> Reply:
    words: list[str] = []
    filters: dict[str, str] = {}
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key.casefold() in ("country", "activity", "project") and value:
            name = key.casefold()
            if name == "country":
                filters[name] = f.country(value)
            elif name == "activity":
                filters[name] = f.activities(value)[0]
            else:
                filters[name] = f.projects(value)[0]
        else:
            words.append(token)
    organiser = await _is_organiser(ctx)
    states: tuple[str, ...] = STATES if organiser else (PUBLISHED,)
    found = await store_of(ctx.host).search(
        " ".join(words),
        states,
        country=filters.get("country"),
        activity=filters.get("activity"),
        project=filters.get("project"),
    )
    if not found:
        return Reply.of("No case study matches.", aside=True)
    # an organiser's results include what is not published yet
    listing = Bullets(tuple(_line(s) for s in found))
    return Reply.of(f"{len(found)} found:\n", listing, private=organiser, aside=not organiser)


@casestudy.command(
    help="Export the published case studies (csv, json or wikitext), by direct message.",
    level=Level.ORGANISER,
    examples=["casestudy export csv", "casestudy export wikitext"],
)
async def export(ctx: Context, kind: Literal["csv", "json", "wikitext"]) -> Reply:
    studies = await store_of(ctx.host).in_states((PUBLISHED,))
    text = render(kind, [public(s.id, s.record) for s in studies])
    return Reply.of(
        f"{len(studies)} published case studies as {kind}:\n",
        Code(text, kind if kind != "wikitext" else ""),
        private=True,
        direct=True,
    )


# -- Discord forms ----------------------------------------------------------------------------

#: (key, label, long, max length, required) of the form's fields, five to a modal page
FORM_FIELDS: tuple[tuple[str, str, bool, int, bool], ...] = (
    ("title", "Title (5-120 characters)", False, 120, True),
    ("institution", "Library", False, 200, True),
    ("institution_qid", "Its Wikidata item (Q...)", False, 20, False),
    ("library_type", "Library type: public, academic, national...", False, 20, True),
    ("country", "Country (name or code)", False, 60, True),
    ("languages", "Language tags (en; sw)", False, 100, True),
    ("projects", "Wikimedia projects (wikipedia; wikidata...)", False, 200, True),
    ("activities", "Activities (editathon; 1lib1ref...)", False, 300, True),
    ("activities_other", "If other activity: what was it?", False, 200, False),
    ("period", "Start and end, YYYY-MM (or ongoing)", False, 30, True),
    ("summary", "Summary (200-1,500 characters)", True, 1500, True),
    ("outcomes", "Numbers (participants 18; note: ...)", True, 1200, False),
    ("links", "Links (http/https, space-separated)", True, 2000, False),
    ("lessons", "Tips for another library", True, 1500, False),
    ("credit", "Credit (name, username or anonymous)", False, 200, True),
    ("contact", "Contact for organisers (kept private)", False, 200, False),
    ("consent", "May we publish this? Type yes", False, 10, True),
    ("licence", "CC BY-SA 4.0? Type yes (or: cc0 yes)", False, 20, True),
)


def _form(values: dict[str, str] | None = None) -> Form:
    values = values or {}
    return Form(
        "casestudy",
        "Case study",
        tuple(
            FormField(
                key,
                label,
                required=required,
                long=long,
                max_length=limit,
                default=values.get(key, "")[:limit],
            )
            for key, label, long, limit, required in FORM_FIELDS
        ),
        "casestudy formsubmit",
    )


@casestudy.command(
    help="Fill in a case study as a form (Discord); elsewhere use `casestudy submit`.",
    examples=["casestudy form"],
)
async def form(ctx: Context) -> Reply:
    if not ctx.adapter.capabilities.forms:
        return Reply.of(
            f"Forms need Discord; here `{ctx.prefix}casestudy submit` asks the same "
            "questions one at a time.",
            aside=True,
        )
    return Reply.of(
        "Open the form to write up your case study (four pages of questions).",
        form=_form(),
        aside=True,
    )


@casestudy.command(
    help="Receives the answers of `casestudy form` (not typed by hand).",
    examples=["casestudy form"],
    private=True,
    hidden=True,  # an internal entry point: no slash command, not in !help
)
async def formsubmit(ctx: Context) -> Reply:
    values = ctx.incoming.form_values
    if values is None:
        raise UserError(f"Use `{ctx.prefix}casestudy form` to open the form.")
    try:
        record = f.validate_record(values)
    except UserError as exc:
        return Reply.of(
            Plain(exc.message),
            "\nOpen the form again (your answers are kept) and fix it.",
            form=_form(values) if ctx.adapter.capabilities.forms else None,
            private=True,
        )
    return await _record(ctx, record, None)


# -- privacy ----------------------------------------------------------------------------------


@module.on_mydata
async def _mydata(bot: Host, member_id: str) -> dict[str, Any]:
    async with bot.db.sessions() as session:
        drafts = await session.scalars(
            select(DialogRow).where(DialogRow.member_id == member_id, DialogRow.name == DIALOG_NAME)
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
    return (
        f"Your {len(published)} published case study(ies) will stay published under the "
        "licence you granted, credited as anonymous, without your name or contact."
    )


@module.on_forget
async def _forget(bot: Host, member_id: str) -> str | None:
    deleted, detached = await store_of(bot).forget(member_id, bot.clock.now())
    if not deleted and not detached:
        return None
    note = f"I've deleted your {deleted} unpublished case study(ies) and any draft."
    if detached:
        note += (
            f" {detached} published case study(ies) stay published under their licence, "
            "now credited as anonymous, without your name or contact."
        )
    return note


# registers the web pages, the review desk and ``!review web`` on the module above
from commands.casestudies import review as _review  # noqa: E402, F401
