"""The pure core of the coming SMS channel (issue 18): how a text is sent as SMS
(`segments`), what a whole text means as a carrier or bot keyword (`keywords`), and phone
numbers as Twilio writes them, masked wherever they would be shown (`phone`).

Stdlib and `regex` only, like the rest of the core: no Twilio, no store, no network.
"""
