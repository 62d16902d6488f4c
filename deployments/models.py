"""Stacks, their immutable revisions, and the runs that deploy them."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models

from tenants.models import NAME_RULE, Tenant


class Stack(models.Model):
    """A unit of deployment owned by one tenant; its content lives in revisions."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="stacks")
    name = models.CharField(max_length=63, validators=[NAME_RULE])
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"],
                name="%(app_label)s_%(class)s_name_unique_per_tenant",
                violation_error_message="This tenant already has a stack with that name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.name}"

    def latest_revision(self) -> StackRevision | None:
        return self.revisions.order_by("-number").first()


def content_hash(files: dict[str, str]) -> str:
    """A stable hash of a stack's files: same files, same hash, whatever the dict order."""
    blob = json.dumps(files, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


class StackRevisionQuerySet(models.QuerySet["StackRevision"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("stack revisions are immutable")


class StackRevision(models.Model):
    """One immutable version of a stack's files (path → text), numbered per stack.

    A revision with validation errors is a *draft*: it is kept so work is never lost,
    but it cannot be planned or deployed.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    files = models.JSONField()
    content_hash = models.CharField(max_length=71)
    message = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)

    objects = StackRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["stack", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["stack", "number"], name="%(app_label)s_%(class)s_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stack} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("stack revisions are immutable")
        self.content_hash = content_hash(self.files)
        super().save(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.error_count > 0


class Deployment(models.Model):
    """One run against a stack + environment: a plan, a plan-and-apply, or a destroy.

    Only one run per stack + environment is *active* (planning, planned and waiting for
    its apply, awaiting approval, applying); later ones wait in FIFO order. The
    DynamoDB lock is held only while a worker plans or applies.
    """

    class Kind(models.TextChoices):
        PLAN = "plan", "Plan only"
        APPLY = "apply", "Plan and apply"
        DESTROY = "destroy", "Destroy"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PLANNING = "planning", "Planning"
        PLANNED = "planned", "Planned"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        APPLY_QUEUED = "apply_queued", "Apply queued"
        APPLYING = "applying", "Applying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted"

    TERMINAL = frozenset({"succeeded", "failed", "cancelled", "interrupted"})
    WORKING = frozenset({"planning", "applying"})

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="deployments")
    number = models.PositiveIntegerField(default=0)
    revision = models.ForeignKey(StackRevision, on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=63, validators=[NAME_RULE])
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.APPLY)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    variables = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The phases' ends and starts between those two, so the page can tell the plan, the
    # wait for someone to apply (or approve) and the apply apart.
    planned_at = models.DateTimeField(null=True, blank=True)
    apply_started_at = models.DateTimeField(null=True, blank=True)
    # What the worker is doing or waiting for, in words ("waiting: lock held by bob").
    waiting_reason = models.CharField(max_length=300, blank=True)
    plan = models.JSONField(null=True, blank=True)
    plan_hash = models.CharField(max_length=71, blank=True)
    # The state the plan was made from: an apply refuses when S3 has moved on.
    planned_state_etag = models.CharField(max_length=100, blank=True)
    planned_state_version = models.CharField(max_length=200, blank=True)
    state_version = models.CharField(max_length=200, blank=True)  # what the run wrote last
    state_serial = models.PositiveIntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    lock_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Delivery bookkeeping (README "Queue and delivery"): how often a worker took the run,
    # and when its task was last handed to the broker (the reaper re-sends lost ones).
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_component = models.CharField(max_length=63, blank=True)
    error = models.TextField(blank=True)
    mutating_calls = models.PositiveIntegerField(default=0)
    # The state an apply meant to write when the S3 save failed after AWS had changed:
    # {"state": {...}, "base_etag", "base_version", "base_serial", "error"}. Kept until
    # deployments.pending_state writes it as the next serial (see that module); None then.
    pending_state = models.JSONField(null=True, blank=True)
    # A kept state a tenant admin discarded (pending_state.discard), with who, when and
    # why: out of the way of later runs, still there to read.
    discarded_state = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["stack", "environment", "status"], name="deployments_stack_env_status"
            ),
            models.Index(fields=["status", "heartbeat_at"], name="deployments_status_heartbeat"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stack", "number"], name="%(app_label)s_%(class)s_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stack} #{self.number} {self.environment} {self.kind} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_finished(self) -> bool:
        """Nothing more will happen: terminal, or a plan-only run that has its plan."""
        return self.is_terminal or (
            self.status == self.Status.PLANNED and self.kind == self.Kind.PLAN
        )

    @property
    def duration(self):  # noqa: ANN201 - a timedelta or None
        if self.started_at is None:
            return None
        from django.utils import timezone

        return (self.finished_at or timezone.now()) - self.started_at

    def phases(self) -> list[tuple[str, timedelta]]:
        """(phase, how long) of what the run has done so far: ``plan``, then ``waiting``
        (for an apply to be confirmed, approved or given a worker) and ``apply``. Empty
        for a run from before these were recorded, or one not started."""
        from django.utils import timezone

        if self.started_at is None or (self.planned_at is None and self.is_terminal):
            return []
        now = self.finished_at or timezone.now()
        if self.planned_at is None:
            return [("plan", now - self.started_at)]
        found = [("plan", self.planned_at - self.started_at)]
        if self.apply_started_at is None:
            waiting = (self.Status.AWAITING_APPROVAL, self.Status.APPLY_QUEUED)
            if (
                self.status in waiting
                or self.status == self.Status.CANCELLED  # cancelled instead of applied
                or (self.status == self.Status.PLANNED and self.kind != self.Kind.PLAN)
            ):
                found.append(("waiting", now - self.planned_at))
            return found
        found.append(("waiting", self.apply_started_at - self.planned_at))
        found.append(("apply", now - self.apply_started_at))
        return found


class RunLog(models.Model):
    """One line of a run's log, stored as it happens so the page and a restart see it."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="logs")
    at = models.DateTimeField(auto_now_add=True)
    component = models.CharField(max_length=63, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.component} {self.message}"


class Approval(models.Model):
    """A tenant admin's approval of one plan (by hash) for a protected environment."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    plan_hash = models.CharField(max_length=71)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"approval of {self.deployment} by {self.approver}"


class StackDraft(models.Model):
    """One user's unsaved edits of a stack: the editor's working copy.

    Every keystroke batch the editor sends is kept here, so switching files, reloading the
    page or losing the connection never loses work. Saving turns the draft into a
    revision; ``base`` is the revision the edits started from, which is how a save notices
    that someone else saved in the meantime.
    """

    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    base = models.ForeignKey(
        StackRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    files = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stack", "user"], name="%(app_label)s_%(class)s_one_per_user_and_stack"
            )
        ]

    def __str__(self) -> str:
        return f"draft of {self.stack} by {self.user}"

    @property
    def is_dirty(self) -> bool:
        return self.base is None or self.files != self.base.files


class DriftCheck(models.Model):
    """One read-only comparison of AWS with a stack+environment's state."""

    class Status(models.TextChoices):
        IN_SYNC = "in-sync", "In sync"
        DRIFTED = "drifted", "Drifted"
        ERROR = "error", "Could not check"

    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="drift_checks")
    environment = models.CharField(max_length=63)
    checked_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    results = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [
            models.Index(
                fields=["stack", "environment", "-checked_at"], name="deployments_drift_latest"
            ),
            # The tenant page shows each stack's newest check over all its environments.
            models.Index(fields=["stack", "-checked_at"], name="deployments_drift_stack_latest"),
        ]

    def __str__(self) -> str:
        return f"drift of {self.stack} {self.environment}: {self.status}"

    @property
    def drifted(self) -> list[dict[str, object]]:
        return [r for r in self.results if r.get("status") in ("drifted", "missing")]


# Registered with this app; defined apart (they belong to a tenant, not a stack).
from .models_network import NetworkRun, NetworkRunLog  # noqa: E402, F401
