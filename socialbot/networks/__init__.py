"""One module per social network, each behind the `Platform` protocol of `base`."""
