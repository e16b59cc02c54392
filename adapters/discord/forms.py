"""Forms as Discord modals: the "Open form" button, five fields per page, and the answers of
earlier pages kept (in memory and in the database) until the last page is submitted, so a
form keeps working when the bot restarts while a member fills it in."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

import discord
import msgspec

from adapters.discord.base import (
    FORM_EXPIRED,
    MAX_CUSTOM_ID,
    ButtonItem,
    Interaction,
    clip,
    digest,
    owner_of,
    trim,
)
from adapters.discord.mentions import Mentions
from adapters.discord.render import message_markdown
from chatbot.base.i18n import _, _p
from chatbot.base.logs import get_logger
from chatbot.messages.events import Form, FormField
from chatbot.messages.localise import text_in

log = get_logger("adapters.discord")

FIELDS_PER_PAGE = 5
MODAL_TIMEOUT = 30 * 60.0
_FORM_KEY = re.compile(r"[\w.\-]{1,60}")
_MODAL_ID = re.compile(r"wmlib:modal:(?P<page>\d{1,3}):(?P<user>\d{1,20}):(?P<key>[\w.\-]+)")
#: ``state`` keys: a form by its key, and a member's answers to its first pages
FORM_STATE = "discord:form:"
ANSWERS_STATE = "discord:answers:"
#: how long a member's half-filled form is kept
ANSWERS_KEPT = timedelta(days=7)


class FormButton(
    discord.ui.DynamicItem[ButtonItem], template=re.compile(r"wmlib:form:(?P<key>[\w.\-]+)")
):
    """The "Open form" button under a reply that carries a :class:`Form`."""

    def __init__(self, key: str, label: str = "…") -> None:
        # the label is given when the button is sent (translated); a button rebuilt from
        # its custom id only runs its callback, and is never shown
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"wmlib:form:{key}"
            )
        )
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FormButton:
        return cls(match["key"])

    async def callback(self, interaction: Interaction) -> None:
        await owner_of(interaction, Forms)._open_form(interaction, self.key, 0)


class PageButton(
    discord.ui.DynamicItem[ButtonItem],
    template=re.compile(r"wmlib:page:(?P<page>\d{1,3}):(?P<key>[\w.\-]+)"),
):
    """The "Next page" button after a page of a long form was submitted."""

    def __init__(self, key: str, page: int, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"wmlib:page:{page}:{key}",
            )
        )
        self.key = key
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        return cls(match["key"], int(match["page"]))

    async def callback(self, interaction: Interaction) -> None:
        await owner_of(interaction, Forms)._open_form(interaction, self.key, self.page)


def form_pages(form: Form, answers: Mapping[str, str]) -> list[tuple[FormField, ...]]:
    """The modal pages given the answers of the pages already submitted: up to five fields
    each.  A field that depends on another (:class:`ShownIf`) starts a new page when that
    one is on the same page (its answer must be in first), and is left out when its rule
    fails.  Earlier pages come out the same however later answers turn out."""
    pages: list[list[FormField]] = [[]]
    for spec in form.fields:
        if spec.when is not None:
            if any(other.key == spec.when.key for other in pages[-1]):
                pages.append([])
            if spec.when.holds(answers) is False:
                continue
        if len(pages[-1]) >= FIELDS_PER_PAGE:
            pages.append([])
        pages[-1].append(spec)
    return [tuple(page) for page in pages if page] or [()]


def _applicable(form: Form, answers: dict[str, str]) -> dict[str, str]:
    """The answers without those of fields whose rule fails (e.g. kept defaults)."""
    dropped = {s.key for s in form.fields if s.when is not None and s.when.holds(answers) is False}
    return {k: v for k, v in answers.items() if k not in dropped}


class FormModal(discord.ui.Modal):
    """One page (up to five fields) of a :class:`Form`."""

    def __init__(
        self,
        adapter: Forms,
        form: Form,
        key: str,
        page: int,
        user_id: int,
        answers: Mapping[str, str],
        lang: str | None,
    ) -> None:
        layout = form_pages(form, answers)
        pages = len(layout)
        title = text_in(form.title, lang) or text_in(_p("modal title", "Form"), lang)
        title = title if pages == 1 else f"{title} ({page + 1}/{pages})"
        super().__init__(
            title=clip(title, 45),
            timeout=MODAL_TIMEOUT,
            custom_id=f"wmlib:modal:{page}:{user_id}:{key}"[:MAX_CUSTOM_ID],
        )
        self.adapter = adapter
        self.form = form
        self.key = key
        self.page = page
        adapter._live_modals[self.custom_id] = None
        trim(adapter._live_modals)
        for spec in layout[page] if page < pages else ():
            default = answers.get(spec.key) or spec.default
            self.add_item(
                discord.ui.TextInput(
                    label=clip(text_in(spec.label, lang) or spec.key, 45),
                    style=discord.TextStyle.paragraph if spec.long else discord.TextStyle.short,
                    custom_id=spec.key[:MAX_CUSTOM_ID],
                    placeholder=clip(text_in(spec.placeholder, lang), 100) or None,
                    default=default[:4000] or None,
                    required=spec.required,
                    max_length=max(1, min(spec.max_length, 4000)),
                )
            )

    async def on_submit(self, interaction: Interaction, /) -> None:
        answers = {
            item.custom_id: item.value
            for item in self.children
            if isinstance(item, discord.ui.TextInput)
        }
        await self.adapter._form_page_submitted(
            interaction, self.form, self.key, self.page, answers
        )

    async def on_timeout(self) -> None:
        # a submit after this reaches the adapter's own handler (see _on_orphan_modal)
        self.adapter._live_modals.pop(self.custom_id, None)


class Forms(Mentions):
    """Opening forms, remembering them and the answers so far, and running the command
    once the last page is in."""

    def _remember_form(self, form: Form) -> str:
        key = form.id if _FORM_KEY.fullmatch(form.id) else digest(form.id)
        self._forms.pop(key, None)
        self._forms[key] = form
        trim(self._forms)
        return key

    async def _keep_form(self, form: Form) -> str:
        """Remember a form here and in the database, so that its button, its modal and its
        later pages still work after a restart (a member may take minutes to fill it in)."""
        key = self._remember_form(form)
        await self._save_state(FORM_STATE + key, msgspec.json.encode(form).decode())
        return key

    async def _form(self, key: str) -> Form | None:
        form = self._forms.get(key)
        if form is None:
            raw = await self._load_state(FORM_STATE + key)
            if raw is not None:
                with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
                    form = msgspec.json.decode(raw, type=Form)
                    self._forms[key] = form
                    trim(self._forms)
        return form

    async def _answers_so_far(self, user_id: int, key: str) -> dict[str, str] | None:
        """The pages a member already submitted, or None when they have not started."""
        slot = (user_id, key)
        if slot in self._answers:
            return dict(self._answers[slot])
        raw = await self._load_state(f"{ANSWERS_STATE}{user_id}:{key}")
        if raw is None:
            return None
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            return msgspec.json.decode(raw, type=dict[str, str])
        return None

    async def _save_state(self, key: str, value: str) -> None:
        core = self.core
        if core is None:
            return
        try:
            await core.db.set_state(key, value)
        except Exception:  # the form still works until a restart
            log.exception("discord_state_not_saved", key=key)

    async def _load_state(self, key: str) -> str | None:
        core = self.core
        if core is None:
            return None
        try:
            return await core.db.get_state(key)
        except Exception:
            log.exception("discord_state_not_read", key=key)
            return None

    def _modal(
        self, interaction: Interaction, key: str, page: int, lang: str | None
    ) -> FormModal | None:
        form = self._forms.get(key)
        answers = self._answers.get((interaction.user.id, key), {}) if page else {}
        if form is None or page >= len(form_pages(form, answers)):
            return None
        return FormModal(self, form, key, page, interaction.user.id, answers, lang)

    async def _open_form(self, interaction: Interaction, key: str, page: int) -> None:
        form = await self._form(key)
        answers = await self._answers_so_far(interaction.user.id, key) if page else {}
        if form is None or answers is None or page >= len(form_pages(form, answers)):
            await self._say(interaction, FORM_EXPIRED)
            return
        lang = await self._lang_of(interaction)
        modal = FormModal(self, form, key, page, interaction.user.id, answers, lang)
        await interaction.response.send_modal(modal)

    async def _on_orphan_modal(self, interaction: Interaction) -> None:
        """A form page opened before a restart: read its answers from the raw interaction."""
        data = cast(Mapping[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        match = _MODAL_ID.fullmatch(custom_id)
        if match is None or custom_id in self._live_modals:
            return
        if match["user"] != str(interaction.user.id):
            return
        key, page = match["key"], int(match["page"])
        form = await self._form(key)
        if form is None:
            await self._say(interaction, FORM_EXPIRED)
            return
        await self._form_page_submitted(interaction, form, key, page, _modal_values(data))

    async def _form_page_submitted(
        self, interaction: Interaction, form: Form, key: str, page: int, answers: dict[str, str]
    ) -> None:
        user_id = interaction.user.id
        slot = (user_id, key)
        so_far = {} if page == 0 else await self._answers_so_far(user_id, key)
        if so_far is None:
            await self._say(interaction, FORM_EXPIRED)
            return
        so_far.update(answers)
        so_far = _applicable(form, so_far)
        pages = len(form_pages(form, so_far))
        state_key = f"{ANSWERS_STATE}{user_id}:{key}"
        if page + 1 < pages:
            self._answers.pop(slot, None)
            self._answers[slot] = so_far
            trim(self._answers)
            await self._save_state(state_key, json.dumps(so_far))  # before saying "saved"
            if page == 0 and self.core is not None:
                with contextlib.suppress(Exception):
                    await self.core.db.prune_state(ANSWERS_STATE, ANSWERS_KEPT)
            lang = await self._lang_of(interaction)
            view = discord.ui.View(timeout=None)
            view.add_item(PageButton(key, page + 1, text_in(_p("button", "Next page"), lang)))
            saved = _(
                "Page {page} of {pages} saved. Go on with the next page.",
                page=page + 1,
                pages=pages,
            )
            await interaction.response.send_message(
                message_markdown(saved, lang),
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        self._answers.pop(slot, None)
        if page and self.core is not None:  # the answers now go to the command
            with contextlib.suppress(Exception):
                await self.core.db.drop_state(state_key)
        for field, answer in so_far.items():  # mentions typed in the form, as names
            so_far[field] = await self._readable(answer, interaction.guild)
        resolved = self._command_of(self.prefix + form.command)
        incoming = self._interaction_incoming(interaction, self.prefix + form.command, so_far)
        private = resolved is not None and resolved.command.private
        await self._run_interaction(interaction, incoming, private=private)


def _modal_values(data: Mapping[str, Any]) -> dict[str, str]:
    """The text inputs of a raw modal submit (in action rows or labels, at any depth)."""
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "custom_id" in node and isinstance(node.get("value"), str):
                values[str(node["custom_id"])] = node["value"]
            for child in node.get("components", []), node.get("component"):
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data.get("components", []))
    return values
