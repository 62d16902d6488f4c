"""The envelope every document shares (format.md §1)."""

from __future__ import annotations

import pytest

from deployments.spec import validate
from deployments.spec.envelope import API_VERSIONS, name_problem

from .conftest import codes, component, only, single

pytestmark = pytest.mark.usefixtures("fake_kinds")


@pytest.mark.parametrize("api", sorted(API_VERSIONS))
def test_every_api_version_seen_in_real_files_is_accepted(api: str) -> None:
    doc = component("q").replace("components.panka.io/v1", api)
    assert validate(single(doc)).ok


def test_an_unknown_api_version_suggests_the_closest() -> None:
    doc = component("q").replace("components.panka.io/v1", "component.panka.io/v1")
    assert (
        "did you mean `components.panka.io/v1`?"
        in only(validate(single(doc)), "invalid-api-version").message
    )


@pytest.mark.parametrize("name", ["a", "task-queue", "q1", "a" * 63])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "1a", "Task", "a_b", "a-", "a" * 64, "a.b"])
def test_invalid_names(name: str) -> None:
    assert name_problem(name) is not None


def test_unknown_metadata_fields_are_warnings_with_a_suggestion() -> None:
    result = validate(single(component("q", meta="  lables: {a: b}\n")))
    finding = only(result, "unknown-field")
    assert (finding.severity, finding.path) == ("warning", "metadata.lables")
    assert "did you mean `labels`?" in finding.message
    assert result.ok


def test_missing_name_and_mistyped_metadata_are_envelope_errors() -> None:
    doc = "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata:\n  service: 3\n"
    assert codes(validate(single(doc))) == {"invalid-envelope"}


def test_an_empty_spec_is_an_empty_mapping_but_a_list_spec_is_an_error() -> None:
    assert validate(single(component("q").replace("spec: {}", "spec:"))).ok
    bad = validate(single(component("q").replace("spec: {}", "spec: [1]")))
    assert only(bad, "invalid-envelope").path == "spec"


@pytest.mark.parametrize("kind", ["MSK", "EFS", "ALB", "ComponentInfra", "DocumentDB"])
def test_recognised_kinds_that_cannot_be_deployed_are_one_error_on_kind(kind: str) -> None:
    finding = only(validate(single(component("x", kind))), "kind-not-deployable")
    assert finding.path == "kind"
