"""Every name and value the X adapter sends, in one place, so that a test can hold each against
X's OpenAPI specs (tests/networks/x/test_x_request.py reads both from ../shared/fixtures/x/).

X's API v2 has two spellings of its names. The one every recording (2021–2023), X's current
documentation and its spec 2.159 use says "tweet": the query parameter `tweet.fields`, the
expansion `referenced_tweets.id`, the fields `referenced_tweets`, `note_tweet`,
`edit_history_tweet_ids` and `includes.tweets`. X's production spec 2.167 (July 2026) says
"post": `post.fields`, `referenced_posts`, `note_post`, `edit_history_post_ids`,
`includes.posts`, and drops `author_id`, `in_reply_to_user_id` and `referenced_tweets` from the
fields (they come with expansions of the same names). No request is valid in both specs, so the
spelling is a setting (`SOCIALBOT_X_FIELD_NAMES`, default `tweet`: what X is known to answer), and
`socialbot doctor` proves with one small mentions request which one this account's API accepts.

Bodies and everything else are spelt the same in both: the post body (`reply.in_reply_to_tweet_id`,
`media.media_ids`), the media upload form (`media`, `media_category`) and the alt text body
(`id`, `metadata.alt_text.text`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Media go to X's documented host for API v2 (`servers` of both specs); tweepy's reads and posts
# still use api.twitter.com, which X serves the same.
MEDIA_UPLOAD_URL = "https://api.x.com/2/media/upload"
MEDIA_METADATA_URL = "https://api.x.com/2/media/metadata"
# Photos only: one multipart request (X's "simple upload", images up to 5 MB: exactly what
# `networks.base` lets staff attach, so no file needs the chunked initialize/append/finalize).
MEDIA_CATEGORY = "tweet_image"

PAGE_SIZE = 100  # mentions and own posts: the most a page may hold (5 to 100 in both specs)
PROBE_PAGE_SIZE = 5  # the fewest a page may hold: what `doctor`'s mentions request asks for

MEDIA_FIELDS = ("url", "preview_image_url", "type", "alt_text")
PLACE_FIELDS = ("full_name", "geo", "place_type")
USER_FIELDS = ("username", "withheld")


class FieldNames(enum.StrEnum):
    """Which of X's two spellings the requests use (see the module docstring)."""

    TWEET = "tweet"
    POST = "post"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One spelling: what the requests ask for, and the names the answers carry them under."""

    names: FieldNames
    fields_parameter: str  # the query parameter naming a post's fields
    mention_fields: tuple[str, ...]
    mention_expansions: tuple[str, ...]
    own_post_fields: tuple[str, ...]
    own_post_expansions: tuple[str, ...]
    # Response names, for the wire parser and the README.
    referenced: str  # data[].<this>: [{type, id}], and includes.<included> the posts
    edit_history: str
    note: str
    included: str

    def other(self) -> Vocabulary:
        return POST if self.names is FieldNames.TWEET else TWEET


TWEET = Vocabulary(
    names=FieldNames.TWEET,
    fields_parameter="tweet.fields",
    mention_fields=(
        "created_at",
        "geo",
        "entities",
        "conversation_id",
        "in_reply_to_user_id",
        "lang",
        "referenced_tweets",
        "edit_history_tweet_ids",
        "note_tweet",
        "withheld",
    ),
    mention_expansions=(
        "author_id",
        "attachments.media_keys",
        "geo.place_id",
        "referenced_tweets.id",
    ),
    own_post_fields=("created_at", "referenced_tweets"),
    own_post_expansions=(),
    referenced="referenced_tweets",
    edit_history="edit_history_tweet_ids",
    note="note_tweet",
    included="tweets",
)

POST = Vocabulary(
    names=FieldNames.POST,
    fields_parameter="post.fields",
    mention_fields=(
        "created_at",
        "geo",
        "entities",
        "conversation_id",
        "lang",
        "note_post",
        "withheld",
    ),
    mention_expansions=(
        "author_id",
        "attachments.media_keys",
        "geo.place_id",
        "in_reply_to_user_id",
        "referenced_posts",
        # 2.167 has the edit history as an expansion, not a field: asked for, so that an edit
        # is known as one whatever X sends by default
        "edit_history_post_ids",
    ),
    own_post_fields=("created_at",),
    own_post_expansions=("referenced_posts",),
    referenced="referenced_posts",
    edit_history="edit_history_post_ids",
    note="note_post",
    included="posts",
)


def vocabulary(names: FieldNames | str) -> Vocabulary:
    return TWEET if FieldNames(names) is FieldNames.TWEET else POST


def mentions_params(
    words: Vocabulary,
    *,
    since_id: str | None = None,
    pagination_token: str | None = None,
    max_results: int = PAGE_SIZE,
) -> dict[str, str]:
    """The query of `GET /2/users/:id/mentions`."""
    params = {
        "max_results": str(max_results),
        "expansions": ",".join(words.mention_expansions),
        "media.fields": ",".join(MEDIA_FIELDS),
        "place.fields": ",".join(PLACE_FIELDS),
        words.fields_parameter: ",".join(words.mention_fields),
        "user.fields": ",".join(USER_FIELDS),
    }
    if since_id is not None:
        params["since_id"] = since_id
    if pagination_token is not None:
        params["pagination_token"] = pagination_token
    return params


def own_posts_params(
    words: Vocabulary, since: datetime, *, pagination_token: str | None = None
) -> dict[str, str]:
    """The query of `GET /2/users/:id/tweets`: our posts since `since`, reposts left out."""
    params = {
        "max_results": str(PAGE_SIZE),
        "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        words.fields_parameter: ",".join(words.own_post_fields),
        "exclude": "retweets",
    }
    if words.own_post_expansions:
        params["expansions"] = ",".join(words.own_post_expansions)
    if pagination_token is not None:
        params["pagination_token"] = pagination_token
    return params


def post_body(text: str, in_reply_to: str | None, media_ids: tuple[str, ...]) -> dict[str, Any]:
    """The JSON body of `POST /2/tweets`, as tweepy's `create_tweet` builds it (the same names in
    both specs); here so that the spec test sees it."""
    body: dict[str, Any] = {"text": text}
    if in_reply_to is not None:
        body["reply"] = {"in_reply_to_tweet_id": in_reply_to}
    if media_ids:
        body["media"] = {"media_ids": list(media_ids)}
    return body


def upload_form() -> dict[str, str]:
    """The multipart fields of `POST /2/media/upload` beside the file itself (`media`)."""
    return {"media_category": MEDIA_CATEGORY}


UPLOAD_FILE_FIELD = "media"


def metadata_body(media_id: str, alt_text: str) -> dict[str, Any]:
    """The JSON body of `POST /2/media/metadata`: the photo's alt text."""
    return {"id": media_id, "metadata": {"alt_text": {"text": alt_text}}}
