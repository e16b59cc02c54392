"""The knowledge base as the bot uses it: base plus stored overrides, one index, answers.

One :class:`FaqService` per bot (``bot.services["faq"]``).  It keeps the effective knowledge
base and its :class:`~commands.faq.index.FaqIndex`; before each use it checks the stored
revision, so edits made through another instance are picked up, and after each edit it
rebuilds the index.  It also turns the engine's :class:`~commands.faq.index.Answer` into a
chat reply (``bot.services["questions"]`` is :meth:`FaqService.reply`).

Two organisers editing one entry at once: an edit says which entry it was based on
(``before``) and is saved only if the entry is still that one, here and in the database
(see :mod:`commands.faq.store`); otherwise the organiser is told it changed meanwhile
(:class:`EntryChanged`) and nothing of theirs overwrites it.  :meth:`FaqService.amend` runs
an edit again on the entry as it now is when the change meanwhile does not clash with it:
always for adding a phrasing or a near-miss, and for replacing a field when the other change
left that field alone (two organisers replacing the same field: the second is told).
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from chatbot.base.config import config_relative, find_line, module_settings
from chatbot.base.errors import ConfigError, UserError
from chatbot.base.i18n import Msg, _, _p, verbatim
from chatbot.base.logs import get_logger
from chatbot.messages.events import Bullets, Code, Inline, Plain, Reply
from chatbot.storage.conditional import ATTEMPTS, Changed
from commands.faq.kb import (
    DEFAULT_KB_PATH,
    Entry,
    KbError,
    KnowledgeBase,
    entry_problems,
    load_kbs,
)
from commands.faq.methods import resolve_method
from commands.faq.store import Expect, FaqStore, Override, diff, merge
from commands.faq.vectors import VectorStore

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chatbot.base.config import Config
    from chatbot.dispatch.context import Context
    from chatbot.storage import Database
    from commands.faq.encoder import Encoder
    from commands.faq.index import Answer, FaqIndex

log = get_logger("commands.faq")

#: Environment variable overriding ``[modules.faq] method`` (e.g. ``plain`` to compare).
METHOD_ENV = "CHATBOT_FAQ_METHOD"


class FaqSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[modules.faq]`` in the config."""

    #: knowledge-base TOML files, relative to the config file; empty: the shipped base
    files: list[str] = msgspec.field(default_factory=list)
    #: ``hybrid`` (lexical and multilingual embeddings; needs the model package, falls back
    #: to plain without it) or ``plain`` (lexical only); ``semantic`` is an old name of hybrid
    method: Literal["hybrid", "plain", "semantic"] = "hybrid"


def kb_paths(config: Config) -> tuple[list[Path], str]:
    """The knowledge-base files and the method the config names; a missing file is a
    config error naming the key, so the bot does not start without its answers."""
    settings = module_settings(config, "faq", FaqSettings)
    paths = [config_relative(config, name) for name in settings.files] or [DEFAULT_KB_PATH]
    for path in paths:
        if not path.is_file():
            line = find_line(config.source_text, ["modules", "faq", "files"])
            raise ConfigError(
                f"{config.source}:{line or '?'}: modules.faq.files: {path}: no such file"
            )
    return paths, settings.method


#: Longest question analysed (and recorded); the rest of a longer message is ignored.
MAX_QUESTION = 2000
#: How much of a member's question is quoted back in a reply.
ECHO_CHARS = 200

_PROBLEM_PREFIX = re.compile(r"^entry #\d+(?: \(id .*?\))?: ")
#: an answer's `code` and **bold** spans, kept as formatting; a bold span stays on one line
#: (a line break in it could start a heading or a list) and cannot link, ping or nest code
_CODE_SPAN = re.compile(r"`([^`\n]{1,300})`|\*\*([\w \t.,:;!?'\"()/#&+-]{1,120})\*\*")


def english_language_name(code: str) -> str:
    """``es`` → ``Spanish`` (the code itself when unknown)."""
    try:
        from babel import Locale

        return str(Locale.parse(code).get_display_name("en"))
    except Exception:
        return code


#: names of the languages a question is most often detected in, to say so in the reader's
#: language (others are named in English, by Babel)
LANGUAGE_NAMES: dict[str, Msg] = {
    "es": _("Spanish"),
    "fr": _("French"),
    "pt": _("Portuguese"),
    "de": _("German"),
    "it": _("Italian"),
    "nl": _("Dutch"),
    "id": _("Indonesian"),
    "sw": _("Swahili"),
    "ru": _("Russian"),
    "ar": _("Arabic"),
    "zh": _("Chinese"),
    "ja": _("Japanese"),
    "ko": _("Korean"),
    "hi": _("Hindi"),
}

#: an entry's fields as ``!faq edit`` names them, as said in a sentence
FIELD_NAMES: dict[str, Msg] = {
    "answer": _p("faq field", "answer"),
    "question": _p("faq field", "question"),
    "alternates": _p("faq field", "alternates"),
    "near_misses": _p("faq field", "near misses"),
    "tags": _p("faq field", "tags"),
}


def field_name(field: str) -> Msg:
    """``near_misses`` → "near misses", in the reader's language."""
    return FIELD_NAMES.get(field) or verbatim("{field}", field=field.replace("_", " "))


def language_label(code: str) -> Msg:
    """The name of the language ``code`` (the base of a tag) for any reader."""
    found = LANGUAGE_NAMES.get(code.split("-")[0].lower())
    return found or verbatim("{name}", name=english_language_name(code))


def question_line(question: str) -> Msg:
    """``**Q:** <question>``: an entry's question as its answer is introduced."""
    return _("**Q:** {question}", question=Plain(question))


def answer_parts(text: str) -> list[Inline]:
    """An entry's answer as reply parts: its `code` and **bold** spans keep their formatting,
    everything else is shown literally (answers can be edited in chat, so they are user
    text)."""
    parts: list[Inline] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        if match.start() > last:
            parts.append(Plain(text[last : match.start()]))
        code, bold = match.group(1), match.group(2)
        # the code as a Code part: escaped (``@room`` broken) like any user text; the bold
        # span's characters are limited by the pattern, so it stays the bot's markdown
        parts.append(Code(code) if code is not None else verbatim("**{bold}**", bold=bold))
        last = match.end()
    if last < len(text):
        parts.append(Plain(text[last:]))
    return parts


def echo(text: str) -> str:
    """The member's words as quoted back: one line, at most :data:`ECHO_CHARS`."""
    line = " ".join(text.split())
    return line if len(line) <= ECHO_CHARS else line[: ECHO_CHARS - 1] + "…"


def problems_text(exc: KbError) -> str:
    """The engine's validation problems without its "entry #N" prefix, one per sentence."""
    return "; ".join(_PROBLEM_PREFIX.sub("", p) for p in exc.problems)


def problems_msg(problems: Sequence[Msg]) -> Msg:
    """Several translatable problems as one, separated by semicolons."""
    names = [f"p{i}" for i in range(len(problems))]
    template = "; ".join(f"{{{name}}}" for name in names)
    return verbatim(template, **dict(zip(names, problems, strict=True)))


class EntryChanged(UserError):
    """An edit was based on an entry that someone changed meanwhile; nothing was saved."""


#: ``before`` of an edit that overwrites whatever is stored (imports, resets)
UNCHECKED: Literal["any"] = "any"


class FaqService:
    """The effective knowledge base, its index and the answers built from it."""

    def __init__(
        self,
        db: Database,
        prefix: str,
        base_paths: Sequence[Path] = (DEFAULT_KB_PATH,),
        method: str | None = None,
    ) -> None:
        self.method = resolve_method(os.environ.get(METHOD_ENV, "").strip() or method or "hybrid")
        self.store = FaqStore(db)
        self.vectors = VectorStore(db)
        self.prefix = prefix
        self.base = load_kbs(base_paths)
        self.kb = self.base
        self._overrides: list[Override] = []
        self._index: FaqIndex | None = None
        self._revision: str | None = None
        self._lock = asyncio.Lock()

    # -- the effective knowledge base --------------------------------------------------------

    async def load(self) -> None:
        """Read the overrides and build the index (at start-up and after changes).

        At start-up with the hybrid method, a lexical index (under a second) answers first,
        while the model loads and the base is embedded (seconds, longer on the first start
        after an install); members never wait for the model."""
        if self._index is None and self.method == "hybrid":
            async with self._lock:
                if self._index is None:
                    await self._load(model=False)
        async with self._lock:
            await self._load()

    async def _load(self, *, model: bool = True) -> None:
        overrides, revision = await self.store.overrides()
        try:
            kb = merge(self.base, overrides)
        except KbError as exc:  # cannot happen with validated rows; never stop answering
            log.warning("faq_bad_overrides", problems=list(exc.problems))
            kb = self.base
        encoder = await self._encoder() if model else None
        if encoder is not None:
            # embed only what neither this process nor the database has embedded yet
            from commands.faq.semantic import entry_texts

            english = [e for e in kb.entries if e.lang.split("-")[0] == "en"]
            missing = encoder.missing(t for e in english for t in entry_texts(e))
            if missing:
                encoder.remember(await self.vectors.load(encoder.model_id, missing))
        index = await asyncio.to_thread(self._build, kb, encoder)
        if encoder is not None:
            await self.vectors.save(encoder.model_id, encoder.take_fresh())
        self._overrides, self.kb, self._index, self._revision = overrides, kb, index, revision

    async def _encoder(self) -> Encoder | None:
        """The model for the hybrid method (loaded once, in a thread); None for the plain
        method, or when the model package is missing (then the method becomes plain)."""
        if self.method != "hybrid":
            return None
        from commands.faq.encoder import MODEL_PACKAGE, available, load_encoder

        if available():
            try:
                return await asyncio.to_thread(load_encoder)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                log.warning("faq_method_unavailable", method=self.method, error=str(exc))
        else:
            log.info("faq_plain_method", reason=f"{MODEL_PACKAGE} is not installed")
        self.method = "plain"
        return None

    def _build(self, kb: KnowledgeBase, encoder: Encoder | None) -> FaqIndex:
        """Index ``kb`` with the chosen method.  (The engine is imported here, in the thread
        that builds the first index once the bot is ready: nothing before needs it.)"""
        from commands.faq.index import FaqIndex

        if encoder is not None:
            return FaqIndex(kb, method="hybrid", encoder=encoder)
        return FaqIndex(kb)

    async def index(self) -> FaqIndex:
        """The current index, rebuilt first if another instance changed the overrides."""
        revision = await self.store.revision()
        if self._index is None or revision != self._revision:
            async with self._lock:
                if self._index is None or await self.store.revision() != self._revision:
                    await self._load()
        assert self._index is not None
        return self._index

    async def entry(self, entry_id: str) -> Entry:
        """The entry with this id (case-insensitive), or a :class:`UserError` with a hint."""
        await self.index()
        found = self.kb.get(entry_id)
        if found is None:
            folded = entry_id.casefold()
            found = next((e for e in self.kb.entries if e.id.casefold() == folded), None)
        if found is not None:
            return found
        from rapidfuzz import process

        ids = [e.id for e in self.kb.entries]
        guess = process.extractOne(entry_id.casefold(), ids, score_cutoff=60)
        if guess:
            raise UserError(
                _(
                    "There's no entry '{id}' in the knowledge base. Did you mean {guess}? "
                    "`{prefix}faq list` shows the topics.",
                    id=Plain(entry_id[:60]),
                    guess=Plain(guess[0]),
                    prefix=self.prefix,
                )
            )
        raise UserError(
            _(
                "There's no entry '{id}' in the knowledge base. "
                "`{prefix}faq list` shows the topics.",
                id=Plain(entry_id[:60]),
                prefix=self.prefix,
            )
        )

    def in_base(self, entry_id: str) -> bool:
        return self.base.get(entry_id) is not None

    async def save(
        self,
        entry: Entry,
        member_id: str | None,
        *,
        before: Entry | Literal["any"] | None = UNCHECKED,
    ) -> None:
        """Validate and store one added or edited entry, then rebuild the index.  ``before``
        is the entry the edit was based on (None: there was none); if the entry is no longer
        that one, :class:`EntryChanged` and nothing is saved."""
        problems = entry_problems(entry)
        if problems:
            raise UserError(
                _(
                    "I can't save entry '{id}': {problems}.",
                    id=Plain(entry.id[:60]),
                    problems=problems_msg(problems),
                )
            )
        try:
            KnowledgeBase((entry,))
        except KbError as exc:  # entry_problems said nothing: not reachable from chat
            raise UserError(
                _(
                    "I can't save entry '{id}': {problems}.",
                    id=Plain(entry.id[:60]),
                    problems=Plain(problems_text(exc)),
                )
            ) from None
        async with self._lock:
            existing = next((o for o in self._overrides if o.id == entry.id), None)
            seq = existing.seq if existing else -1
            expect = await self._expect(entry.id, before, member_id)
            try:
                await self.store.save(Override(entry.id, entry, seq), member_id, expect=expect)
            except Changed:
                await self._load()
                raise await self._changed(entry.id, before, member_id) from None
            await self._load()

    async def amend(
        self,
        entry_id: str,
        how: Callable[[Entry], Entry],
        member_id: str | None,
        *,
        replaces: str | None = None,
    ) -> tuple[Entry, Entry]:
        """Apply ``how`` to the entry as it is now and save the result; if someone changed
        the entry meanwhile, apply it again to theirs, unless ``how`` ``replaces`` a field
        (an :class:`Entry` attribute) that they changed too: then :class:`EntryChanged`.
        Returns (before, after); ``after is before`` when there was nothing to change."""
        first: Entry | None = None
        for attempt in range(ATTEMPTS):
            before = await self.entry(entry_id)
            if first is None:
                first = before
            elif replaces and getattr(before, replaces) != getattr(first, replaces):
                raise await self._changed(entry_id, first, member_id, replaces)
            after = how(before)
            if after is before:
                return before, after
            try:
                await self.save(after, member_id, before=before)
            except EntryChanged:
                if attempt + 1 == ATTEMPTS:
                    raise
                continue
            return before, after
        raise AssertionError("unreachable")

    async def remove(
        self,
        entry_id: str,
        member_id: str | None,
        *,
        before: Entry | Literal["any"] = UNCHECKED,
    ) -> None:
        """Hide a shipped entry, or delete an added one (only if it is still ``before``)."""
        async with self._lock:
            expect = await self._expect(entry_id, before, member_id)
            try:
                if self.in_base(entry_id):
                    await self.store.save(Override(entry_id, None, 0), member_id, expect=expect)
                else:
                    await self.store.drop(entry_id, expect=expect)
            except Changed:
                await self._load()
                raise await self._changed(entry_id, before, member_id) from None
            await self._load()

    async def _expect(
        self, entry_id: str, before: Entry | Literal["any"] | None, member_id: str | None
    ) -> Expect:
        """The stored revision an edit based on ``before`` may overwrite (under the lock);
        :class:`EntryChanged` when this instance already holds a newer entry."""
        if before == UNCHECKED:
            return UNCHECKED
        if self.kb.get(entry_id) != before:
            raise await self._changed(entry_id, before, member_id)
        stored = next((o for o in self._overrides if o.id == entry_id), None)
        return stored.revision if stored else None

    async def _changed(
        self,
        entry_id: str,
        before: Entry | Literal["any"] | None,
        member_id: str | None,
        field: str | None = None,
    ) -> EntryChanged:
        by = await self.store.changed_by(entry_id)
        mine = by is not None and by == member_id
        who = _("you, in another message,") if mine else _("another organiser")
        # code spans as parts, escaped by each renderer its own way (a hand-made `{id}`
        # around a Plain showed backslashes on Discord and backticks on Matrix)
        values = {
            "id": Code(entry_id),
            "who": who,
            "command": Code(f"{self.prefix}faq show {entry_id}"),
        }
        if field:
            message = _(
                "The {field} of {id} was changed by {who} at the same time as your change, "
                "so I didn't save yours over it. {command} shows it now; send "
                "your command again if it still needs changing.",
                field=field_name(field),
                **values,
            )
        elif before is None:
            message = _(
                "{id} was added by {who} at the same time as your change, so I didn't save "
                "yours over it. {command} shows it now; send your command again "
                "if it still needs changing.",
                **values,
            )
        else:
            message = _(
                "{id} was changed by {who} at the same time as your change, so I didn't save "
                "yours over it. {command} shows it now; send your command again "
                "if it still needs changing.",
                **values,
            )
        return EntryChanged(message)

    async def reset(self, entry_id: str) -> None:
        """Drop the override of a shipped entry: it is back as shipped."""
        async with self._lock:
            await self.store.drop(entry_id)
            await self._load()

    async def import_kb(self, kb: KnowledgeBase, *, keep_others: bool = False) -> list[Override]:
        """Make ``kb`` the effective knowledge base (or, ``keep_others``, add/replace its
        entries only); returns the overrides written."""
        async with self._lock:
            if keep_others:
                overrides = [o for o in diff(self.base, kb) if o.entry is not None]
                await self.store.merge_in(overrides, None)
            else:
                overrides = diff(self.base, kb)
                await self.store.replace_all(overrides, None)
            await self._load()
            await self._prune_vectors()
            return overrides

    async def _prune_vectors(self) -> None:
        """Drop stored embeddings of texts no longer in the base (after an import)."""
        if self.method != "hybrid":
            return
        from commands.faq.encoder import load_encoder
        from commands.faq.semantic import entry_texts

        encoder = load_encoder()  # loaded by _load already
        await self.vectors.prune(
            encoder.model_id, [t for e in self.kb.entries for t in entry_texts(e)]
        )

    # -- answering ----------------------------------------------------------------------------

    async def ask(self, ctx: Context, text: str) -> Reply:
        """Answer a member's question, or say so and record it for the organisers."""
        question = text.strip()
        if not question:
            return Reply.of(
                _("Ask me a question, e.g. `{prefix}ask how do I join?`", prefix=self.prefix)
            )
        from commands.faq.language import small_talk

        talk = small_talk(question)
        if talk == "thanks":
            return Reply.of(_("You're welcome!"))
        if talk == "greeting":
            return Reply.of(
                _(
                    "Hello! Ask me a question in plain words, or type `{prefix}help` "
                    "to see what I can do.",
                    prefix=self.prefix,
                )
            )
        analysed = question[:MAX_QUESTION]
        index = await self.index()
        result = index.ask(analysed)
        if result.entry is not None:
            return self._answered(result, result.translation or result.entry)
        if (
            index.method == "plain"
            and result.language is not None
            and result.language.split("-")[0]
            not in {lang.split("-")[0] for lang in self.kb.languages}
        ):
            recorded = await self._record(ctx, question, result.language)
            return self._other_language(result, result.language, recorded)
        recorded = await self._record(ctx, question, result.language)
        return self._abstained(question, result, recorded)

    async def _record(self, ctx: Context, question: str, lang: str | None) -> bool:
        if len(question) > MAX_QUESTION or not any(c.isalnum() for c in question):
            return False
        number = await self.store.record(question, ctx.member.key, ctx.room.id, lang)
        return number is not None

    def _see_also_line(self, entries: tuple[Entry, ...]) -> list[Inline]:
        parts: list[Inline] = []
        for i, e in enumerate(entries):
            parts.extend(
                [", " if i else "", Plain(e.question), f" (`{self.prefix}faq show {e.id}`)"]
            )
        return parts

    def _answered(self, result: Answer, entry: Entry) -> Reply:
        parts: list[Inline] = [question_line(entry.question), "\n", *answer_parts(entry.answer)]
        if result.see_also:
            parts.extend(["\n", _("See also:"), " ", *self._see_also_line(result.see_also)])
        return Reply.of(*parts)

    def _nearest(self, result: Answer) -> list[Inline | Bullets]:
        if not result.nearest:
            return []
        items = tuple(
            (Plain(e.question), f" (`{self.prefix}faq show {e.id}`)") for e in result.nearest
        )
        return ["\n", _("The nearest topics I know:"), "\n", Bullets(items)]

    def _abstained(self, question: str, result: Answer, recorded: bool) -> Reply:
        asked = Plain(echo(question))
        if recorded:
            said = _(
                "I don't know the answer to “{question}” yet. I've noted your question for the "
                "organisers.",
                question=asked,
            )
        else:
            said = _("I don't know the answer to “{question}” yet.", question=asked)
        nearest = self._nearest(result)
        return Reply.of(
            said,
            *nearest,
            "" if nearest else "\n",
            _(
                "You can also ask in the room, or browse with `{prefix}faq list`.",
                prefix=self.prefix,
            ),
        )

    def _other_language(self, result: Answer, lang: str, recorded: bool) -> Reply:
        values = {"language": language_label(lang), "prefix": self.prefix}
        if recorded:
            said = _(
                "It looks like you wrote in {language}. I can only answer in English for now: "
                "please ask again in English (e.g. `{prefix}ask how do I join?`), or ask in the "
                "room, where members speak many languages and will often reply. I've noted "
                "your question for the organisers.",
                **values,
            )
        else:
            said = _(
                "It looks like you wrote in {language}. I can only answer in English for now: "
                "please ask again in English (e.g. `{prefix}ask how do I join?`), or ask in the "
                "room, where members speak many languages and will often reply.",
                **values,
            )
        return Reply.of(said, *self._nearest(result))


def with_alternate(entry: Entry, phrasing: str) -> Entry:
    """``entry`` with one more alternate phrasing (unchanged if it already has it); no longer
    one of its near-misses, if it was."""
    from commands.faq.text import phrasing_key

    phrasing = " ".join(phrasing.split())
    key = phrasing_key(phrasing)
    if key in {phrasing_key(p) for p in (entry.question, *entry.alternates)}:
        return entry
    near_misses = tuple(p for p in entry.near_misses if phrasing_key(p) != key)
    return replace(entry, alternates=(*entry.alternates, phrasing), near_misses=near_misses)


def with_near_miss(entry: Entry, question: str) -> Entry:
    """``entry`` with one more question it does not answer (unchanged if it has it already);
    no longer one of its alternates, if it was."""
    from commands.faq.text import phrasing_key

    question = " ".join(question.split())
    key = phrasing_key(question)
    if key == phrasing_key(entry.question):
        raise UserError(
            _(
                "That's the question of `{id}` itself; change the entry's question first.",
                id=entry.id,
            )
        )
    if key in {phrasing_key(p) for p in entry.near_misses}:
        return entry
    alternates = tuple(p for p in entry.alternates if phrasing_key(p) != key)
    return replace(entry, alternates=alternates, near_misses=(*entry.near_misses, question))
