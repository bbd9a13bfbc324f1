"""How Mastodon measures a post, and what it takes as a photo: the defaults of a stock server,
and the same built from an instance's own `configuration` (`GET /api/v2/instance`).

The count follows Mastodon's `app/validators/status_length_validator.rb` (mastodon/mastodon,
main, 2025-2026): the text with every URL that has a scheme (`extract_url_without_protocol:
false`) replaced by 23 characters (`URL_PLACEHOLDER`, what the instance announces as
`characters_reserved_per_url`), every mention `@user@domain` by `@user`, then counted in grapheme
clusters (`str.each_grapheme_cluster.size`), not code points: a family emoji is one character.
The content warning is counted with the text (`spoiler_text` + text); the adapter keeps a
resident's warning on its reply, so that `publish` checks the sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import regex

from socialbot._urls import find_urls
from socialbot.networks.base import MediaRules
from socialbot.text_rules import TextRules

NETWORK = "Mastodon"
MAX_CHARACTERS = 500  # a stock server's `configuration.statuses.max_characters`
URL_LENGTH = 23  # `characters_reserved_per_url`

# Mastodon's `Account::MENTION_RE`, as far as the count needs it: "@user" or "@user@domain", not
# inside a word, a URL's path or after "=".
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w.-]+\w)?", regex.IGNORECASE
)
_GRAPHEME = regex.compile(r"\X")
_SCHEMES = ("http://", "https://")

# Mastodon's own defaults (`MediaAttachment::IMAGE_LIMIT` 16 MB, 4 per post, alt text 1,500 on a
# server older than 4.4's `description_limit`): the image types it accepts, by suffix.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif")
_IMAGE_TYPES = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
    "image/heif": (".heif",),
    "image/avif": (".avif",),
}
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_MEDIA = 4
MAX_ALT_TEXT = 1500
# Mastodon removes media never attached to a status after a day (`Scheduler::MediaCleanupScheduler`,
# `unattached` older than 1 day); half of that leaves room for a slow queue and clock skew.
MEDIA_ID_LIFETIME = timedelta(hours=12)


def mastodon_length(text: str, url_length: int = URL_LENGTH) -> int:
    """The length Mastodon counts for `text` (see the module's docstring)."""
    parts: list[str] = []
    position = 0
    for url in find_urls(text):
        if not url.url.lower().startswith(_SCHEMES):
            continue  # a bare "city.gov/311" counts as typed
        parts.append(_MENTION.sub(r"@\1", text[position : url.start]))
        parts.append("x" * url_length)
        position = url.end
    parts.append(_MENTION.sub(r"@\1", text[position:]))
    return len(_GRAPHEME.findall("".join(parts)))


@dataclass(frozen=True, slots=True)
class MastodonMeasure:
    """`mastodon_length` with the instance's link length: a value, so two rules built from the
    same settings are equal (start-up checks are remembered by their rules, `socialbot.memo`)."""

    url_length: int

    def __call__(self, text: str) -> int:
        return mastodon_length(text, self.url_length)


def mastodon_text_rules(
    max_characters: int = MAX_CHARACTERS, url_length: int = URL_LENGTH
) -> TextRules:
    """Mastodon's rules: `max_characters` as Mastodon counts them; a reply names its resident,
    or Mastodon does not notify them."""
    return TextRules(
        network=NETWORK,
        limit=max_characters,
        measure=MastodonMeasure(url_length),
        unit="characters",
        mention_author=True,
    )


MASTODON_MEDIA = MediaRules(
    network=NETWORK,
    suffixes=IMAGE_SUFFIXES,
    max_bytes=MAX_IMAGE_BYTES,
    max_count=MAX_MEDIA,
    max_alt_text=MAX_ALT_TEXT,
    id_lifetime=MEDIA_ID_LIFETIME,
)


def rules_from_configuration(
    configuration: Any, max_characters: int = MAX_CHARACTERS
) -> tuple[TextRules, MediaRules]:
    """The text and media rules an instance announces in its `configuration` object; each value
    it does not give, or gives as something that is not a positive number, is the default (the
    post length: `max_characters`, what the city's settings say of an instance that is silent)."""
    config = configuration if isinstance(configuration, Mapping) else {}
    statuses = _object(config.get("statuses"))
    media = _object(config.get("media_attachments"))
    text = mastodon_text_rules(
        _positive(statuses.get("max_characters"), max_characters),
        _positive(statuses.get("characters_reserved_per_url"), URL_LENGTH),
    )
    types = media.get("supported_mime_types")
    suffixes = (
        tuple(s for mime, found in _IMAGE_TYPES.items() if mime in types for s in found)
        if isinstance(types, list)
        else IMAGE_SUFFIXES
    )
    rules = MediaRules(
        network=NETWORK,
        suffixes=suffixes or IMAGE_SUFFIXES,
        max_bytes=_positive(media.get("image_size_limit"), MAX_IMAGE_BYTES),
        max_count=_positive(statuses.get("max_media_attachments"), MAX_MEDIA),
        max_alt_text=_positive(media.get("description_limit"), MAX_ALT_TEXT),
        id_lifetime=MEDIA_ID_LIFETIME,
    )
    return text, rules


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _positive(value: Any, default: int) -> int:
    """`value` if it is a whole number a limit can be (bool is not), else `default`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        return default
    return value
