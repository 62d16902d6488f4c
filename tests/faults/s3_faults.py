"""Fault injection into the process's real boto3 S3 client (talking to the emulator).

A botocore ``before-call`` handler answers chosen calls with an AWS error instead of
sending them; every other call goes to the emulator as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from deployments.aws.clients import AwsSettings, client

from ..aws.provisioners.conftest import aws_error


@contextmanager
def failing_state_puts(
    aws: AwsSettings, *, succeed_first: int = 0, code: str = "InternalError", status: int = 500
) -> Iterator[list[str]]:
    """Make PutObject of state keys fail with ``code`` after ``succeed_first`` got
    through, until the block ends; yields the paths of the refused puts."""
    refused: list[str] = []
    passed = 0

    def handler(model: Any, params: dict[str, Any], **kwargs: Any):
        nonlocal passed
        path = params.get("url_path", "")
        if model.name != "PutObject" or not path.endswith("/state.json"):
            return None
        if passed < succeed_first:
            passed += 1
            return None
        refused.append(path)
        return aws_error(code, "We encountered an internal error. Please try again.", status)

    events = client(aws, "s3").meta.events
    events.register("before-call.s3.PutObject", handler)
    try:
        yield refused
    finally:
        events.unregister("before-call.s3.PutObject", handler)
