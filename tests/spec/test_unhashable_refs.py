"""A list where a kind's reference reader expects a word gives findings, not a crash.

Found by the contract's property test: ``triggers: [{type: []}]`` made the Lambda's
reference reader look a list up in a dict (TypeError, a 500 in the editor).
"""

from __future__ import annotations

from deployments.spec import validate

STACK = (
    "apiVersion: core.panka.io/v1\nkind: Stack\nmetadata: {name: s}\n"
    "spec: {provider: {name: aws, region: us-east-1}}\n"
)
QUEUE = "apiVersion: components.panka.io/v1\nkind: SQS\nmetadata: {name: q}\nspec: {}\n---\n"


def _codes(component: str) -> set[tuple[str, str]]:
    result = validate({"stack.yaml": STACK, "services/a/c.yaml": QUEUE + component})
    return {(f.code, f.path) for f in result.errors}


def test_a_lambda_trigger_type_written_as_a_list() -> None:
    codes = _codes(
        "apiVersion: components.panka.io/v1\nkind: Lambda\nmetadata: {name: f}\nspec:\n"
        "  runtime: python3.12\n  handler: i.h\n  code: {zipFile: x}\n"
        "  triggers:\n    - {type: [], source: {component: q}}\n"
    )
    assert any(path.startswith("spec.triggers[0].type") for _, path in codes), codes


def test_an_sns_subscription_protocol_written_as_a_list() -> None:
    codes = _codes(
        "apiVersion: components.panka.io/v1\nkind: SNS\nmetadata: {name: t}\nspec:\n"
        "  subscriptions:\n    - {protocol: [], component: q}\n"
    )
    assert any(path.startswith("spec.subscriptions[0].protocol") for _, path in codes), codes
