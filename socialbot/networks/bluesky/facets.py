"""The rich-text facets of our own text: the links and #tags in a reply or broadcast, marked up
as Bluesky's app marks up what a person types, so that they show as links and tags.

A facet names a slice of the text in UTF-8 *bytes* (`byteStart` inclusive, `byteEnd`
exclusive), not characters. Detection is atproto's `detect_facets` (the Python SDK's port of
the TypeScript SDK's `detectFacets`: the same regular expressions, the same trailing
punctuation, a URL without a scheme only on a known TLD, a tag of at most 64 graphemes); we
keep its links and #tags, leave out its $cashtags (no city means a ticker), and write them as
the lexicon's JSON, which the record carries as it is.
"""

from __future__ import annotations

from typing import Any

from atproto_client.models.app.bsky.richtext.facet import Link, Tag
from atproto_client.utils.facet_detection import detect_facets

FACET = "app.bsky.richtext.facet"
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"


def facets_of(text: str) -> list[dict[str, Any]]:
    """The `app.bsky.richtext.facet` JSON of the links and #tags in `text`, in text order."""
    facets: list[dict[str, Any]] = []
    for facet in detect_facets(text):
        features: list[dict[str, Any]] = []
        for feature in facet.features:
            if isinstance(feature, Link):
                features.append({"$type": LINK, "uri": feature.uri})
            elif isinstance(feature, Tag) and not feature.tag.startswith("$"):
                features.append({"$type": TAG, "tag": feature.tag})
        if features:
            facets.append(
                {
                    "$type": FACET,
                    "index": {
                        "byteStart": facet.index.byte_start,
                        "byteEnd": facet.index.byte_end,
                    },
                    "features": features,
                }
            )
    return facets
