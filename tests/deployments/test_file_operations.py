import pytest

from deployments.models import StackDraft
from tenants.models import AuditEvent

from .editor_fixtures import shop

BASE = "/t/acme/stacks/shop/edit/files/"


def draft_files(persona):
    return StackDraft.objects.get(user=persona).files


def test_add_rename_and_delete_a_file_are_kept_and_audited(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.post(BASE + "add/", {"path": "services/api/topic.yaml"}).status_code == 302
    assert "services/api/topic.yaml" in draft_files(personas.deployer)
    client.post(
        BASE + "rename/",
        {"path": "services/api/topic.yaml", "new_path": "services/api/alerts.yaml"},
    )
    files = draft_files(personas.deployer)
    assert "services/api/alerts.yaml" in files and "services/api/topic.yaml" not in files
    client.post(BASE + "delete/", {"path": "services/api/alerts.yaml"})
    assert "services/api/alerts.yaml" not in draft_files(personas.deployer)
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"draft.file_add", "draft.file_rename", "draft.file_delete"} <= set(actions)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x.yaml", "services/../../x.yaml", ".hidden.yaml", ""]
)
def test_unsafe_paths_are_refused_with_a_message(client, personas, path):
    shop(personas)
    client.force_login(personas.deployer)
    response = client.post(BASE + "add/", {"path": path}, follow=True)
    assert "not a valid file path" in response.content.decode()
    assert len(draft_files(personas.deployer)) == 2


@pytest.mark.parametrize("action", ["add", "rename", "delete"])
def test_viewer_gets_403(client, personas, action):
    shop(personas)
    client.force_login(personas.viewer)
    assert (
        client.post(BASE + f"{action}/", {"path": "stack.yaml", "new_path": "x.yaml"}).status_code
        == 403
    )


@pytest.mark.parametrize("action", ["add", "rename", "delete"])
def test_outsider_gets_404(client, personas, action):
    shop(personas)
    client.force_login(personas.outsider)
    assert client.post(BASE + f"{action}/", {"path": "stack.yaml"}).status_code == 404


@pytest.mark.parametrize("action", ["add", "rename", "delete"])
def test_get_is_not_allowed(client, personas, action):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.get(BASE + f"{action}/").status_code == 405
