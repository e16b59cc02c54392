"""Exports of case studies (schema §4): CSV, JSON and wikitext.

Exports carry public fields only: ``contact`` (private) never leaves the database.

CSV
    UTF-8, RFC 4180 quoting (``\\r\\n`` line ends), a header row, one row per study;
    multi-values joined with ``;`` (a ``;`` in a URL is already stored as ``%3B``); outcomes
    as ``outcome_<name>`` columns.  Cells a spreadsheet would run as a formula (starting with
    ``= + - @``, tab or carriage return, once normalised: NFKC, format characters such as
    zero-width spaces dropped) get a leading ``'``; so the quote is reversible, a cell that
    itself starts with quotes followed by one of those also gets one.
    :func:`read_csv` undoes all of this, so ``read_csv(to_csv(r)) == r``.  The last column,
    ``written_in``, is the language the study was written in (empty when not recorded).
JSON
    A list of objects with the schema's field names, multi-values as arrays, each with
    ``written_in`` (the BCP 47 tag of the language it was written in, or null when not
    recorded) and ``schema_version``.
Wikitext
    A sortable table, then one section per study.  Every piece of user text goes through
    :func:`escape_wikitext`; only validated http(s) URLs become external links; a licence
    notice and the credits close the page.  Its headings, labels, choices and notices are in
    a language given (``!casestudy export wikitext`` uses the organiser's, for a page on
    their community's wiki; English otherwise); what contributors wrote stays as written.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from chatbot.base.i18n import Msg, _, _p
from chatbot.messages.localise import text_in
from commands.casestudies.fields import (
    ACTIVITY_LABELS,
    LIBRARY_TYPE_LABELS,
    ONGOING_WORD,
    OUTCOME_LABELS,
    OUTCOMES,
    PROJECT_LABELS,
    RECORD_FIELDS,
    SCHEMA_VERSION,
)
from commands.casestudies.store import Study

#: the exported fields, in order (``contact`` is private and left out); ``written_in`` is the
#: language the study was written in (a BCP 47 tag; empty for studies stored before it was
#: recorded)
EXPORT_FIELDS = ("id", *(name for name in RECORD_FIELDS if name != "contact"), "written_in")
_LISTS = ("languages", "projects", "activities", "links")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

LICENCE_NAMES = {
    "CC-BY-SA-4.0": ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC0-1.0": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
}


def public_of(study: Study) -> dict[str, Any]:
    """The exported object of a stored study."""
    return public(study.id, study.record, written_in=study.written_in)


def public(
    study_id: int, record: dict[str, Any], *, written_in: str | None = None
) -> dict[str, Any]:
    """The exported object of one study, written in language ``written_in``."""
    out: dict[str, Any] = {"id": study_id}
    for key in EXPORT_FIELDS[1:-1]:
        value = record.get(key)
        if key in _LISTS:
            value = list(value or [])
        elif key == "outcomes":
            value = {k: int(v) for k, v in (value or {}).items()}
        out[key] = value
    out["written_in"] = written_in
    out["schema_version"] = SCHEMA_VERSION
    return out


# -- CSV --------------------------------------------------------------------------------------


def csv_header() -> list[str]:
    header: list[str] = []
    for key in EXPORT_FIELDS:
        if key == "outcomes":
            header.extend(f"outcome_{name}" for name in OUTCOMES)
        else:
            header.append(key)
    return header


def _formula_like(cell: str) -> bool:
    """Whether a spreadsheet could read ``cell`` as a formula: judged on its NFKC form (a
    fullwidth ``＝`` is ``=``) without format characters (zero-width spaces, joiners, BOM)
    and without leading quotes (so that :func:`_restore` can tell quoted cells apart)."""
    probe = unicodedata.normalize("NFKC", cell)
    probe = "".join(c for c in probe if unicodedata.category(c) != "Cf")
    return probe.lstrip("'").startswith(_FORMULA)


def neutralise(cell: str) -> str:
    """A leading ``'`` on cells a spreadsheet would treat as a formula, and on cells that
    already start with quotes before one, so that :func:`_restore` is exact."""
    return "'" + cell if _formula_like(cell) else cell


def _restore(cell: str) -> str:
    """Undo :func:`neutralise`."""
    return cell[1:] if cell.startswith("'") and _formula_like(cell) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(items: list[dict[str, Any]]) -> str:
    """``items`` are :func:`public` objects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(csv_header())
    for item in items:
        row: list[str] = []
        for key in EXPORT_FIELDS:
            value = item.get(key)
            if key == "outcomes":
                counts = value or {}
                row.extend(_cell(counts.get(name)) for name in OUTCOMES)
                continue
            if key in _LISTS:
                parts = [
                    str(v).replace(";", "%3B") if key == "links" else str(v) for v in value or []
                ]
                row.append(neutralise(";".join(parts)))
            else:
                row.append(neutralise(_cell(value)))
        writer.writerow(row)
    return buffer.getvalue()


def read_csv(text: str) -> list[dict[str, Any]]:
    """The objects :func:`to_csv` wrote (the inverse of it, for checks and imports)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out: list[dict[str, Any]] = []
    for raw in reader:
        cells = {k: _restore(v) for k, v in raw.items()}
        item: dict[str, Any] = {}
        for key in EXPORT_FIELDS:
            if key == "outcomes":
                item[key] = {
                    name: int(cells[f"outcome_{name}"])
                    for name in OUTCOMES
                    if cells.get(f"outcome_{name}")
                }
            elif key in _LISTS:
                item[key] = cells[key].split(";") if cells[key] else []
            elif key == "id":
                item[key] = int(cells[key])
            elif key == "consent":
                item[key] = cells[key] == "true"
            else:
                item[key] = cells[key] if cells[key] != "" else None
        item["schema_version"] = SCHEMA_VERSION
        out.append(item)
    return out


# -- JSON -------------------------------------------------------------------------------------


def to_json(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# -- wikitext ---------------------------------------------------------------------------------

_WIKI_CHARS = {
    "&": "&amp;",
    "|": "&#124;",
    "{": "&#123;",
    "}": "&#125;",
    "[": "&#91;",
    "]": "&#93;",
    "<": "&lt;",
    ">": "&gt;",
    "~": "&#126;",
    "'": "&#39;",
    "=": "&#61;",
    "_": "&#95;",
    "!": "&#33;",
}
#: characters that mean something at the start of a line (lists, indents, rules, pre)
_LINE_START = {"*": "&#42;", "#": "&#35;", ":": "&#58;", ";": "&#59;", "-": "&#45;", " ": "&#32;"}
_URL_CHARS = {
    "[": "%5B",
    "]": "%5D",
    "<": "%3C",
    ">": "%3E",
    '"': "%22",
    "{": "%7B",
    "}": "%7D",
    "|": "%7C",
    "'": "%27",
    "~": "%7E",
    " ": "%20",
}


def escape_wikitext(text: str, *, inline: bool = True) -> str:
    """User text as literal wikitext: markup characters become entities, ``~~~`` can't sign,
    and (``inline``) line breaks become ``<br />`` so a table cell stays one cell."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        escaped = "".join(_WIKI_CHARS.get(c, c) for c in line.replace("\t", " "))
        if escaped[:1] in _LINE_START:
            escaped = _LINE_START[escaped[0]] + escaped[1:]
        lines.append(escaped)
    return ("<br />" if inline else "\n").join(lines)


def wiki_url(url: str) -> str:
    """A validated URL made safe inside ``[url label]``."""
    return "".join(_URL_CHARS.get(c, c) for c in url)


def _external(url: str) -> str:
    if not url.startswith(("http://", "https://")):  # only validated URLs become links
        return escape_wikitext(url)
    return f"[{wiki_url(url)} {escape_wikitext(url)}]"


#: the page's headings and labels (the wiki's words, not the schema's field names)
_TITLE = _p("heading on a wiki page of case studies", "Title")
_INSTITUTION = _p("heading on a wiki page of case studies", "Institution")
_COUNTRY = _p("heading on a wiki page of case studies", "Country")
_TYPE = _p("heading on a wiki page of case studies", "Type")
_PROJECTS = _p("heading on a wiki page of case studies", "Projects")
_ACTIVITIES = _p("heading on a wiki page of case studies", "Activities")
_PERIOD = _p("heading on a wiki page of case studies", "Period")
_LICENCE = _p("heading on a wiki page of case studies", "Licence")
_LIBRARY_TYPE = _p("heading on a wiki page of case studies", "Library type")
_LANGUAGES = _p("heading on a wiki page of case studies", "Languages")
_OTHER_ACTIVITY = _p("heading on a wiki page of case studies", "Other activity")
_WRITTEN_IN = _p("heading on a wiki page of case studies", "Written in")
_OUTCOMES = _p("heading on a wiki page of case studies", "Outcomes")
_OUTCOMES_NOTE = _p("heading on a wiki page of case studies", "Outcomes note")
_LESSONS = _p("heading on a wiki page of case studies", "Lessons")
_LINKS = _p("heading on a wiki page of case studies", "Links")
_CREDITS = _p("heading on a wiki page of case studies", "Licence and credits")


class _Words:
    """The page's own words in one language (escaped for wikitext), and its choices by their
    labels in that language (the codes, in English)."""

    def __init__(self, lang: str | None) -> None:
        self.lang = lang

    def __call__(self, msg: Msg) -> str:
        return escape_wikitext(text_in(msg, self.lang))

    def choice(self, code: str, labels: dict[str, Msg]) -> str:
        label = labels.get(code)
        return text_in(label, self.lang) if label is not None else code

    def choices(self, codes: list[str], labels: dict[str, Msg]) -> str:
        return ", ".join(self.choice(c, labels) for c in codes)

    def period(self, item: dict[str, Any]) -> str:
        end = item.get("end") or text_in(ONGOING_WORD, self.lang)
        return f"{item.get('start') or '?'} – {end}"

    def language_name(self, tag: str) -> str:
        """``es`` → ``Spanish (es)`` (``espagnol (es)`` on a French page): the language a
        study was written in."""
        from babel import Locale, UnknownLocaleError

        try:
            name = Locale.parse(tag, sep="-").get_display_name(_babel_locale(self.lang))
        except (ValueError, UnknownLocaleError):
            return tag
        return f"{name} ({tag})" if name else tag


def _babel_locale(lang: str | None) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(lang or "en", sep="-"))
    except (ValueError, UnknownLocaleError):
        return "en"


def to_wikitext(items: list[dict[str, Any]], lang: str | None = None) -> str:
    """A table of every study, one section each, then the licence notice and credits; the
    page's own words in ``lang`` (English by default)."""
    esc = escape_wikitext
    w = _Words(lang)
    headings = (_TITLE, _INSTITUTION, _COUNTRY, _TYPE, _PROJECTS, _ACTIVITIES, _PERIOD, _LICENCE)
    out = ['{| class="wikitable sortable"', "! " + " !! ".join(w(h) for h in headings)]
    for item in items:
        cells = [
            esc(item["title"]),
            esc(item["institution"]),
            esc(item["country"]),
            esc(w.choice(item["library_type"], LIBRARY_TYPE_LABELS)),
            esc(w.choices(item["projects"], PROJECT_LABELS)),
            esc(w.choices(item["activities"], ACTIVITY_LABELS)),
            esc(w.period(item)),
            esc(LICENCE_NAMES.get(item["licence"], (item["licence"], ""))[0]),
        ]
        out.append("|-")
        out.append("| " + " || ".join(cells))
    out.append("|}")
    for item in items:
        out.append("")
        out.append(f"== {esc(item['title'])} ==")
        institution = esc(item["institution"])
        if item.get("institution_qid"):
            qid = item["institution_qid"]
            institution += f" ([[d:{esc(qid)}|{esc(qid)}]])"
        facts = [
            (w(_INSTITUTION), institution),
            (w(_LIBRARY_TYPE), esc(w.choice(item["library_type"], LIBRARY_TYPE_LABELS))),
            (w(_COUNTRY), esc(item["country"])),
            (w(_LANGUAGES), esc(", ".join(item["languages"]))),
            (w(_PROJECTS), esc(w.choices(item["projects"], PROJECT_LABELS))),
            (w(_ACTIVITIES), esc(w.choices(item["activities"], ACTIVITY_LABELS))),
        ]
        if item.get("activities_other"):
            facts.append((w(_OTHER_ACTIVITY), esc(item["activities_other"])))
        facts.append((w(_PERIOD), esc(w.period(item))))
        if item.get("written_in"):
            facts.append((w(_WRITTEN_IN), esc(w.language_name(str(item["written_in"])))))
        counts = item.get("outcomes") or {}
        if counts:
            said = [
                f"{w.choice(k, OUTCOME_LABELS).replace('_', ' ')}: {v}" for k, v in counts.items()
            ]
            facts.append((w(_OUTCOMES), esc(", ".join(said))))
        if item.get("outcomes_note"):
            facts.append((w(_OUTCOMES_NOTE), esc(item["outcomes_note"])))
        out.extend(f"; {name}: {value}" for name, value in facts)
        out.append("")
        out.append(esc(item["summary"], inline=False))
        if item.get("lessons"):
            out.append("")
            out.append(f"=== {w(_LESSONS)} ===")
            out.append(esc(item["lessons"], inline=False))
        if item.get("links"):
            out.append("")
            out.append(f"=== {w(_LINKS)} ===")
            out.extend(f"* {_external(link)}" for link in item["links"])
        name, link = LICENCE_NAMES.get(item["licence"], (str(item["licence"]), ""))
        licence = f"[{link} {name}]" if link else esc(name)  # a licence we don't know: text
        credit = _(
            "Credit: {credit}. Text released under {licence}.",
            credit=esc(item["credit"]),
            licence=licence,
        )
        out.append("")
        out.append(f"''{text_in(credit, lang)}''")
    out.append("")
    out.append(f"== {w(_CREDITS)} ==")
    by_sa = f"[{LICENCE_NAMES['CC-BY-SA-4.0'][1]} CC BY-SA 4.0]"
    cc0 = f"[{LICENCE_NAMES['CC0-1.0'][1]} CC0 1.0]"
    notice = _(
        "Each case study's text is released under the licence named with it ({by_sa} or "
        "{cc0}) by its contributors:",
        by_sa=by_sa,
        cc0=cc0,
    )
    out.append(text_in(notice, lang))
    out.extend(f"* {esc(item['title'])}: {esc(item['credit'])}" for item in items)
    return "\n".join(out) + "\n"


FORMATS = {"csv": to_csv, "json": to_json, "wikitext": to_wikitext}


def render(fmt: str, items: list[dict[str, Any]], lang: str | None = None) -> str:
    """The export in ``fmt``; wikitext's own words in ``lang`` (CSV and JSON have none)."""
    if fmt == "wikitext":
        return to_wikitext(items, lang)
    return FORMATS[fmt](items)
