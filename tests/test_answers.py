"""The answer words of the five languages (chatbot.dispatch.answers) and the prompts that
read them outside dialogues: a case study's consent and licence."""

from __future__ import annotations

import pytest

from chatbot.base.errors import UserError
from chatbot.dispatch.answers import CANCEL, CONFIRM, MAYBE, NO, SKIP, YES, answer_key, is_yes
from commands.casestudies.fields import consent, licence


def test_answer_key_ignores_case_accents_and_a_full_stop() -> None:
    assert answer_key("  Sí. ") == answer_key("si") == "si"
    assert answer_key("Peut-Être!") == "peut-etre"
    assert answer_key("D’accord") == "d'accord"


def test_the_sets_do_not_overlap() -> None:
    """A word is one answer only: "no" is a no in English, Spanish and Portuguese, never a
    skip or a cancel; no yes is a no or a maybe."""
    assert not (YES & NO) and not (YES & MAYBE) and not (NO & MAYBE)
    assert "no" in NO and "no" not in SKIP | CANCEL | CONFIRM
    for word in ("sí", "sim", "oui", "ja", "yes"):
        assert is_yes(word), word
    for word in ("não", "nao", "non", "nein"):
        assert answer_key(word) in NO, word


@pytest.mark.parametrize("word", ["yes", "sí", "si", "sim", "oui", "ja", "I agree"])
def test_consent_in_any_language(word: str) -> None:
    assert consent(word) is True


def test_consent_and_licence_refuse_a_no() -> None:
    with pytest.raises(UserError, match="Say yes to agree"):
        consent("non")
    assert licence("sim") == "CC-BY-SA-4.0"
    assert licence("cc0 ja") == "CC0-1.0"
    with pytest.raises(UserError):
        licence("nein")
