"""Who may read `/metrics`: the client's address, as uvicorn leaves it, against
`WEB_METRICS_ALLOW`.

The address is the peer's, or, when the peer is one of `WEB_TRUSTED_PROXIES`, the first address
in its `X-Forwarded-For` that is not a trusted proxy (uvicorn's `ProxyHeadersMiddleware`, which
`server.serve` turns on with those proxies). From any other peer `X-Forwarded-For` is ignored, so
no client can claim to be the monitor. A proxy that forwards without `X-Forwarded-For` makes every
client look like the proxy: the README's nginx example sets it, and restricts `/metrics` itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from socialbot.config import parse_networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(setting: str) -> tuple[Network, ...]:
    """`WEB_METRICS_ALLOW` (already checked by the settings) as networks."""
    return parse_networks(setting)


def may_read_metrics(client: str | None, allow: Sequence[Network]) -> bool:
    """Whether the client at `client` (an address as text; None when unknown, e.g. a unix socket)
    is in `allow`. Anything that is not an address (a proxy may forward junk) is refused."""
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        return False
    # An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: it is a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in allow)
