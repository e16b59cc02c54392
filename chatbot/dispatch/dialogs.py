"""Multi-step conversations that survive restarts.

A :class:`Dialog` is a list of :class:`Step` questions.  The engine keeps one dialogue per
member per room in the database (step, answers, expiry), so a crash or deploy resumes the
member exactly where they were.  Members can always say ``back``, ``skip`` (optional steps),
``cancel`` and ``help``; at the end they review every answer, change any by name, and
confirm.  Those words are understood in English, Spanish, French, Portuguese and German
(``atrás``, ``passer``, ``cancelar``, ``hilfe``, ``sí``: :mod:`chatbot.dispatch.answers`).

A step may depend on earlier answers (:attr:`Step.when`): it is asked only when it applies,
``back`` and the review pass over it, and its answer is dropped as soon as a changed earlier
answer means it no longer applies.  The condition is read from the stored answers, so it
holds the same after a restart.

The answers are a draft until the completion succeeds: the engine saves them before it calls
the completion, and only a completion that returns deletes them.  One that refuses
(:class:`UserError`) or fails leaves the member at the review with every answer kept, told
what to do (:attr:`Dialog.kept`).  A completion deletes the draft itself, in the transaction
of its effect, with :meth:`DialogEngine.finish`; that also makes a second ``yes`` sent at
the same moment a no-op rather than a second submission.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from sqlalchemy import Delete, delete, select, update
from sqlalchemy.orm.exc import StaleDataError

from chatbot.base.errors import UserError, new_ref
from chatbot.base.i18n import (
    Msg,
    _,
    available_languages,
    labelled,
    listing,
    plain_english,
    verbatim,
)
from chatbot.base.logs import get_logger
from chatbot.dispatch.answers import BACK, CANCEL, CONFIRM, HELP, SKIP, answer_key, keywords
from chatbot.messages.events import Bullets, Inline, Plain, Reply
from chatbot.messages.localise import error_text, text_in
from chatbot.storage.models import DialogRow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from chatbot.messages.events import Member, Room
    from chatbot.storage import Database

log = get_logger("chatbot.dispatch.dialogs")


class DialogContext(Protocol):
    """What the engine reads of the message it answers (a handler's ``Context``)."""

    @property
    def member(self) -> Member: ...

    @property
    def room(self) -> Room: ...

    @property
    def db(self) -> Database: ...

    @property
    def prefix(self) -> str: ...

    def now(self) -> datetime: ...


Validator = Callable[[str], Any]
#: ``fn(answers so far) -> bool``: whether a step applies
Condition = Callable[[dict[str, Any]], bool]
#: ``async fn(ctx, answers) -> Reply``, called with the handler's full ``Context`` (typed
#: ``Any`` here so this module need not import it: ``Context`` sits above the engine)
Completion = Callable[[Any, dict[str, Any]], Awaitable[Reply]]

#: what a member is told when a completion refused or failed (``{prefix}`` is filled in)
KEPT = _(
    "Your answers are kept: say {yes} to try again, the name of an answer to change it, "
    "or {cancel} to drop them.",
    **keywords("yes", "cancel"),
)


#: said to a message that arrives as another one of the member's ends their dialogue
ENDED = _("Your other message just finished (or cancelled) that a moment ago; nothing more to do.")


class DraftGone(UserError):
    """The draft a completion was finishing is gone: another message of the member's
    finished or cancelled it first.  The completion's transaction must not commit."""


class Step(msgspec.Struct, frozen=True):
    """One question.  ``validate`` returns the value to store (JSON-able) or raises
    :class:`UserError` saying what was wrong."""

    key: str
    prompt: str | Msg
    help: str | Msg = ""
    optional: bool = False
    validate: Validator | None = None
    #: the answer as shown: a ``str`` is what the member typed (escaped when shown), a
    #: :class:`Msg` is translated for the reader (a choice's label, "ongoing")
    show: Callable[[Any], str | Msg] | None = None
    label: str | Msg = ""
    #: asked only when this returns True for the answers so far (None: always asked)
    when: Condition | None = None

    def applies(self, answers: dict[str, Any]) -> bool:
        return self.when is None or bool(self.when(answers))

    @property
    def title(self) -> str | Msg:
        return self.label or self.key.replace("_", " ")

    def display(self, value: Any) -> str:
        """The answer as English text (for logs); :meth:`shown` in replies."""
        if value is None:
            return "(skipped)"
        return plain_english(self.show(value)) if self.show else str(value)

    def shown(self, value: Any) -> Inline:
        """The answer as the member sees it: what they typed (escaped), choices and words
        of the bot's in their language, or "(skipped)"."""
        if value is None:
            return _("(skipped)")
        found = self.show(value) if self.show else str(value)
        return found if isinstance(found, Msg) else Plain(found)


class Dialog(msgspec.Struct, frozen=True):
    name: str
    title: str | Msg
    steps: tuple[Step, ...]
    on_complete: Completion
    intro: str | Msg = ""
    review: bool = True
    expire_after: timedelta | None = None
    #: said after a completion refused or failed: the answers are kept, and how to go on
    kept: str | Msg = KEPT

    def index_of(self, text: str) -> int | None:
        """The step a member names at the review: by its key, or by its title in any of the
        bot's languages (``zona horaria`` as well as ``zone``), accents and case ignored."""
        wanted = _name_key(text)
        for i, step in enumerate(self.steps):
            if wanted == _name_key(step.key):
                return i
        for i, step in enumerate(self.steps):
            titles = {_name_key(text_in(step.title, lang)) for lang in available_languages()}
            if wanted in titles:
                return i
        return None

    def applicable(self, answers: dict[str, Any]) -> list[int]:
        """The indexes of the steps that apply given ``answers``."""
        return [i for i, step in enumerate(self.steps) if step.applies(answers)]

    def prune(self, answers: dict[str, Any]) -> dict[str, Any]:
        """Drop (in place) the answers of steps that no longer apply; returns ``answers``."""
        for step in self.steps:
            if step.key in answers and not step.applies(answers):
                del answers[step.key]
        return answers

    def next_step(self, answers: dict[str, Any], after: int) -> int | None:
        """The first step after index ``after`` that applies, or None (the review)."""
        return next((i for i in self.applicable(answers) if i > after), None)

    def previous_step(self, answers: dict[str, Any], before: int) -> int | None:
        return next((i for i in reversed(self.applicable(answers)) if i < before), None)

    def review_items(self, answers: dict[str, Any]) -> tuple[tuple[Inline, ...], ...]:
        """``title: answer`` of every step that applies, for a review."""
        return tuple(
            (labelled(step.title, step.shown(answers.get(step.key)), bold=True),)
            for step in self.steps
            if step.applies(answers)
        )


class DialogEngine:
    """Runs dialogues for every member; state lives in the ``dialogs`` table."""

    def __init__(self, default_ttl: timedelta) -> None:
        self.dialogs: dict[str, Dialog] = {}
        self.default_ttl = default_ttl
        #: (member, room) pairs with a dialogue, so ordinary chat never queries the database
        self.open_keys: set[tuple[str, str]] = set()

    async def load(self, db: Database) -> None:
        """Learn which members have dialogues in progress (at start-up or takeover)."""
        async with db.sessions() as session:
            rows = await session.execute(select(DialogRow.member_id, DialogRow.room_id))
            self.open_keys = {(m, r) for m, r in rows}

    def register(self, dialog: Dialog) -> None:
        if dialog.name in self.dialogs:
            raise ValueError(f"dialogue {dialog.name} registered twice")
        self.dialogs[dialog.name] = dialog

    async def start(
        self, ctx: DialogContext, name: str, answers: dict[str, Any] | None = None
    ) -> Reply:
        """Begin (or restart) a dialogue for the caller in this room."""
        dialog = self.dialogs[name]
        answers = dialog.prune(dict(answers or {}))
        first = dialog.next_step(answers, -1)
        row = DialogRow(
            member_id=ctx.member.id,
            room_id=ctx.room.id,
            name=name,
            step=first or 0,
            answers=json.dumps(answers),
            reviewing=0,
            return_to_review=0,
            expires_at=ctx.now() + (dialog.expire_after or self.default_ttl),
            updated_at=ctx.now(),
        )
        async with ctx.db.session() as session:
            await session.merge(row)
        self.open_keys.add((ctx.member.id, ctx.room.id))
        intro: list[Inline] = [dialog.intro, "\n"] if dialog.intro else []
        words = _(
            "Say {back}, {skip} (optional questions), {help} or {cancel} at any time.",
            **keywords("back", "skip", "help", "cancel"),
        )
        return Reply.of(*intro, words, "\n", *self._prompt(dialog, first or 0, answers))

    def active(self, member_id: str, room_id: str) -> bool:
        return (member_id, room_id) in self.open_keys

    async def feed(self, ctx: DialogContext, text: str) -> Reply | None:
        """Answer ``text`` if the caller has a dialogue here; None if they have none."""
        key = (ctx.member.id, ctx.room.id)
        if key not in self.open_keys:
            return None
        try:
            async with ctx.db.session() as session:
                row = await session.get(DialogRow, key)
                if row is None:  # another message of theirs ended it since the cache was filled
                    self.open_keys.discard(key)
                    return Reply.of(ENDED)
                dialog = self.dialogs.get(row.name)
                if dialog is None:  # a module was disabled since: drop its state
                    await session.delete(row)
                    self.open_keys.discard(key)
                    return None
                now = ctx.now()
                if row.expires_at <= now:
                    await session.delete(row)
                    self.open_keys.discard(key)
                    return Reply.of(
                        _(
                            "Your {title} from earlier expired, so I dropped it. "
                            "Start again whenever you like.",
                            title=dialog.title,
                        )
                    )
                reply, finished = await self._advance(ctx, dialog, row, text.strip())
                if finished == "cancelled":
                    await session.delete(row)
                else:
                    row.expires_at = now + (dialog.expire_after or self.default_ttl)
                    row.updated_at = now
                    if finished == "complete":  # kept at the review until it succeeds
                        row.reviewing = 1
                        row.return_to_review = 0
                answers = json.loads(row.answers)
        except StaleDataError:  # another message of theirs finished or cancelled it meanwhile
            self.open_keys.discard(key)
            return Reply.of(ENDED)
        if finished == "cancelled":
            self.open_keys.discard(key)
        if finished != "complete":
            return reply
        return await self._complete(ctx, dialog, answers)

    async def _complete(self, ctx: DialogContext, dialog: Dialog, answers: dict[str, Any]) -> Reply:
        """Run the completion; only its success removes the draft (if it did not itself)."""
        key = (ctx.member.id, ctx.room.id)
        kept = (
            dialog.kept.format(prefix=ctx.prefix)
            if isinstance(dialog.kept, str)
            else dialog.kept.given(prefix=ctx.prefix)
        )
        try:
            result = await dialog.on_complete(ctx, answers)
        except DraftGone as exc:
            self.open_keys.discard(key)
            return Reply.of(error_text(exc.message, exc.markdown))
        except UserError as exc:
            said: Inline = error_text(exc.message, exc.markdown)
            return Reply.of(said, "\n", kept)
        except Exception:
            ref = new_ref()
            log.exception("dialog_completion_failed", ref=ref, dialog=dialog.name, member=key[0])
            return Reply.of(
                _(
                    "Sorry, something broke on my side while saving your {title} (ref {ref}: "
                    "quote it to an organiser).",
                    title=dialog.title,
                    ref=ref,
                ),
                " ",
                kept,
            )
        async with ctx.db.session() as session:
            await session.execute(_draft_of(ctx, dialog.name))
        self.open_keys.discard(key)
        return result

    async def finish(self, session: AsyncSession, ctx: DialogContext, name: str) -> None:
        """Delete the caller's draft of dialogue ``name`` in ``session``, the completion's
        own transaction, so it goes exactly when the effect is committed.  Raises
        :class:`DraftGone` when there is none left to delete (a second ``yes`` racing the
        first): the completion must then let its transaction roll back."""
        result = await session.execute(_draft_of(ctx, name))
        if getattr(result, "rowcount", 0) != 1:
            title = self.dialogs[name].title if name in self.dialogs else name
            raise DraftGone(
                _(
                    "That {title} was already sent (or cancelled) by your other message a "
                    "moment ago; I didn't send it twice.",
                    title=title,
                )
            )

    async def move(self, db: Database, old: tuple[str, str], new: tuple[str, str]) -> bool:
        """Hand a dialogue in progress to another (account, room): a member who linked
        accounts resumes on one platform what they began on the other. False when a
        dialogue is already in progress there."""
        async with db.session() as session:
            if await session.get(DialogRow, new) is not None:
                return False
            await session.execute(
                update(DialogRow)
                .where(DialogRow.member_id == old[0], DialogRow.room_id == old[1])
                .values(member_id=new[0], room_id=new[1])
            )
        self.open_keys.discard(old)
        self.open_keys.add(new)
        return True

    def forget(self, member_id: str) -> None:
        """Drop the cache entries of a member whose rows were deleted."""
        self.open_keys = {k for k in self.open_keys if k[0] != member_id}

    async def _advance(
        self, ctx: DialogContext, dialog: Dialog, row: DialogRow, text: str
    ) -> tuple[Reply, str]:
        word = answer_key(text.lstrip(ctx.prefix))
        answers: dict[str, Any] = json.loads(row.answers)
        if word in CANCEL:
            cancelled = _("Cancelled your {title}. Nothing was saved.", title=dialog.title)
            return Reply.of(cancelled), "cancelled"
        if row.reviewing:
            return self._review_answer(dialog, row, answers, text, word)
        step = dialog.steps[row.step]
        if word in HELP:
            return Reply.of(*self._help(dialog, row.step, answers)), ""
        if word in BACK:
            previous = dialog.previous_step(answers, row.step)
            if previous is None:
                return Reply.of(
                    _("This is the first question."),
                    "\n",
                    *self._prompt(dialog, row.step, answers, current=False),
                ), ""
            row.step = previous
            row.return_to_review = 0
            return Reply.of(*self._prompt(dialog, row.step, answers)), ""
        if word in SKIP and step.optional:
            value: Any = None
        elif word in SKIP and answer_key(text) in SKIP:
            return Reply.of(
                _("This one is needed, so I can't skip it."),
                "\n",
                *self._prompt(dialog, row.step, answers, current=False),
            ), ""
        else:
            try:
                value = step.validate(text) if step.validate else _nonempty(text)
            except UserError as exc:
                return Reply.of(
                    error_text(exc.message, exc.markdown),
                    "\n",
                    *self._prompt(dialog, row.step, answers),
                ), ""
        answers[step.key] = value
        dialog.prune(answers)
        row.answers = json.dumps(answers)
        following = dialog.next_step(answers, row.step)
        if row.return_to_review:  # an edit: on to any question it newly opened, else the review
            following = next(
                (i for i in dialog.applicable(answers) if dialog.steps[i].key not in answers),
                None,
            )
        if following is None:
            if not dialog.review:
                return Reply.of(""), "complete"
            row.reviewing = 1
            row.return_to_review = 0
            return self._review(dialog, answers), ""
        row.step = following
        return Reply.of(*self._prompt(dialog, row.step, answers)), ""

    def _review_answer(
        self, dialog: Dialog, row: DialogRow, answers: dict[str, Any], text: str, word: str
    ) -> tuple[Reply, str]:
        if word in CONFIRM:
            return Reply.of(""), "complete"
        if word in HELP:
            return self._review(dialog, answers), ""
        if word in BACK:
            row.reviewing = 0
            row.step = dialog.previous_step(answers, len(dialog.steps)) or 0
            return Reply.of(*self._prompt(dialog, row.step, answers)), ""
        target = text.strip()
        for lead in ("edit ", "change ", "fix "):
            if target.casefold().startswith(lead):
                target = target[len(lead) :]
        index = dialog.index_of(target)
        if index is not None and not dialog.steps[index].applies(answers):
            return Reply.of(
                _(
                    "The question {name} doesn't apply with your answers, so there is "
                    "nothing to change there. Say {yes} to confirm, the name of another answer "
                    "to change it, or {cancel}.",
                    name=answer_name(dialog.steps[index]),
                    **keywords("yes", "cancel"),
                )
            ), ""
        if index is None:
            names = listing([answer_name(s) for s in dialog.steps if s.applies(answers)])
            return Reply.of(
                _(
                    "Say {yes} to confirm, the name of an answer to change it ({names}), "
                    "or {cancel}.",
                    names=names,
                    **keywords("yes", "cancel"),
                )
            ), ""
        row.reviewing = 0
        row.return_to_review = 1
        row.step = index
        return Reply.of(*self._prompt(dialog, index, answers)), ""

    def _prompt(
        self,
        dialog: Dialog,
        index: int,
        answers: dict[str, Any] | None = None,
        *,
        current: bool = True,
    ) -> list[Inline]:
        """The question, numbered among those that apply, with its current answer."""
        step = dialog.steps[index]
        shown = dialog.applicable(answers or {})
        number = sum(1 for i in shown if i < index) + 1
        total = max(len(shown), number)
        parts: list[Inline] = [f"**{number}/{total}** ", step.prompt]
        if step.optional:
            parts += [" ", _("(optional: say {skip})", **keywords("skip"))]
        if current and answers and step.key in answers:
            parts += [" ", _("Current answer: {answer}.", answer=step.shown(answers[step.key]))]
        return parts

    def _help(
        self, dialog: Dialog, index: int, answers: dict[str, Any] | None = None
    ) -> list[Inline]:
        step = dialog.steps[index]
        text = step.help or _("Answer the question in your own words.")
        words = (
            _(
                "You can also say {back} (previous question), {skip} (this one is optional), "
                "or {cancel} (stop, nothing saved).",
                **keywords("back", "skip", "cancel"),
            )
            if step.optional
            else _(
                "You can also say {back} (previous question) or {cancel} (stop, nothing saved).",
                **keywords("back", "cancel"),
            )
        )
        return [
            text,
            "\n",
            words,
            "\n",
            *self._prompt(dialog, index, answers, current=False),
        ]

    def _review(self, dialog: Dialog, answers: dict[str, Any]) -> Reply:
        return Reply.of(
            _("Here is your {title}:", title=dialog.title),
            "\n",
            Bullets(dialog.review_items(answers)),
            _(
                "Say {yes} to confirm, or the name of an answer to change it (e.g. {name}), "
                "or {cancel}.",
                name=answer_name(dialog.steps[0]),
                **keywords("yes", "cancel"),
            ),
        )


def answer_name(step: Step) -> Msg:
    """How a member names an answer to change it, in their language (``library type``,
    ``tipo de biblioteca``): its title, which :meth:`Dialog.index_of` takes in any language."""
    return verbatim("`{title}`", title=step.title)


def _draft_of(ctx: DialogContext, name: str) -> Delete:
    return delete(DialogRow).where(
        DialogRow.member_id == ctx.member.id,
        DialogRow.room_id == ctx.room.id,
        DialogRow.name == name,
    )


def _nonempty(text: str) -> str:
    if not text.strip():
        raise UserError(_("I need an answer here."))
    return text.strip()


def _name_key(text: str) -> str:
    """A step's name as members may type it: any case, accents or spaces/underscores."""
    return answer_key(text).replace(" ", "_")
