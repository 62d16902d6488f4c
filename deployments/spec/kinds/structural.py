"""Stack and Service: no AWS resource, only provider settings, variables and service edges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainValidator

from .base import SpecModel, na
from .common import AnyMapping, AnyValue, RefName, Str, Text, fail

_REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]+"


def _provider_name(value: object) -> str:
    if value == "aws":
        return "aws"
    if value in ("azure", "gcp"):
        raise fail("not-deployable", f"`{value}` is not deployable in this version; only `aws` is")
    raise fail("invalid-value", "must be `aws`")


def _variable(value: object) -> object:
    # Core turns numbers and booleans into text; only nested structure is refused.
    if value is None or isinstance(value, (str, int, float, bool, date, datetime)):
        return value
    raise fail("invalid-type", f"must be a scalar (text, number or boolean), not {_what(value)}")


def _what(value: object) -> str:
    return (
        "a mapping"
        if isinstance(value, dict)
        else "a list"
        if isinstance(value, list)
        else type(value).__name__
    )


Variables = dict[str, Annotated[Any, PlainValidator(_variable)]]


class Provider(SpecModel):
    name: Annotated[str, BeforeValidator(_provider_name)]
    region: Text(pattern=_REGION, rule="must be an AWS region such as `us-east-1`")
    accountId: (
        Text(
            pattern=r"[0-9]{12}", rule="must be 12 digits (quote it in YAML to keep leading zeros)"
        )
        | None
    ) = None
    profile: Str | None = na()
    config: AnyValue = na()


class StackSpec(SpecModel):
    provider: Provider
    variables: Variables = Field(default_factory=dict, exclude=True)
    infrastructure: AnyMapping | None = na()
    networking: AnyMapping | None = na()
    description: Str | None = na()


class ServiceSpec(SpecModel):
    variables: Variables = Field(default_factory=dict, exclude=True)
    dependsOn: list[RefName] = Field(default_factory=list, exclude=True)  # service names
    infrastructure: AnyMapping | None = na()
    description: Str | None = na()
