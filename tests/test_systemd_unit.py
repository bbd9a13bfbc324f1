"""The systemd unit, its hardening score, the config skeletons and scripts/install.sh."""

from __future__ import annotations

import hashlib
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from socialbot.config import ENV_PREFIX, NESTED, Settings, env_name, load_settings
from socialbot.network_settings import NamedAccount

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "socialbot.service"
WEB_UNIT = ROOT / "systemd" / "socialbot-web.service"
INSTALL = ROOT / "scripts" / "install.sh"
TOML_EXAMPLE = ROOT / "systemd" / "socialbot.toml.example"
ENV_EXAMPLE = ROOT / "systemd" / "socialbot.env.example"
# The bar: `systemd-analyze security` rates the unit's exposure 2.0 or lower.
MAX_EXPOSURE = 2.0


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """Sections → (key, value) pairs in order; systemd allows a key more than once."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{line!r} before any [section]"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


def one(section: list[tuple[str, str]], key: str) -> str:
    found = values(section, key)
    assert len(found) == 1, f"{key}: {found}"
    return found[0]


@pytest.fixture(scope="module")
def service() -> list[tuple[str, str]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


def test_the_unit_is_a_notify_service_with_a_watchdog(service: list[tuple[str, str]]) -> None:
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    watchdog = one(service, "WatchdogSec")
    assert re.fullmatch(r"[1-9]\d*(s|min)?", watchdog), watchdog
    assert one(service, "Restart") == "on-failure"
    assert one(service, "ExecStart") == "/opt/socialbot/venv/bin/socialbot run"
    assert "SOCIALBOT_CONFIG=/etc/socialbot/socialbot.toml" in " ".join(
        values(service, "Environment")
    )


def test_the_unit_runs_as_its_user_with_its_state_directory(
    service: list[tuple[str, str]],
) -> None:
    assert one(service, "User") == "socialbot"
    assert one(service, "StateDirectory") == "socialbot"  # $STATE_DIRECTORY: the SQLite default
    assert one(service, "ProtectSystem") == "strict"
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "CapabilityBoundingSet") == ""


def test_credentials_are_named_as_the_settings_read_them(
    service: list[tuple[str, str]],
) -> None:
    # LoadCredential=ID:DIR loads every file DIR/NAME as the credential ID_NAME, so the file
    # credentials/x_access_token becomes socialbot_x_access_token: the setting's variable name in
    # lower case, which is what config.py looks up in $CREDENTIALS_DIRECTORY.
    [credential] = values(service, "LoadCredential")
    prefix, _, path = credential.partition(":")
    assert path == "/etc/socialbot/credentials"
    assert f"{prefix}_".upper() == ENV_PREFIX
    assert f"{prefix}_x_access_token".upper() == env_name("x_access_token")
    # The simpler alternative, optional ("-"): the unit starts without it.
    assert values(service, "EnvironmentFile") == ["-/etc/socialbot/socialbot.env"]


def _exposure(output: str) -> float:
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    assert match, f"no overall exposure in systemd-analyze's output:\n{output}"
    return float(match.group(1))


@pytest.mark.parametrize("unit", [UNIT, WEB_UNIT], ids=lambda p: p.name)
def test_the_unit_meets_the_security_score(unit: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (it comes with systemd)")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd 250 or newer needed)")
    exposure = _exposure(result.stdout + result.stderr)
    assert exposure <= MAX_EXPOSURE, result.stdout


@pytest.fixture(scope="module")
def web_service() -> list[tuple[str, str]]:
    return parse_unit(WEB_UNIT.read_text(encoding="utf-8"))["Service"]


def test_the_web_unit_serves_as_the_bots_user_over_its_settings(
    service: list[tuple[str, str]], web_service: list[tuple[str, str]]
) -> None:
    assert one(web_service, "ExecStart") == "/opt/socialbot/venv/bin/socialbot serve"
    assert one(web_service, "Type") == "notify"  # READY=1 once uvicorn listens (web/server.py)
    assert one(web_service, "Restart") == "on-failure"
    for key in ("User", "Group", "StateDirectory", "ProtectSystem"):
        assert values(web_service, key) == values(service, key), key
    assert values(web_service, "Environment")[0] == values(service, "Environment")[0]
    # None of the bot's secrets: it calls no network.
    assert values(web_service, "LoadCredential") == []
    assert one(web_service, "CapabilityBoundingSet") == ""
    assert one(web_service, "AmbientCapabilities") == ""


def test_the_web_unit_binds_the_default_port_alone(web_service: list[tuple[str, str]]) -> None:
    default = Settings.model_fields["web_port"].default
    assert values(web_service, "SocketBindAllow") == [f"tcp:{default}"]
    assert one(web_service, "SocketBindDeny") == "any"
    assert default > 1023  # no CAP_NET_BIND_SERVICE needed
    assert (one(web_service, "IPAddressAllow"), one(web_service, "IPAddressDeny")) == (
        "localhost",
        "any",
    )


def test_the_toml_skeleton_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX) or name == "CREDENTIALS_DIRECTORY":
            monkeypatch.delenv(name)
    settings = load_settings(TOML_EXAMPLE)
    assert settings.database_url == "sqlite:////var/lib/socialbot/socialbot.db"
    assert settings.hashtags == Path("/etc/socialbot/hashtags.yaml")
    assert settings.templates == Path("/etc/socialbot/templates")
    assert not settings.has_x_credentials  # secrets go elsewhere


def test_the_env_example_names_only_settings() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    names = re.findall(r"^#?(SOCIALBOT_[A-Z0-9_]+)=", text, flags=re.MULTILINE)
    assert names
    account = re.compile(
        rf"{env_name('accounts')}{NESTED}[A-Z0-9_]+?{NESTED}"
        rf"({'|'.join(f.upper() for f in NamedAccount.model_fields)})"
    )
    known = {env_name(name) for name in Settings.model_fields}
    assert [n for n in names if n not in known and not account.fullmatch(n)] == []
    # An empty assignment would set an empty secret, overriding the credential files.
    assert not re.search(r"^SOCIALBOT_[A-Z0-9_]+=\s*$", text, flags=re.MULTILINE)


def test_install_sh_parses() -> None:
    subprocess.run(["bash", "-n", str(INSTALL)], check=True, timeout=30)


def test_install_sh_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt install shellcheck)")
    result = subprocess.run(
        [shellcheck, str(INSTALL)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stdout


def _install(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = _run_install(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _run_install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """install.sh as a script runs it: no terminal to ask at (stdin is not one)."""
    environment = {k: v for k, v in os.environ.items() if k != "SOCIALBOT_TIMEZONE"}
    return subprocess.run(
        ["bash", str(INSTALL), "--no-venv", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**environment, **(env or {})},
    )


def _listing(root: Path) -> dict[str, tuple[str, str]]:
    """Every path under root: its mode and the hash of its content."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(root.rglob("*")):
        mode = oct(path.lstat().st_mode)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (mode, digest)
    return found


def test_install_sh_twice_installs_once_and_keeps_the_citys_edits(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _install(root, env={"SOCIALBOT_INSTALL_ROOT": str(root)})
    first = _listing(root)
    again = _install(root, "--root", str(root))
    assert _listing(root) == first  # the second run changes nothing
    assert "kept       /etc/socialbot/socialbot.toml" in again

    etc = root / "etc" / "socialbot"
    assert (root / "etc/systemd/system/socialbot.service").read_bytes() == UNIT.read_bytes()
    web_unit = root / "etc/systemd/system/socialbot-web.service"
    assert web_unit.read_bytes() == WEB_UNIT.read_bytes()
    assert first["etc/systemd/system/socialbot-web.service"][0] == oct(0o100644)
    assert "systemctl enable --now socialbot socialbot-web" in again
    assert (etc / "socialbot.toml").read_bytes() == TOML_EXAMPLE.read_bytes()
    assert (etc / "hashtags.yaml").read_bytes() == (ROOT / "hashtags.yaml").read_bytes()
    assert (etc / "templates/replies/filed.en.j2").is_file()
    assert (root / "opt/socialbot/share/templates/replies/filed.en.j2").is_file()
    assert (etc / "socialbot.env.example").read_bytes() == ENV_EXAMPLE.read_bytes()
    assert first["etc/socialbot/credentials"][0] == oct(0o40700)
    assert first["etc/socialbot/socialbot.toml"][0] == oct(0o100640)
    assert first["var/lib/socialbot"][0] == oct(0o40700)
    assert first["usr/local/bin/socialbot"][0] == oct(0o100755)
    assert not (root / "opt/socialbot/venv").exists()  # --no-venv

    # A city's edits survive an upgrade; the shipped copies are refreshed.
    (etc / "socialbot.toml").write_text('timezone = "America/New_York"\n')
    (etc / "templates/replies/filed.en.j2").write_text("Filed as #{{ case }}.\n")
    (root / "opt/socialbot/share/hashtags.yaml").write_text("stale\n")
    _install(root, "--root", str(root))
    assert (etc / "socialbot.toml").read_text() == 'timezone = "America/New_York"\n'
    assert (etc / "templates/replies/filed.en.j2").read_text() == "Filed as #{{ case }}.\n"
    assert (root / "opt/socialbot/share/hashtags.yaml").read_bytes() == (
        ROOT / "hashtags.yaml"
    ).read_bytes()
    # The answers like the catalog: the city's copy kept, the shipped one beside it refreshed.
    (etc / "answers.yaml").write_text("version: 1\nanswers:\n")
    (root / "opt/socialbot/share/answers.yaml").write_text("stale\n")
    _install(root, "--root", str(root))
    assert (etc / "answers.yaml").read_text() == "version: 1\nanswers:\n"
    assert (root / "opt/socialbot/share/answers.yaml").read_bytes() == (
        ROOT / "answers.yaml"
    ).read_bytes()


def test_the_installed_command_wrapper_is_shellcheck_clean(tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt install shellcheck)")
    _install(tmp_path, "--root", str(tmp_path))
    wrapper = tmp_path / "usr/local/bin/socialbot"
    result = subprocess.run(
        [shellcheck, "--shell=sh", str(wrapper)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout


def test_the_wheel_carries_every_shipped_template_the_catalog_and_the_answers() -> None:
    """A template added in a new folder must not be left out of a non-editable install."""
    import tomllib

    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["data-files"]
    carried = {
        (Path(target) / Path(found).name).relative_to("share/socialbot").as_posix()
        for target, patterns in data_files.items()
        for pattern in patterns
        for found in (str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    }
    shipped = {
        p.relative_to(ROOT).as_posix()
        for p in [ROOT / "hashtags.yaml", ROOT / "answers.yaml", *(ROOT / "templates").rglob("*")]
        if p.is_file()
    }
    assert carried == shipped


@pytest.mark.parametrize("option", [["--config", "/tmp/mine.toml"], ["--config=/tmp/mine.toml"]])
def test_the_installed_command_refuses_another_config(tmp_path: Path, option: list[str]) -> None:
    """`sudo socialbot --config mine.toml …` would run the service user, with the service's
    secrets, on templates and a catalog of the caller's choosing."""
    _install(tmp_path, "--root", str(tmp_path))
    wrapper = tmp_path / "usr/local/bin/socialbot"
    result = subprocess.run(
        ["sh", str(wrapper), *option, "doctor"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": os.environ["PATH"], "SOCIALBOT_TEMPLATES": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("socialbot: --config is refused here: ")
    assert result.stderr.count("\n") == 1


def test_the_installed_command_drops_the_callers_settings(tmp_path: Path) -> None:
    """Any SOCIALBOT_* setting from the caller is dropped before the service's are loaded."""
    _install(tmp_path, "--root", str(tmp_path))
    wrapper = (tmp_path / "usr/local/bin/socialbot").read_text(encoding="utf-8")
    # Run the wrapper up to the point where it picks the user branch, printing its settings.
    head = wrapper.split("who=", 1)[0] + 'env | grep "^SOCIALBOT_" | sort\n'
    result = subprocess.run(
        ["sh", "-c", head, "socialbot", "status"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={
            "PATH": os.environ["PATH"],
            "SOCIALBOT_TEMPLATES": "/home/me/templates",
            "SOCIALBOT_CONFIG": "/home/me/socialbot.toml",
        },
    )
    assert result.stdout == "SOCIALBOT_CONFIG=/etc/socialbot/socialbot.toml\n"


def _zone(root: Path) -> str:
    settings = (root / "etc/socialbot/socialbot.toml").read_text(encoding="utf-8")
    (line,) = [line for line in settings.splitlines() if line.startswith("timezone = ")]
    return line.removeprefix("timezone = ")


def test_the_next_steps_check_with_doctor_before_the_dry_run(tmp_path: Path) -> None:
    """As the README's step 3: `socialbot doctor`, then a poll that posts nothing."""
    out = _install(tmp_path, "--root", str(tmp_path))
    steps = out.split("Next, as root", 1)[1]
    assert "socialbot doctor" in steps
    assert steps.index("socialbot doctor") < steps.index("socialbot poll --once --dry-run")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--timezone", "America/New_York"], {}),
        (["--timezone=America/New_York"], {}),
        ([], {"SOCIALBOT_TIMEZONE": "America/New_York"}),
    ],
)
def test_install_sh_sets_the_zone_it_is_given(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    out = _install(tmp_path, "--root", str(tmp_path), *args, env=env)
    assert _zone(tmp_path) == '"America/New_York"'
    given = "--timezone" if args else "SOCIALBOT_TIMEZONE"
    assert f'           timezone = "America/New_York" (from {given})\n' in out
    assert "is no city's" not in out
    # The rest of the settings file is the skeleton's.
    settings = (tmp_path / "etc/socialbot/socialbot.toml").read_text(encoding="utf-8")
    assert settings == TOML_EXAMPLE.read_text(encoding="utf-8").replace(
        'timezone = "UTC"', 'timezone = "America/New_York"'
    )


def test_install_sh_takes_the_machine_s_zone(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/timezone").write_text("America/Chicago\n")
    out = _install(tmp_path, "--root", str(tmp_path))
    assert _zone(tmp_path) == '"America/Chicago"'
    assert 'timezone = "America/Chicago" (the machine\'s, from /etc/timezone)' in out

    other = tmp_path / "other"
    (other / "etc").mkdir(parents=True)
    (other / "etc/localtime").symlink_to("../usr/share/zoneinfo/Europe/Paris")
    out = _install(other, "--root", str(other))
    assert _zone(other) == '"Europe/Paris"'


def test_install_sh_on_a_utc_machine_says_to_set_the_city_s_zone(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/timezone").write_text("Etc/UTC\n")
    out = _install(tmp_path, "--root", str(tmp_path))
    assert _zone(tmp_path) == '"Etc/UTC"'
    assert (
        "           timezone = \"Etc/UTC\" is no city's: set the city's zone in "
        "/etc/socialbot/socialbot.toml\n"
    ) in out
    # And again on every later run, until it is set; a zone given then changes nothing.
    again = _install(tmp_path, "--root", str(tmp_path), "--timezone", "America/New_York")
    assert "is no city's" in again
    assert "--timezone America/New_York not applied: the file is yours" in again
    assert _zone(tmp_path) == '"Etc/UTC"'


def test_install_sh_refuses_a_zone_that_is_none_before_writing(tmp_path: Path) -> None:
    result = _run_install("--root", str(tmp_path), "--timezone", "America/Gotham")
    assert result.returncode == 1
    assert result.stderr == (
        "install.sh: --timezone America/Gotham: not an IANA time zone name such as "
        "America/New_York\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_install_sh_asks_for_the_zone_at_a_terminal(tmp_path: Path) -> None:
    """At a terminal the operator is asked, the machine's zone offered; a wrong name asks again."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/timezone").write_text("Etc/UTC\n")
    main, terminal = pty.openpty()
    try:
        os.write(main, b"Boston\nAmerica/New_York\n")
        result = subprocess.run(
            ["bash", str(INSTALL), "--no-venv", "--root", str(tmp_path)],
            stdin=terminal,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k != "SOCIALBOT_TIMEZONE"},
        )
    finally:
        os.close(terminal)
        os.close(main)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "IANA name, e.g. America/New_York [Etc/UTC]: " in result.stderr  # read's prompt
    assert "Boston: not an IANA time zone name such as America/New_York\n" in result.stdout
    assert 'timezone = "America/New_York" (as answered)' in result.stdout
    assert _zone(tmp_path) == '"America/New_York"'
