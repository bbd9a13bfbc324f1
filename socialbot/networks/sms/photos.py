"""An MMS's photos, fetched from Twilio into `SOCIALBOT_MEDIA_DIR`, so that the case's photo is
a file of ours and not an address that needs the account's credentials (or, without "HTTP Basic
Authentication for media access", one anyone holding it may open).

What is fetched, and how:

- Only a `MediaUrl` on `https://api.twilio.com/2010-04-01/Accounts/<our account>/…`: the
  account's credentials (HTTP basic auth) go to Twilio's API host and to our account's media
  there, never anywhere else. Any other address is left alone, no request made.
- Twilio answers a media URL with a redirect to a short-lived address on its CDN
  (`mms.twiliocdn.com` with media auth on, `s3-external-1.amazonaws.com` without; valid four
  hours). That address is signed in itself, and its host is whatever CDN Twilio uses this year:
  it is followed, over https only, *without* credentials (so a list of CDN hosts that went
  stale could not lose every photo, and a redirect anywhere cannot carry the token with it).
  A redirect back to api.twilio.com gets them again; three redirects at most.
- Images only: a JPEG, PNG, GIF or WebP by its content type *and* its first bytes
  (`media.photo_suffix`); at most 5 MB (an MMS's limit), read in chunks and stopped past it;
  10 seconds to connect and between bytes.
- The file is named by the text's MessageSid and the media's index
  (`sms-<MessageSid>-<index>.jpg`), written whole or not at all: a poll done again (its page's
  transaction failed, the bot was killed) finds the file and fetches nothing.

A photo that cannot be fetched never holds the text up: the mention goes on without it, the
reason in `Mention.missing` (shown to staff with the mention's record), and the cursor moves
past the row as for any text, so it is never tried again. Once Twilio cannot be reached (a
timeout, a refused connection, a 5xx), the rest of that poll's photos are not tried either: a
Twilio outage costs one timeout a poll, not one a photo.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from socialbot.domain import Media
from socialbot.media import megabytes, photo_suffix
from socialbot.networks.base import MentionPage

log = logging.getLogger(__name__)

API_HOST = "api.twilio.com"
MAX_BYTES = 5 * 1024 * 1024  # an MMS's media, all of it, may not be more (Twilio's limit)
TIMEOUT = (10.0, 10.0)  # to connect; between two reads
MAX_REDIRECTS = 3
PREFIX = "sms-"
# The content types of the formats `media.photo_suffix` knows (and networks take as photos).
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp"})
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _NotKept(Exception):
    """Why one photo is not kept: a reason for staff, naming no number and no address."""


class _Unreachable(_NotKept):
    """Twilio did not answer (a timeout, no connection, a 5xx): no more tries this poll."""


@dataclass(frozen=True, slots=True)
class PhotoFetch:
    """How one poll fetches its texts' photos: the account (whose media alone get its
    credentials), where the files go, and a session for the requests."""

    account_sid: str
    auth_token: str = field(repr=False)
    media_dir: Path
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def kept(self, pages: list[MentionPage]) -> list[MentionPage]:
        """`pages` with each photo of their mentions a file in `media_dir` (`Media.url` its
        absolute path), each photo that could not be kept left out, its reason in the
        mention's `missing`; Twilio given up on after its first failure to answer."""
        reachable = True
        out = []
        for page in pages:
            mentions = []
            for mention in page.mentions:
                photos, missing = [], list(mention.missing)
                for position, photo in enumerate(mention.media, start=1):
                    label = f"photo {position} of {len(mention.media)}"
                    try:
                        if not reachable:
                            raise _NotKept("Twilio could not be reached")
                        photos.append(replace(photo, url=str(self._keep(mention.post_id, photo))))
                    except _Unreachable as exc:
                        reachable = False
                        missing.append(f"{label} not kept: {exc}")
                    except _NotKept as exc:
                        missing.append(f"{label} not kept: {exc}")
                mentions.append(replace(mention, media=tuple(photos), missing=tuple(missing)))
            out.append(replace(page, mentions=tuple(mentions)))
        return out

    def _keep(self, message_sid: str, photo: Media) -> Path:
        name = f"{PREFIX}{message_sid}-{_index(photo)}"
        folder = Path(os.path.abspath(self.media_dir))
        found = _existing(folder, name)
        if found is not None:
            return found
        if photo.url is None or not self.ours(photo.url):
            raise _NotKept("its address is not our Twilio account's media")
        data, content_type = self._download(photo.url)
        suffix = photo_suffix(data)
        if suffix is None:
            raise _NotKept(f"not a JPEG, PNG, GIF or WebP image by its content ({content_type})")
        return _write(folder, name + suffix, data)

    def ours(self, url: str) -> bool:
        """Whether `url` is our account's media on Twilio's API host: the one address the
        credentials are sent to."""
        try:
            parts = urlsplit(url)
            return (
                parts.scheme == "https"
                and parts.hostname == API_HOST
                and parts.port is None
                and parts.username is None
                and parts.path.startswith(f"/2010-04-01/Accounts/{self.account_sid}/")
            )
        except ValueError:  # "[::1" or a port that is no number: no address at all
            return False

    def _download(self, url: str) -> tuple[bytes, str]:
        for _ in range(MAX_REDIRECTS + 1):
            auth = (self.account_sid, self.auth_token) if self.ours(url) else None
            try:
                with self.session.get(
                    url, auth=auth, timeout=TIMEOUT, stream=True, allow_redirects=False
                ) as answer:
                    if answer.status_code in _REDIRECTS:
                        target = _https(urljoin(url, answer.headers.get("Location", "")))
                        if target is None:
                            raise _NotKept("Twilio redirected it to an address that is not https")
                        url = target
                        continue
                    return _body(answer)
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise _Unreachable(f"Twilio could not be reached ({type(exc).__name__})") from None
            except requests.RequestException as exc:
                raise _NotKept(f"the request failed ({type(exc).__name__})") from None
        raise _NotKept(f"more than {MAX_REDIRECTS} redirects")


def _https(url: str) -> str | None:
    """`url` if it is an https address with a host, else None."""
    try:
        parts = urlsplit(url)
        return url if parts.scheme == "https" and parts.hostname and parts.port != 0 else None
    except ValueError:
        return None


def _body(answer: requests.Response) -> tuple[bytes, str]:
    status = answer.status_code
    if status >= 500:
        raise _Unreachable(f"Twilio answered {status}")
    if status in (401, 403):
        raise _NotKept(f"Twilio refused the account's credentials ({status})")
    if status != 200:
        raise _NotKept(f"Twilio answered {status}")
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise _NotKept(f"not a photo ({content_type or 'no content type'})")
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise _NotKept(f"{megabytes(int(declared))}, over an MMS's 5 MB")
    data = bytearray()
    for chunk in answer.iter_content(_CHUNK):
        data += chunk
        if len(data) > MAX_BYTES:
            raise _NotKept("over an MMS's 5 MB")
    return bytes(data), content_type


def _index(photo: Media) -> str:
    """The media's place among the text's (`wire` keys it `<MessageSid>/<index>`)."""
    index = photo.key.rpartition("/")[2]
    return index if index.isdigit() else "0"


def _existing(folder: Path, name: str) -> Path | None:
    for suffix in (".jpg", ".png", ".gif", ".webp"):
        path = folder / (name + suffix)
        if path.is_file():
            return path
    return None


def _write(folder: Path, name: str, data: bytes) -> Path:
    target = folder / name
    temporary: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
        with os.fdopen(handle, "wb") as copy:
            copy.write(data)
            copy.flush()
            os.fsync(copy.fileno())
        # A private text's photo: the service's user and its group (staff) only, never public.
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)  # whole or not at all
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        log.warning("event=mms_photo_not_written reason=%s", exc.strerror or type(exc).__name__)
        raise _NotKept(
            f"it cannot be written to SOCIALBOT_MEDIA_DIR ({exc.strerror or exc})"
        ) from None
    return target
