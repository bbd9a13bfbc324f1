"""Mastodon's post length, counted as Mastodon's StatusLengthValidator counts it, and the limits an
instance announces (the recorded `GET /api/v2/instance` of a live server)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from socialbot.networks.mastodon.text import (
    MASTODON_MEDIA,
    mastodon_length,
    mastodon_text_rules,
    rules_from_configuration,
)
from tests.networks.mastodon import cassettes


def configuration() -> Any:
    return cassettes.find("test_instance", "GET", "/api/v2/instance/").json()["configuration"]


def test_every_link_counts_23_however_long() -> None:
    link = "https://www.openstreetmap.org/?mlat=42.3601&mlon=-71.0589#map=19/42.3601/-71.0589"
    assert mastodon_length(f"Pothole {link}") == len("Pothole ") + 23
    assert mastodon_length("Pothole https://t.co") == len("Pothole ") + 23  # shorter ones too


def test_a_link_without_its_scheme_counts_as_typed() -> None:
    assert mastodon_length("see city.gov/311") == len("see city.gov/311")


def test_a_mention_counts_without_its_domain() -> None:
    assert mastodon_length("@alice@mastodon.social thanks") == len("@alice thanks")
    assert mastodon_length("@alice thanks") == len("@alice thanks")
    assert mastodon_length("mail bob@example.org") == len("mail bob@example.org")  # no mention


def test_characters_are_grapheme_clusters() -> None:
    assert mastodon_length("👩‍👩‍👧‍👦") == 1  # one family, seven code points
    assert mastodon_length("e\u0301") == 1  # é as e and a combining accent


def test_the_rules_are_mastodons() -> None:
    rules = mastodon_text_rules()
    assert rules.describe() == "Mastodon: 500 characters"
    assert rules.fits("x" * 500) and not rules.fits("x" * 501)
    assert rules.addressed("Thanks, filed.", "alice@social.example") == (
        "@alice@social.example Thanks, filed."
    )


def test_an_instance_announces_its_own_limits() -> None:
    text, media = rules_from_configuration(configuration())

    assert text.limit == 500
    assert media.max_bytes == 16 * 1024 * 1024
    assert media.max_count == 4
    assert media.max_alt_text == 10_000  # Mastodon 4.6's description_limit
    assert set(media.suffixes) >= {".jpg", ".jpeg", ".png", ".gif", ".webp"}
    assert media.id_lifetime < timedelta(days=1)  # Mastodon removes unattached media after one


def test_a_longer_instance_limit_is_taken() -> None:
    config = configuration()
    config["statuses"]["max_characters"] = 5000
    assert rules_from_configuration(config)[0].limit == 5000


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists, max_leaves=5))
def test_an_instance_that_says_nothing_readable_gets_the_defaults(garbage: Any) -> None:
    text, _ = rules_from_configuration({"statuses": {"max_characters": garbage}})
    assert text.limit == (garbage if type(garbage) is int and 0 < garbage < 2**31 else 500)
    assert rules_from_configuration(garbage)[1] == MASTODON_MEDIA


@given(st.text())
def test_any_text_has_a_length(text: str) -> None:
    assert 0 <= mastodon_length(text) <= len(text) + 23 * text.count("://")
