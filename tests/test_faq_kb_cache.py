"""The parse cache of knowledge-base files (commands/faq/kb.py): a base read before is not
parsed again at start-up, and a changed, bad or unreadable file is never served from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.faq import kb as kb_module
from commands.faq.kb import (
    DEFAULT_KB_PATH,
    Entry,
    KbError,
    KnowledgeBase,
    dump_kb,
    load_kb,
    parse_kb,
)


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*_args: object, **_kw: object) -> KnowledgeBase:
        raise AssertionError("parsed again")

    monkeypatch.setattr(kb_module, "parse_kb", parse)


def _write(path: Path, *entries: Entry) -> None:
    path.write_text(dump_kb(KnowledgeBase(entries)), encoding="utf-8")


def test_a_base_read_before_comes_from_the_cache(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_kb(DEFAULT_KB_PATH)
    assert list((cache_home / "wmlib-chatbot").glob("faq-kb-*.marshal"))
    assert not list((cache_home / "wmlib-chatbot").glob(".faq-kb-*"))  # no temporary left
    _no_parsing(monkeypatch)
    again = load_kb(DEFAULT_KB_PATH)
    assert again == first
    assert again.get("join-the-group") == first.get("join-the-group")


def test_an_edited_file_is_parsed_again(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kb.toml"
    _write(path, Entry("a", "Q?", "Old answer."))
    assert load_kb(path).entries[0].answer == "Old answer."
    _write(path, Entry("a", "Q?", "New answer."))
    assert load_kb(path).entries[0].answer == "New answer."
    _no_parsing(monkeypatch)  # both texts are cached now
    _write(path, Entry("a", "Q?", "Old answer."))
    assert load_kb(path).entries[0].answer == "Old answer."


def test_a_bad_file_is_never_served_from_the_cache(cache_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "kb.toml"
    _write(path, Entry("a", "Q?", "A."))
    load_kb(path)
    path.write_text(path.read_text(encoding="utf-8") + "\n[[entry]]\nid = 'b'\n")
    with pytest.raises(KbError, match="missing field 'question'") as info:
        load_kb(path)
    assert info.value.source == str(path)


def test_a_damaged_cache_file_is_parsed_again_and_rewritten(
    cache_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "kb.toml"
    _write(path, Entry("a", "Q?", "A."))
    load_kb(path)
    (cache_file,) = (cache_home / "wmlib-chatbot").glob("faq-kb-*.marshal")
    cache_file.write_bytes(b"not a cache")
    assert load_kb(path).get("a") == Entry("a", "Q?", "A.")
    assert cache_file.read_bytes() != b"not a cache"


def test_cached_entries_of_the_wrong_shape_are_not_used(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows whose values are not the strings an entry holds (a file from elsewhere) are
    ignored, and the text parsed."""
    path = tmp_path / "kb.toml"
    _write(path, Entry("a", "Q?", "A."))
    key = kb_module._cache_key(path.read_text(encoding="utf-8"))
    assert key is not None
    from chatbot.base import diskcache

    diskcache.write(kb_module._cache_path(), {key: [("a", "Q?", 42, (), (), "en", ())]})
    assert load_kb(path).get("a") == Entry("a", "Q?", "A.")


def test_an_unwritable_cache_directory_only_costs_the_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert load_kb(DEFAULT_KB_PATH) == parse_kb(DEFAULT_KB_PATH.read_text(encoding="utf-8"))


def test_the_cache_keeps_only_the_latest_bases(cache_home: Path, tmp_path: Path) -> None:
    for i in range(kb_module.CACHED_BASES + 3):
        path = tmp_path / f"kb{i}.toml"
        _write(path, Entry("a", f"Question {i}?", "A."))
        load_kb(path)
    assert len(kb_module._cached_bases()) == kb_module.CACHED_BASES


def test_a_lone_surrogate_is_still_refused() -> None:
    """The quicker check (encoding) finds what the character loop found."""
    with pytest.raises(KbError, match="lone surrogate"):
        KnowledgeBase((Entry("a", "Q\ud800?", "A."),))
    assert KnowledgeBase((Entry("a", "¿Qué? 日本 😀", "A."),))


def test_without_its_source_installed_nothing_is_cached(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb_module, "__file__", str(cache_home / "gone" / "kb.py"))
    kb_module._code_digest.cache_clear()
    try:
        assert load_kb(DEFAULT_KB_PATH).get("join-the-group") is not None
        assert not (cache_home / "wmlib-chatbot").exists()
    finally:
        kb_module._code_digest.cache_clear()
