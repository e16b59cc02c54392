"""Discord forms: ``!casestudy form`` opens the questions as modal pages, and their answers
come back as ``!casestudy formsubmit``."""

from __future__ import annotations

from chatbot.base.errors import UserError
from chatbot.base.i18n import Msg, _
from chatbot.dispatch.context import Context
from chatbot.messages.events import Form, FormField, Reply, ShownIf
from chatbot.messages.localise import error_text
from commands.casestudies import casestudy
from commands.casestudies import fields as f
from commands.casestudies.dialogue import _record, written_language

#: (key, label, long, max length, required) of the form's fields, five to a modal page
#: (the adapter pages them; see :data:`CONDITIONS`)
FORM_FIELDS: tuple[tuple[str, Msg, bool, int, bool], ...] = (
    ("title", _("Title (5-120 characters)"), False, 120, True),
    ("institution", _("Library"), False, 200, True),
    ("institution_qid", _("Its Wikidata item (Q...)"), False, 20, False),
    ("library_type", _("Library type: public, academic, national..."), False, 20, True),
    ("country", _("Country (name or code)"), False, 60, True),
    ("languages", _("Language tags (en; sw)"), False, 100, True),
    ("projects", _("Wikimedia projects (wikipedia; wikidata...)"), False, 200, True),
    ("activities", _("Activities (editathon; 1lib1ref...)"), False, 300, True),
    ("activities_other", _("The other activity: what was it?"), False, 200, False),
    ("period", _("Start and end, YYYY-MM (or ongoing)"), False, 30, True),
    ("summary", _("Summary (200-1,500 characters)"), True, 1500, True),
    ("outcomes", _("Numbers (participants 18; note: ...)"), True, 1200, False),
    ("links", _("Links (http/https, space-separated)"), True, 2000, False),
    ("lessons", _("Tips for another library"), True, 1500, False),
    ("credit", _("Credit (name, username or anonymous)"), False, 200, True),
    ("contact", _("Contact for organisers (kept private)"), False, 200, False),
    ("consent", _("May we publish this? Type yes"), False, 10, True),
    ("licence", _("CC BY-SA 4.0? Type yes (or: cc0 yes)"), False, 20, True),
)


#: fields asked only when an earlier answer applies, as the dialogue's ``Step.when``
CONDITIONS: dict[str, ShownIf] = {"activities_other": ShownIf("activities", ("other",))}


def _form(values: dict[str, str] | None = None) -> Form:
    values = values or {}
    return Form(
        "casestudy",
        _("Case study"),
        tuple(
            FormField(
                key,
                label,
                required=required,
                long=long,
                max_length=limit,
                default=values.get(key, "")[:limit],
                when=CONDITIONS.get(key),
            )
            for key, label, long, limit, required in FORM_FIELDS
        ),
        "casestudy formsubmit",
    )


@casestudy.command(
    help=_("Fill in a case study as a form (Discord); elsewhere use `casestudy submit`."),
    examples=["casestudy form"],
)
async def form(ctx: Context) -> Reply:
    if not ctx.adapter.capabilities.forms:
        return Reply.of(
            _(
                "Forms need Discord; here `{prefix}casestudy submit` asks the same "
                "questions one at a time.",
                prefix=ctx.prefix,
            ),
            aside=True,
        )
    return Reply.of(
        _("Open the form to write up your case study (four pages of questions)."),
        form=_form(),
        aside=True,
    )


@casestudy.command(
    help=_("Receives the answers of `casestudy form` (not typed by hand)."),
    examples=["casestudy form"],
    private=True,
    hidden=True,  # an internal entry point: no slash command, not in !help
)
async def formsubmit(ctx: Context) -> Reply:
    values = ctx.incoming.form_values
    if values is None:
        raise UserError(_("Use `{prefix}casestudy form` to open the form.", prefix=ctx.prefix))
    try:
        record = f.validate_record(values)
    except UserError as exc:
        return Reply.of(
            error_text(exc.message),
            "\n",
            _("Open the form again (your answers are kept) and fix it."),
            form=_form(values) if ctx.adapter.capabilities.forms else None,
            private=True,
        )
    return await _record(ctx, record, None, written_in=await written_language(ctx))
