"""`python -m socialbot`: the `socialbot` command, for a machine without the entry point on PATH
(and for tests that start it as a process)."""

from socialbot.cli import app

app(prog_name="socialbot")
