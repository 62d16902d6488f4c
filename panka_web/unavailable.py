"""A page, not a traceback, while the database or the job queue is unreachable.

Django turns any exception into a 500; an outage of PostgreSQL or Redis is not a bug in
the request, and the user should learn that it is temporary. Nothing here touches the
database: the 503 page is rendered without sessions, users or the tenant switcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from panka_web.htmx import refusal

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30

DATABASE_DOWN = "The database cannot be reached right now. Nothing was lost; try again in a minute."
QUEUE_DOWN = (
    "The job queue cannot be reached right now. What you just saved is kept, and queued "
    "runs are sent to the workers once the queue is back; try again in a minute."
)


def outage_message(exc: BaseException) -> str | None:
    """What to tell the user when ``exc`` means a backing service is down, else None."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE_DOWN
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return QUEUE_DOWN
    return None


class ServiceUnavailableMiddleware:
    """Answers 503 (with Retry-After) when a view fails because a service is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        message = outage_message(exc)
        if message is None:
            return None
        log.warning("503 for %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
        response = refusal(request, message, 503, "503.html")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
