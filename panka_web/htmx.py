"""The one rule for when a view answers with a fragment instead of a page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import format_html


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """``template#partial`` for htmx swaps, the whole page otherwise.

    A boosted request wants a whole page, so only a targeted htmx request gets the
    fragment. The partial's name is the id of the element it replaces (style.md §6).
    """
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return f"{template}#{partial}"
    return template


def refusal(request: HttpRequest, message: str, status: int, page: str) -> HttpResponse:
    """A request refused as a whole (503 during an outage, 400 for text we cannot store):
    the full ``page`` for a browser, and for htmx the message alone, retargeted to the
    page's #request-alert, so the element the request meant to update stays intact
    (base.html lets htmx swap these two codes; static/js/panka.js clears the alert when a
    later request is answered)."""
    # The header, not request.htmx: the NUL check answers before django-htmx has run.
    if request.headers.get("HX-Request"):
        response = HttpResponse(
            format_html('<p class="refusal" role="alert">{}</p>', message), status=status
        )
        response["HX-Retarget"] = "#request-alert"
        response["HX-Reswap"] = "innerHTML"
        return response
    return HttpResponse(render_to_string(page, {"message": message}), status=status)
