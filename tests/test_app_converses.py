"""`NetworkKind.converses` reaches intake: the composition root builds a conversing network's
intake with `IntakeRules.converses`, and every other network's without."""

from __future__ import annotations

import dataclasses

import pytest

from socialbot import app
from socialbot.app import build_service
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.network_settings import Channel
from socialbot.networks.fake import FakeNetwork
from tests.conftest import Clock


@pytest.mark.parametrize("converses", [True, False])
def test_the_intake_of_a_network_reads_its_texts_as_its_kind_says(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch, converses: bool
) -> None:
    fake = FakeNetwork(name="texting")
    kind = dataclasses.replace(app.NETWORKS["mastodon"], converses=converses)
    monkeypatch.setattr(app, "NETWORKS", {**app.NETWORKS, "texting": kind})
    service = build_service(
        settings.model_copy(update={"city_name": "Springfield 311"}),
        clock=clock,
        networks={Channel("texting", INTAKE_ACCOUNT): fake},
    )
    try:
        intake = service.intake_for(fake)
        assert intake.rules_for("+16175550100").converses is converses
        assert intake.city_name == "Springfield 311"
    finally:
        service.close()
