"""Settings for Open311: `[open311]` (or its flat keys, or SOCIALBOT_OPEN311_*), the endpoint
checked as a URL the API key may travel to, and the key kept out of every line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot import logs
from socialbot.config import OPEN311_KEYS, PROJECT_ROOT, Settings, load_settings
from socialbot.errors import ConfigError
from socialbot.logs import MASK, named_secrets, secrets_of, setup_logging
from tests.test_config_networks import toml_string

# The formats `open311_format` takes, which its error names.
FORMATS: tuple[str, ...] = get_args(Settings.model_fields["open311_format"].annotation)

OPEN311_TABLE = """
[open311]
endpoint = "https://311.example.gov/open311/v2/"
api_key = "o311-key-5f2a9c"
jurisdiction_id = "city.example.gov"
format = "xml"
timeout_seconds = 12.5
send_handle = true
sync_minutes = 10
"""


def toml_file(tmp_path: Path, *parts: str) -> Path:
    path = tmp_path / "socialbot.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def load(tmp_path: Path, *parts: str) -> Settings:
    return load_settings(toml_file(tmp_path, *parts))


def error_of(tmp_path: Path, *parts: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, *parts)
    return str(err.value)


def test_unset_is_no_forwarding_as_before() -> None:
    city = load_settings()
    assert city.open311_endpoint is None and not city.forwards_to_open311
    assert (city.open311_format, city.open311_send_handle, city.open311_sync_minutes) == (
        "json",
        False,
        5.0,
    )
    assert city.open311_api_key is None and city.open311_jurisdiction_id is None


def test_the_table_sets_every_open311_setting(tmp_path: Path) -> None:
    city = load(tmp_path, OPEN311_TABLE)
    assert city.forwards_to_open311
    # Without the trailing slash: the client appends `services.xml` and the rest.
    assert city.open311_endpoint == "https://311.example.gov/open311/v2"
    assert city.open311_api_key is not None
    assert city.open311_api_key.get_secret_value() == "o311-key-5f2a9c"
    assert city.open311_jurisdiction_id == "city.example.gov"
    assert city.open311_format == "xml"
    assert city.open311_timeout_seconds == 12.5
    assert city.open311_send_handle is True
    assert city.open311_sync_minutes == 10
    # Open311 is no network: it adds no account to poll or post from.
    assert city.networks == () and city.channels == ()


def test_the_flat_keys_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flat = load(tmp_path, 'open311_endpoint = "https://crm.example"\nopen311_format = "xml"')
    assert (flat.open311_endpoint, flat.open311_format) == ("https://crm.example", "xml")
    monkeypatch.setenv("SOCIALBOT_OPEN311_ENDPOINT", "https://other.example/v2")
    monkeypatch.setenv("SOCIALBOT_OPEN311_API_KEY", "env-key-123456")
    monkeypatch.setenv("SOCIALBOT_OPEN311_FORMAT", "json")
    city = load(tmp_path, OPEN311_TABLE)  # the environment wins over the file
    assert city.open311_endpoint == "https://other.example/v2"
    assert city.open311_format == "json"
    assert city.open311_api_key is not None
    assert city.open311_api_key.get_secret_value() == "env-key-123456"


def test_one_setting_given_flat_and_in_the_table_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'open311_format = "json"', OPEN311_TABLE)
    assert "`open311_format` and `[open311] format` are the same setting" in message


def test_an_unknown_key_in_the_table_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[open311]\nendpont = "https://crm.example"')
    assert message.endswith("unknown setting `open311.endpont`; did you mean endpoint?")
    assert error_of(tmp_path, 'open311 = "https://crm.example"').endswith(
        "`open311` must be a table, [open311] with " + ", ".join(OPEN311_KEYS)
    )


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("http://311.example.gov/v2", "must be https (http only for localhost or 127.0.0.1)"),
        ("ftp://311.example.gov", "not an https URL"),
        ("https://311.example.gov/v2?api_key=x", "must be the endpoint's address alone"),
        ("https://me:pw@311.example.gov", "must not hold a user or password"),
        ("https://311.example.gov/v 2", "holds spaces"),
    ],
)
def test_the_endpoint_is_an_https_url(tmp_path: Path, endpoint: str, problem: str) -> None:
    message = error_of(tmp_path, f"[open311]\nendpoint = {toml_string(endpoint)}")
    assert message.startswith("SOCIALBOT_OPEN311_ENDPOINT (or `[open311] endpoint` in ")
    assert problem in message


def test_plain_http_is_for_a_crm_on_this_machine(tmp_path: Path) -> None:
    city = load(tmp_path, '[open311]\nendpoint = "http://127.0.0.1:8080/open311/v2"')
    assert city.open311_endpoint == "http://127.0.0.1:8080/open311/v2"


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ('format = "csv"', "SOCIALBOT_OPEN311_FORMAT"),
        ("timeout_seconds = 0", "SOCIALBOT_OPEN311_TIMEOUT_SECONDS"),
        ("sync_minutes = 0.5", "SOCIALBOT_OPEN311_SYNC_MINUTES"),
        ('jurisdiction_id = "  "', "SOCIALBOT_OPEN311_JURISDICTION_ID"),
        ('send_handle = "perhaps"', "SOCIALBOT_OPEN311_SEND_HANDLE"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(tmp_path: Path, line: str, name: str) -> None:
    message = error_of(tmp_path, f"[open311]\n{line}")
    assert message.startswith(f"{name} (or `[open311] ")
    assert "\n" not in message


def test_the_api_key_is_a_secret(tmp_path: Path) -> None:
    city = load(tmp_path, OPEN311_TABLE)
    assert ("SOCIALBOT_OPEN311_API_KEY", "o311-key-5f2a9c") in named_secrets(city)
    assert "o311-key-5f2a9c" not in repr(city) + str(city)


def test_a_bad_api_key_value_is_never_echoed(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[open311]\napi_key = 123456789")
    assert message.startswith("SOCIALBOT_OPEN311_API_KEY")
    assert "123456789" not in message


@pytest.fixture
def no_learned_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_learned", ())
    monkeypatch.setattr(logs, "_configured", ())
    monkeypatch.setattr(logs, "_secrets", ())


@pytest.mark.usefixtures("no_learned_secrets")
def test_the_api_key_is_masked_in_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = load(tmp_path, OPEN311_TABLE)
    for log_format in ("text", "json"):
        setup_logging("DEBUG", log_format, secrets_of(city))
        # What a client's DEBUG line would print: the form it posts, the URL it asks.
        logging.getLogger("urllib3").warning(
            "POST /requests.xml body=%r", b"service_code=4fd3&api_key=o311-key-5f2a9c"
        )
        logging.getLogger("socialbot.open311").info(
            "event=sync url=%s",
            "https://311.example.gov/open311/v2/requests.xml?api_key=o311-key-5f2a9c",
        )
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    assert all(MASK in line and "o311-key-5f2a9c" not in line for line in lines)


def test_the_readme_documents_the_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert [key for key in OPEN311_KEYS if f"`[open311] {key}`" not in readme] == []


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.dictionaries(
        st.one_of(st.sampled_from(OPEN311_KEYS), st.text(min_size=1, max_size=12)),
        st.one_of(
            st.sampled_from(["json", "xml", "https://crm.example/v2", "http://localhost", "5"]),
            st.text(max_size=40),
        ),
        max_size=5,
    )
)
def test_any_open311_table_loads_or_is_one_line_naming_the_setting(
    tmp_path: Path, values: dict[str, str]
) -> None:
    lines = ["[open311]", *(f"{toml_string(k)} = {toml_string(v)}" for k, v in values.items())]
    try:
        city = load_settings(toml_file(tmp_path, *lines))
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message and message.isprintable(), message
        assert "OPEN311" in message or "open311" in message, message
        # The key is never echoed; a key that is also another setting's value (`api_key =
        # "json"` beside `format = "json"`) may be, as that value, and so may one that is a
        # choice the message names (`format`'s "Input should be 'json' or 'xml'").
        key = values.get("api_key")
        others = [value for name, value in values.items() if name != "api_key"]
        if key and len(key) > 3 and not any(key in value for value in (*others, *FORMATS)):
            assert key not in message
        return
    assert city.open311_format in ("json", "xml")
    if city.open311_endpoint is not None:
        assert city.open311_endpoint.startswith(("https://", "http://"))
