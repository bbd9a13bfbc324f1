"""socialbot.address: an address in words, found conservatively; any text read without a fault."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.address import MAX_SCANNED_CHARS, AddressKind, FoundAddress, find_address

STREET, CROSSING = AddressKind.STREET, AddressKind.INTERSECTION


@pytest.mark.parametrize(
    ("text", "written", "query", "kind"),
    [
        ("#pothole at 123 Main St", "123 Main St", "123 Main St", STREET),
        ("123 Main Street Apt 4 is flooded", "123 Main Street Apt 4", "123 Main Street", STREET),
        ("123 Main St, Apt 4B", "123 Main St, Apt 4B", "123 Main St", STREET),
        ("huge hole in front of 12 St. James Ave. today", "12 St. James Ave.", None, STREET),
        ("1600 Pennsylvania Ave NW, Washington", "1600 Pennsylvania Ave NW", None, STREET),
        ("45 W Broadway St", "45 W Broadway St", None, STREET),
        ("123 main st pothole huge", "123 main st", None, STREET),
        ("12 Elm Way", "12 Elm Way", None, STREET),
        ("pothole 42 Elm St.Thanks", "42 Elm St.", None, STREET),
        ("Calle Main 123", "Calle Main 123", None, STREET),
        ("Camino Real 45 tiene un bache", "Camino Real 45", None, STREET),
        ("bache en Av. Juárez #45", "Av. Juárez #45", None, STREET),
        ("Calle de la Paz No. 12", "Calle de la Paz No. 12", None, STREET),
        ("Main and 5th", "Main and 5th", "Main & 5th", CROSSING),
        ("Main St & 5th Ave", "Main St & 5th Ave", "Main St & 5th Ave", CROSSING),
        ("main & 5th", "main & 5th", "main & 5th", CROSSING),
        ("Main St at 5th Ave", "Main St at 5th Ave", "Main St & 5th Ave", CROSSING),
        ("Elm St and Oak is dark", "Elm St and Oak", "Elm St & Oak", CROSSING),
        ("corner of Elm and Oak", "Elm and Oak", "Elm & Oak", CROSSING),
        (
            "on the corner of Tremont St and Hollis",
            "Tremont St and Hollis",
            "Tremont St & Hollis",
            CROSSING,
        ),
        (
            "Blue Hill Ave and Morton St",
            "Blue Hill Ave and Morton St",
            "Blue Hill Ave & Morton St",
            CROSSING,
        ),
        ("esquina de Main y 5th", "Main y 5th", "Main & 5th", CROSSING),
        ("bache en la esquina de Main y 5th", "Main y 5th", "Main & 5th", CROSSING),
        ("Calle Main y Calle 5", "Calle Main y Calle 5", "Calle Main & Calle 5", CROSSING),
    ],
)
def test_an_address_as_people_write_it(
    text: str, written: str, query: str | None, kind: AddressKind
) -> None:
    assert find_address(text) == FoundAddress(written, query or written, kind)


@pytest.mark.parametrize(
    "text",
    [
        "salt and pepper",
        "Tom and Jerry",
        "rock and roll",
        "me and 5th",
        "thanks and 5th time",
        "I reported this 3 times and nothing",
        "I am at Main St and it is bad",
        "3 big dogs on the way",
        "2 new street lights",
        "we need 10 more Main street lights",
        "I waited 2 hours at the park",
        "5 potholes on Main St",  # a count, and a street with no number: no address
        "12 elm way",  # a lower-case full word is only a word
        "123 Way",
        "camino 2 veces",
        "esquina con Reforma",  # one street is no corner
        "Tremont and West Newton?",  # neither side plainly a street: asked, not guessed
        "#MainSt #5thAve and #Elm",
        "@main and @5th",
        "see https://example.com/123/Main_St and 5th",
        "call 311 or 617 555 0100",
        "",
    ],
)
def test_no_address_rather_than_a_wrong_one(text: str) -> None:
    assert find_address(text) is None


def test_a_numbered_street_wins_over_an_intersection_and_the_first_one_counts() -> None:
    found = find_address("Main and 5th, near 12 Elm St and 40 Oak Ave")
    assert found == FoundAddress("12 Elm St", "12 Elm St", STREET)


def test_hashtags_handles_and_links_are_never_part_of_an_address() -> None:
    assert find_address("123 #Main St") is None
    assert find_address("@city 123 Main St") == FoundAddress("123 Main St", "123 Main St", STREET)
    assert find_address("123 https://x.example/Main St") is None
    assert find_address("@main@mastodon.social and 5th") is None


def test_a_line_or_a_sentence_ends_an_address() -> None:
    assert find_address("at 123\nMain St") is None
    assert find_address("I live at 12. Main St is bad") is None


def test_only_the_scanned_part_of_a_long_text_is_read() -> None:
    assert find_address("x " * MAX_SCANNED_CHARS + "123 Main St") is None


# Words an address is made of, and words that are not, so that hypothesis puts them together.
_PIECES = st.sampled_from(
    [
        "123", "12-14", "5th", "Main", "main", "St", "St.", "Street", "Ave", "and", "&", "y",
        "/", "at", "Calle", "Av.", "de", "la", "corner", "of", "esquina", "Apt", "#", "4B",
        "N", "W", "Way", "the", "big", ",", ".", "\n", "#pothole", "@city", "https://a.io/x",
        "é", "İ", "ß", "\u2019", "\u2212", "١٢٣", "Ⅻ", "\x00", " ",
    ]
)  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_PIECES, max_size=40).map(" ".join) | st.text(max_size=300))
def test_any_text_is_an_address_it_holds_or_none(text: str) -> None:
    found = find_address(text)
    if found is None:
        return
    collapsed = " ".join(text.split())
    assert found.text and found.query
    assert found.text in collapsed  # as written: the resident's own words
    assert "@" not in found.text and "://" not in found.text
    assert not re.search(r"(?<!\w)#\w*[^\W\d_]", found.text)  # no hashtag
    assert "\n" not in found.text and len(found.text) <= MAX_SCANNED_CHARS


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["a.", "1 ", "Main and ", "# ", "@", "corner of ", "Calle "]))
def test_hostile_repetition_is_read_to_the_end(unit: str) -> None:
    find_address(unit * 5_000)  # cut at MAX_SCANNED_CHARS, then linear: no stall, no error
