"""Rows for the list pages, built in Python so a page of 50–100 rows renders fast.

In Django's template language every ``{% url %}`` in a row is a full ``reverse()``, every
``|date`` a formatter, and every row a model instance; on the 2-core machines we serve from,
that was most of a list page's time (``make bench-pages``). The list views therefore read
only the columns they show (``values()``), build each row's links from one reversed pattern
and format its times once, and each row is one ``html_row``, which escapes every value the
way the template language would (``deployments/rows.py``, ``tenants/rows.py``). Only
constant markup, or markup that ``html_row``/``format_html`` built, may be passed on as safe.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

# Stands in for the varying argument while the pattern is reversed once. It matches the
# slug, str and int converters, so one marker serves every route of ours.
_MARKER = "7355608"
_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted


class Links:
    """``reverse(name, args=[*fixed, value])`` for many values at the cost of one.

    The varying argument is the last one, so the marker's last occurrence is its place
    whatever the fixed arguments contain. Values are quoted as ``reverse()`` quotes them
    (tests/test_listing.py compares the two), but not checked against the route's
    converter: pass values the route accepts (ids and names from the database; check
    anything else first, as ``lock_rows`` does with names read from lock keys).
    """

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, name: str, *fixed: object) -> None:
        url = reverse(name, args=[*fixed, _MARKER])
        self._prefix, _, self._suffix = url.rpartition(_MARKER)

    def __call__(self, value: object) -> str:
        return f"{self._prefix}{quote(str(value), safe=_SAFE)}{self._suffix}"


def stamp(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time as the pages show it, in the site's time zone ("" for none)."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime(fmt)


def span(delta: timedelta | None) -> str:
    """A duration as people read it: ``45s``, ``3m 07s``, ``2h 05m``, ``3d 04h`` (""
    for none); never a raw timedelta with its microseconds."""
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def html_row(template: str, /, **values: Any) -> SafeString:
    """``format_html(template, **values)``, escaping the same way (markup passes, anything
    else is ``html.escape(str(value))``) without its per-value lazy-string checks: a list
    page formats thousands of values."""
    return mark_safe(
        template.format(
            **{
                name: value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
                for name, value in values.items()
            }
        )
    )


def page_of(rows: QuerySet[Any], columns: tuple[str, ...], number: object, per_page: int) -> Page:
    """Page ``number`` of ``rows`` (ordered), its ``object_list`` the tuples of ``columns``.

    Counting and skipping happen on the primary keys of ``rows`` alone; only the page's
    rows are then read with ``columns``. Columns of related tables (joins), or a
    subquery per row, would otherwise be paid for every row counted or skipped: 5 ms of
    SQLite time per page of 10,000 runs, more the deeper the page.
    """
    page = Paginator(rows.values_list("pk", flat=True), per_page).get_page(number)
    keys = list(page.object_list)
    found = {row[0]: row[1:] for row in rows.filter(pk__in=keys).values_list("pk", *columns)}
    page.object_list = [found[key] for key in keys if key in found]
    return page


def page_of_numbered(
    rows: QuerySet[Any], columns: tuple[str, ...], number: object, per_page: int
) -> Page:
    """:func:`page_of` for rows numbered 1..N without gaps, newest first (a stack's runs
    and revisions: numbered in order under a lock, never deleted one by one). Page k is
    the numbers N - k*per_page + 1 .. N - (k-1)*per_page, read by their index: no COUNT
    and no OFFSET, the same cost at any depth (page 1 of 10,000 runs counted them all,
    page 200 skipped 9,950). Were a number missing, its page would show one row fewer;
    it would never show a row twice or on the wrong page."""
    top = rows.order_by("-number").values_list("number", flat=True).first() or 0
    # A range has a length without being built: the paginator's count costs nothing.
    page = Paginator(range(top, 0, -1), per_page).get_page(number)
    if not page.object_list:
        page.object_list = []
        return page
    newest, oldest = page.object_list[0], page.object_list[-1]
    page.object_list = list(
        rows.filter(number__lte=newest, number__gte=oldest)
        .order_by("-number")
        .values_list(*columns)
    )
    return page


def csrf_input(token: str) -> SafeString:
    """What ``{% csrf_token %}`` writes, for forms built in Python."""
    return html_row('<input type="hidden" name="csrfmiddlewaretoken" value="{token}">', token=token)
