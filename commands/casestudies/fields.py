"""The case-study fields (``/work/shared/casestudy-schema.md`` §2): validation and display.

Each validator takes what a member typed and returns the value to store (JSON-able) or
raises :class:`UserError` with a friendly reason.  The same validators serve the dialogue,
the Discord form and :func:`validate_record` (imports, tests).

A *record* is the canonical form of one study (see :data:`RECORD_FIELDS`); the dialogue's
answers differ only in that ``start``/``end`` are asked together (``period``) and
``outcomes``/``outcomes_note`` together (``outcomes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from chatbot.base.errors import UserError
from chatbot.base.i18n import (
    Country,
    Language,
    Msg,
    _,
    _n,
    _p,
    available_languages,
    labelled,
    listing,
    template,
    verbatim,
)
from chatbot.dispatch.answers import SHOWN_KEYWORDS, answer_key, is_yes, keywords
from chatbot.messages.events import Plain

SCHEMA_VERSION = 1

LIBRARY_TYPES = ("public", "academic", "national", "school", "special", "community", "other")
PROJECTS = (
    "wikipedia",
    "wikidata",
    "commons",
    "wikisource",
    "wiktionary",
    "wikibooks",
    "wikivoyage",
    "wikiquote",
    "wikibase",
    "other",
)
ACTIVITIES = (
    "editathon",
    "1lib1ref",
    "wikidata_authority",
    "commons_digitisation",
    "wikipedian_in_residence",
    "teaching_infolit",
    "wikisource_transcription",
    "other",
)
OUTCOMES = (
    "articles_created",
    "articles_improved",
    "citations_added",
    "items_created",
    "items_edited",
    "files_uploaded",
    "participants",
)
LICENCES = ("CC-BY-SA-4.0", "CC0-1.0")
MAX_LINKS = 10

#: each choice as a member reads it (and may type it) in their language; the English is the
#: stored code, so English prompts read as before
LIBRARY_TYPE_LABELS: dict[str, Msg] = {
    "public": _p("library type", "public"),
    "academic": _p("library type", "academic"),
    "national": _p("library type", "national"),
    "school": _p("library type", "school"),
    "special": _p("library type", "special"),
    "community": _p("library type", "community"),
    "other": _p("library type", "other"),
}
PROJECT_LABELS: dict[str, Msg] = {
    "wikipedia": verbatim("wikipedia"),
    "wikidata": verbatim("wikidata"),
    "commons": verbatim("commons"),
    "wikisource": verbatim("wikisource"),
    "wiktionary": _p("Wikimedia project", "wiktionary"),
    "wikibooks": _p("Wikimedia project", "wikibooks"),
    "wikivoyage": _p("Wikimedia project", "wikivoyage"),
    "wikiquote": verbatim("wikiquote"),
    "wikibase": verbatim("wikibase"),
    "other": _p("Wikimedia project", "other"),
}
ACTIVITY_LABELS: dict[str, Msg] = {
    "editathon": _p("activity", "editathon"),
    "1lib1ref": verbatim("1lib1ref"),
    "wikidata_authority": _p("activity", "wikidata_authority"),
    "commons_digitisation": _p("activity", "commons_digitisation"),
    "wikipedian_in_residence": _p("activity", "wikipedian_in_residence"),
    "teaching_infolit": _p("activity", "teaching_infolit"),
    "wikisource_transcription": _p("activity", "wikisource_transcription"),
    "other": _p("activity", "other"),
}
OUTCOME_LABELS: dict[str, Msg] = {
    "articles_created": _p("outcome", "articles_created"),
    "articles_improved": _p("outcome", "articles_improved"),
    "citations_added": _p("outcome", "citations_added"),
    "items_created": _p("outcome", "items_created"),
    "items_edited": _p("outcome", "items_edited"),
    "files_uploaded": _p("outcome", "files_uploaded"),
    "participants": _p("outcome", "participants"),
}
_TABLES: dict[str, dict[str, Msg]] = {
    "library_type": LIBRARY_TYPE_LABELS,
    "projects": PROJECT_LABELS,
    "activities": ACTIVITY_LABELS,
    "outcomes": OUTCOME_LABELS,
}
#: the word before the free text of the outcomes (``note: …``)
NOTE_WORD = _p("outcomes", "note")
#: a period's end when it has not ended
ONGOING_WORD = _p("period", "ongoing")

#: every field of a record, in schema order (``contact`` is private: never exported)
RECORD_FIELDS = (
    "title",
    "institution",
    "institution_qid",
    "library_type",
    "country",
    "languages",
    "projects",
    "activities",
    "activities_other",
    "start",
    "end",
    "summary",
    "outcomes",
    "outcomes_note",
    "links",
    "lessons",
    "credit",
    "contact",
    "consent",
    "licence",
)
LIST_FIELDS = ("languages", "projects", "activities", "links")

#: each answer's short name, as a review or an error names it
FIELD_LABELS: dict[str, Msg] = {
    "title": _p("case study field", "title"),
    "institution": _p("case study field", "institution"),
    "institution_qid": _p("case study field", "Wikidata item"),
    "library_type": _p("case study field", "library type"),
    "country": _p("case study field", "country"),
    "languages": _p("case study field", "languages"),
    "projects": _p("case study field", "projects"),
    "activities": _p("case study field", "activities"),
    "activities_other": _p("case study field", "other activity"),
    "period": _p("case study field", "period"),
    "summary": _p("case study field", "summary"),
    "outcomes": _p("case study field", "outcomes"),
    "links": _p("case study field", "links"),
    "lessons": _p("case study field", "lessons"),
    "credit": _p("case study field", "credit"),
    "contact": _p("case study field", "contact"),
    "consent": _p("case study field", "consent"),
    "licence": _p("case study field", "licence"),
}

#: every field of a record by its name in the reader's language (a revision's changed fields)
RECORD_FIELD_LABELS: dict[str, Msg] = {
    **FIELD_LABELS,
    "start": _p("case study field", "start"),
    "end": _p("case study field", "end"),
    "outcomes_note": _p("case study field", "note on the outcomes"),
}


def field_names(keys: Iterable[str]) -> Msg:
    """Record fields by name in the reader's language, in the schema's order, comma-separated."""
    chosen = set(keys)
    ordered = [k for k in RECORD_FIELDS if k in chosen] + sorted(chosen - set(RECORD_FIELDS))
    return listing([RECORD_FIELD_LABELS.get(k) or verbatim("{key}", key=Plain(k)) for k in ordered])


_QID = re.compile(r"^Q[1-9][0-9]*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_BCP47 = re.compile(
    r"^(?P<lang>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)$"
)
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"})
#: the languages whose names of countries and languages are understood (Babel's data)
_NAME_LANGUAGES = ("en", "es", "fr", "pt", "de")


def _norm(text: str) -> str:
    """An answer as choices are compared: lower case, no accents, ``_``/``-`` as spaces."""
    key = answer_key(text).lstrip("#").replace("_", " ").replace("-", " ")
    return " ".join(key.split())


def _languages_known() -> tuple[str, ...]:
    return tuple(sorted(available_languages()))


@cache
def _alias_table(kind: str, langs: tuple[str, ...]) -> dict[str, str]:
    """What a member may type for each choice of ``kind``: its code, and its label in every
    language the bot speaks (from the catalogs), compared by :func:`_norm`."""
    table = _TABLES[kind]
    found = {_norm(code): code for code in table}
    for lang in langs:
        for code, label in table.items():
            found.setdefault(_norm(template(label, lang)), code)
    return found


def _aliases(kind: str) -> dict[str, str]:
    return _alias_table(kind, _languages_known())


def choices(labels: dict[str, Msg]) -> Msg:
    """The choices of a list, comma-separated, each in the reader's language."""
    names = {f"c{i}": label for i, label in enumerate(labels.values())}
    return verbatim(", ".join(f"{{{name}}}" for name in names), **names)


def _label_of(code: str, labels: dict[str, Msg]) -> Msg:
    return labels.get(code) or verbatim("{code}", code=code)


def _text(value: str, what: Msg, low: int, high: int) -> str:
    text = value.strip()
    if len(text) < low:
        raise UserError(
            _n(
                "{what} needs at least {n} character (this has {count}).",
                "{what} needs at least {n} characters (this has {count}).",
                low,
                what=what,
                count=len(text),
            )
        )
    if len(text) > high:
        raise UserError(
            _n(
                "{what} can have at most {n} character (this has {count}).",
                "{what} can have at most {n} characters (this has {count}).",
                high,
                what=what,
                count=len(text),
            )
        )
    return text


def title(value: str) -> str:
    return _text(value, _("The title"), 5, 120)


def institution(value: str) -> str:
    return _text(value, _("The library's name"), 2, 200)


def qid(value: str) -> str:
    text = value.strip().upper()
    if not _QID.match(text):
        raise UserError(
            _("A Wikidata item id is Q followed by a number without leading zeros, like Q123456.")
        )
    return text


def _find(value: str, kind: str) -> str | None:
    return _aliases(kind).get(_norm(value))


def library_type(value: str) -> str:
    found = _find(value, "library_type")
    if found is None:
        raise UserError(
            _(
                "I don't know the library type '{value}'. Choose one of: {choices}.",
                value=Plain(value.strip()[:40]),
                choices=choices(LIBRARY_TYPE_LABELS),
            )
        )
    return found


@cache
def _territories() -> dict[str, str]:
    """Names (in English, Spanish, French, Portuguese and German) and codes → ISO 3166-1
    alpha-2 codes, compared by :func:`_norm`."""
    from babel import Locale

    found: dict[str, str] = {}
    for lang in _NAME_LANGUAGES:
        for key, value in Locale(lang).territories.items():
            code, name = str(key), str(value)
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
                found.setdefault(code.casefold(), code)
                found.setdefault(_norm(name), code)
    return found


def country(value: str) -> str:
    text = " ".join(value.split())
    code = _territories().get(text.casefold()) or _territories().get(_norm(text))
    if code is None:
        raise UserError(
            _(
                "I don't know the country '{value}'. Give its name or two-letter code, "
                "like Kenya or KE.",
                value=Plain(value.strip()[:60]),
            )
        )
    return code


@cache
def _languages() -> tuple[frozenset[str], dict[str, str]]:
    """The language codes Babel knows, and their names in the five languages → codes."""
    from babel import Locale

    codes = frozenset(str(k) for k in Locale("en").languages if "_" not in str(k))
    by_name: dict[str, str] = {}
    for lang in _NAME_LANGUAGES:
        for key, value in Locale(lang).languages.items():
            if "_" not in str(key):
                by_name.setdefault(_norm(str(value)), str(key))
    return codes, by_name


def language(value: str) -> str:
    """One BCP 47 tag (``en``, ``pt-BR``, ``zh-Hant``) or a language's name (``Swahili``,
    ``español``)."""
    codes, by_name = _languages()
    text = value.strip()
    if _norm(text) in by_name and not _BCP47.match(text.casefold()):
        return by_name[_norm(text)]
    found = _BCP47.match(text.casefold().replace("_", "-"))
    if found is None or found["lang"] not in codes:
        if _norm(text) in by_name:
            return by_name[_norm(text)]
        raise UserError(
            _(
                "'{value}' isn't a language tag I know. Use tags like en, sw or pt-BR.",
                value=Plain(text[:40]),
            )
        )
    tag = found["lang"]
    if found["script"]:
        tag += "-" + found["script"].title()
    if found["region"]:
        tag += "-" + found["region"].upper()
    return tag + (found["variants"] or "")


def _items(value: str) -> list[str]:
    return [item for item in re.split(r"[;,\s]+", value.strip()) if item]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def languages(value: str) -> list[str]:
    words = [item.strip() for item in re.split(r"[;,]", value) if item.strip()]
    if len(words) == 1 and " " in words[0] and _norm(words[0]) not in _languages()[1]:
        words = words[0].split()
    if not words:
        raise UserError(_("Name at least one language, like en or en; sw."))
    return _unique([language(word) for word in words])


def _multi(value: str, kind: str) -> list[str]:
    """Several choices separated by ``;`` or ``,`` (or spaces, between one-word choices); a
    translated label of several words counts as one."""
    chosen: list[str] = []
    for piece in (p.strip() for p in re.split(r"[;,]", value)):
        if not piece:
            continue
        whole = _find(piece, kind)
        if whole is not None:
            chosen.append(whole)
            continue
        for word in piece.split():
            found = _find(word, kind)
            if found is None:
                raise UserError(_unknown(kind, word))
            chosen.append(found)
    if not chosen:
        if kind == "projects":
            raise UserError(
                _("Choose at least one project from: {choices}.", choices=choices(PROJECT_LABELS))
            )
        raise UserError(
            _("Choose at least one activity from: {choices}.", choices=choices(ACTIVITY_LABELS))
        )
    return _unique(chosen)


def _unknown(kind: str, word: str) -> Msg:
    value = Plain(word.strip()[:40])
    if kind == "projects":
        return _(
            "I don't know the project '{value}'. Choose from: {choices}.",
            value=value,
            choices=choices(PROJECT_LABELS),
        )
    return _(
        "I don't know the activity '{value}'. Choose from: {choices}.",
        value=value,
        choices=choices(ACTIVITY_LABELS),
    )


def projects(value: str) -> list[str]:
    return _multi(value, "projects")


def activities(value: str) -> list[str]:
    return _multi(value, "activities")


def activities_other(value: str) -> str:
    return _text(value, _("The description of the other activity"), 2, 200)


def chose_other_activity(answers: dict[str, Any]) -> bool:
    """Whether ``activities_other`` applies: the activities (a validated list, or the text
    of a form) include ``other``."""
    chosen = answers.get("activities") or []
    if isinstance(chosen, str):
        text = chosen
        try:
            chosen = _multi(text, "activities")
        except UserError:
            chosen = [item.casefold() for item in _items(text)]
    return "other" in chosen


def month(value: str) -> str:
    found = _MONTH.match(value.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1900:
        raise UserError(
            _("'{value}' isn't a month like 2024-01 (YYYY-MM).", value=Plain(value.strip()[:20]))
        )
    return value.strip()


#: words between two months (``2024-01 to 2024-02``, ``2024-01 hasta 2024-02``)
_BETWEEN = frozenset(
    {"to", "until", "-", "→", "a", "al", "hasta", "à", "au", "jusqu'à", "até", "ate", "bis"}
)


def _ongoing_words() -> frozenset[str]:
    found = {"ongoing", "now", "present"}
    found |= {_norm(template(ONGOING_WORD, lang)) for lang in _languages_known()}
    return frozenset(found)


def period(value: str) -> dict[str, str | None]:
    """``2024-01 2024-02``, ``2024-01 to 2024-02`` or ``2024-01`` / ``2024-01 ongoing`` (and
    "ongoing" in the member's language: ``2024-01 en curso``)."""
    text = value.strip()
    ongoing = False
    for word in _ongoing_words():
        if _norm(text).endswith(" " + word):
            text, ongoing = text.split()[0], True
            break
    words = [w for w in re.split(r"\s+|\s*(?:→|–|—|/)\s*", text) if w]
    words = [w for w in words if w.casefold() not in _BETWEEN]
    if not words or len(words) > 2:
        raise UserError(_("Give the start month, and the end month if it ended: 2024-01 2024-02."))
    start = month(words[0])
    end: str | None = None
    if len(words) == 2 and not ongoing and _norm(words[1]) not in _ongoing_words():
        end = month(words[1])
        if end < start:
            raise UserError(
                _("The end ({end}) is before the start ({start}).", end=end, start=start)
            )
    return {"start": start, "end": end}


def show_period(value: Any) -> Msg:
    """``2024-01 → 2024-02``, or ``2024-01 → ongoing`` in the reader's language."""
    end = Plain(str(value["end"])) if value.get("end") else ONGOING_WORD
    return verbatim("{start} → {end}", start=Plain(str(value["start"])), end=end)


def summary(value: str) -> str:
    return _text(value, _("The summary"), 200, 1500)


_COUNT = re.compile(r"((?:[^\W\d]|[ _'’-])+?)\s*[:=]?\s*(-?\d+)")


def _note_start(text: str) -> re.Match[str] | None:
    words = {"note"} | {template(NOTE_WORD, lang).casefold() for lang in _languages_known()}
    pattern = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.search(rf"(?:^|[;,\s])(?:{pattern})\s*:", text, re.IGNORECASE)


def outcomes(value: str) -> dict[str, Any]:
    """``citations_added 412, participants 18; note: …`` → counts and an optional note (the
    names and ``note`` also in the member's language)."""
    text = value.strip()
    note: str | None = None
    match = _note_start(text)
    if match is not None:
        note = text[match.end() :].strip() or None
        text = text[: match.start()]
    counts: dict[str, int] = {}
    bad = _(
        "Give numbers as name and count, like: citations_added 412, participants 18; "
        "note: anything else. Names: {names}.",
        names=choices(OUTCOME_LABELS),
    )
    for name, number in _COUNT.findall(text):
        key = _find(name.strip(" -"), "outcomes")
        if key is None:
            raise UserError(
                _(
                    "I don't know the number '{value}'. Names: {names}.",
                    value=Plain(name.strip()[:40]),
                    names=choices(OUTCOME_LABELS),
                )
            )
        if int(number) < 0:
            raise UserError(_("The number of {name} can't be negative.", name=OUTCOME_LABELS[key]))
        counts[key] = int(number)
    leftover = _COUNT.sub("", text)
    if leftover.strip(" ;,"):
        raise UserError(bad)
    if note is not None and len(note) > 1000:
        raise UserError(
            _(
                "The note can have at most {max} characters (this has {count}).",
                max=1000,
                count=len(note),
            )
        )
    if not counts and note is None:
        raise UserError(_("Give at least one number, or say skip."))
    return {"counts": counts, "note": note}


def show_outcomes(value: Any) -> Msg:
    """``citations_added 412, note: …``, names and "note" in the reader's language."""
    parts: list[Msg] = [
        verbatim("{name} {count}", name=_shown_code(k, OUTCOME_LABELS), count=str(v))
        for k, v in value["counts"].items()
    ]
    if value.get("note"):
        parts.append(labelled(NOTE_WORD, Plain(str(value["note"]))))
    return listing(parts)


def _shown_code(code: str, labels: dict[str, Msg]) -> Msg:
    """A stored choice by its label in the reader's language (an unknown code as it is)."""
    return labels.get(code) or verbatim("{code}", code=Plain(code))


def show_choices(labels: dict[str, Msg]) -> Callable[[Any], Msg]:
    """How the answer to a choice question is shown: each choice by its label in the
    reader's language, separated by ``;`` (the codes stay in the record and the exports)."""

    def show(value: Any) -> Msg:
        codes = value if isinstance(value, list) else [value]
        names = {f"c{i}": _shown_code(str(code), labels) for i, code in enumerate(codes)}
        return verbatim("; ".join(f"{{{name}}}" for name in names), **names)

    return show


def url(value: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.casefold() not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or ord(c) < 32 for c in text)
    ):
        raise UserError(
            _("'{value}' isn't an absolute http:// or https:// link.", value=Plain(text[:60]))
        )
    return text.replace(";", "%3B")


def links(value: str) -> list[str]:
    found = _unique([url(item) for item in value.split()])
    if not found:
        raise UserError(_("Give at least one link, or say skip."))
    if len(found) > MAX_LINKS:
        raise UserError(
            _("At most {max} links, please (you gave {count}).", max=MAX_LINKS, count=len(found))
        )
    return found


def lessons(value: str) -> str:
    return _text(value, _("The text of your tips"), 1, 1500)


def credit(value: str) -> str:
    return _text(value, _("The credit"), 1, 200)


def contact(value: str) -> str:
    return _text(value, _("The contact"), 3, 200)


def consent(value: str) -> bool:
    if is_yes(value) or value.strip().casefold() in ("true", "i agree", "agree"):
        return True
    raise UserError(
        _("I can only take case studies we may publish. Say yes to agree, or cancel to stop.")
    )


def licence(value: str) -> str:
    words = ["yes" if is_yes(w) else w for w in value.casefold().replace(",", " ").split()]
    if words in (["yes"], ["y"], ["cc-by-sa-4.0", "yes"], ["cc", "by-sa", "yes"]):
        return "CC-BY-SA-4.0"
    if words and words[0] in ("cc0", "cc0-1.0"):
        if words[1:] == ["yes"]:
            return "CC0-1.0"
        raise UserError(
            _(
                "To release it under CC0 1.0 instead, say: `cc0 {yes}`",
                yes=SHOWN_KEYWORDS["yes"],
            )
        )
    raise UserError(
        _(
            "Say {yes} to release it under CC BY-SA 4.0, or `cc0 {yes_word}` for CC0 1.0.",
            yes_word=SHOWN_KEYWORDS["yes"],
            **keywords("yes"),
        )
    )


def show_list(value: Any) -> str:
    return "; ".join(value)


def show_country(value: Any) -> Msg:
    """A stored country code by its name in the reader's language (``KE``: Kenya, Kenia)."""
    return verbatim("{country}", country=Country(str(value)))


def show_languages(value: Any) -> Msg:
    """Stored language tags by their names in the reader's language, separated by ``;``."""
    tags = value if isinstance(value, list) else [value]
    names = {f"l{i}": Language(str(tag)) for i, tag in enumerate(tags)}
    return verbatim("; ".join(f"{{{name}}}" for name in names), **names)


def show_bool(value: Any) -> Msg:
    return _p("answer shown", "yes") if value else _p("answer shown", "no")


def record_from_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The canonical record from the dialogue's (already validated) answers."""
    record: dict[str, Any] = {key: answers.get(key) for key in RECORD_FIELDS}
    period_value = answers.get("period") or {}
    record["start"] = period_value.get("start")
    record["end"] = period_value.get("end")
    outcome_value = answers.get("outcomes") or {}
    record["outcomes"] = dict(outcome_value.get("counts") or {})
    record["outcomes_note"] = outcome_value.get("note")
    record["links"] = list(answers.get("links") or [])
    if "other" not in (record.get("activities") or []):
        record["activities_other"] = None
    return record


def answers_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """The dialogue's answers for a stored record (``!casestudy revise``)."""
    answers = {
        k: v
        for k, v in record.items()
        if k not in ("start", "end", "outcomes", "outcomes_note", "links")
    }
    answers["period"] = {"start": record.get("start"), "end": record.get("end")}
    if record.get("outcomes") or record.get("outcomes_note"):
        answers["outcomes"] = {
            "counts": dict(record.get("outcomes") or {}),
            "note": record.get("outcomes_note"),
        }
    else:
        answers["outcomes"] = None
    answers["links"] = list(record.get("links") or []) or None
    return answers


def validate_record(raw: dict[str, str]) -> dict[str, Any]:
    """Validate texts keyed by record field (e.g. a form): the record, or a UserError
    naming the first bad field."""
    checks: dict[str, Any] = {
        "title": title,
        "institution": institution,
        "institution_qid": qid,
        "library_type": library_type,
        "country": country,
        "languages": languages,
        "projects": projects,
        "activities": activities,
        "activities_other": activities_other,
        "summary": summary,
        "lessons": lessons,
        "credit": credit,
        "contact": contact,
        "consent": consent,
        "licence": licence,
    }
    optional = {"institution_qid", "activities_other", "lessons", "contact"}
    answers: dict[str, Any] = {}
    for key, check in checks.items():
        text = (raw.get(key) or "").strip()
        if key == "activities_other" and not chose_other_activity(answers):
            answers[key] = None  # asked only when "other" was chosen: a stale text is dropped
            continue
        if not text and key in optional:
            answers[key] = None
            continue
        if not text:
            raise UserError(_("{field}: this one is needed.", field=FIELD_LABELS[key]))
        try:
            answers[key] = check(text)
        except UserError as exc:
            raise UserError(_field_error(key, exc)) from None
    for key, check in (("period", period), ("outcomes", outcomes), ("links", links)):
        text = (raw.get(key) or "").strip()
        if key == "period" and not text:
            text = " ".join(filter(None, (raw.get("start"), raw.get("end"))))
        if not text:
            if key == "period":
                raise UserError(_("{field}: this one is needed.", field=FIELD_LABELS[key]))
            answers[key] = None
            continue
        try:
            answers[key] = check(text)
        except UserError as exc:
            raise UserError(_field_error(key, exc)) from None
    return record_from_answers(answers)


def _field_error(key: str, exc: UserError) -> Msg:
    """A field's refusal, named: ``country: I don't know the country 'Atlantis'…``."""
    said = exc.message if isinstance(exc.message, Msg) else Plain(exc.message)
    return labelled(FIELD_LABELS[key], said)
