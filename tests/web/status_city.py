"""A demo database with what the status page shows beyond the demo: case #8 resolved with an
after-photo (by the real `socialbot cases resolve 8 --photo`), case #14 merged into #6, and case
#13's resolved reply pointing at a file outside the media folder (what a tampered or moved
database could hold, which the page must never serve)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.web.server import _env, copy_database

ZONE = "America/New_York"
ALT = "Fuga reparada: válvula nueva en Centre St"


@dataclass(frozen=True, slots=True)
class StatusCity:
    database: Path
    media_dir: Path
    photo: Path  # the file staff attached (the service serves its copy in media_dir)
    outside: Path  # a file outside media_dir that case #13's row names

    @property
    def env(self) -> dict[str, str]:
        return {"SOCIALBOT_TIMEZONE": ZONE, "SOCIALBOT_MEDIA_DIR": str(self.media_dir)}


def make_status_city(demo_database: Path, where: Path) -> StatusCity:
    database = copy_database(demo_database, where / "status.db")
    media_dir = where / "media"
    photo = where / "after.jpg"
    Image.new("RGB", (160, 120), (40, 120, 200)).save(photo, "JPEG")
    outside = where / "secret.jpg"
    outside.write_bytes(photo.read_bytes())
    city = StatusCity(database, media_dir, photo, outside)
    env = _env({"SOCIALBOT_DATABASE_URL": f"sqlite:///{database}", **city.env})
    for args in (
        ["resolve", "8", "--photo", str(photo), "--note", ALT, "--as", "J. Rivera"],
        ["merge", "14", "--into", "6"],
    ):
        subprocess.run(
            [sys.executable, "-m", "socialbot", "cases", *args],
            check=True,
            capture_output=True,
            env=env,
        )
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE outbox SET media_path = ? WHERE case_id = 13 AND template = 'resolved'",
            (str(outside),),
        )
    connection.close()
    return city
