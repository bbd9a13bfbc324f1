"""A snow day recorded while `socialbot serve` runs shows at the next request: the moved due time
is in the status page and in Open311's `expected_datetime`, never 30 seconds late."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, time
from pathlib import Path

from tests.web.server import _env, copy_database, serve

ZONE = "America/New_York"


def test_a_closed_day_moves_the_expected_time_on_a_kept_page_and_list(
    demo_database: Path, tmp_path: Path
) -> None:
    database = copy_database(demo_database, tmp_path / "kept.db")
    env = {"SOCIALBOT_TIMEZONE": ZONE}
    with serve(database, tmp_path / "serve.log", env) as served:
        listed = [served.get("/open311/v2/requests.json").json() for _ in range(2)]
        # A case still open and due in business days: due at 23:59:59 on its last day.
        case = next(
            r
            for r in listed[0]
            if r["status"] == "open"
            and r["expected_datetime"]
            and datetime.fromisoformat(r["expected_datetime"]).time() == time(23, 59, 59)
        )
        number, due = case["service_request_id"], datetime.fromisoformat(case["expected_datetime"])
        page = [served.get(f"/cases/{number}?lang=en").text for _ in range(2)]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "socialbot",
                "calendar",
                "close",
                f"{due:%Y-%m-%d}",
                "--reason",
                "snow storm",
                "--as",
                "J. Rivera",
            ],
            check=True,
            capture_output=True,
            env=_env({"SOCIALBOT_DATABASE_URL": f"sqlite:///{database}", **env}),
        )
        listed_after = served.get("/open311/v2/requests.json").json()
        one_after = served.get(f"/open311/v2/requests/{number}.json").json()
        page_after = served.get(f"/cases/{number}?lang=en").text

    assert listed[0] == listed[1] and page[0] == page[1]  # kept while nothing changed
    moved = {r["service_request_id"]: r["expected_datetime"] for r in listed_after}[number]
    assert datetime.fromisoformat(moved) > due
    assert one_after[0]["expected_datetime"] == moved
    assert page_after != page[0]
