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
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from chatbot.base.errors import UserError
from chatbot.dispatch.answers import is_yes
from chatbot.messages.plural import plural

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

_QID = re.compile(r"^Q[1-9][0-9]*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_BCP47 = re.compile(
    r"^(?P<lang>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)$"
)
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"})


def _text(value: str, name: str, low: int, high: int) -> str:
    text = value.strip()
    if len(text) < low:
        at_least = plural(low, "character", "characters")
        raise UserError(f"The {name} needs at least {at_least} (this has {len(text)}).")
    if len(text) > high:
        raise UserError(f"The {name} can have at most {high} characters (this has {len(text)}).")
    return text


def title(value: str) -> str:
    return _text(value, "title", 5, 120)


def institution(value: str) -> str:
    return _text(value, "library's name", 2, 200)


def qid(value: str) -> str:
    text = value.strip().upper()
    if not _QID.match(text):
        raise UserError(
            "A Wikidata item id is Q followed by a number without leading zeros, like Q123456."
        )
    return text


def _choice(value: str, options: tuple[str, ...], what: str) -> str:
    word = value.strip().casefold().replace(" ", "_").replace("-", "_")
    for option in options:
        if word == option.replace("-", "_"):
            return option
    raise UserError(
        f"I don't know the {what} '{value.strip()[:40]}'. Choose from: " + ", ".join(options) + "."
    )


def library_type(value: str) -> str:
    return _choice(value, LIBRARY_TYPES, "library type")


@cache
def _territories() -> dict[str, str]:
    """Lower-cased English names and codes → ISO 3166-1 alpha-2 codes."""
    from babel import Locale

    found: dict[str, str] = {}
    for key, value in Locale("en").territories.items():
        code, name = str(key), str(value)
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
            found[code.casefold()] = code
            found[name.casefold()] = code
    return found


def country(value: str) -> str:
    code = _territories().get(" ".join(value.split()).casefold())
    if code is None:
        raise UserError(
            f"I don't know the country '{value.strip()[:60]}'. "
            "Give its English name or two-letter code, like Kenya or KE."
        )
    return code


@cache
def _languages() -> tuple[frozenset[str], dict[str, str]]:
    from babel import Locale

    names: dict[str, str] = {str(k): str(v) for k, v in Locale("en").languages.items()}
    codes = frozenset(code for code in names if "_" not in code)
    by_name = {name.casefold(): code for code, name in names.items() if "_" not in code}
    return codes, by_name


def language(value: str) -> str:
    """One BCP 47 tag (``en``, ``pt-BR``, ``zh-Hant``) or an English language name."""
    codes, by_name = _languages()
    text = value.strip()
    if text.casefold() in by_name:
        return by_name[text.casefold()]
    found = _BCP47.match(text.casefold().replace("_", "-"))
    if found is None or found["lang"] not in codes:
        raise UserError(
            f"'{text[:40]}' isn't a language tag I know. Use tags like en, sw or pt-BR."
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
    if len(words) == 1 and " " in words[0] and words[0].casefold() not in _languages()[1]:
        words = words[0].split()
    if not words:
        raise UserError("Name at least one language, like en or en; sw.")
    return _unique([language(word) for word in words])


def _multi(value: str, options: tuple[str, ...], what: str) -> list[str]:
    chosen = [_choice(item, options, what) for item in _items(value)]
    if not chosen:
        raise UserError(f"Choose at least one {what} from: " + ", ".join(options) + ".")
    return _unique(chosen)


def projects(value: str) -> list[str]:
    return _multi(value, PROJECTS, "project")


def activities(value: str) -> list[str]:
    return _multi(value, ACTIVITIES, "activity")


def activities_other(value: str) -> str:
    return _text(value, "description of the other activity", 2, 200)


def chose_other_activity(answers: dict[str, Any]) -> bool:
    """Whether ``activities_other`` applies: the activities (a validated list, or the text
    of a form) include ``other``."""
    chosen = answers.get("activities") or []
    if isinstance(chosen, str):
        chosen = [item.casefold() for item in _items(chosen)]
    return "other" in chosen


def month(value: str) -> str:
    found = _MONTH.match(value.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1900:
        raise UserError(f"'{value.strip()[:20]}' isn't a month like 2024-01 (YYYY-MM).")
    return value.strip()


def period(value: str) -> dict[str, str | None]:
    """``2024-01 2024-02``, ``2024-01 to 2024-02`` or ``2024-01`` / ``2024-01 ongoing``."""
    words = [w for w in re.split(r"\s+|\s*(?:to|until|→|–|—|/)\s*", value.strip()) if w]
    words = [w for w in words if w.casefold() not in ("to", "until", "-", "→")]
    if not words or len(words) > 2:
        raise UserError("Give the start month, and the end month if it ended: 2024-01 2024-02.")
    start = month(words[0])
    end: str | None = None
    if len(words) == 2 and words[1].casefold() not in ("ongoing", "now", "present"):
        end = month(words[1])
        if end < start:
            raise UserError(f"The end ({end}) is before the start ({start}).")
    return {"start": start, "end": end}


def show_period(value: Any) -> str:
    return f"{value['start']} → {value['end'] or 'ongoing'}"


def summary(value: str) -> str:
    return _text(value, "summary", 200, 1500)


def outcomes(value: str) -> dict[str, Any]:
    """``citations_added 412, participants 18; note: …`` → counts and an optional note."""
    text = value.strip()
    note: str | None = None
    match = re.search(r"(?:^|[;,\s])note\s*:", text, re.IGNORECASE)
    if match is not None:
        note = text[match.end() :].strip() or None
        text = text[: match.start()]
    counts: dict[str, int] = {}
    for name, number in re.findall(r"([A-Za-z_ ]+?)\s*[:=]?\s*(-?\d+)", text):
        key = _choice(name.strip(), OUTCOMES, "outcome")
        if int(number) < 0:
            raise UserError(f"The number of {key} can't be negative.")
        counts[key] = int(number)
    leftover = re.sub(r"([A-Za-z_ ]+?)\s*[:=]?\s*(-?\d+)", "", text)
    if leftover.strip(" ;,"):
        raise UserError(
            "Give numbers as name and count, like: citations_added 412, participants 18; "
            "note: anything else. Names: " + ", ".join(OUTCOMES) + "."
        )
    if note is not None and len(note) > 1000:
        raise UserError(f"The note can have at most 1000 characters (this has {len(note)}).")
    if not counts and note is None:
        raise UserError("Give at least one number, or say skip.")
    return {"counts": counts, "note": note}


def show_outcomes(value: Any) -> str:
    parts = [f"{k} {v}" for k, v in value["counts"].items()]
    if value.get("note"):
        parts.append(f"note: {value['note']}")
    return ", ".join(parts)


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
        raise UserError(f"'{text[:60]}' isn't an absolute http:// or https:// link.")
    return text.replace(";", "%3B")


def links(value: str) -> list[str]:
    found = _unique([url(item) for item in value.split()])
    if not found:
        raise UserError("Give at least one link, or say skip.")
    if len(found) > MAX_LINKS:
        raise UserError(f"At most {MAX_LINKS} links, please (you gave {len(found)}).")
    return found


def lessons(value: str) -> str:
    return _text(value, "tips", 1, 1500)


def credit(value: str) -> str:
    return _text(value, "credit", 1, 200)


def contact(value: str) -> str:
    return _text(value, "contact", 3, 200)


def consent(value: str) -> bool:
    if is_yes(value) or value.strip().casefold() in ("true", "i agree", "agree"):
        return True
    raise UserError(
        "I can only take case studies we may publish. Say yes to agree, or cancel to stop."
    )


def licence(value: str) -> str:
    words = ["yes" if is_yes(w) else w for w in value.casefold().replace(",", " ").split()]
    if words in (["yes"], ["y"], ["cc-by-sa-4.0", "yes"], ["cc", "by-sa", "yes"]):
        return "CC-BY-SA-4.0"
    if words and words[0] in ("cc0", "cc0-1.0"):
        if words[1:] == ["yes"]:
            return "CC0-1.0"
        raise UserError("To release it under CC0 1.0 instead, say: cc0 yes")
    raise UserError("Say yes to release it under CC BY-SA 4.0, or cc0 yes for CC0 1.0.")


def show_list(value: Any) -> str:
    return "; ".join(value)


def show_bool(value: Any) -> str:
    return "yes" if value else "no"


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
            raise UserError(f"{key.replace('_', ' ')}: this one is needed.")
        try:
            answers[key] = check(text)
        except UserError as exc:
            raise UserError(f"{key.replace('_', ' ')}: {exc.message}") from None
    for key, check in (("period", period), ("outcomes", outcomes), ("links", links)):
        text = (raw.get(key) or "").strip()
        if key == "period" and not text:
            text = " ".join(filter(None, (raw.get("start"), raw.get("end"))))
        if not text:
            if key == "period":
                raise UserError("period: this one is needed.")
            answers[key] = None
            continue
        try:
            answers[key] = check(text)
        except UserError as exc:
            raise UserError(f"{key}: {exc.message}") from None
    return record_from_answers(answers)
