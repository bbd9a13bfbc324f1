"""The web service keeps its costliest answers (a status page, a list of requests) while no case
changes; a staff action on a running service shows at the next request, never 30 seconds late."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.web.server import _env, copy_database, serve


def test_a_staff_action_shows_at_once_on_a_kept_page_and_list(
    demo_database: Path, tmp_path: Path
) -> None:
    database = copy_database(demo_database, tmp_path / "kept.db")
    with serve(database, tmp_path / "serve.log") as served:
        before = [served.get("/cases/8?lang=en").text for _ in range(2)]
        listed = [served.get("/open311/v2/requests.json").json() for _ in range(2)]
        one = [served.get("/open311/v2/requests/8.xml").text for _ in range(2)]
        subprocess.run(
            [sys.executable, "-m", "socialbot", "cases", "start", "8", "--as", "J. Rivera"],
            check=True,
            capture_output=True,
            env=_env({"SOCIALBOT_DATABASE_URL": f"sqlite:///{database}"}),
        )
        after = served.get("/cases/8?lang=en").text
        listed_after = served.get("/open311/v2/requests.json").json()
        one_after = served.get("/open311/v2/requests/8.xml").text

    assert before[0] == before[1] and "Seen by the city" in before[0]
    assert "Crew at work" in after
    notes = {r["service_request_id"]: r["status_notes"] for r in listed_after}
    assert listed[0] == listed[1] and notes["8"] == "Crew at work"
    assert one[0] == one[1] and "<status_notes>Crew at work</status_notes>" in one_after
