"""Every request the X adapter sends, as it goes out on the wire, against X's own OpenAPI specs
(read from ../shared/fixtures/x/, never copied): each query parameter, field value, expansion and
body. The "tweet" names against spec 2.159 (and the recordings), the "post" names against the
production spec 2.167; and a 400 refusing a name is a `Rejected` that names the parameter."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
import responses

from socialbot.errors import Rejected
from socialbot.networks.x import request as x_request
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.request import FieldNames
from tests import xapi
from tests.networks.x.test_x_media import metadata_created, tiny_png, uploaded
from tests.xspec import OLDER, PRODUCTION, Spec

SECRETS = XCredentials("ck-SECRET-1", "cs-SECRET-2", "at-SECRET-3", "ats-SECRET-4")
SPEC_OF = {FieldNames.TWEET: Spec(OLDER), FieldNames.POST: Spec(PRODUCTION)}
ANY_HOST = re.compile(r"https://api\.(twitter|x)\.com/2/.*")


def every_call_the_adapter_makes(names: FieldNames, tmp_path: Path) -> list[responses.Call]:
    """Each public call of the adapter once, answered well, the requests as they went out."""
    photo = tmp_path / "after.png"
    photo.write_bytes(tiny_png())
    x = XPlatform(SECRETS, field_names=names)
    with responses.RequestsMock() as mocked:
        mocked.get(xapi.ME_URL, json=xapi.me())
        mocked.get(xapi.MENTIONS_URL, json=xapi.page([], next_token="t1"))
        mocked.get(xapi.MENTIONS_URL, json=xapi.page([]))
        mocked.get(xapi.OWN_TWEETS_URL, json={"meta": {"result_count": 0, "next_token": "p2"}})
        mocked.get(xapi.OWN_TWEETS_URL, json={"meta": {"result_count": 0}})
        mocked.post(xapi.TWEETS_URL, json=xapi.posted("1859999", "Fixed!"), status=201)
        mocked.post(x_request.MEDIA_UPLOAD_URL, json=uploaded())
        mocked.post(x_request.MEDIA_METADATA_URL, json=metadata_created())

        x.own_user()
        x.fetch_mentions(xapi.CITY_ID, cursor=xapi.post_id(1))
        x.probe_mentions(xapi.CITY_ID)
        x.recent_posts(xapi.CITY_ID, since=datetime(2026, 11, 23, 11, 55, tzinfo=UTC))
        media_id = x.upload_media(photo, "The pothole, filled")
        x.post("Fixed!", in_reply_to=xapi.post_id(1), media_ids=[media_id])
        x.post("Snow emergency tonight", in_reply_to=None)
        return list(mocked.calls)


def multipart_fields(content_type: str, body: bytes) -> dict[str, str | bytes]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        fields[name] = payload if part.get_filename() else payload.decode()
    return fields


def problems_of(spec: Spec, call: responses.Call) -> list[str]:
    request = call.request
    assert request.method is not None and request.url is not None
    url = urlparse(request.url)
    query = dict(parse_qsl(url.query))
    problems = spec.problems_of_query(request.method, url.path, query)
    content_type = str(request.headers.get("Content-Type", ""))
    body = request.body
    if content_type.startswith("application/json"):
        assert body is not None
        schema = spec.request_schema(request.method, url.path, "application/json")
        problems += spec.problems(schema, json.loads(body), f"{url.path} body")
    elif content_type.startswith("multipart/form-data"):
        assert isinstance(body, bytes)
        schema = spec.request_schema(request.method, url.path, "multipart/form-data")
        fields = multipart_fields(content_type, body)
        problems += spec.problems(schema, fields, f"{url.path} form")
    return problems


@pytest.mark.parametrize("names", list(FieldNames))
def test_every_request_is_valid_in_the_spec_of_its_names(names: FieldNames, tmp_path: Path) -> None:
    spec = SPEC_OF[names]
    calls = every_call_the_adapter_makes(names, tmp_path)

    assert [f"{c.request.method} {urlparse(c.request.url or '').path}" for c in calls] == [
        "GET /2/users/me",
        f"GET /2/users/{xapi.CITY_ID}/mentions",
        f"GET /2/users/{xapi.CITY_ID}/mentions",
        f"GET /2/users/{xapi.CITY_ID}/mentions",
        f"GET /2/users/{xapi.CITY_ID}/tweets",
        f"GET /2/users/{xapi.CITY_ID}/tweets",
        "POST /2/media/upload",
        "POST /2/media/metadata",
        "POST /2/tweets",
        "POST /2/tweets",
    ]
    assert [p for call in calls for p in problems_of(spec, call)] == []
    # The media go to the host both specs name; nothing is sent anywhere but X's API.
    assert spec.server == "https://api.x.com"
    assert all(ANY_HOST.match(c.request.url or "") for c in calls)
    assert calls[6].request.url == spec.server + "/2/media/upload"


def test_the_two_spellings_are_each_invalid_in_the_other_spec(tmp_path: Path) -> None:
    # Why the names are a setting: no mentions query is valid in both specs.
    for names, other in [(FieldNames.TWEET, PRODUCTION), (FieldNames.POST, OLDER)]:
        mentions = every_call_the_adapter_makes(names, tmp_path)[1]
        assert problems_of(Spec(other), mentions) != []
    # The bodies are spelt the same in both.
    calls = every_call_the_adapter_makes(FieldNames.TWEET, tmp_path)
    for spec in (Spec(OLDER), Spec(PRODUCTION)):
        assert [p for call in calls[6:] for p in problems_of(spec, call)] == []


def test_the_probe_asks_for_the_fewest_posts_the_spec_allows(tmp_path: Path) -> None:
    for names, spec in SPEC_OF.items():
        probe = every_call_the_adapter_makes(names, tmp_path)[3]
        _, op = spec.operation("GET", f"/2/users/{xapi.CITY_ID}/mentions")
        (max_results,) = [
            spec.resolve(p) for p in op["parameters"] if spec.resolve(p)["name"] == "max_results"
        ]
        fewest = spec.resolve(max_results["schema"])["minimum"]
        sent = dict(parse_qsl(urlparse(probe.request.url or "").query))
        assert sent["max_results"] == str(fewest) == str(x_request.PROBE_PAGE_SIZE)
        assert sent[x_request.vocabulary(names).fields_parameter]  # every name intake asks for


# --- a refused name --------------------------------------------------------------------------

# X's answer to a parameter it does not know, as API v2 words it (InvalidRequestProblem of spec
# 2.159: `errors[].parameters`), and as spec 2.167 words the same problem (`parameter`).
UNKNOWN_PARAMETER_2159 = {
    "errors": [
        {
            "parameters": {"post.fields": ["created_at,geo"]},
            "message": "The query parameter [post.fields] is not one of [id,max_results,"
            "pagination_token,since_id,until_id,start_time,end_time,expansions,tweet.fields,"
            "media.fields,poll.fields,place.fields,user.fields]",
        }
    ],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
UNKNOWN_VALUE_2167 = {
    "type": "https://api.x.com/2/problems/invalid-request",
    "title": "Invalid Request",
    "detail": "The `post.fields` query parameter value [referenced_tweets] is not one of [...]",
    "parameter": "post.fields",
    "value": "referenced_tweets",
    "status": 400,
}


@pytest.mark.parametrize(
    ("names", "answer", "parameter", "switch"),
    [
        (FieldNames.POST, UNKNOWN_PARAMETER_2159, "post.fields", "SOCIALBOT_X_FIELD_NAMES=tweet"),
        (FieldNames.POST, UNKNOWN_VALUE_2167, "post.fields", "SOCIALBOT_X_FIELD_NAMES=tweet"),
    ],
)
@responses.activate
def test_a_refused_field_name_is_rejected_naming_the_parameter(
    names: FieldNames, answer: dict[str, object], parameter: str, switch: str
) -> None:
    responses.get(xapi.MENTIONS_URL, status=400, json=answer)

    with pytest.raises(Rejected) as err:
        XPlatform(SECRETS, field_names=names).fetch_mentions(xapi.CITY_ID, cursor=None)

    assert err.value.parameter == parameter
    message = str(err.value)
    assert f"X refused the request parameter `{parameter}` (400)" in message
    assert switch in message and "socialbot doctor" in message
    assert "\n" not in message and "SECRET" not in message


@responses.activate
def test_a_refused_expansion_under_the_tweet_names_points_to_the_post_names() -> None:
    responses.get(
        xapi.MENTIONS_URL,
        status=400,
        json={
            "errors": [
                {
                    "parameters": {"expansions": ["referenced_tweets.id"]},
                    "message": "The `expansions` query parameter value [referenced_tweets.id] "
                    "is not one of [author_id,referenced_posts]",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    with pytest.raises(Rejected, match="SOCIALBOT_X_FIELD_NAMES=post") as err:
        XPlatform(SECRETS).fetch_mentions(xapi.CITY_ID, cursor=None)
    assert err.value.parameter == "expansions"


@responses.activate
def test_a_400_naming_no_parameter_is_a_plain_rejection() -> None:
    responses.post(
        xapi.TWEETS_URL,
        status=400,
        json={"title": "Bad Request", "detail": "Duplicate content", "type": "about:blank"},
    )
    with pytest.raises(Rejected, match=r"^X refused the request \(400\): Duplicate") as err:
        XPlatform(SECRETS).post("Same again", in_reply_to=None)
    assert err.value.parameter is None
