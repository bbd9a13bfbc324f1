"""Mastodon.py stays behind the adapter, as tweepy stays behind X's."""

from __future__ import annotations

from tests.test_architecture import PACKAGE, imports_of


def test_only_the_mastodon_adapter_imports_mastodon_py() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(name == "mastodon" or name.startswith("mastodon.") for name in imports_of(path))
    )
    assert importers == ["networks/mastodon/adapter.py"]
