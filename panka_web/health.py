"""``/healthz``: can this instance serve and deploy? The Docker HEALTHCHECK and load balancers ask.

Four parts, each probed on every call: the database, the job queue's broker (Redis, or
the ORM queue table), the state bucket (versioning must be ``Enabled``) and the lock
table. 200 with ``{"healthy": true, ...}`` when all answer; 503 naming each failing part
and why otherwise. Never a traceback: a probe's error is reported, not raised.

The endpoint is public (a load balancer has no login), so it tells which part fails and
the error's own message, and nothing more (no settings, versions or stack names).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from deployments.aws import bootstrap
from deployments.aws.clients import probe_client
from deployments.runtime import aws_settings

log = logging.getLogger(__name__)
MAX_MESSAGE = 500  # an error's text can be long (botocore quotes the whole request)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    from django_q.brokers import get_broker

    broker = get_broker()
    try:
        # ping() is a real round trip for Redis but always True for the ORM broker; the
        # queue's length reads its table (or Redis list) either way.
        if broker.ping() is False:
            raise RuntimeError("the broker did not answer its ping")
        queued = broker.queue_size()
    finally:
        connection_pool = getattr(getattr(broker, "connection", None), "connection_pool", None)
        if connection_pool is not None:
            connection_pool.disconnect()  # one Redis client per call: leave no socket open
    return f"ok ({queued} queued)"


def _state_bucket() -> str:
    settings = aws_settings()
    bootstrap.check_state_bucket(settings, probe_client(settings, "s3"))
    return "ok (versioning Enabled)"


def _lock_table() -> str:
    settings = aws_settings()
    bootstrap.check_lock_table(settings, probe_client(settings, "dynamodb"))
    return "ok"


PROBES: dict[str, Callable[[], str]] = {
    "database": _database,
    "broker": _broker,
    "state_bucket": _state_bucket,
    "lock_table": _lock_table,
}


def run_probes() -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    for name, probe in PROBES.items():
        try:
            checks[name] = probe()
        except Exception as exc:  # a health check reports, it never raises
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            checks[name] = f"failing: {type(exc).__name__}: {message}"[:MAX_MESSAGE]
            log.warning("health: %s failing: %s: %s", name, type(exc).__name__, exc)
    healthy = all(value.startswith("ok") for value in checks.values())
    return healthy, checks


@never_cache
@require_safe  # GET, and HEAD for load balancers that ask that way
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_probes()
    failing = [name for name, value in checks.items() if not value.startswith("ok")]
    return JsonResponse(
        {"healthy": healthy, "failing": failing, "checks": checks},
        status=200 if healthy else 503,
    )
