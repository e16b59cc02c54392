"""Knowledge-base question answering: rank a base's entries for a question, or abstain.

Two methods, the same answers API (:meth:`FaqIndex.ask`):

* ``hybrid`` (the default when the model package is installed): the lexical ranker
  (:mod:`.lexical`: BM25F, closest-phrasing word overlap, character n-grams, typo repair,
  the domain's synonyms and related words) and multilingual sentence embeddings
  (:mod:`.encoder`, :mod:`.semantic`) of every entry's phrasings and answer.  Each entry
  scores ``closest-phrasing cosine + ANSWER_WEIGHT · answer cosine + LEXICAL_WEIGHT ·
  lexical score / best lexical score``.  A question in Spanish, French, German, Portuguese
  (or any language the model knows) is matched to the English entries through the
  embeddings alone, and answered with the entry's translation when the base has one (an
  entry in that language whose id is the English id plus ``.<lang>``, e.g.
  ``join-the-group.es``).
* ``plain``: the lexical ranker alone, with no model (a millisecond a question, English
  only); the fallback when the model package is absent.

The confidence (:mod:`.confidence`) is a logistic combination of scale-free features of the
best entry (embedding cosines, the lead over the runner-up, whether the lexical and semantic
rankings agree, the share of the question's informative words the entry covers…), fitted
across several independently written knowledge bases and checked leave-one-base-out
(``benchmarks/faq_eval.py --lobo``).  A question that is word for word one of an entry's
phrasings is answered at once; one (much like) a near-miss of the base is declined.
Entries in a language of their own (``lang = "fr"``) answer questions in that language
lexically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commands.faq import confidence as conf
from commands.faq.kb import (
    DEFAULT_KB_PATH,
    Entry,
    KbError,
    KnowledgeBase,
    dump_kb,
    load_kb,
    load_kbs,
    parse_kb,
)
from commands.faq.language import _LATIN_STOPWORDS, detect_language, small_talk
from commands.faq.lexical import LexFeatures, LexicalIndex, Ranking
from commands.faq.methods import METHODS, resolve_method
from commands.faq.text import _key, _Term, normalise, phrasing_key

if TYPE_CHECKING:
    from commands.faq.encoder import Encoder
    from commands.faq.semantic import SemanticIndex

__all__ = [
    "DEFAULT_KB_PATH",
    "DEFAULT_THRESHOLD",
    "METHODS",
    "Answer",
    "Candidate",
    "Entry",
    "FaqIndex",
    "KbError",
    "KnowledgeBase",
    "detect_language",
    "dump_kb",
    "load_kb",
    "load_kbs",
    "normalise",
    "parse_kb",
    "phrasing_key",
    "resolve_method",
    "small_talk",
]

#: Confidence below which the plain method abstains.
DEFAULT_THRESHOLD = conf.PLAIN_THRESHOLD

# Hybrid ranking: closest-phrasing cosine + ANSWER_WEIGHT * answer cosine + LEXICAL_WEIGHT *
# lexical score / best lexical score (module values, read at each call: the benchmark's
# leave-one-base-out mode chooses them on the other bases).
ANSWER_WEIGHT = 0.5
SENTENCE_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.3
# Offer as "see also" the entries within this much of the best hybrid score.
_SEE_ALSO_GAP = 0.08
_SEE_ALSO_RATIO = 0.8
_DEPTH = 30


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
    score.  ``language`` is the detected language code of a non-English question, else None;
    ``translation`` is the answered entry in that language, when the base has it.
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
    translation: Entry | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the engine makes of one question before the threshold: the index used, its
    ranking, and either a fixed confidence (an exact phrasing: 1; declined, nothing found: 0)
    or the features the confidence is computed from."""

    index: LexicalIndex | None
    language: str | None
    order: tuple[tuple[int, float], ...] = ()
    fixed: float | None = 0.0
    features: dict[str, float] | None = None
    hybrid: bool = False

    @property
    def confidence(self) -> float:
        if self.fixed is not None or self.features is None:
            return 0.0 if self.fixed is None else self.fixed
        if self.hybrid:
            return conf.hybrid_confidence(self.features)
        return conf.plain_confidence(self.features)


def _declined(index: LexicalIndex, key: str, features: LexFeatures | None) -> bool:
    """The question is (much like) one the base says it does not answer."""
    return key in index.near_exact or (
        features is not None
        and features.near_miss >= conf.NEAR_MISS_DECLINE
        and features.near_miss > features.similarity + conf.NEAR_MISS_LEAD
    )


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
        encoder: Encoder | None = None,
    ) -> None:
        self.method = resolve_method(method)
        self.kb = kb
        if threshold is None:
            threshold = conf.HYBRID_THRESHOLD if self.method == "hybrid" else DEFAULT_THRESHOLD
        self.threshold = threshold
        self.max_see_also = max_see_also
        self.max_nearest = max_nearest
        by_lang: dict[str, list[Entry]] = {}
        for entry in kb.entries:
            by_lang.setdefault(entry.lang.split("-")[0], []).append(entry)
        self._indexes = {
            # the hybrid method has NumPy: the character n-grams are scored with it
            lang: LexicalIndex(
                entries,
                _LATIN_STOPWORDS.get(lang, frozenset()),
                vectorised=self.method == "hybrid",
            )
            for lang, entries in by_lang.items()
        }
        self._semantic: SemanticIndex | None = None
        english = self._indexes.get("en")
        if self.method == "hybrid" and english is not None:
            # NumPy and the model are only imported when the method is chosen
            from commands.faq.encoder import load_encoder
            from commands.faq.semantic import SemanticIndex

            self._semantic = SemanticIndex(encoder or load_encoder(), english.entries)

    @classmethod
    def from_path(cls, path: str | Path = DEFAULT_KB_PATH, **options: Any) -> FaqIndex:
        """Load a knowledge-base file and index it."""
        return cls(load_kb(path), **options)

    # -- ranking -----------------------------------------------------------------------------

    def assess(self, text: str) -> Assessment:
        """Rank the entries for ``text`` and work out the confidence's inputs."""
        if small_talk(text):
            return Assessment(None, None)
        english = self._indexes.get("en")
        language = detect_language(text, english.vocabulary if english else ())
        own = self._indexes.get(language or "en")
        if self._semantic is not None and english is not None and own is not english:
            # another language: the English entries through the embeddings, then (if that
            # is not confident) the entries written in that language, if any
            found = self._assess_in(english, text, language)
            if own is None or found.confidence >= self.threshold:
                return found
        if own is None:
            return Assessment(None, language)
        return self._assess_in(own, text, language)

    def _assess_in(self, index: LexicalIndex, text: str, language: str | None) -> Assessment:
        key = phrasing_key(text)
        terms = index.terms(text)
        ranking = index.rank(terms, text)
        exact = index.exact.get(key)
        if exact is not None:
            # the question is one of the entry's phrasings, word for word
            rest = tuple((i, s) for i, s in ranking.order if i != exact)
            top = ranking.order[0][1] if ranking.order else 1.0
            return Assessment(index, language, ((exact, max(top, 1.0)), *rest), fixed=1.0)
        hybrid = self._semantic is not None and index is self._indexes.get("en")
        # the hybrid method needs the lexical features only for the near-miss check
        wanted = ranking.order and (not hybrid or index.near_weights)
        features = index.features(terms, ranking) if wanted else None
        if _declined(index, key, features):
            return Assessment(index, language, ranking.order, fixed=0.0)
        if hybrid:
            foreign = language is not None and language != "en"
            return self._hybrid(index, text, terms, ranking, language, foreign=foreign)
        if features is None:
            return Assessment(index, language, ranking.order, fixed=0.0)
        return Assessment(index, language, ranking.order, fixed=None, features=features.as_dict())

    def _hybrid(
        self,
        index: LexicalIndex,
        text: str,
        terms: list[_Term],
        ranking: Ranking,
        language: str | None,
        *,
        foreign: bool,
    ) -> Assessment:
        """Embedding cosines of every entry plus a share of the lexical score."""
        import numpy as np

        assert self._semantic is not None
        closest, answers, parts = self._semantic.scores(text)
        semantic = closest + ANSWER_WEIGHT * answers + SENTENCE_WEIGHT * parts
        combined = semantic.astype(np.float64)
        lexical_top = ranking.order[0][1] if ranking.order else 0.0
        lexical = dict(ranking.order)
        if lexical_top > 0:
            for i, s in ranking.order:
                combined[i] += LEXICAL_WEIGHT * s / lexical_top
        depth = min(_DEPTH, len(combined))
        top = np.argpartition(-combined, depth - 1)[:depth] if depth < len(combined) else None
        picked = range(len(combined)) if top is None else (int(i) for i in top)
        order = tuple(
            sorted(((i, float(combined[i])) for i in picked), key=lambda kv: (-kv[1], kv[0]))
        )
        best = order[0][0]
        runner_up = order[1][1] if len(order) > 1 else 0.0
        spread = float(semantic.std()) or 1.0
        others = np.delete(semantic, best)
        values: dict[str, float] = {
            "cosine": float(closest[best]),
            "answer": float(answers[best]),
            "sentence": float(parts[best]),
            "lead": order[0][1] - runner_up,
            "semlead": float(semantic[best] - others.max()) if len(others) else 0.0,
            "lexical": lexical.get(best, 0.0) / lexical_top if lexical_top > 0 else 0.0,
            "spread": (float(semantic[best]) - float(semantic.mean())) / spread,
            "agree": 0.0,
            "coverage": 0.0,
            "similarity": 0.0,
            "phrasing": 0.0,
            "chars": 0.0,
            "margin": 0.0,
            "unknown": 0.0,
            "missing": 0.0,
            "length": 0.0,
            "foreign": 1.0 if foreign else 0.0,
        }
        if foreign:
            values["lexical"] = 0.0
        else:
            found = index.features(terms, Ranking(order, ranking.similarity, ranking.chars))
            lexical_features = found.as_dict()
            values.update(
                {
                    k: lexical_features[k]
                    for k in conf.HybridFeatures.__slots__
                    if k in lexical_features
                }
            )
            values["agree"] = 1.0 if ranking.order and ranking.order[0][0] == best else 0.0
        return Assessment(index, language, order, fixed=None, features=values, hybrid=True)

    # -- answering ---------------------------------------------------------------------------

    def ask(self, text: str) -> Answer:
        """Answer ``text``, or abstain with the nearest topics when not confident."""
        found = self.assess(text)
        index, language = found.index, found.language
        if index is None:
            # small talk, or no entry in the member's language and no model to bridge it
            nearest: tuple[Entry, ...] = ()
            fallback = self._indexes.get("en")
            if language is not None and fallback is not None:
                order = fallback.rank(fallback.terms(text), text).order
                nearest = tuple(fallback.entries[i] for i, _ in order[: self.max_nearest])
            return Answer(text, None, 0.0, 0.0, True, nearest=nearest, language=language)
        order = found.order
        if not order:
            return Answer(text, None, 0.0, 0.0, True, language=language)
        confidence = found.confidence
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
        floor = top - _SEE_ALSO_GAP if found.hybrid else _SEE_ALSO_RATIO * top
        see_also = tuple(
            index.entries[i] for i, s in order[1 : 1 + self.max_see_also] if s >= floor
        )
        entry = index.entries[order[0][0]]
        translation = self.translation(entry, language)
        original = self._original(entry)
        if original is not None:  # a translation, found in its own language
            entry, translation = original, entry
        return Answer(
            text,
            entry,
            confidence,
            top,
            False,
            see_also=see_also,
            language=language,
            candidates=candidates,
            translation=translation,
        )

    def translation(self, entry: Entry, language: str | None) -> Entry | None:
        """The entry in ``language``, when the base has it (id ``<id>.<lang>``)."""
        if language is None or entry.lang.split("-")[0] == language:
            return None
        found = self.kb.get(f"{entry.id}.{language}")
        return found if found is not None and found.lang.split("-")[0] == language else None

    def _original(self, entry: Entry) -> Entry | None:
        """The entry ``entry`` translates (``join.es`` translates ``join``), if any."""
        stem, dot, lang = entry.id.rpartition(".")
        if not dot or entry.lang.split("-")[0] != lang:
            return None
        return self.kb.get(stem)

    def features(self, text: str) -> tuple[str | None, dict[str, float] | None]:
        """The best-ranked entry id and its confidence features (None for an exact match,
        a declined question or no candidate); for fitting the confidence."""
        found = self.assess(text)
        if found.index is None or not found.order:
            return None, None
        return found.index.entries[found.order[0][0]].id, found.features

    def explain(self, text: str) -> dict[str, object]:
        """Debugging aid: the analysed terms, the ranking and the confidence features."""
        found = self.assess(text)
        index = found.index
        if index is None:
            return {"language": found.language, "terms": [], "ranked": []}
        result: dict[str, object] = {
            "language": found.language or "en",
            "terms": [_key(t) for t in index.terms(text)],
            "ranked": [(index.entries[i].id, round(s, 3)) for i, s in found.order[:5]],
        }
        if found.features is not None:
            result.update({k: round(v, 3) for k, v in found.features.items()})
        elif found.fixed == 1.0:
            result["exact"] = True
        result["confidence"] = round(found.confidence, 3)
        return result
