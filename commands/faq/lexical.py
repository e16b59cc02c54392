"""The lexical ranker: BM25F, closest-phrasing word overlap and character n-grams.

Three signals, each robust to a different kind of unseen wording:

* **BM25F** over four fields of each entry — question (weight 3), alternates (2), tags
  (1.5) and answer (1) — with per-field length normalisation; postings hold the final
  per-term contribution, so a question costs a few dictionary look-ups and additions;
* the idf-weighted **Dice overlap** between the question and the entry's closest single
  phrasing (its question or one alternate, question words included);
* the **character 3-gram TF-IDF cosine** between the question's content words and the
  closest phrasing (:mod:`.chargrams`): robust to morphology, compounds and typos.

The candidates of BM25F and of the n-gram index (30 each) are re-ranked by
``0.4 · BM25F/best + 0.35 · word similarity + 0.25 · n-gram similarity``.  The same index
also works out the scale-free features the confidence is made of (:class:`LexFeatures`).
A query word the base never uses is repaired to a vocabulary word when it is a probable typo
(rapidfuzz, optimal string alignment distance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from commands.faq.chargrams import CharGramIndex
from commands.faq.kb import Entry
from commands.faq.text import (
    _MIN_FUZZY_LEN,
    _RELATED,
    _STEM_FAMILIES,
    _STOPWORDS,
    _TOKEN_SYNONYMS,
    _WEAK,
    _analyse_words,
    _key,
    _Term,
    _words,
    normalise,
    phrasing_key,
    stem,
)

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
# A query word found only in an entry's answer counts this much towards coverage.
_ANSWER_ONLY_CREDIT = 0.6
_SEE_ALSO_RATIO = 0.8


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, slots=True)
class LexFeatures:
    """Scale-free signals about the best candidate of one question."""

    coverage: float  # idf-weighted share of the question's content words the entry has
    similarity: float  # weighted word overlap (Dice) with the entry's closest phrasing
    phrasing: float  # largest share of one phrasing found in the question
    chars: float  # character n-gram cosine with the closest phrasing
    unknown: float  # idf-weighted share of the question's words the base never uses
    margin: float  # relative lead of the best ranking score over the best other-topic entry
    near_miss: float  # weighted word overlap (Dice) with the closest near-miss of any entry
    missing: float = 0.0  # idf of the rarest question word the entry lacks, relative to the top
    length: float = 0.0  # content words in the question, in tens

    def as_dict(self) -> dict[str, float]:
        return {
            "missing": self.missing,
            "length": self.length,
            "coverage": self.coverage,
            "similarity": self.similarity,
            "phrasing": self.phrasing,
            "chars": self.chars,
            "unknown": self.unknown,
            "margin": self.margin,
            "near_miss": self.near_miss,
        }


@dataclass(frozen=True, slots=True)
class _Query:
    """A question's keys with their weights, for phrasing overlaps."""

    weights: dict[str, float]
    keys: frozenset[str]
    related: tuple[tuple[str, float, tuple[str, ...]], ...]  # key, discounted weight, related
    total: float


@dataclass(frozen=True, slots=True)
class Ranking:
    """Candidates of one query, best first, with their per-entry similarities."""

    order: tuple[tuple[int, float], ...]
    similarity: Mapping[int, float]
    chars: Mapping[int, float]


class LexicalIndex:
    """The index over the entries of one language.

    BM25F postings over four fields, per-phrasing term sets (question and each alternate on
    its own) and an inverted index of character n-grams over the phrasings (``vectorised``:
    scored with NumPy, for a caller that has it).
    """

    def __init__(
        self, entries: Sequence[Entry], stopwords: frozenset[str], *, vectorised: bool = False
    ) -> None:
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

        self.chargrams = CharGramIndex(
            [(i, self._char_words(text)) for i, text in phrasing_texts], vectorised=vectorised
        )
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
        return self.chargrams.scores(self._char_words(text))

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

    def rank(self, terms: Sequence[_Term], text: str) -> Ranking:
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
            return Ranking((), {}, {})
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
        return Ranking(tuple(scored), similarity, chars)

    def features(self, terms: Sequence[_Term], ranking: Ranking) -> LexFeatures:
        best, top = ranking.order[0]
        total = matched = unknown = missing = 0.0
        title, everything = self.title_terms[best], self.all_terms[best]
        content = {t.stem for t in terms if not t.weak}
        for t in content:
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
            else:
                missing = max(missing, w)
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
        return LexFeatures(
            coverage=coverage,
            similarity=ranking.similarity.get(best, 0.0),
            phrasing=min(1.0, phrasing),
            chars=ranking.chars.get(best, 0.0),
            unknown=unknown / total if total else 0.0,
            margin=margin,
            near_miss=self.near_miss(query),
            missing=missing / self.unknown_idf if self.unknown_idf else 0.0,
            length=len(content) / 10,
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
