"""A small deployable stack (SQS only) and helpers to drive runs inline."""

from __future__ import annotations

STACK = """\
apiVersion: core.panka.io/v1
kind: Stack
metadata:
  name: shop
spec:
  provider:
    name: aws
    region: us-east-1
  variables:
    TIMEOUT: "60"
"""

JOBS = """\
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: jobs
spec:
  visibilityTimeout: ${TIMEOUT}
  deadLetterQueue:
    enabled: true
    maxReceiveCount: 3
---
apiVersion: components.panka.io/v1
kind: SQS
metadata:
  name: results
spec:
  dependsOn: [jobs]
"""

FILES = {"stack.yaml": STACK, "services/work/queues.yaml": JOBS}


def deployable_stack(personas, files=None):
    """Stack ``shop`` of tenant acme with one validated revision of ``files``."""
    from deployments.services import create_stack, save_revision
    from deployments.validation import summary_counts, validate_files

    stack = create_stack(tenant=personas.tenant, name="shop", actor=personas.admin)
    files = files or FILES
    save_revision(
        stack=stack,
        files=files,
        actor=personas.admin,
        counts=summary_counts(validate_files(files, tenant=personas.tenant)),
    )
    return stack
