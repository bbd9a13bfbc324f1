"""Bluesky: its wire format (`wire`: notifications, records and the answers to our calls as
JSON), its text and media rules and the names of its calls (`rules`), the record keys we name
our posts with (`tid`) and the rich-text facets of our own text (`facets`)."""
