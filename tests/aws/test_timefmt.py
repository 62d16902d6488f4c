"""RFC 3339 reading and writing (deployments/aws/timefmt.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from deployments.aws.timefmt import format_rfc3339, from_unix, parse_rfc3339


def test_go_nanoseconds_with_local_offset_parse():
    parsed = parse_rfc3339("2026-11-26T11:05:00.123456789+01:00")
    assert parsed == datetime(2026, 11, 26, 10, 5, 0, 123456, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=1)


def test_negative_offsets_and_short_fractions_parse():
    parsed = parse_rfc3339("2026-11-26T05:05:00.5-05:30")
    assert parsed.utcoffset() == -timedelta(hours=5, minutes=30)
    assert parsed.microsecond == 500000
    assert parsed.astimezone(UTC) == datetime(2026, 11, 26, 10, 35, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-11-26T10:05:00Z", "2026-11-26t10:05:00z", "2026-11-26 10:05:00+00:00"],
)
def test_zulu_lowercase_and_space_separator_parse(text):
    assert parse_rfc3339(text) == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)


def test_go_zero_time_parses():
    assert parse_rfc3339("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-26",
        "2026-11-26T10:05:00",  # no zone
        "2026-11-26T10:05Z",
        "2026-13-26T10:05:00Z",
        "2026-11-26T10:05:00+24:00",
        "2026-11-26T10:05:00.Z",
        "yesterday",
        None,
    ],
)
def test_anything_else_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_format_writes_utc_zulu_and_trims_the_fraction():
    moment = datetime(2026, 11, 26, 11, 5, 0, 120000, tzinfo=timezone(timedelta(hours=1)))
    assert format_rfc3339(moment) == "2026-11-26T10:05:00.12Z"
    assert format_rfc3339(from_unix(1795687500)) == "2026-11-26T10:05:00Z"
    assert parse_rfc3339(format_rfc3339(moment)) == moment


def test_format_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        format_rfc3339(datetime(2026, 11, 26, 10, 5))
