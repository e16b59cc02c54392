"""A member's own settings and data: time zone, language, ``!mydata``, ``!forgetme``."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from functools import lru_cache
from typing import Any

from chatbot.base.errors import AmbiguousZone, UserError
from chatbot.base.i18n import Msg, _, _p, available_languages, message_language, verbatim
from chatbot.dispatch.answers import CONFIRM_IRREVERSIBLE, SHOWN_KEYWORDS, answer_key
from chatbot.dispatch.context import Context
from chatbot.dispatch.dialogs import Dialog, Step
from chatbot.dispatch.registry import Module
from chatbot.messages.events import Bullets, Code, Inline, Plain, Reply, When
from chatbot.messages.localise import error_text
from chatbot.time.format import check_language, language_name
from chatbot.time.zones import Zone, resolve_zone, zone_from_key

module = Module("members", _("Your time zone, language and data."))
#: ``zona`` (es), ``fuseau`` (fr), ``fuso`` (pt), ``zeitzone`` (de): the translated names
tz = module.group(
    "tz",
    _("Your time zone: every time I show you is in it."),
    aliases=("timezone", "zona", "fuseau", "fuso", "zeitzone"),
)


def _zone_line(zone: Zone) -> Msg:
    name = zone.key if zone.label in zone.key else f"{zone.key} ({zone.label})"
    return verbatim("**{name}**", name=name)


@tz.command(
    default=True, help=_("Show your time zone and the time there."), examples=["tz"], private=True
)
async def show(ctx: Context) -> Reply:
    prefs = await ctx.prefs()
    prefix = ctx.prefix
    if prefs.zone is None:
        return Reply.of(
            _(
                "You haven't set a time zone yet, so I show times in UTC. It's {now} now.\n"
                "Set yours with `{prefix}tz set <city or zone>`, e.g. `{prefix}tz set Lagos` or "
                "`{prefix}tz set America/Sao_Paulo`.",
                now=When(ctx.now(), "full"),
                prefix=prefix,
            ),
            aside=True,
        )
    zone = zone_from_key(prefs.zone)
    parts: list[Inline] = [
        _(
            "Your time zone is {zone}. It's {now} there.",
            zone=_zone_line(zone),
            now=When(ctx.now(), "full"),
        )
    ]
    if zone.is_fixed_offset:
        parts.append(" ")
        parts.append(
            _(
                "A fixed offset doesn't follow daylight saving time: a city "
                "(e.g. `{prefix}tz set Kolkata`) does.",
                prefix=prefix,
            )
        )
    return Reply.of(*parts, aside=True)


@tz.command(
    name="set",
    help=_("Set your time zone: a city, a zone name or a UTC offset."),
    examples=["tz set Lagos", "tz set Europe/Paris", "tz set sao paulo", "tz set UTC+5:30"],
    params={"zone": _("a city (Lagos), a zone name (Europe/Paris) or an offset (UTC+5:30)")},
    private=True,
)
async def set_(ctx: Context, zone: str) -> Reply:
    prefix = ctx.prefix
    try:
        found = resolve_zone(zone)
    except AmbiguousZone as exc:
        choices = tuple((f"`{prefix}tz set {c}`",) for c in exc.candidates)
        return Reply.of(
            error_text(exc.message), "\n", _("Pick one:"), "\n", Bullets(choices), aside=True
        )
    await ctx.members.update(ctx.member, zone=found.key)
    ctx.forget_prefs()
    parts: list[Inline] = [
        _(
            "Done: your time zone is {zone}. It's {now} there now. I'll show every time in it.",
            zone=_zone_line(found),
            now=When(ctx.now(), "full"),
        )
    ]
    if found.is_fixed_offset:
        parts.append(" ")
        parts.append(_("Note: a fixed offset doesn't follow daylight saving time; a city does."))
    return Reply.of(*parts, aside=True)


@tz.command(
    name="clear", help=_("Forget your time zone (times are then shown in UTC)."), private=True
)
async def clear(ctx: Context) -> Reply:
    await ctx.members.update(ctx.member, zone=None)
    return Reply.of(_("I've forgotten your time zone; I'll show times in UTC."), aside=True)


@module.command(
    help=_("Pick the language I write to you in (e.g. es, fr, pt-BR, de); `en` for English."),
    examples=["lang es", "lang pt-BR", "lang"],
    aliases=("language", "idioma", "langue", "sprache"),
    params={"code": _("a language code such as es, fr, pt-BR, de")},
    private=True,
)
async def lang(ctx: Context, code: str = "") -> Reply:
    prefs = await ctx.prefs()
    prefix = ctx.prefix
    if not code.strip():
        if prefs.lang:
            current: Msg = verbatim("{name}", name=language_name(prefs.lang))
        else:
            current = _("the default language")
        return Reply.of(
            _(
                "I write to you in {language}. Change it with `{prefix}lang <code>`, e.g. "
                "`{prefix}lang es`. I speak {languages}.",
                language=current,
                prefix=prefix,
                languages=_spoken(available_languages()),
            ),
            aside=True,
        )
    canonical = check_language(code)
    if canonical is None:
        raise UserError(
            _(
                "I don't know the language code '{code}'. "
                "Use a code like es, fr, pt-BR or de, e.g. `{prefix}lang es`.",
                code=Plain(code.strip()[:20]),
                prefix=prefix,
            )
        )
    value = None if canonical == "en" else canonical
    await ctx.members.update(ctx.member, lang=value)
    ctx.forget_prefs()
    sample = When(ctx.now(), "full")
    if message_language(canonical) == "en" and canonical.split("-")[0] != "en":
        # Babel writes dates in hundreds of languages; our messages are in a few
        return Reply.of(
            _(
                "Done: dates now look like this: {sample}. My messages aren't translated into "
                "{language} yet, so I'll write them in English.",
                sample=sample,
                language=language_name(canonical),
            ),
            aside=True,
        )
    return Reply.of(
        _("Done: I'll write to you in this language. It's {sample} now.", sample=sample), aside=True
    )


@lru_cache(maxsize=4)
def _spoken(codes: frozenset[str]) -> str:
    """The languages the bot speaks, each in its own name (``Deutsch, English, …``), made
    once per set of catalogs rather than on every ``!lang``."""
    return ", ".join(language_name(c) for c in sorted(codes))


@module.command(
    help=_("Get everything I store about you (sent by direct message)."),
    examples=["mydata"],
    private=True,
)
async def mydata(ctx: Context) -> Reply:
    data = await collect_member_data(ctx)
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return Reply.of(
        _("Here is everything I store about you:"),
        "\n",
        Code(text, "json"),
        "\n",
        _("`{prefix}forgetme` deletes it.", prefix=ctx.prefix),
        private=True,
        direct=True,
    )


async def collect_member_data(ctx: Context) -> dict[str, Any]:
    data = await ctx.members.export(ctx.member.key)
    for module_ in ctx.registry.modules.values():
        for hook in module_.mydata_hooks:
            data[module_.name] = await hook(ctx.host, ctx.member.key)
    return data


@module.command(
    help=_("Delete everything I store about you (asks you to confirm first)."),
    examples=["forgetme", verbatim("forgetme {confirm}", confirm=SHOWN_KEYWORDS["confirm"])],
    private=True,
)
async def forgetme(ctx: Context, confirm: str = "") -> Reply:
    prefix = ctx.prefix
    if answer_key(confirm) not in CONFIRM_IRREVERSIBLE:  # confirm, confirmar, sí, ja…
        warnings: list[Inline] = []
        for module_ in ctx.registry.modules.values():
            for warn in module_.forget_warning_hooks:
                text = await warn(ctx.host, ctx.member.key)
                if text:  # a Msg (or a module's plain text, shown as it is)
                    warnings += [text, "\n"]
        return Reply.of(
            _(
                "This deletes everything I store about you: your time zone, language, what the "
                "bot's features keep about you, and any conversation in progress. It can't be "
                "undone."
            ),
            "\n",
            *warnings,
            _(
                "To go ahead, type `{prefix}forgetme {confirm}`.",
                prefix=prefix,
                confirm=SHOWN_KEYWORDS["confirm"],
            ),
            private=True,
        )
    notes: list[Inline] = []
    for module_ in ctx.registry.modules.values():
        for hook in module_.forget_hooks:
            note = await hook(ctx.host, ctx.member.key)
            if note:  # a Msg, translated for the member (or a module's plain text)
                notes += [" ", note]
    for account in await ctx.members.forget(ctx.member.key):
        ctx.dialogs.forget(account)
    ctx.forget_prefs()
    done = _("Done: I've deleted everything I stored about you.")
    return Reply.of(done, *notes, private=True)


@module.command(
    help=_("See what a time means in your own zone."),
    examples=[
        "when 15:00 UTC",
        verbatim(
            "when {at} CET",
            at=_p(
                "date in a command example: write it as the bot reads it in your language",
                "friday 18h",
            ),
        ),
        verbatim(
            "when {at} Asia/Manila",
            at=_p(
                "date in a command example: write it as the bot reads it in your language",
                "tomorrow 9am",
            ),
        ),
    ],
    aliases=("cuando", "cuándo", "quand", "quando", "wann"),
    params={"moment": _("a date or time, e.g. 'friday 18h CET' or 'in 2 hours'")},
)
async def when(ctx: Context, moment: str) -> Reply:
    from chatbot.time.parse import parse_details

    prefs = await ctx.prefs()
    # read in the language the reply is written in: the member's !lang, else their app's,
    # else the room's (``mañana 18:00`` in a Spanish room from a member who chose none)
    reader = await ctx.reader()
    parsed = await parse_details(
        moment,
        zone_key=prefs.zone,
        now=ctx.now(),
        date_order=ctx.config.time.date_order,
        lang=reader.lang,
    )
    if prefs.zone is None:
        return Reply.of(
            _(
                "{moment} is {at}. Set your zone with `{prefix}tz set <city>` to see times in "
                "your own.",
                moment=Plain(moment.strip()),
                at=When(parsed.at, "full"),
                prefix=ctx.prefix,
            )
        )
    utc = parsed.at.astimezone(UTC)
    local = parsed.at.astimezone(zone_from_key(prefs.zone).tzinfo)
    # a member on UTC's clock (UTC itself, London in winter) would read the same time twice
    if local.utcoffset() == timedelta(0):
        return Reply.of(
            _("{moment} is {at} for you.", moment=Plain(moment.strip()), at=When(parsed.at, "full"))
        )
    return Reply.of(
        _(
            "{moment} is {at} for you ({utc} UTC).",
            moment=Plain(moment.strip()),
            at=When(parsed.at, "full"),
            utc=utc.strftime("%H:%M"),
        )
    )


# -- the newcomer's setup dialogue --------------------------------------------------------


def _zone_answer(text: str) -> str:
    try:
        return resolve_zone(text).key
    except AmbiguousZone as exc:
        raise UserError(
            _(
                "{problem} Type one of: {choices}.",
                problem=error_text(exc.message),
                choices=Plain(", ".join(exc.candidates)),
            )
        ) from None


def _lang_answer(text: str) -> str:
    canonical = check_language(text)
    if canonical is None:
        raise UserError(
            _(
                "I don't know the language '{code}'. Try a code like fr, es or pt-BR.",
                code=Plain(text.strip()[:20]),
            )
        )
    return canonical


async def _finish_setup(ctx: Context, answers: dict[str, Any]) -> Reply:
    lang_value = answers.get("language")
    await ctx.members.update(
        ctx.member, zone=answers["zone"], lang=None if lang_value in (None, "en") else lang_value
    )
    ctx.forget_prefs()
    return Reply.of(
        _(
            "All set! It's {now} for you now. Try `{prefix}help` to see what else I can do.",
            now=When(ctx.now(), "full"),
            prefix=ctx.prefix,
        )
    )


SETUP = module.dialog(
    Dialog(
        name="setup",
        title=_("profile setup"),
        intro=_("Let's set you up so I can show every time in your own zone."),
        steps=(
            Step(
                "zone",
                _("Where are you? Type a city or a time zone (e.g. Lagos, Manila, Europe/Paris)."),
                help=_(
                    "I use this to show meeting times in your own time zone. A city works "
                    "best because it follows daylight saving time."
                ),
                validate=_zone_answer,
                label=_("time zone"),
            ),
            Step(
                "language",
                _("Which language should I use? (a code like en, fr, es, pt-BR)"),
                help=_("I write my messages and dates like 'Tue 4 Mar' in this language."),
                optional=True,
                validate=_lang_answer,
                label=_("language"),
            ),
        ),
        on_complete=_finish_setup,
    )
)


@module.command(
    help=_("Set up your time zone and language, step by step."),
    examples=["setup"],
    private=True,
)
async def setup(ctx: Context) -> Reply:
    return await ctx.dialogs.start(ctx, "setup")


# !link and !unlink belong to this module (registered on it when imported)
from commands import member_links  # noqa: E402,F401
