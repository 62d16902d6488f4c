"""``/healthz``: can this instance serve and deploy? Used by the Dockerfile and load balancers."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deployments.aws import bootstrap
from deployments.aws.errors import AwsError
from deployments.runtime import aws_settings


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    from django_q.brokers import get_broker

    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("broker did not answer")
    return "ok"


def _aws() -> str:
    bootstrap.check(aws_settings())
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    healthy = True
    for name, probe in (("database", _database), ("broker", _broker), ("aws", _aws)):
        try:
            checks[name] = probe()
        except (AwsError, Exception) as exc:  # a health check reports, it never raises
            checks[name] = f"failing: {exc}"
            healthy = False
    return JsonResponse({"healthy": healthy, "checks": checks}, status=200 if healthy else 503)
