"""The words members answer the bot's questions with, in English, Spanish, French, Portuguese
and German: yes, no, maybe, none, and a dialogue's confirm, cancel, back, skip and help.

One place for them, so that every prompt accepts the same answers: dialogues
(:mod:`chatbot.dispatch.dialogs`), ``!rsvp 3 sim`` (a :class:`~chatbot.dispatch.converters.Choice`
with :data:`YES_NO_MAYBE` as aliases), ``!forgetme confirmar``, a case study's consent.  Words
are compared by :func:`answer_key`: lower case, without accents or a closing full stop, so
``Sí``, ``si`` and ``sí.`` are one answer.  ``no`` is "no" in English, Spanish and Portuguese
alike, so it is only ever a no.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final

from chatbot.base.i18n import Msg, _p, verbatim


@lru_cache(maxsize=4096)
def answer_key(text: str) -> str:
    """``text`` as answers are compared: trimmed, lower case, no accents, no final ``.!``.
    Kept for the words that come back (the options of a choice, compared on every answer;
    the few words members answer with)."""
    key = " ".join(text.split()).casefold().rstrip(".!").replace("’", "'")
    if key.isascii():
        return key
    decomposed = unicodedata.normalize("NFD", key)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _keys(words: str) -> frozenset[str]:
    return frozenset(answer_key(w.replace("_", " ")) for w in words.split())


#: yes: en, es, fr, pt, de ("sí" and "si" are one key)
YES: Final = _keys("yes y yeah yep sí claro vale sim oui ja jawohl")
#: no
NO: Final = _keys("no n nope não non nein")
#: maybe
MAYBE: Final = _keys(
    "maybe perhaps quizás quizá tal_vez a_lo_mejor talvez peut-être peutetre vielleicht"
)
#: a dialogue's last step: the answers are right, save them (every yes counts)
CONFIRM: Final = YES | _keys(
    "confirm submit ok okay save done confirmar enviar guardar listo confirmer envoyer "
    "enregistrer valider d'accord salvar pronto bestätigen senden speichern fertig"
)
#: go ahead with what can't be undone (``!forgetme confirm``): "confirm" in a language, or yes
CONFIRM_IRREVERSIBLE: Final = YES | _keys("confirm confirmar confirmer bestätigen")
#: stop the dialogue, nothing saved
CANCEL: Final = _keys(
    "cancel stop quit abort cancelar parar salir anular annuler arrêter quitter sair "
    "abbrechen stopp beenden"
)
#: the previous question
BACK: Final = _keys("back previous undo atrás volver anterior retour précédent voltar zurück")
#: nothing: no value at all (``!meeting minutes 3 none`` removes the link)
NONE: Final = _keys("none - n/a ninguno ninguna nada aucun aucune rien nenhum nenhuma keine nichts")
#: leave an optional question unanswered
SKIP: Final = NONE | _keys("skip saltar omitir passer sauter pular überspringen")
#: what is this question about
HELP: Final = _keys("help ? what? ayuda aide ajuda hilfe")

#: switch something on (``!remind me on``, ``!remind me activar``); every yes counts too
ON: Final = YES | _keys(
    "on enable activar activado encender activer activé allumer ativar ativado ligar "
    "an ein einschalten aktivieren"
)
#: switch it off (``!remind me off``, ``!remind me aus``); every no counts too
OFF: Final = NO | _keys(
    "off disable desactivar desactivado apagar désactiver désactivé éteindre desativar "
    "desativado desligar aus ausschalten deaktivieren"
)

#: every one of them (``!faq list all``, ``!faq list todo``)
ALL: Final = _keys("all everything todo todos todas tout tous toutes tudo alle alles")

#: the words a member may also type as a command in a dialogue (``!cancel``, ``!atrás``)
KEYWORDS: Final = CANCEL | BACK | SKIP | HELP

#: aliases for a ``Literal["yes", "no", "maybe"]`` argument (``!rsvp 3 sim``)
YES_NO_MAYBE: Final = {"yes": YES, "no": NO, "maybe": MAYBE}
#: aliases for a ``Literal["on", "off"]`` argument (``!remind me activar``)
ON_OFF: Final = {"on": ON, "off": OFF}


#: each dialogue keyword as a member is told to type it, in their language: one word of
#: the set it names, so what the bot shows is what it accepts (``tests/test_dialogs.py``
#: checks every catalog's translation against :data:`ACCEPTED`)
SHOWN_KEYWORDS: Final[dict[str, Msg]] = {
    "yes": _p("dialogue keyword", "yes"),
    "no": _p("dialogue keyword", "no"),
    "maybe": _p("dialogue keyword", "maybe"),
    "none": _p("dialogue keyword", "none"),
    "back": _p("dialogue keyword", "back"),
    "skip": _p("dialogue keyword", "skip"),
    "help": _p("dialogue keyword", "help"),
    "cancel": _p("dialogue keyword", "cancel"),
    "on": _p("switch keyword, as in '!remind me on'", "on"),
    "off": _p("switch keyword, as in '!remind me off'", "off"),
    "all": _p("keyword for every one, as in '!faq list all'", "all"),
    "confirm": _p(
        "keyword that goes ahead with what can't be undone, as in '!forgetme confirm'", "confirm"
    ),
}
#: the words each shown keyword stands for
ACCEPTED: Final = {
    "yes": YES,
    "no": NO,
    "maybe": MAYBE,
    "none": NONE,
    "back": BACK,
    "skip": SKIP,
    "help": HELP,
    "cancel": CANCEL,
    "on": ON,
    "off": OFF,
    "all": ALL,
    "confirm": CONFIRM_IRREVERSIBLE,
}


def keyword(name: str) -> Msg:
    """A keyword to type, as a code span in the reader's language: ``keyword("skip")`` is
    "`skip`" in English and "`saltar`" in Spanish (a message's placeholder value)."""
    return verbatim("`{word}`", word=SHOWN_KEYWORDS[name])


def keywords(*names: str) -> dict[str, Msg]:
    """Placeholder values for ``names``: ``_("Say {yes} or {cancel}.", **keywords("yes",
    "cancel"))``."""
    return {name: keyword(name) for name in names}


def is_none(text: str) -> bool:
    """Whether ``text`` means "none" in one of the five languages (``nada``, ``aucun``)."""
    return answer_key(text) in NONE


def is_yes(text: str) -> bool:
    """Whether ``text`` says yes in one of the five languages."""
    return answer_key(text) in YES


def is_confirm(text: str) -> bool:
    """Whether ``text`` confirms (``confirm``, ``confirmar``, ``bestätigen``, any yes)."""
    return answer_key(text) in CONFIRM
