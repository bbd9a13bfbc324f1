"""The photos staff attach (`cases resolve --photo`, `broadcast send --media`), kept where the
service can read them.

The path staff type names a file in *their* view of the machine. The shipped unit gives the service
a private /tmp and no /home (PrivateTmp=yes, ProtectHome=yes), so a photo in /tmp/crew4/ or a home
folder would be accepted by the command and never found by the service: the reply would fail for
good hours later. So the command, which can read the file, copies it into `SOCIALBOT_MEDIA_DIR`
(under the service's state directory) and the outbox or broadcast row names the copy. What is
checked is the copy's bytes, read once: a photo cannot change between the check and the upload,
and a file that only has a photo's name (a HEIC renamed .jpg, a database) is refused by content.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

from socialbot.errors import SocialbotError
from socialbot.networks.base import MediaRules

# The first bytes of each photo format we know, and the suffix a copy gets when the name staff
# gave has none of the network's.
_SIGNATURES = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


def photo_suffix(data: bytes) -> str | None:
    """The suffix of the photo format `data` is in, or None when it is none we know."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in _SIGNATURES if data.startswith(magic)), None)


# What staff call the formats of those suffixes.
_FORMAT_NAMES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF", ".webp": "WebP"}


def formats(rules: MediaRules) -> str:
    """The photo formats the network takes, as staff call them: "JPEG, PNG, GIF or WebP"."""
    return either(
        dict.fromkeys(_FORMAT_NAMES.get(s, s.lstrip(".").upper()) for s in rules.suffixes)
    )


def either(choices: Iterable[str]) -> str:
    """ "a, b or c"; "a" alone."""
    names = list(choices)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def megabytes(size: int) -> str:
    """Rounded up to a tenth: 5.1, never "5.0 MB is over 5 MB"."""
    return f"{math.ceil(size * 10 / 1024 / 1024) / 10} MB"


def keep_photo(source: Path, media_dir: Path, label: str, rules: MediaRules) -> Path:
    """Copy the photo at `source` into `media_dir` under a new name (`label-<random>.jpg`) and
    return the copy's absolute path. SocialbotError with the problem alone (the caller names the
    option and the file) when it cannot be read, is no photo the network of `rules` takes, or
    cannot be copied."""
    try:
        with source.open("rb") as photo:
            data = photo.read(rules.max_bytes + 1)
    except OSError as exc:
        raise SocialbotError(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > rules.max_bytes:
        raise SocialbotError(
            f"over {megabytes(rules.max_bytes)}; {rules.network} takes photos up to "
            f"{rules.megabytes} MB"
        )
    if not data:
        raise SocialbotError("the file is empty")
    kind = photo_suffix(data)
    if kind is None or kind not in rules.suffixes:
        raise SocialbotError(f"not a {formats(rules)} image by its content, whatever its name says")
    suffix = source.suffix.lower() if source.suffix.lower() in rules.suffixes else kind
    target = Path(os.path.abspath(media_dir)) / f"{label}-{secrets.token_hex(8)}{suffix}"
    temporary: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(handle, "wb") as copy:
            copy.write(data)
            copy.flush()
            os.fsync(copy.fileno())
        # Readable by the service's user whoever ran the command; the photo is going to be public.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)  # whole or not at all, never a half-written photo
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise SocialbotError(
            f"cannot be copied to {target.parent} ({exc.strerror or exc}); SOCIALBOT_MEDIA_DIR "
            "must be a folder this command can write and the service can read"
        ) from None
    return target


def discard(path: Path | None) -> None:
    """Remove a copy whose action did not happen (its transaction failed)."""
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()
