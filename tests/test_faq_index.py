"""Tests of the knowledge-base question answering engine (commands/faq/index.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.faq.index import (
    DEFAULT_KB_PATH,
    Entry,
    FaqIndex,
    KbError,
    KnowledgeBase,
    detect_language,
    dump_kb,
    load_kb,
    normalise,
    parse_kb,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The shipped knowledge base."""
    return load_kb()


@pytest.fixture(scope="module")
def index(kb: KnowledgeBase) -> FaqIndex:
    """An index over the shipped knowledge base."""
    return FaqIndex(kb)


def answer_id(index: FaqIndex, question: str) -> str | None:
    """The id of the entry the engine answers with, or None when it abstains."""
    entry = index.ask(question).entry
    return entry.id if entry else None


# --- ranking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how can i become a member of your community?", "join-the-group"),
        ("is there a way to get notified before the call starts", "reminders"),
        ("is it ok to upload a copyrighted photo", "copyright"),
        ("who do I talk to about running the group", "contact-organisers"),
    ],
)
def test_paraphrase_finds_entry(index: FaqIndex, question: str, expected: str) -> None:
    """A paraphrase that avoids most of the entry's words still finds it."""
    assert answer_id(index, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how do i jion the group", "join-the-group"),
        ("wikipeda library acess", "wikipedia-library-access"),
        ("when is the next meetng", "meetings"),
        ("chnage my timezon", "set-time-zone"),
    ],
)
def test_typo_finds_entry(index: FaqIndex, question: str, expected: str) -> None:
    """Misspelt words are repaired against the vocabulary."""
    assert answer_id(index, question) == expected


@pytest.mark.parametrize(
    "question",
    ["WHAT ARE EDIT-A-THONS?", "what is an editathon", "Edit a thon??", "what's an édit-a-thon"],
)
def test_plural_casing_and_spelling_variants(index: FaqIndex, question: str) -> None:
    """Plurals, casing, accents and the edit-a-thon spellings all meet."""
    assert answer_id(index, question) == "editathon"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is One Librarian, One Reference?", "1lib1ref"),
        ("#1Lib1Ref?", "1lib1ref"),
        ("tz set", "set-time-zone"),
        ("what is the UCoC", "code-of-conduct"),
        ("what does a WiR do", "wikipedian-in-residence"),
    ],
)
def test_domain_synonyms(index: FaqIndex, question: str, expected: str) -> None:
    """Abbreviations and alternative names of the domain map to the same entry."""
    assert answer_id(index, question) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("can I get a recap of what was decided", "meeting-notes"),
        ("is membership gratis", "membership-fee"),
        ("organizing an edit-a-thon", "host-editathon"),
    ],
)
def test_related_words_reach_the_entry(index: FaqIndex, question: str, expected: str) -> None:
    """Words the entry never uses still reach it through the related-words map."""
    assert answer_id(index, question) == expected


def test_character_ngrams_nominate_entries_without_a_shared_word() -> None:
    """A morphological variant no rule folds still finds its entry through n-grams."""
    kb = KnowledgeBase(
        (
            Entry("photo", "How do I photograph rare books?", "With care."),
            Entry("hours", "When is the reading room open?", "Nine to five."),
        )
    )
    answer = FaqIndex(kb).ask("photography")
    assert [c.entry.id for c in answer.candidates] == ["photo"]


def test_exact_phrasing_always_matches() -> None:
    """A question that is word for word a phrasing matches, even with no content word."""
    kb = KnowledgeBase(
        (
            Entry(
                "mydata", "What data do you keep?", "Type !mydata.", ("what do you know about me",)
            ),
            Entry("hours", "When is the reading room open?", "Nine to five."),
        )
    )
    index = FaqIndex(kb)
    answer = index.ask("What do you know about me?")
    assert answer.entry is not None and answer.entry.id == "mydata"
    assert answer.confidence == 1.0
    assert index.ask("what do you know").abstained


def test_real_words_are_not_repaired_into_shorter_ones(index: FaqIndex) -> None:
    """Typo repair leaves a short real word alone ("exist" is not "exit")."""
    terms = index.explain("since when does this group exist")["terms"]
    assert isinstance(terms, list) and "exist" in terms


def test_question_word_separates_sibling_entries(index: FaqIndex) -> None:
    """'when' and 'how' pick different entries about the same topic."""
    assert answer_id(index, "when is 1lib1ref") == "1lib1ref-dates"
    assert answer_id(index, "what is 1lib1ref") == "1lib1ref"
    assert answer_id(index, "how do i take part in 1lib1ref") == "1lib1ref-how"


def test_see_also_lists_close_runners_up(index: FaqIndex) -> None:
    """A question close to several entries answers one and offers its siblings."""
    answer = index.ask("1lib1ref campaign")
    assert answer.entry is not None
    assert not answer.abstained
    assert 1 <= len(answer.see_also) <= 3
    ids = {answer.entry.id, *(e.id for e in answer.see_also)}
    assert {"1lib1ref", "1lib1ref-how", "1lib1ref-dates"} <= ids
    assert answer.entry not in answer.see_also


def test_clear_question_has_no_far_see_also(index: FaqIndex) -> None:
    """A question with one clear answer does not drag in unrelated entries."""
    answer = index.ask("how do I delete my data from the bot")
    assert answer.entry is not None and answer.entry.id == "bot-forgetme"
    assert all(e.id != "swot-analysis" for e in answer.see_also)


# --- abstention ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "how do I bake sourdough bread for the library bake sale",
        "what's the weather in Paris today",
        "how do I join the Wikimedia Foundation board of trustees",
    ],
)
def test_off_topic_question_abstains_with_nearest(index: FaqIndex, question: str) -> None:
    """Below the threshold the engine abstains and offers the nearest topics."""
    answer = index.ask(question)
    assert answer.abstained
    assert answer.entry is None
    assert answer.confidence < index.threshold
    assert answer.see_also == ()
    assert len(answer.nearest) <= 3


def test_near_miss_offers_related_topics(index: FaqIndex) -> None:
    """A near-miss abstains but names the topics it came close to."""
    answer = index.ask("how do I join the Wikimedia Foundation board of trustees")
    assert answer.abstained
    assert answer.nearest
    assert all(isinstance(e, Entry) for e in answer.nearest)


def _residence_kb(*near_misses: str) -> KnowledgeBase:
    return KnowledgeBase(
        (
            Entry(
                "wir",
                "What is a Wikipedian in Residence?",
                "A Wikipedian hosted by an institution to help its staff share collections.",
                ("what does a wikipedian in residence do",),
                near_misses=near_misses,
            ),
            Entry("hours", "When is the reading room open?", "Nine to five."),
        )
    )


def test_near_misses_make_similar_questions_abstain() -> None:
    """An entry's near-misses (what its answer does not say) make questions like them abstain,
    word for word or not, while the entry's own question is still answered."""
    salary = "how much is a wikipedian in residence paid per month"
    plain = FaqIndex(_residence_kb())
    assert answer_id(plain, salary) == "wir"
    taught = FaqIndex(_residence_kb("how well paid is a wikipedian in residence"))
    assert taught.ask(salary).abstained
    assert taught.ask(salary).nearest[0].id == "wir"
    assert answer_id(taught, "what is a wikipedian in residence") == "wir"
    exact = FaqIndex(_residence_kb(salary))
    answer = exact.ask(salary.upper() + "?")
    assert answer.abstained and answer.confidence == 0.0


@pytest.mark.parametrize(
    "question",
    [
        "how much does a wikipedian in residence get paid",
        "can i change my wikipedia username",
        "how many members does the user group have",
    ],
)
def test_shipped_near_misses_abstain(index: FaqIndex, question: str) -> None:
    """Questions about a detail the shipped answers do not give are not answered."""
    assert index.ask(question).abstained


@pytest.mark.parametrize(
    "text", ["thanks bot!", "hello bot", "Thank you so much!", "hi all, good morning from Manila"]
)
def test_small_talk_is_not_a_question(index: FaqIndex, text: str) -> None:
    """Thanking the bot names it, but asks nothing about it: no answer, no suggestions."""
    answer = index.ask(text)
    assert answer.abstained and answer.nearest == ()


@pytest.mark.parametrize("question", ["", "   ", "?!", "the of and", "qwzx vbnm"])
def test_empty_or_meaningless_question_abstains(index: FaqIndex, question: str) -> None:
    """A question with no content word abstains without suggestions."""
    answer = index.ask(question)
    assert answer.abstained
    assert answer.entry is None
    assert answer.nearest == ()


def test_confident_answer_is_not_abstained(index: FaqIndex) -> None:
    """A clear question is answered with a confidence above the threshold."""
    answer = index.ask("How do I join the user group?")
    assert not answer.abstained
    assert answer.entry is not None and answer.entry.id == "join-the-group"
    assert index.threshold <= answer.confidence <= 1.0
    assert answer.language is None


def test_threshold_is_configurable(kb: KnowledgeBase) -> None:
    """A stricter index abstains where the default one answers."""
    question = "how do I join the user group"
    assert FaqIndex(kb).ask(question).entry is not None
    assert FaqIndex(kb, threshold=1.01).ask(question).abstained


# --- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("¿Cómo puedo unirme al grupo?", "es"),
        ("Comment puis-je rejoindre le groupe ?", "fr"),
        ("Como faço para participar do grupo?", "pt"),
        ("Wie kann ich der Gruppe beitreten?", "de"),
        ("Bagaimana cara bergabung dengan grup ini?", "id"),
        ("Ninawezaje kujiunga na kikundi hiki?", "sw"),
        ("كيف يمكنني الانضمام إلى المجموعة؟", "ar"),
        ("Как вступить в группу?", "ru"),
        ("如何加入这个小组？", "zh"),
        ("グループに参加するにはどうすればいいですか？", "ja"),
        ("그룹에 가입하려면 어떻게 해야 하나요?", "ko"),
    ],
)
def test_non_english_is_detected(text: str, lang: str) -> None:
    """Questions in other languages and scripts are recognised."""
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "how do I join the group",
        "1lib1ref?",
        "wiki loves libraries",
        "can i ask in spanish",
        "is there a meeting for people in Asia-Pacific",
        "Café meetup in São Paulo?",
        "privacy",
    ],
)
def test_english_is_not_flagged(text: str) -> None:
    """English questions, even with foreign names in them, count as English."""
    assert detect_language(text) is None


def test_abbreviation_the_base_knows_is_not_foreign(index: FaqIndex) -> None:
    """ "WiR" is the German "we" and the base's Wikipedian in Residence: the base wins."""
    answer = index.ask("WiR meaning?")
    assert answer.language is None
    assert answer.entry is not None and answer.entry.id == "wikipedian-in-residence"
    assert detect_language("wir sind bibliothekare") == "de"


def test_non_english_question_abstains_with_language(index: FaqIndex) -> None:
    """Without entries in the member's language, the engine abstains and says which."""
    answer = index.ask("¿Dónde está el informe anual del grupo?")
    assert answer.abstained
    assert answer.entry is None
    assert answer.language == "es"


def test_entries_in_the_members_language_are_used() -> None:
    """A base with French entries answers French questions from them."""
    kb = KnowledgeBase(
        (
            Entry("join", "How do I join the group?", "Sign up on meta.", ("become a member",)),
            Entry(
                "rejoindre",
                "Comment rejoindre le groupe ?",
                "Inscrivez-vous sur meta.",
                ("devenir membre du groupe",),
                lang="fr",
            ),
        )
    )
    index = FaqIndex(kb)
    answer = index.ask("Comment est-ce que je peux rejoindre le groupe ?")
    assert answer.language == "fr"
    assert answer.entry is not None and answer.entry.id == "rejoindre"
    assert answer_id(index, "how do I join?") == "join"


# --- loading, dumping, validation -----------------------------------------------------------


def test_shipped_kb_is_complete(kb: KnowledgeBase) -> None:
    """The default base has at least 40 entries, each with alternates and tags."""
    assert len(kb) >= 40
    assert all(e.alternates and e.tags and e.lang == "en" for e in kb)
    answers = " ".join(e.answer for e in kb)
    for command in (
        "!help",
        "!tz set",
        "!meetings",
        "!rsvp",
        "!remind me on",
        "!ask",
        "!mydata",
        "!forgetme",
        "!casestudy submit",
    ):
        assert f"`{command}" in answers, command


def test_shipped_kb_round_trips(kb: KnowledgeBase) -> None:
    """Dumping and reloading the shipped base gives it back unchanged."""
    assert parse_kb(dump_kb(kb)) == kb


_text = st.text(min_size=1, max_size=40).filter(str.strip)
_entries = st.builds(
    Entry,
    id=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True),
    question=_text,
    answer=st.one_of(_text, st.sampled_from(['say "hi"\n\\o/', "tab\there", "é\u2028\x7f\x00x"])),
    alternates=st.lists(_text, max_size=3).map(tuple),
    tags=st.lists(_text, max_size=2).map(tuple),
    near_misses=st.lists(_text, max_size=2).map(tuple),
    lang=st.sampled_from(["en", "fr", "pt-BR", "sw"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_entries, max_size=5, unique_by=lambda e: e.id))
def test_round_trip_is_exact(entries: list[Entry]) -> None:
    """load(dump(x)) == x for any text: quotes, backslashes, newlines, controls, unicode."""
    kb = KnowledgeBase(tuple(entries))
    assert parse_kb(dump_kb(kb)) == kb


def test_load_kb_reads_a_file(tmp_path: Path) -> None:
    """load_kb reads the file it is given."""
    kb = KnowledgeBase((Entry("a", "Q?", "A.", ("alt",), ("tag",)),))
    path = tmp_path / "kb.toml"
    path.write_text(dump_kb(kb), encoding="utf-8")
    assert load_kb(path) == kb
    assert load_kb(DEFAULT_KB_PATH) == load_kb()


def _problems(text: str) -> str:
    with pytest.raises(KbError) as info:
        parse_kb(text, source="test.toml")
    return str(info.value)


def test_missing_field_names_the_entry() -> None:
    """A missing field is reported with the entry's position and id."""
    message = _problems(
        '[[entry]]\nid = "a"\nquestion = "Q?"\nanswer = "A"\n\n'
        '[[entry]]\nid = "b"\nquestion = "Q?"\n'
    )
    assert "test.toml" in message
    assert "entry #2 (id 'b'): missing field 'answer'" in message


def test_duplicate_id_names_both_entries() -> None:
    """A duplicate id names the entry and the one that used it first."""
    text = '[[entry]]\nid = "a"\nquestion = "Q?"\nanswer = "A"\n' * 2
    assert "entry #2 (id 'a'): duplicate id, already used by entry #1" in _problems(text)


def test_wrong_types_are_reported() -> None:
    """Wrong types name the entry, the field and the type found."""
    text = (
        '[[entry]]\nid = "a"\nquestion = 3\nanswer = "A"\nalternates = "x"\n'
        '[[entry]]\nid = "b"\nquestion = "Q"\nanswer = "A"\ntags = ["ok", 2]\n'
    )
    message = _problems(text)
    assert "3 problems" in message
    assert "entry #1 (id 'a'): field 'question' must be a string, got integer" in message
    assert "entry #1 (id 'a'): field 'alternates' must be a list of strings, got string" in message
    assert "entry #2 (id 'b'): field 'tags', item 2 must be a string, got integer" in message


def test_other_problems_are_reported() -> None:
    """Unknown fields, empty texts, bad ids, bad languages and bad TOML are reported."""
    assert "unknown field 'alternate'" in _problems(
        '[[entry]]\nid = "a"\nquestion = "Q"\nanswer = "A"\nalternate = ["x"]\n'
    )
    assert "entry #1 (id 'a'): field 'answer' is empty" in _problems(
        '[[entry]]\nid = "a"\nquestion = "Q"\nanswer = "  "\n'
    )
    assert "field 'id' must be" in _problems(
        '[[entry]]\nid = "has space"\nquestion = "Q"\nanswer = "A"\n'
    )
    assert "field 'lang' must be a language code" in _problems(
        '[[entry]]\nid = "a"\nquestion = "Q"\nanswer = "A"\nlang = "French"\n'
    )
    assert "entry #1: missing field 'id'" in _problems('[[entry]]\nquestion = "Q"\nanswer = "A"\n')
    assert "not valid TOML" in _problems("[[entry]\n")
    assert "unknown top-level key 'entries'" in _problems("[[entries]]\nid = 'a'\n")


def test_knowledge_base_validates_when_built_in_code() -> None:
    """Building a KnowledgeBase directly applies the same checks."""
    with pytest.raises(KbError, match=r"entry #2 \(id 'x'\): duplicate id"):
        KnowledgeBase((Entry("x", "Q", "A"), Entry("x", "Q2", "A2")))


def test_dump_is_readable_toml() -> None:
    """The writer emits one [[entry]] table per entry and omits defaults."""
    text = dump_kb(KnowledgeBase((Entry("a", "Q?", 'Say "hi".\nBye.'),)))
    assert text == '[[entry]]\nid = "a"\nquestion = "Q?"\nanswer = "Say \\"hi\\".\\nBye."\n'


def test_normalise_folds_case_accents_and_apostrophes() -> None:
    """Normalisation casefolds, strips accents and drops apostrophes."""
    assert normalise("Qu’est-ce Que ÉDIT? Group's") == "quest-ce que edit? groups"


# --- benchmark script -------------------------------------------------------------------------


def test_eval_script_prints_json_last_line(tmp_path: Path) -> None:
    """benchmarks/faq_eval.py reports the rates and ends with one JSON object."""
    questions = tmp_path / "q.tsv"
    questions.write_text(
        "question\texpected_id\nhow do i jion the group\tjoin-the-group\n"
        "how do I bake bread\tNONE\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "faq_eval.py"),
            "--questions",
            str(questions),
            "--scale",
            "80",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["top1"] == 1.0
    assert report["abstention"] == 1.0
    assert report["entries"] == 80
    assert report["median_ms"] > 0


def test_confidence_fit_learns_a_separating_weight() -> None:
    """The leave-one-base-out fit gives a positive weight to a feature that predicts success,
    and each base weighs the same however many questions it has."""
    from benchmarks.faq_lobo import Sample, fit

    def sample(a: float, right: bool) -> Sample:
        return Sample("x", "x" if right else "y", None, {"a": a, "b": 0.5}, False)

    one = [sample(x / 10, x >= 5) for x in range(10)] * 3
    two = [sample(x / 10, x >= 5) for x in range(10)]
    bias, weights = fit([one, two], l2=0.0001)
    assert weights["a"] > 1.0 > abs(weights["b"])
    assert bias < 0


def test_leave_one_base_out_scores_each_base_with_weights_fitted_on_the_others(
    tmp_path: Path,
) -> None:
    """``--lobo`` scores every base once, with a fit that never saw it, and leaves the
    shipped weights in place."""
    from benchmarks.faq_lobo import Base, main, strip
    from commands.faq import confidence

    shipped = dict(confidence.PLAIN_WEIGHTS)
    kb = strip(load_kb())
    questions = {
        "a": (("how do i jion the group", "join-the-group"), ("how do I bake bread", "NONE")),
        "b": (("when is the next meeting", "meetings"), ("what is the capital of peru", "NONE")),
        "c": (("is it free to be a member", "membership-fee"), ("tell me a joke", "NONE")),
    }
    bases = [Base(name, kb, items) for name, items in questions.items()]
    summary = main("plain", bases=bases)
    assert set(summary["bases"]) == {"a", "b", "c"}  # type: ignore[call-overload]
    assert 0.0 <= summary["mean_top1"] <= 1.0  # type: ignore[operator]
    assert shipped == confidence.PLAIN_WEIGHTS
