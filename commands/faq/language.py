"""Which language a question is in, and whether it is a question at all.

:func:`detect_language` is cheap by design: the Unicode script of the letters first, then
function-word votes among a few Latin-script languages.  :func:`small_talk` tells a greeting or
thanks ("hello bot!") from a question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Literal

from commands.faq.text import _STOPWORDS, _TOKEN_SYNONYMS, _WORD_RE, _wordset, normalise

# Unicode script name prefix → language code (the most likely one; a pointer, not a verdict).
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("HANGUL", "ko"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("GREEK", "el"),
    ("DEVANAGARI", "hi"),
    ("BENGALI", "bn"),
    ("GURMUKHI", "pa"),
    ("GUJARATI", "gu"),
    ("TAMIL", "ta"),
    ("TELUGU", "te"),
    ("KANNADA", "kn"),
    ("MALAYALAM", "ml"),
    ("SINHALA", "si"),
    ("THAI", "th"),
    ("LAO", "lo"),
    ("KHMER", "km"),
    ("MYANMAR", "my"),
    ("GEORGIAN", "ka"),
    ("ARMENIAN", "hy"),
    ("ETHIOPIC", "am"),
)

_ENGLISH_HINTS = _wordset(
    """
    a about and any are as at be but by can could did do does for from group has have how
    i if in is it its me my not of on or our please should tell that the there this to
    was we what when where which who why will with would you your help join meeting
    """
)

# Small lists of frequent function words, accents removed; words that are also English are
# removed below, so "me", "a", "come" or "die" never vote against English.  They are also the
# stopwords of entries in that language.
_FUNCTION_WORDS = {
    "es": """el la los las un una unos unas del al que de y en por para con como cual cuando
             donde quien porque esta estan estoy es son soy hay puedo puede podemos quiero
             quisiera necesito tengo tiene mi mis tu tus su sus nuestro nuestra hola gracias
             usted ustedes tambien pero muy este esto ese eso sobre hacer""",
    "fr": """le la les un une des du de et est sont je tu il elle nous vous ils elles que qui
             quoi quand comment pourquoi ou ce cet cette ces mon ma mes ton ta tes son sa ses
             notre votre leur dans pour avec sur pas puis peux peut pouvez voudrais suis avez
             bonjour merci quelle quel quels quelles aussi mais tres faire faut ai""",
    "pt": """o os a as um uma uns umas do da dos das de e em no na nos nas por para com como
             qual quando onde quem que porque esta estao sou eu voce voces ele ela nos meu minha
             seu sua nosso nossa posso pode podemos quero gostaria preciso tenho tem faco fazer
             ola oi tudo bem obrigado obrigada tambem mas muito isso este""",
    "de": """der die das den dem des ein eine einen einem einer und ist sind ich du er sie wir
             ihr wie was wann wo warum wer welche welcher kann konnen mochte mochten bitte danke
             hallo mit fur auf von zu nicht auch aber sehr mein meine unser unsere gibt es ob""",
    "it": """il lo la i gli le un una uno del della dei delle di e che chi come quando dove
             perche cosa sono sei siamo posso puo possiamo vorrei voglio ho hai ha mio mia
             nostro nostra ciao grazie anche ma molto questo questa per con su tra fra""",
    "nl": """de het een en is zijn ik jij je wij we hoe wat wanneer waar waarom wie welke kan
             kunnen wil graag van voor met op aan niet ook maar heel hallo bedankt dank mijn
             onze""",
    "id": """apa apakah bagaimana kapan dimana di mana siapa mengapa kenapa yang dan atau ini
             itu untuk dengan dari ke dalam pada saya kami kita anda bisa dapat boleh mau ingin
             cara terima kasih halo tidak juga adalah ada""",
    "sw": """na ya wa kwa ni je nini gani wapi lini vipi nani hii hiki hili huu mimi wewe sisi
             ninaweza naweza ninawezaje nawezaje habari jambo asante tafadhali kuna katika
             lakini au pia kama yangu yako""",
}
# Frequent content words of questions to this bot: they vote for a language but stay content.
_HINT_WORDS = {
    "es": "grupo reunion informe anual proxima unirme",
    "fr": "groupe reunion prochaine rejoindre",
    "pt": "grupo reuniao participar proxima",
    "de": "gruppe treffen nachste nachstes beitreten",
    "it": "gruppo riunione prossima iscrivermi",
    "nl": "groep vergadering volgende lid worden",
    "id": "grup kelompok pertemuan berikutnya bergabung",
    "sw": "kujiunga kikundi mkutano ujao",
}
_LATIN_STOPWORDS: dict[str, frozenset[str]] = {
    lang: _wordset(words) - _ENGLISH_HINTS - _STOPWORDS for lang, words in _FUNCTION_WORDS.items()
}
_LATIN_VOTERS: dict[str, frozenset[str]] = {
    lang: stopwords | (_wordset(_HINT_WORDS[lang]) - _ENGLISH_HINTS - _STOPWORDS)
    for lang, stopwords in _LATIN_STOPWORDS.items()
}
# Characters that point to one language (after casefolding, before accents are removed).
_TELLTALE: dict[str, str] = {
    "ñ": "es",
    "¿": "es",
    "¡": "es",
    "ã": "pt",
    "õ": "pt",
    "ß": "de",
    "œ": "fr",
}
_LETTER_RE = re.compile(r"[^\W\d_]")


def detect_language(text: str, known: Collection[str] = ()) -> str | None:
    """A language code when ``text`` is recognisably not English, else None.

    Cheap by design: the Unicode script of the letters first, then function-word votes
    among a few Latin-script languages.  Short or ambiguous text counts as English, and so
    does a short question whose only foreign-looking words are ``known`` to the English base
    ("WiR meaning?" is not German).
    """
    letters = _LETTER_RE.findall(text)
    if not letters:
        return None
    non_ascii = [c for c in letters if not c.isascii()]
    if non_ascii:
        votes: dict[str, int] = {}
        for c in non_ascii:
            name = unicodedata.name(c, "")
            if name.startswith("LATIN"):
                continue
            for prefix, lang in _SCRIPTS:
                if name.startswith(prefix):
                    votes[lang] = votes.get(lang, 0) + 1
                    break
        if votes:
            lang, count = max(votes.items(), key=lambda kv: kv[1])
            if count * 2 >= len(letters):
                if lang == "zh" and ("ja" in votes):
                    return "ja"
                if lang == "ru" and any(c in "іїєґ" for c in text.casefold()):
                    return "uk"
                if lang == "ar" and any(c in "پچژگ" for c in text):
                    return "fa"
                return lang
    lowered = text.casefold()
    words = _WORD_RE.findall(normalise(text))
    if not words:
        return None
    english = sum(1 for w in words if w in _ENGLISH_HINTS)
    scores: dict[str, float] = {}
    for lang, voters in _LATIN_VOTERS.items():
        hits = sum(1 for w in words if w in voters)
        if hits:
            scores[lang] = hits
    for c, lang in _TELLTALE.items():
        if c in lowered and lang in scores:
            scores[lang] += 1.5
    if not scores:
        return None
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    if best >= 2 and best > english:
        return lang
    if english == 0 and best >= 1 and best * 2 >= len(words) and len("".join(words)) >= 4:
        voters = _LATIN_VOTERS[lang]
        if any(w in voters and w not in known and w not in _TOKEN_SYNONYMS for w in words):
            return lang
    return None


_FIRST_GREETING = frozenset(
    ("hi", "hello", "hey", "hiya", "howdy", "yo", "hola", "salut", "bonjour", "ciao", "hallo")
)
_THANKS = frozenset(("thanks", "thank", "thx", "ty", "cheers"))
_GREETINGS = (
    _FIRST_GREETING
    | _THANKS
    | frozenset(
        (
            *("bye", "goodbye", "good", "morning", "afternoon", "evening", "night", "you", "bot"),
            *("there", "all", "everyone", "folks", "much", "lot", "a", "so", "very", "great"),
        )
    )
)


def small_talk(text: str) -> Literal["greeting", "thanks"] | None:
    """ "hi", "hello bot", "thanks bot!": a greeting or thanks with no question in it."""
    words = [w.strip(".,!:;()") for w in normalise(text).replace("?", " ").split()]
    words = [w for w in words if w]
    if "from" in words[1:] and len(words) - words.index("from") <= 4:
        words = words[: words.index("from")]  # "hello from Nairobi!"
    if not words or len(words) > 5 or "?" in text:
        return None
    if words[0] not in _FIRST_GREETING | _THANKS or not all(w in _GREETINGS for w in words):
        return None
    return "thanks" if any(w in _THANKS for w in words) else "greeting"
