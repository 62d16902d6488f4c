import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tenants import audit
from tenants.models import AuditEvent


def _events(personas, n=3):
    return [
        audit.record(
            action="test.event", actor=personas.admin, tenant=personas.tenant, target=f"t{i}"
        )
        for i in range(n)
    ]


def test_an_untouched_chain_verifies(personas, capsys):
    _events(personas)
    call_command("audit", "verify", "--tenant", "acme")
    assert "acme: 3 events, chain intact" in capsys.readouterr().out


def test_an_edited_row_is_reported_at_that_event(personas, capsys):
    events = _events(personas)
    with connection.cursor() as cursor:  # behind the model's back, as an attacker would
        cursor.execute(
            "UPDATE tenants_auditevent SET target = 'forged' WHERE id = %s", [events[1].id]
        )
    with pytest.raises(CommandError, match="broken"):
        call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"BROKEN at event {events[1].id}" in out and "edited" in out


def test_a_deleted_row_breaks_the_link_of_the_next(personas, capsys):
    events = _events(personas)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenants_auditevent WHERE id = %s", [events[1].id])
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--tenant", "acme")
    assert f"BROKEN at event {events[2].id}" in capsys.readouterr().out


def test_the_model_refuses_updates_and_deletes(personas):
    event = _events(personas, 1)[0]
    event.target = "x"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(target="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
