"""X's rules: how long a post may be, what it takes as a photo, and its endpoints' names."""

from __future__ import annotations

from datetime import timedelta

from socialbot import usage
from socialbot.networks.base import Endpoints, MediaRules
from socialbot.text import weighted_length
from socialbot.text_rules import TextRules

X_TEXT = TextRules(network="X", limit=280, measure=weighted_length, unit="weighted characters")
# What X takes as a photo in a post (media_category=tweet_image), and its alt text's limit; an
# uploaded media id may be attached for 24 hours (`expires_after_secs`).
X_MEDIA = MediaRules(
    network="X",
    suffixes=(".jpg", ".jpeg", ".png", ".gif", ".webp"),
    max_bytes=5 * 1024 * 1024,
    max_count=4,
    max_alt_text=1000,
    id_lifetime=timedelta(hours=24),
)
X_ENDPOINTS = Endpoints(mentions=usage.MENTIONS, post=usage.CREATE_POST, own_posts=usage.OWN_POSTS)
