"""The submission dialogue's questions, in order: what each asks, the hint shown when an
answer is refused, and the validator from :mod:`.fields`.  Questions that offer choices show
them in the member's language, and the validators take them in any of the bot's languages."""

from __future__ import annotations

from chatbot.base.i18n import _
from chatbot.dispatch.answers import SHOWN_KEYWORDS
from chatbot.dispatch.dialogs import Step
from commands.casestudies import fields as f


def _steps() -> tuple[Step, ...]:
    lst = f.show_list
    label = f.FIELD_LABELS
    kinds = f.choices(f.LIBRARY_TYPE_LABELS)
    projects = f.choices(f.PROJECT_LABELS)
    activities = f.choices(f.ACTIVITY_LABELS)
    return (
        Step(
            "title",
            _("A short title?"),
            _("5 to 120 characters, e.g. #1Lib1Ref at Lakeside."),
            validate=f.title,
            label=label["title"],
        ),
        Step(
            "institution",
            _("Which library?"),
            _("The library's full name, 2 to 200 characters."),
            validate=f.institution,
            label=label["institution"],
        ),
        Step(
            "institution_qid",
            _("Its Wikidata item (Q…)?"),
            _("The library's Wikidata item id, like Q123456."),
            optional=True,
            validate=f.qid,
            label=label["institution_qid"],
        ),
        Step(
            "library_type",
            _("What kind of library? ({choices})", choices=kinds),
            _("One of: {choices}.", choices=kinds),
            validate=f.library_type,
            show=f.show_choices(f.LIBRARY_TYPE_LABELS),
            label=label["library_type"],
        ),
        Step(
            "country",
            _("Which country?"),
            _("Its name or the two-letter code, e.g. Kenya or KE."),
            validate=f.country,
            show=f.show_country,
            label=label["country"],
        ),
        Step(
            "languages",
            _("Which language(s)?"),
            _("Language tags separated by `;`, e.g. en; sw or pt-BR."),
            validate=f.languages,
            show=f.show_languages,
            label=label["languages"],
        ),
        Step(
            "projects",
            _("Which Wikimedia projects? ({choices})", choices=projects),
            _("One or more of: {choices}, separated by `;`.", choices=projects),
            validate=f.projects,
            show=f.show_choices(f.PROJECT_LABELS),
            label=label["projects"],
        ),
        Step(
            "activities",
            _("What did you do? ({choices})", choices=activities),
            _("One or more of: {choices}, separated by `;`.", choices=activities),
            validate=f.activities,
            show=f.show_choices(f.ACTIVITY_LABELS),
            label=label["activities"],
        ),
        Step(
            "activities_other",
            _("You chose other: what was the other activity?"),
            _("A few words on the other activity, 2 to 200 characters."),
            optional=True,
            validate=f.activities_other,
            label=label["activities_other"],
            when=f.chose_other_activity,
        ),
        Step(
            "period",
            _(
                "When did it start, and end? (YYYY-MM, e.g. 2024-01 2024-02, or 2024-01 {ongoing})",
                ongoing=f.ONGOING_WORD,
            ),
            _("The start month, then the end month if it has ended."),
            validate=f.period,
            show=f.show_period,
            label=label["period"],
        ),
        Step(
            "summary",
            _("Describe it briefly (200 to 1,500 characters)."),
            _("What you did, with whom and why: 200 to 1,500 characters."),
            validate=f.summary,
            label=label["summary"],
        ),
        Step(
            "outcomes",
            _(
                "Any numbers to share? (e.g. {a} 412, {b} 18; {note}: …)",
                a=f.OUTCOME_LABELS["citations_added"],
                b=f.OUTCOME_LABELS["participants"],
                note=f.NOTE_WORD,
            ),
            _(
                "Names: {names}. Whole numbers, 0 or more; add `{note}:` and up to 1,000 "
                "characters.",
                names=f.choices(f.OUTCOME_LABELS),
                note=f.NOTE_WORD,
            ),
            optional=True,
            validate=f.outcomes,
            show=f.show_outcomes,
            label=label["outcomes"],
        ),
        Step(
            "links",
            _("Links (dashboard, project page)? Separate them with spaces."),
            _("Up to 10 http:// or https:// links."),
            optional=True,
            validate=f.links,
            show=lst,
            label=label["links"],
        ),
        Step(
            "lessons",
            _("Tips for another library?"),
            _("Up to 1,500 characters."),
            optional=True,
            validate=f.lessons,
            label=label["lessons"],
        ),
        Step(
            "credit",
            _("How should we credit you? (name, username or anonymous)"),
            _("Shown with the published study."),
            validate=f.credit,
            label=label["credit"],
        ),
        Step(
            "contact",
            _("How can organisers reach you? (kept private)"),
            _("An e-mail or username; only organisers see it, it is never published."),
            optional=True,
            validate=f.contact,
            label=label["contact"],
        ),
        Step(
            "consent",
            _("May we publish this? (yes)"),
            _("Say yes to let us publish the study."),
            validate=f.consent,
            show=f.show_bool,
            label=label["consent"],
        ),
        Step(
            "licence",
            _(
                "Release the text under CC BY-SA 4.0? ({yes}, or `cc0 {yes}` for CC0 1.0)",
                yes=SHOWN_KEYWORDS["yes"],
            ),
            _("CC BY-SA 4.0 is the Wikimedia default; CC0 1.0 gives up all rights."),
            validate=f.licence,
            label=label["licence"],
        ),
    )
