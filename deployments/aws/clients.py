"""boto3 clients for the configured AWS: the embedded emulator or the real thing."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config


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


_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
)
_local = threading.local()


def client(settings: AwsSettings, service: str) -> Any:
    """A client for ``service``; one per thread and settings, since boto3 sessions are not
    thread-safe but building a client costs ~10 ms."""
    cache: dict[tuple[AwsSettings, str], Any] = _local.__dict__.setdefault("clients", {})
    key = (settings, service)
    if key not in cache:
        session = boto3.session.Session()
        kwargs: dict[str, Any] = {"region_name": settings.region, "config": _BOTO_CONFIG}
        if settings.endpoint_url:
            kwargs["endpoint_url"] = settings.endpoint_url
            # The emulator accepts any credentials; never pick up a developer's real ones.
            kwargs["aws_access_key_id"] = "panka-emulator"
            kwargs["aws_secret_access_key"] = "panka-emulator"
        cache[key] = session.client(service, **kwargs)
    return cache[key]
