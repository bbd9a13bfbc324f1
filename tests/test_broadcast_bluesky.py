"""A long alert to a Bluesky notify account, during storm mode, through the command."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import regex
from alembic import command
from typer.testing import CliRunner

from socialbot.broadcasts import storm
from socialbot.cli import app as cli
from socialbot.config import Settings
from socialbot.store.db import alembic_config, make_engine
from tests.conftest import Clock
from tests.networks.bluesky.server import CITY_DID, BlueskyServer
from tests.networks.x.test_x_media import tiny_png
from tests.test_app_bluesky import city, pds, use_the_city_settings  # noqa: F401

SENTENCE = "Snow emergency 🚨: move cars off the main roads by 8 pm; see https://boston.gov/snow. "


def test_a_long_alert_is_a_thread_under_one_root_with_facets_and_the_storm_hashtag(
    city: Settings,  # noqa: F811
    clock: Clock,
    pds: BlueskyServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(city.database_url)
    command.upgrade(alembic_config(engine), "head")
    storm.start(engine, "Sandy", "BoSandy", "lead", clock)
    engine.dispose()
    use_the_city_settings(city, monkeypatch)

    result = CliRunner().invoke(cli, ["broadcast", "send", "--text", SENTENCE * 8, "--yes"])

    assert result.exit_code == 0, result.output
    records = sorted(pds.records.values(), key=lambda r: r["value"]["createdAt"])
    assert len(records) >= 3, [r["value"]["text"] for r in records]
    first = records[0]
    for record in records:
        text = record["value"]["text"]
        assert len(regex.findall(r"\X", text)) <= 300
        assert "#BoSandy" in text
        tags = [
            f["tag"]
            for facet in record["value"].get("facets", [])
            for f in facet["features"]
            if f["$type"] == "app.bsky.richtext.facet#tag"
        ]
        assert "BoSandy" in tags
    assert "reply" not in first["value"]
    for before, record in itertools.pairwise(records):
        reply = record["value"]["reply"]
        assert reply["root"] == {"uri": first["uri"], "cid": first["cid"]}
        assert reply["parent"] == {"uri": before["uri"], "cid": before["cid"]}
    assert all(r["uri"].startswith(f"at://{CITY_DID}/") for r in records)


def test_an_alert_with_a_photo_embeds_it_with_its_alt_text(
    city: Settings,  # noqa: F811
    clock: Clock,
    pds: BlueskyServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    engine = make_engine(city.database_url)
    command.upgrade(alembic_config(engine), "head")
    engine.dispose()
    use_the_city_settings(city, monkeypatch)
    monkeypatch.setenv("SOCIALBOT_MEDIA_DIR", str(tmp_path / "media"))
    photo = tmp_path / "radar.png"
    photo.write_bytes(tiny_png())
    alt = "Radar map: heavy snow over Boston from 6 pm, ending by morning. " * 3

    result = CliRunner().invoke(
        cli,
        ["broadcast", "send", "--text", SENTENCE * 6, "--media", str(photo), "--alt", alt, "--yes"],
    )

    assert result.exit_code == 0, result.output
    records = sorted(pds.records.values(), key=lambda r: r["value"]["createdAt"])
    assert len(records) >= 2
    embed = records[0]["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == [alt]
    assert all("embed" not in r["value"] for r in records[1:])
