"""The semantic ranker: each entry's closest phrasing and its answer, by embedding cosine.

Every phrasing of an entry (its question and alternates) and its answer are embedded once
(:mod:`.encoder`); a question then costs one embedding and two matrix-vector products.  An
entry scores ``closest-phrasing cosine + ANSWER_WEIGHT · answer cosine``: the answer carries
the words an organiser did not think to put in the question (a base written with questions
and answers only has nothing else to go on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

import commands.faq.encoder  # noqa: F401  (sets NumPy to one BLAS thread first)
from commands.faq.kb import Entry

if TYPE_CHECKING:
    from commands.faq.encoder import Encoder, Matrix

__all__ = ["SemanticIndex", "entry_texts"]


def entry_texts(entry: Entry) -> list[str]:
    """The texts of an entry that are embedded: its phrasings, then its answer."""
    return [entry.question, *entry.alternates, entry.answer]


class SemanticIndex:
    """The embeddings of every entry's phrasings and answer."""

    def __init__(self, encoder: Encoder, entries: Sequence[Entry]) -> None:
        self.encoder = encoder
        self.size = len(entries)
        phrasings = [
            (i, text) for i, e in enumerate(entries) for text in (e.question, *e.alternates)
        ]
        owner = np.array([i for i, _ in phrasings], dtype=np.int64)
        texts = [text for _, text in phrasings]
        answers = [e.answer for e in entries]
        matrix = encoder.encode([*texts, *answers])
        self.phrasings: Matrix = np.ascontiguousarray(matrix[: len(texts)])
        self.answers: Matrix = np.ascontiguousarray(matrix[len(texts) :])
        # phrasings come grouped by entry, in entry order; every entry has its question
        self.starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner

    def scores(self, text: str) -> tuple[Matrix, Matrix]:
        """Cosine of ``text`` with each entry's closest phrasing, and with its answer."""
        query = self.encoder.encode_one(text)
        if not self.size:
            empty: Matrix = np.zeros(0, dtype=np.float32)
            return empty, empty
        closest: Matrix = np.maximum.reduceat(self.phrasings @ query, self.starts)
        answers: Matrix = self.answers @ query
        return closest, answers
