"""The browser's address behind the TLS proxy, for the login lockout (django-axes).

Behind a proxy REMOTE_ADDR is the proxy's: every browser would share one address, and a
stranger's five wrong passwords would lock a user out from everywhere. The proxy appends
the address it saw to X-Forwarded-For; entries to the left of what our own proxies added
came from the client and can be forged, so only the one our outermost proxy wrote counts.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.PANKA_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    # With N proxies, the last N entries are theirs; the N-th from the right is the client
    # as the outermost proxy saw it. Fewer entries: not through the proxies, use the peer.
    return forwarded[-hops] if len(forwarded) >= hops else remote
