"""The `TextRules` an SMS reply is measured by: a limit in segments, not characters.

A text of any length can be sent as SMS (carriers join the segments), but each segment is
billed and a long one arrives late or in pieces on older phones, so replies are held to a few
segments: `DEFAULT_MAX_SEGMENTS` until the SMS settings name another. The measure is
`segments.segments`, so `fits`, `length` and `describe` ("SMS: 3 segments") need nothing new.
What segments are not is a sum of words: `by_words=False`, and `threads.split_thread` refuses
these rules rather than cut a long text into texts of two words each (how an alert longer than
its segments is sent is for the broadcasts of the SMS channel to decide).
"""

from __future__ import annotations

from socialbot.sms import segments
from socialbot.text_rules import TextRules

NETWORK = "SMS"
# Four: the shipped Spanish "filed" reply with its storm line (UCS-2 for its accents, 67 units a
# segment) takes four at the longest storm name and hashtag; three would refuse the shipped
# templates at start-up in every city that runs SMS.
DEFAULT_MAX_SEGMENTS = 4


def sms_text_rules(max_segments: int = DEFAULT_MAX_SEGMENTS) -> TextRules:
    """SMS's rules for texts of at most `max_segments` segments (at least 1)."""
    if max_segments < 1:
        raise ValueError(f"max_segments: must be at least 1, got {max_segments}")
    return TextRules(
        network=NETWORK,
        limit=max_segments,
        measure=segments.segments,
        unit="segments",
        mention_author=False,  # a text goes to its number; no name is needed to reach it
        by_words=False,
    )


SMS_TEXT = sms_text_rules()
