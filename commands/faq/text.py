"""Reading text for the lexical ranker: normalisation, words, stems, synonyms, related words.

Text is NFKD-decomposed, accents are dropped and it is casefolded; apostrophes are removed
(``group's`` → ``groups``).  Letters and digits form tokens; runs of CJK characters become
character bigrams.  English function words are dropped, a light suffix stemmer folds plurals
and common endings, a hand-written map of the domain merges abbreviations, phrases and word
families, and groups of *related* words give a soft query expansion (see :mod:`.lexical`).
Question words are kept as *weak* terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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


def phrasing_key(text: str) -> str:
    """A phrasing's words, for exact matches (so even "what do you know about me" matches
    the alternate an organiser added for it)."""
    return " ".join(_words(normalise(text)))


def _key(term: _Term) -> str:
    return "~" + term.stem if term.weak else term.stem
