"""Finding and exporting case studies: ``!casestudy search`` (organisers also see what is not
published yet) and ``!casestudy export`` (a file by direct message, with a one-line summary)."""

from __future__ import annotations

from typing import Literal

from chatbot.base.i18n import _, _n
from chatbot.dispatch.context import Context
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Attachment, Bullets, Plain, Reply, safe_filename
from commands.casestudies import casestudy, store_of
from commands.casestudies import fields as f
from commands.casestudies.contributors import _is_organiser, _line
from commands.casestudies.exports import public_of, render
from commands.casestudies.store import PUBLISHED, STATES


@casestudy.command(
    help=_("Find case studies: words, and `country:XX`, `activity:…`, `project:…` filters."),
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
        return Reply.of(_("No case study matches."), aside=True)
    # an organiser's results include what is not published yet
    listing = Bullets(tuple(_line(s) for s in found))
    return Reply.of(
        _n("{n} found:", "{n} found:", len(found)),
        "\n",
        listing,
        private=organiser,
        aside=not organiser,
    )


#: each export format: its name in the summary, file extension and media type
EXPORT_FILES = {
    "csv": ("CSV", "csv", "text/csv"),
    "json": ("JSON", "json", "application/json"),
    "wikitext": ("wikitext", "wiki", "text/plain"),
}


@casestudy.command(
    help=_(
        "Export the published case studies (csv, json or wikitext) as a file, by direct message."
    ),
    level=Level.ORGANISER,
    examples=["casestudy export csv", "casestudy export wikitext"],
)
async def export(ctx: Context, kind: Literal["csv", "json", "wikitext"]) -> Reply:
    studies = await store_of(ctx.host).in_states((PUBLISHED,))
    if not studies:
        return Reply.of(_("There are no published case studies to export yet."), aside=True)
    label, extension, mime = EXPORT_FILES[kind]
    # a wiki page in the organiser's language (for their community's wiki); CSV and JSON
    # carry the schema's codes, the same for everyone
    lang = (await ctx.reader()).lang if kind == "wikitext" else None
    text = render(kind, [public_of(s) for s in studies], lang)
    name = safe_filename(f"casestudies-{ctx.now().date().isoformat()}.{extension}")
    return Reply.of(
        _n(
            "{n} published case study as {format}: {file}",
            "{n} published case studies as {format}: {file}",
            len(studies),
            format=label,
            file=Plain(name),
        ),
        private=True,
        direct=True,
        files=(Attachment(name, text.encode("utf-8"), mime),),
    )
