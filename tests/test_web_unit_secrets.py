"""socialbot-web.service, the one that faces the Internet, holds none of the bot's secrets: its
environment is not the file the bot's secrets may be kept in (`socialbot.env`: X's, Mastodon's and
Bluesky's tokens, the Open311 key), and the credentials' folder is not even visible to it."""

from __future__ import annotations

from tests.test_systemd_unit import WEB_UNIT, parse_unit, values


def test_the_web_service_reads_no_file_of_the_bots_secrets() -> None:
    service = parse_unit(WEB_UNIT.read_text(encoding="utf-8"))["Service"]

    loaded = [v.lstrip("-") for v in values(service, "EnvironmentFile")]
    assert "/etc/socialbot/socialbot.env" not in loaded
    hidden = " ".join(values(service, "InaccessiblePaths"))
    assert "/etc/socialbot/socialbot.env" in hidden and "/etc/socialbot/credentials" in hidden
