"""The submission dialogue's questions, in order: what each asks, the hint shown when an
answer is refused, and the validator from :mod:`.fields`."""

from __future__ import annotations

from chatbot.dispatch.dialogs import Step
from commands.casestudies import fields as f


def _steps() -> tuple[Step, ...]:
    lst = f.show_list
    return (
        Step(
            "title",
            "A short title?",
            "5 to 120 characters, e.g. #1Lib1Ref at Lakeside.",
            validate=f.title,
        ),
        Step(
            "institution",
            "Which library?",
            "The library's full name, 2 to 200 characters.",
            validate=f.institution,
        ),
        Step(
            "institution_qid",
            "Its Wikidata item (Q…)?",
            "The library's Wikidata item id, like Q123456.",
            optional=True,
            validate=f.qid,
            label="Wikidata item",
        ),
        Step(
            "library_type",
            "What kind of library? (" + ", ".join(f.LIBRARY_TYPES) + ")",
            "One of: " + ", ".join(f.LIBRARY_TYPES) + ".",
            validate=f.library_type,
            label="library type",
        ),
        Step(
            "country",
            "Which country?",
            "The English name or the two-letter code, e.g. Kenya or KE.",
            validate=f.country,
        ),
        Step(
            "languages",
            "Which language(s)?",
            "Language tags separated by `;`, e.g. en; sw or pt-BR.",
            validate=f.languages,
            show=lst,
        ),
        Step(
            "projects",
            "Which Wikimedia projects? (" + ", ".join(f.PROJECTS) + ")",
            "One or more of: " + ", ".join(f.PROJECTS) + ", separated by `;`.",
            validate=f.projects,
            show=lst,
        ),
        Step(
            "activities",
            "What did you do? (" + ", ".join(f.ACTIVITIES) + ")",
            "One or more of: " + ", ".join(f.ACTIVITIES) + ", separated by `;`.",
            validate=f.activities,
            show=lst,
        ),
        Step(
            "activities_other",
            "You chose other: what was the other activity?",
            "A few words on the other activity, 2 to 200 characters.",
            optional=True,
            validate=f.activities_other,
            label="other activity",
            when=f.chose_other_activity,
        ),
        Step(
            "period",
            "When did it start, and end? (YYYY-MM, e.g. 2024-01 2024-02, or 2024-01 ongoing)",
            "The start month, then the end month if it has ended.",
            validate=f.period,
            show=f.show_period,
        ),
        Step(
            "summary",
            "Describe it briefly (200 to 1,500 characters).",
            "What you did, with whom and why: 200 to 1,500 characters.",
            validate=f.summary,
        ),
        Step(
            "outcomes",
            "Any numbers to share? (e.g. citations_added 412, participants 18; note: …)",
            "Names: " + ", ".join(f.OUTCOMES) + ". Whole numbers, 0 or more; "
            "add `note:` and up to 1,000 characters.",
            optional=True,
            validate=f.outcomes,
            show=f.show_outcomes,
        ),
        Step(
            "links",
            "Links (dashboard, project page)? Separate them with spaces.",
            "Up to 10 http:// or https:// links.",
            optional=True,
            validate=f.links,
            show=lst,
        ),
        Step(
            "lessons",
            "Tips for another library?",
            "Up to 1,500 characters.",
            optional=True,
            validate=f.lessons,
        ),
        Step(
            "credit",
            "How should we credit you? (name, username or anonymous)",
            "Shown with the published study.",
            validate=f.credit,
        ),
        Step(
            "contact",
            "How can organisers reach you? (kept private)",
            "An e-mail or username; only organisers see it, it is never published.",
            optional=True,
            validate=f.contact,
        ),
        Step(
            "consent",
            "May we publish this? (yes)",
            "Say yes to let us publish the study.",
            validate=f.consent,
            show=f.show_bool,
        ),
        Step(
            "licence",
            "Release the text under CC BY-SA 4.0? (yes, or `cc0 yes` for CC0 1.0)",
            "CC BY-SA 4.0 is the Wikimedia default; CC0 1.0 gives up all rights.",
            validate=f.licence,
        ),
    )
