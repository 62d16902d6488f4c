"""Tenants, who belongs to them, and the append-only audit trail of what they did."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property

# format.md §1: the same rule as a component's metadata.name.
NAME_RULE = RegexValidator(
    r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use 1–63 lowercase letters, digits and hyphens, starting with a letter and not "
    "ending with a hyphen.",
)


def default_environments() -> list[str]:
    return ["development", "staging", "production"]


def default_protected() -> list[str]:
    return ["production"]


class Tenant(models.Model):
    """An isolated team: it owns stacks, members and limits, and nothing crosses its edge.

    ``slug`` is the tenant's name in the Panka format (``metadata.tenant``) and in every
    S3 key and lock key, so it never changes once stacks have been deployed.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=63, unique=True, validators=[NAME_RULE])
    display_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    max_stacks = models.PositiveIntegerField(default=100)
    max_services_per_stack = models.PositiveIntegerField(default=50)
    max_components_per_service = models.PositiveIntegerField(default=100)
    # Empty list = every kind the engine can deploy.
    allowed_kinds = models.JSONField(default=list, blank=True)
    allowed_regions = models.JSONField(default=list, blank=True)
    environments = models.JSONField(default=default_environments)
    protected_environments = models.JSONField(default=default_protected, blank=True)
    # How often drift is checked on a schedule, in hours; 0 turns the schedule off.
    drift_interval_hours = models.PositiveIntegerField(default=24)
    # The tenant's own network (deployments/aws/tenant_network.py): resource ids and a
    # "status" (creating, ready, deleting, failed). {} = none: stacks use the default VPC.
    network = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended"]),
                name="%(app_label)s_%(class)s_status_valid",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.slug

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @cached_property
    def suspension_reason(self) -> str:
        """Why the tenant is suspended: the reason of its latest ``tenant.suspended`` event
        (the audit log is the record of it, so there is no second copy to drift)."""
        if self.is_active or self.pk is None:
            return ""
        details = (
            AuditEvent.objects.filter(tenant=self, action="tenant.suspended")
            .order_by("-id")
            .values_list("details", flat=True)
            .first()
        )
        return str((details or {}).get("reason", ""))


class Role(models.TextChoices):
    """A member's role in one tenant (architecture.md, "Who uses it")."""

    VIEWER = "viewer", "Viewer"
    DEPLOYER = "deployer", "Deployer"
    ADMIN = "admin", "Admin"
    AUDITOR = "auditor", "Auditor"


class Membership(models.Model):
    """One user's role in one tenant. A user may belong to several tenants."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                name="%(app_label)s_%(class)s_one_per_user_and_tenant",
                violation_error_message="This user is already a member of the tenant.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant.slug} as {self.role}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One change to anything, by anyone. Rows are never updated or deleted.

    Each event stores the hash of the previous event of its tenant (``prev_hash``) and its
    own hash over its content, so editing or removing a row breaks the chain and
    ``manage.py audit verify`` can say where.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="tenants_audit_tenant_id"),
            # The audit page's action filter lists a tenant's distinct actions by skipping
            # through this index (views_audit.distinct_actions), not by reading every event.
            models.Index(fields=["tenant", "action"], name="tenants_audit_tenant_action"),
        ]
        constraints = [
            # A second event claiming the same predecessor would fork the chain.
            models.UniqueConstraint(
                fields=["tenant", "prev_hash"], name="%(app_label)s_%(class)s_chain_is_linear"
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")

    def content_hash(self) -> str:
        """SHA-256 over everything the event says, chained to the previous one."""
        payload = {
            "uid": str(self.uid),
            "tenant": self.tenant.slug if self.tenant_id else None,
            "actor": self.actor_name,
            "action": self.action,
            "target": self.target,
            "details": self.details,
            "source_ip": self.source_ip,
            "created_at": self.created_at.isoformat(),
            "prev_hash": self.prev_hash,
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


class Invitation(models.Model):
    """A single-use link that makes whoever opens it (signing up if needed) a member.

    Only a hash of the token is stored: the link is shown once, to the admin who made it.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation to {self.tenant.slug} as {self.role}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
