"""Exit 0 when every URL's host:port accepts a TCP connection within two seconds.

``make test-production`` runs it first: on a machine without PostgreSQL or Redis the
production pass is skipped with a message naming what is missing, instead of failing
with a connection traceback from the middle of the suite.
"""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlparse

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "rediss": 6379}


def unreachable(url: str) -> str | None:
    """Why ``url`` cannot be reached, or None when something listens there."""
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"{parsed.scheme} at {host}:{port} is not reachable ({exc.strerror or exc})"


def main(urls: list[str]) -> int:
    problems = [problem for url in urls if (problem := unreachable(url))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
