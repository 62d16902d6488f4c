"""Text syntaxes kinds.md defines: schedules, maintenance windows, explicit AWS names, ARNs.

Each checker returns ``None`` for valid text or a reason ("must …") for the user.
"""

from __future__ import annotations

import re

# --- schedules: rate(n unit) | cron(6 fields), UTC ------------------------------------

_RATE = re.compile(r"rate\(\s*([0-9]+)\s+([a-z]+)\s*\)")
_UNITS = {"minute": "minutes", "hour": "hours", "day": "days"}
_PLURALS = {plural: single for single, plural in _UNITS.items()}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_SCHEDULE_FORM = "must be `rate(<n> <unit>)` or `cron(<6 fields>)`"

# (name, low, high, names, allows "?")
_CRON_FIELDS = (
    ("minutes", 0, 59, None, False),
    ("hours", 0, 23, None, False),
    ("day-of-month", 1, 31, None, True),
    ("month", 1, 12, _MONTHS, False),
    ("day-of-week", 1, 7, _WEEKDAYS, True),
    ("year", 1970, 2199, None, False),
)


def schedule_problem(text: str) -> str | None:
    text = text.strip()
    if text.startswith("rate("):
        return _rate_problem(text)
    if text.startswith("cron(") and text.endswith(")"):
        return _cron_problem(text[5:-1])
    return f"{_SCHEDULE_FORM}, e.g. `rate(5 minutes)` or `cron(0 3 * * ? *)`"


def _rate_problem(text: str) -> str | None:
    match = _RATE.fullmatch(text)
    if not match:
        return f"{_SCHEDULE_FORM}: a rate is `rate(<n> minute|minutes|hour|hours|day|days)`"
    n, unit = int(match.group(1)), match.group(2)
    if unit not in _UNITS and unit not in _PLURALS:
        return f"has unit `{unit}`; use minute(s), hour(s) or day(s)"
    if n < 1:
        return "must have a rate of at least 1"
    if n == 1 and unit in _PLURALS:
        return f"must use the singular unit when n is 1: `rate(1 {_PLURALS[unit]})`"
    if n > 1 and unit in _UNITS:
        return f"must use the plural unit when n > 1: `rate({n} {_UNITS[unit]})`"
    return None


def _cron_problem(body: str) -> str | None:
    fields = body.split()
    if len(fields) != 6:
        return (
            f"must have 6 cron fields (minutes hours day-of-month month day-of-week year), "
            f"has {len(fields)}"
        )
    for value, (name, lo, hi, names, question) in zip(fields, _CRON_FIELDS, strict=True):
        if value == "?":
            if not question:
                return f"has `?` in the {name} field; only day-of-month or day-of-week take it"
            continue
        if not _cron_field_ok(value, lo, hi, names, name):
            return f"has an invalid {name} field `{value}` (allowed {lo}-{hi})"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "must have `?` in exactly one of day-of-month and day-of-week"
    return None


def _cron_value(text: str, lo: int, hi: int, names: dict[str, int] | None) -> bool:
    if text.isdigit():
        return lo <= int(text) <= hi
    return names is not None and text.upper() in names


def _cron_field_ok(value: str, lo: int, hi: int, names: dict[str, int] | None, name: str) -> bool:
    for part in value.split(","):
        if name == "day-of-month" and (
            part in ("L", "LW") or (part.endswith("W") and _cron_value(part[:-1], lo, hi, None))
        ):
            continue
        if name == "day-of-week":
            if part == "L" or (part.endswith("L") and _cron_value(part[:-1], lo, hi, names)):
                continue
            day, hash_, nth = part.partition("#")
            if hash_:
                if _cron_value(day, lo, hi, names) and nth in ("1", "2", "3", "4", "5"):
                    continue
                return False
        base, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        if not _cron_value(start, lo, hi, names):
            return False
        if dash and not _cron_value(end, lo, hi, names):
            return False
    return True


# --- RDS windows, UTC ------------------------------------------------------------------

_HHMM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_DAILY_WINDOW = re.compile(rf"{_HHMM}-{_HHMM}")
_WEEKLY_WINDOW = re.compile(rf"{_DAY}:{_HHMM}-{_DAY}:{_HHMM}", re.IGNORECASE)


def daily_window_problem(text: str) -> str | None:
    if _DAILY_WINDOW.fullmatch(text):
        return None
    return "must be `hh:mm-hh:mm` (UTC, 24-hour), e.g. `03:00-04:00`"


def weekly_window_problem(text: str) -> str | None:
    if _WEEKLY_WINDOW.fullmatch(text):
        return None
    return "must be `ddd:hh:mm-ddd:hh:mm` (UTC), e.g. `mon:04:00-mon:05:00`"


# --- explicit names (used exactly as written, so they must already be valid) ------------

_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_IP_LIKE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"must be 3-63 characters (has {len(name)})"
    if not _BUCKET_CHARS.fullmatch(name):
        return "may contain only lowercase letters, digits, `.` and `-`"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a lowercase letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain `..`, `.-` or `-.`"
    if _IP_LIKE.fullmatch(name):
        return "must not be formatted as an IP address"
    for prefix in _BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with `{prefix}` (reserved by S3)"
    for suffix in _BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with `{suffix}` (reserved by S3)"
    return None


_TABLE_CHARS = re.compile(r"[A-Za-z0-9_.-]+")


def table_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 255:
        return f"must be 3-255 characters (has {len(name)})"
    if not _TABLE_CHARS.fullmatch(name):
        return "may contain only letters, digits, `_`, `.` and `-`"
    return None


# --- ARNs ---------------------------------------------------------------------------

_ARN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:\S+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+")
_LAYER_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+")


def arn_problem(text: str) -> str | None:
    return None if _ARN.fullmatch(text) else "must be an ARN (`arn:<partition>:<service>:…`)"


def role_arn_problem(text: str) -> str | None:
    if _ROLE_ARN.fullmatch(text):
        return None
    return "must be an IAM role ARN (`arn:aws:iam::<12-digit account>:role/<name>`)"


def layer_arn_problem(text: str) -> str | None:
    if _LAYER_ARN.fullmatch(text):
        return None
    return "must be a Lambda layer version ARN (`arn:aws:lambda:<region>:<account>:layer:<name>:<version>`)"
