"""X (formerly Twitter): the adapter (`adapter`, tweepy), its wire format (`wire`), the names of
its requests (`request`) and the replay of recorded pages (`replay`, demo and tests)."""
