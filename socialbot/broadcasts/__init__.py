"""Broadcasts: the city's alerts, from template to outbox.

`compose` (pure: template headers, `--var` values, text → posts), `templates` (the templates on
disk, checked at start-up), `schedules` (`--at` and `--cron` in the city's zone), `broadcaster`
(record, schedule, fire when due, the log) and `storm` (storm mode).
"""
