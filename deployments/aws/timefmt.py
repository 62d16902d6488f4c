"""RFC 3339 times as the panka CLI (Go) and Panka Web write them in state files.

Go's ``encoding/json`` writes ``time.Time`` as RFC3339Nano: up to nine fractional digits
and the writer's local offset (``2026-11-26T11:05:00.123456789+01:00``). Python's
``datetime.fromisoformat`` accepts far more than RFC 3339 and only six digits before 3.11,
so the grammar is spelled out here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime in the string's own offset; digits past microseconds are
    truncated. Raises ValueError for anything that is not RFC 3339 with a zone."""
    match = _RFC3339.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 time with a zone: {text!r}")
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = match.groups()
    if zulu:
        tz = UTC
    else:
        if int(oh) > 23 or int(om) > 59:
            raise ValueError(f"bad zone offset in {text!r}")
        offset = timedelta(hours=int(oh), minutes=int(om))
        tz = timezone(-offset if sign == "-" else offset)
    micro = int((frac or "0")[:6].ljust(6, "0"))
    # datetime() validates ranges (month 13, second 60...) and raises ValueError.
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
    )


def format_rfc3339(moment: datetime) -> str:
    """UTC with ``Z``, fraction only when non-zero and without trailing zeros (Go's
    RFC3339Nano layout), so both tools write the same text for the same instant."""
    if moment.tzinfo is None:
        raise ValueError("refusing to format a naive datetime: its zone is unknown")
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def from_unix(seconds: float) -> datetime:
    """An aware UTC datetime for unix seconds (lock items store times that way)."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def now_rfc3339(clock_seconds: float) -> str:
    """``format_rfc3339`` of a unix time from an injectable clock."""
    return format_rfc3339(from_unix(clock_seconds))
