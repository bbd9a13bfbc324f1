"""The web service (`socialbot serve`): one ASGI app, read-only over the bot's database.

    app.py         the FastAPI app: routers, error pages, the `Web` it serves from
    public.py      a case as anyone may see it (`PublicCase`): pure, and the privacy rule
    reads.py       the database reads behind every page (one query a page, rows not objects)
    answer_cache.py the costliest answers, kept while no case changes
    georeport.py   Open311 GeoReport v2, read side: services, requests, discovery (JSON, XML)
    status_page.py the resident's status page `/cases/{number}` (English, Spanish)
    operators.py   `/healthz` and `/metrics`, for load balancers and Prometheus
    access.py      the client's address behind trusted proxies; who may read `/metrics`
    server.py      uvicorn, as `socialbot serve` runs it

It never polls, never posts and never writes: the bot (`socialbot run`) does that. It reads the
same database, so it runs as its own process and its own systemd unit, and a slow page or a flood
of requests never delays intake.
"""
