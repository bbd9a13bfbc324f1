"""The Mastodon recordings (vcrpy cassettes of a live server, ../shared/fixtures/mastodon/), read
with PyYAML and served with `responses` exactly as recorded: status, headers (the rate-limit
headers too) and body."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import responses
import yaml
from responses import matchers

from tests.recorded import recorded

BASE_URL = "http://localhost:3000"
# Not replayed: they describe the recorded transfer (its length, its compression), not the answer.
_TRANSFER_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Interaction:
    method: str
    uri: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str
    request_body: str | bytes | None

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@functools.cache
def load(name: str) -> tuple[Interaction, ...]:
    """The interactions of `name` (e.g. "test_instance"), in the order they were recorded."""
    document = yaml.safe_load(recorded(f"mastodon/{name}.yaml").read_text(encoding="utf-8"))
    interactions = []
    for item in document["interactions"]:
        request, response = item["request"], item["response"]
        body = response["body"]["string"]
        interactions.append(
            Interaction(
                method=request["method"],
                uri=request["uri"],
                status=response["status"]["code"],
                headers=tuple(
                    (key, value)
                    for key, values in response["headers"].items()
                    for value in values
                    if key.lower() not in _TRANSFER_HEADERS
                ),
                body=body if isinstance(body, str) else body.decode("utf-8"),
                request_body=request["body"],
            )
        )
    return tuple(interactions)


def find(name: str, method: str, path: str) -> Interaction:
    """The first interaction of `name` that is `method path`."""
    for interaction in load(name):
        if interaction.method == method and interaction.path == path:
            return interaction
    raise LookupError(f"{name} has no {method} {path}")


def serve(*interactions: Interaction) -> None:
    """Register each interaction with the active `responses` mock, as recorded. One URL
    registered twice answers in the order registered."""
    for interaction in interactions:
        url = urlsplit(interaction.uri)
        responses.add(
            interaction.method,
            f"{url.scheme}://{url.netloc}{url.path}",
            match=[matchers.query_string_matcher(url.query or None)],
            body=interaction.body,
            status=interaction.status,
            headers=list(interaction.headers),
        )
