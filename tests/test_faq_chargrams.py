"""The character n-gram index: a typo still finds its phrasing, with or without NumPy."""

from __future__ import annotations

import os

import pytest

from commands.faq.chargrams import CharGramIndex

PHRASINGS = [
    (0, ["join", "group"]),
    (0, ["become", "member"]),
    (1, ["meeting", "schedule"]),
    (2, ["membership", "fee"]),
    (3, ["wikidata", "catalogue"]),
]


@pytest.mark.parametrize("vectorised", [False, True])
def test_a_misspelt_word_finds_the_entry_it_belongs_to(vectorised: bool) -> None:
    index = CharGramIndex(PHRASINGS, vectorised=vectorised)
    scores = index.scores(["meetting", "shedule"])
    assert max(scores, key=scores.__getitem__) == 1
    assert index.scores([]) == {}


def test_numpy_scores_are_the_pure_python_ones() -> None:
    if os.environ.get("CI", "").lower() != "true":  # under CI a missing NumPy fails
        pytest.importorskip("numpy")
    plain, fast = CharGramIndex(PHRASINGS), CharGramIndex(PHRASINGS, vectorised=True)
    for words in (["jion", "grup"], ["catalog", "wikidata"], ["membr", "fees"], ["zzz"]):
        expected, got = plain.scores(words), fast.scores(words)
        assert set(got) == set(expected)
        assert all(got[i] == pytest.approx(expected[i]) for i in expected)
