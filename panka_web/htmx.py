"""The one rule for when a view answers with a fragment instead of a page."""

from __future__ import annotations

from django.http import HttpRequest


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """``template#partial`` for htmx swaps, the whole page otherwise.

    A boosted request wants a whole page, so only a targeted htmx request gets the
    fragment. The partial's name is the id of the element it replaces (style.md §6).
    """
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return f"{template}#{partial}"
    return template
