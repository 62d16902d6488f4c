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
    """The editor's stack ``shop`` with one validated revision."""
    from .run_fixtures import deployable_stack

    return deployable_stack(personas, files=files or FILES)
