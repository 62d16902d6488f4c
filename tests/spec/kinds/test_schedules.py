"""Schedule syntax (kinds.md, CronJob): rate(n unit) with singular iff n=1, or cron(6 fields)
with exactly one `?`; the same rule for CronJob, Lambda eventbridge triggers and EventBridge."""

from __future__ import annotations

import pytest

from ._support import check, only_error

VALID = [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 3 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(15 10 ? * 6L 2030-2040)",
    "cron(0 12 L * ? *)", "cron(0 8 15W * ? *)", "cron(0 9 ? JAN,JUL 2#1 *)", "cron(5,35 14 * * ? *)",
    "cron(0 18 ? * MON-FRI *)", "cron(0 10 * * ? 2099)",
]  # fmt: skip
INVALID = [
    ("rate(1 minutes)", "singular"), ("rate(5 minute)", "plural"), ("rate(0 minutes)", "at least 1"),
    ("rate(5 seconds)", "unit"), ("rate(five minutes)", "rate("), ("rate(5minutes)", "rate("),
    ("cron(0 3 * * *)", "6 cron fields"), ("cron(0 3 * * * *)", "exactly one"),
    ("cron(0 3 ? * ? *)", "exactly one"), ("cron(60 3 * * ? *)", "minutes"), ("cron(0 24 * * ? *)", "hours"),
    ("cron(0 3 32 * ? *)", "day-of-month"), ("cron(0 3 * 13 ? *)", "month"), ("cron(0 3 ? * 8 *)", "day-of-week"),
    ("cron(0 3 * * ? 1969)", "year"), ("cron(? 3 * * * *)", "`?` in the minutes"), ("cron(*/0 3 * * ? *)", "minutes"),
    ("0 3 * * ? *", "rate("), ("every day", "rate("), ("", "empty"),
]  # fmt: skip


@pytest.mark.parametrize("schedule", VALID)
def test_valid_schedules_are_accepted_everywhere_a_schedule_is_written(schedule):
    assert check("CronJob", {("schedule",): schedule}).issues == []
    assert check("EventBridge", {("schedule",): schedule}).issues == []
    trigger = {"type": "eventbridge", "schedule": schedule, "description": "d"}
    assert check("Lambda", {("triggers",): [trigger]}).issues == []


@pytest.mark.parametrize("schedule, reason", INVALID)
def test_invalid_schedules_are_invalid_values_with_a_reason(schedule, reason):
    issue = only_error(check("CronJob", {("schedule",): schedule}))
    assert (issue.code, issue.path) == ("invalid-value", ("schedule",))
    assert reason in issue.message
    issue = only_error(check("EventBridge", {("schedule",): schedule}))
    assert issue.path == ("schedule",)
