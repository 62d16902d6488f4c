"""Bulk seeding of large data for the list-page benchmarks and query-count tests.

Everything here writes real rows through the ORM (``bulk_create``, so 100,000 rows take
seconds, not minutes) or real S3 versions through :class:`StateStore`. The one shortcut
is the audit trail: ``AuditEvent.save`` appends one event at a time under a tenant row
lock; :func:`audit_events` instead computes the same hash chain in Python and inserts it
in batches, so ``manage.py audit verify`` still accepts the seeded log.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from deployments.models import Deployment, Stack, StackRevision
from tenants.models import AuditEvent, Membership, Role, Tenant

BATCH = 2000
STATUSES = ("succeeded", "succeeded", "succeeded", "failed", "cancelled", "planned")
KINDS = ("apply", "apply", "plan", "destroy")
ACTIONS = (
    "run.apply",
    "revision.create",
    "lock.manual",
    "lock.release",
    "member.add",
    "stack.create",
)


def stacks(tenant: Tenant, count: int, *, prefix: str = "stack") -> list[Stack]:
    """``count`` stacks named ``<prefix>-00000``…, without revisions (the tenant page
    lists stacks only)."""
    rows = [
        Stack(tenant=tenant, name=f"{prefix}-{i:05d}", description=f"seeded stack {i}")
        for i in range(count)
    ]
    return Stack.objects.bulk_create(rows, batch_size=BATCH)


def revisions(stack: Stack, count: int, *, author: Any = None) -> None:
    """``count`` more revisions of ``stack`` with small files (numbers follow the last)."""
    from deployments.models import content_hash

    start = (stack.revisions.order_by("-number").values_list("number", flat=True).first()) or 0
    rows = []
    for i in range(1, count + 1):
        files = {"stack.yaml": f"apiVersion: core.panka.io/v1\nkind: Stack\n# r{start + i}\n"}
        rows.append(
            StackRevision(
                stack=stack,
                number=start + i,
                files=files,
                content_hash=content_hash(files),
                message=f"seeded revision {start + i}",
                author=author,
            )
        )
    StackRevision.objects.bulk_create(rows, batch_size=BATCH)


def runs(stack: Stack, revision: StackRevision, count: int, *, user: Any = None) -> None:
    """``count`` finished runs of ``stack`` (numbers follow the last), mixed kinds and
    outcomes over the tenant's environments."""
    start = stack.deployments.order_by("-number").values_list("number", flat=True).first() or 0
    environments = stack.tenant.environments or ["development"]
    now = timezone.now()
    rows = [
        Deployment(
            stack=stack,
            number=start + i,
            revision=revision,
            environment=environments[i % len(environments)],
            kind=KINDS[i % len(KINDS)],
            status=STATUSES[i % len(STATUSES)],
            requested_by=user,
            started_at=now - timedelta(minutes=count - i),
            finished_at=now - timedelta(minutes=count - i) + timedelta(seconds=40),
        )
        for i in range(1, count + 1)
    ]
    Deployment.objects.bulk_create(rows, batch_size=BATCH)


def members(tenant: Tenant, count: int, *, prefix: str = "member") -> None:
    """``count`` users, each a viewer of ``tenant`` (unusable passwords: nobody logs in)."""
    user_model = get_user_model()
    users = []
    for i in range(count):
        user = user_model(username=f"{prefix}-{i:05d}", email=f"{prefix}-{i}@example.com")
        user.set_unusable_password()
        users.append(user)
    users = user_model.objects.bulk_create(users, batch_size=BATCH)
    Membership.objects.bulk_create(
        [Membership(tenant=tenant, user=u, role=Role.VIEWER) for u in users], batch_size=BATCH
    )


def audit_events(tenant: Tenant, count: int, *, actor: Any = None) -> None:
    """Append ``count`` events to ``tenant``'s audit trail with a correct hash chain.

    Under the same tenant row lock :func:`tenants.audit.record` takes, so nothing else
    can append in between and fork the chain. The hashes come from
    ``AuditEvent.content_hash`` itself; the rows go in by ``executemany`` with values
    adapted by the database backend, as the ORM's bulk insert would (which spends most
    of 100,000 rows' time preparing each field).
    """
    name = actor.get_username() if actor is not None else "system"
    ops = connection.ops
    native_uuid = connection.features.has_native_uuid_field
    meta = AuditEvent._meta
    columns = ["uid", "tenant_id", "actor_id", "actor_name", "action", "target", "details",
               "source_ip", "created_at", "prev_hash", "hash"]  # fmt: skip
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        ops.quote_name(meta.db_table),
        ", ".join(ops.quote_name(c) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    details_field = meta.get_field("details")
    with transaction.atomic(), connection.cursor() as cursor:
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        previous = (
            AuditEvent.objects.filter(tenant=tenant)
            .order_by("-id")
            .values_list("hash", flat=True)
            .first()
        ) or ""
        start = timezone.now() - timedelta(seconds=count)
        event = AuditEvent(tenant=tenant, actor=actor, actor_name=name, source_ip="127.0.0.1")
        rows: list[tuple[Any, ...]] = []
        for i in range(count):
            event.uid = uuid.uuid4()
            event.action = ACTIONS[i % len(ACTIONS)]
            event.target = f"stack:stack-{i % 1000:05d}"
            event.details = {"seeded": i}
            event.created_at = start + timedelta(seconds=i)
            event.prev_hash = previous
            previous = event.content_hash()
            rows.append(
                (
                    event.uid if native_uuid else event.uid.hex,
                    tenant.pk,
                    actor.pk if actor is not None else None,
                    name,
                    event.action,
                    event.target,
                    details_field.get_db_prep_save(event.details, connection),
                    event.source_ip,
                    ops.adapt_datetimefield_value(event.created_at),
                    event.prev_hash,
                    previous,
                )
            )
            if len(rows) == BATCH:
                cursor.executemany(sql, rows)
                rows = []
        if rows:
            cursor.executemany(sql, rows)


def state_versions(
    aws: Any, tenant: str, stack: str, environment: str, count: int, *, deployment_id: str = ""
) -> None:
    """``count`` real saves of a growing state through :class:`StateStore` (conditional
    puts, serials in order), as successive runs would write them."""
    from deployments.aws.state import StateStore, empty_state, successor

    store = StateStore(aws)
    previous = store.load(tenant, stack, environment)
    state = previous.state if previous else empty_state(tenant, stack, environment)
    for i in range(count):
        following = successor(state)
        following["resources"] = {
            f"queue-{j}": {"id": f"q{j}", "type": "SQS", "name": f"queue-{j}", "status": "ready"}
            for j in range(1 + i % 5)
        }
        previous = store.save(
            previous,
            following,
            deployment_id=deployment_id or str(uuid.uuid4()),
            deployed_by="seed",
            revision="1",
        )
        state = previous.state
