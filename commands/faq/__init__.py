"""Answering members' questions from a knowledge base: ``!ask``, ``!faq``, DMs and mentions.

The engine is :mod:`commands.faq.index`; the shipped base is ``kb.toml``; organisers' edits
are stored in the database (:mod:`commands.faq.store`) and applied over the base by
:class:`~commands.faq.service.FaqService`, which also answers plain questions sent in a
direct message or mentioning the bot.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from chatbot.base.errors import UserError
from chatbot.base.i18n import N_, Msg, _, _n, verbatim
from chatbot.dispatch.answers import ALL, SHOWN_KEYWORDS, answer_key, keyword
from chatbot.dispatch.context import Context
from chatbot.dispatch.converters import Aliases
from chatbot.dispatch.registry import Level, Module
from chatbot.messages.events import (
    Attachment,
    Bullets,
    Code,
    Inline,
    Plain,
    Reply,
    When,
    safe_filename,
)
from commands.faq.kb import Entry, dump_kb
from commands.faq.service import (
    FaqService,
    answer_parts,
    echo,
    field_name,
    kb_paths,
    question_line,
    with_alternate,
    with_near_miss,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.dispatch.host import Host

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

module = Module(
    "faq", _("Answers to common questions, from the group's knowledge base."), migrations=MIGRATIONS
)
faq = module.group("faq", _("Browse the knowledge base behind `!ask`; organisers edit it."))

Field = Literal["answer", "question", "alternates", "tags", "near_misses"]


def service(ctx: Context) -> FaqService:
    """This bot's FAQ service (created at start-up)."""
    found = ctx.services.get("faq")
    if not isinstance(found, FaqService):
        raise UserError(_("The knowledge base isn't loaded yet; try again in a moment."))
    return found


@module.on_startup
async def _start(bot: Host) -> None:
    paths, method = kb_paths(bot.config)
    svc = FaqService(bot.db, bot.prefix, paths, method)
    # the index is built once the bot is ready, keeping start-up light; a question asked
    # before then builds it on the spot (FaqService.index)
    bot.add_worker("faq-index", svc.load)
    bot.services["faq"] = svc
    bot.services["questions"] = svc.ask  # plain text in a DM or a mention of the bot


@module.on_mydata
async def _mydata(bot: Host, member_id: str) -> dict[str, Any]:
    svc: FaqService = bot.services["faq"]
    return await svc.store.member_data(member_id)


@module.on_forget
async def _forget(bot: Host, member_id: str) -> Msg | None:
    svc: FaqService = bot.services["faq"]
    count = await svc.store.forget(member_id)
    if not count:
        return None
    note = _n(
        "I've also deleted the {n} question you asked that I couldn't answer.",
        "I've also deleted the {n} questions you asked that I couldn't answer.",
        count,
    )
    return note


@module.on_link
async def _link(bot: Host, session: AsyncSession, old: str, new: str) -> None:
    """A member linked an account: the questions it asked become the member's."""
    from sqlalchemy import update

    from commands.faq.store import UnansweredRow

    await session.execute(
        update(UnansweredRow).where(UnansweredRow.member_id == old).values(member_id=new)
    )


def _split_items(text: str, *, commas: bool) -> tuple[str, ...]:
    """``a | b | c`` (or, for tags, ``a, b, c``) → the non-empty items."""
    separators = text.replace("\n", "|")
    if commas:
        separators = separators.replace(",", "|")
    return tuple(" ".join(part.split()) for part in separators.split("|") if part.strip())


def no_question(number: int) -> Msg:
    """The reply to a question number that is not (or no longer) open."""
    return _("There's no unanswered question #{number}.", number=str(number))


# -- members ------------------------------------------------------------------------------------


@module.command(
    help=_("Ask me a question: I answer from the knowledge base, or note it for the organisers."),
    examples=["ask how do I join the group?", "ask when is the next meeting"],
    params={"question": _("your question, in plain words")},
)
async def ask(ctx: Context, question: str) -> Reply:
    # the same road as a DM or a mention: modules that know the answer first
    answered = await ctx.host.on_question(ctx, question)
    return answered if answered is not None else await service(ctx).ask(ctx, question)


@faq.command(
    name="list",
    help=_("List the topics, or the entries of one topic."),
    examples=[
        "faq list",
        "faq list meetings",
        verbatim("faq list {all}", all=SHOWN_KEYWORDS["all"]),
    ],
    params={"tag": _("a topic from `!faq list`, or {all}", all=keyword("all"))},
)
async def list_(ctx: Context, tag: str = "") -> Reply:
    svc = service(ctx)
    await svc.index()
    prefix = ctx.prefix
    entries = svc.kb.entries
    wanted = " ".join(tag.split()).casefold()
    if not wanted:
        counts: dict[str, int] = {}
        for entry in entries:
            for t in entry.tags or ("other",):
                counts[t.casefold()] = counts.get(t.casefold(), 0) + 1
        items = tuple((Plain(t), f" ({n})") for t, n in sorted(counts.items()))
        return Reply.of(
            _n(
                "The knowledge base has {n} entry on these topics:",
                "The knowledge base has {n} entries on these topics:",
                len(entries),
            ),
            "\n",
            Bullets(items),
            _(
                "`{prefix}faq list <topic>` lists a topic's entries, `{prefix}faq show <id>` "
                "shows one, and `{prefix}ask <question>` finds the answer for you.",
                prefix=prefix,
            ),
            aside=True,
        )
    if answer_key(wanted) in ALL:
        chosen = list(entries)
    else:
        chosen = [
            e
            for e in entries
            if any(t.casefold() == wanted for t in e.tags) or (wanted == "other" and not e.tags)
        ]
    if not chosen:
        from rapidfuzz import process

        tags = sorted({t.casefold() for e in entries for t in e.tags})
        guess = process.extractOne(wanted, tags, score_cutoff=60)
        if guess:
            return Reply.of(
                _(
                    "No entry has the topic {topic}. Did you mean {guess}? "
                    "`{prefix}faq list` shows the topics.",
                    topic=Plain(echo(tag)),
                    guess=Plain(guess[0]),
                    prefix=prefix,
                ),
                aside=True,
            )
        return Reply.of(
            _(
                "No entry has the topic {topic}. `{prefix}faq list` shows the topics.",
                topic=Plain(echo(tag)),
                prefix=prefix,
            ),
            aside=True,
        )
    lines: tuple[tuple[Inline, ...], ...] = tuple(
        (f"`{e.id}`: ", Plain(e.question)) for e in chosen
    )
    return Reply.of(
        _n("{n} entry:", "{n} entries:", len(chosen)),
        "\n",
        Bullets(lines),
        _("`{prefix}faq show <id>` shows one.", prefix=prefix),
        aside=True,
    )


#: Phrasings and near-misses `!faq show` lists before pointing to `!faq show <id> all`.
SHOWN_ITEMS = 5
#: `!faq show`'s labels: (all of them, the latest of many)
ALSO_ASKED = (
    N_("Also asked as: {items}"),
    N_("Also asked as ({count}, the latest {shown}): {items}"),
)
NOT_ANSWERED = (
    N_("Does not answer: {items}"),
    N_("Does not answer ({count}, the latest {shown}): {items}"),
)


@faq.command(
    help=_("Show one entry: its question, answer, other phrasings, near-misses and topics."),
    examples=[
        "faq show join-the-group",
        verbatim("faq show join-the-group {all}", all=SHOWN_KEYWORDS["all"]),
    ],
    params={
        "id": _("the entry's id, from `!faq list` or a `see also`"),
        "detail": _(
            "{all} to get every phrasing and near-miss (by direct message)", all=keyword("all")
        ),
    },
)
async def show(
    ctx: Context, id: str, detail: Annotated[Literal["all"], Aliases({"all": ALL})] | None = None
) -> Reply:
    svc = service(ctx)
    entry = await svc.entry(id)
    every = detail == "all"
    parts: list[Inline] = [f"`{entry.id}` ", question_line(entry.question), "\n"]
    parts.extend(answer_parts(entry.answer))
    more = False
    for label, items in ((ALSO_ASKED, entry.alternates), (NOT_ANSWERED, entry.near_misses)):
        if not items:
            continue
        if every or len(items) <= SHOWN_ITEMS:
            parts.extend(["\n", _(label[0], items=Plain(" | ".join(items)))])
        else:
            more = True
            latest = Plain(" | ".join(items[-SHOWN_ITEMS:]))
            parts.extend(["\n", _(label[1], count=len(items), shown=SHOWN_ITEMS, items=latest)])
    if entry.tags:
        parts.extend(["\n", _("Topics: {topics}", topics=Plain(", ".join(entry.tags)))])
    if entry.lang != "en":
        parts.extend(["\n", _("Language: {language}", language=Plain(entry.lang))])
    if more:
        parts.extend(
            [
                "\n",
                _(
                    "`{prefix}faq show {id} {all}` lists them all.",
                    prefix=ctx.prefix,
                    id=entry.id,
                    all=SHOWN_KEYWORDS["all"],
                ),
            ]
        )
    return Reply.of(*parts, private=every, direct=every)


# -- organisers ---------------------------------------------------------------------------------


@faq.command(
    help=_("Recent questions I couldn't answer, with their numbers."),
    level=Level.ORGANISER,
    examples=["faq unanswered", "faq unanswered 30"],
    params={"count": _("how many to show (default 10, at most 50)")},
    private=True,
)
async def unanswered(ctx: Context, count: int = 10) -> Reply:
    svc = service(ctx)
    prefix = ctx.prefix
    rows = await svc.store.recent(max(1, min(count, 50)))
    if not rows:
        return Reply.of(_("No unanswered questions: every question found its answer."), aside=True)
    index = await svc.index()
    items: list[tuple[Inline, ...]] = []
    for row in rows:
        nearest = index.ask(row.text).nearest
        values = {
            "number": f"#{row.id}",
            "when": When(row.asked_at, "short"),
            "member": Plain(row.member_id),
            "room": Plain(row.room_id),
            "language": verbatim(" [{lang}]", lang=Plain(row.lang)) if row.lang else "",
            "question": Plain(echo(row.text)),
        }
        if nearest:
            line = _(
                "{number} {when}, {member} in {room}{language}: “{question}” (nearest: `{id}`)",
                id=nearest[0].id,
                **values,
            )
        else:
            line = _("{number} {when}, {member} in {room}{language}: “{question}”", **values)
        items.append((line,))
    total = await svc.store.open_count()
    if total > len(rows):
        title = _("Unanswered questions, newest first ({total} open in all):", total=total)
    else:
        title = _("Unanswered questions, newest first:")
    return Reply.of(
        title,
        "\n",
        Bullets(tuple(items)),
        _(
            "`{prefix}faq answer <number> <id>` makes that question match the entry next time; "
            "`{prefix}faq dismiss <number>` drops it.",
            prefix=prefix,
        ),
        private=True,
    )


@faq.command(
    help=_(
        "The knowledge base in effect (with every change) as a TOML file, by direct message; "
        "`chatbot faq import` loads it back."
    ),
    level=Level.ORGANISER,
    examples=["faq export"],
)
async def export(ctx: Context) -> Reply:
    svc = service(ctx)
    await svc.index()
    count = len(svc.kb.entries)
    name = safe_filename(f"faq-{ctx.now().date().isoformat()}.toml")
    return Reply.of(
        _n(
            "{n} FAQ entry as TOML: {name}",
            "{n} FAQ entries as TOML: {name}",
            count,
            name=Plain(name),
        ),
        private=True,
        direct=True,
        files=(Attachment(name, dump_kb(svc.kb).encode("utf-8"), "application/toml"),),
    )


@faq.command(
    help=_("Add a new entry."),
    level=Level.ORGANISER,
    examples=['faq add wikimania "When is Wikimania?" Wikimania is held every summer…'],
    params={
        "id": _("a new id: letters, digits, '-', '_' or '.'"),
        "question": _("the question, in quotes"),
        "answer": _("the answer (`code` and **bold** are kept)"),
    },
)
async def add(ctx: Context, id: str, question: str, answer: str) -> Reply:
    svc = service(ctx)
    await svc.index()
    existing = next((e for e in svc.kb.entries if e.id.casefold() == id.casefold()), None)
    if existing is not None:
        raise UserError(
            _(
                "There's already an entry '{id}'. Change it with {command}",
                id=Plain(existing.id),
                command=Code(f"{ctx.prefix}faq edit {existing.id} …"),
            )
        )
    entry = Entry(id=id, question=" ".join(question.split()), answer=answer.strip())
    await svc.save(entry, ctx.member.key, before=None)
    return Reply.of(
        _(
            "Added `{id}`. `{prefix}faq alias {id} <phrasing>` adds other ways to ask it, "
            "`{prefix}faq edit {id} tags <topics>` its topics.",
            id=entry.id,
            prefix=ctx.prefix,
        )
    )


@faq.command(
    help=_(
        "Change an entry's `answer`, `question`, `alternates` or `near_misses` (separated by "
        "`|`) or `tags` (by commas)."
    ),
    level=Level.ORGANISER,
    examples=[
        "faq edit meetings answer Type !meetings to see them.",
        "faq edit meetings alternates next call | when do you meet",
        "faq edit meetings tags meetings, calendar",
        "faq edit meetings near_misses is there a recording | who chairs the calls",
    ],
    params={
        "field": _("`answer`, `question`, `alternates`, `near_misses` or `tags`"),
        "text": _("the new value"),
    },
)
async def edit(ctx: Context, id: str, field: Field, text: str) -> Reply:
    svc = service(ctx)

    def how(entry: Entry) -> Entry:
        if field == "answer":
            return replace(entry, answer=text.strip())
        if field == "question":
            return replace(entry, question=" ".join(text.split()))
        if field == "alternates":
            return replace(entry, alternates=_split_items(text, commas=False))
        if field == "near_misses":
            return replace(entry, near_misses=_split_items(text, commas=False))
        return replace(entry, tags=_split_items(text, commas=True))

    entry, _changed = await svc.amend(id, how, ctx.member.key, replaces=field)
    return Reply.of(_("Changed the {field} of `{id}`.", field=field_name(field), id=entry.id))


@faq.command(
    help=_("Add another way of asking an entry's question."),
    level=Level.ORGANISER,
    examples=["faq alias join-the-group how can I sign up"],
    params={"phrasing": _("the other phrasing")},
)
async def alias(ctx: Context, id: str, phrasing: str) -> Reply:
    svc = service(ctx)
    entry, changed = await svc.amend(id, lambda e: with_alternate(e, phrasing), ctx.member.key)
    if changed is entry:
        return Reply.of(_("`{id}` already has that phrasing.", id=entry.id))
    return Reply.of(
        _(
            "Added the phrasing to `{id}`: {phrasing}",
            id=entry.id,
            phrasing=Plain(changed.alternates[-1]),
        )
    )


@faq.command(
    help=_("Teach me a question that looks like an entry but that its answer does not answer."),
    level=Level.ORGANISER,
    examples=["faq nearmiss wikipedian-in-residence how much does a WiR earn"],
    params={
        "id": _("the entry the question resembles"),
        "question": _("the question its answer does not answer"),
    },
)
async def nearmiss(ctx: Context, id: str, question: str) -> Reply:
    svc = service(ctx)
    entry, changed = await svc.amend(id, lambda e: with_near_miss(e, question), ctx.member.key)
    if changed is entry:
        return Reply.of(
            _("`{id}` already lists that question as one it does not answer.", id=entry.id)
        )
    return Reply.of(
        _(
            "Noted: `{id}` does not answer “{question}”. I'll say I don't know to it, and to "
            "questions much like it.",
            id=entry.id,
            question=Plain(echo(changed.near_misses[-1])),
        )
    )


@faq.command(
    name="answer",
    help=_("Answer an unanswered question with an entry: it becomes one of its phrasings."),
    level=Level.ORGANISER,
    examples=["faq answer 12 join-the-group"],
    params={
        "number": _("the question's number in `!faq unanswered`"),
        "id": _("the entry's id"),
    },
)
async def answer_(ctx: Context, number: int, id: str) -> Reply:
    svc = service(ctx)
    row = await svc.store.get(number)
    if row is None:
        raise UserError(no_question(number))
    entry, _changed = await svc.amend(id, lambda e: with_alternate(e, row.text), ctx.member.key)
    await svc.store.close(number, entry.id)
    return Reply.of(
        _(
            "Done: question #{number} (“{question}”) now leads to `{id}`.",
            number=str(number),
            question=Plain(echo(row.text)),
            id=entry.id,
        )
    )


@faq.command(
    help=_("Drop an unanswered question without answering it."),
    level=Level.ORGANISER,
    examples=["faq dismiss 12"],
    params={"number": _("the question's number in `!faq unanswered`")},
)
async def dismiss(ctx: Context, number: int) -> Reply:
    svc = service(ctx)
    if await svc.store.get(number) is None:
        raise UserError(no_question(number))
    await svc.store.close(number, None)
    return Reply.of(_("Dismissed question #{number}.", number=str(number)))


@faq.command(
    help=_("Remove an entry (a shipped one can be brought back with `!faq reset`)."),
    level=Level.ORGANISER,
    examples=["faq remove swot-analysis"],
)
async def remove(ctx: Context, id: str) -> Reply:
    svc = service(ctx)
    entry = await svc.entry(id)
    await svc.remove(entry.id, ctx.member.key, before=entry)
    if svc.in_base(entry.id):
        return Reply.of(
            _(
                "Removed `{id}`. `{prefix}faq reset {id}` brings it back.",
                id=entry.id,
                prefix=ctx.prefix,
            )
        )
    return Reply.of(_("Removed `{id}`.", id=entry.id))


@faq.command(
    help=_("Undo every change to a shipped entry (or bring a removed one back)."),
    level=Level.ORGANISER,
    examples=["faq reset meetings"],
)
async def reset(ctx: Context, id: str) -> Reply:
    svc = service(ctx)
    await svc.index()
    shipped = svc.base.get(id) or next(
        (e for e in svc.base.entries if e.id.casefold() == id.casefold()), None
    )
    if shipped is None:
        raise UserError(
            _(
                "'{id}' isn't a shipped entry; `{prefix}faq remove` deletes added ones.",
                id=Plain(id[:60]),
                prefix=ctx.prefix,
            )
        )
    if svc.kb.get(shipped.id) == shipped:
        return Reply.of(_("`{id}` is already as shipped.", id=shipped.id))
    await svc.reset(shipped.id)
    return Reply.of(_("`{id}` is back as shipped.", id=shipped.id))


__all__ = ["MIGRATIONS", "FaqService", "faq", "module"]
