from deployments import editing
from deployments.models import StackDraft, StackRevision
from tenants.models import AuditEvent

from .editor_fixtures import QUEUE_YAML, shop

URL = "/t/acme/stacks/shop/edit/save/"
PATH = "services/api/queue.yaml"


def save(client, text, message="change", **extra):
    return client.post(
        URL, {"path": PATH, "text": text, "message": message, "current": PATH, **extra}
    )


def test_saving_creates_the_next_revision_with_author_message_and_audit_event(client, personas):
    stack = shop(personas)
    client.force_login(personas.deployer)
    client.get(f"/t/acme/stacks/shop/edit/?file={PATH}")
    response = save(client, QUEUE_YAML + "  delaySeconds: 5\n", "add a delay")
    assert response.status_code == 302
    revision = stack.revisions.get(number=2)
    assert revision.author == personas.deployer and revision.message == "add a delay"
    assert revision.files[PATH].endswith("delaySeconds: 5\n")
    assert not revision.is_draft
    assert AuditEvent.objects.filter(action="revision.create", details__revision=2).exists()


def test_saving_the_same_content_twice_makes_no_duplicate(client, personas):
    stack = shop(personas)
    client.force_login(personas.deployer)
    save(client, QUEUE_YAML + "# one\n")
    save(client, QUEUE_YAML + "# one\n")
    assert stack.revisions.count() == 2


def test_a_stack_with_errors_is_saved_as_a_draft_revision(client, personas):
    stack = shop(personas)
    client.force_login(personas.deployer)
    save(client, QUEUE_YAML + "  visibilityTimeout: ${NOPE}\n")
    revision = stack.revisions.get(number=2)
    assert revision.is_draft and revision.error_count >= 1


def test_a_concurrent_save_is_shown_as_a_diff_instead_of_overwritten(client, personas):
    stack = shop(personas)
    client.force_login(personas.deployer)
    client.get("/t/acme/stacks/shop/edit/")  # the deployer's draft starts from revision 1
    other = editing.open_draft(stack=stack, user=personas.admin)
    editing.update_file(draft=other, path=PATH, text=QUEUE_YAML + "# admin's change\n")
    editing.save_draft(draft=other, actor=personas.admin, message="admin")

    response = save(client, QUEUE_YAML + "# my change\n")
    body = response.content.decode()
    assert response.status_code == 409
    assert "saved revision 2 after you opened the editor" in body
    assert "# my change" in body and "# admin&#x27;s change" in body
    assert stack.revisions.count() == 2, "nothing was overwritten"
    assert StackDraft.objects.get(user=personas.deployer).files[PATH].endswith("# my change\n")

    forced = client.post(URL, {"force": "1", "message": "mine wins", "current": PATH})
    assert forced.status_code == 302
    assert stack.revisions.get(number=3).files[PATH].endswith("# my change\n")


def test_viewer_gets_403_and_nothing_is_saved(client, personas):
    stack = shop(personas)
    client.force_login(personas.viewer)
    assert save(client, QUEUE_YAML + "# x\n").status_code == 403
    assert stack.revisions.count() == 1


def test_outsider_gets_404(client, personas):
    shop(personas)
    client.force_login(personas.outsider)
    assert save(client, QUEUE_YAML).status_code == 404


def test_get_is_not_allowed(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    assert client.get(URL).status_code == 405


def test_discarding_drops_the_draft(client, personas):
    shop(personas)
    client.force_login(personas.deployer)
    save(client, QUEUE_YAML + "# x\n")
    client.post("/t/acme/stacks/shop/edit/validate/", {"path": PATH, "text": "# unsaved\n"})
    assert client.post("/t/acme/stacks/shop/edit/discard/").status_code == 302
    assert not StackDraft.objects.exists()
    assert StackRevision.objects.count() == 2


def test_autosave_writes_only_when_the_text_changed(personas, django_assert_num_queries):
    stack = shop(personas)
    draft = editing.open_draft(stack=stack, user=personas.deployer)
    text = QUEUE_YAML + "# typed\n"
    with django_assert_num_queries(1):  # the UPDATE
        editing.update_file(draft=draft, path=PATH, text=text)
    with django_assert_num_queries(0):  # the same text again: nothing to keep
        editing.update_file(draft=draft, path=PATH, text=text.replace("\n", "\r\n"))
    assert StackDraft.objects.get(pk=draft.pk).files[PATH] == text
