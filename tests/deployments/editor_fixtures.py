"""A small valid stack for editor tests, and helpers to open it as a persona."""

from __future__ import annotations

STACK_YAML = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: shop
spec:
  provider:
    name: aws
    region: us-east-1
  variables:
    RETENTION: "345600"
"""

QUEUE_YAML = """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: orders
spec:
  messageRetentionPeriod: ${RETENTION}
"""

FILES = {"stack.yaml": STACK_YAML, "services/api/queue.yaml": QUEUE_YAML}


def shop(personas, files=None):
    from deployments.services import create_stack, save_revision
    from deployments.validation import summary_counts, validate_files

    stack = create_stack(tenant=personas.tenant, name="shop", actor=personas.admin)
    files = files or FILES
    save_revision(
        stack=stack,
        files=files,
        actor=personas.admin,
        message="first",
        counts=summary_counts(validate_files(files, tenant=personas.tenant)),
    )
    return stack
