"""Crash recovery by our own timeline, for networks that keep no idempotency key for us (X) or
keep it only for a while (Mastodon: an hour): which interrupted drafts are among our posts."""

from __future__ import annotations

import html
from collections.abc import Sequence

from socialbot._urls import find_urls
from socialbot.domain import PostRef
from socialbot.networks.base import Draft, OwnPost


def same_text(text: str) -> str:
    """`text` as comparable with what a network shows of it: entities unescaped, links dropped
    (X shows them as t.co links, and a photo as one more), whitespace collapsed."""
    plain = html.unescape(text)
    for url in reversed(find_urls(plain)):
        plain = plain[: url.start] + plain[url.end :]
    return " ".join(plain.split())


def match_drafts(drafts: Sequence[Draft], posts: Sequence[OwnPost]) -> dict[str, list[PostRef]]:
    """For each draft, the posts of ours that may be it, newest first: a reply by the post it
    answers, a post of its own by its text (`same_text`); each with its context, so that a
    thread goes on under a recovered post as under one whose answer arrived."""
    found: dict[str, list[PostRef]] = {}
    for draft in drafts:
        if draft.reply_to is not None:
            hits = [p for p in posts if p.in_reply_to == draft.reply_to.id]
        else:
            wanted = same_text(draft.text)
            hits = [p for p in posts if p.in_reply_to is None and same_text(p.text) == wanted]
        if hits:
            found[draft.key] = [PostRef(p.post_id, p.context) for p in hits]
    return found
