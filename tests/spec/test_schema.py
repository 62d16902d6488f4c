"""The seam to the kinds package: SpecIssue paths become positioned findings."""

from __future__ import annotations

from deployments.spec import schema, validate

from . import fakekinds
from .conftest import at, component, only, single


def test_issue_paths_are_prefixed_with_spec_and_positioned() -> None:
    with schema.using_kinds(fakekinds):
        result = validate(single(component("q", spec="visibilityTimeout: 99999\n")))
    finding = only(result, "invalid-value")
    assert (finding.path, at(finding)) == ("spec.visibilityTimeout", ("stack.yaml", 16, 22))


def test_unknown_and_missing_fields_point_at_keys() -> None:
    with schema.using_kinds(fakekinds):
        result = validate(
            single(component("api", "MicroService", spec="image:\n  repository: x\nreplica: 2\n"))
        )
    assert at(only(result, "unknown-field"))[1:] == (18, 3)  # the `replica:` key
    assert at(only(result, "missing-field"))[1:] == (16, 3)  # the `image:` key (its parent)


def test_using_kinds_restores_the_previous_module() -> None:
    before = schema._override
    with schema.using_kinds(fakekinds):
        assert schema.kinds() is fakekinds
    assert schema._override is before
