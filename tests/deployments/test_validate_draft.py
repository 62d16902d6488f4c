import re

from django.urls import reverse

from deployments.models import StackDraft

from .editor_fixtures import QUEUE_YAML, shop

URL = "/t/acme/stacks/shop/edit/validate/"
PATH = "services/api/queue.yaml"


def post(client, text, path=PATH):
    return client.post(URL, {"path": path, "text": text}, HTTP_HX_REQUEST="true")


def test_url_name_matches():
    assert reverse("stack_validate", args=["acme", "shop"]) == URL


def test_an_undefined_variable_is_reported_on_its_line_and_column(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    text = QUEUE_YAML + "  visibilityTimeout: ${NOPE}\n"
    response = post(client, text)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="findings"'), "answers the partial, not a page"
    assert "unresolved-variable" in body
    assert re.search(rf"{PATH}:7:\d+", body), body


def test_the_text_is_autosaved_into_the_draft(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    post(client, QUEUE_YAML + "# edited\n")
    draft = StackDraft.objects.get(user=personas.deployer)
    assert draft.files[PATH].endswith("# edited\n")
    assert draft.is_dirty


def test_a_valid_stack_answers_no_errors_and_updates_the_file_tree(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    body = post(client, QUEUE_YAML).content.decode()
    assert "No errors" in body
    assert 'id="file-tree"' in body and 'hx-swap-oob="true"' in body


def test_an_oversized_file_is_refused_with_413_and_the_draft_is_kept(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    post(client, QUEUE_YAML + "# kept\n")
    response = post(client, "x" * (257 * 1024))
    assert response.status_code == 413
    assert "at most 256 KiB" in response.content.decode()
    assert StackDraft.objects.get(user=personas.deployer).files[PATH].endswith("# kept\n")


def test_a_path_outside_the_draft_is_refused(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert post(client, "x", path="../etc/passwd").status_code == 400
    assert post(client, "x", path="services/other.yaml").status_code == 400


def test_viewer_and_auditor_get_403(client, personas):
    shop(personas)
    for persona in (personas.viewer, personas.auditor):
        client.force_login(persona)
        assert post(client, QUEUE_YAML).status_code == 403
    assert not StackDraft.objects.exists()


def test_outsider_gets_404(client, personas):
    shop(personas)
    client.force_login(personas.outsider)
    assert post(client, QUEUE_YAML).status_code == 404


def test_get_is_not_allowed(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.get(URL).status_code == 405


def test_renaming_the_stack_in_yaml_is_an_error_at_metadata_name(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    client.get("/t/acme/stacks/shop/edit/")
    from .editor_fixtures import STACK_YAML

    text = STACK_YAML.replace("name: shop", "name: other-shop")
    body = client.post(
        URL, {"path": "stack.yaml", "text": text}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "stack-name-mismatch" in body and "stack.yaml:4:9" in body
