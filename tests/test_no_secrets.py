"""No token or secret ever appears in a log line or an error: not from our code, and not from a
library's DEBUG line or a traceback either (`socialbot.logs` masks them)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import regex
import requests
import responses
from typer.testing import CliRunner

from socialbot.cli import app
from socialbot.config import load_settings
from socialbot.logs import MASK, fields, named_secrets, secrets_of, setup_logging
from tests import xapi

SECRETS = {
    "SOCIALBOT_X_CONSUMER_KEY": "ck-7f3a9c1e55",
    "SOCIALBOT_X_CONSUMER_SECRET": "cs-0b8d2f6a91",
    "SOCIALBOT_X_ACCESS_TOKEN": "1583000000000000001-at4e7c2b",
    "SOCIALBOT_X_ACCESS_TOKEN_SECRET": "ats-9c5e1d3f77",
    "SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN": "1583000000000000002-nt8a1f",
    "SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN_SECRET": "nts-2d6b4e8c05",
    "SOCIALBOT_MASTODON_ACCESS_TOKEN": "mt-Zq81v0RkYc3",
}
runner = CliRunner()


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", xapi.CITY_ID)
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_USER_ID", "1583000000000000002")
    monkeypatch.setenv("SOCIALBOT_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("SOCIALBOT_BACKFILL_HOURS", "1000000")
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", "https://mastodon.example")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def run(*args: str) -> str:
    """Everything a command wrote, standard output and error (the log) together."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.stdout + result.stderr


def assert_no_secret(text: str) -> None:
    leaked = [name for name, value in SECRETS.items() if value in text]
    assert leaked == []


@responses.activate
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_bad_day_at_x_logs_no_secret(log_format: str) -> None:
    # X echoing the request back in its error body is the worst case a log line can quote.
    echo = {"title": "Unauthorized", "detail": f"token {SECRETS['SOCIALBOT_X_ACCESS_TOKEN']}"}
    responses.get(xapi.MENTIONS_URL, json=echo, status=401)
    responses.get(xapi.MENTIONS_URL, json={"title": "Forbidden"}, status=403)
    responses.get(xapi.MENTIONS_URL, json={"title": "Too Many Requests"}, status=429)
    responses.get(xapi.MENTIONS_URL, json={"title": "Internal Error"}, status=500)
    responses.get(xapi.MENTIONS_URL, body=requests.ConnectionError("refused"))
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.36, -71.06))]),
    )
    responses.post(xapi.TWEETS_URL, json=echo, status=401)
    responses.post(xapi.TWEETS_URL, body=requests.ReadTimeout("read timed out"))
    responses.get(xapi.OWN_TWEETS_URL, json=echo, status=401)

    out = ""
    for _ in range(6):
        out += run("--log-format", log_format, "poll", "--once")
    out += run("--log-format", log_format, "send", "--once")
    out += run("--log-format", log_format, "send", "--once")
    out += run("--log-format", log_format, "status")
    out += run("--log-format", log_format, "usage", "--json")

    assert "X rejected the credentials (401)" in out  # the failures were there to be logged
    assert MASK in out  # and the echoed token was masked
    assert_no_secret(out)


def test_a_setting_error_never_shows_the_value_of_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_CONSUMER_KEYY", "ck-7f3a9c1e55")
    out = run("status")
    assert "did you mean" in out
    assert_no_secret(out)

    # A Mastodon token on an X account: the error names the setting, never its value.
    monkeypatch.delenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_CONSUMER_KEYY")
    monkeypatch.setenv(
        "SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN",
        SECRETS["SOCIALBOT_MASTODON_ACCESS_TOKEN"],
    )
    out = run("status")
    assert "SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN: a Mastodon setting" in out
    assert_no_secret(out)
    monkeypatch.delenv("SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN")
    monkeypatch.delenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN_SECRET")
    out = run("broadcast", "send", "--text", "Snow emergency tonight.", "--yes")
    assert_no_secret(out)


def test_mastodon_tokens_are_masked_in_every_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A named account on Mastodon: its token is a secret of the settings like the intake's.
    notify = "mt-Pd4w2Ls9Hx7"
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__NETWORK", "mastodon")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN", notify)
    settings = load_settings()
    assert ("SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN", notify) in named_secrets(settings)
    intake = SECRETS["SOCIALBOT_MASTODON_ACCESS_TOKEN"]
    for log_format in ("text", "json"):
        setup_logging("DEBUG", log_format, secrets_of(settings))
        logging.getLogger("socialbot.networks").info("event=auth header=%r", f"Bearer {intake}")
        logging.getLogger("socialbot.outbox").warning("event=send_failed error=%r", notify)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4 and all(MASK in line for line in lines)
    assert not [line for line in lines if intake in line or notify in line]


def test_a_database_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SOCIALBOT_DATABASE_URL", "postgresql+psycopg://socialbot:pw-4c2e9a7f1b@127.0.0.1:1/city"
    )
    out = run("status")
    assert "cannot" in out.lower() or "error" in out.lower()
    assert "pw-4c2e9a7f1b" not in out


def test_library_lines_and_tracebacks_are_masked_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = SECRETS["SOCIALBOT_X_ACCESS_TOKEN"]
    for log_format in ("text", "json"):
        setup_logging("DEBUG", log_format, SECRETS.values())
        logging.getLogger("requests_oauthlib").warning(
            'Authorization: OAuth oauth_token="%s"', token
        )
        try:
            raise RuntimeError(f"request failed: {token}")
        except RuntimeError:
            logging.getLogger("socialbot.scheduler").exception("event=job_error job=poll")
    err = capsys.readouterr().err
    assert err.count(MASK) >= 4  # each line, each traceback
    assert token not in err


def test_json_lines_carry_the_events_fields_as_keys(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", "json")
    logging.getLogger("socialbot.poller").info(
        "event=poll pages=%d error=%r note=%r", 1, "X said 'no'", "días"
    )
    line = json.loads(capsys.readouterr().err)
    assert line["level"] == "INFO" and line["logger"] == "socialbot.poller"
    assert (line["event"], line["pages"], line["error"], line["note"]) == (
        "poll",
        "1",
        "X said 'no'",
        "días",
    )
    assert fields("event=started jobs=poll,send") == {"event": "started", "jobs": "poll,send"}


# A password may hold any character; a leaked short one is a leak all the same.
AWKWARD = ['pw"4\\x9', "it's\\n\"q", "pw1"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_with_quotes_backslashes_or_few_characters_are_masked_in_every_spelling(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", log_format, AWKWARD)
    log = logging.getLogger("socialbot.outbox")
    for secret in AWKWARD:
        log.warning("event=send_failed error=%r raw=%s", f"X said: {secret}", secret)
        log.warning("event=args args=%r", (secret, {"token": secret}))
        try:
            raise RuntimeError(secret)
        except RuntimeError:
            log.exception("event=job_error job=send")
    err = capsys.readouterr().err
    for secret in AWKWARD:
        for spelling in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]):
            assert spelling not in err, (secret, spelling)
    assert err.count(MASK) >= 3 * 4
    if log_format == "json":
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert {line["event"] for line in lines} == {"send_failed", "args", "job_error"}
        assert all(MASK in line["raw"] for line in lines if line["event"] == "send_failed")


def test_doctor_fails_on_a_secret_too_short_to_be_a_credential(tmp_path: Path) -> None:
    out = runner.invoke(
        app,
        ["doctor", "--offline"],
        env={"SOCIALBOT_X_ACCESS_TOKEN_SECRET": "abc", "SOCIALBOT_LOG_LEVEL": "WARNING"},
    )
    text = out.stdout + out.stderr
    assert out.exit_code == 1
    assert "SOCIALBOT_X_ACCESS_TOKEN_SECRET is shorter than 6 characters" in text
    assert "abc" not in text.replace("SOCIALBOT", "")


# A secret outside ASCII, and one with a backslash and both quotes: each has spellings (bytes
# repr, ascii(), the repr of its repr) that a list of spellings of the formatted line misses.
HOSTILE = ["tokénSECRET9", "ab\\CDxy'EFzw\"GHqq"]


def _pieces(secret: str) -> list[str]:
    """The runs of letters and digits of `secret`: every spelling of it holds each of them."""
    return list(regex.findall(r"[A-Za-z0-9]{2,}", secret))


def _hostile_log_calls(log: logging.Logger, secret: str) -> None:
    log.info("event=bytes v=%r", secret.encode())
    log.info("event=bytes_s v=%s", secret.encode())
    log.info("event=ascii v=%s", ascii(secret))
    log.info("event=a v=%a", secret)
    log.info("event=reprrepr v=%r", repr(secret))
    log.info("event=nested v=%r", ({"k": [secret.encode(), repr(secret)]},))
    log.info("event=mapping v=%(v)r", {"v": ascii(secret)})
    log.info("event=exc v=%r", ValueError(secret.encode(), repr(secret)))
    log.info("event=exc_s v=%s", ValueError(secret.encode(), ascii(secret)))
    log.info(ValueError(secret.encode()))
    log.info(f"event=msg v={secret.encode()!r} w={secret!a}")


@pytest.mark.parametrize("secret", HOSTILE)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_masked_in_the_arguments_before_they_are_spelled(
    log_format: str, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("INFO", log_format, [secret])
    _hostile_log_calls(logging.getLogger("socialbot.outbox"), secret)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 11
    for line in lines:
        assert MASK in line, line
        for piece in _pieces(secret):
            assert piece not in line, (piece, line)
    if log_format == "json":
        for entry in map(json.loads, lines):
            # Every field, `message` included, went through the same masking.
            for value in entry.values():
                for piece in _pieces(secret):
                    assert piece not in value, (piece, entry)


@pytest.mark.parametrize("secret", HOSTILE)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_is_masked_in_the_bytes_and_ascii_spellings_too(
    log_format: str, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The traceback is formatted by the logging library from the live exception: only the pass
    # over the finished text, with its list of spellings, stands between it and the line.
    setup_logging("INFO", log_format, [secret])
    try:
        raise ValueError(secret.encode(), ascii(secret), repr(secret))
    except ValueError:
        logging.getLogger("socialbot.scheduler").exception("event=job_error job=poll")
    err = capsys.readouterr().err
    assert err.count(MASK) >= 3
    for piece in _pieces(secret):
        assert piece not in err, (piece, err)


def test_a_log_call_that_cannot_be_formatted_does_not_print_its_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = HOSTILE[0]
    setup_logging("INFO", "text", [secret])
    logging.getLogger("socialbot.outbox").info("event=x a=%s b=%d", secret, "not a number")
    err = capsys.readouterr().err
    assert "could not be formatted" in err
    for piece in _pieces(secret):
        assert piece not in err, (piece, err)


def test_masking_keeps_numbers_and_mappings_formattable(capsys: pytest.CaptureFixture[str]) -> None:
    """Masking before formatting must not cost the line: `%.2f` of a Decimal and `%(key)s` of
    a mapping that is not a dict formatted fine before it, and must still."""
    from collections import OrderedDict
    from decimal import Decimal

    setup_logging("INFO", "text", ["TOPSECRETtoken123"])
    log = logging.getLogger("socialbot.test")
    log.warning("event=spend amount=%.2f", Decimal("2.50"))
    log.warning("event=map %(a)s", OrderedDict(a="TOPSECRETtoken123 here"))

    err = capsys.readouterr().err
    assert "amount=2.50" in err
    assert "event=map **** here" in err
    assert "logging error" not in err and "TOPSECRET" not in err
