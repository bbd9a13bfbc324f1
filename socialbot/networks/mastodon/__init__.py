"""Mastodon: the adapter (`adapter`, Mastodon.py), its wire format (`wire`: notifications and
statuses as JSON, their HTML as text) and its text and media rules (`text`)."""
