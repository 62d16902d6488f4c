"""``manage.py audit verify [--tenant SLUG]``: walk the audit hash chains."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tenants.audit_chain import verify_chain
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains and report the first broken link."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check every event of one or all tenants")
        verify.add_argument("--tenant", help="only this tenant's chain")

    def handle(self, *args, action: str, tenant: str | None = None, **options) -> None:
        if tenant:
            chains = list(Tenant.objects.filter(slug=tenant))
            if not chains:
                raise CommandError(f"no tenant {tenant!r}")
        else:
            chains = [None, *Tenant.objects.all()]  # None: platform events (no tenant)
        broken = 0
        for chain in chains:
            name = chain.slug if chain else "(platform)"
            checked, link = verify_chain(chain)
            if link is None:
                self.stdout.write(f"{name}: {checked} events, chain intact")
            else:
                broken += 1
                self.stdout.write(
                    f"{name}: BROKEN at event {link.event_id} (after {checked - 1} good): {link.reason}"
                )
        if broken:
            raise CommandError(f"{broken} chain(s) broken")
