"""The list pages' row helpers give what reverse() and the |date filter would, and read well."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.urls import reverse

from panka_web.listing import Links, csrf_input, html_row, span, stamp

VALUES = [
    "plain", "with-dash_and_underscore", "7355608", "a7355608b", "über name", "a?b#c&d",
    "user@example.com", "first.last+tag", "100%", "~:@!$'()*+,;=", 42, 0,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_links_match_reverse(value) -> None:
    # str routes take any text; the fixed arguments even contain the marker.
    link = Links("member_role", "t7355608")
    assert link(value) == reverse("member_role", args=["t7355608", value])


def test_links_of_every_route_shape() -> None:
    uid = uuid.uuid4()
    assert Links("run_detail", "acme")(uid) == reverse("run_detail", args=["acme", uid])
    assert Links("revision_restore", "acme", "shop")(12) == reverse(
        "revision_restore", args=["acme", "shop", 12]
    )
    assert Links("stack_detail", "acme")("shop-api") == reverse(
        "stack_detail", args=["acme", "shop-api"]
    )


@pytest.mark.parametrize("fmt, django_fmt", [
    ("%Y-%m-%d %H:%M:%S", "Y-m-d H:i:s"), ("%Y-%m-%d %H:%M", "Y-m-d H:i"), ("%Y-%m-%d", "Y-m-d"),
])  # fmt: skip
def test_stamp_matches_the_date_filter(fmt, django_fmt) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    template = engines["django"].from_string("{{ m|date:f }}")
    assert stamp(moment, fmt) == template.render({"m": moment, "f": django_fmt})
    assert stamp(None) == ""


def test_html_row_escapes_like_format_html() -> None:
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    values = {"a": '<b x="1">&\'', "b": mark_safe("<i>kept</i>"), "c": None, "d": 3}
    template = '<td title="{a}">{a}{b}{c}{d}</td>'
    assert html_row(template, **values) == format_html(template, **values)
    assert csrf_input('t"k') == '<input type="hidden" name="csrfmiddlewaretoken" value="t&quot;k">'


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.4, "0s"),
        (7.9, "7s"),
        (187, "3m 07s"),
        (7500, "2h 05m"),
        (3 * 86400 + 4 * 3600 + 59, "3d 04h"),
        (-5, "0s"),  # a clock a little behind another: never a negative duration
    ],
)
def test_span_reads_like_a_person_writes_it(seconds, shown) -> None:
    assert span(timedelta(seconds=seconds)) == shown
    assert span(None) == ""
