"""The names of the FAQ's ranking methods, apart from the engine (:mod:`.index`), so that the
service can read its setting at start-up without importing the engine, which it builds once
the bot is ready."""

from __future__ import annotations

#: Ranking methods: the lexical engine alone, or with multilingual embeddings.
METHODS = ("plain", "hybrid")
# earlier names of the embedding method, still accepted in configs
_ALIASES = {"semantic": "hybrid", "multilingual": "hybrid"}


def resolve_method(method: str) -> str:
    """``semantic`` → ``hybrid``; a ValueError for an unknown method."""
    resolved = _ALIASES.get(method, method)
    if resolved not in METHODS:
        raise ValueError(f"unknown FAQ method {method!r} (expected one of: plain, hybrid)")
    return resolved
