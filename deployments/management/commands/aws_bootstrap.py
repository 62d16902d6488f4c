"""Create (if missing) and check the state bucket and lock table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deployments.aws import bootstrap
from deployments.aws.errors import AwsError
from deployments.runtime import aws_settings


class Command(BaseCommand):
    help = "Create the state bucket (versioned) and lock table if missing, then check them."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check-only", action="store_true", help="only check; never create anything"
        )

    def handle(self, *args, check_only: bool, **options) -> None:
        settings = aws_settings()
        try:
            if not check_only:
                bootstrap.ensure_state_bucket(settings)
                bootstrap.ensure_lock_table(settings)
            bootstrap.check(settings)
        except AwsError as exc:
            raise CommandError(str(exc)) from exc
        where = settings.endpoint_url or f"AWS {settings.region}"
        self.stdout.write(
            f"state bucket {settings.state_bucket} (versioning Enabled) and lock table "
            f"{settings.lock_table} ready on {where}"
        )
