from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from deployments.models import Stack, StackRevision
from tenants.models import AuditEvent, Membership, Tenant


def test_seed_creates_a_valid_demo_stack_and_a_user_who_can_log_in(db, capsys):
    call_command("seed_demo")
    assert "(created)" in capsys.readouterr().out
    tenant = Tenant.objects.get(slug="demo")
    user = authenticate(RequestFactory().post("/login/"), username="demo", password="panka-demo")
    assert user is not None
    assert Membership.objects.get(tenant=tenant, user=user).role == "admin"
    revision = Stack.objects.get(tenant=tenant, name="shop").latest_revision()
    assert revision.error_count == 0, "the demo stack must validate"
    assert "stack.yaml" in revision.files


def test_seed_is_idempotent(db, capsys):
    call_command("seed_demo")
    counts = (
        Tenant.objects.count(),
        Stack.objects.count(),
        StackRevision.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo")
    assert "(unchanged)" in capsys.readouterr().out
    assert counts == (
        Tenant.objects.count(),
        Stack.objects.count(),
        StackRevision.objects.count(),
        AuditEvent.objects.count(),
    )
