"""Is a request to the webhook Twilio's: its `X-Twilio-Signature` checked with the `twilio`
package's own validator, against the address Twilio was told to call.

That address is `WEB_PUBLIC_URL` + `/sms/twilio` (+ the query string, when the console's URL has
one), never the URL the app sees: behind the city's reverse proxy the scheme, host and port the
app is reached at are not the ones Twilio signed. The signature is the auth token's (HMAC-SHA1);
a webhook signed with a SharedKey instead (`X-Twilio-Webhooks-Signature-Settings`) fails the
check, since socialbot holds no SharedKey.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from twilio.request_validator import RequestValidator

WEBHOOK_PATH = "/sms/twilio"
SIGNATURE_HEADER = "x-twilio-signature"


def signed_url(public_url: str, query: str) -> str:
    """The URL Twilio signs a request to the webhook with: `public_url` (the service's address,
    as `WEB_PUBLIC_URL` holds it, without a trailing slash), the path and `query` as it came
    (still percent-encoded), if any."""
    url = public_url.rstrip("/") + WEBHOOK_PATH
    return f"{url}?{query}" if query else url


def is_signed(
    auth_token: str, url: str, pairs: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    """`signature` is Twilio's for `url` and the form `pairs` under `auth_token`. A missing or
    empty signature is no signature; neither is one over text no HMAC can be computed of (a
    lone surrogate, which no UTF-8 request carries)."""
    if not signature:
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, _Form(pairs), signature))
    except UnicodeEncodeError:
        return False


class _Form:
    """The form as the validator reads one: its names, and each name's values (`getlist`, as it
    asks Django's QueryDict), so a repeated field is signed as Twilio signs it."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getlist(self, name: str) -> list[str]:
        return self._values[name]
