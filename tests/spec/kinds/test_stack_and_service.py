"""Stack and Service specs: provider, variables, service dependencies."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import validate_spec

from ._support import check, errors, only_error, valid


def test_a_stack_with_an_account_and_variables_validates():
    result = valid(
        check(
            "Stack",
            {
                ("provider", "accountId"): "012345678901",
                ("variables",): {"A": "x", "N": 3, "F": True, "E": None},
            },
        )
    )
    assert result.config() == {
        "provider": {"name": "aws", "region": "us-east-1", "accountId": "012345678901"}
    }
    assert result.model.variables == {"A": "x", "N": 3, "F": True, "E": None}


@pytest.mark.parametrize("name", ["azure", "gcp"])
def test_azure_and_gcp_providers_are_not_deployable(name):
    issue = only_error(check("Stack", {("provider", "name"): name}))
    assert (issue.code, issue.path) == ("not-deployable", ("provider", "name"))


def test_other_providers_are_invalid_and_a_provider_is_required():
    issue = only_error(check("Stack", {("provider", "name"): "oracle"}))
    assert (issue.code, issue.path) == ("invalid-value", ("provider", "name"))
    assert errors(validate_spec("Stack", {})) == [("missing-field", ())]
    assert (
        errors(validate_spec("Stack", {"provider": {}})) == [("missing-field", ("provider",))] * 2
    )


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"])
def test_a_region_looks_like_an_aws_region(region):
    valid(check("Stack", {("provider", "region"): region}))


@pytest.mark.parametrize("region", ["useast1", "US-EAST-1", ""])
def test_a_malformed_region_is_invalid(region):
    issue = only_error(check("Stack", {("provider", "region"): region}))
    assert (issue.code, issue.path) == ("invalid-value", ("provider", "region"))


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "abcdefghijkl", 12345678901])
def test_an_account_id_is_twelve_digits(account):
    issue = only_error(check("Stack", {("provider", "accountId"): account}))
    assert (issue.code, issue.path) == ("invalid-value", ("provider", "accountId"))


@pytest.mark.parametrize("kind", ["Stack", "Service"])
def test_variables_must_be_scalars(kind):
    result = check(kind, {("variables",): {"OK": "1", "MAP": {"a": 1}, "LIST": [1]}})
    assert errors(result) == [
        ("invalid-type", ("variables", "MAP")),
        ("invalid-type", ("variables", "LIST")),
    ]


def test_a_service_lists_the_services_it_depends_on():
    result = valid(check("Service", {("dependsOn",): ["api", "db"], ("variables",): {"X": "1"}}))
    assert result.config() == {}
    issue = only_error(check("Service", {("dependsOn",): "api"}))
    assert (issue.code, issue.path) == ("invalid-type", ("dependsOn",))
