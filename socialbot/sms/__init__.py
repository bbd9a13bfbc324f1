"""Text messages through Twilio, the coming SMS channel (issue 18). So far: its pure core, how a
text is sent as SMS (`segments`, `rules`), what a whole text means as a carrier or bot keyword
(`keywords`), phone numbers as Twilio writes them, masked wherever they would be shown
(`phone`); and the inbound side alone, read from Twilio's webhook form (`inbound`), its
signature checked (`signature`) and recorded (`record`) by the web service
(`web/sms_webhook.py`). Nothing here sends a text or reads what was recorded yet."""
