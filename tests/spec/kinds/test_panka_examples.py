"""The format authors' example stacks validate with no errors (warnings allowed).

They are third-party files, read in place from ../shared/fixtures/panka-examples/ next to
the project root (never copied into the project); the test skips where that folder is
absent. YAML is parsed here only to pull out each document's `spec:`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deployments.spec.kinds import KIND_NAMES, validate_spec

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "panka-examples"


def _documents() -> list[tuple[str, str, str, object]]:
    if not EXAMPLES.is_dir():
        return []
    found = []
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        with path.open(encoding="utf-8") as handle:
            for doc in yaml.safe_load_all(handle):
                if isinstance(doc, dict):
                    name = (doc.get("metadata") or {}).get("name", "?")
                    found.append(
                        (str(path.relative_to(EXAMPLES)), doc["kind"], name, doc.get("spec"))
                    )
    return found


DOCUMENTS = _documents()
pytestmark = pytest.mark.skipif(
    not DOCUMENTS, reason=f"the panka example stacks are not at {EXAMPLES}"
)


@pytest.mark.parametrize(
    "file, kind, name, spec", DOCUMENTS, ids=[f"{d[0]}:{d[1]}:{d[2]}" for d in DOCUMENTS] or None
)
def test_an_authors_example_document_validates_without_errors(file, kind, name, spec):
    assert kind in KIND_NAMES or kind in ("Stack", "Service")
    result = validate_spec(kind, spec)
    assert [i for i in result.issues if i.severity == "error"] == []
    assert result.model is not None
    result.config()


def test_the_examples_cover_the_kinds_they_are_known_to_use():
    kinds = {d[1] for d in DOCUMENTS}
    assert {"Stack", "Service", "MicroService", "RDS", "S3", "SQS", "DynamoDB", "SNS"} <= kinds


def test_the_examples_references_and_switched_on_outputs_are_found():
    by_name = {d[2]: validate_spec(d[1], d[3]) for d in DOCUMENTS}
    api = by_name["api-server"]
    assert ("main-db", "endpoint") in [(r.component, r.output) for r in api.references()]
    assert "endpoint" in by_name["main-db"].outputs()
    assert {"dlq_url", "dlq_arn"} <= by_name["task-queue"].outputs()
