"""Hashtag extraction on the kind of posts a 311 account receives."""

from __future__ import annotations

from socialbot.hashtags import HashtagSpan, extract_hashtags, extract_hashtags_with_indices


def test_a_report_names_its_categories() -> None:
    assert extract_hashtags("@City #pothole on Main St #bache") == ["pothole", "bache"]


def test_accents_and_full_width_hash_are_read_as_x_reads_them() -> None:
    assert extract_hashtags("Farola rota #alumbradoPúblico \uff03calle") == [
        "alumbradoPúblico",
        "calle",
    ]


def test_numbers_alone_are_not_hashtags() -> None:
    assert extract_hashtags("Bus #16 late again #route16") == ["route16"]


def test_a_hash_inside_a_word_or_a_url_is_not_a_hashtag() -> None:
    assert extract_hashtags("issue#12 see city.gov/#faq or https://x.com/#pothole") == []


def test_punctuation_ends_a_hashtag() -> None:
    assert extract_hashtags("#graffiti, #trash. #potholes!") == ["graffiti", "trash", "potholes"]


def test_indices_point_at_the_hash_and_count_code_points() -> None:
    assert extract_hashtags_with_indices("😷 #streetlight out") == [
        HashtagSpan("streetlight", 2, 14)
    ]
