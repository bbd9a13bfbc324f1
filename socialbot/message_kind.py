"""What kind of message a resident's words are, when they name no category: a thank-you, a
question, a question about their case's status. Pure and deliberately simple: a rule staff can
predict, on the catalog's folding (no accents, no case), in English and Spanish.

These decide only where a message goes, never what a case says: a thank-you is recorded and left
alone, a question that answers.yaml cannot answer waits for staff without a reply, and only a
status question in a case's thread gets the case's status.
"""

from __future__ import annotations

import regex

from socialbot.catalog import normalize_tag

# @handles (X's and Mastodon's user@domain), links and #hashtag marks are not the resident's words.
_NOT_WORDS = regex.compile(r"@[\w.@-]+|https?://\S+|www\.\S+")
_WORD = regex.compile(r"[\p{L}\p{N}']+")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_QUESTION_MARKS = ("?", "\uff1f", "\u00bf")  # ?, the full-width ? of CJK keyboards, ¿

_THANKS = _set("thanks thank thx ty tysm thankyou gracias grax muchas mil appreciate appreciated")
# What a thank-you may also hold ("thank you so much, great job!"), and nothing else. Not "fix":
# "thanks, fix it already" is a nudge for staff, not a thank-you.
_THANKS_COMPANY = _set(
    """you u so very much a lot great job work awesome amazing perfect ok okay cool nice
    the team crew crews all for to it this that guys folks again really quick fast fixing
    de por todo la el su muy buen bueno trabajo equipo excelente rapido perfecto vale
    gracias muchisimas muchas mil and y i we love was is were that's thats it's its super soon
    already fixed done arreglado resuelto fue"""
)
_QUESTION_WORDS = _set(
    """what when where who whom whose why how which is are am can could do does did will would
    should shall may have has any anyone que cuando donde quien por como cual cuanto puedo
    puede pueden hay tienen es estan"""
)
# A question is about a case's progress when it names the status or one of these.
_STATUS_WORDS = _set("status estado update updates news progress novedad novedades")
_WHEN = _set("when cuando")
_DONE_WORDS = _set(
    """fix fixed fixing repair repaired repairing done resolved finished yet
    arreglan arreglado arreglada arreglar reparan reparado reparada reparar resuelto listo
    terminado"""
)
# A status word outside a question is asking only in a message this short ("status update
# please"): in a longer one it is part of what the resident tells staff.
MAX_BARE_STATUS_WORDS = 3
# The longest thank-you we recognise, in words: beyond it, a message says something more.
MAX_THANKS_WORDS = 10


def words(text: str) -> list[str]:
    """The resident's words of `text`, folded (no accents, no case), without @handles, links and
    '#' marks (a hashtag's word stays)."""
    return [normalize_tag(w) for w in _WORD.findall(_NOT_WORDS.sub(" ", text))]


def is_thanks(text: str) -> bool:
    """A thank-you and nothing more ("thanks!", "¡Muchas gracias! 👍", "🙏"), or no words at all:
    nothing for staff to do. A thank-you that asks something is not one."""
    if any(mark in text for mark in _QUESTION_MARKS):
        return False
    said = words(text)
    if not said:
        return True
    if len(said) > MAX_THANKS_WORDS or not any(w in _THANKS for w in said):
        return False
    return all(w in _THANKS or w in _THANKS_COMPANY for w in said)


def is_question(text: str) -> bool:
    """A question: a '?' or '¿' anywhere, or a first word that asks ("when is pickup")."""
    if any(mark in text for mark in _QUESTION_MARKS):
        return True
    said = words(text)
    return bool(said) and said[0] in _QUESTION_WORDS


def asks_status(text: str) -> bool:
    """A question about a case's progress: it names the status ("status?", "¿estado?", "any
    update?", or just "status"), or asks when it will be done ("when will it be fixed?",
    "¿cuándo lo arreglan?"). "Can you also fix the sidewalk?" is not one: it asks something new,
    for staff; nor is "the status says closed but it is still there", which tells them."""
    folded = words(text)
    said = set(folded)
    asked = is_question(text)
    # Not in a statement: "Update: the hole got bigger" is news for staff, not a question.
    if said & _STATUS_WORDS and (asked or len(folded) <= MAX_BARE_STATUS_WORDS):
        return True
    if not asked:
        return False
    return "yet" in said or bool(said & _WHEN and said & _DONE_WORDS)


def language_of(text: str, said: str | None, otherwise: str) -> str:
    """The language to answer `text` in: Spanish if its words plainly are ("¿estado?"), else the
    network's word for it (`said`), else `otherwise`. The words come first: Mastodon's language
    is the author's default, whatever they wrote."""
    if speaks_spanish(text):
        return "es"
    said = (said or "").lower()[:2]
    return said if said in ("en", "es") else otherwise


def speaks_spanish(text: str) -> bool:
    """Whether a short message is plainly Spanish by its words, where the network did not say
    ("¿estado?", "¿cuándo lo arreglan?")."""
    said = set(words(text))
    return bool(said & _SPANISH_MARKERS) or "\u00bf" in text or "\u00a1" in text


_SPANISH_MARKERS = _set(
    """estado gracias cuando donde que por favor novedad novedades arreglan arreglado reparado
    hola buenas buenos dias tardes noches calle esta todavia aun ya"""
)


# A message's sentences, each with the marks that end it; and the words that add one more thing.
_SENTENCE = regex.compile(r"([^.!?;\n\uff1f]+)([.!?;\n\uff1f]*)")
_ONE_MORE_THING = regex.compile(
    r"\b(?:also|plus|but|tambien|también|pero|ademas|además)\b", regex.IGNORECASE
)
# A part shorter than this says nothing of its own ("hi!", "ok so", "hola").
MIN_WORDS_SAID = 3


def says_more(text: str) -> bool:
    """Whether a question says something more that is neither a question nor a thank-you: "is it
    a snow emergency? my street hasn't been plowed", "any update? also the sidewalk is cracked".
    An answer to the question would leave that unheard: staff must see it too."""
    plain = _NOT_WORDS.sub(" ", text).replace("\u00bf", ". ").replace("\u00a1", ". ")
    for chunk in _ONE_MORE_THING.split(plain):
        for sentence, ends in _SENTENCE.findall(chunk):
            said = words(sentence)
            asked = "?" in ends or "\uff1f" in ends or (bool(said) and said[0] in _QUESTION_WORDS)
            if len(said) >= MIN_WORDS_SAID and not asked and not is_thanks(sentence):
                return True
    return False
