"""Inbound messages → cases, mention records and replies: the one ingest every channel shares.

`batch.ingest` takes one batch (a page a network served, or the messages a webhook received)
inside the caller's transaction; `prereads` reads what the store knew about the batch once,
`writer` writes its rows a statement per table, `cases` holds the case rows a mention writes,
`reply` renders the replies. The poller (`socialbot.poller`) is one caller: it fetches pages and
moves the cursor in the same transaction as each.
"""
