"""CronJob: a scheduled rule whose one target is a Fargate task or a Lambda component."""

from __future__ import annotations

import pytest

from ._support import DROP, IMAGE, check, only_error, valid


def test_a_container_cronjob_validates_with_defaults():
    config = valid(check("CronJob")).config()
    assert config["enabled"] is True and config["taskCount"] == 1
    assert config["runtime"] == {"cpu": 256, "memory": 512}
    assert config["lambda"] is None


def test_a_lambda_cronjob_validates():
    result = valid(
        check(
            "CronJob",
            {
                ("image",): DROP,
                ("lambda",): {"component": "nightly"},
                ("input",): {"mode": "full"},
                ("enabled",): "false",
            },
        )
    )
    config = result.config()
    assert config["lambda"] == {"component": "nightly"} and config["image"] is None
    assert config["input"] == {"mode": "full"} and config["enabled"] is False


def test_a_cronjob_needs_a_target():
    issue = only_error(check("CronJob", {("image",): DROP}))
    assert (issue.code, issue.path) == ("missing-field", ())
    assert "`image`" in issue.message and "`lambda.component`" in issue.message


def test_a_cronjob_has_only_one_target():
    issue = only_error(check("CronJob", {("lambda",): {"component": "fn"}, ("image",): IMAGE}))
    assert (issue.code, issue.path) == ("invalid-combination", ())


def test_a_cronjob_needs_a_valid_schedule():
    issue = only_error(check("CronJob", {("schedule",): DROP}))
    assert (issue.code, issue.path, issue.message) == (
        "missing-field",
        (),
        "`schedule` is required",
    )
    issue = only_error(check("CronJob", {("schedule",): "every 5 minutes"}))
    assert (issue.code, issue.path) == ("invalid-value", ("schedule",))


@pytest.mark.parametrize("count, ok", [(0, False), (1, True), (10, True), (11, False)])
def test_task_count_is_1_to_10(count, ok):
    result = check("CronJob", {("taskCount",): count})
    assert (result.model is not None) is ok


def test_the_description_is_at_most_512_characters():
    valid(check("CronJob", {("description",): "x" * 512}))
    issue = only_error(check("CronJob", {("description",): "x" * 513}))
    assert (issue.code, issue.path) == ("invalid-value", ("description",))


def test_a_container_cronjob_checks_its_fargate_size():
    issue = only_error(check("CronJob", {("runtime",): {"cpu": 256, "memory": 4096}}))
    assert (issue.code, issue.path) == ("invalid-combination", ("runtime", "memory"))


def test_a_cronjob_runtime_takes_only_cpu_and_memory():
    result = valid(check("CronJob", {("runtime",): {"cpu": 512, "platform": "fargate"}}))
    assert [(i.code, i.path) for i in result.issues] == [("unknown-field", ("runtime", "platform"))]
