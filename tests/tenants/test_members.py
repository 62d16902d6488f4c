"""Tenant admins manage access; the last admin stays; invitations work once."""

from __future__ import annotations

import re

import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from tenants.models import AuditEvent, Invitation, Membership

URL = "/t/acme/members/"


def role_of(personas, username):
    return Membership.objects.get(tenant=personas.tenant, user__username=username).role


def test_every_member_sees_who_has_access_and_only_admins_get_controls(client, personas):
    client.force_login(personas.viewer)
    page = client.get(URL).content.decode()
    assert all(f'id="member-{name}"' in page for name in ("viewer", "deployer", "admin", "auditor"))
    assert "Add an existing user" not in page
    client.force_login(personas.admin)
    assert "Add an existing user" in client.get(URL).content.decode()


def test_admin_adds_by_username_or_email_changes_role_and_removes(client, personas):
    get_user_model().objects.create_user("carol", email="carol@example.com", password="x")
    get_user_model().objects.create_user("dave", password="x")
    client.force_login(personas.admin)
    client.post(URL + "add/", {"who": "CAROL@example.com", "role": "deployer"})
    client.post(URL + "add/", {"who": "dave", "role": "viewer"})
    assert role_of(personas, "carol") == "deployer" and role_of(personas, "dave") == "viewer"
    page = client.post(
        URL + "add/", {"who": "dave", "role": "viewer"}, follow=True
    ).content.decode()
    assert "already a member" in page
    client.post(URL + "carol/role/", {"role": "admin"})
    assert role_of(personas, "carol") == "admin"
    client.post(URL + "dave/remove/")
    assert not Membership.objects.filter(user__username="dave").exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"member.add", "member.role", "member.remove"} <= actions


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, personas):
    client.force_login(personas.admin)
    page = client.post(URL + "admin/role/", {"role": "viewer"}, follow=True).content.decode()
    assert "last admin" in page and role_of(personas, "admin") == "admin"
    page = client.post(URL + "admin/remove/", follow=True).content.decode()
    assert "last admin" in page and role_of(personas, "admin") == "admin"


def test_an_invitation_link_signs_up_a_new_user_once(client, personas):
    client.force_login(personas.admin)
    page = client.post(URL + "invite/", {"role": "deployer"}, follow=True).content.decode()
    link = re.search(r'id="invitation-link">([^<]+)<', page).group(1)
    path = link.split("testserver", 1)[1]
    assert "invitation-link" not in client.get(URL).content.decode(), "the link is shown once"
    client.logout()
    form = client.get(path).content.decode()
    assert "Join Acme" in form and "deployer" in form
    response = client.post(
        path,
        {
            "username": "newbie",
            "email": "",
            "password1": "a-long-Passw0rd!",
            "password2": "a-long-Passw0rd!",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/t/acme/"
    assert role_of(personas, "newbie") == "deployer"
    assert AuditEvent.objects.filter(action="member.join", actor_name="newbie").exists()
    client.logout()
    assert client.get(path).status_code == 404, "single use"
    assert not Invitation.objects.filter(used_at__isnull=True).exists()


def test_an_invitation_expires(client, personas):
    client.force_login(personas.admin)
    page = client.post(URL + "invite/", {"role": "viewer"}, follow=True).content.decode()
    path = re.search(r'id="invitation-link">([^<]+)<', page).group(1).split("testserver", 1)[1]
    client.logout()
    with time_machine.travel(timezone.now() + timezone.timedelta(days=8)):
        assert client.get(path).status_code == 404


def test_roles_and_outsiders(client, personas):
    for persona in (personas.viewer, personas.deployer, personas.auditor):
        client.force_login(persona)
        assert client.post(URL + "add/", {"who": "outsider", "role": "admin"}).status_code == 403
        assert client.post(URL + "viewer/role/", {"role": "admin"}).status_code == 403
        assert client.post(URL + "viewer/remove/").status_code == 403
        assert client.post(URL + "invite/", {"role": "admin"}).status_code == 403
    client.force_login(personas.outsider)
    assert client.get(URL).status_code == 404
    assert client.post(URL + "add/", {"who": "outsider", "role": "admin"}).status_code == 404
    client.force_login(personas.admin)
    assert client.post(URL + "nobody/role/", {"role": "viewer"}).status_code == 404
    assert client.get(URL + "add/").status_code == 405
    assert not Membership.objects.filter(tenant=personas.tenant, user=personas.outsider).exists()
    assert client.get("/invite/not-a-token/").status_code == 404
