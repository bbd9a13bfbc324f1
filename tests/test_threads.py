"""Splitting a long broadcast into a numbered thread X accepts, without cutting what must stay
whole (links, hashtags, emoji, accented letters)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from socialbot._urls import find_urls
from socialbot.hashtags import extract_hashtags
from socialbot.networks.x.rules import X_TEXT
from socialbot.text import is_valid_post, weighted_length
from socialbot.text_rules import TextRules
from socialbot.threads import TooLongToSplit, split_thread
from tests.made_up import TINY

STORM = (
    "Winter storm Sandy reaches Boston tonight. Snow emergency parking ban starts at 6 pm: move "
    "cars off main arteries or they will be towed. City Hall closes at noon and schools are "
    "closed tomorrow.\n\n"
    "Warming centers open at 5 pm at the BCYF community centers in Roxbury, Dorchester, East "
    "Boston and Hyde Park. Bring medicine, chargers and ID. Pets on a leash are welcome. Check on "
    "your elderly neighbors and keep hydrants and catch basins clear of snow. Report unplowed "
    "streets with #plowing or call 311. Updates at boston.gov/winter and on this account every "
    "hour until the storm has passed."
)
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
FLAG = "🇲🇽"
THUMB = "👍🏽"


def graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def chunks_of(posts: list[str], tail: str = "") -> list[str]:
    """The text of each post, after checking it ends with the tail and its place in the thread."""
    chunks = []
    for index, post in enumerate(posts, 1):
        suffix = f"{tail} {index}/{len(posts)}"
        assert post.endswith(suffix), (post, suffix)
        chunks.append(post.removesuffix(suffix))
    return chunks


def assert_postable(posts: list[str], limit: int = X_TEXT.limit) -> None:
    for post in posts:
        assert weighted_length(post) <= limit, post
        assert is_valid_post(post), post


def assert_nothing_lost(text: str, chunks: list[str], *, words_cut: bool = False) -> None:
    """Every character cluster of the original, whole and in order, and the same words unless
    a word too long for any post had to be cut."""
    if not words_cut:
        assert " ".join(chunks).split() == text.split()
    visible = [g for g in graphemes(text) if not g.isspace()]
    assert [g for chunk in chunks for g in graphemes(chunk) if not g.isspace()] == visible
    for chunk in chunks:
        assert chunk == chunk.strip()


def test_a_short_text_is_one_post_unnumbered() -> None:
    assert split_thread("  Snow emergency until 6 am.\n", rules=X_TEXT) == [
        "Snow emergency until 6 am."
    ]


def test_the_tail_is_appended_to_a_short_text() -> None:
    assert split_thread("Snow emergency until 6 am.", tail=" #BoSandy", rules=X_TEXT) == [
        "Snow emergency until 6 am. #BoSandy"
    ]


def test_a_text_that_fits_exactly_is_not_split() -> None:
    text = "x" * 271
    assert split_thread(text, tail=" #BoSandy", rules=X_TEXT) == [text + " #BoSandy"]
    assert len(split_thread("x" * 272, tail=" #BoSandy", rules=X_TEXT)) == 2


def test_a_long_text_ends_its_parts_at_a_paragraph_then_a_sentence() -> None:
    posts = split_thread(STORM, tail=" #BoSandy", rules=X_TEXT)

    assert posts == [
        "Winter storm Sandy reaches Boston tonight. Snow emergency parking ban starts at 6 pm: "
        "move cars off main arteries or they will be towed. City Hall closes at noon and schools "
        "are closed tomorrow. #BoSandy 1/3",
        "Warming centers open at 5 pm at the BCYF community centers in Roxbury, Dorchester, East "
        "Boston and Hyde Park. Bring medicine, chargers and ID. Pets on a leash are welcome. "
        "Check on your elderly neighbors and keep hydrants and catch basins clear of snow. "
        "#BoSandy 2/3",
        "Report unplowed streets with #plowing or call 311. Updates at boston.gov/winter and on "
        "this account every hour until the storm has passed. #BoSandy 3/3",
    ]
    assert [weighted_length(post) for post in posts] == [207, 266, 157]
    assert_postable(posts)


def test_a_paragraph_break_beats_a_later_line_break_and_sentence() -> None:
    first = "Parking ban from 6 pm. " * 7  # 160 once stripped: past half a part
    later = "Tow lots:\nFrontage Road. Albany Street. " * 3
    posts = split_thread(
        first.strip() + "\n\n" + later + "Call 311 for a towed car. " * 4, rules=X_TEXT
    )

    assert chunks_of(posts)[0] == first.strip()


def test_line_breaks_inside_a_part_are_kept() -> None:
    text = "Closed today:\n- City Hall\n- Libraries\n\n" + "Open as usual: " + "parks " * 60
    posts = split_thread(text, rules=X_TEXT)

    assert posts[0].startswith("Closed today:\n- City Hall\n- Libraries\n\nOpen as usual: parks")
    assert_nothing_lost(text, chunks_of(posts))


def test_every_part_fits_by_weighted_length() -> None:
    text = " ".join(f"Street {n} is plowed." for n in range(200))
    posts = split_thread(text, tail=" #BoSandy", rules=X_TEXT)

    assert len(posts) > 10
    assert_postable(posts)
    assert max(weighted_length(post) for post in posts) > 270  # parts are filled, not timid


def test_a_long_url_at_a_boundary_stays_whole_and_weighs_23() -> None:
    url = "https://www.boston.gov/departments/public-works/" + "snow" * 38
    assert len(url) == 200
    text = "word " * 50 + "Full map: " + url + " for every street. " + "Thank you. " * 10
    posts = split_thread(text, rules=X_TEXT)

    # 250 + "Full map: " leaves 16 of the first part's 276: the URL's 23 go to the next part.
    assert posts[0].endswith("word Full map: 1/2")
    assert posts[1].startswith(url + " for every street.")
    assert weighted_length(posts[1]) == len(posts[1]) - len(url) + 23
    assert [found.url for post in posts for found in find_urls(post)] == [url]
    assert_postable(posts)
    assert_nothing_lost(text, chunks_of(posts))


def test_hashtags_are_never_split() -> None:
    tags = [f"#Calle{n}Cerrada" for n in range(60)]
    text = " ".join(tags)
    posts = split_thread(text, tail=" #BoSandy", rules=X_TEXT)

    found = [tag for chunk in chunks_of(posts, " #BoSandy") for tag in extract_hashtags(chunk)]
    assert found == [tag.removeprefix("#") for tag in tags]
    assert_postable(posts)


def test_spanish_text_breaks_before_an_opening_question_mark() -> None:
    text = (
        "La tormenta llegará esta noche, así que los camiones de la ciudad ya están esparciendo "
        "sal en las calles principales y en las rutas de emergencia de todos los barrios, "
        "también en Jamaica Plain y en el Este de Boston, según el plan de invierno aprobado "
        "¿Dónde estacionar? En los garajes municipales, gratis hasta el jueves por la mañana. "
        "¡Gracias por su paciencia y por cuidar a sus vecinos mayores durante la nevada!"
    )
    posts = split_thread(text, tail=" #NevadaBoston", rules=X_TEXT)
    chunks = chunks_of(posts, " #NevadaBoston")

    assert chunks[0].endswith("según el plan de invierno aprobado")
    assert chunks[1].startswith("¿Dónde estacionar?")
    assert_postable(posts)
    assert_nothing_lost(text, chunks)


def test_decomposed_accents_stay_on_their_letter() -> None:
    text = "Cafe\u0301 " * 70  # é written as e + combining accent, which X weighs as one
    posts = split_thread(text, rules=X_TEXT)

    assert_postable(posts)
    assert_nothing_lost(text, chunks_of(posts))
    assert all(not chunk.startswith("\u0301") for chunk in chunks_of(posts))


def test_emoji_sequences_are_never_cut() -> None:
    text = " ".join([FAMILY, FLAG, THUMB, "refugio abierto"] * 40)
    posts = split_thread(text, rules=X_TEXT)
    original = set(graphemes(text))

    assert len(posts) > 1
    for post in posts:
        assert set(graphemes(post)) <= original | set(graphemes(post.rsplit(" ", 1)[1]))
    assert_postable(posts)
    assert_nothing_lost(text, chunks_of(posts))


def test_a_run_of_emoji_without_spaces_is_cut_between_emoji() -> None:
    text = (FAMILY + FLAG + THUMB) * 60  # 180 emoji of weight 2, no space anywhere
    posts = split_thread(text, rules=X_TEXT)
    chunks = chunks_of(posts)

    assert "".join(chunks) == text
    assert [len(graphemes(chunk)) for chunk in chunks] == [138, 42]
    assert_postable(posts)


def test_cjk_weighs_two_and_is_cut_after_a_full_stop() -> None:
    sentence = "市政府提醒居民今晚不要在主要道路停车。"  # 19 characters, weight 38
    text = sentence * 20
    posts = split_thread(text, rules=X_TEXT)
    chunks = chunks_of(posts)

    assert "".join(chunks) == text
    assert all(chunk.endswith("。") for chunk in chunks)
    assert [weighted_length(chunk) for chunk in chunks] == [266, 266, 228]
    assert_postable(posts)


def test_numbering_widens_from_9_to_10_parts() -> None:
    # One-letter words fill a part exactly (45 + " 1/9" = 49), so a width the budgets did not
    # reserve (" 1/10") would push every full part over the limit.
    counts = set()
    for words in range(150, 320, 3):
        posts = split_thread(" ".join("a" * words), rules=dataclasses.replace(X_TEXT, limit=49))
        counts.add(len(posts))
        assert_postable(posts, limit=49)
        assert_nothing_lost(" ".join("a" * words), chunks_of(posts))
    assert {9, 10, 11} <= counts


def test_ten_parts_are_numbered_out_of_ten() -> None:
    posts = split_thread(" ".join("a" * 218), rules=dataclasses.replace(X_TEXT, limit=49))

    assert len(posts) == 10
    assert posts[0] == " ".join("a" * 22) + " 1/10"
    assert posts[-1].endswith(" 10/10")
    assert_postable(posts, limit=49)


def test_words_round_trip_without_loss_or_duplication() -> None:
    text = "\n\n".join([STORM] * 4)
    chunks = chunks_of(split_thread(text, tail=" #BoSandy", rules=X_TEXT), " #BoSandy")

    assert " ".join(chunks).split() == text.split()


def test_the_tail_is_in_every_part() -> None:
    posts = split_thread("\n\n".join([STORM] * 3), tail=" 🌀 #BoSandy", rules=X_TEXT)

    assert len(posts) == 9
    assert all(post.endswith(f" 🌀 #BoSandy {i}/9") for i, post in enumerate(posts, 1))
    assert_postable(posts)


def test_a_hashtag_longer_than_a_post_is_refused() -> None:
    with pytest.raises(TooLongToSplit, match=r"the hashtag #aaaaaaaaaa.* alone is longer"):
        split_thread("Storm update " + "#" + "a" * 299, rules=X_TEXT)


def test_a_word_holding_a_url_is_not_cut() -> None:
    with pytest.raises(TooLongToSplit, match=r"the URL https://boston\.gov cannot be split"):
        split_thread("b" * 300 + "(https://boston.gov)", rules=X_TEXT)


def test_a_word_holding_a_mention_is_not_cut() -> None:
    with pytest.raises(TooLongToSplit, match="the mention @BostonPWD cannot be split"):
        split_thread("(@BostonPWD)" + "z" * 300, rules=X_TEXT)


def test_a_tail_that_leaves_no_room_is_refused() -> None:
    with pytest.raises(TooLongToSplit, match="the tail"):
        split_thread("word " * 100, tail=" " + "x" * 276, rules=X_TEXT)


def test_a_long_run_of_letters_is_cut_between_letters() -> None:
    text = "a" * 400
    posts = split_thread(text, rules=X_TEXT)

    assert posts == ["a" * 276 + " 1/2", "a" * 124 + " 2/2"]


def test_a_long_word_after_text_starts_its_own_part() -> None:
    text = "Reference number: " + "7" * 300
    chunks = chunks_of(split_thread(text, rules=X_TEXT))

    assert chunks == ["Reference number:", "7" * 276, "7" * 24]


def test_cutting_a_long_word_never_makes_a_hashtag_or_a_link() -> None:
    # "x#tag" is no hashtag and "_example.com" no link; cut right before "#" or "e" they would be.
    tagged = split_thread("x" * 276 + "#tagged", rules=X_TEXT)
    assert chunks_of(tagged) == ["x" * 275, "x#tagged"]
    assert [extract_hashtags(post) for post in tagged] == [[], []]

    linked = split_thread("y" * 275 + "_example.com", rules=X_TEXT)
    assert chunks_of(linked) == ["y" * 275, "_example.com"]
    assert [find_urls(post) for post in linked] == [[], []]


def test_a_tail_that_makes_a_link_with_the_last_word_is_weighed_in_place() -> None:
    # Each part ends "boston" + ".gov": a link of weight 23, not the 10 the pieces add up to.
    posts = split_thread("boston " * 100, tail=".gov", rules=X_TEXT)

    assert [weighted_length(post) for post in posts] == [279, 279, 202]
    assert all(post.endswith(f" boston.gov {i}/3") for i, post in enumerate(posts, 1))


def test_blank_or_unpostable_text_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        split_thread(" \n ", rules=X_TEXT)
    with pytest.raises(ValueError, match="U\\+FEFF"):
        split_thread("Snow\ufeff emergency", rules=X_TEXT)
    with pytest.raises(ValueError, match="U\\+FEFF"):
        split_thread("word " * 100 + "\ufeff", rules=X_TEXT)
    with pytest.raises(ValueError, match="limit"):
        split_thread("Snow", rules=dataclasses.replace(X_TEXT, limit=0))


def test_five_thousand_characters_split_with_a_bounded_number_of_measures() -> None:
    # Counted, not timed (a busy machine makes any time bound flaky): splitting measures each
    # candidate post a few times, never the whole text again for every word.
    text = "\n\n".join([STORM] * 9)
    assert len(text) > 5000
    measured: list[str] = []

    def measure(candidate: str) -> int:
        measured.append(candidate)
        return X_TEXT.measure(candidate)

    posts = split_thread(text, rules=dataclasses.replace(X_TEXT, measure=measure))
    assert len(posts) == 27  # three per copy, as for one
    assert len(measured) <= 20 * len(posts)
    assert sum(map(len, measured)) <= 20 * len(text)


PIECES = [
    "the",
    "snow",
    "plow",
    "route",
    "parking",
    "ban",
    "tonight.",
    "closed!",
    "¿Dónde?",
    "¡Cuidado!",
    "mañana",
    "calle",
    "niño",
    "Cafe\u0301",
    "#BoSandy",
    "#Nevada2026",
    "@BostonPWD",
    "$TSLA",
    "boston.gov/snow",
    "https://www.boston.gov/" + "x" * 180,
    FAMILY,
    FLAG,
    THUMB,
    "❤️",
    "1️⃣",
    "東京都",
    "雪。",
    "…",
]
GAPS = [" "] * 12 + ["\n", "\n\n", "  "]
TAILS = ["", " #BoSandy", " 🌀 #NevadaBoston", " boston.gov/snow"]


def generated_text(rng: random.Random) -> tuple[str, bool]:
    """Random words, URLs, hashtags, emoji and Spanish; and whether a word too long for any post
    (a run of letters with no space) is among them."""
    words = []
    long_word = False
    for _ in range(rng.randrange(1, 300)):
        if rng.random() < 0.01:
            words.append("".join(rng.choice("abcdéñ漢") for _ in range(rng.randrange(200, 500))))
            long_word = True
        else:
            words.append(rng.choice(PIECES))
        words.append(rng.choice(GAPS))
    return "".join(words), long_word


def test_generated_texts_keep_every_invariant() -> None:
    rng = random.Random(311)
    split = 0
    for _ in range(100):
        (text, long_word), tail = generated_text(rng), rng.choice(TAILS)
        limit = rng.choice([X_TEXT.limit, X_TEXT.limit, 140])
        posts = split_thread(text, tail=tail, rules=dataclasses.replace(X_TEXT, limit=limit))

        assert_postable(posts, limit)
        if len(posts) == 1:
            assert posts == [text.strip() + tail]
            continue
        split += 1
        chunks = chunks_of(posts, tail)
        assert_nothing_lost(text.strip(), chunks, words_cut=long_word)
        urls = [found.url for chunk in chunks for found in find_urls(chunk)]
        assert urls == [found.url for found in find_urls(text)]
        tags = [tag for chunk in chunks for tag in extract_hashtags(chunk)]
        assert tags == extract_hashtags(text)
    assert split > 60


# --- any network's rules ----------------------------------------------------------------------


def test_a_thread_follows_the_rules_it_is_given() -> None:
    # 23 weighted characters on X, its 57 characters on a network that counts every one.
    url = "https://www.boston.gov/departments/public-works/snow-ops"
    text = f"Snow emergency tonight: move your car off main roads. Details at {url} " * 2
    assert split_thread(text, rules=X_TEXT) == [text.strip()]

    posts = split_thread(text, rules=TINY, tail=" #BoSandy")
    assert len(posts) == 4
    assert all(len(post) <= TINY.limit for post in posts)
    chunks = chunks_of(posts, " #BoSandy")
    assert_nothing_lost(text.strip(), chunks)
    assert [found.url for chunk in chunks for found in find_urls(chunk)] == [url, url]


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


WORDS = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
        exclude_characters="\ufeff\ufffe\uffff",
    ),
    min_size=1,
    max_size=30,
)


@given(
    words=st.lists(st.one_of(WORDS, st.sampled_from(PIECES)), min_size=1, max_size=80),
    gaps=st.lists(st.sampled_from(GAPS), min_size=80, max_size=80),
    tail=st.sampled_from(TAILS),
    measure=st.sampled_from([len, weighted_length, utf8_bytes]),
    limit=st.integers(min_value=30, max_value=600),
)
def test_any_rules_never_yield_a_post_over_the_limit_nor_lose_a_word(
    words: list[str], gaps: list[str], tail: str, measure: Callable[[str], int], limit: int
) -> None:
    rules = TextRules(network="Any", limit=limit, measure=measure)
    text = "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    try:
        posts = split_thread(text, rules=rules, tail=tail)
    except TooLongToSplit:
        return  # something that must stay whole does not fit: refused, never cut
    assert all(measure(post) <= limit for post in posts), posts
    chunks = [text.strip()] if posts == [text.strip() + tail] else chunks_of(posts, tail)
    visible = [g for g in graphemes(text) if not g.isspace()]
    assert [g for chunk in chunks for g in graphemes(chunk) if not g.isspace()] == visible
