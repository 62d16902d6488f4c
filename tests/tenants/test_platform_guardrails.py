"""What a platform admin sets shows in the editor's live validation, on the right line."""

from __future__ import annotations

import html
import re

import pytest

from tests.deployments.editor_fixtures import QUEUE_YAML, STACK_YAML, shop

from .test_platform import SETTINGS

RDS_YAML = """\
apiVersion: components.panka.io/v1
kind: RDS
metadata:
  name: ledger-db
spec:
  engine:
    type: postgres
    version: "16"
  instance:
    class: db.t3.medium
    storage:
      type: gp3
      allocatedGB: 50
  database:
    name: ledger
    username: ledger_admin
"""


@pytest.fixture
def set_settings(client, personas):
    """Change acme's settings through the platform page, as a platform admin would."""

    def apply(**override) -> None:
        client.force_login(personas.platform_admin)
        response = client.post("/platform/tenants/acme/", {**SETTINGS, **override})
        assert response.status_code == 302, response.content.decode()
        client.force_login(personas.deployer)

    return apply


def validate(client, path: str, text: str) -> str:
    response = client.post(
        "/t/acme/stacks/shop/edit/validate/", {"path": path, "text": text}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def policy_findings(body: str) -> list[str]:
    """``file:line:col message`` of every tenant-policy finding in the panel."""
    return [
        html.unescape(re.sub(r"<[^>]+>|\s+", " ", f).strip())
        for f in re.findall(r'<li[^>]*class="finding[^"]*"[^>]*>(.*?)</li>', body, re.S)
        if "tenant-policy" in f
    ]


def test_a_kind_the_tenant_does_not_allow_is_flagged_on_its_kind_line(
    client, personas, set_settings
):
    shop(personas)
    set_settings(allowed_kinds=["SQS", "S3"])
    body = validate(client, "services/api/queue.yaml", RDS_YAML)
    (finding,) = policy_findings(body)
    assert "services/api/queue.yaml:2:" in finding
    assert "kind RDS is not allowed for this tenant (allowed: S3, SQS)" in finding

    set_settings(allowed_kinds=["SQS", "S3", "RDS"])
    assert policy_findings(validate(client, "services/api/queue.yaml", RDS_YAML)) == []


def test_a_region_the_tenant_does_not_allow_is_flagged_on_its_region_line(
    client, personas, set_settings
):
    shop(personas)
    set_settings(allowed_regions="eu-west-1")
    (finding,) = policy_findings(validate(client, "stack.yaml", STACK_YAML))
    assert "stack.yaml:8:" in finding  # "    region: us-east-1"
    assert "region `us-east-1` is not allowed for this tenant (allowed: eu-west-1)" in finding


def test_the_components_per_service_limit_is_flagged(client, personas, set_settings):
    shop(personas)
    set_settings(max_components_per_service="1")
    two = QUEUE_YAML + "---\n" + QUEUE_YAML.replace("name: orders", "name: refunds")
    (finding,) = policy_findings(validate(client, "services/api/queue.yaml", two))
    assert "services/api/queue.yaml:4:" in finding  # the first component's name
    assert "service 'api' has 2 components, the tenant's limit is 1 per service" in finding
