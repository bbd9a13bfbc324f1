"""Running the `socialbot` command in-process, as the CLI tests do."""

from __future__ import annotations

from typer.testing import CliRunner

from socialbot.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and standard output (log lines go to standard error)."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout
