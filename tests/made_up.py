"""A network that is not X, made up for the tests: 100 characters counted as Python counts them,
replies that must name the resident, PNG photos up to 1 MB with 50 characters of alt text. Code
that asks its network's rules follows these; code that still assumes X's does not."""

from __future__ import annotations

from datetime import timedelta

from socialbot.networks.base import MediaRules
from socialbot.text_rules import TextRules

TINY = TextRules(network="Tiny", limit=100, measure=len, unit="characters", mention_author=True)
TINY_MEDIA = MediaRules(
    network="Tiny",
    suffixes=(".png",),
    max_bytes=1024 * 1024,
    max_count=1,
    max_alt_text=50,
    id_lifetime=timedelta(hours=1),
)
