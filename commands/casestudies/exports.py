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
    notice and the credits close the page.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from commands.casestudies.fields import OUTCOMES, RECORD_FIELDS, SCHEMA_VERSION
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


def _period(item: dict[str, Any]) -> str:
    return f"{item.get('start') or '?'} – {item.get('end') or 'ongoing'}"


def _language_name(tag: str) -> str:
    """``es`` → ``Spanish (es)``: the language a study was written in, for the page."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(tag, sep="-").get_display_name("en")
    except (ValueError, UnknownLocaleError):
        return tag
    return f"{name} ({tag})" if name else tag


def to_wikitext(items: list[dict[str, Any]]) -> str:
    """A table of every study, one section each, then the licence notice and credits."""
    esc = escape_wikitext
    out = [
        '{| class="wikitable sortable"',
        "! Title !! Institution !! Country !! Type !! Projects !! Activities !! Period !! Licence",
    ]
    for item in items:
        cells = [
            esc(item["title"]),
            esc(item["institution"]),
            esc(item["country"]),
            esc(item["library_type"]),
            esc(", ".join(item["projects"])),
            esc(", ".join(item["activities"])),
            esc(_period(item)),
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
            ("Institution", institution),
            ("Library type", esc(item["library_type"])),
            ("Country", esc(item["country"])),
            ("Languages", esc(", ".join(item["languages"]))),
            ("Projects", esc(", ".join(item["projects"]))),
            ("Activities", esc(", ".join(item["activities"]))),
        ]
        if item.get("activities_other"):
            facts.append(("Other activity", esc(item["activities_other"])))
        facts.append(("Period", esc(_period(item))))
        if item.get("written_in"):
            facts.append(("Written in", esc(_language_name(str(item["written_in"])))))
        counts = item.get("outcomes") or {}
        if counts:
            facts.append(
                (
                    "Outcomes",
                    esc(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items())),
                )
            )
        if item.get("outcomes_note"):
            facts.append(("Outcomes note", esc(item["outcomes_note"])))
        out.extend(f"; {name}: {value}" for name, value in facts)
        out.append("")
        out.append(esc(item["summary"], inline=False))
        if item.get("lessons"):
            out.append("")
            out.append("=== Lessons ===")
            out.append(esc(item["lessons"], inline=False))
        if item.get("links"):
            out.append("")
            out.append("=== Links ===")
            out.extend(f"* {_external(link)}" for link in item["links"])
        name, link = LICENCE_NAMES.get(item["licence"], (str(item["licence"]), ""))
        licence = f"[{link} {name}]" if link else esc(name)  # a licence we don't know: text
        out.append("")
        out.append(f"''Credit: {esc(item['credit'])}. Text released under {licence}.''")
    out.append("")
    out.append("== Licence and credits ==")
    out.append(
        "Each case study's text is released under the licence named with it "
        f"([{LICENCE_NAMES['CC-BY-SA-4.0'][1]} CC BY-SA 4.0] or "
        f"[{LICENCE_NAMES['CC0-1.0'][1]} CC0 1.0]) by its contributors:"
    )
    out.extend(f"* {esc(item['title'])}: {esc(item['credit'])}" for item in items)
    return "\n".join(out) + "\n"


FORMATS = {"csv": to_csv, "json": to_json, "wikitext": to_wikitext}


def render(fmt: str, items: list[dict[str, Any]]) -> str:
    return FORMATS[fmt](items)
