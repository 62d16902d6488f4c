"""Networking runs: a platform admin's request to create or delete a tenant's network.

Imported by ``deployments.models`` so Django registers them; kept apart because they
belong to a tenant, not to a stack. The network's resource ids live on the tenant
(``Tenant.network``), since stacks read them on every apply.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class NetworkRun(models.Model):
    """One create or delete of a tenant's network, done by a worker under the lock
    ``tenant:<slug>:networking``. At most one per tenant is queued or running."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    ACTIVE = frozenset({"queued", "running"})

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="network_runs"
    )
    number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # The requested network (NetworkSpec.as_dict()) for a create; {} for a delete.
    spec = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.CharField(max_length=300, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    lock_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="%(app_label)s_%(class)s_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"network {self.action} #{self.number} of {self.tenant_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.ACTIVE


class NetworkRunLog(models.Model):
    """One line of a networking run's log, stored as it happens."""

    run = models.ForeignKey(NetworkRun, on_delete=models.CASCADE, related_name="logs")
    at = models.DateTimeField(auto_now_add=True)
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.message}"
