"""The layering rules of docs/architecture.md, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "socialbot"
# The pure core: plain data in, plain data out.
CORE = [
    "domain",
    "errors",
    "hashtags",
    "text",
    "yaml_fields",
    "catalog",
    "answers",
    "location",
    "intake",
    "message_kind",
    "lifecycle",
    "timespan",
    "threads",
    "broadcasts/compose",
    "broadcasts/audience",
    "sla",
    "districts",
    "geocell",
    "reports",
    "exports",
    "usage",
    "storable",
    "text_rules",
    "pacing",
    "sms/segments",
    "sms/rules",
    "sms/keywords",
    "sms/phone",
    "people",
    "address",
    "geocoding/base",
    "geocoding/wire",
]
FORBIDDEN_IN_CORE = (
    "tweepy",
    "atproto",  # atproto and atproto_client
    "requests",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "apscheduler",
    "typer",
    "rich",
    "socialbot.store",
    "socialbot.networks",
    "socialbot.cli",
)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_does_no_io_through_other_layers() -> None:
    offences = {
        module: sorted(
            n for n in imports_of(PACKAGE / f"{module}.py") if n.startswith(FORBIDDEN_IN_CORE)
        )
        for module in CORE
    }
    assert {m: o for m, o in offences.items() if o} == {}


def test_only_the_x_adapter_imports_tweepy() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == "tweepy" or name.startswith("tweepy.") for name in imports_of(path))
        or "import tweepy" in path.read_text(encoding="utf-8")
    )
    assert importers == ["networks/x/adapter.py"]


def test_only_the_bluesky_adapter_and_its_facets_import_atproto() -> None:
    importers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name.startswith("atproto") for name in imports_of(path))
    }
    assert "networks/bluesky/facets.py" in importers
    assert importers <= {"networks/bluesky/adapter.py", "networks/bluesky/facets.py"}


def test_only_the_signature_check_and_the_sms_adapter_import_twilio() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == "twilio" or name.startswith("twilio.") for name in imports_of(path))
    )
    assert importers == ["networks/sms/adapter.py", "sms/signature.py"]


def test_the_sms_wire_is_pure() -> None:
    """`networks/sms/wire.py` reads rows and answers handed to it: no SDK, no store, no HTTP."""
    offences = sorted(
        n
        for n in imports_of(PACKAGE / "networks/sms/wire.py")
        if n.startswith(("twilio", "requests", "sqlalchemy", "sqlmodel", "socialbot.store"))
    )
    assert offences == []


def test_only_the_geopy_adapter_asks_a_geocoder() -> None:
    """The address finder and the geocoders' wire are pure; `geocoding/adapter.py` alone imports
    geopy (and so speaks to a geocoder), and only the composition root builds it (intake sees
    the protocol)."""
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "socialbot.geocoding.adapter" in imports_of(path)
    )
    assert importers == ["app.py"]
    geopy_importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == "geopy" or name.startswith("geopy.") for name in imports_of(path))
    )
    assert geopy_importers == ["geocoding/adapter.py"]


# Where a network may be named: its own package, the composition root and the settings (which
# read its credentials), and the commands that say which network's credentials to set.
NAMES_NETWORKS = ("networks/", "app.py", "config.py", "network_settings.py", "doctor.py", "cli/")
NETWORK_NAMES = {"x", "mastodon", "bluesky", "sms", "fake"}


def test_nothing_outside_the_networks_asks_which_network_it_holds() -> None:
    """No `if network == "x"` in the core, the jobs or the store: a second network is a second
    package, not a branch."""
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        if where.startswith(NAMES_NETWORKS) or "/migrations/" in where:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) and o.value in NETWORK_NAMES for o in operands):
                    offences.append(f"{where}:{node.lineno}")
    assert offences == []
