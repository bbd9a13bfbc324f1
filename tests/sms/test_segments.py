"""SMS encodings and segments (3GPP TS 23.038; 160/153 septets, 70/67 UTF-16 units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.sms import segments
from socialbot.sms.rules import SMS_TEXT, sms_text_rules
from socialbot.sms.segments import Encoding, SmsMeasure, gsm7_septets, measure, parts
from socialbot.threads import split_thread

GSM_BASIC = sorted(segments.GSM7_CHARACTERS - set("\f^{}\\[]~|€"))
GSM_EXTENSION = sorted("\f^{}\\[]~|€")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsMeasure(Encoding.GSM7, 0, 0)),
        ("a" * 160, SmsMeasure(Encoding.GSM7, 160, 1)),
        ("a" * 161, SmsMeasure(Encoding.GSM7, 161, 2)),
        ("a" * 306, SmsMeasure(Encoding.GSM7, 306, 2)),
        ("a" * 307, SmsMeasure(Encoding.GSM7, 307, 3)),
        # é, ñ, ¿, ü, à are in the default alphabet: Spanish often stays GSM-7 ...
        ("é" * 160, SmsMeasure(Encoding.GSM7, 160, 1)),
        ("¿Dónde?", SmsMeasure(Encoding.UCS2, 7, 1)),  # ... but ó is not, and nor is á, í, ú
        ("¿Qué pasó?", SmsMeasure(Encoding.UCS2, 10, 1)),
        ("¿Año?", SmsMeasure(Encoding.GSM7, 5, 1)),
        ("á" * 70, SmsMeasure(Encoding.UCS2, 70, 1)),
        ("á" * 71, SmsMeasure(Encoding.UCS2, 71, 2)),
        ("a" * 159 + "á", SmsMeasure(Encoding.UCS2, 160, 3)),  # one á: the whole text UCS-2
        # The extension table: two septets each.
        ("€", SmsMeasure(Encoding.GSM7, 2, 1)),
        ("€" * 80, SmsMeasure(Encoding.GSM7, 160, 1)),
        ("€" * 81, SmsMeasure(Encoding.GSM7, 162, 2)),
        ("{[~]}|^\\\f", SmsMeasure(Encoding.GSM7, 18, 1)),
        # Emoji outside the BMP are a surrogate pair: two units.
        ("😀", SmsMeasure(Encoding.UCS2, 2, 1)),
        ("😀" * 35, SmsMeasure(Encoding.UCS2, 70, 1)),
        ("😀" * 36, SmsMeasure(Encoding.UCS2, 72, 2)),
        ("☀", SmsMeasure(Encoding.UCS2, 1, 1)),  # in the BMP: one unit
        ("\ud83d", SmsMeasure(Encoding.UCS2, 1, 1)),  # a lone surrogate: one code unit
        ("`", SmsMeasure(Encoding.UCS2, 1, 1)),  # the backtick has no GSM-7 code
        ("ç", SmsMeasure(Encoding.UCS2, 1, 1)),  # only capital Ç is 0x09
    ],
)
def test_known_vectors(text: str, expected: SmsMeasure) -> None:
    assert measure(text) == expected


def test_an_escape_pair_is_never_split_between_segments() -> None:
    # 152 septets, then € (2): it does not fit in the first 153 and moves whole to the second.
    text = "a" * 152 + "€" + "a" * 10
    assert measure(text) == SmsMeasure(Encoding.GSM7, 164, 2)
    assert parts(text) == ("a" * 152, "€" + "a" * 10)
    # 306 septets would fill two segments of 153 exactly; the moved € makes it three.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text) == SmsMeasure(Encoding.GSM7, 306, 3)
    assert parts(text) == ("a" * 152, "€" + "a" * 151, "a")
    text = "a" * 153 + "€" + "a" * 151  # the € at a boundary that has room: two
    assert measure(text) == SmsMeasure(Encoding.GSM7, 306, 2)


def test_a_surrogate_pair_is_never_split_between_segments() -> None:
    text = "á" * 66 + "😀" + "á" * 66  # 134 units ≤ 134, yet the emoji cannot straddle 66|67
    assert measure(text) == SmsMeasure(Encoding.UCS2, 134, 3)
    assert parts(text) == ("á" * 66, "😀" + "á" * 65, "á")


def test_the_septets_of_gsm7_text() -> None:
    assert gsm7_septets("@£$") == bytes((0x00, 0x01, 0x02))
    assert gsm7_septets("ÆæßÉ") == bytes((0x1C, 0x1D, 0x1E, 0x1F))
    assert gsm7_septets("A€") == bytes((0x41, 0x1B, 0x65))
    assert gsm7_septets("¡¿à") == bytes((0x40, 0x60, 0x7F))
    with pytest.raises(ValueError, match=r"text: 'á' \(U\+00E1\) has no GSM-7 code"):
        gsm7_septets("á")


def test_the_default_alphabet_is_127_characters_and_the_extension_ten() -> None:
    assert len(GSM_BASIC) == 127
    assert sorted(gsm7_septets("".join(GSM_BASIC))) == sorted(set(range(128)) - {0x1B})


def test_sms_rules_measure_in_segments() -> None:
    assert SMS_TEXT.describe() == "SMS: 4 segments"
    assert SMS_TEXT.fits("a" * 612) and not SMS_TEXT.fits("a" * 613)
    assert SMS_TEXT.fits("á" * 268) and not SMS_TEXT.fits("á" * 269)
    assert SMS_TEXT.length("a" * 161) == 2
    assert sms_text_rules(1).fits("a" * 160) and not sms_text_rules(1).fits("a" * 161)
    with pytest.raises(ValueError, match="max_segments: must be at least 1, got 0"):
        sms_text_rules(0)


gsm_text = st.text(st.sampled_from(GSM_BASIC + GSM_EXTENSION), max_size=700)


@given(st.text(max_size=600))
def test_measure_never_raises_and_parts_rejoin(text: str) -> None:
    found = measure(text)
    assert found.segments == len(parts(text))
    assert "".join(parts(text)) == text
    if found.encoding is Encoding.UCS2:
        assert found.units == len(text.encode("utf-16-le", "surrogatepass")) // 2


@given(st.text(max_size=400), st.text(max_size=400))
def test_segments_are_monotone_in_length(text: str, more: str) -> None:
    # Across encodings too: a UCS-2 segment holds 67 characters, a GSM-7 one of escapes only
    # 76, so the text one character turns UCS-2 never takes fewer segments than before.
    assert measure(text + more).segments >= measure(text).segments


@given(gsm_text)
def test_gsm7_counts_match_the_text_reencoded(text: str) -> None:
    found = measure(text)
    assert found.encoding is Encoding.GSM7
    assert found.units == len(gsm7_septets(text))
    capacity = 160 if found.units <= 160 else 153
    for index, part in enumerate(parts(text)):
        septets = gsm7_septets(part)
        assert len(septets) <= capacity
        assert septets[-1:] != b"\x1b"  # no part ends inside an escape
        if index + 1 < found.segments:  # greedy: the next character would not have fitted
            nxt = parts(text)[index + 1][0]
            assert len(septets) + len(gsm7_septets(nxt)) > capacity


@given(st.text(max_size=500).filter(lambda t: not segments.GSM7_CHARACTERS.issuperset(t)))
def test_ucs2_parts_hold_at_most_their_units(text: str) -> None:
    found = measure(text)
    capacity = 70 if found.units <= 70 else 67
    for part in parts(text):
        assert len(part.encode("utf-16-le", "surrogatepass")) // 2 <= capacity


def test_a_thread_is_never_split_by_segments() -> None:
    # Filled word by word, each word "1 segment", it would make texts of two words each.
    with pytest.raises(ValueError, match="SMS's segments are not measured by words: no thread"):
        split_thread("The water main on Elm Street is shut off until Friday. " * 20, rules=SMS_TEXT)
