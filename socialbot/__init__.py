"""socialbot: the social-media intake bot and notifier for city 311 services."""

__version__ = "0.1.0"
