"""The container's health probe: ``python -m panka_web.probe`` (the Dockerfile's HEALTHCHECK).

One image runs as the web server or as a worker, and Docker gives both the same
HEALTHCHECK, so the probe asks what this container is. ``deploy/entrypoint.sh`` writes the
role to ``PANKA_ROLE_FILE`` (/tmp/panka-role) before it starts anything:

- ``web``: GET ``/healthz`` over plain HTTP on 127.0.0.1:$PORT (SECURE_REDIRECT_EXEMPT
  lets it through an HTTPS redirect), with a Host header from ALLOWED_HOSTS so host
  validation accepts it. Healthy only on a 200: the database, the broker, the state bucket
  and the lock table all answered.
- ``worker``: the worker (PID 1, exec'd by the entry point) still has its django-q2
  cluster processes under it. Its dependencies are the web's /healthz's business.
- no role (a one-off command such as ``migrate``): nothing to probe, healthy.

Standard library only and no Django: it runs every 30 s, so it must be cheap.
"""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path

TIMEOUT_SECONDS = 4.0


def role() -> str | None:
    path = Path(os.environ.get("PANKA_ROLE_FILE", "/tmp/panka-role"))
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def host_header() -> str:
    """A name ALLOWED_HOSTS accepts: its first concrete entry (``.example.com`` allows
    example.com itself), else localhost, which the laptop default allows."""
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        entry = entry.strip().lstrip(".")
        if entry and "*" not in entry:
            return entry
    return "localhost"


def probe_web() -> tuple[bool, str]:
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/healthz", headers={"Host": host_header()})
        response = connection.getresponse()
        body = response.read(2000).decode("utf-8", "replace")
    except OSError as exc:
        return False, f"no answer on 127.0.0.1:{port}: {exc}"
    finally:
        connection.close()
    return response.status == 200, f"/healthz answered {response.status}: {body}"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces or ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def probe_worker(pid: int = 1) -> tuple[bool, str]:
    children = _children(pid)
    if children:
        return True, f"worker {pid} has {len(children)} cluster processes"
    return False, f"worker {pid} has no cluster processes (still starting, or its cluster died)"


def main() -> int:
    current = role()
    if current == "web":
        healthy, message = probe_web()
    elif current == "worker":
        healthy, message = probe_worker(int(os.environ.get("PANKA_PROBE_PID", "1")))
    else:
        healthy, message = True, "no long-running role in this container: nothing to probe"
    print(message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
