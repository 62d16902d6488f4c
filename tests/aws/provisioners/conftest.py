"""Builders for provisioner tests: a Context on the emulator and configs from YAML."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from deployments.aws.provisioners import Context
from deployments.spec.kinds import validate_spec


@pytest.fixture
def make_ctx(aws):
    """``make_ctx(kind, component="c", service="svc", resources={...})`` -> Context."""

    def build(
        kind: str, component: str = "comp", *, service: str = "svc", resources=None, **extra: Any
    ) -> Context:
        logs: list[str] = []
        ctx = Context(
            aws=aws,
            tenant="acme",
            stack="shop",
            environment="dev",
            service=service,
            component=component,
            kind=kind,
            labels={"team": "platform"},
            resources=resources or {},
            log=logs.append,
            backoff=0.01,
            **extra,
        )
        ctx.logs = logs  # type: ignore[attr-defined]
        return ctx

    return build


def config_of(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The normalised config the format engine would hand the provisioner."""
    validated = validate_spec(kind, spec)
    errors = [i for i in validated.issues if i.severity == "error"]
    assert not errors, errors
    return validated.config()


def state_entry(kind: str, outcome, config: dict[str, Any], service: str = "svc") -> dict[str, Any]:
    """The state entry an apply would record after ``create``/``update``."""
    return {
        "id": outcome.id,
        "type": kind,
        "attributes": outcome.attributes,
        "config": config,
        "service": service,
    }


def aws_error(code: str, message: str, status: int):
    """A botocore ``before-call`` result that makes the call fail with this AWS error."""
    body = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return AWSResponse("http://emulator", status, {}, None), body


def failing(hook, service: str, operation: str, errors: list) -> list[str]:
    """Make the next calls of ``operation`` fail with ``errors``, in order; returns the
    list of attempts, which grows with every call."""
    attempts: list[str] = []

    def handler(**kwargs):
        attempts.append(operation)
        return errors.pop(0) if errors else None

    hook(service, f"before-call.{service}.{operation}", handler)
    return attempts
