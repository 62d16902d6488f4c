"""Kinds that are recognised but not deployable are validated loosely."""

from __future__ import annotations

import pytest

from deployments.spec.kinds import DEPLOYABLE_KINDS, KIND_NAMES, all_outputs, validate_spec

RECOGNISED_ONLY = sorted(set(KIND_NAMES) - DEPLOYABLE_KINDS)


@pytest.mark.parametrize("kind", RECOGNISED_ONLY)
def test_any_mapping_is_accepted_without_warnings(kind):
    result = validate_spec(kind, {"engine": "docdb", "instances": 3, "nested": {"a": [1]}})
    assert result.issues == [] and result.model is not None
    assert result.config() == {} and all_outputs(kind) == ()


def test_their_depends_on_is_still_checked_and_listed():
    result = validate_spec("DocumentDB", {"dependsOn": ["db", 3]})
    assert [(i.code, i.path) for i in result.issues] == [("invalid-type", ("dependsOn", 1))]
    assert [
        (r.path, r.component)
        for r in validate_spec("DocumentDB", {"dependsOn": ["db"]}).references()
    ] == [(("dependsOn", 0), "db")]
