"""The organisers' review desk in the browser: ``/desk``.

An organiser types ``!review web`` in chat and gets a one-time link by DM
(:mod:`.desk_store`); the link opens a sign-in page whose button (a POST, so a chat
client's link preview cannot use it up) starts a browser session for a working day.  The
desk lists the queue, shows a submission in full (with the private contact and the
revisions) and offers the moves its state allows: start the review, accept, ask for
changes with a reason (the ``reject`` move: the contributor is told why and can revise),
publish.  Each move runs the chat command's own handler, as the organiser, so states,
revisions, notifications and their wording are the chat's.

Every request checks the session (stored hashed, not ended, not expired) and then the
organiser rights of its member in the room they asked from, by the chat's rules
(``level_of``); every form carries a CSRF token derived from the session secret and must
come from this site (``Origin``); every move and sign-in is logged with who did it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _, _p, as_msg
from chatbot.base.logs import get_logger
from chatbot.dispatch.context import Context
from chatbot.dispatch.host import Host
from chatbot.dispatch.registry import Level
from chatbot.messages.events import Incoming
from chatbot.messages.localise import text_in
from chatbot.web.app import add_route
from chatbot.web.pages import (
    configured_base,
    host_of,
    message_page,
    page_cache,
    render_page,
)
from chatbot.web.security import CSRF_FIELD, csrf_ok, csrf_token, same_origin, set_secret_cookie
from commands.casestudies import actor_names, store_of
from commands.casestudies import fields as f
from commands.casestudies.desk_store import (
    SESSION_LIFETIME,
    DeskSessionRow,
    end_session,
    open_link,
    open_session,
    use_link,
)
from commands.casestudies.fields import RECORD_FIELDS
from commands.casestudies.organisers import accept, claim, publish, reject
from commands.casestudies.store import (
    ACCEPTED,
    IN_REVIEW,
    SUBMITTED,
    action_label,
    state_label,
)
from commands.casestudies.web import safe_link

log = get_logger("commands.casestudies.desk")

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "wmlib_desk"
QUEUE = (SUBMITTED, IN_REVIEW, ACCEPTED)
#: what each state offers, in order
MOVES: dict[str, tuple[str, ...]] = {
    SUBMITTED: ("claim", "accept", "changes"),
    IN_REVIEW: ("accept", "changes"),
    ACCEPTED: ("publish",),
}
#: what the page says after each move, in the page's language
DONE: dict[str, Msg] = {
    "claim": _("You are reviewing this case study."),
    "accept": _("Accepted. The contributor is told in chat."),
    "changes": _("Sent back for changes. The contributor is told why in chat."),
    "publish": _("Published. It is on the public page now."),
}


def _new_link(bot: Host) -> str:
    """The chat command that sends a new sign-in link (a placeholder's value: it stays as
    it is in every language)."""
    return f"{bot.prefix}review web"


class Desk:
    """A signed-in request: the session's secret and row, and a chat context as the
    organiser in the room they asked from."""

    def __init__(self, secret: str, row: DeskSessionRow, ctx: Context) -> None:
        self.secret = secret
        self.row = row
        self.ctx = ctx


async def _refuse(request: web.Request, heading: Msg, message: Msg, status: int) -> web.Response:
    return await message_page(request, heading, message, status=status)


async def signed_in(request: web.Request) -> Desk | web.Response:
    """The desk of this request, or the page that says why not."""
    bot = host_of(request)
    secret = request.cookies.get(COOKIE, "")
    row = await open_session(bot.db, secret, bot.clock.now())
    if row is None:
        return await _refuse(
            request,
            _("Sign in to the review desk"),
            _(
                "Organisers sign in with a link the bot sends them: type {command} in chat "
                "for a new link.",
                command=_new_link(bot),
            ),
            401,
        )
    adapter = bot.adapters.get(row.platform)
    level = Level.MEMBER
    if adapter is not None:
        level = await bot.level_of(row.member(), row.room(), adapter)
    if adapter is None or level < Level.ORGANISER:
        log.warning("desk_refused", actor=row.member_id, reason="not an organiser")
        return await _refuse(
            request, _("Organisers only"), _("Only organisers can use the review desk."), 403
        )
    incoming = Incoming(row.platform, row.member(), row.room(), "review web")
    return Desk(secret, row, Context(bot, incoming, adapter))


def _no_store(response: web.Response) -> web.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# -- signing in and out ---------------------------------------------------------------------


async def signin_form(request: web.Request) -> web.Response:
    bot = host_of(request)
    token = request.match_info["token"]
    link = await open_link(bot.db, token, bot.clock.now())
    if link is None:
        return _no_store(await _link_refused(request))

    async def build(lang: str) -> dict[str, Any]:
        return {"name": link.member_name, "action": f"/desk/signin/{token}"}

    return _no_store(await render_page(request, TEMPLATES, "desk_signin.html", build, cache=False))


async def _link_refused(request: web.Request) -> web.Response:
    return await _refuse(
        request,
        _("This link does not work"),
        _(
            "It has expired or was used. Type {command} in chat for a new link.",
            command=_new_link(host_of(request)),
        ),
        403,
    )


async def signin(request: web.Request) -> web.Response:
    bot = host_of(request)
    if not same_origin(request, configured_base(bot.config)):
        return await _refuse(request, _("Not allowed"), _("That form came from another site."), 403)
    opened = await use_link(bot.db, request.match_info["token"], bot.clock.now())
    if opened is None:
        log.warning("desk_signin_refused", reason="expired, used or unknown link")
        return _no_store(await _link_refused(request))
    secret, row = opened
    log.info("desk_signed_in", actor=row.member_id)
    response = web.HTTPSeeOther("/desk")
    set_secret_cookie(
        response,
        COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/desk",
        secure=configured_base(bot.config).startswith("https://"),
    )
    raise response


async def signout(request: web.Request) -> web.Response:
    desk = await signed_in(request)
    if isinstance(desk, web.Response):
        return desk
    refused = await _check_form(request, desk)
    if refused is not None:
        return refused
    bot = host_of(request)
    await end_session(bot.db, desk.secret, bot.clock.now())
    log.info("desk_signed_out", actor=desk.row.member_id)
    response = await message_page(
        request, _("Signed out"), _("Your review desk session has ended.")
    )
    response.del_cookie(COOKIE, path="/desk")
    return response


async def _check_form(request: web.Request, desk: Desk) -> web.Response | None:
    """``None`` when the form is ours: same origin and the session's CSRF token."""
    form = await request.post()
    bot = host_of(request)
    given = form.get(CSRF_FIELD)
    if not same_origin(request, configured_base(bot.config)) or not (
        isinstance(given, str) and csrf_ok(desk.secret, given)
    ):
        log.warning("desk_csrf_refused", actor=desk.row.member_id, path=request.path)
        return await _refuse(
            request,
            _("This form has expired"),
            _("Reload the page and try again (the form must come from the review desk)."),
            403,
        )
    return None


# -- the queue and one submission -----------------------------------------------------------


def _state(state: str, lang: str) -> str:
    """A state as the page's reader reads it (``in_review`` → "en revisión")."""
    return text_in(state_label(state), lang)


def _removed(lang: str) -> str:
    return text_in(_("(removed)"), lang)


async def queue(request: web.Request) -> web.Response:
    desk = await signed_in(request)
    if isinstance(desk, web.Response):
        return desk
    studies = await store_of(host_of(request)).in_states(QUEUE)

    async def build(lang: str) -> dict[str, Any]:
        return {
            "me": desk.row.member_name,
            "csrf": csrf_token(desk.secret),
            "studies": [
                {
                    "id": s.id,
                    "title": str(s.record.get("title") or ""),
                    "institution": str(s.record.get("institution") or ""),
                    "by": s.member_name or _removed(lang),
                    "state": _state(s.state, lang),
                    "updated": s.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                }
                for s in sorted(studies, key=lambda s: (QUEUE.index(s.state), s.id))
            ],
        }

    return _no_store(await render_page(request, TEMPLATES, "desk_queue.html", build, cache=False))


#: how a record's field is shown, where it is not what the contributor typed: choices by
#: their label, numbers by their name, yes or no, "ongoing", in the page's language
_SHOWN: dict[str, Callable[[Any], str | Msg]] = {
    "library_type": f.show_choices(f.LIBRARY_TYPE_LABELS),
    "projects": f.show_choices(f.PROJECT_LABELS),
    "activities": f.show_choices(f.ACTIVITY_LABELS),
    "outcomes": lambda counts: f.show_outcomes({"counts": counts}),
    "consent": f.show_bool,
    "languages": f.show_languages,
}


def _shown(key: str, value: Any, lang: str) -> str:
    """A record's value as plain text in ``lang`` (escaped by the template)."""
    if value is None or value == "" or value == [] or value == {}:
        # no end: the work goes on
        return text_in(f.ONGOING_WORD, lang) if key == "end" else "—"
    if key == "country":
        return _country(str(value), lang)
    show = _SHOWN.get(key)
    if show is not None:
        return text_in(show(value), lang)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _country(code: str, lang: str) -> str:
    """``KE`` → ``Kenia (KE)``: the name in the page's language, and the stored code."""
    from babel import Locale

    try:
        name = Locale.parse(lang).territories.get(code)
    except (ValueError, LookupError):
        name = None
    return f"{name} ({code})" if name else code


def _field_name(key: str, lang: str) -> str:
    label = text_in(f.RECORD_FIELD_LABELS.get(key) or key.replace("_", " "), lang)
    return label[:1].upper() + label[1:]


async def study(
    request: web.Request, *, error: Msg | None = None, status: int = 200, desk: Desk | None = None
) -> web.Response:
    if desk is None:
        found = await signed_in(request)
        if isinstance(found, web.Response):
            return found
        desk = found
    number = int(request.match_info["id"])
    store = store_of(host_of(request))
    item = await store.get(number)
    if item is None:
        return await _refuse(
            request, _("Not found"), _("There is no case study #{id}.", id=str(number)), 404
        )
    revisions = await store.revisions(number)
    names = await actor_names(host_of(request), revisions)
    done = DONE.get(request.query.get("done", ""))
    secret = desk.secret

    async def build(lang: str) -> dict[str, Any]:
        fields = []
        for key in RECORD_FIELDS:
            value = item.record.get(key)
            links = [(str(v), safe_link(v)) for v in value or []] if key == "links" else None
            fields.append((_field_name(key, lang), _shown(key, value, lang), links))
        return {
            "me": desk.row.member_name,
            "csrf": csrf_token(secret),
            "s": {
                "id": item.id,
                "title": str(item.record.get("title") or ""),
                "state": _state(item.state, lang),
                "by": item.member_name or _removed(lang),
                "reason": item.reason,
                "revision": item.revision,
            },
            "fields": fields,
            "moves": MOVES.get(item.state, ()),
            "revisions": [
                {
                    "number": r.number,
                    "action": text_in(action_label(r.action), lang),
                    "by": names[r.actor_id] if r.actor_id else _removed(lang),
                    "at": r.at.strftime("%Y-%m-%d %H:%M UTC"),
                    "change": " → ".join(
                        (
                            _state(r.old_state, lang) if r.old_state else "-",
                            _state(r.new_state, lang),
                        )
                    ),
                    "fields": text_in(f.field_names(r.new_values or {}), lang),
                    "note": r.note or "",
                }
                for r in revisions
            ],
            "done": text_in(done, lang) if done is not None else "",
            "error": text_in(error, lang) if error is not None else "",
        }

    response = await render_page(
        request, TEMPLATES, "desk_study.html", build, cache=False, status=status
    )
    return _no_store(response)


Move = Callable[[Context, int, str], Awaitable[None]]


async def _claim(ctx: Context, number: int, reason: str) -> None:
    await claim(ctx, number)


async def _accept(ctx: Context, number: int, reason: str) -> None:
    await accept(ctx, number)


async def _changes(ctx: Context, number: int, reason: str) -> None:
    await reject(ctx, number, reason)


async def _publish(ctx: Context, number: int, reason: str) -> None:
    await publish(ctx, number)


HANDLERS: dict[str, Move] = {
    "claim": _claim,
    "accept": _accept,
    "changes": _changes,
    "publish": _publish,
}


async def act(request: web.Request) -> web.Response:
    """A move on one study, as the chat command would make it."""
    desk = await signed_in(request)
    if isinstance(desk, web.Response):
        return desk
    refused = await _check_form(request, desk)
    if refused is not None:
        return refused
    form = await request.post()
    number = int(request.match_info["id"])
    move = str(form.get("move", ""))
    reason = " ".join(str(form.get("reason", "")).split())[:2000]
    bot = host_of(request)
    item = await store_of(bot).get(number)
    if item is None or move not in MOVES.get(item.state, ()):
        state = state_label(item.state) if item is not None else _p("case study state", "gone")
        return await study(
            request,
            desk=desk,
            status=409,
            error=_("That is not possible now: the case study is {state}.", state=state),
        )
    try:
        if move == "changes" and len(reason) < 3:
            raise UserError(_("Say what needs to change, so the contributor can fix it."))
        if item.state == SUBMITTED and move in ("accept", "changes"):
            await claim(desk.ctx, number)  # as in chat: the review starts first
        await HANDLERS[move](desk.ctx, number, reason)
    except UserError as exc:
        log.info("desk_move_refused", actor=desk.row.member_id, study=number, move=move)
        return await study(request, desk=desk, status=409, error=as_msg(exc.message))
    page_cache(bot).clear()
    log.info("desk_move", actor=desk.row.member_id, study=number, move=move)
    raise web.HTTPSeeOther(f"/desk/{number}?done={move}")


def add_routes(bot: Host) -> None:
    add_route(bot, "GET", "/desk", queue)
    add_route(bot, "GET", r"/desk/{id:\d{1,9}}", study)
    add_route(bot, "POST", r"/desk/{id:\d{1,9}}", act)
    add_route(bot, "GET", "/desk/signin/{token}", signin_form)
    add_route(bot, "POST", "/desk/signin/{token}", signin)
    add_route(bot, "POST", "/desk/signout", signout)
