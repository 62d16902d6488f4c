import pytest
from django.urls import reverse

from deployments.models import StackDraft

from .editor_fixtures import shop


def url(file: str | None = None) -> str:
    base = reverse("stack_editor", args=["acme", "shop"])
    return f"{base}?file={file}" if file else base


@pytest.mark.parametrize("role", ["deployer", "admin"])
def test_deployers_and_admins_get_an_editable_draft(client, personas, role):
    shop(personas)
    client.force_login(getattr(personas, role))
    page = client.get(url()).content.decode()
    assert 'hx-post="/t/acme/stacks/shop/edit/validate/"' in page
    assert "Save revision" in page
    assert StackDraft.objects.filter(user=getattr(personas, role)).count() == 1


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_get_the_latest_revision_read_only(client, personas, role):
    shop(personas)
    client.force_login(getattr(personas, role))
    response = client.get(url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "readonly" in page and "hx-post" not in page and "Save revision" not in page
    assert not StackDraft.objects.exists()


def test_the_requested_file_is_opened_with_its_text(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    page = client.get(url("services/api/queue.yaml")).content.decode()
    assert "messageRetentionPeriod: ${RETENTION}" in page
    assert 'value="services/api/queue.yaml"' in page


def test_the_file_tree_lists_every_file(client, personas):
    shop(personas)
    client.force_login(personas.viewer)
    page = client.get(url()).content.decode()
    assert "stack.yaml" in page and "services/api/queue.yaml" in page


def test_outsider_gets_404(client, personas):
    shop(personas)
    client.force_login(personas.outsider)
    assert client.get(url()).status_code == 404


def test_anonymous_is_sent_to_login(client, personas):
    shop(personas)
    assert client.get(url()).status_code == 302


def test_post_is_not_allowed(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.post(url()).status_code == 405
