"""``!link`` and ``!unlink``: one member on both Matrix and Discord.

Part of the ``members`` module (registered on it from commands/members.py), so a group's
config needs no new entry. The work is in :mod:`chatbot.storage.links`; here are the words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _
from chatbot.dispatch.context import Context
from chatbot.messages.events import Bullets, Button, Plain, Reply
from chatbot.storage.links import Account, Linked, LinkRefused, Refusal
from commands.members import module

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PLATFORM_NAMES = {"matrix": "Matrix", "discord": "Discord", "console": "console"}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


def _setting_name(setting: str) -> Msg:
    return _("time zone") if setting == "zone" else _("language")


REFUSALS: dict[Refusal, Msg] = {
    Refusal.RATE: _(
        "That's a lot of link codes in a short time. Please wait ten minutes and try again."
    ),
    Refusal.INVALID: _(
        "That code doesn't work: it may be mistyped, older than ten minutes, or already used. "
        "Ask for a new one with `{prefix}link` on your other account."
    ),
    Refusal.SAME_ACCOUNT: _(
        "That code is for this very account: type it to me from your account on the other platform."
    ),
    Refusal.SAME_PLATFORM: _(
        "You already have an account on this platform linked. Say `{prefix}unlink` from that "
        "account first."
    ),
    Refusal.LINKED_ELSEWHERE: _(
        "This account is already linked to another one. Say `{prefix}unlink` here first."
    ),
    Refusal.ALREADY: _("These two accounts are already linked."),
}


@module.command(
    help=_("Link your Matrix and Discord accounts, so I know you as one member."),
    examples=["link", "link ABCD-EFGH", "link keep 2"],
    params={"code": _("the code I sent you on your other account (or `keep …`)")},
    private=True,
)
async def link(ctx: Context, code: str = "") -> Reply:
    text = code.strip()
    if not text:
        return await _issue(ctx)
    words = text.split()
    if words[0].casefold() in ("keep", "conservar", "garder", "manter", "behalten"):
        return await _keep(ctx, words[1:])
    return await _redeem(ctx, text)


async def _issue(ctx: Context) -> Reply:
    links = ctx.members.links
    try:
        code = await links.issue(ctx.member)
    except LinkRefused as exc:
        raise UserError(REFUSALS[exc.reason].given(prefix=ctx.prefix)) from None
    accounts = await links.accounts(ctx.member.key)
    parts: list[Msg | str | Bullets] = [
        _(
            "Your link code is **{code}**. Within ten minutes, say `{prefix}link {code}` to me "
            "from your account on the other platform. It works once; don't share it.",
            code=code,
            prefix=ctx.prefix,
        )
    ]
    if len(accounts) > 1:
        parts += ["\n", _("Already linked:"), "\n", _accounts(accounts)]
    return Reply.of(*parts, private=True, direct=True)


def _accounts(accounts: list[Account]) -> Bullets:
    return Bullets(
        tuple(
            (
                _(
                    "{platform}: {name}",
                    platform=platform_name(a.platform),
                    name=Plain(a.display_name or a.id),
                ),
            )
            for a in accounts
        )
    )


async def _redeem(ctx: Context, code: str) -> Reply:
    if not (ctx.room.is_direct or ctx.incoming.ephemeral):
        return await _cancel_shown(ctx, code)
    old_key = ctx.member.id  # what this account's data was stored under until now

    async def move(session: AsyncSession, person: str) -> None:
        for module_ in ctx.registry.modules.values():
            for hook in module_.link_hooks:
                await hook(ctx.host, session, old_key, person)

    try:
        linked = await ctx.members.links.redeem(ctx.member, code, move)
    except LinkRefused as exc:
        raise UserError(REFUSALS[exc.reason].given(prefix=ctx.prefix)) from None
    ctx.members.forget_cached(old_key, linked.person)
    ctx.forget_prefs()
    accounts = await ctx.members.links.accounts(linked.person)
    others = [a for a in accounts if a.id != ctx.member.id]
    other = others[0] if others else Account(linked.person, "", "")
    parts: list[Msg | str | Bullets] = [
        _(
            "Done: this account and your {platform} account {name} are now one member. Your "
            "time zone, language, RSVPs, reminders and case studies are shared; "
            "`{prefix}unlink` separates them again.",
            platform=platform_name(other.platform),
            name=Plain(other.display_name or other.id),
            prefix=ctx.prefix,
        )
    ]
    buttons: tuple[Button, ...] = ()
    if linked.conflicts:
        parts += ["\n", *_conflict_question(ctx, linked, other)]
        buttons = (
            Button(
                _("Keep all from {platform}", platform=platform_name(other.platform)), "link keep 1"
            ),
            Button(_("Keep all from here"), "link keep 2"),
        )
    return Reply.of(*parts, private=True, buttons=buttons)


async def _cancel_shown(ctx: Context, code: str) -> Reply:
    """A code typed in a room others read: whoever reads it could link their own account to
    the member first (or while the bot is away), so it is spent and links nothing."""
    try:
        await ctx.members.links.cancel(ctx.member, code)
    except LinkRefused as exc:
        raise UserError(REFUSALS[exc.reason].given(prefix=ctx.prefix)) from None
    return Reply.of(
        _(
            "Link codes only work in a direct message to me: others can read this room, so "
            "I've cancelled that code and linked nothing. Ask for a new one with "
            "`{prefix}link` on your other account, and type it to me in a direct message.",
            prefix=ctx.prefix,
        ),
        aside=True,
    )


def _conflict_question(ctx: Context, linked: Linked, other: Account) -> list[Msg | str | Bullets]:
    items = []
    for setting, (ours, theirs) in linked.conflicts.items():
        items.append(
            (
                _(
                    "{setting}: 1 = {ours} ({platform}), 2 = {theirs} ({here})",
                    setting=_setting_name(setting),
                    ours=Plain(ours),
                    platform=platform_name(other.platform),
                    theirs=Plain(theirs),
                    here=platform_name(ctx.member.platform),
                ),
            )
        )
    example = " ".join("2" for _c in linked.conflicts)
    return [
        _(
            "Both accounts had their own settings; I'm keeping those of {platform} for now:",
            platform=platform_name(other.platform),
        ),
        "\n",
        Bullets(tuple(items)),
        _(
            "To choose, say `{prefix}link keep` with one number per setting, in this order, "
            "e.g. `{prefix}link keep {example}`.",
            prefix=ctx.prefix,
            example=example,
        ),
    ]


async def _keep(ctx: Context, choices: list[str]) -> Reply:
    from chatbot.storage.links import SETTINGS

    person = ctx.member.key
    if person == ctx.member.id and not ctx.member.person:
        raise UserError(
            _(
                "This account isn't linked to another one yet: say `{prefix}link` first.",
                prefix=ctx.prefix,
            )
        )
    if not choices or any(c not in ("1", "2") for c in choices):
        raise UserError(
            _(
                "Say `{prefix}link keep` with 1 or 2 per setting (1 = the settings of the "
                "account that asked for the code, 2 = those of the account that typed it), "
                "e.g. `{prefix}link keep 2 1`.",
                prefix=ctx.prefix,
            )
        )
    if len(choices) == 1:
        choices = choices * len(SETTINGS)
    take = tuple(s for s, c in zip(SETTINGS, choices, strict=False) if c == "2")
    if take:
        await ctx.members.links.keep(person, take)
    ctx.members.forget_cached(person)
    ctx.forget_prefs()
    prefs = await ctx.prefs()
    return Reply.of(
        _(
            "Done. Your time zone is {zone} and your language {lang}, on both accounts.",
            zone=Plain(prefs.zone or "UTC"),
            lang=Plain(prefs.lang or "en"),
        ),
        private=True,
    )


@module.command(
    help=_("Separate this account from the accounts you linked with `!link`."),
    examples=["unlink"],
    private=True,
)
async def unlink(ctx: Context) -> Reply:
    remaining = await ctx.members.links.unlink(ctx.member)
    ctx.members.forget_cached(ctx.member.id, ctx.member.key)
    ctx.forget_prefs()
    if remaining is None:
        return Reply.of(_("This account isn't linked to another one."), private=True)
    return Reply.of(
        _(
            "Done: this account is on its own again, with a copy of your time zone and "
            "language. Your RSVPs, reminders and case studies stay with your {platform} account.",
            platform=platform_name(remaining.platform),
        ),
        private=True,
    )
