"""`broadcast send … --channel sms [--district NAME]`, its preview, `broadcast log`/`show` of an
alert to subscribers, `sms subscribers` and `usage` with SMS, as staff read them at 80 columns.

SMS is registered for these tests as the lead's merge will register it: a `NetworkKind` in
`app.NETWORKS` with `subscribers=app.sms_alert_sending`, and an `sms/intake` channel."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.cells import cell_len
from sqlalchemy import insert
from sqlmodel import Session

from socialbot import app
from socialbot.config import Settings
from socialbot.consent import record_consent
from socialbot.districts import DEMO_DISTRICTS
from socialbot.metering import DatabaseMeter
from socialbot.network_settings import Channel
from socialbot.networks.sms.adapter import POST_MESSAGE, SmsNetwork, TwilioCredentials
from socialbot.sms import segments
from socialbot.sms.rules import sms_text_rules
from socialbot.store.db import make_engine
from socialbot.store.models import ConsentAction, ConsentSource, Subscription
from socialbot.usage import ApiCall, Charge
from tests.cli.run import invoke
from tests.networks.sms import server

EN = "Snow emergency: no parking on main roads from 8 pm tonight. Cars will be towed."
ES = "Emergencia de nieve: no se estaciona en calles principales desde las 8 pm. Grúas."
PEOPLE = 3_000


def _sms_network(settings: Settings, account: str, **extra: object) -> SmsNetwork:
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, server.CITY_NUMBER)
    engine = make_engine(settings.database_url, create=False)
    return SmsNetwork(credentials, engine, account=account)


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", url)
    monkeypatch.setenv("SOCIALBOT_DISTRICTS", str(DEMO_DISTRICTS))
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SOCIALBOT_TWILIO_SEGMENTS_PER_SECOND", "1")
    sms = app.NetworkKind(
        _sms_network,  # type: ignore[arg-type]
        lambda _settings, _account: server.CITY_NUMBER,
        lambda _settings: sms_text_rules(),
        dataclasses.replace(app.NETWORKS["x"].media, network="SMS", suffixes=(), max_count=0),
        lambda _settings, handle: handle,
        subscribers=app.sms_alert_sending,
    )
    monkeypatch.setattr(app, "NETWORKS", {**app.NETWORKS, "sms": sms})
    monkeypatch.setattr(app, "configured_channels", lambda _s: (Channel("sms", "intake"),))
    assert invoke("db", "upgrade")[0] == 0
    engine = make_engine(url, create=False)
    try:
        with Session(engine) as session:
            session.execute(
                insert(Subscription),
                [
                    {
                        "platform": "sms",
                        "address": f"+1617{n:07d}",
                        "district": (None, "Dorchester", "Roxbury")[n % 3],
                        "lang": "es" if n % 4 == 0 else "en",
                        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
                    }
                    for n in range(PEOPLE)
                ],
            )
            for n in (3, 6):  # two whole-city subscribers say STOP
                record_consent(
                    session,
                    "sms",
                    f"+1617{n:07d}",
                    ConsentAction.STOP,
                    ConsentSource.KEYWORD,
                    at=datetime(2026, 12, 1, 12, tzinfo=UTC),
                )
            session.commit()
    finally:
        engine.dispose()
    return url


def at(columns: int, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    return invoke(*args)


def widest(out: str) -> int:
    return max(cell_len(line) for line in out.splitlines())


SEND = ("broadcast", "send", "--lang", "en,es", "--text", EN, "--text", ES)


def test_the_preview_says_who_is_texted_what_in_which_encoding_and_what_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = at(80, monkeypatch, *SEND, "--district", "dorchester", "--dry-run")
    assert code == 0, out
    assert widest(out) <= 80
    # Dorchester's and the whole city's subscribers, less the two who said STOP.
    reach = [n for n in range(PEOPLE) if n % 3 in (0, 1) and n not in (3, 6)]
    spanish = sum(1 for n in reach if n % 4 == 0)
    en, es = segments.measure(EN), segments.measure(ES)
    assert es.encoding is segments.Encoding.UCS2 and en.encoding is segments.Encoding.GSM7
    units = (len(reach) - spanish) * en.segments + spanish * es.segments
    assert f"{len(reach) - spanish:,}" in out and f"{spanish:,}" in out
    assert "GSM-7" in out and "UCS-2" in out
    assert f"{len(reach):,} subscriber(s): Dorchester and the whole city" in out
    assert f"{units:,} segments in all, about ${units * 0.0083:,.2f}" in out
    minutes = round(math.ceil(units) / 60)
    assert f"takes about {minutes} min at 1 segment/s" in out
    assert "Dry run" in out


def test_the_default_channels_include_the_subscribers_and_an_unknown_district_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = at(80, monkeypatch, *SEND, "--dry-run")
    assert code == 0 and f"{PEOPLE - 2:,} subscriber(s): the whole city" in out
    monkeypatch.setenv("SOCIALBOT_TWILIO_SEGMENTS_PER_SECOND", "30")
    code, out = at(80, monkeypatch, *SEND, "--dry-run")
    assert "at 30 segment/s" in out
    code, out = at(80, monkeypatch, *SEND, "--district", "Narnia", "--dry-run")
    assert code == 1


def test_sending_queues_a_text_each_and_the_log_and_show_count_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = at(80, monkeypatch, *SEND, "--channel", "sms", "--district", "Roxbury", "--yes")
    assert code == 0, out
    reach = [n for n in range(PEOPLE) if n % 3 in (0, 2) and n not in (3, 6)]
    assert f"Queued {len(reach):,} text(s)" in out and widest(out) <= 80

    code, out = at(80, monkeypatch, "broadcast", "log")
    assert code == 0 and widest(out) <= 80
    assert "sending" in out and "0 sent" in out and f"{len(reach):,} queued" in out

    code, out = at(80, monkeypatch, "broadcast", "log", "--json")
    [entry] = json.loads(out)
    assert entry["texted"] == {"sent": 0, "queued": len(reach), "opted_out": 0, "failed": 0}

    code, out = at(80, monkeypatch, "broadcast", "show", str(entry["broadcast_id"]))
    assert code == 0 and widest(out) <= 80
    assert "district: Roxbury" in out
    assert "+1617" not in out  # no number, ever


def test_sms_subscribers_counts_by_district_and_language_and_shows_no_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = at(80, monkeypatch, "sms", "subscribers")
    assert code == 0, out
    assert widest(out) <= 80 and "+1617" not in out
    active = [n for n in range(PEOPLE) if n not in (3, 6)]
    assert f"{len(active):,} active alert subscriber(s)" in out
    assert "(whole city)" in out and "Charlestown" in out  # a district with none: 0
    assert "2 number(s) opted out (STOP)" in out

    code, out = at(80, monkeypatch, "sms", "subscribers", "--json")
    report = json.loads(out)
    assert report["subscribers"] == len(active) and report["opted_out"] == 2
    dorchester_es = sum(1 for n in active if n % 3 == 1 and n % 4 == 0)
    assert {"district": "Dorchester", "lang": "es", "count": dorchester_es} in (
        report["by_district"]
    )
    assert "+1617" not in out


def test_usage_shows_sms_segments_and_dollars_apart_from_xs_budget(
    monkeypatch: pytest.MonkeyPatch, city: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_MONTHLY_BUDGET", "50")
    monkeypatch.setenv("SOCIALBOT_TWILIO_PRICE_PER_SEGMENT", "0.01")
    engine = make_engine(city, create=False)
    now = datetime.now(UTC)
    try:
        meter = DatabaseMeter(engine)
        for units in (1, 3, 2):
            meter.record(
                ApiCall("sms", "intake", POST_MESSAGE, now, 201, Charge.SMS_SEGMENT, units)
            )
    finally:
        engine.dispose()
    code, out = at(80, monkeypatch, "usage")
    assert code == 0 and widest(out) <= 80
    assert "6 segment(s)" in out and "$0.06" in out
    assert "total: $0.06 (estimate)" in out
    assert "X: $0.00 of $50.00 budget" in out  # SMS spend is not X's

    code, out = at(80, monkeypatch, "usage", "--json")
    report = json.loads(out)
    assert report["spend_by_network_usd"] == {"sms": 0.06}
    assert report["budget_spend_usd"] == 0.0


def test_send_asks_before_texting_and_a_no_queues_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from socialbot.cli import app as cli
    from tests.cli.run import runner

    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(cli, [*SEND, "--district", "Roxbury"], input="n\n")
    reach = [n for n in range(PEOPLE) if n % 3 in (0, 2) and n not in (3, 6)]
    assert f"Text {len(reach):,} subscriber(s) now? [y/N]" in result.stdout
    assert result.exit_code == 1 and "Nothing posted." in result.stdout
    assert json.loads(invoke("broadcast", "log", "--json")[1]) == []
