"""What X takes in a post: its text rules (280 weighted characters, `socialbot.text`), its photo
rules, and the names of the calls its rate limits hold."""

from __future__ import annotations

from datetime import timedelta

from socialbot import text, usage
from socialbot.networks.base import Endpoints, MediaRules
from socialbot.text_rules import TextRules

X_TEXT = TextRules(network="X", limit=280, measure=text.weighted_length, unit="weighted characters")

# X's media upload: JPEG, PNG, GIF and WebP images up to 5 MB, four to a post, alt text up to
# 1000 characters; an uploaded media id may be attached for 24 hours.
X_MEDIA = MediaRules(
    network="X",
    suffixes=(".jpg", ".jpeg", ".png", ".gif", ".webp"),
    max_bytes=5 * 1024 * 1024,
    max_count=4,
    max_alt_text=1000,
    id_lifetime=timedelta(hours=24),
)

X_ENDPOINTS = Endpoints(mentions=usage.MENTIONS, post=usage.CREATE_POST, own_posts=usage.OWN_POSTS)
