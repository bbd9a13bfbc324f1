"""Text messages through Twilio: so far the inbound side alone, recorded by the web service's
webhook (`web/sms_webhook.py`). Nothing here sends a text or reads what was recorded."""
