import pytest
from django.urls import reverse

from tests.conftest import make_stack


def url(stack: str = "shop", slug: str = "acme") -> str:
    return reverse("stack_detail", args=[slug, stack])


@pytest.mark.parametrize("role", ["viewer", "deployer", "admin", "auditor"])
def test_members_see_the_latest_revision_files_read_only(client, personas, role):
    make_stack(personas.tenant, files={"stack.yaml": "kind: Stack # marker-123\n"})
    client.force_login(getattr(personas, role))
    response = client.get(url())
    assert response.status_code == 200
    assert b"marker-123" in response.content
    assert b'id="editor-text"' not in response.content, "the overview shows files read-only"


def test_outsider_gets_404_for_an_existing_stack(client, personas):
    make_stack(personas.tenant)
    client.force_login(personas.outsider)
    assert client.get(url()).status_code == 404


def test_member_of_another_tenant_cannot_reach_it_through_their_own_slug(client, personas):
    make_stack(personas.tenant)
    client.force_login(personas.outsider)
    assert client.get(url(slug="globex")).status_code == 404


def test_unknown_stack_is_404(client, personas):
    client.force_login(personas.viewer)
    assert client.get(url("nope")).status_code == 404


def test_post_is_not_allowed(client, personas):
    make_stack(personas.tenant)
    client.force_login(personas.viewer)
    assert client.post(url()).status_code == 405
