"""Text with a NUL character is refused at the door, with a 400 that says so.

PostgreSQL stores no NUL in text or jsonb: a form value or query parameter holding one
(a lock reason, an audit filter, a member's name) would otherwise fail deep inside a view,
after it may have changed AWS (a lock taken, its audit event not written), as a 500. No
field of ours means a NUL, so one check here covers every view, on every database; the
laptop's SQLite would store it, and then a move to PostgreSQL would choke on the data.
Uploaded files are not form values and are not read here (a zip holds NULs by nature).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from panka_web.htmx import refusal

MESSAGE = (
    "The request holds a NUL character (\\0), which no field accepts. Nothing was changed; "
    "remove it (it usually comes from pasting binary data) and try again."
)


def _has_nul(data) -> bool:  # a QueryDict
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or _has_nul(request.GET)
            or (request.method == "POST" and _has_nul(request.POST))
        ):
            return refusal(request, MESSAGE, 400, "400.html")
        return self.get_response(request)
