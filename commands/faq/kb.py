"""The knowledge base as data: entries, validation, and the TOML file format.

An entry is a question and its answer, with optional alternate phrasings, near-misses
(questions it does *not* answer), tags and a language.  :func:`parse_kb` names every problem
of a bad file at once, so an organiser can fix it in one go; ``parse_kb(dump_kb(kb)) == kb``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from chatbot.base.i18n import Msg, _, plain_english

__all__ = [
    "DEFAULT_KB_PATH",
    "Entry",
    "KbError",
    "KnowledgeBase",
    "dump_kb",
    "entry_problems",
    "load_kb",
    "load_kbs",
    "parse_kb",
]

DEFAULT_KB_PATH = Path(__file__).with_name("kb.toml")

# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_FIELDS = ("id", "question", "alternates", "near_misses", "answer", "tags", "lang")


@dataclass(frozen=True, slots=True)
class Entry:
    """One question of the knowledge base and its answer."""

    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = "en"
    #: questions that look like this entry but that its answer does not answer ("how much
    #: does a Wikipedian in Residence earn"): a question close to one is not answered
    near_misses: tuple[str, ...] = ()


class KbError(ValueError):
    """A knowledge base that cannot be used; ``problems`` lists each one, naming its entry."""

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{where}{self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{where}{len(self.problems)} problems in the knowledge base:\n{lines}"
        super().__init__(message)


def _label(index: int, entry_id: object) -> str:
    """Name an entry in a message: its 1-based position and, when known, its id."""
    if isinstance(entry_id, str) and entry_id:
        return f"entry #{index + 1} (id {entry_id!r})"
    return f"entry #{index + 1}"


def _storable(value: str) -> bool:
    """Whether ``value`` has no lone surrogate, which no database (nor UTF-8) can hold.
    (Encoding is checked for all of a large base's texts in a few milliseconds, where a loop
    over their characters took a hundred.)"""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_problem(value: str, field: str, item: int | None = None) -> Msg | None:
    """Why a text value cannot be stored, or None if it can."""
    if not value.strip():
        if item is None:
            return _("field '{field}' is empty", field=field)
        return _("field '{field}', item {item} is empty", field=field, item=item)
    if not value.isascii() and not _storable(value):
        if item is None:
            return _("field '{field}' contains a lone surrogate", field=field)
        return _("field '{field}', item {item} contains a lone surrogate", field=field, item=item)
    return None


def entry_problems(entry: Entry) -> list[Msg]:
    """Value problems of one well-typed entry, as messages an organiser can read in their
    language (``!faq add`` and ``!faq edit`` say them)."""
    problems: list[Msg] = []
    if not _ID_RE.fullmatch(entry.id):
        problems.append(
            _(
                "field 'id' must be 1-100 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit"
            )
        )
    for name in ("question", "answer"):
        why = _text_problem(getattr(entry, name), name)
        if why:
            problems.append(why)
    for name in ("alternates", "tags", "near_misses"):
        for i, value in enumerate(getattr(entry, name)):
            why = _text_problem(value, name, i + 1)
            if why:
                problems.append(why)
    if not _LANG_RE.fullmatch(entry.lang):
        problems.append(_("field 'lang' must be a language code such as 'en' or 'pt-BR'"))
    return problems


def _entry_problems(entry: Entry, index: int) -> list[str]:
    """Value problems of one well-typed entry, in English, naming it (files, logs)."""
    label = _label(index, entry.id)
    return [f"{label}: {plain_english(p)}" for p in entry_problems(entry)]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """An ordered, validated collection of entries with unique ids."""

    entries: tuple[Entry, ...] = ()
    _by_id: Mapping[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            problems.extend(_entry_problems(entry, index))
            if entry.id in seen:
                problems.append(
                    f"{_label(index, entry.id)}: duplicate id, already used by entry "
                    f"#{seen[entry.id] + 1}"
                )
            else:
                seen[entry.id] = index
        if problems:
            raise KbError(problems)
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    @property
    def languages(self) -> frozenset[str]:
        """Languages that have at least one entry."""
        return frozenset(e.lang for e in self.entries)


# ---------------------------------------------------------------------------------------------
# TOML reading and writing
# ---------------------------------------------------------------------------------------------


def _str_list(
    raw: Mapping[str, Any], name: str, label: str, problems: list[str]
) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        problems.append(
            f"{label}: field {name!r} must be a list of strings, got {_type_name(value)}"
        )
        return ()
    bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
    if bad:
        problems.append(
            f"{label}: field {name!r}, item {bad[0] + 1} must be a string, "
            f"got {_type_name(value[bad[0]])}"
        )
        return ()
    return tuple(value)


def _type_name(value: object) -> str:
    names = {str: "string", int: "integer", float: "float", bool: "boolean", list: "array"}
    if isinstance(value, dict):
        return "table"
    return names.get(type(value), type(value).__name__)


def _parse_entry(raw: object, index: int, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{_label(index, None)}: must be a table, got {_type_name(raw)}")
        return None
    label = _label(index, raw.get("id"))
    before = len(problems)
    for key in raw:
        if key not in _FIELDS:
            problems.append(
                f"{label}: unknown field {key!r} (expected one of: {', '.join(_FIELDS)})"
            )
    texts: dict[str, str] = {}
    for name in ("id", "question", "answer"):
        if name not in raw:
            problems.append(f"{label}: missing field {name!r}")
        elif not isinstance(raw[name], str):
            problems.append(
                f"{label}: field {name!r} must be a string, got {_type_name(raw[name])}"
            )
        else:
            texts[name] = raw[name]
    lang = raw.get("lang", "en")
    if not isinstance(lang, str):
        problems.append(f"{label}: field 'lang' must be a string, got {_type_name(lang)}")
    alternates = _str_list(raw, "alternates", label, problems)
    tags = _str_list(raw, "tags", label, problems)
    near_misses = _str_list(raw, "near_misses", label, problems)
    if len(problems) > before or not isinstance(lang, str):
        return None
    return Entry(
        id=texts["id"],
        question=texts["question"],
        answer=texts["answer"],
        alternates=alternates,
        tags=tags,
        lang=lang,
        near_misses=near_misses,
    )


def parse_kb(text: str, source: str | None = None) -> KnowledgeBase:
    """Parse knowledge-base TOML text; raise :class:`KbError` naming every bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KbError([f"not valid TOML: {exc}"], source) from exc
    problems: list[str] = []
    for key in data:
        if key != "entry":
            problems.append(f"unknown top-level key {key!r} (entries are [[entry]] tables)")
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list):
        problems.append("'entry' must be an array of tables: write each one as [[entry]]")
        raw_entries = []
    entries = [_parse_entry(raw, i, problems) for i, raw in enumerate(raw_entries)]
    if problems:
        raise KbError(problems, source)
    try:
        return KnowledgeBase(tuple(e for e in entries if e is not None))
    except KbError as exc:
        raise KbError(exc.problems, source) from None


def load_kb(path: str | Path = DEFAULT_KB_PATH) -> KnowledgeBase:
    """Read and validate a knowledge-base TOML file (the shipped one by default).

    A file read before is not parsed again: its entries are kept in the user's cache
    directory under a digest of its text (and of this module), and validated again when read
    back.  Parsing the shipped base costs about 50 ms of CPU, a tenth of the bot's start-up;
    reading it back about 5 ms."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    key = _cache_key(text)
    cached = _from_cache(key) if key else None
    if cached is not None:
        return cached
    kb = parse_kb(text, source=str(path))
    if key:
        _to_cache(key, kb)
    return kb


def load_kbs(paths: Sequence[str | Path]) -> KnowledgeBase:
    """Several files as one base: an entry of a later file replaces the one with the same id
    in an earlier file (in its place), so a local file can amend the shipped base."""
    if len(paths) == 1:
        return load_kb(paths[0])
    entries: dict[str, Entry] = {}
    for path in paths:
        for entry in load_kb(path).entries:
            entries[entry.id] = entry
    return KnowledgeBase(tuple(entries.values()))


# ---------------------------------------------------------------------------------------------
# The parse cache
# ---------------------------------------------------------------------------------------------

#: how many knowledge bases (texts) the cache file keeps, the latest used
CACHED_BASES = 8


def _cache_path() -> Path:
    from chatbot.base.diskcache import PY_TAG, cache_dir

    return cache_dir() / f"faq-kb-{PY_TAG}.marshal"


@cache
def _code_digest() -> bytes | None:
    """This module's source: a change of the format or of its rules parses bases again.
    None where the source is not installed (then nothing is cached)."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).digest()
    except OSError:
        return None


def _cache_key(text: str) -> str | None:
    code = _code_digest()
    if code is None:
        return None
    digest = hashlib.sha256(code)
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


_Row = tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, tuple[str, ...]]


def _cached_bases() -> dict[str, list[_Row]]:
    from chatbot.base import diskcache

    found = diskcache.read(_cache_path())
    return found if isinstance(found, dict) else {}


def _from_cache(key: str) -> KnowledgeBase | None:
    """The base cached under ``key``, validated again; None if absent or unusable."""
    rows = _cached_bases().get(key)
    if not isinstance(rows, list):
        return None
    try:
        entries = tuple(
            Entry(
                id=r[0],
                question=r[1],
                answer=r[2],
                alternates=r[3],
                tags=r[4],
                lang=r[5],
                near_misses=r[6],
            )
            for r in rows
        )
        for entry in entries:
            values = (entry.id, entry.question, entry.answer, entry.lang)
            lists = (entry.alternates, entry.tags, entry.near_misses)
            if not all(isinstance(v, str) for v in values) or not all(
                isinstance(items, tuple) and all(isinstance(v, str) for v in items)
                for items in lists
            ):
                return None
        return KnowledgeBase(entries)
    except (TypeError, IndexError, KbError):
        return None  # damaged, or from other rules: parsed again


def _to_cache(key: str, kb: KnowledgeBase) -> None:
    from chatbot.base import diskcache

    bases = _cached_bases()
    bases.pop(key, None)
    bases[key] = [
        (e.id, e.question, e.answer, e.alternates, e.tags, e.lang, e.near_misses)
        for e in kb.entries
    ]
    for old in list(bases)[:-CACHED_BASES]:
        del bases[old]
    diskcache.write(_cache_path(), bases)


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_TOML_ESCAPES["\r"] = "\\r"
_TOML_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _toml_str(value: str) -> str:
    """A TOML basic string that reads back as exactly ``value``."""

    def escape(m: re.Match[str]) -> str:
        c = m.group()
        return _TOML_ESCAPES.get(c) or f"\\u{ord(c):04X}"

    return '"' + _TOML_NEEDS_ESCAPE.sub(escape, value) + '"'


def _toml_list(values: Sequence[str]) -> str:
    one_line = "[" + ", ".join(_toml_str(v) for v in values) + "]"
    if len(one_line) <= 80:
        return one_line
    return "[\n" + "".join(f"    {_toml_str(v)},\n" for v in values) + "]"


def dump_kb(kb: KnowledgeBase) -> str:
    """Write a knowledge base as TOML text; ``parse_kb(dump_kb(kb)) == kb``."""
    blocks: list[str] = []
    for entry in kb.entries:
        lines = [
            "[[entry]]",
            f"id = {_toml_str(entry.id)}",
            f"question = {_toml_str(entry.question)}",
        ]
        if entry.alternates:
            lines.append(f"alternates = {_toml_list(entry.alternates)}")
        if entry.near_misses:
            lines.append(f"near_misses = {_toml_list(entry.near_misses)}")
        lines.append(f"answer = {_toml_str(entry.answer)}")
        if entry.tags:
            lines.append(f"tags = {_toml_list(entry.tags)}")
        if entry.lang != "en":
            lines.append(f"lang = {_toml_str(entry.lang)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
