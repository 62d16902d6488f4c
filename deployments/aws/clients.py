"""boto3 clients for the configured AWS: the embedded emulator or the real thing."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Where Panka Web's own AWS resources live.

    ``endpoint_url`` unset means real AWS through the standard credential chain.
    """

    region: str
    state_bucket: str
    lock_table: str
    endpoint_url: str | None = None

    @property
    def emulated(self) -> bool:
        return self.endpoint_url is not None


# Workers are patient: an apply waits out AWS's throttling rather than fail half-way.
_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
)
# A web request answers a person and must end inside gunicorn's request timeout
# (PANKA_WEB_TIMEOUT, 60 s: a sync worker that overruns it is killed mid-request). At
# most 3 tries x (3 s to connect + 10 s to read) + standard-mode backoff (< 1 s + 2 s)
# = 42 s. panka_web/wsgi.py makes it the web process's default.
REQUEST_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},  # the first try included
    connect_timeout=3,
    read_timeout=10,
)
_default = _BOTO_CONFIG
_clients: dict[tuple[AwsSettings, str, Config], Any] = {}
_lock = threading.Lock()


def serve_requests() -> None:
    """Make this process's AWS calls fit in a web request (the web server calls it)."""
    global _default
    _default = REQUEST_CONFIG


def worst_case_seconds(config: Config) -> float:
    """How long one call may take at most under ``config``, backoff included
    (botocore's standard mode sleeps at most 2 ** (attempt - 1) seconds between tries).
    botocore's ``max_attempts`` counts retries, ``total_max_attempts`` tries."""
    retries = config.retries
    attempts = retries.get("total_max_attempts") or retries["max_attempts"] + 1
    backoff = sum(2 ** (n - 1) for n in range(1, attempts))
    return attempts * (config.connect_timeout + config.read_timeout) + backoff


def client(settings: AwsSettings, service: str, *, config: Config | None = None) -> Any:
    """The process's client for ``service`` under ``settings``.

    One client serves every thread: boto3's clients are thread-safe (its sessions are
    not, so clients are built under a lock). Building one loads the service model, which
    measured 60-570 ms here; a per-thread cache rebuilt them for every apply's thread pool.
    """
    config = config or _default
    key = (settings, service, config)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _clients:
            kwargs: dict[str, Any] = {"region_name": settings.region, "config": config}
            if settings.endpoint_url:
                kwargs["endpoint_url"] = settings.endpoint_url
                # The emulator accepts any credentials; never pick up a developer's real ones.
                kwargs["aws_access_key_id"] = "panka-emulator"
                kwargs["aws_secret_access_key"] = "panka-emulator"
            _clients[key] = _session().client(service, **kwargs)
        return _clients[key]


def _session() -> boto3.session.Session:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=fast_timestamp
    )
    return boto3.session.Session(botocore_session=core)


def fast_timestamp(value: Any) -> datetime:
    """What botocore's timestamp parser gives (an aware datetime), without dateutil's
    general parser for the ISO 8601 text that S3 listings and most JSON APIs send: it took
    0.4 ms a timestamp here, and a page of state history holds 20 of them. Anything
    else (HTTP dates, epoch numbers) goes to botocore's own parser."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return parse_timestamp(value)


# The health check answers a load balancer within seconds: one quick try, not five patient
# ones, so an unreachable AWS shows as failing instead of hanging the probe.
_PROBE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=3
)


def probe_client(settings: AwsSettings, service: str) -> Any:
    """A client for ``service`` with short timeouts and no retries (``/healthz``)."""
    return client(settings, service, config=_PROBE_CONFIG)


def clear_cache() -> None:
    """Forget every client (tests that hook client creation)."""
    with _lock:
        _clients.clear()
