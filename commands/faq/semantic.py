"""The semantic ranker: each entry's closest phrasing, its answer and the answer's closest
sentence, by embedding cosine.

Every phrasing of an entry (its question and alternates), its answer and each sentence of
the answer are embedded once (:mod:`.encoder`); a question then costs one embedding and a few
matrix-vector products.  The answer carries the words an organiser did not think to put in
the question (a base written with questions and answers only has nothing else to go on), and
its closest sentence the one detail a member asks about.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import commands.faq.encoder  # noqa: F401  (sets NumPy to one BLAS thread first)
from commands.faq.kb import Entry

if TYPE_CHECKING:
    from commands.faq.encoder import Encoder, Matrix

__all__ = ["SemanticIndex", "entry_texts"]


_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


def sentences(answer: str) -> list[str]:
    """The sentences of an answer (the whole answer when it is one)."""
    parts = [p.strip() for p in _SENTENCE_END.split(answer) if len(p.strip()) > 3]
    return parts or [answer]


def entry_texts(entry: Entry) -> list[str]:
    """The texts of an entry that are embedded: its phrasings, its answer and the answer's
    sentences."""
    return [entry.question, *entry.alternates, entry.answer, *sentences(entry.answer)]


class SemanticIndex:
    """The embeddings of every entry's phrasings and answer."""

    def __init__(self, encoder: Encoder, entries: Sequence[Entry]) -> None:
        self.encoder = encoder
        self.size = len(entries)
        phrasings = [
            (i, text) for i, e in enumerate(entries) for text in (e.question, *e.alternates)
        ]
        parts = [(i, text) for i, e in enumerate(entries) for text in sentences(e.answer)]
        texts = [text for _, text in phrasings]
        answers = [e.answer for e in entries]
        pieces = [text for _, text in parts]
        matrix = encoder.encode([*texts, *answers, *pieces])
        n, m = len(texts), len(answers)
        # one matrix, one product a question; the three kinds of rows are slices of it
        self.matrix: Matrix = np.ascontiguousarray(matrix)
        self._slices = (slice(0, n), slice(n, n + m), slice(n + m, len(matrix)))
        # rows come grouped by entry, in entry order; every entry has a question and a sentence
        self.starts = _starts([i for i, _ in phrasings])
        self.sentence_starts = _starts([i for i, _ in parts])

    def scores(self, text: str) -> tuple[Matrix, Matrix, Matrix]:
        """Cosine of ``text`` with each entry's closest phrasing, its answer and the answer's
        closest sentence."""
        query = self.encoder.encode_one(text)
        if not self.size:
            empty: Matrix = np.zeros(0, dtype=np.float32)
            return empty, empty, empty
        sims = self.matrix @ query
        phrasings, answers, sentences = (sims[part] for part in self._slices)
        closest: Matrix = np.maximum.reduceat(phrasings, self.starts)
        parts: Matrix = np.maximum.reduceat(sentences, self.sentence_starts)
        return closest, answers, parts


def _starts(owner: list[int]) -> Any:
    """Where each entry's rows start (rows grouped by entry)."""
    array = np.array(owner, dtype=np.int64)
    if not len(array):
        return array
    return np.flatnonzero(np.r_[True, array[1:] != array[:-1]])
