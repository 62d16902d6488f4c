"""Seed a demo tenant, user and stack so a fresh install has something to show."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from deployments.demo import DEMO_PASSWORD, DEMO_STACK, DEMO_TENANT, DEMO_USER
from deployments.models import Stack
from deployments.services import create_stack, save_revision
from deployments.validation import summary_counts, validate_files
from tenants.models import Membership, Role, Tenant

DEMO_STACK_DIR = Path(settings.BASE_DIR) / "examples" / "shop"


def read_stack_folder(folder: Path) -> dict[str, str]:
    """Every file of a stack folder, keyed by its path relative to the folder."""
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class Command(BaseCommand):
    help = "Create the demo tenant, user and stack (idempotent: safe to run again)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            tenant, _ = Tenant.objects.get_or_create(
                slug=DEMO_TENANT, defaults={"display_name": "Demo Team"}
            )
            user_model = get_user_model()
            user = user_model.objects.filter(username=DEMO_USER).first()
            if user is None:
                user = user_model.objects.create_user(
                    DEMO_USER, email="demo@example.com", password=DEMO_PASSWORD
                )
            Membership.objects.get_or_create(
                tenant=tenant, user=user, defaults={"role": Role.ADMIN}
            )
            stack = Stack.objects.filter(tenant=tenant, name=DEMO_STACK).first()
            if stack is None:
                stack = create_stack(
                    tenant=tenant,
                    name=DEMO_STACK,
                    actor=user,
                    description="Demo: a small shop with an API, a worker, a queue and a table",
                )
            files = read_stack_folder(DEMO_STACK_DIR)
            result = validate_files(files, tenant=tenant, stack_name=DEMO_STACK)
            revision, created = save_revision(
                stack=stack,
                files=files,
                actor=user,
                message="Demo stack from examples/shop",
                counts=summary_counts(result),
            )
        state = "created" if created else "unchanged"
        self.stdout.write(
            f"demo tenant '{tenant.slug}', user '{DEMO_USER}', stack '{DEMO_STACK}' r{revision.number} ({state})"
        )
