"""Bluesky's text rules (graphemes and bytes), the record keys we name our posts with, and the
facets of our own text: byte offsets checked against the cases of Bluesky's own detector tests
(bluesky-social/atproto, packages/api/tests/rich-text-detection.test.ts), written anew here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from atproto_client.models.string_formats import TID_RE
from hypothesis import given
from hypothesis import strategies as st

from socialbot.networks.bluesky import rules, tid
from socialbot.networks.bluesky.facets import facets_of

# ---------------------------------------------------------------------------------------------
# Graphemes and bytes

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 25 bytes


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("pothole", 7),
        (FAMILY, 1),  # a ZWJ sequence
        ("\U0001f44d\U0001f3fd", 1),  # 👍🏽 with its skin tone
        ("\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7", 2),  # 🇩🇪🇫🇷: two flags
        (
            "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
            1,
        ),  # 🏴 Scotland
        ("e\u0301", 1),  # e + combining acute
        ("a\u0323\u0302", 1),  # two combining marks
        ("\u0928\u092e\u0938\u094d\u0924\u0947", 3),  # नमस्ते: न म स्ते (a conjunct is one)
        ("\u0915\u094d\u0937\u093f", 1),  # क्षि
        ("\r\n", 1),
        ("한국어", 3),
    ],
)
def test_graphemes(text: str, count: int) -> None:
    assert rules.graphemes(text) == count


def test_measure_holds_both_limits_in_one() -> None:
    assert rules.measure("a" * 300) == 300
    assert rules.BLUESKY_TEXT.fits("a" * 300)
    assert not rules.BLUESKY_TEXT.fits("a" * 301)
    # 120 families: 120 graphemes but 3000 bytes, just in; one more and the bytes are over.
    assert rules.measure(FAMILY * 120) == 300
    assert rules.BLUESKY_TEXT.fits(FAMILY * 120)
    assert not rules.BLUESKY_TEXT.fits(FAMILY * 120 + "a")
    # CJK takes three bytes a character: 300 of them are 900 bytes, graphemes decide.
    assert rules.measure("市" * 300) == 300
    assert rules.measure("e\u0301" * 10) == 10


@given(st.text())
def test_a_text_fits_exactly_when_the_record_takes_it(text: str) -> None:
    record_takes = (
        rules.graphemes(text) <= rules.MAX_GRAPHEMES
        and len(text.encode("utf-8", "surrogatepass")) <= rules.MAX_BYTES
    )
    assert rules.BLUESKY_TEXT.fits(text) == record_takes


def test_the_rules_as_staff_read_them() -> None:
    assert rules.BLUESKY_TEXT.describe() == "Bluesky: 300 graphemes"
    assert rules.BLUESKY_TEXT.addressed("Thanks", "resident.bsky.social") == "Thanks"
    assert rules.BLUESKY_MEDIA.max_bytes == 1_000_000 and rules.BLUESKY_MEDIA.max_count == 4
    names = [
        rules.NOTIFICATIONS,
        rules.CREATE_RECORD,
        rules.GET_RECORD,
        rules.UPLOAD_BLOB,
        rules.GET_POSTS,
        rules.CREATE_SESSION,
        rules.REFRESH_SESSION,
        rules.GET_SESSION,
    ]
    assert all(len(name) <= 64 for name in names) and len(set(names)) == len(names)
    assert rules.ENDPOINTS.post == "POST com.atproto.repo.createRecord"


# ---------------------------------------------------------------------------------------------
# Record keys

WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_a_record_key_is_a_tid_atproto_accepts() -> None:
    key = tid.record_key("outbox-17", WHEN)
    assert len(key) == 13 and tid.is_tid(key)
    assert TID_RE.match(key)  # the SDK's own pattern
    assert tid.tid_time(key) == WHEN


def test_a_record_key_is_the_same_for_the_same_draft() -> None:
    assert tid.record_key("outbox-17", WHEN) == tid.record_key("outbox-17", WHEN)
    # A naive time (as SQLite gives it back) is UTC.
    assert tid.record_key("outbox-17", WHEN.replace(tzinfo=None)) == tid.record_key(
        "outbox-17", WHEN
    )


def test_record_keys_differ_by_key() -> None:
    keys = {tid.record_key(f"outbox-{n}", WHEN) for n in range(20)}
    assert len(keys) == 20  # 10 bits of clock id: these 20 happen not to collide


@given(
    st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.text(),
    st.text(),
)
def test_record_keys_sort_by_time(a: datetime, b: datetime, key_a: str, key_b: str) -> None:
    tid_a, tid_b = tid.record_key(key_a, a), tid.record_key(key_b, b)
    assert tid.is_tid(tid_a) and tid.is_tid(tid_b)
    if a < b:
        assert tid_a < tid_b
    assert tid.tid_time(tid_a) == a


def test_a_time_a_tid_cannot_hold_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        tid.record_key("k", datetime(1969, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError):
        tid.record_key("k", datetime(2300, 1, 1, tzinfo=UTC))
    assert tid.record_key("k", datetime(2255, 1, 1, tzinfo=UTC)) > tid.record_key("k", WHEN)


@pytest.mark.parametrize(
    "value",
    ["", "3jzfcijpj2z2", "3jzfcijpj2z2aa", "zzzzzzzzzzzzz", "3JZFCIJPJ2Z2A", "3jzfcijpj2z1a"],
)
def test_not_tids(value: str) -> None:
    assert not tid.is_tid(value)
    with pytest.raises(ValueError):
        tid.tid_time(value)


def test_a_tid_of_the_spec() -> None:
    # atproto's specification gives 3jzfcijpj2z2a as a TID.
    assert tid.is_tid("3jzfcijpj2z2a")
    assert datetime(2023, 1, 1, tzinfo=UTC) < tid.tid_time("3jzfcijpj2z2a") < WHEN - timedelta(1)


# ---------------------------------------------------------------------------------------------
# Facets


def spans(text: str) -> list[tuple[str, str, str]]:
    """Each facet of `text`: its kind, the bytes it covers (decoded) and its link or tag."""
    found = []
    encoded = text.encode("utf-8")
    for facet in facets_of(text):
        assert facet["$type"] == "app.bsky.richtext.facet"
        index = facet["index"]
        covered = encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8")
        (feature,) = facet["features"]
        kind = feature["$type"].rpartition("#")[2]
        found.append((kind, covered, feature.get("uri") or feature.get("tag")))
    return found


def same(url: str) -> tuple[str, str, str]:
    """A link facet whose text is its link."""
    return ("link", url, url)


LINKS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("start https://middle.com end", [("link", "https://middle.com", "https://middle.com")]),
    (
        "start https://middle.com/foo/bar?baz=bux#hash end",
        [same("https://middle.com/foo/bar?baz=bux#hash")],
    ),
    (
        "https://newline1.com\nhttps://newline2.com",
        [same("https://newline1.com"), same("https://newline2.com")],
    ),
    (
        f"{FAMILY}{FAMILY} https://middle.com {FAMILY}",
        [("link", "https://middle.com", "https://middle.com")],
    ),
    # Without a scheme, on a known TLD: the text as typed, the link with https://.
    (
        "start middle.com/foo/bar end",
        [("link", "middle.com/foo/bar", "https://middle.com/foo/bar")],
    ),
    (
        "newline1.com\nnewline2.com",
        [
            ("link", "newline1.com", "https://newline1.com"),
            ("link", "newline2.com", "https://newline2.com"),
        ],
    ),
    ("not.. a..url ..here", []),
    ("e.g.", []),
    ("something-cool.jpg", []),
    ("website.com.jpg/foo", []),
    (
        "bsky.app/profile#header",
        [("link", "bsky.app/profile#header", "https://bsky.app/profile#header")],
    ),
    # Trailing punctuation is no part of a link; a closing parenthesis only without its opening.
    (
        "punctuation https://foo.com, https://bar.com/whatever; https://baz.com.",
        [
            same("https://foo.com"),
            same("https://bar.com/whatever"),
            same("https://baz.com"),
        ],
    ),
    ("parenthentical (https://foo.com)", [same("https://foo.com")]),
    ("except for https://foo.com/thing_(cool)", [same("https://foo.com/thing_(cool)")]),
    # Multi-byte text before the link moves its bytes, not its characters.
    (
        "Straße: Schlagloch 🕳️ → https://stadt.example/m/7 danke",
        [same("https://stadt.example/m/7")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), LINKS, ids=[t for t, _ in LINKS])
def test_links(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert spans(text) == expected


A64 = "thisisa64characterstring_" + "a" * 39
TAGS: list[tuple[str, list[str], list[tuple[int, int]]]] = [
    ("#a", ["a"], [(0, 2)]),
    ("#a #b", ["a", "b"], [(0, 2), (3, 5)]),
    ("#1", [], []),
    ("#1a", ["1a"], [(0, 3)]),
    ("body #1", [], []),
    ("body #a1", ["a1"], [(5, 8)]),
    ("#", [], []),
    ("#?", [], []),
    ("text # text", [], []),
    (f"body #{A64}", [A64], [(5, 70)]),
    (f"body #{A64}b", [], []),
    (f"body #{A64}!", [A64], [(5, 70)]),
    ("its a #double#rainbow", ["double#rainbow"], [(6, 21)]),
    ("##hashash", ["#hashash"], [(0, 9)]),
    ("##", [], []),
    ("some #n0n3s@n5e!", ["n0n3s@n5e"], [(5, 15)]),
    ("works #with,punctuation", ["with,punctuation"], [(6, 23)]),
    (
        "strips trailing #punctuation, #like. #this!",
        ["punctuation", "like", "this"],
        [(16, 28), (30, 35), (37, 42)],
    ),
    ("strips #multi_trailing___...", ["multi_trailing"], [(7, 22)]),
    ("works with #🦋 emoji, and #butter🦋fly", ["🦋", "butter🦋fly"], [(11, 16), (28, 42)]),
    (
        "#same #same #but #diff",
        ["same", "same", "but", "diff"],
        [(0, 5), (6, 11), (12, 16), (17, 22)],
    ),
    ("this #\ufe0f\u20e3tag should not be a tag", [], []),
    ("this #t\nag should be a tag", ["t"], [(5, 7)]),
    ("zero width: #a\u200bb", ["a"], [(12, 14)]),
    ("match full width number sign (tag): ＃tag", ["tag"], [(36, 42)]),  # noqa: RUF001
    ("no match 1?: #1?", [], []),
    # Ours: a city's tags after multi-byte text (ü: 2 bytes, a family of three: 18).
    ("Bürgersteig kaputt 👨‍👩‍👧 #Gehweg #311", ["Gehweg"], [(39, 46)]),
    ("नमस्ते #सड़क", ["सड़क"], [(19, 32)]),  # Devanagari: 3 bytes a code point
    # A tag ends at a zero-width joiner, as Bluesky's own detector ends it.
    (f"#{FAMILY}", ["\U0001f468"], [(0, 5)]),
]


@pytest.mark.parametrize(("text", "tags", "indices"), TAGS, ids=[t for t, _, _ in TAGS])
def test_tags(text: str, tags: list[str], indices: list[tuple[int, int]]) -> None:
    found = facets_of(text)
    assert [f["features"][0]["tag"] for f in found] == tags
    assert [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in found] == indices
    encoded = text.encode("utf-8")
    for tag, (start, end) in zip(tags, indices, strict=True):
        assert encoded[start:end].decode("utf-8") in ("#" + tag, "＃" + tag)  # noqa: RUF001


def test_a_tag_of_64_graphemes_is_kept_however_many_characters_and_65_is_not() -> None:
    tag = "e\u0301" * 64  # 64 graphemes, 128 code points
    (facet,) = facets_of(f"#{tag} and #{tag}e")
    assert facet["features"][0]["tag"] == tag
    assert facet["index"] == {"byteStart": 0, "byteEnd": 1 + 3 * 64}


def test_cashtags_are_no_city_tags() -> None:
    assert facets_of("pay $5 or $TSLA") == []


def test_links_and_tags_together_in_text_order() -> None:
    text = "🚧 #pothole at https://city.example/r/1 on #MainSt."
    assert spans(text) == [
        ("tag", "#pothole", "pothole"),
        ("link", "https://city.example/r/1", "https://city.example/r/1"),
        ("tag", "#MainSt", "MainSt"),
    ]


@given(st.text(max_size=300))
def test_every_facet_is_a_slice_of_the_text_it_names(text: str) -> None:
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate: no text we would post
    for facet in facets_of(text):
        index: dict[str, Any] = facet["index"]
        covered = encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8")
        (feature,) = facet["features"]
        if "tag" in feature:
            assert covered[0] in "#＃" and covered[1:] == feature["tag"]  # noqa: RUF001
        else:
            assert feature["uri"] in (covered, "https://" + covered)
