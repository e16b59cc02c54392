"""Stored embeddings of the knowledge base's texts, so each text is embedded once.

One ``faq_vectors`` row per (model, text): the key is the SHA-256 of the text, the value its
embedding as little-endian float32 bytes.  An instance that (re)builds its index reads the
vectors of the texts it has not embedded yet, embeds only the rest and stores them, so a
restart or a second instance embeds nothing, and an edit embeds only the edited texts.
Rows are never wrong (a text's vector depends on the text and the model only), so no
transaction ties them to the entries; texts no longer in the base are dropped after an
import (:meth:`VectorStore.prune`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from chatbot.storage.models import Base, UtcDateTime

if TYPE_CHECKING:
    from chatbot.storage import Database

__all__ = ["FaqVectorRow", "VectorStore", "text_key"]

# rows read or written per statement (bound parameters stay well under every limit)
_CHUNK = 400


class FaqVectorRow(Base):
    """The embedding of one knowledge-base text by one model."""

    __tablename__ = "faq_vectors"

    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the text
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


def text_key(text: str) -> str:
    """The key of a text's vector."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorStore:
    """Reads and writes ``faq_vectors``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, model: str, texts: Collection[str]) -> dict[str, Any]:
        """The stored vectors of ``texts`` (those that have one), as float32 arrays."""
        import numpy as np

        by_key = {text_key(t): t for t in texts}
        keys = list(by_key)
        found: dict[str, Any] = {}
        async with self.db.sessions() as session:
            for start in range(0, len(keys), _CHUNK):
                rows = await session.execute(
                    select(FaqVectorRow.key, FaqVectorRow.vector).where(
                        FaqVectorRow.model == model,
                        FaqVectorRow.key.in_(keys[start : start + _CHUNK]),
                    )
                )
                for key, blob in rows:
                    found[by_key[key]] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    async def save(self, model: str, vectors: Mapping[str, Any]) -> None:
        """Store new vectors (a text another instance stored meanwhile is left as it is)."""
        if not vectors:
            return
        import numpy as np

        now = self.db.clock.now()
        rows = {text_key(t): np.asarray(v, dtype="<f4").tobytes() for t, v in vectors.items()}
        values = [
            {"model": model, "key": key, "vector": blob, "created_at": now}
            for key, blob in rows.items()
        ]
        async with self.db.session() as session:
            # INSERT … ON CONFLICT DO NOTHING: two instances (or two edits at once) embedding
            # the same new text never collide on its key; the first one's row stays
            if session.get_bind().dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
            for start in range(0, len(values), _CHUNK // 4):
                chunk = values[start : start + _CHUNK // 4]
                await session.execute(
                    insert(FaqVectorRow)
                    .values(chunk)
                    .on_conflict_do_nothing(index_elements=["model", "key"])
                )

    async def prune(self, model: str, keep: Collection[str]) -> None:
        """Drop the vectors of texts no longer in the base (and of other models)."""
        wanted = {text_key(t) for t in keep}
        async with self.db.session() as session:
            await session.execute(delete(FaqVectorRow).where(FaqVectorRow.model != model))
            stored = set(
                await session.scalars(select(FaqVectorRow.key).where(FaqVectorRow.model == model))
            )
            stale = list(stored - wanted)
            for start in range(0, len(stale), _CHUNK):
                await session.execute(
                    delete(FaqVectorRow).where(
                        FaqVectorRow.model == model,
                        FaqVectorRow.key.in_(stale[start : start + _CHUNK]),
                    )
                )
