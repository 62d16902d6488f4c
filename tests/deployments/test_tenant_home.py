import pytest
from django.urls import reverse

from tests.conftest import make_stack


def url(slug: str = "acme") -> str:
    return reverse("tenant_home", args=[slug])


@pytest.mark.parametrize("role", ["viewer", "deployer", "admin", "auditor"])
def test_members_in_every_role_see_the_stacks(client, personas, role):
    make_stack(personas.tenant, "shop")
    client.force_login(getattr(personas, role))
    response = client.get(url())
    assert response.status_code == 200
    assert b"shop" in response.content


def test_outsider_gets_404_as_if_the_tenant_did_not_exist(client, personas):
    client.force_login(personas.outsider)
    assert client.get(url()).status_code == 404
    assert client.get(url("no-such-tenant")).status_code == 404


def test_anonymous_is_sent_to_login(client, personas):
    response = client.get(url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_platform_admin_sees_every_tenant(client, personas):
    client.force_login(personas.platform_admin)
    assert client.get(url("globex")).status_code == 200


def test_post_is_not_allowed(client, personas):
    client.force_login(personas.viewer)
    assert client.post(url()).status_code == 405


def test_stacks_of_another_tenant_are_not_listed(client, personas):
    make_stack(personas.other_tenant, "secret-stack")
    client.force_login(personas.viewer)
    assert b"secret-stack" not in client.get(url()).content


def test_home_redirects_a_single_tenant_member_to_the_tenant(client, personas):
    client.force_login(personas.viewer)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == url()


def test_tenant_switcher_lists_every_tenant_of_the_user(client, personas):
    from tenants.models import Membership, Role

    Membership.objects.create(tenant=personas.other_tenant, user=personas.viewer, role=Role.VIEWER)
    client.force_login(personas.viewer)
    page = client.get(reverse("home")).content.decode()
    assert url("acme") in page and url("globex") in page
