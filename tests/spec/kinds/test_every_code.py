"""Every code in KIND_CODES is emitted somewhere, with the path and severity it should have."""

from __future__ import annotations

from deployments.spec.kinds import KIND_CODES, validate_spec

from ._support import check

WARNINGS = {"unknown-field", "not-applied"}


def _one(result, code):
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, result.issues
    return found[0]


def test_each_code_is_triggered_at_its_exact_path(monkeypatch):
    cases = {
        "missing-field": (check("MicroService", {("image",): {"repository": "r"}}), ("image",)),
        "invalid-type": (check("SQS", {("visibilityTimeout",): "soon"}), ("visibilityTimeout",)),
        "invalid-value": (check("SQS", {("visibilityTimeout",): 43201}), ("visibilityTimeout",)),
        "invalid-combination": (check("MicroService", {("runtime",): {"cpu": 4096, "memory": 512}}), ("runtime", "memory")),
        "duplicate-entry": (check("S3", {("lifecycle",): [{"id": "a", "expiration": {"days": 1}}] * 2}), ("lifecycle", 1, "id")),
        "field-not-allowed": (check("Worker", {("ports",): []}), ("ports",)),
        "not-deployable": (check("Stack", {("provider", "name"): "azure"}), ("provider", "name")),
        "unknown-field": (check("SNS", {("displayname",): "x"}), ("displayname",)),
        "not-applied": (check("S3", {("bucket", "acl"): "public-read"}), ("bucket", "acl")),
    }  # fmt: skip
    from deployments.spec.kinds import registry

    monkeypatch.setattr(registry, "_validate", lambda definition, spec: 1 / 0)
    cases["spec-check-failed"] = (validate_spec("SQS", {}), ())
    assert set(cases) == set(KIND_CODES)
    for code, (result, path) in cases.items():
        issue = _one(result, code)
        assert issue.path == path, code
        assert issue.severity == ("warning" if code in WARNINGS else "error"), code
        assert issue.message
